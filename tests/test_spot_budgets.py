"""Strata with budgets (分层配额): a plan stratified by province or body may say how many records each stratum
gets; the engine draws within them, the plan keeps them and its verify redraws with them; a budget the
frame cannot take (unknown stratum, above its size, not summing to the size) is 422 naming the budgets."""

from __future__ import annotations

import pandas as pd

from auditbo.codes import make_credit_code
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings import services as filings
from auditbo.spotchecks import services
from auditbo.spotchecks.models import SamplingPlan
from tests.conftest import count_rows
from tests.filing_support import payload
from tests.spot_support import actor, assessment, checks_of, make_market, plan_body

PLANS = "/api/v1/sampling-plans"


def _market_in_two_provinces():
    m = make_market(8)  # Fujian (35)
    for i in range(4):  # and four in Beijing (11)
        code = make_credit_code("110105", f"B{i:08d}")
        ent = {"name": f"北京示例{i}有限公司", "credit_code": code, "region_code": "110105", "industry_code": "C34",
               "size": "large", "employees": 2300}
        r = filings.file_assessment(m.reg.body, payload(m.reg, grade="AA", enterprise=ent),
                                    actor=Actor.of_api(m.reg.clerk))
        m.records.append(r.assessment_id)
    db.session.flush()
    return m


def test_budgets_per_province_are_drawn_and_verified(client):
    m = _market_in_two_provinces()
    resp = client.post(PLANS, headers=m.h(m.author),
                       json=plan_body(5, strata="province", budgets={"35": 2, "11": 3}))
    assert resp.status_code == 201, resp.get_json()
    plan_id = resp.get_json()["id"]
    assert resp.get_json()["budgets"] == {"35": 2, "11": 3}
    plan = db.session.get(SamplingPlan, plan_id)
    services.approve_plan(plan, actor(m.admin))
    services.draw_plan(plan, actor(m.admin), seed=5)
    drawn = pd.Series([assessment(c.assessment_id).region_code[:2] for c in checks_of(plan)]).value_counts()
    assert drawn.to_dict() == {"11": 3, "35": 2}
    assert client.get(f"{PLANS}/{plan_id}/verification", headers=m.h(m.admin)).get_json()["matches"] is True


def test_budgets_per_body_by_credit_code(session):
    m = make_market(6)
    plan = services.create_plan(plan_body(4, strata="body", budgets={m.reg.body.credit_code: 4}), actor(m.author))
    assert plan.summary["budgets"] == {str(m.reg.body.id): 4}


def test_budgets_the_frame_cannot_take_are_refused(client):
    m = _market_in_two_provinces()
    h = m.h(m.author)
    for budgets, strata, field in (
        ({"35": 2, "11": 2}, "province", "budgets"),  # sums to 4, not 5
        ({"35": 1, "11": 5}, "province", "budgets"),  # Beijing holds 4
        ({"35": 3, "44": 2}, "province", "budgets"),  # no record in Guangdong
        ({"35": 5}, None, "budgets"),  # budgets without strata
        ({"Fujian": 5}, "province", "budgets.FUJIAN"),
        ({"911100000000000000": 5}, "body", "budgets.911100000000000000"),
        ({"35": 0, "11": 5}, "province", "budgets.35"),
    ):
        resp = client.post(PLANS, headers=h, json=plan_body(5, strata=strata, budgets=budgets))
        assert resp.status_code == 422, (budgets, resp.get_json())
        assert field in {e["field"] for e in resp.get_json()["errors"]}, (budgets, resp.get_json())
    assert count_rows(SamplingPlan) == 0


def test_the_plan_page_takes_budgets(client, login):
    from tests.test_spot_web import _form

    m = _market_in_two_provinces()
    login(m.author)
    bad = client.post("/spotchecks/plans/new", data=_form("5", strata="province", budgets="35:4, 11:4"))
    assert bad.status_code == 422 and 'data-error="budgets"' in bad.get_data(as_text=True)
    ok = client.post("/spotchecks/plans/new", data=_form("5", strata="province", budgets="35:2，11:3"))
    assert ok.status_code == 303
    assert db.session.scalars(db.select(SamplingPlan)).one().summary["budgets_given"] == {"35": 2, "11": 3}
