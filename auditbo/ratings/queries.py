"""Reading stored ratings: runs, a run's ratings, the public grades, a body's own (no writes)."""

from __future__ import annotations

import sqlalchemy as sa

from auditbo.accounts.models import User
from auditbo.errors import NotFound
from auditbo.extensions import db
from auditbo.orgs.models import Organisation, Person
from auditbo.ratings.models import Objection, Rating, RatingRun, RunStatus, SubjectType
from rating import GRADES, NR

BODY_TYPES = (SubjectType.assessment_body, SubjectType.consulting_body)
PUBLIC_STATUSES = (RunStatus.published,)


def grade_changes(validation: dict | None) -> int | None:
    """Rated subjects (in both months) whose grade changed, from the transition matrix."""
    matrix = (validation or {}).get("transitions")
    if not matrix:
        return None
    return sum(n for a, row in matrix.items() for b, n in row.items() if a != b and NR not in (a, b))


def run_out(run: RatingRun, names: dict[int, str] | None = None) -> dict:
    names = names if names is not None else _usernames([run.run_by_id, run.published_by_id])
    v = run.validation or {}
    return {
        "id": run.id,
        "period": run.period,
        "version": run.version,
        "status": run.state,
        "error": run.error,
        "run_by": names.get(run.run_by_id) if run.run_by_id else "system",
        "published_by": names.get(run.published_by_id),
        "published_at": run.published_at,
        "computed_at": run.computed_at,
        "engine_version": (run.config or {}).get("engine_version"),
        "counts": v.get("grade_counts") or {},
        "validation": {"auroc": v.get("auroc"), "psi": v.get("psi"), "grade_changes": grade_changes(v),
                       "changed_share": v.get("changed_share")},
    }


def _usernames(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.username).where(User.id.in_(ids))).all())


def runs_page(page: int, per_page: int) -> tuple[list[dict], int]:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(RatingRun))
    runs = list(db.session.scalars(sa.select(RatingRun).order_by(RatingRun.period.desc(), RatingRun.version.desc(),
                                                                 RatingRun.id.desc())
                                   .limit(per_page).offset((page - 1) * per_page)))
    names = _usernames([u for r in runs for u in (r.run_by_id, r.published_by_id)])
    return [run_out(r, names) for r in runs], int(total or 0)


def latest_run(status: RunStatus | None = None) -> RatingRun | None:
    stmt = sa.select(RatingRun).where(RatingRun.error.is_(None))
    if status is not None:
        stmt = stmt.where(RatingRun.status == status)
    return db.session.scalar(stmt.order_by(RatingRun.period.desc(), RatingRun.version.desc()).limit(1))


def run_for_period(period: str) -> RatingRun | None:
    return db.session.scalar(sa.select(RatingRun).where(RatingRun.period == period)
                             .order_by(RatingRun.version.desc()).limit(1))


def _subject_columns():
    return (sa.func.coalesce(Organisation.credit_code, Person.person_id).label("subject_id"),
            sa.func.coalesce(Organisation.name, Person.name).label("name"),
            Person.org_id.label("person_org_id"))


def _rating_select():
    return (sa.select(Rating, *_subject_columns())
            .outerjoin(Organisation, Organisation.id == Rating.org_id)
            .outerjoin(Person, Person.id == Rating.person_id))


def rating_out(r: Rating, subject_id: str, name: str, *, period: str | None = None) -> dict:
    return {
        "id": r.id,
        "run_id": r.run_id,
        "period": period,
        "subject_type": r.subject_type.value,
        "subject_id": subject_id,
        "name": name,
        "grade": r.grade,
        "score": r.score,
        "score_low": r.score_low,
        "score_high": r.score_high,
        "effective_n": r.effective_n,
        "contributions": r.contributions,
        "reasons": r.reasons,
        "change": r.change,
        "version": r.version,
        "superseded": r.superseded_at is not None,
        "correction_reason": r.correction_reason,
    }


