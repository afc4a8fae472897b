"""Scheduled jobs: certificate expiry and overdue surveillance, idempotent, single-run by lease."""

from datetime import date, timedelta

import sqlalchemy as sa

from auditbo import clock, locks
from auditbo.extensions import db
from auditbo.filings.lifecycle import add_months, check_surveillance, expire_certificates
from auditbo.filings.models import Assessment
from auditbo.jobs import JOBS, run_job
from tests.filing_support import make_registry, payload

TODAY = clock.today()


def _file(client, reg, decided: date, **over) -> int:
    p = payload(reg, grade="AA", team=[{"person_id": reg.lead.person_id, "role": "lead"}],
                decision_date=decided.isoformat(), onsite_start=(decided - timedelta(days=5)).isoformat(),
                onsite_end=(decided - timedelta(days=3)).isoformat(), **over)
    resp = client.post("/api/v1/assessments", json=p, headers=reg.headers())
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_add_months():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 3, 10), -12) == date(2025, 3, 10)


def test_surveillance_overdue_is_flagged_then_suspended(app, client):
    reg = make_registry()
    decided = TODAY - timedelta(days=400)  # due after 12 months: ~35 days overdue
    aid = _file(client, reg, decided)
    assert check_surveillance(TODAY) == {"flagged": 1, "suspended": 0}
    assert check_surveillance(TODAY) == {"flagged": 0, "suspended": 0}  # idempotent
    db.session.expire_all()
    a = db.session.get(Assessment, aid)
    assert a.flag_surveillance_overdue and a.status.value == "standing"
    later = add_months(add_months(decided, 12), 3) + timedelta(days=1)
    assert check_surveillance(later)["suspended"] == 1
    db.session.expire_all()
    assert db.session.get(Assessment, aid).status.value == "suspended"


def test_a_surveillance_in_time_keeps_the_certificate(app, client):
    reg = make_registry()
    decided = TODAY - timedelta(days=400)
    first = payload(reg)  # only for its enterprise
    aid = _file(client, reg, decided, enterprise=first["enterprise"])
    _file(client, reg, decided + timedelta(days=300), enterprise=first["enterprise"], assessment_type="surveillance",
          person_days=6)
    assert check_surveillance(TODAY) == {"flagged": 0, "suspended": 0}
    assert db.session.get(Assessment, aid).flag_surveillance_overdue is False


def test_expiry(app, client):
    reg = make_registry()
    aid = _file(client, reg, TODAY - timedelta(days=20))
    a = db.session.get(Assessment, aid)
    assert expire_certificates(a.valid_until) == 0
    assert expire_certificates(a.valid_until + timedelta(days=1)) == 1
    db.session.expire_all()
    assert db.session.get(Assessment, aid).status.value == "expired"


def test_a_job_runs_once_a_day_and_not_where_another_holds_it(app):
    job = next(j for j in JOBS if j.name == "expire_certificates")
    day = TODAY
    assert run_job(app, job, day) == {"expired": 0}
    assert run_job(app, job, day) is None  # already ran for that day
    assert run_job(app, job, day, force=True) == {"expired": 0}
    assert locks.acquire(job.name, "another-host:1", timedelta(minutes=5))
    db.session.commit()
    assert run_job(app, job, day + timedelta(days=1)) is None  # held elsewhere
    assert db.session.scalar(sa.select(locks.JobLock.holder).where(locks.JobLock.name == job.name)) == "another-host:1"
