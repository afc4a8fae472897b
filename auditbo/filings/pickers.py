"""What the filing form offers to pick from: the registry as the filing body may use it.

The service still checks everything (a picker is a help, not a rule): the body's active
assessors with their qualifications, the capability names in use, the active consulting
bodies and their consultants, region codes (provinces) and industry sections with names.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import g

from auditbo.clock import today
from auditbo.codes import INDUSTRY_SECTIONS, PROVINCES
from auditbo.extensions import db
from auditbo.filings.models import Capability
from auditbo.orgs.forms import QUALIFICATION_TITLES
from auditbo.orgs.models import Organisation, OrgKind, Person, PersonKind, RegistryStatus

# the capability names of GB/T 23001's guidance most filings use; names filed before are offered too
STANDARD_CAPABILITIES = [
    "智能生产与现场作业管控能力", "数字化研发设计能力", "供应链协同管理能力", "产品全生命周期管理能力",
    "精准营销与客户服务能力", "数据驱动的决策能力", "安全生产数字化管控能力", "能源与环保智能管控能力",
    "财务一体化管控能力", "人力资源数字化管理能力",
]
MAX_USED_NAMES = 40


def _zh() -> bool:
    return g.get("lang", "zh_Hans_CN").startswith("zh")


def _valid(model=Person):
    return sa.and_(model.status == RegistryStatus.active,
                   sa.or_(model.valid_until.is_(None), model.valid_until >= today()))


def for_body(body: Organisation) -> dict:
    """The form's datalists: {name: [(value, label), ...]}."""
    assessors = db.session.execute(
        sa.select(Person.person_id, Person.name, Person.qualification)
        .where(Person.org_id == body.id, Person.kind == PersonKind.assessor, _valid())
        .order_by(Person.person_id)).all()
    consulting = db.session.execute(
        sa.select(Organisation.id, Organisation.credit_code, Organisation.name)
        .where(Organisation.kind == OrgKind.consulting_body, Organisation.status == RegistryStatus.active)
        .order_by(Organisation.name)).all()
    names = {o.id: o.name for o in consulting}
    consultants = db.session.execute(
        sa.select(Person.person_id, Person.name, Person.org_id)
        .where(Person.kind == PersonKind.consultant, Person.org_id.in_(names), _valid())
        .order_by(Person.person_id)).all()
    used = db.session.scalars(
        sa.select(Capability.name).group_by(Capability.name).order_by(sa.func.count().desc(), Capability.name)
        .limit(MAX_USED_NAMES)).all()
    zh = _zh()
    return {
        "assessors": [(p.person_id, f"{p.name} · {QUALIFICATION_TITLES.get(p.qualification.value, p.qualification)}")
                      for p in assessors],
        "capability-names": [(n, "") for n in dict.fromkeys([*STANDARD_CAPABILITIES, *used])],
        "consulting-bodies": [(o.credit_code, o.name) for o in consulting],
        "consultants": [(p.person_id, f"{p.name} · {names[p.org_id]}") for p in consultants],
        "region-codes": [(f"{code}0000", zh_en[0] if zh else zh_en[1]) for code, zh_en in PROVINCES.items()],
        "industry-codes": [(letter, f"{s[2] if zh else s[3]} ({s[0]:02d}–{s[1]:02d})")
                           for letter, s in INDUSTRY_SECTIONS.items()],
    }
