"""The event chain is linked at commit (issue 19, items 3 and 5).

An import that has written its batches holds no chain lock until it commits: a single filing of
another request commits meanwhile (PostgreSQL, two threads and connections, ordered by events and a
bounded join, no timing threshold), and the chain verifies afterwards in commit order. On both
databases: a transaction sees its own events before its commit, a rolled-back savepoint takes its
events with it, a rollback drops them, and the hash linked at commit is the one :func:`verify` checks.
"""

from __future__ import annotations

import hashlib
import threading

import pytest
import sqlalchemy as sa

from auditbo import events
from auditbo.events import Actor, Event
from auditbo.extensions import db
from tests.test_confirm_concurrency import pg_app  # noqa: F401 - the PostgreSQL fixture, reused

ALICE = Actor(7, "alice")


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(Event.action).order_by(Event.id)))


def test_the_digest_linked_at_commit_is_the_one_verify_recomputes(app):
    row = events._row(ALICE, "assessment", 1, "amended", {"a": [1, "二"]}, {"b": None}, "why", None)
    prev = "ab" * 32
    assert events._digest(prev, row) == hashlib.sha256(f'["{prev}",{events._tail(row)}'.encode()).hexdigest()


def test_events_wait_for_the_commit_and_the_transaction_still_reads_them(app):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Event))
    events.record(ALICE, "assessment", 1, "filed")
    events.record(ALICE, "assessment", 1, "amended")
    assert events.pending_count() == 2
    # a read of the events table chains them first (as autoflush does for ORM objects)
    assert [e.action for e in events.timeline("assessment", 1)] == ["filed", "amended"]
    assert events.pending_count() == 0
    events.record(ALICE, "assessment", 1, "withdrawn")
    db.session.commit()
    assert events.pending_count() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == before + 3
    assert events.verify().ok


def test_a_rolled_back_savepoint_takes_its_events_and_gives_back_those_it_chained(app):
    events.record(ALICE, "assessment", 2, "before")
    with db.session.begin_nested() as sp:
        events.record(ALICE, "assessment", 2, "inside")
        assert [e.action for e in events.timeline("assessment", 2)] == ["before", "inside"]  # chained here
        sp.rollback()
    assert events.pending_count() == 1  # "before" again: its row went with the savepoint
    with db.session.begin_nested():
        events.record(ALICE, "assessment", 2, "kept")
    db.session.commit()
    assert [e.action for e in events.timeline("assessment", 2)] == ["before", "kept"]
    assert events.verify().ok


def test_a_rollback_drops_the_events(app):
    events.record(ALICE, "assessment", 3, "gone")
    db.session.rollback()
    assert events.pending_count() == 0
    db.session.commit()
    assert events.timeline("assessment", 3) == []


@pytest.mark.postgres_only
def test_a_filing_commits_while_an_import_is_open_and_the_chain_is_in_commit_order(pg_app):  # noqa: F811
    from auditbo.filings import services
    from tests.filing_support import make_registry, payload

    with pg_app.app_context():
        reg = make_registry(2)
        rows = [payload(reg, grade="AA") for _ in range(120)]
        single = payload(reg, grade="AA")
        headers, body_id, actor = reg.headers(), reg.body.id, Actor(reg.clerk.id, reg.clerk.username)
        db.session.commit()
        db.session.remove()

    written, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def importer():
        try:
            with pg_app.app_context():
                from auditbo.orgs.models import Organisation

                result = services.file_many(db.session.get(Organisation, body_id), rows, actor=actor)
                outcome["pending"] = events.pending_count()
                written.set()  # the import's rows are written, its transaction open
                outcome["released"] = release.wait(60)
                db.session.commit()
                outcome["import"] = result["filed"]
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            outcome["import_error"] = repr(exc)
            written.set()

    def filer():
        with pg_app.app_context():
            resp = pg_app.test_client().post("/api/v1/assessments", json=single, headers=headers)
            outcome["single"] = resp.status_code
            db.session.remove()

    imp = threading.Thread(target=importer)
    imp.start()
    try:
        assert written.wait(60), "the import did not write its rows"
        assert "import_error" not in outcome, outcome
        assert outcome["pending"] == 240  # filed and status_changed per row, not yet in the table
        one = threading.Thread(target=filer)
        one.start()
        one.join(30)  # before the fix it waits here for the import's commit, which waits for `release`
        assert not one.is_alive(), "the single filing waited for the open import"
        assert outcome["single"] == 201
    finally:
        release.set()
        imp.join(60)
    assert outcome.get("import") == 120, outcome
    with pg_app.app_context():
        result = events.verify()
        assert result.ok, result
        filed = db.session.execute(sa.select(Event.record_id, Event.id).where(Event.action == "filed")
                                   .order_by(Event.id)).all()
        assert len(filed) == 121
        from auditbo.filings.models import Assessment

        single_id = db.session.scalar(sa.select(Assessment.id).where(Assessment.external_ref
                                                                     == single["external_ref"]))
        assert filed[0].record_id == str(single_id)  # it committed first: it comes first in the chain
        assert int(filed[1].record_id) < single_id  # though the import's records were written before it
        db.session.remove()
