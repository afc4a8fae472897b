"""complaints, sanctions and the certificate lifecycle

Complaints get their intake and handling columns (source, contact, what a public complainant
typed, assignee, due date, tracking code, version) and evidence files (complaint_files, kept in
the database so that a refused submission stores nothing); sanctions on certificates, bodies and
persons get their own table (sanctions).

SQLite: complaints is referenced by spot_checks, so its new columns are plain ALTERs (no table
copy); a foreign key goes inline in the column (SQLite cannot add one afterwards).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table('complaints', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='other', nullable=False))
        batch_op.add_column(sa.Column('contact', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('subject_hint', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('tracking_code', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    if sqlite:
        op.execute("ALTER TABLE complaints ADD COLUMN assignee_id INTEGER "
                   "CONSTRAINT fk_complaints_assignee_id_users REFERENCES users (id)")
    else:
        op.add_column('complaints', sa.Column('assignee_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_complaints_assignee_id_users'), 'complaints', 'users',
                              ['assignee_id'], ['id'])
    with op.batch_alter_table('complaints', schema=None, recreate='never') as batch_op:
        batch_op.create_index('ix_complaints_tracking_code', ['tracking_code'], unique=True)
        batch_op.create_index('ix_complaints_status_due', ['status', 'due_date'], unique=False)

    op.create_table('complaint_files',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_files_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_files'))
    )
    with op.batch_alter_table('complaint_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_files_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('sanctions',
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('warning', 'suspension', 'revocation', 'downgrade', name='sanction_kind', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'in_force', 'ended', 'declined', name='sanction_status', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('from_grade', sa.String(length=5), nullable=True),
    sa.Column('to_grade', sa.String(length=5), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(CASE WHEN assessment_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN org_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN person_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_sanctions_one_subject')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_sanctions_assessment_id_assessments')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_sanctions_complaint_id_complaints')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_sanctions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_sanctions_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_sanctions_person_id_persons')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_sanctions_proposed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sanctions'))
    )
    with op.batch_alter_table('sanctions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sanctions_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sanctions_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sanctions_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_sanctions_status_kind', ['status', 'kind'], unique=False)


def downgrade():
    with op.batch_alter_table('sanctions', schema=None) as batch_op:
        batch_op.drop_index('ix_sanctions_status_kind')
        batch_op.drop_index(batch_op.f('ix_sanctions_person_id'))
        batch_op.drop_index(batch_op.f('ix_sanctions_org_id'))
        batch_op.drop_index(batch_op.f('ix_sanctions_assessment_id'))
    op.drop_table('sanctions')
    with op.batch_alter_table('complaint_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_files_complaint_id'))
    op.drop_table('complaint_files')
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table('complaints', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_complaints_status_due')
        batch_op.drop_index('ix_complaints_tracking_code')
    if not sqlite:
        op.drop_constraint(op.f('fk_complaints_assignee_id_users'), 'complaints', type_='foreignkey')
    with op.batch_alter_table('complaints', schema=None, recreate='never') as batch_op:
        for column in ('assignee_id', 'version', 'updated_at', 'tracking_code', 'due_date', 'subject_hint',
                       'contact', 'source'):
            batch_op.drop_column(column)
