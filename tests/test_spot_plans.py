"""Sampling plans: create with the frame's preview, four eyes, draw once, verify bit for bit."""

from __future__ import annotations

import sqlalchemy as sa

from auditbo.events import Event
from auditbo.extensions import db
from auditbo.spotchecks.models import PlanUnit, SamplingPlan, SpotCheck, SpotCheckInspector
from tests.factories import UserFactory, clerk
from tests.spot_support import checks_of, drawn_plan, make_market, plan_body, population

API = "/api/v1/sampling-plans"


def test_a_supervisor_creates_a_draft_plan_with_the_frames_preview(client):
    m = make_market(12)
    resp = client.post(API, json=plan_body(4), headers=m.h(m.author))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "draft" and body["frame_size"] == 12 and body["size"] == 4
    assert body["author"] == m.author.username and body["approved_by"] is None
    assert body["model"]["kind"] in ("learned", "rule") and body["mandatory"] == 0
    assert body["expected_yield"] > 0 and "seed" not in body


def test_preview_names_the_frame_model_and_yield_before_anything_is_saved(client):
    m = make_market(10)
    resp = client.post(f"{API}/preview", json=plan_body(3), headers=m.h(m.author))
    assert resp.status_code == 200, resp.get_json()
    p = resp.get_json()
    assert p["frame_size"] == 10 and p["size"] == 3 and p["model"]["kind"] == "rule"
    assert p["model"]["labels"] == "none" and p["uniform_expected_yield"] > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SamplingPlan)) == 0


def test_size_from_the_engines_precision_planner(client):
    m = make_market(12)
    body = plan_body(None, precision={"half_width": 0.3, "expected_rate": 0.1, "confidence": 0.9})
    del body["size"]
    resp = client.post(API, json=body, headers=m.h(m.author))
    assert resp.status_code == 201, resp.get_json()
    import sampling

    assert resp.get_json()["size"] == sampling.plan_precision(0.3, expected_rate=0.1, confidence=0.9,
                                                              population=12).n
    assert resp.get_json()["planner"]["method"] == "precision"


def test_empty_population_and_oversized_plan_are_422_naming_the_field(client):
    m = make_market(5)
    empty = plan_body(2, population=population(grades=["AAAAA"]))
    resp = client.post(API, json=empty, headers=m.h(m.author))
    assert resp.status_code == 422
    assert [e["field"] for e in resp.get_json()["errors"]] == ["population"]
    resp = client.post(API, json=plan_body(6), headers=m.h(m.author))
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "size"
    bad = {"name": "", "population": {"decided_from": "2026-13-01", "decided_to": "x", "grades": ["B"]}, "size": 0}
    fields = {e["field"] for e in client.post(API, json=bad, headers=m.h(m.author)).get_json()["errors"]}
    assert {"name", "population.decided_from", "population.decided_to", "population.grades", "size"} <= fields


def test_who_may_create_a_plan(client):
    m = make_market(3)
    assert client.post(API, json=plan_body(1)).status_code == 401
    assert client.post(API, json={"nonsense": 1}).status_code == 401  # authorize before parsing
    assert client.post(API, json=plan_body(1), headers=m.h(m.admin)).status_code == 403
    assert client.post(API, json=plan_body(1), headers=m.h(m.reg.clerk)).status_code == 403
    assert client.post(API, json={"nonsense": 1}, headers=m.h(m.reg.clerk)).status_code == 403


def test_four_eyes_the_author_cannot_approve_another_admin_can(client):
    m = make_market(6)
    plan_id = client.post(API, json=plan_body(2), headers=m.h(m.author)).get_json()["id"]
    assert client.post(f"{API}/{plan_id}/approval", headers=m.h(m.author)).status_code == 403
    assert client.post(f"{API}/{plan_id}/approval", headers=m.h(m.reg.supervisors[1])).status_code == 403
    resp = client.post(f"{API}/{plan_id}/approval", headers=m.h(m.admin))
    assert resp.status_code == 200 and resp.get_json()["status"] == "approved"
    assert resp.get_json()["approved_by"] == m.admin.username
    assert client.post(f"{API}/{plan_id}/approval", headers=m.h(m.admin2)).status_code == 409


def test_an_admin_author_is_refused_by_the_policy(app):
    from auditbo.authz import Action, can

    m = make_market(2)
    plan = SamplingPlan(title="x", population={}, size=1, author_id=m.admin.id, status="draft")
    assert can(m.admin, Action.approve_plan, plan) is False
    assert can(m.admin2, Action.approve_plan, plan) is True


