"""An inspector's self-declaration of a tie (回避申报) on a spot check: it joins the recusal list (no later
draw, of inspectors or of confirmation reviewers, picks them for those parties) and another eligible
supervisor replaces them; with nobody left the check waits, short of inspectors, in the admins' queue."""

from __future__ import annotations

import sqlalchemy as sa

from auditbo.clock import today
from auditbo.confirmations.assignment import is_recused, parties_of
from auditbo.confirmations.models import Recusal
from auditbo.events import timeline
from auditbo.extensions import db
from auditbo.spotchecks import queries
from auditbo.spotchecks.models import SpotCheckInspector
from tests.conftest import count_rows
from tests.spot_support import assessment, checks_of, drawn_plan, inspectors_of, make_market

CHECKS = "/api/v1/spot-checks"


def _ids(check) -> set[int]:
    return set(db.session.scalars(sa.select(SpotCheckInspector.user_id)
                                  .where(SpotCheckInspector.spot_check_id == check.id)))


def test_a_declared_tie_recuses_the_inspector_and_draws_a_replacement(client):
    m = make_market(3, n_supervisors=5)
    check = checks_of(drawn_plan(m, size=1))[0]
    insp = inspectors_of(check)[0]
    before = _ids(check)
    resp = client.post(f"{CHECKS}/{check.id}/conflict", headers=m.h(insp),
                       json={"parties": ["body"], "reason": "配偶在该评定机构任职"})
    assert resp.status_code == 200, resp.get_json()
    after = {i["id"] for i in resp.get_json()["inspectors"]}
    assert insp.id not in after and len(after) == 2 and after == _ids(check) and before != after
    a = assessment(check.assessment_id)
    rec = db.session.scalars(sa.select(Recusal).where(Recusal.user_id == insp.id)).one()
    assert rec.org_id == a.body_id and rec.enterprise_id is None
    assert is_recused(insp.id, parties_of(a.body_id, a.consulting_body_id, a.enterprise_id), today(), 3)
    assert [e.action for e in timeline("spot_check", check.id)][-1] == "conflict_declared"
    # now one of the others' checks: no longer theirs to write
    again = client.post(f"{CHECKS}/{check.id}/conflict", headers=m.h(insp),
                        json={"parties": ["enterprise"], "reason": "x"})
    assert again.status_code == 404


def test_a_recused_inspector_is_never_drawn_for_that_body_again(session):
    m = make_market(8, n_supervisors=5)
    check = checks_of(drawn_plan(m, size=1))[0]
    insp = inspectors_of(check)[0]
    from auditbo.spotchecks import assignment
    from tests.spot_support import actor

    assignment.declare_conflict(check, ["body"], "曾在该机构兼职", actor(insp))
    later = checks_of(drawn_plan(m, size=6, seed=99))
    assert later and all(insp.id not in _ids(c) for c in later)  # every record is of the same body


def test_refused_declarations_change_nothing(client):
    m = make_market(3, n_supervisors=4)
    check = checks_of(drawn_plan(m, size=1))[0]
    insp = inspectors_of(check)[0]
    outsider = next(s for s in m.reg.supervisors if s.id not in _ids(check))
    body = {"parties": ["body"], "reason": "关联"}
    assert client.post(f"{CHECKS}/{check.id}/conflict", json=body).status_code == 401
    assert client.post(f"{CHECKS}/{check.id}/conflict", headers=m.h(outsider), json=body).status_code == 404
    for bad in ({"parties": [], "reason": "x"}, {"parties": ["spouse"], "reason": "x"}, {"parties": ["body"]},
                {"parties": ["body"], "reason": "   "}):
        assert client.post(f"{CHECKS}/{check.id}/conflict", headers=m.h(insp), json=bad).status_code == 422, bad
    assert count_rows(Recusal) == 0 and insp.id in _ids(check)


def test_with_nobody_left_the_check_waits_in_the_admins_queue(client):
    m = make_market(3, n_supervisors=2)
    check = checks_of(drawn_plan(m, size=1))[0]
    insp = inspectors_of(check)[0]
    assert queries.checks_page(1, 50, unassigned=True)[1] == 0
    resp = client.post(f"{CHECKS}/{check.id}/conflict", headers=m.h(insp),
                       json={"parties": ["enterprise"], "reason": "持有该企业股份"})
    assert resp.status_code == 200
    assert [i["id"] for i in resp.get_json()["inspectors"]] == [u for u in _ids(check)] and len(_ids(check)) == 1
    assert [e.action for e in timeline("spot_check", check.id)][-2:] == ["conflict_declared", "assignment_failed"]
    items, total = queries.checks_page(1, 50, unassigned=True)
    assert total == 1 and items[0]["id"] == check.id


def test_the_inspector_declares_on_the_page(client, login):
    m = make_market(3, n_supervisors=5)
    check = checks_of(drawn_plan(m, size=1))[0]
    insp = inspectors_of(check)[0]
    login(insp)
    assert 'id="conflict-form"' in client.get(f"/spotchecks/{check.id}").get_data(as_text=True)
    bad = client.post(f"/spotchecks/{check.id}/conflict", data={"reason": "关联"})
    assert bad.status_code == 422 and 'data-error="parties"' in bad.get_data(as_text=True)
    ok = client.post(f"/spotchecks/{check.id}/conflict", data={"parties": ["body", "enterprise"], "reason": "关联"})
    assert ok.status_code == 303
    assert insp.id not in _ids(check) and count_rows(Recusal) == 2
    assert 'id="conflict-form"' not in client.get(f"/spotchecks/{check.id}").get_data(as_text=True)
