"""Sanctions by hand: certificates (suspend, reinstate, downgrade, revoke with four eyes) and the registry
(warn, suspend, revoke a body or a person), their effects on filing and teams, the public lookup, the
end of a sanction (credit repair) and the 失信名单 page."""

from datetime import timedelta

import pytest

from auditbo.accounts.models import Role
from auditbo.clock import today
from auditbo.errors import Conflict, Forbidden, IllegalTransition, ValidationFailed
from auditbo.events import Actor, timeline
from auditbo.extensions import db
from auditbo.filings.models import StatusChange
from auditbo.sanctions import services
from auditbo.sanctions.models import Sanction
from tests.factories import CertificateFactory, OrgFactory, PersonFactory, UserFactory
from tests.filing_support import make_registry, payload

LAW = "《两化融合管理体系评定管理办法》第二十条"


@pytest.fixture
def people(app):
    a1, a2, sup = (
        UserFactory(role=Role.admin),
        UserFactory(role=Role.admin),
        UserFactory(role=Role.supervisor),
    )
    return {
        "a1": a1,
        "a2": a2,
        "sup": sup,
        "A1": Actor(a1.id, a1.username),
        "A2": Actor(a2.id, a2.username),
        "S": Actor(sup.id, sup.username),
    }


def _status(a):
    db.session.refresh(a)
    return a.status.value


def test_suspend_then_reinstate_a_certificate(people, client):
    a = CertificateFactory()
    s = services.sanction_certificate(a, "suspension", "现场核查不符合", LAW, actor=people["A1"])
    assert s.status.value == "in_force" and _status(a) == "suspended"
    with pytest.raises(Conflict):  # suspended already
        services.sanction_certificate(a, "suspension", "again", LAW, actor=people["A1"])
    services.reinstate_certificate(a, "整改完成", actor=people["A1"])
    assert _status(a) == "standing"
    db.session.refresh(s)
    assert s.status.value == "ended" and s.ended_on == today() and s.end_reason == "整改完成"
    with pytest.raises(Conflict):  # a standing certificate cannot be reinstated
        services.reinstate_certificate(a, "again", actor=people["A1"])
    moves = [
        (c.from_status.value, c.to_status.value)
        for c in db.session.query(StatusChange).filter_by(assessment_id=a.id).order_by(StatusChange.id)
    ]
    assert moves == [("standing", "suspended"), ("suspended", "standing")]


def test_every_bad_field_at_once(people):
    a = CertificateFactory(grade="AA")
    with pytest.raises(ValidationFailed) as exc:
        services.sanction_certificate(
            a, "downgrade", " ", "", actor=people["A1"], grade="AAA", ends_on=today() - timedelta(days=1)
        )
    assert {e.field for e in exc.value.errors} == {"reason", "legal_basis", "grade", "ends_on"}
    with pytest.raises(ValidationFailed):
        services.sanction_certificate(a, "warning", "r", LAW, actor=people["A1"])  # not for certificates
    assert _status(a) == "standing" and db.session.query(Sanction).count() == 0


def test_downgrade(people):
    a = CertificateFactory(grade="AAA")
    s = services.sanction_certificate(a, "downgrade", "能力不足", LAW, actor=people["A1"], grade="AA")
    db.session.refresh(a)
    assert (
        a.grade.value == "AA" and a.status.value == "standing" and (s.from_grade, s.to_grade) == ("AAA", "AA")
    )
    assert [e.action for e in timeline("assessment", a.id)] == ["downgraded"]


def test_revocation_needs_a_second_admin(people):
    a = CertificateFactory()
    s = services.sanction_certificate(
        a, "revocation", "弄虚作假", LAW, actor=people["S"]
    )  # a supervisor proposes
    assert s.status.value == "proposed" and _status(a) == "standing"
    with pytest.raises(Forbidden):
        services.confirm(s, actor=people["S"], version=s.version)  # never the proposer
    with pytest.raises(Conflict):
        services.confirm(s, actor=people["A1"], version=s.version + 1)  # a stale read
    services.confirm(s, actor=people["A1"], version=s.version)
    assert s.status.value == "in_force" and _status(a) == "revoked"
    with pytest.raises(Conflict):
        services.confirm(s, actor=people["A2"], version=s.version)  # once
    with pytest.raises(Conflict):  # revoked is final
        services.sanction_certificate(a, "suspension", "x", LAW, actor=people["A1"])


def test_a_declined_proposal_changes_nothing(people):
    a = CertificateFactory()
    s = services.sanction_certificate(a, "revocation", "存疑", LAW, actor=people["A1"])
    with pytest.raises(Forbidden):
        services.decline(s, "no", actor=people["A1"], version=s.version)
    services.decline(s, "证据不足", actor=people["A2"], version=s.version)
    assert s.status.value == "declined" and _status(a) == "standing"


def test_a_suspended_body_cannot_file(people, client):
    reg = make_registry()
    services.sanction_party(reg.body, "suspension", "拒不配合抽查", LAW, actor=people["A1"])
    resp = client.post("/api/v1/assessments", json=payload(reg), headers=reg.headers())
    assert resp.status_code == 422
    out = resp.get_json()
    assert out["errors"][0]["field"] == "body" and "拒不配合抽查" in out["detail"]
    services.end(db.session.query(Sanction).one(), "解除", actor=people["A1"], version=1)
    assert client.post("/api/v1/assessments", json=payload(reg), headers=reg.headers()).status_code == 201


