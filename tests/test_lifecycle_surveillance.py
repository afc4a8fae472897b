"""Surveillance: a later filing resets the clock and lifts the job's automatic suspension (not one by
hand); the office sees the certificates whose surveillance falls due within 60 days."""

from datetime import timedelta

from auditbo import clock
from auditbo.events import Actor, timeline
from auditbo.extensions import db
from auditbo.filings.lifecycle import add_months, check_surveillance, surveillance_due, suspend
from auditbo.filings.models import Assessment
from tests.filing_support import make_registry, payload

TODAY = clock.today()


def _file(client, reg, decided, **over) -> int:
    p = payload(
        reg,
        grade="AA",
        team=[{"person_id": reg.lead.person_id, "role": "lead"}],
        decision_date=decided.isoformat(),
        onsite_start=(decided - timedelta(days=5)).isoformat(),
        onsite_end=(decided - timedelta(days=3)).isoformat(),
        **over,
    )
    resp = client.post("/api/v1/assessments", json=p, headers=reg.headers())
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _suspended_by_job(client, reg):
    decided = add_months(TODAY, -16) - timedelta(days=5)  # due 12 months on, then 3 months' grace: passed
    ent = payload(reg)["enterprise"]
    aid = _file(client, reg, decided, enterprise=ent)
    assert check_surveillance(TODAY)["suspended"] == 1
    db.session.expire_all()
    assert db.session.get(Assessment, aid).status.value == "suspended"
    return aid, ent


def test_a_surveillance_filing_lifts_the_automatic_suspension(app, client):
    reg = make_registry()
    aid, ent = _suspended_by_job(client, reg)
    _file(
        client, reg, TODAY - timedelta(days=2), enterprise=ent, assessment_type="surveillance", person_days=6
    )
    db.session.expire_all()
    a = db.session.get(Assessment, aid)
    assert a.status.value == "standing" and a.flag_surveillance_overdue is False
    last = timeline("assessment", aid)[-1]
    assert last.action == "status_changed" and last.after == {"status": "standing"} and last.actor == "system"
    assert check_surveillance(TODAY) == {"flagged": 0, "suspended": 0}  # the clock was reset


def test_a_suspension_by_hand_is_not_lifted(app, client):
    reg = make_registry()
    decided = TODAY - timedelta(days=30)
    ent = payload(reg)["enterprise"]
    aid = _file(client, reg, decided, enterprise=ent)
    a = db.session.get(Assessment, aid)
    a.flag_surveillance_overdue = True
    suspend(a, "抽查严重不符合", actor=Actor(reg.supervisors[0].id, "sup"))
    db.session.flush()
    _file(
        client, reg, TODAY - timedelta(days=1), enterprise=ent, assessment_type="surveillance", person_days=6
    )
    db.session.expire_all()
    assert db.session.get(Assessment, aid).status.value == "suspended"


def test_certificates_coming_due_in_60_days(app, client):
    reg = make_registry()
    soon = _file(client, reg, add_months(TODAY, -12) + timedelta(days=20))
    later = _file(client, reg, add_months(TODAY, -12) + timedelta(days=90))
    rows = surveillance_due(TODAY, 60)
    ids = [r["id"] for r in rows]
    assert soon in ids and later not in ids
    assert next(r for r in rows if r["id"] == soon)["due"] == add_months(
        add_months(TODAY, -12) + timedelta(days=20), 12
    )
