"""Public queries (信息公开): what anyone may see, as plain dicts of the allowed fields only.

No ORM object leaves this module, so a template cannot reach a private attribute by
accident. Persons never appear here; nor do contacts, scopes, status reasons or anything
of an assessment beyond its certificate's enterprise name, grade, status and expiry.
Counts are aggregated in SQL: a page is a fixed number of queries, whatever it lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from auditbo.codes import PROVINCES
from auditbo.extensions import db
from auditbo.filings.models import PUBLIC_CERTIFICATE_STATUSES, Assessment, AssessmentStatus, Grade
from auditbo.orgs.models import Enterprise, Organisation, OrgKind, RegistryStatus
from auditbo.ratings.models import Rating, RatingRun, RunStatus

PER_PAGE = 50


def certificate(number: str) -> dict | None:
    """The public facts of a certificate: enterprise name, grade, status, valid until, and the issuing
    body (a registered body, public in the directory; never its contact or the record's other data)."""
    number = (number or "").strip()
    if not number or len(number) > 64:
        return None
    row = db.session.execute(
        sa.select(Assessment.certificate_no, Enterprise.name, Assessment.grade, Assessment.status,
                  Assessment.valid_until, Organisation.name, Organisation.credit_code)
        .join(Enterprise, Enterprise.id == Assessment.enterprise_id)
        .join(Organisation, Organisation.id == Assessment.body_id)
        .where(Assessment.certificate_no == number, Assessment.status.in_(PUBLIC_CERTIFICATE_STATUSES))
    ).first()
    if row is None:
        return None
    return {"certificate_no": row[0], "enterprise_name": row[1], "grade": row[2].value,
            "status": row[3].value, "valid_until": row[4], "body_name": row[5], "body_credit_code": row[6]}


@dataclass(frozen=True)
class DirectoryFilter:
    province: str = ""
    kind: str = ""
    status: str = ""
    sort: str = ""  # a key of DIRECTORY_SORTS, "-" first for descending

    @classmethod
    def from_args(cls, args) -> DirectoryFilter:
        def pick(name, allowed):
            v = (args.get(name) or "").strip()
            return v if v in allowed else ""

        return cls(province=pick("province", set(PROVINCES)),
                   kind=pick("kind", {k.value for k in OrgKind}),
                   status=pick("status", {s.value for s in RegistryStatus}),
                   sort=pick("sort", {p + k for k in DIRECTORY_SORTS for p in ("", "-")}))

    def args(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def _standing_counts() -> sa.Subquery:
    """Standing certificates per body, as assessment body or as consulting body, by grade level."""
    standing = Assessment.status == AssessmentStatus.standing
    as_body = sa.select(Assessment.body_id.label("org_id"), Assessment.grade.label("grade")).where(standing)
    as_cons = (sa.select(Assessment.consulting_body_id.label("org_id"), Assessment.grade.label("grade"))
               .where(standing, Assessment.consulting_body_id.is_not(None)))
    both = sa.union_all(as_body, as_cons).subquery()
    return (sa.select(both.c.org_id, sa.func.count().label("total"))
            .group_by(both.c.org_id).subquery())


def _latest_ratings() -> sa.Subquery:
    """The latest published rating grade of each body (the newest period, its newest published version)."""
    ranked = (
        sa.select(Rating.org_id, Rating.grade, RatingRun.period,
                  sa.func.row_number().over(partition_by=Rating.org_id,
                                            order_by=(RatingRun.period.desc(), RatingRun.version.desc()))
                  .label("rn"))
        .join(RatingRun, RatingRun.id == Rating.run_id)
        .where(RatingRun.status == RunStatus.published, Rating.org_id.is_not(None),
               Rating.superseded_at.is_(None))  # the current version (an upheld objection's correction)
        .subquery()
    )
    return sa.select(ranked.c.org_id, ranked.c.grade, ranked.c.period).where(ranked.c.rn == 1).subquery()


def _public_org(org_row, total, rating_grade, rating_period) -> dict:
    code, name, kind, region, status = org_row
    return {"credit_code": code, "name": name, "kind": kind.value, "region_code": region,
            "province": region[:2], "status": status.value, "standing_total": int(total or 0),
            "rating_grade": rating_grade, "rating_period": rating_period}


_ORG_COLUMNS = (Organisation.credit_code, Organisation.name, Organisation.kind, Organisation.region_code,
                Organisation.status)


DIRECTORY_SORTS = {"name": Organisation.name, "kind": Organisation.kind, "province": Organisation.region_code,
                   "status": Organisation.status, "standing": None, "rating": None}


def directory(f: DirectoryFilter, page: int = 1) -> tuple[list[dict], int]:
    """One page of the directory of bodies and the total count (three queries)."""
    counts, ratings = _standing_counts(), _latest_ratings()
    stmt = (
        sa.select(*_ORG_COLUMNS, counts.c.total, ratings.c.grade, ratings.c.period)
        .outerjoin(counts, counts.c.org_id == Organisation.id)
        .outerjoin(ratings, ratings.c.org_id == Organisation.id)
    )
    where = []
    if f.province:
        where.append(Organisation.region_code.startswith(f.province))
    if f.kind:
        where.append(Organisation.kind == OrgKind(f.kind))
    if f.status:
        where.append(Organisation.status == RegistryStatus(f.status))
    stmt = stmt.where(*where)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(*where))
    page = max(page, 1)
    order = (Organisation.kind, Organisation.name, Organisation.id)
    if f.sort:
        col = {**DIRECTORY_SORTS, "standing": sa.func.coalesce(counts.c.total, 0), "rating": ratings.c.grade}[
            f.sort.lstrip("-")]
        order = (col.desc() if f.sort.startswith("-") else col.asc(), Organisation.id)
    rows = db.session.execute(
        stmt.order_by(*order)
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    return [_public_org(r[:5], r[5], r[6], r[7]) for r in rows], total


def profile(credit_code: str) -> dict | None:
    """A body's public profile: status, region, standing certificates by grade, published rating."""
    code = (credit_code or "").strip().upper()
    org = db.session.execute(
        sa.select(Organisation.id, *_ORG_COLUMNS).where(Organisation.credit_code == code)
    ).first()
    if org is None:
        return None
    org_id = org[0]
    column = Assessment.body_id if org[3] is OrgKind.assessment_body else Assessment.consulting_body_id
    by_grade = {g.value: 0 for g in Grade}
    for grade, n in db.session.execute(
        sa.select(Assessment.grade, sa.func.count())
        .where(column == org_id, Assessment.status == AssessmentStatus.standing)
        .group_by(Assessment.grade)
    ):
        by_grade[grade.value] = n
    ratings = _latest_ratings()
    rating = db.session.execute(sa.select(ratings.c.grade, ratings.c.period).where(ratings.c.org_id == org_id)).first()
    result = _public_org(org[1:], sum(by_grade.values()), rating[0] if rating else None,
                         rating[1] if rating else None)
    result["standing_by_grade"] = by_grade
    return result
