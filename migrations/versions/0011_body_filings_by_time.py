"""a body's filings by filing time: its own dashboard (its filings per month, its provinces and industries)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_body_filed_at', ['body_id', 'filed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_body_filed_at')
