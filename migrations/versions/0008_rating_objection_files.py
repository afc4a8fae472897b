"""rating objection files

A rated body's attachments to its objection (异议) to a rating (PDF, PNG, JPEG), kept in the
database with the same columns as a complaint's (auditbo.evidence.EvidenceFile).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rating_objection_files',
    sa.Column('objection_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['objection_id'], ['rating_objections.id'],
                            name=op.f('fk_rating_objection_files_objection_id_rating_objections'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                            name=op.f('fk_rating_objection_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_objection_files'))
    )
    with op.batch_alter_table('rating_objection_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_objection_files_objection_id'), ['objection_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rating_objection_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_objection_files_objection_id'))
    op.drop_table('rating_objection_files')
