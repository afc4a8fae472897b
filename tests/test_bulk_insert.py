"""database.bulk_insert: the same rows come back whichever way they went in (executemany or COPY)."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from auditbo import database
from auditbo.codes import make_credit_code
from auditbo.database import bulk_insert
from auditbo.events import Event
from auditbo.extensions import db
from auditbo.orgs.models import Enterprise, EnterpriseSize
from tests.factories import _serial


def _enterprises(n: int, tag: str) -> list[dict]:
    return [{"credit_code": make_credit_code("350100", _serial(i + 1, tag)), "name": f"企业{tag}-{i}", "region_code": "350100",
             "industry_code": "C34", "size": "small" if i % 2 else "large", "employees": 20 + i}
            for i in range(n)]  # created_at/updated_at left out: the column defaults fill them in


@pytest.mark.parametrize("n", [3, database.COPY_MIN_ROWS + 7])
def test_ids_come_back_in_row_order_with_defaults_and_types(app, n):
    rows = _enterprises(n, "B" if n < 10 else "C")
    before = datetime.now(UTC)
    ids = bulk_insert(Enterprise, rows, returning=Enterprise.id)
    assert len(ids) == n == len(set(ids))
    got = {e.id: e for e in db.session.scalars(sa.select(Enterprise).where(Enterprise.id.in_(ids)))}
    for i, row in zip(ids, rows, strict=True):
        e = got[i]
        assert (e.credit_code, e.name, e.employees) == (row["credit_code"], row["name"], row["employees"])
        assert e.size is EnterpriseSize(row["size"])
        assert e.created_at.tzinfo is not None and e.created_at >= before.replace(microsecond=0)


@pytest.mark.parametrize("n", [2, database.COPY_MIN_ROWS])
def test_json_and_nulls_survive(app, n):
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    rows = [{"occurred_at": at, "actor_id": None, "actor": "system", "record_type": "bulk", "record_id": str(i),
             "action": "t", "before": None, "after": {"k": i, "名": "值"}, "reason": None,
             "prev_hash": "0" * 64, "hash": f"{i:064d}"} for i in range(n)]
    bulk_insert(Event, rows)
    back = db.session.scalars(sa.select(Event).where(Event.record_type == "bulk").order_by(Event.id)).all()
    assert [(e.record_id, e.after, e.before, e.occurred_at) for e in back] == [
        (str(i), {"k": i, "名": "值"}, None, at) for i in range(n)]


def test_a_bad_value_is_refused_on_either_path(app):
    for n in (1, database.COPY_MIN_ROWS):
        rows = _enterprises(n, "X" if n < 10 else "Y")
        rows[-1]["size"] = "gigantic"
        with pytest.raises((LookupError, sa.exc.StatementError)):
            bulk_insert(Enterprise, rows)