def test_an_active_body_files_and_a_suspended_person_cannot_be_on_a_team(people, client):
    reg = make_registry()
    p = payload(
        reg,
        grade="AA",
        team=[
            {"person_id": reg.lead.person_id, "role": "lead"},
            {"person_id": reg.member.person_id, "role": "member"},
        ],
    )
    services.sanction_party(reg.member, "suspension", "违规执业", LAW, actor=people["A1"])
    resp = client.post("/api/v1/assessments", json=p, headers=reg.headers())
    assert resp.status_code == 422
    assert any(
        "suspended" in e["message"] and e["field"] == "team[1].person_id" for e in resp.get_json()["errors"]
    )
    p["team"] = p["team"][:1]
    assert client.post("/api/v1/assessments", json=p, headers=reg.headers()).status_code == 201


def test_warning_keeps_the_registration_active(people):
    body = OrgFactory()
    s = services.sanction_party(
        body, "warning", "迟报", LAW, actor=people["A1"], ends_on=today() + timedelta(days=90)
    )
    assert s.status.value == "in_force" and body.status.value == "active"


def test_registry_revocation_four_eyes_and_final(people):
    person = PersonFactory()
    susp = services.sanction_party(person, "suspension", "暂停", LAW, actor=people["A1"])
    s = services.sanction_party(person, "revocation", "严重违规", LAW, actor=people["A1"])
    assert person.status.value == "suspended"
    services.confirm(s, actor=people["A2"], version=s.version)
    assert person.status.value == "revoked"
    db.session.refresh(susp)
    assert susp.status.value == "ended" and susp.end_reason == "superseded by the revocation"
    with pytest.raises(Conflict):
        services.sanction_party(person, "warning", "x", LAW, actor=people["A1"])


def test_a_sanction_ends_on_its_date_and_stays_on_the_list(people):
    body = OrgFactory()
    end = today() + timedelta(days=30)
    s = services.sanction_party(body, "suspension", "整改期", LAW, actor=people["A1"], ends_on=end)
    a = CertificateFactory()
    cs = services.sanction_certificate(a, "suspension", "整改期", LAW, actor=people["A1"], ends_on=end)
    assert services.end_due_sanctions(end - timedelta(days=1)) == 0
    assert services.end_due_sanctions(end) == 2
    assert services.end_due_sanctions(end) == 0  # idempotent
    db.session.refresh(s)
    assert s.status.value == "ended" and s.ended_on == end and body.status.value == "active"
    assert cs.status.value == "ended" and _status(a) == "standing"
    assert db.session.get(Sanction, s.id) is not None  # nothing deleted


def test_lifting_by_hand(people):
    body = OrgFactory()
    s = services.sanction_party(body, "suspension", "暂停", LAW, actor=people["A1"])
    services.end(s, "提前解除", actor=people["A1"], version=s.version)
    assert body.status.value == "active" and s.status.value == "ended"
    with pytest.raises(Conflict):
        services.end(s, "again", actor=people["A1"], version=s.version)
    with pytest.raises(IllegalTransition):
        from auditbo.sanctions.models import SANCTION_TRANSITIONS, SanctionStatus

        SANCTION_TRANSITIONS.check(SanctionStatus.ended, SanctionStatus.in_force)


def test_public_lookup_and_directory_reflect_it(people, client):
    a = CertificateFactory()
    services.sanction_certificate(a, "suspension", "x", LAW, actor=people["A1"])
    db.session.flush()
    page = client.get(f"/certificates?no={a.certificate_no}").get_data(as_text=True)
    assert 'data-status="suspended"' in page
    body = OrgFactory()
    services.sanction_party(body, "suspension", "x", LAW, actor=people["A1"])
    db.session.flush()
    page = client.get(f"/directory/{body.credit_code}?lang=en").get_data(as_text=True)
    assert '<dd class="col-sm-7" id="profile-status">Suspended</dd>' in page


# --- pages ---------------------------------------------------------------------------------------
def test_pages_impose_confirm_and_list(people, client, login):
    body = OrgFactory()
    login(people["sup"])
    resp = client.post(
        "/sanctions/new",
        data={
            "subject": "organisation",
            "ref": body.credit_code,
            "kind": "suspension",
            "reason": "r",
            "legal_basis": LAW,
        },
    )
    assert resp.status_code == 403  # a supervisor only proposes revocations
    resp = client.post(
        "/sanctions/new",
        data={
            "subject": "organisation",
            "ref": body.credit_code,
            "kind": "revocation",
            "reason": "严重失信",
            "legal_basis": LAW,
        },
    )
    assert resp.status_code == 302
    s = db.session.query(Sanction).one()
    page = client.get(f"/sanctions/{s.id}").get_data(as_text=True)
    assert 'id="four-eyes"' in page
    client.post("/logout")
    login(people["a1"])
    resp = client.post(f"/sanctions/{s.id}", data={"version": str(s.version), "confirm": "1"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert s.status.value == "in_force" and body.status.value == "revoked"
    listing = client.get("/sanctions/?tab=registry").get_data(as_text=True)
    assert f'data-sanction="{s.id}"' in listing and body.name in listing
    assert client.get("/sanctions/surveillance").status_code == 200


def test_pages_refuse_a_body_clerk(client, login):
    login(UserFactory(role=Role.body_clerk, org=OrgFactory()))
    for path in ("/sanctions/", "/sanctions/new", "/sanctions/surveillance"):
        assert client.get(path).status_code == 403, path
