"""ratings in the app: failed runs, rating versions (credit repair), objections' corrections

A run records when it was computed and, when the engine refused the data, why (a failed run
holds no ratings). A rating gets a version: an upheld objection publishes version 2 of that
rating with the reason and marks version 1 superseded (kept). An objection points at the
rating version its decision published. Unique indexes hold one version per subject and run
(the table's original unique constraint never fires: one of org_id / person_id is always NULL).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


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
    with op.batch_alter_table('rating_runs', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('ratings', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.Text(), nullable=True))
        batch_op.create_index('ix_ratings_run_org_version', ['run_id', 'org_id', 'version'], unique=True)
        batch_op.create_index('ix_ratings_run_person_version', ['run_id', 'person_id', 'version'], unique=True)
    _add_fk_column('rating_objections', 'corrected_rating_id', 'ratings', sqlite)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.drop_constraint('fk_rating_objections_corrected_rating_id_ratings', 'rating_objections',
                           type_='foreignkey')
    op.execute("ALTER TABLE rating_objections DROP COLUMN corrected_rating_id")
    with op.batch_alter_table('ratings', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_ratings_run_person_version')
        batch_op.drop_index('ix_ratings_run_org_version')
    for column in ('correction_reason', 'superseded_at', 'version'):
        op.execute(f"ALTER TABLE ratings DROP COLUMN {column}")
    for column in ('computed_at', 'error'):
        op.execute(f"ALTER TABLE rating_runs DROP COLUMN {column}")
