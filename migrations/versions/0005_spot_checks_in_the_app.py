"""spot checks in the app: plans, checklists, findings, disclosure

Plans get the day their features are computed as of and a seed drawn only at the draw; each
frame unit keeps its frozen features (the verify recomputes the draw from them); spot checks
get findings, a visit date, the inspectors' draw seed, the outcome's reason and grade, a
version (409 on stale edits) and the checklist version they used; checklists are versioned
per grade (and optionally per assessment type).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SEVERITIES = ('major', 'minor', 'observation')
AGAINST = ('body', 'lead', 'member', 'consultant')


def _add_fk_column(table: str, column: str, target: str, sqlite: bool) -> None:
    """A nullable foreign-key column, without SQLite's batch table rebuild (its CHECKs stay as they are)."""
    name = f"fk_{table}_{column}_{target}"
    if sqlite:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES {target} (id)")
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, target, [column], ['id'])


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table('checklists',
    sa.Column('grade', sa.String(length=5), nullable=False),
    sa.Column('assessment_type', sa.String(length=20), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_checklists_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklists')),
    sa.UniqueConstraint('grade', 'assessment_type', 'version', name='uq_checklists_grade_type_version')
    )
    op.create_table('spot_check_findings',
    sa.Column('spot_check_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.Enum(*SEVERITIES, name='spot_finding_severity', native_enum=False,
                                  create_constraint=True, length=11), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('against', sa.Enum(*AGAINST, name='spot_finding_against', native_enum=False,
                                 create_constraint=True, length=10), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_spot_check_findings_created_by_id_users')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_spot_check_findings_person_id_persons')),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_checks.id'],
                            name=op.f('fk_spot_check_findings_spot_check_id_spot_checks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check_findings'))
    )
    with op.batch_alter_table('spot_check_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_findings_spot_check_id'), ['spot_check_id'], unique=False)

    with op.batch_alter_table('sampling_plans', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('plan_date', sa.Date(), nullable=True))
    if sqlite:
        # SQLite cannot drop NOT NULL in place; the seed column is rebuilt empty-tolerant by copy
        op.execute("ALTER TABLE sampling_plans RENAME COLUMN seed TO seed_old")
        op.execute("ALTER TABLE sampling_plans ADD COLUMN seed BIGINT")
        op.execute("UPDATE sampling_plans SET seed = seed_old")
        op.execute("ALTER TABLE sampling_plans DROP COLUMN seed_old")
    else:
        op.alter_column('sampling_plans', 'seed', existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table('sampling_plan_units', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('features', sa.JSON(), nullable=True))
    with op.batch_alter_table('spot_checks', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('visit_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('assign_seed', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('downgraded_to', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('checklist_answers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    _add_fk_column('spot_checks', 'closed_by_id', 'users', sqlite)
    _add_fk_column('spot_checks', 'checklist_id', 'checklists', sqlite)
    with op.batch_alter_table('spot_checks', schema=None, recreate='never') as batch_op:
        batch_op.create_index('ix_spot_checks_status_disclose_by', ['status', 'disclose_by'], unique=False)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table('spot_checks', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_spot_checks_status_disclose_by')
    if not sqlite:
        op.drop_constraint('fk_spot_checks_checklist_id_checklists', 'spot_checks', type_='foreignkey')
        op.drop_constraint('fk_spot_checks_closed_by_id_users', 'spot_checks', type_='foreignkey')
    for column in ('checklist_id', 'closed_by_id', 'version', 'checklist_answers', 'downgraded_to', 'reason',
                   'assign_seed', 'visit_on'):
        op.execute(f"ALTER TABLE spot_checks DROP COLUMN {column}")
    op.execute("ALTER TABLE sampling_plan_units DROP COLUMN features")
    op.execute("ALTER TABLE sampling_plans DROP COLUMN plan_date")
    if not sqlite:
        op.execute("UPDATE sampling_plans SET seed = 0 WHERE seed IS NULL")
        op.alter_column('sampling_plans', 'seed', existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table('spot_check_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_check_findings_spot_check_id'))
    op.drop_table('spot_check_findings')
    op.drop_table('checklists')