def ratings_page(run: RatingRun, page: int, per_page: int, *, subject_type: str | None = None,
                 grade: str | None = None, current_only: bool = False) -> tuple[list[dict], int]:
    where = [Rating.run_id == run.id]
    if subject_type:
        where.append(Rating.subject_type == SubjectType(subject_type))
    if grade:
        where.append(Rating.grade == grade)
    if current_only:
        where.append(Rating.superseded_at.is_(None))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Rating).where(*where))
    rows = db.session.execute(_rating_select().where(*where)
                              .order_by(Rating.subject_type, sa.text("subject_id"), Rating.version)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return [rating_out(r, sid, name, period=run.period) for r, sid, name, _ in rows], int(total or 0)


def export_select(run: RatingRun, *, subject_type: str | None = None) -> sa.Select:
    """A run's ratings as flat rows, in the review page's order (the export reads it)."""
    where = [Rating.run_id == run.id]
    if subject_type:
        where.append(Rating.subject_type == SubjectType(subject_type))
    return (sa.select(Rating.subject_type, *_subject_columns()[:2], Rating.grade, Rating.score, Rating.score_low,
                      Rating.score_high, Rating.effective_n, Rating.version,
                      Rating.superseded_at.is_not(None).label("superseded"), Rating.reasons)
            .outerjoin(Organisation, Organisation.id == Rating.org_id)
            .outerjoin(Person, Person.id == Rating.person_id)
            .where(*where).order_by(Rating.subject_type, sa.text("subject_id"), Rating.version))


def get_rating(rating_id: int) -> tuple[Rating, str, str, int, RatingRun]:
    """A rating with its subject's id and name, the body it belongs to, and its run (404 if none)."""
    row = db.session.execute(_rating_select().where(Rating.id == rating_id)).first()
    if row is None:
        raise NotFound("no such rating")
    r, sid, name, person_org = row
    return r, sid, name, (r.org_id or person_org), db.session.get(RatingRun, r.run_id)


def public_ratings(period: str | None, subject_type: str | None, page: int, per_page: int) -> dict:
    """Published grades of bodies (never persons): the current version of each, for a month
    (default: the latest published one)."""
    run = (db.session.scalar(sa.select(RatingRun).where(RatingRun.period == period,
                                                        RatingRun.status.in_(PUBLIC_STATUSES))
                             .order_by(RatingRun.version.desc()).limit(1))
           if period else latest_run(RunStatus.published))
    if run is None:
        return {"items": [], "total": 0, "page": page, "per_page": per_page, "period": period}
    types = [SubjectType(subject_type)] if subject_type else list(BODY_TYPES)
    where = [Rating.run_id == run.id, Rating.subject_type.in_(types), Rating.superseded_at.is_(None),
             Rating.org_id.is_not(None)]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Rating).where(*where))
    rows = db.session.execute(
        sa.select(Rating.subject_type, Organisation.credit_code, Organisation.name, Rating.grade, Rating.score,
                  Rating.version)
        .join(Organisation, Organisation.id == Rating.org_id).where(*where)
        .order_by(Rating.subject_type, Organisation.credit_code).limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = [{"subject_type": t.value, "subject_id": code, "name": name, "grade": g,
              "score": s if g != NR else None, "version": v, "period": run.period,
              "published_at": run.published_at} for t, code, name, g, s, v in rows]
    return {"items": items, "total": int(total or 0), "page": page, "per_page": per_page, "period": run.period}


def mine(org_id: int) -> dict:
    """The latest published ratings (current versions) of a body and its staff, with reasons."""
    run = latest_run(RunStatus.published)
    if run is None:
        return {"period": None, "items": []}
    rows = db.session.execute(
        _rating_select().where(Rating.run_id == run.id, Rating.superseded_at.is_(None),
                               sa.or_(Rating.org_id == org_id, Person.org_id == org_id))
        .order_by(Rating.subject_type, sa.text("subject_id"))
    ).all()
    return {"period": run.period, "published_at": run.published_at,
            "items": [rating_out(r, sid, name, period=run.period) for r, sid, name, _ in rows]}


def distribution(run: RatingRun) -> dict[str, dict[str, int]]:
    """Grades per subject type of a run's current ratings."""
    rows = db.session.execute(sa.select(Rating.subject_type, Rating.grade, sa.func.count())
                              .where(Rating.run_id == run.id, Rating.superseded_at.is_(None))
                              .group_by(Rating.subject_type, Rating.grade)).all()
    out = {t.value: {g: 0 for g in (*GRADES, NR)} for t in SubjectType}
    for t, g, n in rows:
        out[t.value][g] = int(n)
    return out


def objections_of(rating_ids) -> list[Objection]:
    ids = list(rating_ids)
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Objection).where(Objection.rating_id.in_(ids)).order_by(Objection.id)))



def published_body_grades() -> list[tuple]:
    """Every version of an assessment body's rating in a published run: (org_id, period, published_at,
    version, superseded_at, grade); what sampling reads as the body's grade as of a day."""
    return [tuple(r) for r in db.session.execute(
        sa.select(Rating.org_id, RatingRun.period, RatingRun.published_at, Rating.version, Rating.superseded_at,
                  Rating.grade)
        .join(RatingRun, RatingRun.id == Rating.run_id)
        .where(RatingRun.status.in_(PUBLIC_STATUSES), RatingRun.published_at.is_not(None),
               Rating.subject_type == SubjectType.assessment_body, Rating.org_id.is_not(None)))]
