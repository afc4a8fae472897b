"""Decisions and their effect on the assessment, the re-review loop (复核), what the body sees,
the version check, and every action in the event log and on the record's timeline."""

import pytest
import sqlalchemy as sa

from auditbo.confirmations.models import AuditStatus, ConfirmationAudit
from auditbo.events import Event, verify
from auditbo.extensions import db
from tests.confirm_support import file_aaa, make_office


@pytest.fixture
def office(app):
    return make_office(3)


def read(client, office, audit_id, user):
    resp = client.get(f"/api/v1/confirmations/{audit_id}", headers=office.h(user))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def decide(client, office, audit_id, user, **body):
    if "version" not in body:
        body["version"] = read(client, office, audit_id, user)["version"]
    return client.post(f"/api/v1/confirmations/{audit_id}/decision", json=body, headers=office.h(user))


def assessment(client, office, assessment_id):
    return client.get(f"/api/v1/assessments/{assessment_id}", headers=office.reg.headers()).get_json()


@pytest.mark.parametrize("body,status,grade", [
    ({"decision": "confirmed"}, "standing", "AAAA"),
    ({"decision": "grade_adjusted", "grade": "AAA", "reason": "能力证据仅支持流程级"}, "standing", "AAA"),
    ({"decision": "grade_adjusted", "grade": "AA", "reason": "仅支持单元级"}, "standing", "AA"),
    ({"decision": "returned", "reason": "请补充现场证据"}, "returned", "AAAA"),
    ({"decision": "rejected", "reason": "评定过程严重不符合要求"}, "rejected", "AAAA"),
])
def test_each_decision_and_its_effect_on_the_assessment(client, office, body, status, grade):
    a, audit = file_aaa(office, grade="AAAA")
    sup = office.user(audit.assignee_id)
    resp = decide(client, office, audit.id, sup, **body)
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert out["status"] == "decided" and out["decision"] == body["decision"]
    assert out["assessment"]["status"] == status and out["assessment"]["grade"] == grade
    rec = assessment(client, office, a.id)
    assert rec["status"] == status and rec["grade"] == grade and rec["filed_grade"] == "AAAA"
    assert rec["history"][-1]["from_status"] == "pending_confirmation"
    assert rec["history"][-1]["to_status"] == status and rec["history"][-1]["actor"] == sup.username
    # a decided audit is final
    again = decide(client, office, audit.id, sup, decision="confirmed")
    assert again.status_code == 409


def test_the_decision_is_validated_all_at_once(client, office):
    _, audit = file_aaa(office, grade="AAA")
    sup = office.user(audit.assignee_id)
    higher = decide(client, office, audit.id, sup, decision="grade_adjusted", grade="AAAA")
    errs = {e["field"]: e["message"] for e in higher.get_json()["errors"]}
    assert higher.status_code == 422 and "lower than the filed grade AAA" in errs["grade"] and "reason" in errs
    missing = decide(client, office, audit.id, sup, decision="grade_adjusted", reason="x y")
    assert missing.status_code == 422 and "grade" in {e["field"] for e in missing.get_json()["errors"]}
    stray = decide(client, office, audit.id, sup, decision="confirmed", grade="AA")
    assert stray.status_code == 422
    schema = client.post(f"/api/v1/confirmations/{audit.id}/decision", json={"decision": "maybe"},
                         headers=office.h(sup))
    assert schema.status_code == 422 and {e["field"] for e in schema.get_json()["errors"]} == {"decision", "version"}
    for reasonless in ("returned", "rejected"):
        assert decide(client, office, audit.id, sup, decision=reasonless).status_code == 422
    assert db.session.get(ConfirmationAudit, audit.id).status is AuditStatus.assigned


