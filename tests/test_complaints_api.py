"""Complaints through the API (spec/api.md, "Complaints"): intake, handling, due dates, versions."""

from datetime import date, timedelta

import pytest

from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from auditbo.clock import today
from auditbo.complaints.models import Complaint
from auditbo.events import timeline
from auditbo.extensions import db
from tests.factories import CertificateFactory, ConsultingFactory, OrgFactory, PersonFactory, UserFactory


def _h(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, 't')[1]}"}


@pytest.fixture
def office(app):
    sup, admin = UserFactory(role=Role.supervisor), UserFactory(role=Role.admin)
    body = OrgFactory()
    cert = CertificateFactory(body=body)
    db.session.flush()
    return {"sup": sup, "admin": admin, "body": body, "cert": cert, "hs": _h(sup), "ha": _h(admin)}


def _new(client, office, **over):
    data = {
        "against": {"kind": "assessment_body", "credit_code": office["body"].credit_code},
        "assessment_id": office["cert"].id,
        "text": "现场评定仅半天",
        "source": "letter",
        "complainant": "张三",
        "contact": "13800000000",
    }
    data.update(over)
    return client.post("/api/v1/complaints", json=data, headers=office["hs"])


def test_register_gives_received_with_a_due_date_in_working_days(client, office, app):
    resp = _new(client, office)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert out["status"] == "received" and out["version"] == 1 and out["overdue"] is False
    assert out["against"]["credit_code"] == office["body"].credit_code
    assert out["certificate_no"] == office["cert"].certificate_no
    from auditbo.workdays import calendar_from_config

    assert out["due_date"] == calendar_from_config(app.config).add_working_days(today(), 30).isoformat()
    ev = timeline("complaint", out["id"])
    assert [e.action for e in ev] == ["registered"]
    assert "张三" not in str(ev[0].after) and "13800000000" not in str(ev[0].after)  # no identity in the log


def test_register_refuses_every_bad_field_at_once(client, office):
    other_cert = CertificateFactory()
    resp = _new(client, office, against={"kind": "person", "person_id": "NOPE"}, assessment_id=other_cert.id)
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert "against.person_id" in fields
    resp = _new(client, office, assessment_id=other_cert.id)
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "assessment_id"
    resp = _new(
        client, office, against={"kind": "consulting_body", "credit_code": office["body"].credit_code}
    )
    assert resp.status_code == 422  # the body is an assessment body, not a consulting body
    assert db.session.query(Complaint).count() == 0


def test_register_against_a_consulting_body_and_a_person(client, office):
    cons, person = ConsultingFactory(), PersonFactory()
    assert (
        _new(
            client,
            office,
            against={"kind": "consulting_body", "credit_code": cons.credit_code},
            assessment_id=None,
        ).status_code
        == 201
    )
    out = _new(client, office, against={"kind": "person", "person_id": person.person_id}, assessment_id=None)
    assert out.status_code == 201 and out.get_json()["against"]["person_id"] == person.person_id


def test_who_may(client, office):
    clerk = UserFactory(role=Role.body_clerk, org=office["body"])
    assert client.post("/api/v1/complaints", json={}).status_code == 401  # before the body is read
    assert client.post("/api/v1/complaints", json={}, headers=_h(clerk)).status_code == 403
    assert client.get("/api/v1/complaints", headers=_h(clerk)).status_code == 403
    cid = _new(client, office).get_json()["id"]
    assert client.get(f"/api/v1/complaints/{cid}", headers=_h(clerk)).status_code == 403
    assert client.post(f"/api/v1/complaints/{cid}/transition", json={}, headers=_h(clerk)).status_code == 403
    assert client.get("/api/v1/complaints/999999", headers=office["ha"]).status_code == 404
    assert (
        client.post("/api/v1/complaints/999999/transition", json={}, headers=office["ha"]).status_code == 404
    )
    assert client.get("/api/v1/complaints/99999999999", headers=office["ha"]).status_code == 404


