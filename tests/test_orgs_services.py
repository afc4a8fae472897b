"""Registry services: qualification rules as filing uses them, upserts, status changes with history."""

from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from auditbo import clock, events
from auditbo.config import DEFAULTS
from auditbo.errors import IllegalTransition, ValidationFailed
from auditbo.events import Actor, Event
from auditbo.extensions import db
from auditbo.filings.models import Grade
from auditbo.orgs import services
from auditbo.orgs.models import Organisation, RegistryStatus
from tests.factories import ConsultingFactory, OrgFactory, PersonFactory

ADMIN = Actor(1, "admin")
CFG = {"LEAD_QUALIFICATION_MAX_LEVEL": DEFAULTS["LEAD_QUALIFICATION_MAX_LEVEL"]}


def _p(qualification="lead", status="active", valid_until=date(2027, 6, 30)):
    """Filing passes light rows (strings), not ORM objects: the rules accept both."""
    return SimpleNamespace(qualification=qualification, status=status, valid_until=valid_until)


# --------------------------------------------------------------------------- qualification rules
@pytest.mark.parametrize(("qualification", "grade", "may"), [
    ("lead", Grade.A, True), ("lead", Grade.AA, True), ("lead", Grade.AAA, False), ("lead", Grade.AAAAA, False),
    ("senior_lead", Grade.AAA, True), ("senior_lead", Grade.AAAAA, True),
    ("assessor", Grade.A, False), ("consultant", Grade.A, False),
])
def test_lead_may_lead_by_default_rule(qualification, grade, may):
    assert services.lead_may_lead(_p(qualification), grade, CFG) is may
    assert services.lead_may_lead(_p(qualification), grade.level, CFG) is may


def test_lead_rule_is_configurable():
    cfg = {"LEAD_QUALIFICATION_MAX_LEVEL": {"lead": 3, "senior_lead": 5}}
    assert services.lead_may_lead(_p("lead"), Grade.AAA, cfg)
    assert not services.lead_may_lead(_p("lead"), Grade.AAAA, cfg)


def test_person_is_usable_through_the_last_valid_day_only():
    p = _p(valid_until=date(2026, 6, 30))
    assert services.person_is_usable(p, date(2026, 6, 30))
    assert not services.person_is_usable(p, date(2026, 7, 1))
    assert services.person_is_usable(_p(valid_until=None), date(2099, 1, 1))


@pytest.mark.parametrize("status", ["suspended", "revoked"])
def test_suspended_or_revoked_person_is_not_usable(status):
    assert not services.person_is_usable(_p(status=status), date(2026, 1, 1))
    assert services.person_problems(_p(status=status), date(2026, 1, 1)) == [f"is {status} in the registry"]


def test_person_problems_name_every_reason():
    p = _p("lead", "suspended", date(2025, 1, 1))
    assert services.person_problems(p, date(2026, 1, 1), grade_level=Grade.AAA, config=CFG) == [
        "is suspended in the registry", "qualification expired on 2025-01-01", "a lead may not lead grade AAA",
    ]


def test_rules_work_on_orm_persons(app):
    person = PersonFactory(qualification="senior_lead", valid_until=date(2030, 1, 1))
    assert services.lead_may_lead(person, Grade.AAAAA, app.config)
    assert services.person_is_usable(person, date(2026, 1, 1))


# --------------------------------------------------------------------------- upserts
def _org_row(**kw):
    from auditbo.codes import make_credit_code

    row = {"credit_code": make_credit_code("440106", "MA5000001"), "name": "广州示例评定有限公司",
           "kind": "assessment_body", "region_code": "440106", "status": "active"}
    row.update(kw)
    return row


def test_upsert_org_creates_then_updates_with_events(app):
    created = services.upsert_org(_org_row(contact="020-1"), actor=ADMIN)
    assert created.outcome == "created"
    org = created.obj
    again = services.upsert_org(_org_row(), actor=ADMIN)
    assert again.outcome == "unchanged" and again.obj.id == org.id
    assert org.contact == "020-1"  # an absent optional column leaves the stored value alone
    changed = services.upsert_org(_org_row(name="广州新名评定有限公司"), actor=ADMIN)
    assert changed.outcome == "updated" and org.name == "广州新名评定有限公司"
    timeline = services.history(org)
    assert [e.action for e in timeline] == ["created", "updated"]
    assert timeline[1].before == {"name": "广州示例评定有限公司"}
    assert timeline[1].after == {"name": "广州新名评定有限公司"}
    assert timeline[1].actor == "admin"


def test_upsert_org_collects_every_error(app):
    with pytest.raises(ValidationFailed) as exc:
        services.upsert_org({"credit_code": "91350100M000100Y44", "name": "", "kind": "bank",
                             "region_code": "990000", "status": "dormant"}, actor=ADMIN)
    fields = {e.field: e.message for e in exc.value.errors}
    assert fields["credit_code"] == "check character is 4, expected 3"
    assert set(fields) == {"credit_code", "name", "kind", "region_code", "status"}


