import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from auditbo import events
from auditbo.events import Actor, Event
from auditbo.extensions import db


def _append_three():
    alice = Actor(7, "alice")
    events.record(alice, "assessment", 1, "filed", after={"grade": "AAA"})
    events.record(alice, "assessment", 1, "status_changed", before={"status": "filed"},
                  after={"status": "pending_confirmation"}, reason="AAA needs confirmation")
    events.record(events.SYSTEM, "assessment", 2, "filed", after={"grade": "A", "when": "2026-01-01"})


def _tamper(sql: str, **params):
    """Bypass the append-only triggers inside the test transaction (rolled back afterwards)."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE events DISABLE TRIGGER events_no_update"))
        conn.execute(sa.text(sql), params)
        conn.execute(sa.text("ALTER TABLE events ENABLE TRIGGER events_no_update"))
    else:
        conn.execute(sa.text("DROP TRIGGER events_no_update"))
        conn.execute(sa.text("DROP TRIGGER events_no_delete"))
        conn.execute(sa.text(sql), params)


def test_chain_links_each_event_to_the_previous(app):
    _append_three()
    rows = db.session.scalars(sa.select(Event).order_by(Event.id)).all()
    assert rows[0].prev_hash == events.GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert events.verify().ok
    assert events.verify().checked == 3
    assert [e.action for e in events.timeline("assessment", 1)] == ["filed", "status_changed"]


def test_altered_content_is_named(app):
    _append_three()
    second = db.session.scalars(sa.select(Event).order_by(Event.id)).all()[1]
    _tamper("UPDATE events SET reason = 'edited' WHERE id = :id", id=second.id)
    db.session.expire_all()
    result = events.verify()
    assert not result.ok
    assert result.broken_id == second.id
    assert "content" in result.problem


def test_deleted_event_is_detected(app):
    _append_three()
    ids = db.session.scalars(sa.select(Event.id).order_by(Event.id)).all()
    _tamper("DELETE FROM events WHERE id = :id", id=ids[1])
    db.session.expire_all()
    result = events.verify()
    assert result.broken_id == ids[2]
    assert "previous-hash" in result.problem


def test_database_refuses_update_and_delete(app):
    _append_three()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(sa.text("UPDATE events SET actor = 'mallory'"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(sa.text("DELETE FROM events"))


def test_verify_command(app):
    _append_three()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["events", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "3 events, chain intact" in ok.output
    first = db.session.scalars(sa.select(Event.id).order_by(Event.id)).first()
    _tamper("UPDATE events SET actor = 'mallory' WHERE id = :id", id=first)
    db.session.expire_all()
    bad = runner.invoke(args=["events", "verify"])
    assert bad.exit_code == 1
    assert f"event {first} is broken" in bad.output
    assert isinstance(runner, CliRunner)


def test_values_that_are_not_plain_json_are_stored_as_json_and_verify(app):
    from datetime import date as _date

    from auditbo.filings.models import Grade

    events.record(Actor(1, "a"), "assessment", 9, "amended", before={"on": _date(2026, 1, 2), "ids": (3, 4)},
                  after={"grade": Grade.AAA, "nested": [{"at": _date(2026, 2, 3)}], "by_id": {5: "x", 10: "y"}})
    events.record(Actor(1, "a"), "assessment", 9, "noted", after={"plain": [1, 2.5, True, None, "x"]})
    db.session.expire_all()
    first, second = events.timeline("assessment", 9)
    assert first.before == {"ids": [3, 4], "on": "2026-01-02"}
    assert first.after == {"by_id": {"5": "x", "10": "y"}, "grade": "AAA", "nested": [{"at": "2026-02-03"}]}
    assert second.after == {"plain": [1, 2.5, True, None, "x"]}
    assert events.verify().ok
