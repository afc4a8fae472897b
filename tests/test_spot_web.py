"""The spot-check pages: create with preview, approve (four eyes), draw, verify, work a check, disclose."""

from __future__ import annotations

import sqlalchemy as sa

from auditbo.extensions import db
from auditbo.spotchecks.models import SamplingPlan, SpotCheckInspector
from tests.filing_support import TODAY
from tests.spot_support import assessment, checks_of, drawn_plan, make_market


def _form(size="3", **over):
    from datetime import timedelta

    data = {"name": "网页抽查计划", "decided_from": (TODAY - timedelta(days=365)).isoformat(),
            "decided_to": TODAY.isoformat(), "sizing": "size", "size": size, "action": "create"}
    data.update(over)
    return data


def test_the_plan_journey_in_the_pages(client, login):
    m = make_market(8)
    login(m.author)
    page = client.get("/spotchecks/plans/new")
    assert page.status_code == 200 and "抽查" in page.get_data(as_text=True) or page.status_code == 200
    preview = client.post("/spotchecks/plans/new", data=_form(action="preview"))
    assert preview.status_code == 200 and 'data-figure="frame_size">8<' in preview.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SamplingPlan)) == 0
    bad = client.post("/spotchecks/plans/new", data=_form(size="99"))
    assert bad.status_code == 422 and 'data-error="size"' in bad.get_data(as_text=True)
    made = client.post("/spotchecks/plans/new", data=_form())
    assert made.status_code == 303
    plan_url = made.headers["Location"]
    assert "approve-button" not in client.get(plan_url).get_data(as_text=True)
    plan_id = int(plan_url.rstrip("/").split("/")[-1])
    assert client.post(f"/spotchecks/plans/{plan_id}/approve").status_code == 403
    client.post("/logout")
    login(m.admin)
    assert "approve-button" in client.get(plan_url).get_data(as_text=True)
    assert client.post(f"/spotchecks/plans/{plan_id}/approve").status_code == 303
    assert client.post(f"/spotchecks/plans/{plan_id}/draw").status_code == 303
    html = client.get(plan_url).get_data(as_text=True)
    assert 'data-plan-status="drawn"' in html and 'data-figure="seed"' in html
    verified = client.get(f"{plan_url}?verify=1").get_data(as_text=True)
    assert 'data-matches="true"' in verified


def test_an_inspector_works_a_check_in_the_page(client, login):
    m = make_market(5)
    check = checks_of(drawn_plan(m, size=1))[0]
    ins_id = db.session.scalars(sa.select(SpotCheckInspector.user_id)
                                .where(SpotCheckInspector.spot_check_id == check.id)).first()
    insp = next(s for s in m.reg.supervisors if s.id == ins_id)
    outsider = next(s for s in m.reg.supervisors if s.id not in {
        u for u in db.session.scalars(sa.select(SpotCheckInspector.user_id)
                                      .where(SpotCheckInspector.spot_check_id == check.id))})
    login(outsider)
    assert "outcome-form" not in client.get(f"/spotchecks/{check.id}").get_data(as_text=True)
    assert client.post(f"/spotchecks/{check.id}/findings", data={"severity": "major", "text": "x x",
                                                                 "against": "body"}).status_code == 404
    client.post("/logout")
    login(insp)
    assert f'data-check="{check.id}"' in client.get("/spotchecks/checks?tab=mine").get_data(as_text=True)
    assert client.post(f"/spotchecks/{check.id}/findings", data={"severity": "major", "text": "证据不足",
                                                                 "against": "body"}).status_code == 303
    version = check.version + 1
    refused = client.post(f"/spotchecks/{check.id}/outcome", data={"outcome": "major_findings",
                                                                   "consequence": "none", "version": version})
    assert refused.status_code == 422 and 'data-error="consequence"' in refused.get_data(as_text=True)
    done = client.post(f"/spotchecks/{check.id}/outcome", data={"outcome": "major_findings", "consequence": "revoke",
                                                                "reason": "严重不符合", "version": version})
    assert done.status_code == 303
    db.session.expire_all()
    assert assessment(check.assessment_id).status.value == "revoked"
    html = client.get(f"/spotchecks/{check.id}").get_data(as_text=True)
    assert 'data-outcome="major_findings"' in html and 'id="disclose-form"' in html


def test_the_pages_speak_chinese_by_default(client, login):
    m = make_market(2)
    login(m.author)
    html = client.get("/spotchecks/").get_data(as_text=True)
    assert client.get("/spotchecks/").status_code == 200 and "plans" in html


def test_a_clerk_learns_nothing_from_an_office_action_on_a_plan_or_check(client, login):
    """Existence never leaks through 403 vs 404: an office action is refused before the lookup."""
    m = make_market(5)
    plan = drawn_plan(m, size=1)
    check = checks_of(plan)[0]
    login(m.reg.clerk)
    for path in (f"/spotchecks/plans/{plan.id}/approve", f"/spotchecks/plans/{plan.id}/draw",
                 f"/spotchecks/{check.id}/reassign", f"/spotchecks/{check.id}/disclose"):
        missing = path.replace(f"/{plan.id}/", "/999999/").replace(f"/{check.id}/", "/999999/")
        assert client.post(path).status_code == client.post(missing).status_code == 403, path


def test_a_clerk_sees_the_office_not_the_inspector_in_the_records_history(client, login):
    m = make_market(5)
    check = checks_of(drawn_plan(m, size=1))[0]
    ins_id = db.session.scalars(sa.select(SpotCheckInspector.user_id)
                                .where(SpotCheckInspector.spot_check_id == check.id)).first()
    insp = next(s for s in m.reg.supervisors if s.id == ins_id)
    login(insp)
    assert client.post(f"/spotchecks/{check.id}/findings", data={"severity": "major", "text": "证据不足",
                                                                 "against": "body"}).status_code == 303
    assert client.post(f"/spotchecks/{check.id}/outcome", data={
        "outcome": "major_findings", "consequence": "suspend", "reason": "严重不符合",
        "version": check.version + 1}).status_code == 303
    client.post("/logout")
    login(m.reg.clerk)
    html = client.get(f"/assessments/{check.assessment_id}").get_data(as_text=True)
    assert insp.username not in html