def test_kind_of_a_body_never_changes(app):
    org = OrgFactory()
    with pytest.raises(ValidationFailed) as exc:
        services.upsert_org(_org_row(credit_code=org.credit_code, kind="consulting_body"), actor=ADMIN)
    assert exc.value.errors[0].message == "cannot change: registered as assessment_body"


def test_person_must_work_for_a_registered_body_of_the_right_kind(app):
    cons = ConsultingFactory()
    row = {"person_id": "A-9", "name": "王伟", "kind": "assessor", "org_credit_code": cons.credit_code,
           "qualification": "consultant", "valid_until": "2027-12-31"}
    with pytest.raises(ValidationFailed) as exc:
        services.upsert_person(row, actor=ADMIN)
    messages = {e.field: e.message for e in exc.value.errors}
    assert "assessor holds one of assessor, lead, senior_lead" in messages["qualification"]
    assert messages["org_credit_code"] == "an assessor works for an assessment_body, not a consulting_body"


def test_identity_number_is_stored_only_as_a_keyed_hash(app):
    org = OrgFactory()
    id_number = "11010519491231002X"
    result = services.upsert_person({"person_id": "A-77", "name": "李敏", "kind": "assessor",
                                     "org_credit_code": org.credit_code, "qualification": "lead",
                                     "valid_until": "2028-01-31", "id_number": id_number}, actor=ADMIN)
    person = result.obj
    assert person.id_number_hash and len(person.id_number_hash) == 64
    assert id_number not in person.id_number_hash
    import hashlib

    assert person.id_number_hash != hashlib.sha256(id_number.encode()).hexdigest()  # keyed, not bare
    logged = db.session.scalars(sa.select(Event).where(Event.record_type == "person")).all()
    assert all(id_number not in repr((e.before, e.after)) and person.id_number_hash not in repr(e.after)
               for e in logged)
    with pytest.raises(ValidationFailed) as exc:
        services.upsert_person({"person_id": "A-78", "name": "李敏", "kind": "assessor",
                                "org_credit_code": org.credit_code, "qualification": "lead",
                                "valid_until": "2028-01-31", "id_number": "110105194912310021"}, actor=ADMIN)
    assert exc.value.errors[0].field == "id_number"


# --------------------------------------------------------------------------- status changes
def test_suspend_and_reinstate_a_body_with_reasons_dates_and_events(app):
    org = OrgFactory()
    services.change_status(org, "suspended", "spot check found major nonconformities", actor=ADMIN,
                           on=date(2026, 5, 4))
    assert org.status is RegistryStatus.suspended
    assert org.status_reason == "spot check found major nonconformities"
    assert org.status_changed_on == date(2026, 5, 4)
    services.change_status(org, "active", "corrective actions verified", actor=ADMIN, on=date(2026, 8, 1))
    timeline = services.history(org)
    assert [(e.action, e.after["status"], e.reason) for e in timeline] == [
        ("status_changed", "suspended", "spot check found major nonconformities"),
        ("status_changed", "active", "corrective actions verified"),
    ]
    assert timeline[0].before["status"] == "active" and timeline[0].after["status_changed_on"] == "2026-05-04"
    assert events.verify().ok


def test_status_change_needs_a_reason(app):
    org = OrgFactory()
    with pytest.raises(ValidationFailed):
        services.change_status(org, "suspended", "  ", actor=ADMIN)
    assert org.status is RegistryStatus.active
    assert services.history(org) == []


def test_revoked_is_final_and_same_status_is_refused(app):
    person = PersonFactory()
    services.change_status(person, "revoked", "forged certificates", actor=ADMIN)
    for target in ("active", "suspended", "revoked"):
        with pytest.raises(IllegalTransition):
            services.change_status(person, target, "try again", actor=ADMIN)
    assert services.allowed_statuses(person) == []
    assert services.status_since(person) == clock.today()
    active = OrgFactory()
    with pytest.raises(IllegalTransition):
        services.change_status(active, "active", "already", actor=ADMIN)


def test_staff_decisions_list_the_status_changes_of_a_bodys_staff(app):
    org = OrgFactory()
    other = OrgFactory()
    mine = PersonFactory(org=org)
    PersonFactory(org=other)
    services.change_status(mine, "suspended", "qualification under review", actor=ADMIN)
    decisions = services.staff_decisions(org)
    assert [(ev.reason, pid) for ev, pid, _name in decisions] == [("qualification under review", mine.person_id)]
    assert services.staff_decisions(other) == []


def test_status_set_by_upsert_goes_through_the_same_transitions(app):
    org = OrgFactory()
    services.change_status(org, "revoked", "fraud", actor=ADMIN)
    with pytest.raises(ValidationFailed) as exc:
        services.upsert_org(_org_row(credit_code=org.credit_code, status="active"), actor=ADMIN)
    assert exc.value.errors[0].message == "cannot move from revoked to active"
    assert db.session.get(Organisation, org.id).status is RegistryStatus.revoked
