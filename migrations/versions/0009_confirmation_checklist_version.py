"""confirmation audits keep the checklist version they were answered against

The audit criteria are versioned per grade (and optionally per assessment type), shared by
confirmation audits and spot checks; an audit keeps the id of the version it was answered
against (null with answers: the built-in version 0 that served before versions existed).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

NAME = "fk_confirmation_audits_checklist_id_checklists"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":  # no table copy: the FK goes inline in the column
        op.execute(f"ALTER TABLE confirmation_audits ADD COLUMN checklist_id INTEGER CONSTRAINT {NAME} "
                   "REFERENCES checklists (id)")
    else:
        op.add_column('confirmation_audits', sa.Column('checklist_id', sa.Integer(), nullable=True))
        op.create_foreign_key(NAME, 'confirmation_audits', 'checklists', ['checklist_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE confirmation_audits DROP COLUMN checklist_id")
    else:
        op.drop_constraint(NAME, 'confirmation_audits', type_='foreignkey')
        op.drop_column('confirmation_audits', 'checklist_id')
