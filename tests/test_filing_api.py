"""Filing through the API: every rule with a passing and a failing case, idempotency,
conflicts, amendments, withdrawal, per-body isolation and the public certificate lookup."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from auditbo.confirmations.models import ConfirmationAudit
from auditbo.events import Event, verify
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.filings.rules import default_valid_until
from auditbo.orgs.models import RegistryStatus
from tests.filing_support import TODAY, make_registry, payload


@pytest.fixture
def reg(app):
    return make_registry()


def post(client, reg, body, other=False):
    return client.post("/api/v1/assessments", json=body, headers=reg.headers(other))


def errors_of(resp) -> dict:
    assert resp.status_code == 422, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    return {e["field"]: e["message"] for e in resp.get_json()["errors"]}


def test_aa_filing_goes_standing(client, reg):
    resp = post(client, reg, payload(reg, grade="AA", person_days=16))
    assert resp.status_code == 201, resp.get_json()
    rec = resp.get_json()
    assert rec["status"] == "standing" and rec["grade"] == "AA" and rec["confirmation"] is None
    assert [h["to_status"] for h in rec["history"]] == ["filed", "standing"]
    assert resp.headers["Location"].endswith(f"/api/v1/assessments/{rec['id']}")
    assert rec["valid_until"] == default_valid_until(TODAY - timedelta(days=10), 3).isoformat()


def test_aaa_filing_waits_for_confirmation_with_an_assigned_reviewer(client, reg):
    rec = post(client, reg, payload(reg, grade="AAA")).get_json()
    assert rec["status"] == "pending_confirmation"
    conf = rec["confirmation"]
    assert conf["status"] == "assigned" and conf["round"] == 1 and conf["reviewer"] is None  # hidden from bodies
    audit = db.session.get(ConfirmationAudit, conf["id"])
    assert audit.assignee_id in {s.id for s in reg.supervisors}
    assert audit.draw_seed is not None


def test_every_bad_field_is_named_at_once(client, reg):
    bad = payload(reg, grade="AAAA", person_days=1, onsite_start="2026-13-01")
    bad["enterprise"]["credit_code"] = bad["enterprise"]["credit_code"][:-1] + "0" if not bad["enterprise"][
        "credit_code"].endswith("0") else bad["enterprise"]["credit_code"][:-1] + "1"
    bad["enterprise"]["region_code"] = "990000"
    bad["enterprise"]["industry_code"] = "A06"
    bad["team"][1]["person_id"] = "NOBODY"
    bad["capabilities"] = [{"name": "x", "level": "CL3"}]
    errs = errors_of(post(client, reg, bad))
    for field in ["enterprise.credit_code", "enterprise.region_code", "enterprise.industry_code",
                  "team[1].person_id", "onsite_start", "person_days"]:
        assert field in errs, (field, errs)


def test_check_character(client, reg):
    p = payload(reg)
    code = p["enterprise"]["credit_code"]
    p["enterprise"]["credit_code"] = code[:17] + ("0" if code[17] != "0" else "1")
    assert "check character" in errors_of(post(client, reg, p))["enterprise.credit_code"]


def test_size_band_must_match_employees(client, reg):
    p = payload(reg, grade="AA")
    p["enterprise"]["size"] = "small"
    assert "employees" in errors_of(post(client, reg, p))["enterprise.employees"]


@pytest.mark.parametrize("levels,ok", [(["CL3"], True), (["CL3", "CL1"], True), (["CL2"], False), (["CL4", "CL3"],
                                                                                                     False)])
def test_highest_capability_equals_the_grade(client, reg, levels, ok):
    p = payload(reg, grade="AAA", capabilities=[{"name": f"能力{i}", "level": lv} for i, lv in enumerate(levels)])
    resp = post(client, reg, p)
    if ok:
        assert resp.status_code == 201, resp.get_json()
    else:
        assert "capabilities" in errors_of(resp)


def test_team_needs_exactly_one_lead(client, reg):
    p = payload(reg, team=[{"person_id": reg.senior.person_id, "role": "member"},
                           {"person_id": reg.member.person_id, "role": "member"}])
    assert "exactly one lead" in errors_of(post(client, reg, p))["team"]


def test_lead_must_be_qualified_for_the_grade(client, reg):
    ok = payload(reg, grade="AA", team=[{"person_id": reg.lead.person_id, "role": "lead"}])
    assert post(client, reg, ok).status_code == 201
    bad = payload(reg, grade="AAA", team=[{"person_id": reg.lead.person_id, "role": "lead"}])
    assert "may not lead" in errors_of(post(client, reg, bad))["team[0].person_id"]


def test_team_members_must_be_the_bodys_own_active_assessors(client, reg):
    p = payload(reg, team=[{"person_id": reg.senior.person_id, "role": "lead"},
                           {"person_id": reg.other_assessor.person_id, "role": "member"},
                           {"person_id": reg.consultant.person_id, "role": "member"}])
    errs = errors_of(post(client, reg, p))
    assert "not an assessor of the filing body" in errs["team[1].person_id"]
    assert "not a registered assessor" in errs["team[2].person_id"]
    reg.member.status = RegistryStatus.suspended
    db.session.flush()
    assert "suspended" in errors_of(post(client, reg, payload(reg)))["team[1].person_id"]


def test_person_days_minimum_reduction_and_rejection(client, reg):
    # 2,300 employees: minimum 16 for an initial assessment
    assert post(client, reg, payload(reg, person_days=16)).status_code == 201
    no_reason = errors_of(post(client, reg, payload(reg, person_days=13)))
    assert "justification" in no_reason["reduction_reason"]
    reduced = post(client, reg, payload(reg, person_days=12, reduction_reason="成熟体系"))
    assert reduced.status_code == 201 and reduced.get_json()["flags"]["reduced_person_days"] is True
    assert "below the minimum" in errors_of(post(client, reg, payload(reg, person_days=11)))["person_days"]
    # a surveillance needs a third: 16/3 = 5.33
    surv = post(client, reg, payload(reg, person_days=5.5, assessment_type="surveillance"))
    assert surv.status_code == 201 and surv.get_json()["person_days_min"] == pytest.approx(5.33, abs=0.01)


def test_date_order_and_future(client, reg):
    future = (TODAY + timedelta(days=1)).isoformat()
    errs = errors_of(post(client, reg, payload(reg, decision_date=future)))
    assert "future" in errs["decision_date"]
    p = payload(reg)
    p["onsite_end"], p["onsite_start"] = p["onsite_start"], p["onsite_end"]
    assert "onsite_end" in errors_of(post(client, reg, p))


def test_late_filing_is_accepted_and_flagged(client, reg):
    decided = TODAY - timedelta(days=45)
    p = payload(reg, decision_date=decided.isoformat(), onsite_end=(decided - timedelta(days=3)).isoformat(),
                onsite_start=(decided - timedelta(days=6)).isoformat())
    resp = post(client, reg, p)
    assert resp.status_code == 201 and resp.get_json()["flags"]["late"] is True
    assert post(client, reg, payload(reg)).get_json()["flags"]["late"] is False


def test_grade_jump_is_flagged(client, reg):
    first = payload(reg, grade="A", team=[{"person_id": reg.lead.person_id, "role": "lead"}], person_days=16)
    assert post(client, reg, first).status_code == 201
    jump = payload(reg, grade="AAA", assessment_type="upgrade", enterprise=first["enterprise"])
    assert post(client, reg, jump).get_json()["flags"]["grade_jump"] is True
    step = payload(reg, grade="AA", assessment_type="upgrade", enterprise=first["enterprise"],
                   team=[{"person_id": reg.lead.person_id, "role": "lead"}])
    assert post(client, reg, step).get_json()["flags"]["grade_jump"] is False


def test_certificate_number_is_unique(client, reg):
    p = payload(reg)
    assert post(client, reg, p).status_code == 201
    again = payload(reg, certificate_no=p["certificate_no"])
    assert "already used" in errors_of(post(client, reg, again))["certificate_no"]


def test_consulting_body_must_be_registered(client, reg):
    p = payload(reg, consulting_body={"credit_code": reg.other_body.credit_code, "consultant_ids": []})
    assert "not a registered consulting body" in errors_of(post(client, reg, p))["consulting_body.credit_code"]
    p = payload(reg, consulting_body={"credit_code": reg.consulting.credit_code, "consultant_ids": ["C-NONE"]})
    assert "consulting_body.consultant_ids[0]" in errors_of(post(client, reg, p))
    assert post(client, reg, payload(reg, consulting_body=None)).status_code == 201


def test_same_person_on_both_sides_is_a_tie(client, reg):
    reg.member.id_number_hash = reg.consultant.id_number_hash = "f" * 64
    db.session.flush()
    assert post(client, reg, payload(reg)).get_json()["flags"]["tie"] is True
    reg.consultant.id_number_hash = "e" * 64
    db.session.flush()
    assert post(client, reg, payload(reg)).get_json()["flags"]["tie"] is False


def test_idempotent_refiling_and_conflict(client, reg):
    p = payload(reg)
    first = post(client, reg, p)
    assert first.status_code == 201
    again = post(client, reg, p)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assessment)) == 1
    changed = dict(p, person_days=17)
    conflict = post(client, reg, changed)
    assert conflict.status_code == 409 and conflict.mimetype == "application/problem+json"


def test_the_same_external_ref_is_free_for_another_body(client, reg):
    p = payload(reg)
    assert post(client, reg, p).status_code == 201
    other = dict(p, team=[{"person_id": reg.other_assessor.person_id, "role": "lead"}],
                 certificate_no=p["certificate_no"] + "-B")
    assert post(client, reg, other, other=True).status_code == 201


def test_bad_requests_are_clear(client, reg):
    assert client.post("/api/v1/assessments", data="x", headers=reg.headers()).status_code == 415
    bad_json = client.post("/api/v1/assessments", data="{", headers={**reg.headers(),
                                                                        "Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.mimetype == "application/problem+json"
    assert errors_of(client.post("/api/v1/assessments", json=[1], headers=reg.headers()))
    assert client.post("/api/v1/assessments", json=payload(reg)).status_code == 401


def test_only_clerks_file(client, reg):
    from auditbo.accounts.services import create_token

    _, sup_token = create_token(reg.supervisors[0], "t")
    resp = client.post("/api/v1/assessments", json=payload(reg), headers={"Authorization": f"Bearer {sup_token}"})
    assert resp.status_code == 403


def test_another_bodys_record_is_404_everywhere(client, reg):
    rec = post(client, reg, payload(reg)).get_json()
    rid = rec["id"]
    h = reg.headers(other=True)
    assert client.get(f"/api/v1/assessments/{rid}", headers=h).status_code == 404
    assert client.post(f"/api/v1/assessments/{rid}/withdrawal", json={"reason": "x y"}, headers=h).status_code == 404
    assert client.post(f"/api/v1/assessments/{rid}/amendments", json={"reason": "x y", "person_days": 20},
                       headers=h).status_code == 404
    listed = client.get("/api/v1/assessments", headers=h).get_json()
    assert listed["total"] == 0 and listed["items"] == []
    own = client.get("/api/v1/assessments", headers=reg.headers()).get_json()
    assert own["total"] == 1 and own["items"][0]["id"] == rid


def test_list_filters_and_paging(client, reg):
    for grade in ["A", "AA", "AA", "AAA"]:
        lead = reg.lead if len(grade) < 3 else reg.senior
        assert post(client, reg, payload(reg, grade=grade, team=[{"person_id": lead.person_id, "role": "lead"}])
                    ).status_code == 201
    h = reg.headers()
    assert client.get("/api/v1/assessments?grade=AA", headers=h).get_json()["total"] == 2
    assert client.get("/api/v1/assessments?status=pending_confirmation", headers=h).get_json()["total"] == 1
    page = client.get("/api/v1/assessments?per_page=3&page=2", headers=h).get_json()
    assert page["total"] == 4 and len(page["items"]) == 1 and page["page"] == 2
    bad = client.get("/api/v1/assessments?per_page=501", headers=h)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "per_page"
    assert client.get("/api/v1/assessments?grade=Z", headers=h).status_code == 422


def test_withdrawal(client, reg):
    rec = post(client, reg, payload(reg)).get_json()
    resp = client.post(f"/api/v1/assessments/{rec['id']}/withdrawal", json={"reason": "误报"}, headers=reg.headers())
    assert resp.status_code == 200 and resp.get_json()["status"] == "withdrawn"
    assert resp.get_json()["confirmation"]["status"] == "cancelled"
    standing = post(client, reg, payload(reg, grade="AA", team=[{"person_id": reg.lead.person_id,
                                                                  "role": "lead"}])).get_json()
    refused = client.post(f"/api/v1/assessments/{standing['id']}/withdrawal", json={"reason": "x y"},
                          headers=reg.headers())
    assert refused.status_code == 409
    no_reason = client.post(f"/api/v1/assessments/{rec['id']}/withdrawal", json={}, headers=reg.headers())
    assert no_reason.status_code in (409, 422)


def test_amendment_only_when_returned(client, reg):
    rec = post(client, reg, payload(reg)).get_json()
    resp = client.post(f"/api/v1/assessments/{rec['id']}/amendments", json={"reason": "补充", "person_days": 18},
                       headers=reg.headers())
    assert resp.status_code == 409  # pending confirmation: under review


def test_every_filing_step_is_in_the_event_log(client, reg):
    rec = post(client, reg, payload(reg)).get_json()
    actions = db.session.scalars(sa.select(Event.action).where(Event.record_type == "assessment",
                                                               Event.record_id == str(rec["id"]))).all()
    assert actions == ["filed", "status_changed"]
    assert db.session.scalar(sa.select(Event.actor).where(Event.action == "filed")) == reg.clerk.username
    assert verify().ok


def test_public_certificate_lookup_shows_only_public_fields(client, reg):
    rec = post(client, reg, payload(reg, grade="AA", team=[{"person_id": reg.lead.person_id, "role": "lead"}])
               ).get_json()
    resp = client.get(f"/api/v1/certificates/{rec['certificate_no']}")
    assert resp.status_code == 200
    assert set(resp.get_json()) == {"certificate_no", "enterprise_name", "grade", "status", "valid_until"}
    pending = post(client, reg, payload(reg)).get_json()
    assert client.get(f"/api/v1/certificates/{pending['certificate_no']}").status_code == 404
    assert client.get("/api/v1/certificates/NOPE").status_code == 404


def test_missing_and_empty_fields_say_required(client, reg):
    p = payload(reg, external_ref="", onsite_start=None)
    del p["certificate_no"]
    errs = errors_of(post(client, reg, p))
    assert errs["external_ref"] == errs["onsite_start"] == errs["certificate_no"] == "is required"


def test_an_expired_qualification_is_refused(client, reg):
    reg.member.valid_until = TODAY - timedelta(days=30)  # before the decision date (today - 10 days)
    db.session.flush()
    assert "qualification expired on" in errors_of(post(client, reg, payload(reg)))["team[1].person_id"]
    reg.member.valid_until = TODAY - timedelta(days=5)  # still valid on the decision date
    db.session.flush()
    assert post(client, reg, payload(reg)).status_code == 201


def test_nul_characters_are_refused_not_500(client, reg):
    p = payload(reg)
    p["enterprise"]["name"] = "示例\x00机械"
    resp = post(client, reg, p)
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [{"field": "enterprise.name", "message": "must not contain NUL characters"}]
    assert client.get("/api/v1/certificates/IIMS%00X").status_code == 400
    assert client.get("/api/v1/assessments?external_ref=a%00b", headers=reg.headers()).status_code == 400
