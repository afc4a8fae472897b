"""Requests at the same moment, on committed data (issue 12, items 6 and 7).

SQLite (the default install): two decisions on one confirmation audit from two threads give one
200 and one 409, never "database is locked": writing requests take the write lock at BEGIN.
PostgreSQL: 20 filings at once sharing one new enterprise or one certificate number never give
a 500; the enterprise is created once and used by all, the certificate number's losers get 422
naming ``certificate_no``.

Each test swaps the suite app's engine for one on a database of its own (as conftest swaps it
for a connection), so that the requests' commits are real and their threads really overlap.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from auditbo import _sqlite_pragmas
from auditbo.confirmations import services as confirmations
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.orgs.models import Enterprise
from tests.test_confirm_concurrency import pg_app  # noqa: F401 - the PostgreSQL fixture, reused


@pytest.fixture
def sqlite_app(app, tmp_path):
    """The suite's app on a SQLite file of its own (WAL, busy timeout, BEGIN as the app sets them)."""
    from flask_migrate import upgrade

    engines = db._app_engines[app]
    saved = engines[None]
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'race.sqlite'}")
    _sqlite_pragmas(engine)
    engines[None] = engine
    try:
        with app.app_context():
            upgrade()
            db.session.remove()
        yield app
    finally:
        db.session.remove()
        engines[None] = saved
        engine.dispose()


def _in_threads(app, calls) -> list:
    """Run each call(client) in its own thread (its own app context, session and connection)."""
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            results[i] = call(app.test_client())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion
            results[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def test_two_decisions_at_once_on_sqlite_one_wins_the_other_is_409(sqlite_app, monkeypatch):
    from tests.confirm_support import file_aaa, make_office

    with sqlite_app.app_context():
        office = make_office(2)
        _, audit = file_aaa(office)
        reviewer = office.user(audit.assignee_id)
        confirmations.declare(audit, confirmations_actor(reviewer))
        headers, audit_id = office.h(reviewer), audit.id
        db.session.commit()
        version = db.session.get(ConfirmationAudit, audit_id).version
        db.session.remove()

    # both requests reach the decision having read the same version, if the database lets them
    barrier = threading.Barrier(2, timeout=2)
    decide = confirmations.decide

    def decide_together(*args, **kwargs):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the other request is waiting for the write lock: go on alone
        return decide(*args, **kwargs)

    monkeypatch.setattr(confirmations, "decide", decide_together)

    def post(decision):
        def call(client):
            resp = client.post(f"/api/v1/confirmations/{audit_id}/decision", headers=headers,
                               json={"decision": decision, "version": version,
                                     "reason": "" if decision == "confirmed" else "评定过程不符合要求"})
            return resp.status_code

        return call

    statuses = _in_threads(sqlite_app, [post("confirmed"), post("rejected")])
    assert sorted(statuses) == [200, 409], statuses
    with sqlite_app.app_context():
        assert db.session.get(ConfirmationAudit, audit_id).status is AuditStatus.decided
        db.session.remove()


def confirmations_actor(user):
    from auditbo.events import Actor

    return Actor(user.id, user.username)


# --- PostgreSQL: unique values raced by 20 filings ------------------------------------------------
N = 20


def _filings(app, same: str) -> tuple[list[dict], dict]:
    """N valid filings by one committed body, all sharing their first one's ``same`` field."""
    from tests.filing_support import make_registry, payload

    with app.app_context():
        reg = make_registry(2)
        first = payload(reg, grade="AA")
        bodies = [first] + [payload(reg, grade="AA", **{same: first[same]}) for _ in range(N - 1)]
        headers = reg.headers()
        db.session.commit()
        db.session.remove()
    return bodies, headers


@pytest.mark.postgres_only
def test_twenty_filings_sharing_one_new_enterprise_all_file_it_once(pg_app):  # noqa: F811
    bodies, headers = _filings(pg_app, "enterprise")
    first = bodies[0]

    statuses = _in_threads(pg_app, [lambda c, b=b: c.post("/api/v1/assessments", json=b, headers=headers).status_code
                                    for b in bodies])
    assert statuses == [201] * N, statuses
    with pg_app.app_context():
        code = first["enterprise"]["credit_code"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enterprise)
                                 .where(Enterprise.credit_code == code)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assessment)) == N
        db.session.remove()


@pytest.mark.postgres_only
def test_twenty_filings_of_one_certificate_number_one_files_the_others_are_told_which_field(pg_app):  # noqa: F811
    bodies, headers = _filings(pg_app, "certificate_no")
    first = bodies[0]

    def call(body):
        def run(client):
            resp = client.post("/api/v1/assessments", json=body, headers=headers)
            fields = [e["field"] for e in (resp.get_json() or {}).get("errors", [])]
            return resp.status_code, fields

        return run

    results = _in_threads(pg_app, [call(b) for b in bodies])
    assert sorted(s for s, _ in results) == [201] + [422] * (N - 1), results
    assert all(fields == ["certificate_no"] for s, fields in results if s == 422), results
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assessment)
                                 .where(Assessment.certificate_no == first["certificate_no"])) == 1
        db.session.remove()
