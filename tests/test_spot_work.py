"""Working a spot check: findings, outcome with consequence (409 on a stale version), the certificate
lookup following at once, the market estimate as the engine's CLI computes it, disclosure deadlines."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
import time_machine

from auditbo.extensions import db
from auditbo.spotchecks import checks as work
from auditbo.spotchecks import estimate
from auditbo.spotchecks.models import SpotCheckInspector
from tests.conftest import count_queries
from tests.spot_support import actor, assessment, checks_of, drawn_plan, make_market

CHECKS = "/api/v1/spot-checks"


def _inspectors(check):
    from auditbo.accounts.models import User

    ids = db.session.scalars(sa.select(SpotCheckInspector.user_id)
                             .where(SpotCheckInspector.spot_check_id == check.id)).all()
    return [db.session.get(User, i) for i in ids]


def _outsider(m, check):
    ins = {u.id for u in _inspectors(check)}
    return next(s for s in m.reg.supervisors if s.id not in ins)


def test_an_inspector_records_a_major_finding_and_revokes_the_public_lookup_shows_it(client):
    m = make_market(6, n_supervisors=4)
    check = checks_of(drawn_plan(m, size=2))[0]
    insp = _inspectors(check)[0]
    cert = assessment(check.assessment_id).certificate_no
    mine = client.get(f"{CHECKS}?inspector=me", headers=m.h(insp)).get_json()
    assert check.id in {c["id"] for c in mine["items"]}
    resp = client.post(f"{CHECKS}/{check.id}/findings", headers=m.h(insp),
                       json={"severity": "major", "text": "现场证据不支持CL2能力等级", "against": "lead"})
    assert resp.status_code == 201, resp.get_json()
    version = resp.get_json()["version"]
    assert resp.get_json()["findings"][0]["person_id"] == m.reg.lead.person_id
    none = client.post(f"{CHECKS}/{check.id}/outcome", headers=m.h(insp),
                       json={"outcome": "major_findings", "consequence": "none", "version": version})
    assert none.status_code == 422 and none.get_json()["errors"][0]["field"] == "consequence"
    resp = client.post(f"{CHECKS}/{check.id}/outcome", headers=m.h(insp),
                       json={"outcome": "major_findings", "consequence": "revoke", "reason": "严重不符合",
                             "version": version})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "closed" and body["consequence"] == "revoke" and body["assessment"]["status"] == "revoked"
    assert date.fromisoformat(body["disclose_by"]) > date.fromisoformat(body["closed_on"])
    public = client.get(f"/api/v1/certificates/{cert}")
    assert public.status_code == 200 and public.get_json()["status"] == "revoked"


def test_downgrade_keeps_the_certificate_standing_at_the_lower_grade(client):
    m = make_market(4)
    check = checks_of(drawn_plan(m, size=1))[0]
    insp = _inspectors(check)[0]
    work.add_finding(check, "major", "人日严重不足", "body", None, actor(insp))
    bad = client.post(f"{CHECKS}/{check.id}/outcome", headers=m.h(insp),
                      json={"outcome": "major_findings", "consequence": "downgrade", "grade": "AAA",
                            "reason": "x", "version": check.version})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "grade"
    ok = client.post(f"{CHECKS}/{check.id}/outcome", headers=m.h(insp),
                     json={"outcome": "major_findings", "consequence": "downgrade", "grade": "A",
                           "reason": "能力不足", "version": check.version})
    assert ok.status_code == 200, ok.get_json()
    public = client.get(f"/api/v1/certificates/{ok.get_json()['assessment']['certificate_no']}").get_json()
    assert public["status"] == "standing" and public["grade"] == "A"


def test_a_stale_version_is_409_and_nothing_changes(client):
    m = make_market(4)
    check = checks_of(drawn_plan(m, size=1))[0]
    a, b = _inspectors(check)
    read = client.get(f"{CHECKS}/{check.id}", headers=m.h(a)).get_json()["version"]
    client.post(f"{CHECKS}/{check.id}/findings", headers=m.h(b),
                json={"severity": "minor", "text": "记录不全", "against": "body"})
    resp = client.post(f"{CHECKS}/{check.id}/outcome", headers=m.h(a),
                       json={"outcome": "conforming", "version": read})
    assert resp.status_code == 409
    assert client.get(f"{CHECKS}/{check.id}", headers=m.h(a)).get_json()["status"] == "open"


def test_anyone_but_an_assigned_inspector_gets_404_on_the_write_endpoints(client):
    m = make_market(4, n_supervisors=4)
    check = checks_of(drawn_plan(m, size=1))[0]
    body = {"severity": "minor", "text": "记录不全", "against": "body"}
    for user in (_outsider(m, check), m.admin, m.reg.clerk):
        assert client.post(f"{CHECKS}/{check.id}/findings", headers=m.h(user), json=body).status_code == 404
        assert client.post(f"{CHECKS}/{check.id}/outcome", headers=m.h(user),
                           json={"outcome": "conforming", "version": 1}).status_code == 404
    assert client.post(f"{CHECKS}/{check.id}/findings", json=body).status_code == 401


def test_the_estimate_equals_the_engines_cli_on_the_same_rows(client, login, tmp_path, capsys):
    from sampling.cli import main

    m = make_market(14)
    plan = drawn_plan(m, size=6)
    cs = checks_of(plan)
    partial = client.get(f"/api/v1/sampling-plans/{plan.id}", headers=m.h(m.admin)).get_json()
    assert partial["estimate"] is None
    for i, c in enumerate(cs):
        insp = _inspectors(c)[0]
        if i % 3 == 0:
            work.add_finding(c, "major", "严重不符合", "body", None, actor(insp))
            work.close(c, "major_findings", "suspend", None, "暂停", c.version, actor(insp))
        else:
            work.close(c, "conforming", "none", None, None, c.version, actor(insp))
        if i == 2:
            half = client.get(f"/api/v1/sampling-plans/{plan.id}", headers=m.h(m.admin)).get_json()["estimate"]
            assert half["closed"] == 3 and half["selected"] == 6 and half["complete"] is False
            assert half["rate"] is None  # a partly closed plan does not pretend
    est = client.get(f"/api/v1/sampling-plans/{plan.id}", headers=m.h(m.admin)).get_json()["estimate"]
    rows = estimate.estimate_rows(plan)
    path, frame_path = tmp_path / "checked.csv", tmp_path / "frame.csv"
    rows.drop(columns="risk").to_csv(path, index=False)  # the CLI takes the checked units' risks from the frame
    frame = estimate.frozen_frame(plan)  # the plan's frozen frame, as the draw's output holds it
    frame.to_csv(frame_path, index=False)
    capsys.readouterr()
    assert main(["estimate", "--checked", str(path), "--population", "14", "--frame", str(frame_path)]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert main(["estimate", "--checked", str(path), "--population", "14"]) == 0
    flat = json.loads(capsys.readouterr().out)
    assert est["complete"] is True and est["closed"] == 6
    assert len(frame) == 14 and set(rows["unit_id"]) <= set(frame["unit_id"])
    for key in ("rate", "ci_low", "ci_high", "model_slope"):
        assert est[key] == pytest.approx(cli[key], rel=0, abs=1e-12)
    assert est["method"] == cli["method"] != flat["method"] and "anticipated variance" in est["method"]
    assert isinstance(rows, pd.DataFrame) and rows["nonconforming"].sum() == 2
    login(m.admin)
    page = client.get(f"/spotchecks/plans/{plan.id}").get_data(as_text=True)
    assert 'data-estimate="complete"' in page and 'data-figure="model_slope"' in page
    assert f"模型斜率 {est['model_slope']:.2f}" in page  # the office's language by default
    # the frozen frame is read once per app: the next estimate of the plan (a dashboard, the
    # monthly report) does not read it again, and gives the same interval
    with count_queries() as seen:
        again = estimate.plan_estimate(plan)
    assert not [q for q in seen if "plan_units" in q and "inclusion_probability" in q and "JOIN" not in q.upper()]
    assert (again["ci_low"], again["ci_high"]) == (est["ci_low"], est["ci_high"])


def test_disclosure_is_due_twenty_chinese_working_days_after_closing(session):
    m = make_market(3)
    check = checks_of(drawn_plan(m, size=1))[0]
    insp = _inspectors(check)[0]
    with time_machine.travel(date(2026, 9, 28), tick=False):  # Monday before the National Day week
        work.close(check, "conforming", "none", None, None, check.version, actor(insp))
    assert check.closed_on == date(2026, 9, 28)
    # 9/29, 9/30, then 10/1-10/7 holidays, 10/10 (Saturday) a make-up working day
    from auditbo.workdays import WorkCalendar

    assert check.disclose_by == WorkCalendar().add_working_days(date(2026, 9, 28), 20)
    assert check.disclose_by > date(2026, 10, 27)
    from auditbo.spotchecks import queries

    items, _ = queries.checks_page(1, 50, disclosure="overdue", today=date(2026, 12, 1))
    assert [i["id"] for i in items] == [check.id]
    work.disclose(check, actor(m.admin))
    assert queries.checks_page(1, 50, disclosure="due", today=date(2026, 12, 1))[1] == 0


def test_the_public_sees_a_bodys_disclosed_results_per_year_only(client):
    m = make_market(4)
    check = checks_of(drawn_plan(m, size=2))[0]
    insp = _inspectors(check)[0]
    work.add_finding(check, "major", "严重不符合", "body", None, actor(insp))
    work.close(check, "major_findings", "suspend", None, "暂停", check.version, actor(insp))
    url = f"/api/v1/bodies/{m.reg.body.credit_code}/spot-check-results"
    assert client.get(url).get_json()["years"] == []  # closed, not yet disclosed
    work.disclose(check, actor(m.admin))
    years = client.get(url).get_json()["years"]
    assert len(years) == 1 and years[0]["checked"] == 1 and years[0]["suspend"] == 1
    page = client.get(f"/spotchecks/public/{m.reg.body.credit_code}")
    assert page.status_code == 200 and f'data-year="{years[0]["year"]}"' in page.get_data(as_text=True)
    assert client.get("/api/v1/bodies/91350100M000100Y43/spot-check-results").status_code == 404
