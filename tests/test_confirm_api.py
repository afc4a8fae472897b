"""The confirmation API (spec/api.md, "Supervision"): list with filters and its envelope, one
audit, the checklist and declaration, and the OpenAPI document."""

import pytest

from tests.confirm_support import file_aaa, make_office
from tests.factories import OrgFactory, PersonFactory


@pytest.fixture
def office(app):
    return make_office(2)


def test_list_filters_and_envelope(client, office):
    audits = [file_aaa(office, grade=g)[1] for g in ("AAA", "AAA", "AAAA", "AAAAA")]
    sup = office.user(audits[0].assignee_id)
    h = office.h(sup)
    everything = client.get("/api/v1/confirmations", headers=h).get_json()
    assert {"items", "total", "page", "per_page"} <= set(everything)  # + next, total_is_exact (cursor paging)
    assert everything["total"] == 4 and everything["per_page"] == 50 and everything["page"] == 1
    assert client.get("/api/v1/confirmations?grade=AAA", headers=h).get_json()["total"] == 2
    assert client.get("/api/v1/confirmations?status=assigned", headers=h).get_json()["total"] == 4
    assert client.get("/api/v1/confirmations?status=pending", headers=h).get_json()["total"] == 0
    mine = client.get("/api/v1/confirmations?assignee=me", headers=h).get_json()
    assert mine["total"] == sum(1 for a in audits if a.assignee_id == sup.id)
    assert all(i["assignee"]["id"] == sup.id for i in mine["items"])
    body = office.reg.body.credit_code
    assert client.get(f"/api/v1/confirmations?body={body}", headers=h).get_json()["total"] == 4
    other = OrgFactory().credit_code
    assert client.get(f"/api/v1/confirmations?body={other}", headers=h).get_json()["total"] == 0
    assert client.get("/api/v1/confirmations?region=35", headers=h).get_json()["total"] == 4
    assert client.get("/api/v1/confirmations?region=11", headers=h).get_json()["total"] == 0
    page2 = client.get("/api/v1/confirmations?per_page=3&page=2", headers=h).get_json()
    assert page2["total"] == 4 and len(page2["items"]) == 1
    ordered = [i["id"] for i in everything["items"]]
    assert ordered == sorted(ordered)  # same due date: stable by id
    for bad in ("status=open", "grade=B", "assignee=you", "per_page=501", "body=123"):
        resp = client.get(f"/api/v1/confirmations?{bad}", headers=h)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", bad


def test_decided_filter_orders_newest_first(client, office):
    first = file_aaa(office)[1]
    second = file_aaa(office)[1]
    for audit in (first, second):
        sup = office.user(audit.assignee_id)
        v = client.get(f"/api/v1/confirmations/{audit.id}", headers=office.h(sup)).get_json()["version"]
        assert client.post(f"/api/v1/confirmations/{audit.id}/decision", headers=office.h(sup),
                           json={"decision": "confirmed", "version": v}).status_code == 200
    decided = client.get("/api/v1/confirmations?status=decided", headers=office.h(office.admin)).get_json()
    assert [i["id"] for i in decided["items"]] == [second.id, first.id]


def test_one_audit(client, office):
    a, audit = file_aaa(office)
    out = client.get(f"/api/v1/confirmations/{audit.id}", headers=office.h(office.admin)).get_json()
    assert out["id"] == audit.id and out["status"] == "assigned" and out["version"] == 1
    assert out["assessment"]["id"] == a.id and out["assessment"]["status"] == "pending_confirmation"
    assert out["assignee"]["id"] == audit.assignee_id and out["due_date"] == audit.due_date.isoformat()
    assert out["working_days_left"] == 10 and out["findings"] == [] and out["decision"] is None
    assert client.get("/api/v1/confirmations/999999", headers=office.h(office.admin)).status_code == 404


def test_checklist_and_declaration_endpoints(client, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    h = office.h(sup)
    signed = client.post(f"/api/v1/confirmations/{audit.id}/declaration", json={}, headers=h)
    assert signed.status_code == 200 and signed.get_json()["declaration_signed_at"]
    saved = client.put(f"/api/v1/confirmations/{audit.id}/checklist", headers=h,
                       json={"answers": {"scope": "yes", "evidence": "no"}, "note": "证据链不完整"})
    assert saved.status_code == 200
    assert saved.get_json()["checklist"] == {"scope": "yes", "evidence": "no", "note": "证据链不完整"}
    bad = client.put(f"/api/v1/confirmations/{audit.id}/checklist", headers=h, json={"answers": {"color": "red"}})
    assert bad.status_code == 422
    conflict = client.post(f"/api/v1/confirmations/{audit.id}/declaration", headers=h,
                           json={"conflict": True, "parties": ["body"], "reason": "配偶在该机构任职"})
    assert conflict.status_code == 200 and conflict.get_json()["assignee"]["id"] != sup.id
    # no longer theirs
    assert client.put(f"/api/v1/confirmations/{audit.id}/checklist", headers=h,
                      json={"answers": {"scope": "yes"}}).status_code == 403


def test_deciding_through_the_api_signs_the_declaration_implicitly(client, office):
    from auditbo.events import timeline

    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    resp = client.post(f"/api/v1/confirmations/{audit.id}/decision", headers=office.h(sup),
                       json={"decision": "confirmed", "version": 1})
    assert resp.status_code == 200 and resp.get_json()["declaration_signed_at"]
    signed = [e for e in timeline("confirmation", audit.id) if e.action == "declaration_signed"]
    assert signed[0].after == {"no_conflict": True, "implicit": True, "via": "api"}


def test_the_openapi_document_describes_the_confirmation_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"get"} <= set(paths["/api/v1/confirmations"])
    assert {"get"} <= set(paths["/api/v1/confirmations/{audit_id}"])
    for action in ("findings", "decision", "reassignment", "declaration"):
        assert "post" in paths[f"/api/v1/confirmations/{{audit_id}}/{action}"], action
    params = {p["name"] for p in paths["/api/v1/confirmations"]["get"]["parameters"]}
    assert {"status", "assignee", "body", "grade", "page", "per_page"} <= params
    decision = spec["components"]["schemas"]["ConfirmationDecisionIn"]
    assert set(decision["required"]) == {"decision", "version"}
    assert decision["properties"]["decision"]["enum"] == ["confirmed", "grade_adjusted", "returned", "rejected"]


def test_a_member_from_another_body_is_not_on_the_team(client, office):
    outsider = PersonFactory(org=office.reg.body)
    _, audit = file_aaa(office, team=[{"person_id": office.reg.senior.person_id, "role": "lead"},
                                      {"person_id": outsider.person_id, "role": "member"}])
    sup = office.user(audit.assignee_id)
    ok = client.post(f"/api/v1/confirmations/{audit.id}/findings", headers=office.h(sup),
                     json={"severity": "minor", "text": "成员记录不全", "against": "member",
                           "person_id": outsider.person_id})
    assert ok.status_code == 201
    lead_as_member = client.post(f"/api/v1/confirmations/{audit.id}/findings", headers=office.h(sup),
                                 json={"severity": "minor", "text": "组长问题", "against": "member",
                                       "person_id": office.reg.senior.person_id})
    assert lead_as_member.status_code == 422


def test_nul_in_a_json_body_is_422_not_500(client, app):
    from tests.filing_support import make_registry

    reg = make_registry()
    resp = client.post("/api/v1/confirmations/1/findings", json={"severity": "minor", "text": "a\x00b",
                                                                  "against": "body"}, headers=reg.headers())
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "text"
