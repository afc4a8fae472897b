"""Denials: anonymous ones go to the application log (rate-limited), never to the event log;
authenticated ones stay in the event log, one per (user, path, status) per minute."""

import logging
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from auditbo.accounts.services import create_token
from auditbo.database import utcnow
from auditbo.events import Event
from auditbo.extensions import db
from tests.factories import OrgFactory, clerk


def _event_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Event))


def _denials() -> list[Event]:
    return db.session.scalars(sa.select(Event).where(Event.action == "denied").order_by(Event.id)).all()


def test_anonymous_401s_add_no_event(client):
    before = _event_count()
    for i in range(50):
        resp = client.get(f"/api/v1/assessments/{1000 + i}")
        assert resp.status_code == 401
    bad_token = {"Authorization": "Bearer abo_not-a-token"}
    assert client.get("/api/v1/assessments/1", headers=bad_token).status_code == 401
    assert _event_count() == before


def test_anonymous_denials_are_logged_with_a_cap_and_a_count_of_the_rest(app, client, caplog, monkeypatch):
    from auditbo.accounts import denials

    monkeypatch.setitem(app.config, "DENIAL_LOG_LINES_PER_MINUTE", 5)
    monkeypatch.setattr(denials, "_window", denials._Window())
    caplog.set_level(logging.INFO, logger="auditbo.denials")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for _ in range(12):
            client.get("/api/v1/me")
        lines = [r.getMessage() for r in caplog.records if r.name == "auditbo.denials"]
        assert len(lines) == 5 and all("401" in line and "/api/v1/me" in line for line in lines)
        traveller.shift(timedelta(seconds=61))
        client.get("/api/v1/me")
    lines = [r.getMessage() for r in caplog.records if r.name == "auditbo.denials"]
    assert len(lines) == 7
    assert "suppressed 7" in lines[5]


def test_an_authenticated_denial_adds_one_event_per_minute(client):
    user = clerk(OrgFactory())
    headers = {"Authorization": f"Bearer {create_token(user, 't')[1]}"}
    db.session.commit()
    before = len(_denials())
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for _ in range(5):
            assert client.get("/api/v1/confirmations", headers=headers).status_code == 403
        denied = _denials()
        assert len(denied) == before + 1
        assert denied[-1].actor_id == user.id and denied[-1].after["status"] == 403
        # another path is another event; the same path a minute later is one more
        assert client.get("/api/v1/confirmations/1", headers=headers).status_code == 403
        assert len(_denials()) == before + 2
        traveller.shift(timedelta(seconds=61))
        assert client.get("/api/v1/confirmations", headers=headers).status_code == 403
    assert len(_denials()) == before + 3
