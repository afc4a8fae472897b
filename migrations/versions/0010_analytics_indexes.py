"""indexes for the office's analytics: filings by filing time, confirmation audits by decision time

The dashboard, the body comparison and the monthly report count the filings of a period (by
``filed_at``) and the audits decided in it (by ``decided_at``): on the million-record history a
range scan of a year instead of the whole table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_filed_at', ['filed_at'], unique=False)
    with op.batch_alter_table('confirmation_audits', schema=None) as batch_op:
        batch_op.create_index('ix_confirmation_audits_decided_at', ['decided_at'], unique=False)


def downgrade():
    with op.batch_alter_table('confirmation_audits', schema=None) as batch_op:
        batch_op.drop_index('ix_confirmation_audits_decided_at')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_filed_at')
