"""spot check evidence files

An inspector's evidence files (PDF, PNG, JPEG) on a spot check, kept in the database with
the same columns as a complaint's (auditbo.evidence.EvidenceFile).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('spot_check_files',
    sa.Column('spot_check_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_checks.id'],
                            name=op.f('fk_spot_check_files_spot_check_id_spot_checks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_spot_check_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check_files'))
    )
    with op.batch_alter_table('spot_check_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_files_spot_check_id'), ['spot_check_id'], unique=False)


def downgrade():
    with op.batch_alter_table('spot_check_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_check_files_spot_check_id'))
    op.drop_table('spot_check_files')
