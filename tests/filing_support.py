"""A small registry and a valid filing payload, shared by the filing tests."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta

from auditbo import clock
from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from auditbo.codes import make_credit_code
from auditbo.orgs.models import Person, PersonKind, Qualification
from tests.factories import ConsultingFactory, OrgFactory, PersonFactory, UserFactory

TODAY = clock.today()


@dataclass
class Registry:
    body: object
    other_body: object
    consulting: object
    clerk: object
    clerk_token: str
    other_clerk: object
    other_token: str
    supervisors: list
    senior: Person
    lead: Person
    member: Person
    consultant: Person
    other_assessor: Person

    def headers(self, other: bool = False) -> dict:
        return {"Authorization": f"Bearer {self.other_token if other else self.clerk_token}"}


def make_registry(n_supervisors: int = 3) -> Registry:
    body, other = OrgFactory(), OrgFactory()
    consulting = ConsultingFactory()
    clerk = UserFactory(role=Role.body_clerk, org=body)
    other_clerk = UserFactory(role=Role.body_clerk, org=other)
    sups = [UserFactory(role=Role.supervisor) for _ in range(n_supervisors)]
    senior = PersonFactory(org=body, qualification=Qualification.senior_lead)
    lead = PersonFactory(org=body, qualification=Qualification.lead)
    member = PersonFactory(org=body, qualification=Qualification.assessor)
    consultant = PersonFactory(org=consulting, kind=PersonKind.consultant, qualification=Qualification.consultant)
    other_assessor = PersonFactory(org=other, qualification=Qualification.senior_lead)
    return Registry(body, other, consulting, clerk, create_token(clerk, "t")[1], other_clerk,
                    create_token(other_clerk, "t")[1], sups, senior, lead, member, consultant, other_assessor)


_N = {"n": 0}


def payload(reg: Registry, *, grade: str = "AAA", **over) -> dict:
    _N["n"] += 1
    n = _N["n"]
    decided = TODAY - timedelta(days=10)
    level = len(grade)
    lead = reg.senior if level >= 3 else reg.lead
    p = {
        "external_ref": f"PJ-T-{n:05d}",
        "assessment_type": "initial",
        "enterprise": {"name": f"示例机械{n}股份有限公司", "credit_code": make_credit_code("350102", f"X{n:08d}"),
                       "region_code": "350102", "industry_code": "C34", "size": "large", "employees": 2300},
        "grade": grade,
        "capabilities": [{"name": "智能生产与现场作业管控能力", "level": f"CL{level}"}],
        "consulting_body": {"credit_code": reg.consulting.credit_code, "consultant_ids": [reg.consultant.person_id]},
        "team": [{"person_id": lead.person_id, "role": "lead"}, {"person_id": reg.member.person_id, "role": "member"}],
        "person_days": 16.0,
        "onsite_start": (decided - timedelta(days=20)).isoformat(),
        "onsite_end": (decided - timedelta(days=17)).isoformat(),
        "decision_date": decided.isoformat(),
        "certificate_no": f"IIMS-T-{grade}-{n:06d}",
    }
    p.update(copy.deepcopy(over))
    return p
