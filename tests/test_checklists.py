"""The audit criteria (严控审核标准, 分级分类): versioned checklists per grade (and optionally type), published by an
administrator (page and API), used by confirmation audits and spot checks alike; an audit keeps the version it
was answered against, and a later version never changes it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auditbo.checklists import services as criteria
from auditbo.checklists.models import Checklist
from auditbo.clock import today
from auditbo.confirmations import queries as confirmation_queries
from auditbo.confirmations import services as confirmations
from auditbo.extensions import db
from auditbo.spotchecks import checklists as spot_checklists
from tests.confirm_support import file_aaa, make_office
from tests.conftest import count_rows
from tests.spot_support import actor, checks_of, drawn_plan, inspectors_of, make_market

API = "/api/v1/checklists"
ITEMS = [{"key": "k1", "text": "评定报告是否完整"}, {"key": "k2", "text": "现场证据是否充分"}]


@pytest.fixture
def office(app):
    return make_office(2)


def test_an_admin_publishes_a_version_others_may_not(client, office):
    from auditbo.accounts.models import Role
    from tests.factories import UserFactory

    admin = UserFactory(role=Role.admin)
    sup = office.reg.supervisors[0]
    body = {"grade": "AAA", "items": ITEMS}
    assert client.post(API, json=body).status_code == 401
    assert client.post(API, json=body, headers=office.h(sup)).status_code == 403
    assert client.post(API, json=body, headers=office.h(office.reg.clerk)).status_code == 403
    made = client.post(API, json=body, headers=office.h(admin))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["version"] == 1 and made.get_json()["in_force"] is True
    again = client.post(API, json={**body, "assessment_type": "upgrade"}, headers=office.h(admin)).get_json()
    assert again["version"] == 1 and again["assessment_type"] == "upgrade"  # its own line of versions
    assert client.post(API, json=body, headers=office.h(admin)).get_json()["version"] == 2
    for bad in (
        {"grade": "B", "items": ITEMS},
        {"grade": "AAA", "items": []},
        {"grade": "AAA", "items": [{"key": "a b", "text": "x"}]},
        {"grade": "AAA", "items": ITEMS * 2},
        {"grade": "AAA", "items": ITEMS, "effective_from": (today() - timedelta(days=1)).isoformat()},
    ):
        resp = client.post(API, json=bad, headers=office.h(admin))
        assert resp.status_code == 422, bad
    assert count_rows(Checklist) == 3
    listed = client.get(f"{API}?grade=AAA", headers=office.h(sup)).get_json()
    assert listed["in_force"]["version"] == 2 and [
        v["version"] for v in listed["items"] if v["in_force"]
    ] == [2, 1]
    assert client.get(f"{API}?grade=AA", headers=office.h(sup)).get_json()["in_force"]["version"] == 0
    assert client.get(API, headers=office.h(office.reg.clerk)).status_code == 403


def test_a_future_version_comes_into_force_on_its_day(session):
    office = make_office(1)
    later = today() + timedelta(days=30)
    criteria.publish("AAA", None, ITEMS, None, actor(office.reg.supervisors[0]))
    criteria.publish("AAA", None, [{"key": "new", "text": "新标准"}], later, actor(office.reg.supervisors[0]))
    assert criteria.in_force("AAA", None, today()).version == 1
    assert criteria.in_force("AAA", None, later).version == 2
    assert criteria.in_force("AAA", "upgrade", later).version == 2  # no type-specific one: the grade's


def test_a_confirmation_audit_answers_the_version_in_force_and_keeps_it(client, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    h = office.h(sup)
    client.post(f"/api/v1/confirmations/{audit.id}/declaration", json={}, headers=h)
    cl = criteria.publish("AAA", None, ITEMS, None, actor(sup))
    shown = client.get(f"/api/v1/confirmations/{audit.id}", headers=h).get_json()["checklist_version"]
    assert shown["version"] == 1 and [i["key"] for i in shown["items"]] == ["k1", "k2"]
    old_key = client.put(
        f"/api/v1/confirmations/{audit.id}/checklist", headers=h, json={"answers": {"scope": "yes"}}
    )
    assert old_key.status_code == 422 and old_key.get_json()["errors"][0]["field"] == "checklist.scope"
    saved = client.put(
        f"/api/v1/confirmations/{audit.id}/checklist", headers=h, json={"answers": {"k1": "no"}}
    )
    assert saved.status_code == 200 and saved.get_json()["checklist"] == {"k1": "no"}
    db.session.expire_all()
    assert audit.checklist_id == cl.id
    criteria.publish("AAA", None, [{"key": "k9", "text": "新版"}], None, actor(sup))
    kept = client.get(f"/api/v1/confirmations/{audit.id}", headers=h).get_json()["checklist_version"]
    assert kept["version"] == 1 and kept["id"] == cl.id


def test_an_audit_answered_before_versions_keeps_the_built_in_list(session):
    office = make_office(2)
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    confirmations.save_checklist(audit, {"scope": "yes"}, actor(sup), via="api")
    assert audit.checklist_id is None
    criteria.publish("AAA", None, ITEMS, None, actor(sup))
    used = confirmation_queries.checklist_of(audit)
    assert used["version"] == 0 and "scope" in [i["key"] for i in used["items"]]


def test_the_review_page_shows_and_saves_the_version_in_force(client, login, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    confirmations.declare(audit, actor(sup), conflict=False)
    criteria.publish("AAA", None, ITEMS, None, actor(sup))
    login(sup)
    html = client.get(f"/confirmations/{audit.id}").get_data(as_text=True)
    assert 'data-checklist-version="1"' in html and "现场证据是否充分" in html and 'name="cl-item_k2"' in html
    resp = client.post(f"/confirmations/{audit.id}/checklist", data={"cl-item_k2": "yes", "cl-note": ""})
    assert resp.status_code in (302, 303)
    db.session.expire_all()
    assert audit.checklist == {"k2": "yes"}


def test_a_spot_check_uses_the_grade_and_type_version_and_keeps_it(session):
    m = make_market(3, grade="AA")
    check = checks_of(drawn_plan(m, size=1))[0]
    insp = inspectors_of(check)[0]
    criteria.publish("AA", "surveillance", [{"key": "s1", "text": "监督评定专项"}], None, actor(m.admin))
    assert spot_checklists.for_check(check)["version"] == 0  # the record is an initial assessment
    cl = criteria.publish("AA", "initial", ITEMS, None, actor(m.admin))
    assert spot_checklists.for_check(check)["id"] == cl.id
    with pytest.raises(Exception) as refused:
        spot_checklists.save_answers(check, {"scope": "yes"}, check.version, actor(insp))
    assert refused.value.errors[0].field == "item_scope"
    spot_checklists.save_answers(check, {"k1": "yes", "k2": "na"}, check.version, actor(insp))
    criteria.publish("AA", "initial", [{"key": "x", "text": "再版"}], None, actor(m.admin))
    assert check.checklist_id == cl.id and spot_checklists.for_check(check)["version"] == 1


def test_the_criteria_page_publishes_for_an_admin_only(client, login, office):
    from auditbo.accounts.models import Role
    from tests.factories import UserFactory

    admin = UserFactory(role=Role.admin)
    sup = office.reg.supervisors[0]
    login(sup)
    page = client.get("/checklists/").get_data(as_text=True)
    assert 'id="in-force"' in page and 'id="publish-form"' not in page
    assert client.post("/checklists/", data={"grade": "AA", "items": "一\n二"}).status_code == 403
    client.post("/logout")
    login(admin)
    assert 'id="publish-form"' in client.get("/checklists/").get_data(as_text=True)
    bad = client.post("/checklists/", data={"grade": "AA", "items": "  \n"})
    assert bad.status_code == 422 and 'data-error="items"' in bad.get_data(as_text=True)
    ok = client.post("/checklists/", data={"grade": "AA", "items": "报告完整\n证据充分\n"})
    assert ok.status_code == 303
    html = client.get("/checklists/").get_data(as_text=True)
    assert 'data-grade="AA" data-version="1"' in html and "证据充分" in html
    assert count_rows(Checklist) == 1