def test_only_the_assignee_decides(client, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    other = next(s for s in office.reg.supervisors if s.id != sup.id)
    version = read(client, office, audit.id, sup)["version"]
    for user in (other, office.admin):
        resp = client.post(f"/api/v1/confirmations/{audit.id}/decision",
                           json={"decision": "confirmed", "version": version}, headers=office.h(user))
        assert resp.status_code == 403
    clerk = client.post(f"/api/v1/confirmations/{audit.id}/decision", json={"decision": "confirmed",
                                                                              "version": version},
                        headers=office.reg.headers())
    assert clerk.status_code == 403
    assert client.get("/api/v1/confirmations", headers=office.reg.headers()).status_code == 403
    assert client.get("/api/v1/confirmations").status_code == 401


def test_a_stale_version_is_a_conflict(client, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    seen = read(client, office, audit.id, sup)["version"]
    added = client.post(f"/api/v1/confirmations/{audit.id}/findings", headers=office.h(sup),
                        json={"severity": "observation", "text": "记录编号不连续", "against": "body"})
    assert added.status_code == 201 and added.get_json()["version"] > seen
    stale = decide(client, office, audit.id, sup, decision="confirmed", version=seen)
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert "changed since you read it" in stale.get_json()["detail"]
    assert db.session.get(ConfirmationAudit, audit.id).status is AuditStatus.assigned
    assert decide(client, office, audit.id, sup, decision="confirmed").status_code == 200


def test_the_re_review_loop_goes_back_to_the_same_reviewer(client, office, login):
    a, audit = file_aaa(office, grade="AAA")
    sup = office.user(audit.assignee_id)
    client.post(f"/api/v1/confirmations/{audit.id}/findings", headers=office.h(sup),
                json={"severity": "minor", "text": "人日不足以覆盖全部能力", "against": "lead"})
    assert decide(client, office, audit.id, sup, decision="returned", reason="请补充人日说明").status_code == 200
    assert assessment(client, office, a.id)["status"] == "returned"
    amended = client.post(f"/api/v1/assessments/{a.id}/amendments", headers=office.reg.headers(),
                          json={"reason": "按审核意见增加人日", "person_days": 18})
    assert amended.status_code == 200, amended.get_json()
    rec = amended.get_json()
    assert rec["status"] == "pending_confirmation" and rec["confirmation"]["round"] == 2
    mine = client.get("/api/v1/confirmations?assignee=me&status=assigned", headers=office.h(sup)).get_json()
    (round2,) = mine["items"]
    assert round2["round"] == 2 and round2["assignee"]["id"] == sup.id and round2["assessment"]["id"] == a.id
    # the review page shows it as a re-review, with what changed and the previous round's findings
    login(sup)
    page = client.get(f"/confirmations/{round2['id']}?lang=en").get_data(as_text=True)
    assert 'id="rereview-badge"' in page and 'data-field="person_days"' in page
    assert "<del>16.0</del>" in page and "<ins>18.0</ins>" in page and "人日不足以覆盖全部能力" in page
    assert "按审核意见增加人日" in page
    assert decide(client, office, round2["id"], sup, decision="confirmed").status_code == 200
    assert assessment(client, office, a.id)["status"] == "standing"


def test_the_body_sees_the_state_and_once_decided_the_decision_and_findings(client, office):
    a, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    client.post(f"/api/v1/confirmations/{audit.id}/findings", headers=office.h(sup),
                json={"severity": "major", "text": "组员资格过期", "against": "member",
                      "person_id": office.reg.member.person_id})
    before = assessment(client, office, a.id)["confirmation"]
    assert before["status"] == "assigned" and before["reviewer"] is None
    assert before["findings"] == [] and before["decision"] is None
    decide(client, office, audit.id, sup, decision="rejected", reason="评定组成员资格无效")
    after = assessment(client, office, a.id)["confirmation"]
    assert after["decision"] == "rejected" and after["reason"] == "评定组成员资格无效"
    assert after["findings"] == [{"severity": "major", "text": "组员资格过期", "against": "member",
                                  "person_id": office.reg.member.person_id}]
    assert after["reviewer"] == sup.display_name
    # another body sees nothing
    assert client.get(f"/api/v1/assessments/{a.id}", headers=office.reg.headers(other=True)).status_code == 404


def test_findings_name_people_of_the_record(client, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)

    def add(**body):
        return client.post(f"/api/v1/confirmations/{audit.id}/findings", json=body, headers=office.h(sup))

    lead = add(severity="minor", text="组长未签字", against="lead")
    assert lead.status_code == 201 and lead.get_json()["findings"][0]["person_id"] == office.reg.senior.person_id
    consultant = add(severity="observation", text="咨询师参与现场", against="consultant",
                     person_id=office.reg.consultant.person_id)
    assert consultant.status_code == 201
    errs = add(severity="minor", text="非本组人员", against="member", person_id=office.reg.other_assessor.person_id)
    fields = {e["field"]: e["message"] for e in errs.get_json()["errors"]}
    assert errs.status_code == 422 and "not a member" in fields["person_id"]
    short = add(severity="minor", text="x", against="member")
    assert short.status_code == 422 and "text" in {e["field"] for e in short.get_json()["errors"]}
    assert add(severity="minor", text="机构问题", against="body", person_id="X-1").status_code == 422
    assert add(severity="fatal", text="机构问题", against="body").status_code == 422
    assert add(severity="minor", text="咨询问题", against="consultant").status_code == 422
    other = next(s for s in office.reg.supervisors if s.id != sup.id)
    assert client.post(f"/api/v1/confirmations/{audit.id}/findings", headers=office.h(other),
                       json={"severity": "minor", "text": "越权", "against": "body"}).status_code == 403


def test_every_action_is_in_the_event_log_and_the_timeline(client, office, login):
    a, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    login(sup)
    assert client.post(f"/confirmations/{audit.id}/declaration", data={"decl-conflict": "no"}).status_code == 303
    assert client.post(f"/confirmations/{audit.id}/checklist",
                       data={"cl-item_scope": "yes", "cl-item_evidence": "no"}).status_code == 303
    assert client.post(f"/confirmations/{audit.id}/findings",
                       data={"fd-severity": "minor", "fd-against": "body", "fd-text": "报告格式不规范"}).status_code == 303
    version = db.session.scalar(sa.select(ConfirmationAudit.version).where(ConfirmationAudit.id == audit.id))
    assert client.post(f"/confirmations/{audit.id}/decision",
                       data={"dc-decision": "grade_adjusted", "dc-grade": "AA", "dc-reason": "证据仅支持单元级",
                             "dc-version": version}).status_code == 303
    conf = db.session.scalars(sa.select(Event.action).where(Event.record_type == "confirmation",
                                                            Event.record_id == str(audit.id))
                              .order_by(Event.id)).all()
    assert conf == ["assigned", "declaration_signed", "checklist_saved", "finding_added", "decided"]
    rec = db.session.scalars(sa.select(Event.action).where(Event.record_type == "assessment",
                                                           Event.record_id == str(a.id)).order_by(Event.id)).all()
    assert rec == ["filed", "status_changed", "grade_adjusted", "status_changed"]
    actors = set(db.session.scalars(sa.select(Event.actor).where(Event.record_type == "confirmation",
                                                                 Event.action != "assigned")))
    assert actors == {sup.username}
    assert verify().ok
    page = client.get(f"/confirmations/{audit.id}?lang=en").get_data(as_text=True)
    timeline = page[page.index('id="timeline"'):]
    for action in conf + ["filed", "grade_adjusted", "status_changed"]:
        assert f'data-action="{action}"' in timeline, action
