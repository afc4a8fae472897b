"""Two supervisors acting on the same audit at the same moment never overwrite each other
silently: one wins, the other gets a clear Conflict. PostgreSQL, two real connections in two
threads, on committed data in a database of its own (created and dropped here).

The app is the suite's own, with its engine swapped (for the test's duration) for one on that
database, as conftest swaps it for a connection: a second Flask app would take the global API
object over and leave the suite's pooled connections to be collected unclosed.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from auditbo.confirmations import services
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit
from auditbo.errors import Conflict
from auditbo.events import Event, verify
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from tests import pg
from tests.conftest import TEST_DB_URL

pytestmark = pytest.mark.postgres_only


def _drop(url: str) -> None:
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def pg_app(app):
    if not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (AUDITBO_TEST_DATABASE_URL)")
    from flask_migrate import upgrade

    url = make_url(TEST_DB_URL)
    url = url.set(database=f"{url.database}_conc").render_as_string(hide_password=False)
    pg.recreate_database(url)
    engines = db._app_engines[app]
    saved = engines[None]  # the per-test connection of conftest's _transaction
    engine = sa.create_engine(url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    engines[None] = engine
    try:
        with app.app_context():
            upgrade()
            db.session.remove()
        yield app
    finally:
        db.session.remove()  # nothing of the test's may hold a connection to the database dropped below
        engines[None] = saved
        engine.dispose()
        _drop(url)


def _committed_audit(app) -> tuple[int, int, int]:
    """A filed AAA record with its assigned audit, committed (outside any test transaction)."""
    from tests.confirm_support import actor, file_aaa, make_office

    with app.app_context():
        office = make_office(2)
        a, audit = file_aaa(office)
        services.declare(audit, actor(office.user(audit.assignee_id)))
        ids = (audit.id, a.id, office.admin.id)
        db.session.commit()
        db.session.remove()
    return ids


def _race(app, audit_id: int, *actions) -> list[str]:
    """Run each action in its own thread, app context and transaction; both read the audit
    before either writes (a barrier), then act and commit."""
    barrier = threading.Barrier(len(actions), timeout=20)
    results: list[str | None] = [None] * len(actions)

    def run(i, action):
        with app.app_context():
            try:
                audit = db.session.get(ConfirmationAudit, audit_id)
                version = audit.version  # what this supervisor read
                barrier.wait()
                action(audit, version)
                db.session.commit()
                results[i] = "ok"
            except Conflict as exc:
                db.session.rollback()
                results[i] = f"conflict: {exc.detail}"
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                results[i] = f"error: {exc!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, act)) for i, act in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a transaction hung (deadlock?)"
    return results


def _state(app, audit_id: int, assessment_id: int):
    with app.app_context():
        audit = db.session.get(ConfirmationAudit, audit_id)
        a = db.session.get(Assessment, assessment_id)
        decided = db.session.scalars(sa.select(Event).where(
            Event.record_type == "confirmation", Event.record_id == str(audit_id),
            Event.action.in_(["decided", "reassigned"]))).all()
        out = (audit.status, audit.decision, audit.assignee_id, a.status.value, [e.action for e in decided],
               verify().ok)
        db.session.remove()
        return out


def test_two_decisions_at_once_one_wins_the_other_gets_a_conflict(pg_app):
    audit_id, assessment_id, _ = _committed_audit(pg_app)
    with pg_app.app_context():
        reviewer = db.session.get(ConfirmationAudit, audit_id).assignee_id
        db.session.remove()
    from auditbo.events import Actor

    me = Actor(reviewer, "reviewer")

    def confirm(audit, version):
        services.decide(audit, "confirmed", None, "", version, me, via="api")

    def reject(audit, version):
        services.decide(audit, "rejected", None, "评定过程不符合要求", version, me, via="api")

    results = _race(pg_app, audit_id, confirm, reject)
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results
    assert "reload it and try again" in next(r for r in results if r.startswith("conflict"))
    status, decision, _, assessment_status, actions, chain_ok = _state(pg_app, audit_id, assessment_id)
    winner = "confirmed" if results[0] == "ok" else "rejected"
    assert status is AuditStatus.decided and decision.value == winner
    assert assessment_status == ("standing" if winner == "confirmed" else "rejected")
    assert actions == ["decided"] and chain_ok


def test_a_decision_and_a_reassignment_at_once_do_not_both_stand(pg_app):
    audit_id, assessment_id, admin_id = _committed_audit(pg_app)
    with pg_app.app_context():
        reviewer = db.session.get(ConfirmationAudit, audit_id).assignee_id
        db.session.remove()
    from auditbo.events import Actor

    def decide(audit, version):
        services.decide(audit, "returned", None, "请补充证据", version, Actor(reviewer, "reviewer"), via="api")

    def reassign(audit, version):
        services.reassign(audit, "审核人员调岗", Actor(admin_id, "admin"))

    results = _race(pg_app, audit_id, decide, reassign)
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results
    status, _, assignee, assessment_status, actions, chain_ok = _state(pg_app, audit_id, assessment_id)
    if results[0] == "ok":  # the decision stood: still the reviewer's, the record returned
        assert (status, assignee, assessment_status, actions) == (AuditStatus.decided, reviewer, "returned",
                                                                  ["decided"])
    else:  # the reassignment stood: another reviewer, the record still pending
        assert status is AuditStatus.assigned and assignee != reviewer
        assert (assessment_status, actions) == ("pending_confirmation", ["reassigned"])
    assert chain_ok


def test_two_api_calls_with_the_same_version_the_second_is_409(pg_app):
    """Through HTTP: the second request that read the same version gets a clear 409."""
    audit_id, assessment_id, _ = _committed_audit(pg_app)
    from auditbo.accounts.models import User
    from auditbo.accounts.services import create_token

    with pg_app.app_context():
        user = db.session.get(User, db.session.get(ConfirmationAudit, audit_id).assignee_id)
        token = create_token(user, "race")[1]
        db.session.commit()
        db.session.remove()
    from tests.conftest import IsolatedClient

    pg_app.test_client_class = IsolatedClient  # each request in its own app context, as in production
    client = pg_app.test_client()
    h = {"Authorization": f"Bearer {token}"}
    version = client.get(f"/api/v1/confirmations/{audit_id}", headers=h).get_json()["version"]
    first = client.post(f"/api/v1/confirmations/{audit_id}/decision", headers=h,
                        json={"decision": "confirmed", "version": version})
    second = client.post(f"/api/v1/confirmations/{audit_id}/decision", headers=h,
                         json={"decision": "rejected", "reason": "不同意", "version": version})
    assert first.status_code == 200 and second.status_code == 409
    assert second.mimetype == "application/problem+json" and "version" in second.get_json()["detail"]
    assert _state(pg_app, audit_id, assessment_id)[3] == "standing"
