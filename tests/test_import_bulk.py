"""The bulk import's write side (auditbo/filings/bulk.py): batches written while the next is checked,
still all or nothing, the event chain intact; and the COPY row conversion equal to Core's."""

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from auditbo import events
from auditbo.extensions import db
from auditbo.filings import services
from auditbo.filings.bulk import BatchWriter
from auditbo.filings.models import Assessment
from tests.test_filing_import import count, reg, upload  # noqa: F401 - reg is a fixture
from tests.test_filing_web import _csv_file


class _Ctx:
    def __init__(self, log):
        self.log = log
        self.noted = []

    def note_filed(self, f):
        self.noted.append((f, threading.current_thread().name))

    def _load_things(self, keys):
        self.log.append(("load", keys))


def test_a_batch_is_written_in_a_thread_and_a_lookup_waits_for_it():
    log, release = [], threading.Event()
    ctx = _Ctx(log)

    def persist(body, filings, c, *, actor):
        release.wait(5)
        c.note_filed("from persist")  # shadowed while the thread writes: submit() did it
        log.append(("written", list(filings), threading.current_thread().name))

    w = BatchWriter("body", ctx, "actor", persist, threaded=True)
    w.submit([1, 2])
    assert [f for f, _ in ctx.noted] == [1, 2]
    assert {t for _, t in ctx.noted} == {threading.current_thread().name}
    w.start()
    release.set()
    ctx._load_things(["x"])  # the loop's look-up: after the batch was written
    w.finish()
    assert log == [("written", [1, 2], "auditbo-import-writer"), ("load", ["x"])]
    assert [f for f, _ in ctx.noted] == [1, 2]  # persist's own call did nothing
    assert ctx.note_filed.__func__ is _Ctx.note_filed  # the shadow is gone


def test_an_error_of_the_writer_is_raised_in_the_loop():
    def persist(body, filings, c, *, actor):
        raise RuntimeError("the database said no")

    w = BatchWriter("body", _Ctx([]), "actor", persist, threaded=True)
    w.submit([1])
    w.start()
    with pytest.raises(RuntimeError, match="said no"):
        w.wait()
    w.wait()  # raised once


def test_one_batch_is_queued_at_a_time():
    w = BatchWriter("body", _Ctx([]), "actor", lambda *a, **k: None, threaded=False)
    w.submit([1])
    with pytest.raises(RuntimeError):
        w.submit([2])


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(services, "BATCH", 40)
    started = []
    real_start = BatchWriter.start

    def start(self):
        started.append(self.threaded if self._queued else None)
        real_start(self)

    monkeypatch.setattr(BatchWriter, "start", start)
    return started


def test_an_import_of_several_batches_files_every_row_with_a_chain_that_verifies(client, reg, small_batches):  # noqa: F811
    resp = upload(client, reg, _csv_file(reg, 130))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["filed"] == 130 and count() == 130
    threaded = [t for t in small_batches if t is not None]
    assert len(threaded) == 4  # 40 + 40 + 40 + 10
    assert set(threaded) == {db.session.get_bind().dialect.name == "postgresql"}
    assert events.verify().ok
    n_events = db.session.scalar(sa.select(sa.func.count()).select_from(events.Event)
                                 .where(events.Event.record_type == "assessment", events.Event.action == "filed"))
    assert n_events == 130


def test_a_bad_row_after_batches_were_written_files_nothing(client, reg, small_batches):  # noqa: F811
    resp = upload(client, reg, _csv_file(reg, 130, bad_row=120))
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "row 122: enterprise.credit_code"
    assert len([t for t in small_batches if t is not None]) >= 2  # written, then rolled back
    assert count() == 0
    assert events.verify().ok


def test_copy_rows_convert_values_as_core_binds_them(app):
    from sqlalchemy.dialects.postgresql import psycopg

    from auditbo.database import _row_converter

    dialect = psycopg.dialect()
    table = Assessment.__table__
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    rows = [{"grade": g, "status": s, "flag_tie": t, "filed_at": now, "previous_grade": p, "external_ref": "R"}
            for g, s, t, p in (("AA", "standing", True, None), ("AAA", "pending_confirmation", False, "AA"),
                               ("AA", "standing", False, "AAA"))]
    keys = list(rows[0])
    convert = _row_converter(table, keys, {}, dialect)
    procs = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys]
    expected = [[v if p is None else p(v) for v, p in zip([r[k] for k in keys], procs, strict=True)] for r in rows]
    assert [convert(r) for r in rows] == expected
    ev = events.Event.__table__
    conv = _row_converter(ev, ["before", "after"], {}, dialect)
    assert [repr(v) for v in conv({"before": None, "after": {"a": [1]}})] == \
        [repr(p(v)) for p, v in zip([ev.c[k].type.dialect_impl(dialect).bind_processor(dialect)
                                     for k in ("before", "after")], (None, {"a": [1]}), strict=True)]


@pytest.mark.parametrize("enterprise", [
    {"name": "坏企业1", "credit_code": "NOT-A-CODE", "region_code": "999999", "industry_code": "C34", "size": "huge",
     "employees": -5},
    {"name": "", "credit_code": "", "region_code": "", "industry_code": "", "size": "", "employees": ""},
    {},  # every field missing
    {"name": "某企业", "employees": "12"},  # a number as text: valid for marshmallow, not plainly clean
    {"name": 5, "credit_code": None, "size": "large", "employees": 2300, "extra": [1]},
])
def test_a_bad_enterprise_is_answered_field_by_field_as_marshmallow_does(enterprise):
    from marshmallow import ValidationError

    from auditbo.filings.imports import _payload
    from auditbo.filings.validation import _SCHEMA
    from auditbo.schemaload import compile_field_loader
    from tests.test_import_hardening import COLUMNS, _csv_row_values

    payload = _payload(dict(zip([f for f, _ in COLUMNS], _csv_row_values(), strict=True)))
    payload["enterprise"] = enterprise
    field_load = compile_field_loader(_SCHEMA)
    for _attempt in range(2):  # the second time from what was remembered
        try:
            expected = _SCHEMA.load(payload), {}
        except ValidationError as exc:
            expected = exc.valid_data, exc.messages
        assert field_load(payload) == expected
