"""drop ix_assessments_region_decision: no query can use it, and every filing pays for it

Every filter on assessments.region_code is a prefix (``startswith``: LIKE '35%'), which a plain
B-tree under the database's collation (C.UTF-8 / en_US, not "C") cannot serve: PostgreSQL scans
(the office list walks ix_assessments_decision_id; counts scan the table), SQLite's LIKE ignores
it too. Measured on the 1M bench history (issue 19, item 5): each secondary index of assessments
costs ~28 us of server time per inserted row; this one is never scanned.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_region_decision')


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_region_decision', ['region_code', 'decision_date'], unique=False)