def test_drawing_a_draft_is_409_and_a_plan_is_drawn_once(client):
    m = make_market(8)
    plan_id = client.post(API, json=plan_body(3), headers=m.h(m.author)).get_json()["id"]
    assert client.post(f"{API}/{plan_id}/draw", headers=m.h(m.author)).status_code == 409
    client.post(f"{API}/{plan_id}/approval", headers=m.h(m.admin))
    resp = client.post(f"{API}/{plan_id}/draw", headers=m.h(m.author))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "drawn" and isinstance(body["seed"], int) and len(body["frame_hash"]) == 64
    assert body["model"]["kind"] == "rule"
    assert client.post(f"{API}/{plan_id}/draw", headers=m.h(m.admin)).status_code == 409
    units = client.get(f"{API}/{plan_id}/units?per_page=500", headers=m.h(m.author)).get_json()
    assert units["total"] == 8 and sum(u["selected"] for u in units["items"]) == 3
    assert abs(sum(u["inclusion_probability"] for u in units["items"]) - 3) < 1e-9
    listed = client.get(f"/api/v1/spot-checks?plan_id={plan_id}", headers=m.h(m.admin)).get_json()
    assert listed["total"] == 3


def test_the_draw_freezes_features_and_opens_checks_with_two_distinct_inspectors(session):
    m = make_market(10, n_supervisors=5)
    plan = drawn_plan(m, size=4)
    units = db.session.scalars(sa.select(PlanUnit).where(PlanUnit.plan_id == plan.id)).all()
    assert len(units) == 10 and all(u.features and "body_prior_nc" in u.features for u in units)
    checks = checks_of(plan)
    assert {c.assessment_id for c in checks} == {u.assessment_id for u in units if u.selected}
    for c in checks:
        ins = db.session.scalars(sa.select(SpotCheckInspector.user_id)
                                 .where(SpotCheckInspector.spot_check_id == c.id)).all()
        assert len(set(ins)) == 2 and c.assign_seed == plan.seed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
        Event.record_type == "sampling_plan", Event.action == "drawn")) == 1


def test_no_eligible_inspector_leaves_the_check_unassigned_with_an_event(session):
    from auditbo.confirmations.models import Recusal

    m = make_market(4, n_supervisors=2)
    db.session.add(Recusal(user_id=m.reg.supervisors[1].id, org_id=m.reg.body.id, reason="former employee"))
    db.session.flush()
    plan = drawn_plan(m, size=2)
    for c in checks_of(plan):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SpotCheckInspector)
                                 .where(SpotCheckInspector.spot_check_id == c.id)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
            Event.record_type == "spot_check", Event.record_id == str(c.id),
            Event.action == "assignment_failed")) == 1


def test_verify_matches_and_detects_a_changed_frozen_pi(client):
    m = make_market(12)
    plan = drawn_plan(m, size=5)
    resp = client.get(f"{API}/{plan.id}/verification", headers=m.h(m.reg.supervisors[2]))
    assert resp.status_code == 200 and resp.get_json()["matches"] is True, resp.get_json()
    unit = db.session.scalars(sa.select(PlanUnit).where(PlanUnit.plan_id == plan.id, PlanUnit.selected.is_(False))
                              .limit(1)).one()
    unit.inclusion_probability = unit.inclusion_probability / 2
    db.session.flush()
    result = client.get(f"{API}/{plan.id}/verification", headers=m.h(m.admin)).get_json()
    assert result["matches"] is False
    assert unit.assessment_id in result["differs"]["inclusion_probability"]["units"]


def test_verify_detects_a_changed_frozen_feature(session):
    from sqlalchemy.orm.attributes import flag_modified

    from auditbo.spotchecks import services

    m = make_market(8)
    plan = drawn_plan(m, size=3)
    unit = db.session.scalars(sa.select(PlanUnit).where(PlanUnit.plan_id == plan.id).limit(1)).one()
    unit.features = {**unit.features, "team_size": 99.0}
    flag_modified(unit, "features")
    db.session.flush()
    assert "frame_hash" in services.verify_plan(plan)["differs"]


def test_cli_draw_and_verify(app):
    from auditbo.spotchecks import services
    from tests.spot_support import actor

    m = make_market(8)
    plan = services.create_plan(plan_body(3), actor(m.author))
    runner = app.test_cli_runner()
    services.approve_plan(plan, actor(m.admin))
    res = runner.invoke(args=["sampling", "draw", "--plan", str(plan.id)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(args=["sampling", "verify", "--plan", str(plan.id)])
    assert res.exit_code == 0 and '"matches": true' in res.output
    db.session.execute(sa.update(PlanUnit).where(PlanUnit.plan_id == plan.id, PlanUnit.selected.is_(True))
                       .values(inclusion_probability=0.999))
    res = runner.invoke(args=["sampling", "verify", "--plan", str(plan.id)])
    assert res.exit_code == 1 and '"matches": false' in res.output
    assert runner.invoke(args=["sampling", "verify", "--plan", "999999"]).exit_code == 1
    draft = services.create_plan(plan_body(3), actor(m.author))  # the failed verify rolled back: anew
    res = runner.invoke(args=["sampling", "draw", "--plan", str(draft.id)])
    assert res.exit_code == 1 and "approved" in res.output


def test_body_users_see_no_plans(client):
    m = make_market(2)
    c = clerk(m.reg.body)
    from auditbo.accounts.services import create_token

    h = {"Authorization": f"Bearer {create_token(c, 't')[1]}"}
    assert client.get(API, headers=h).status_code == 403
    assert client.get("/api/v1/spot-checks", headers=h).status_code == 403
    assert UserFactory  # keep the import for other helpers
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SpotCheck)) == 0