def _move(client, office, cid, to, version, h="hs", **extra):
    return client.post(
        f"/api/v1/complaints/{cid}/transition",
        headers=office[h],
        json={"to": to, "reason": f"because {to}", "version": version, **extra},
    )


def test_received_investigating_substantiated(client, office):
    cid = _new(client, office).get_json()["id"]
    resp = _move(client, office, cid, "investigating", 1)
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert (
        out["status"] == "investigating" and out["assignee"]["id"] == office["sup"].id and out["version"] == 2
    )
    resp = _move(client, office, cid, "substantiated", 2)
    assert resp.status_code == 200
    out = resp.get_json()
    assert out["status"] == "substantiated" and out["resolution"] == "because substantiated"
    assert out["closed_on"] == today().isoformat()
    assert [e.action for e in timeline("complaint", cid)] == [
        "registered",
        "status_changed",
        "status_changed",
    ]


def test_received_straight_to_unsubstantiated_and_illegal_moves(client, office):
    cid = _new(client, office).get_json()["id"]
    assert _move(client, office, cid, "substantiated", 1).status_code == 409  # must be investigated first
    assert _move(client, office, cid, "unsubstantiated", 1).status_code == 200
    assert _move(client, office, cid, "investigating", 2).status_code == 409  # closed is final
    assert (
        client.get(f"/api/v1/complaints/{cid}", headers=office["hs"]).get_json()["status"]
        == "unsubstantiated"
    )


def test_stale_version_is_409_and_bad_body_422(client, office):
    cid = _new(client, office).get_json()["id"]
    assert _move(client, office, cid, "investigating", 1).status_code == 200
    resp = _move(client, office, cid, "substantiated", 1)
    assert resp.status_code == 409 and "version" in resp.get_json()["detail"]
    resp = client.post(
        f"/api/v1/complaints/{cid}/transition", headers=office["hs"], json={"to": "closed", "version": "2"}
    )
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} >= {"to", "reason", "version"}


def test_assignee_must_be_office_staff(client, office):
    cid = _new(client, office).get_json()["id"]
    clerk = UserFactory(role=Role.body_clerk, org=office["body"])
    resp = _move(client, office, cid, "investigating", 1, assignee_id=clerk.id)
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "assignee_id"
    resp = _move(client, office, cid, "investigating", 1, assignee_id=office["admin"].id)
    assert resp.status_code == 200 and resp.get_json()["assignee"]["id"] == office["admin"].id


def test_overdue_and_list_tabs(client, office):
    old = _new(client, office, received_on=(today() - timedelta(days=80)).isoformat()).get_json()
    new = _new(client, office).get_json()
    assert old["overdue"] is True and new["overdue"] is False
    overdue = client.get("/api/v1/complaints?tab=overdue", headers=office["hs"]).get_json()
    assert [i["id"] for i in overdue["items"]] == [old["id"]]
    opened = client.get("/api/v1/complaints?tab=open", headers=office["hs"]).get_json()
    assert [i["id"] for i in opened["items"]] == [old["id"], new["id"]]  # by due date
    _move(client, office, new["id"], "unsubstantiated", 1)
    closed = client.get("/api/v1/complaints?tab=closed", headers=office["hs"]).get_json()
    assert [i["id"] for i in closed["items"]] == [new["id"]]
    assert client.get("/api/v1/complaints?tab=late", headers=office["hs"]).status_code == 422
    future = _new(client, office, received_on=(today() + timedelta(days=1)).isoformat())
    assert future.status_code == 422


def test_due_date_skips_holidays(app):
    from auditbo.complaints.services import due_date_for

    with app.test_request_context():
        # 2026-09-30 + 30 working days: the National Day week (Oct 1-7) is off
        assert due_date_for(date(2026, 9, 30)) > date(2026, 9, 30) + timedelta(days=42)
