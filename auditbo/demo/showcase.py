"""The demo's showcase record: the certificate the README, the lookup page and the import template name.

After the generated history, the first assessment body's clerk files one AAA assessment
through the filing service (the same rules as the form and the API), the drawn reviewer
signs the declaration and confirms it through the confirmation service, so that
``IIMS-2026-AAA-000113`` is a standing certificate anyone can look up on the demo.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from auditbo.events import Actor
from auditbo.extensions import db

CERTIFICATE_NO = "IIMS-2026-AAA-000113"
EXTERNAL_REF = "PJ-2026-0113"
DECISION_DATE = date(2026, 10, 9)
ENTERPRISE = {"name": "示例机械股份有限公司", "credit_code": "91350100M000100Y43", "region_code": "350100",
              "industry_code": "C34", "size": "large", "employees": 2300}
CAPABILITY = "智能生产与现场作业管控能力"


def showcase_payload(lead_id: str, member_id: str, consulting_code: str, consultant_id: str) -> dict:
    return {
        "external_ref": EXTERNAL_REF, "assessment_type": "initial", "enterprise": dict(ENTERPRISE), "grade": "AAA",
        "capabilities": [{"name": CAPABILITY, "level": "CL3"}],
        "consulting_body": {"credit_code": consulting_code, "consultant_ids": [consultant_id]},
        "team": [{"person_id": lead_id, "role": "lead"}, {"person_id": member_id, "role": "member"}],
        "person_days": 16.0, "onsite_start": "2026-09-14", "onsite_end": "2026-09-17",
        "decision_date": DECISION_DATE.isoformat(), "certificate_no": CERTIFICATE_NO,
    }


def file_showcase(today: date) -> int | None:
    """File and confirm the showcase record; None when the demo's day is before its decision date."""
    from auditbo.accounts.models import User
    from auditbo.confirmations import services as confirmations
    from auditbo.filings.models import Assessment
    from auditbo.filings.services import file_assessment
    from auditbo.orgs.models import Organisation, OrgKind, Person, PersonKind, Qualification, RegistryStatus

    if today < DECISION_DATE or db.session.scalar(
            sa.select(Assessment.id).where(Assessment.certificate_no == CERTIFICATE_NO)):
        return None
    clerk = db.session.scalar(sa.select(User).where(User.username == "clerk01"))
    body = db.session.get(Organisation, clerk.org_id)

    def active(*where):
        return db.session.scalars(sa.select(Person).where(
            Person.status == RegistryStatus.active, sa.or_(Person.valid_until.is_(None), Person.valid_until > today),
            *where).order_by(Person.id)).all()

    lead = active(Person.org_id == body.id, Person.qualification == Qualification.senior_lead)[0]
    member = next(p for p in active(Person.org_id == body.id, Person.kind == PersonKind.assessor) if p.id != lead.id)
    consultant = active(Person.kind == PersonKind.consultant, Person.org_id.in_(
        sa.select(Organisation.id).where(Organisation.kind == OrgKind.consulting_body,
                                         Organisation.status == RegistryStatus.active)))[0]
    consulting = db.session.get(Organisation, consultant.org_id)
    result = file_assessment(body, showcase_payload(lead.person_id, member.person_id, consulting.credit_code,
                                                    consultant.person_id), actor=Actor.of_api(clerk))
    audit = confirmations.latest_audit(result.assessment_id)
    if audit is not None and audit.assignee_id is not None:
        reviewer = Actor.of_api(db.session.get(User, audit.assignee_id))
        confirmations.declare(audit, reviewer)
        confirmations.decide(audit, "confirmed", None, None, audit.version, reviewer)
    return result.assessment_id
