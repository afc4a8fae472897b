"""Read-side queries of the registry pages: filtered lists and the enterprise history.

Each list is one SELECT (plus the pagination count); counts are aggregated in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentStatus
from auditbo.inputs import int_arg
from auditbo.orgs.models import (
    Enterprise,
    Organisation,
    OrgKind,
    Person,
    PersonKind,
    Qualification,
    RegistryStatus,
)

PER_PAGE = 50


@dataclass(frozen=True)
class Filters:
    q: str = ""
    kind: str = ""
    province: str = ""
    status: str = ""
    qualification: str = ""
    org: int | None = None
    sort: str = ""  # a column key of the list's *_SORTS, "-" first for descending

    @classmethod
    def from_args(cls, args) -> Filters:
        def pick(name, allowed):
            v = (args.get(name) or "").strip()
            return v if v in allowed else ""

        org = int_arg("org", args=args)
        return cls(
            q=(args.get("q") or "").strip()[:100],
            kind=pick("kind", {m.value for m in OrgKind} | {m.value for m in PersonKind}),
            province=pick("province", _provinces()),
            status=pick("status", {m.value for m in RegistryStatus}),
            qualification=pick("qualification", {m.value for m in Qualification}),
            org=org,
            sort=pick("sort", SORT_KEYS),
        )

    def args(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def _provinces() -> set[str]:
    from auditbo.codes import PROVINCES

    return set(PROVINCES)


ORG_SORTS = {"name": Organisation.name, "credit_code": Organisation.credit_code, "kind": Organisation.kind,
             "region_code": Organisation.region_code, "status": Organisation.status,
             "staff": sa.literal_column("staff")}
PERSON_SORTS = {"person_id": Person.person_id, "name": Person.name, "qualification": Person.qualification,
                "valid_until": Person.valid_until, "status": Person.status}
ENTERPRISE_SORTS = {"name": Enterprise.name, "credit_code": Enterprise.credit_code,
                    "region_code": Enterprise.region_code, "level": None, "certificates": None, "last": None}
SORT_KEYS = {p + k for k in (*ORG_SORTS, *PERSON_SORTS, *ENTERPRISE_SORTS) for p in ("", "-")}


def _sorted(stmt: sa.Select, sort: str, columns: dict, tiebreak) -> sa.Select:
    """The list in the order its header asked for (ties by id), or as it was."""
    col = columns.get(sort.lstrip("-"))
    if col is None:
        return stmt
    return stmt.order_by(None).order_by(col.desc() if sort.startswith("-") else col.asc(), tiebreak)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def orgs_select(f: Filters) -> sa.Select:
    staff = (
        sa.select(Person.org_id, sa.func.count().label("n"))
        .group_by(Person.org_id)
        .subquery()
    )
    stmt = (
        sa.select(Organisation, sa.func.coalesce(staff.c.n, 0).label("staff"))
        .outerjoin(staff, staff.c.org_id == Organisation.id)
        .order_by(Organisation.name, Organisation.id)
    )
    if f.q:
        stmt = stmt.where(sa.or_(Organisation.name.ilike(_like(f.q), escape="\\"),
                                 Organisation.credit_code == f.q.upper()))
    if f.kind in {m.value for m in OrgKind}:
        stmt = stmt.where(Organisation.kind == OrgKind(f.kind))
    if f.province:
        stmt = stmt.where(Organisation.region_code.startswith(f.province))
    if f.status:
        stmt = stmt.where(Organisation.status == RegistryStatus(f.status))
    return _sorted(stmt, f.sort, ORG_SORTS, Organisation.id)


def persons_select(f: Filters) -> sa.Select:
    stmt = sa.select(Person).order_by(Person.person_id)  # Person.org is joined eagerly
    if f.q:
        stmt = stmt.where(sa.or_(Person.name.ilike(_like(f.q), escape="\\"), Person.person_id == f.q))
    if f.kind in {m.value for m in PersonKind}:
        stmt = stmt.where(Person.kind == PersonKind(f.kind))
    if f.qualification:
        stmt = stmt.where(Person.qualification == Qualification(f.qualification))
    if f.status:
        stmt = stmt.where(Person.status == RegistryStatus(f.status))
    if f.org:
        stmt = stmt.where(Person.org_id == f.org)
    return _sorted(stmt, f.sort, PERSON_SORTS, Person.id)


def staff_of(org: Organisation) -> list[Person]:
    return list(db.session.scalars(sa.select(Person).where(Person.org_id == org.id).order_by(Person.person_id)))


def enterprises_select(f: Filters) -> sa.Select:
    standing = Assessment.status == AssessmentStatus.standing
    agg = (
        sa.select(
            Assessment.enterprise_id,
            sa.func.count().label("n"),
            sa.func.max(sa.case((standing, sa.func.length(Assessment.grade)), else_=None)).label("level"),
            sa.func.max(Assessment.decision_date).label("last"),
        )
        .group_by(Assessment.enterprise_id)
        .subquery()
    )
    stmt = (
        sa.select(Enterprise, sa.func.coalesce(agg.c.n, 0).label("certificates"), agg.c.level, agg.c.last)
        .outerjoin(agg, agg.c.enterprise_id == Enterprise.id)
        .order_by(Enterprise.name, Enterprise.id)
    )
    if f.q:
        stmt = stmt.where(sa.or_(Enterprise.name.ilike(_like(f.q), escape="\\"),
                                 Enterprise.credit_code == f.q.upper()))
    if f.province:
        stmt = stmt.where(Enterprise.region_code.startswith(f.province))
    aggregates = {"level": agg.c.level, "certificates": sa.func.coalesce(agg.c.n, 0), "last": agg.c.last}
    return _sorted(stmt, f.sort, {**ENTERPRISE_SORTS, **aggregates}, Enterprise.id)


def enterprise_history(enterprise: Enterprise) -> list[dict]:
    """Every assessment of an enterprise, newest first, with the bodies' names (one query)."""
    body = aliased(Organisation)
    cons = aliased(Organisation)
    stmt = (
        sa.select(Assessment.id, Assessment.certificate_no, Assessment.assessment_type, Assessment.grade,
                  Assessment.filed_grade, Assessment.status, Assessment.decision_date, Assessment.valid_until,
                  body.id.label("body_id"), body.name.label("body_name"),
                  cons.id.label("cons_id"), cons.name.label("cons_name"))
        .join(body, body.id == Assessment.body_id)
        .outerjoin(cons, cons.id == Assessment.consulting_body_id)
        .where(Assessment.enterprise_id == enterprise.id)
        .order_by(Assessment.decision_date.desc(), Assessment.id.desc())
    )
    return [dict(row._mapping) for row in db.session.execute(stmt)]


def standing_by_grade(org: Organisation) -> dict[str, int]:
    """Standing certificates of a body (as assessor or as consultant), by grade."""
    from auditbo.filings.models import Grade

    column = Assessment.body_id if org.kind is OrgKind.assessment_body else Assessment.consulting_body_id
    counts = {g.value: 0 for g in Grade}
    stmt = (sa.select(Assessment.grade, sa.func.count())
            .where(column == org.id, Assessment.status == AssessmentStatus.standing)
            .group_by(Assessment.grade))
    for grade, n in db.session.execute(stmt):
        counts[grade.value] = n
    return counts
