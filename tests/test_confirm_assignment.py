"""Drawing reviewers: recusal from ties in the data, the manual list and the self-declaration;
no eligible reviewer is a clear error (never a silent pick); admins reassign with a reason;
load is balanced; the draw is seeded and recorded."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from auditbo import clock
from auditbo.accounts.models import Affiliation, Role
from auditbo.confirmations import recusals, services
from auditbo.confirmations.assignment import LOAD_SLACK, NoEligibleReviewer, ReviewerPool, parties_of
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Recusal
from auditbo.errors import Forbidden
from auditbo.events import Event, timeline
from auditbo.extensions import db
from tests.confirm_support import actor, file_aaa, make_office
from tests.factories import UserFactory

TODAY = clock.today()


@pytest.fixture
def office(app):
    return make_office(3)


def tie(user, *, org=None, enterprise=None, ended_on=None):
    db.session.add(Affiliation(user_id=user.id, org_id=org.id if org else None,
                               enterprise_id=enterprise.id if enterprise else None,
                               started_on=date(2015, 1, 1), ended_on=ended_on, source="declared"))
    db.session.flush()


def test_a_reviewer_tied_to_the_body_is_never_drawn(office):
    s0, s1, s2 = office.reg.supervisors
    tie(s0, org=office.reg.body)  # still employed there
    tie(s1, org=office.reg.consulting, ended_on=TODAY - timedelta(days=400))  # left a year ago: within 3 years
    for _ in range(12):
        _, audit = file_aaa(office)
        assert audit.status is AuditStatus.assigned
        assert audit.assignee_id == s2.id


def test_a_tie_older_than_the_look_back_does_not_recuse(office):
    s0, s1, s2 = office.reg.supervisors
    tie(s0, org=office.reg.body, ended_on=TODAY - timedelta(days=4 * 366))
    tie(s1, org=office.reg.body)
    tie(s2, org=office.reg.body)
    _, audit = file_aaa(office)
    assert audit.assignee_id == s0.id


def test_a_tie_to_the_enterprise_and_the_manual_list_recuse(office):
    s0, s1, s2 = office.reg.supervisors
    a, audit = file_aaa(office)
    # the same enterprise files again: a supervisor tied to it (data) and one listed by hand are excluded
    from auditbo.orgs.models import Enterprise

    enterprise = db.session.get(Enterprise, a.enterprise_id)
    tie(s0, enterprise=enterprise)
    recusals.add_recusal(s1.id, "org", office.reg.body.credit_code, "前同事", actor(office.admin))
    payload_enterprise = {"name": "示例", "credit_code": enterprise.credit_code, "region_code": "350102",
                          "industry_code": "C34", "size": "large", "employees": 2300}
    for _ in range(5):
        _, audit = file_aaa(office, enterprise=payload_enterprise)
        assert audit.assignee_id == s2.id
    assert db.session.scalar(sa.select(Event.id).where(Event.record_type == "recusal", Event.action == "created"))


def test_no_eligible_reviewer_leaves_the_audit_pending_with_a_clear_event(office, client):
    for s in office.reg.supervisors:
        tie(s, org=office.reg.body)
    a, audit = file_aaa(office)
    assert audit.status is AuditStatus.pending and audit.assignee_id is None
    evs = timeline("confirmation", audit.id)
    assert [e.action for e in evs] == ["assignment_failed"]
    assert "recused" in evs[0].reason
    # an admin's reassignment is a clear 409, not a silent pick of a recused supervisor
    resp = client.post(f"/api/v1/confirmations/{audit.id}/reassignment", json={"reason": "请重新分配"},
                       headers=office.h(office.admin))
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["title"] == "No eligible reviewer"
    assert "recused" in resp.get_json()["detail"]
    db.session.expire_all()
    assert db.session.get(ConfirmationAudit, audit.id).assignee_id is None


def test_pool_never_draws_a_tied_reviewer_whatever_the_seed():
    pool = ReviewerPool(TODAY, 3, reviewers=[1, 2, 3, 4], ties={1: {("org", 10)}, 3: {("ent", 7)}})
    parties = parties_of(10, None, 7)
    drawn = {pool.draw(parties, seed=seed)[0] for seed in range(300)}
    assert drawn == {2, 4}
    with pytest.raises(NoEligibleReviewer):
        pool.draw(parties, exclude={2, 4})


def test_the_draw_is_seeded_and_reproducible():
    def fresh():
        return ReviewerPool(TODAY, 3, reviewers=list(range(1, 9)))

    first = [fresh().draw(set(), seed=s)[0] for s in range(40)]
    again = [fresh().draw(set(), seed=s)[0] for s in range(40)]
    assert first == again and len(set(first)) > 3


def test_load_is_balanced_across_reviewers():
    pool = ReviewerPool(TODAY, 3, reviewers=[1, 2, 3], load={1: 9, 2: 0, 3: 1})
    first = {pool.draw(set(), seed=s)[0] for s in range(1)}
    assert 1 not in first
    for seed in range(60):
        pool.draw(set(), seed=seed)
    loads = [pool.load[u] for u in (1, 2, 3)]
    assert max(loads) - min(loads) <= LOAD_SLACK + 1


def test_the_seed_is_recorded(office):
    _, audit = file_aaa(office)
    ev = timeline("confirmation", audit.id)[0]
    assert ev.action == "assigned" and ev.after["draw_seed"] == audit.draw_seed is not None
    assert ev.after["assignee_id"] == audit.assignee_id


def test_admin_reassigns_with_a_reason_never_to_the_same_or_a_recused_reviewer(office, client):
    s0, s1, s2 = office.reg.supervisors
    tie(s0, org=office.reg.body)
    _, audit = file_aaa(office)
    current = audit.assignee_id
    other = ({s1.id, s2.id} - {current}).pop()
    no_reason = client.post(f"/api/v1/confirmations/{audit.id}/reassignment", json={"reason": ""},
                            headers=office.h(office.admin))
    assert no_reason.status_code == 422
    resp = client.post(f"/api/v1/confirmations/{audit.id}/reassignment", json={"reason": "审核人员休假"},
                       headers=office.h(office.admin))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["assignee"]["id"] == other
    ev = timeline("confirmation", audit.id)[-1]
    assert (ev.action, ev.before, ev.after["assignee_id"], ev.reason) == (
        "reassigned", {"assignee_id": current}, other, "审核人员休假")
    # only admins reassign
    sup = office.user(other)
    assert client.post(f"/api/v1/confirmations/{audit.id}/reassignment", json={"reason": "换人"},
                       headers=office.h(sup)).status_code == 403


def test_a_declared_conflict_recuses_and_redraws(office):
    a, audit = file_aaa(office)
    first = office.user(audit.assignee_id)
    services.declare(audit, actor(first), conflict=True, parties=["body", "enterprise"], reason="曾在该机构任职")
    assert audit.status is AuditStatus.assigned and audit.assignee_id not in (None, first.id)
    assert audit.declaration_signed_at is None  # the new reviewer signs their own
    rows = db.session.scalars(sa.select(Recusal).where(Recusal.user_id == first.id)).all()
    assert {(r.org_id, r.enterprise_id) for r in rows} == {(office.reg.body.id, None), (None, a.enterprise_id)}
    actions = [e.action for e in timeline("confirmation", audit.id)]
    assert actions == ["assigned", "conflict_declared", "reassigned"]
    # and the recusal holds for the next filing of the same body
    for _ in range(4):
        assert file_aaa(office)[1].assignee_id != first.id


def test_a_declared_conflict_with_nobody_left_goes_back_to_pending(app):
    office = make_office(1)
    _, audit = file_aaa(office)
    only = office.user(audit.assignee_id)
    services.declare(audit, actor(only), conflict=True, parties=["consulting_body"], reason="为该咨询机构兼职")
    assert audit.status is AuditStatus.pending and audit.assignee_id is None
    assert [e.action for e in timeline("confirmation", audit.id)][-1] == "assignment_failed"
    newcomer = UserFactory(role=Role.supervisor)
    services.reassign(audit, "新增监督人员", actor(office.admin))
    assert audit.status is AuditStatus.assigned and audit.assignee_id == newcomer.id


def test_signing_the_declaration_and_a_recused_reviewer_cannot_act(office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    services.declare(audit, actor(sup))
    assert audit.declaration_signed_at is not None
    assert [e.action for e in timeline("confirmation", audit.id)][-1] == "declaration_signed"
    # listed by hand after the draw: the reviewer may no longer decide
    recusals.add_recusal(sup.id, "org", office.reg.body.credit_code, "新发现的关系", actor(office.admin))
    with pytest.raises(Forbidden):
        services.decide(audit, "confirmed", None, "", audit.version, actor(sup))
    with pytest.raises(Forbidden):
        services.add_finding(audit, "minor", "报告不全", "body", None, actor(sup))


def test_a_process_may_reuse_its_count_of_open_audits_for_a_few_seconds(office, monkeypatch):
    from auditbo.confirmations import assignment
    from tests.conftest import count_queries

    monkeypatch.setattr(assignment, "_OPEN_LOAD", {})
    _, audit = file_aaa(office)  # one open audit, counted afresh (the tests' ttl is 0)
    assert ReviewerPool.load_from_db(TODAY, 3).load == {audit.assignee_id: 1}
    first = ReviewerPool.load_from_db(TODAY, 3, load_ttl=60)
    reviewer, _ = first.draw(set(), seed=1)
    with count_queries() as seen:
        second = ReviewerPool.load_from_db(TODAY, 3, load_ttl=60)
    assert not any("count(" in s.lower() for s in seen)  # reviewers and ties read, the count reused
    assert second.load[reviewer] == first.load[reviewer] >= 1  # with the first pool's draw in it
    file_aaa(office)  # a new open audit in the database …
    assert sum(ReviewerPool.load_from_db(TODAY, 3, load_ttl=60).load.values()) == 2  # … not yet in the count
    assert sum(ReviewerPool.load_from_db(TODAY, 3).load.values()) == 2  # the exact count when asked
    monkeypatch.setattr(assignment.time, "monotonic", lambda: 1e12)  # the count has aged
    with count_queries() as seen:
        ReviewerPool.load_from_db(TODAY, 3, load_ttl=60)
    assert any("count(" in s.lower() for s in seen)
