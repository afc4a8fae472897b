"""Reading assessments back: the full record (payload, flags, history, confirmation) and lists."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from auditbo import clock, paging
from auditbo.accounts.models import User
from auditbo.authz import scope_assessments
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit
from auditbo.database import LIKE_ESCAPE, like_contains
from auditbo.errors import NotFound
from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentConsultant, TeamMember
from auditbo.orgs.models import Enterprise, Organisation

FULL = (
    selectinload(Assessment.team).joinedload(TeamMember.person),
    joinedload(Assessment.capabilities),  # a few rows: joined to the record's row (one round trip less)
    selectinload(Assessment.consultants).joinedload(AssessmentConsultant.person),
    selectinload(Assessment.history),
    joinedload(Assessment.enterprise),
    joinedload(Assessment.body),
    joinedload(Assessment.consulting_body),
)


def get_visible(assessment_id: int, user) -> Assessment:
    """The record if ``user`` may see it; 404 otherwise (also for another body's record)."""
    stmt = scope_assessments(sa.select(Assessment).where(Assessment.id == assessment_id), user).options(*FULL)
    a = db.session.scalars(stmt).unique().first()
    if a is None:
        raise NotFound("no such assessment")
    return a


def payload_of(a: Assessment) -> dict:
    """The record as the body filed it (the normalised payload; what amendments start from)."""
    e = a.enterprise
    out = {
        "external_ref": a.external_ref, "assessment_type": a.assessment_type.value,
        "enterprise": {"name": e.name, "credit_code": e.credit_code, "region_code": a.region_code,
                       "industry_code": a.industry_code, "size": e.size.value, "employees": e.employees},
        "grade": a.filed_grade.value,
        "capabilities": [{"name": c.name, "level": f"CL{c.level}"} for c in a.capabilities],
        "consulting_body": None,
        "team": [{"person_id": m.person.person_id, "role": m.role.value} for m in a.team],
        "person_days": a.person_days, "reduction_reason": a.reduction_reason,
        "onsite_start": a.onsite_start.isoformat(), "onsite_end": a.onsite_end.isoformat(),
        "decision_date": a.decision_date.isoformat(), "certificate_no": a.certificate_no,
        "valid_until": a.valid_until.isoformat(),
    }
    if a.consulting_body is not None:
        out["consulting_body"] = {"credit_code": a.consulting_body.credit_code,
                                  "consultant_ids": [c.person.person_id for c in a.consultants]}
    return out


def flags_of(a) -> dict:
    return {"late": a.flag_late, "grade_jump": a.flag_grade_jump, "reduced_person_days": a.flag_reduced_days,
            "low_person_days": a.flag_low_days, "tie": a.flag_tie, "surveillance_overdue": a.flag_surveillance_overdue}


def _body_sees_reviewer(decided: bool) -> bool:
    """CONFIRMATION_REVIEWER_TO_BODY: 'after_decision' (default), 'always' or 'never'."""
    from flask import current_app

    rule = current_app.config["CONFIRMATION_REVIEWER_TO_BODY"]
    return rule == "always" or (rule == "after_decision" and decided)


def confirmation_of(a: Assessment, *, show_reviewer: bool, today: date | None = None) -> dict | None:
    row = db.session.execute(  # the latest round, its findings and its reviewer's name: one round trip
        sa.select(ConfirmationAudit, User.display_name).outerjoin(User, User.id == ConfirmationAudit.assignee_id)
        .options(joinedload(ConfirmationAudit.findings))
        .where(ConfirmationAudit.assessment_id == a.id).order_by(ConfirmationAudit.round.desc()).limit(1)
    ).unique().first()
    if row is None:
        return None
    audit, reviewer_name = row
    decided = audit.status is AuditStatus.decided
    reviewer = None
    if audit.assignee_id and (show_reviewer or _body_sees_reviewer(decided)):
        reviewer = reviewer_name
    person_ids = {}
    if decided and audit.findings:
        from auditbo.orgs.models import Person

        pks = [f.person_id for f in audit.findings if f.person_id]
        if pks:
            person_ids = dict(db.session.execute(sa.select(Person.id, Person.person_id)
                                                 .where(Person.id.in_(pks))).all())
    today = today or clock.today()
    return {
        "id": audit.id, "round": audit.round, "status": audit.status.value, "due_date": audit.due_date,
        "overdue": audit.status in (AuditStatus.pending, AuditStatus.assigned) and audit.due_date < today,
        "decision": audit.decision.value if audit.decision else None,
        "adjusted_grade": audit.adjusted_grade.value if audit.adjusted_grade else None,
        "reason": audit.reason if decided else None, "reviewer": reviewer,
        "findings": [{"severity": f.severity.value, "text": f.text, "against": f.against.value,
                      "person_id": person_ids.get(f.person_id)} for f in audit.findings] if decided else [],
    }


def _reviewers_the_body_sees(a: Assessment) -> set[int]:
    """The confirmation reviewers of this record whom its body may see by name
    (CONFIRMATION_REVIEWER_TO_BODY); read once per request (the history and the timeline both ask)."""
    from flask import g

    key = f"_reviewers_seen_{a.id}"
    if key not in g:
        rows = db.session.execute(sa.select(ConfirmationAudit.assignee_id, ConfirmationAudit.status)
                                  .where(ConfirmationAudit.assessment_id == a.id)).all()
        setattr(g, key, {uid for uid, status in rows if uid and _body_sees_reviewer(status is AuditStatus.decided)})
    return getattr(g, key)


def actors_of(a: Assessment, usernames: set[str] = frozenset()) -> list[tuple[int, str, int | None]]:
    """(id, username, org_id) of the users behind the record's status history and of ``usernames`` (its
    timeline's actors): one look-up for both (:func:`history_of` and :func:`actor_as_seen` take it)."""
    ids = {h.actor_id for h in a.history if h.actor_id}
    names = {n for n in usernames if n not in (None, "", "system")}
    if not ids and not names:
        return []
    return [tuple(r) for r in db.session.execute(sa.select(User.id, User.username, User.org_id).where(
        sa.or_(User.id.in_(ids), User.username.in_(names)) if ids and names
        else User.id.in_(ids) if ids else User.username.in_(names))).all()]


def _shown_actors(a: Assessment, users: list[tuple[int, str, int | None]], *, office: bool) -> dict[str, str]:
    """username -> the name a viewer sees: the office sees everyone; a body's users see their own
    body's users and the reviewers the configuration shows them by name, anyone else as the office
    (never which inspector)."""
    if office:
        return {name: name for _uid, name, _org in users}
    reviewers = _reviewers_the_body_sees(a)
    return {name: name if org_id == a.body_id or uid in reviewers else OFFICE_ACTOR for uid, name, org_id in users}


def actor_as_seen(a: Assessment, names: set[str], *, office: bool, users: list | None = None) -> dict[str, str]:
    """Event actors (usernames) as the viewer may see them (see :func:`_shown_actors`); ``users`` from
    :func:`actors_of` saves the look-up."""
    names = {n for n in names if n not in (None, "", "system")}
    if users is not None:
        users = [u for u in users if u[1] in names]
    else:
        users = db.session.execute(sa.select(User.id, User.username, User.org_id)
                                   .where(User.username.in_(names))).all() if names else []
    shown = _shown_actors(a, users, office=office)
    return {n: shown.get(n, n if office else OFFICE_ACTOR) for n in names} | {"system": "system", None: "system"}


def history_of(a: Assessment, *, office: bool, users: list | None = None) -> list[dict]:
    """The record's status changes, each actor as the viewer may see them (``users``: see :func:`actors_of`)."""
    ids = {h.actor_id for h in a.history if h.actor_id}
    if users is not None:
        users = [u for u in users if u[0] in ids]
    else:
        users = db.session.execute(sa.select(User.id, User.username, User.org_id)
                                   .where(User.id.in_(ids))).all() if ids else []
    shown = _shown_actors(a, users, office=office)
    actors = {uid: shown[name] for uid, name, _org in users}
    return [{"from_status": h.from_status.value if h.from_status else None, "to_status": h.to_status.value,
             "at": h.at, "actor": actors.get(h.actor_id, "system"), "reason": h.reason} for h in a.history]


def to_dict(a: Assessment, *, show_reviewer: bool, users: list | None = None) -> dict:
    out = payload_of(a)
    for key in ("onsite_start", "onsite_end", "decision_date", "valid_until"):
        out[key] = date.fromisoformat(out[key])
    out.update(
        id=a.id, status=a.status.value, body={"credit_code": a.body.credit_code, "name": a.body.name},
        grade=a.grade.value, filed_grade=a.filed_grade.value, person_days_min=a.person_days_min,
        filed_at=a.filed_at, updated_at=a.updated_at, flags=flags_of(a),
        history=history_of(a, office=show_reviewer, users=users),
        confirmation=confirmation_of(a, show_reviewer=show_reviewer),
    )
    return out


# --- lists ----------------------------------------------------------------------------------
SORTS = {
    "decision_date": Assessment.decision_date, "filed_at": Assessment.filed_at, "grade": Assessment.grade,
    "id": Assessment.id, "certificate_no": Assessment.certificate_no, "status": Assessment.status,
    "assessment_type": Assessment.assessment_type, "enterprise": Enterprise.name, "body": Organisation.name,
}
FLAG_COLUMNS = {"late": Assessment.flag_late, "grade_jump": Assessment.flag_grade_jump,
                "reduced_person_days": Assessment.flag_reduced_days, "low_person_days": Assessment.flag_low_days,
                "tie": Assessment.flag_tie, "surveillance_overdue": Assessment.flag_surveillance_overdue}


def list_query(user, f: dict, stmt: sa.Select | None = None) -> sa.Select:
    """``stmt`` (default: the ids) restricted to the visible assessments matching the filters."""
    stmt = sa.select(Assessment.id) if stmt is None else stmt
    conditions = []
    if f.get("status"):
        conditions.append(Assessment.status == f["status"])
    if f.get("grade"):
        conditions.append(Assessment.grade == f["grade"])
    if f.get("decided_from"):
        conditions.append(Assessment.decision_date >= f["decided_from"])
    if f.get("decided_to"):
        conditions.append(Assessment.decision_date <= f["decided_to"])
    if f.get("filed_from"):  # office dates, inclusive (the dashboard's filings per month)
        conditions.append(Assessment.filed_at >= clock.start_of(f["filed_from"]))
    if f.get("filed_to"):
        conditions.append(Assessment.filed_at < clock.end_of(f["filed_to"]))
    if f.get("external_ref"):
        conditions.append(Assessment.external_ref == f["external_ref"])
    if f.get("body_id"):
        conditions.append(Assessment.body_id == f["body_id"])
    if f.get("region"):
        conditions.append(Assessment.region_code.startswith(f["region"]))
    if f.get("industry"):
        conditions.append(Assessment.industry_code.startswith(f["industry"]))
    if f.get("assessment_type"):
        conditions.append(Assessment.assessment_type == f["assessment_type"])
    for flag in f.get("flags") or []:
        if flag in FLAG_COLUMNS:
            conditions.append(FLAG_COLUMNS[flag].is_(True))
    if f.get("enterprise_credit_code"):
        conditions.append(Assessment.enterprise_id == sa.select(Enterprise.id).where(
            Enterprise.credit_code == f["enterprise_credit_code"]).scalar_subquery())
    if f.get("q"):
        like = like_contains(f["q"])
        conditions.append(sa.or_(Assessment.certificate_no.like(like, escape=LIKE_ESCAPE),
                                 Assessment.external_ref.like(like, escape=LIKE_ESCAPE),
                                 Assessment.enterprise_id.in_(sa.select(Enterprise.id).where(
                                     Enterprise.name.like(like, escape=LIKE_ESCAPE)))))
    return scope_assessments(stmt.where(*conditions), user)


def list_page(user, f: dict, page: int, per_page: int, sort: str = "-decision_date",
              count_cap: int | None = None) -> tuple[list[dict], int]:
    """One page of summaries: one count query, one row query (no N+1).

    With ``count_cap`` the count stops at cap + 1 (a page shows "10,000+"), which keeps a
    list over a million records fast; the API counts exactly.
    """
    total = count_matches(user, f, count_cap)
    rows = db.session.execute(rows_select(user, f, sort).limit(per_page).offset((page - 1) * per_page)).all()
    return [summary(r) for r in rows], total


def count_matches(user, f: dict, cap: int | None = None) -> int:
    """The visible records matching ``f``; with ``cap``, counting stops at cap + 1."""
    base = list_query(user, f)
    counted = base.limit(cap + 1) if cap else base
    return db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery()))


def api_page(user, f: dict, *, page: int, per_page: int, cursor: str | None) -> dict:
    """The JSON list (newest decision first): offset pages up to paging.OFFSET_CAP, cursor pages anywhere.
    The items are JSON-ready (:func:`summary_json`): the API sends them as they are, without a schema pass."""
    return paging.page_of(keyset_list(user, f), page=page, per_page=per_page, cursor=cursor, endpoint_args={},
                          to_item=summary_json)


def rows_select(user, f: dict, sort: str = "-decision_date") -> sa.Select:
    """The list's rows (a page's columns), filtered, scoped and ordered: pages and exports read it."""
    desc = sort.startswith("-")
    col = SORTS.get(sort.lstrip("-"), Assessment.decision_date)
    order = (col.desc(), Assessment.id.desc()) if desc else (col.asc(), Assessment.id.asc())
    return _rows(user, f).order_by(*order)


def keyset_list(user, f: dict, sort: str = "-decision_date") -> paging.KeysetList:
    """The list for keyset paging (:mod:`auditbo.paging`): the order is the sort key, then id."""
    key = sort.lstrip("-") if sort.lstrip("-") in SORTS else "decision_date"
    order = [SORTS[key], Assessment.id] if key != "id" else [Assessment.id]
    return paging.KeysetList(rows=_rows(user, f), matching=list_query(user, f), order=order,
                             descending=sort.startswith("-"),
                             fingerprint=paging.fingerprint("assessments", f"{'-' if sort.startswith('-') else ''}{key}", f))


def _rows(user, f: dict) -> sa.Select:
    columns = sa.select(
        Assessment.id, Assessment.status, Assessment.external_ref, Assessment.certificate_no, Assessment.grade,
        Assessment.assessment_type, Assessment.decision_date, Assessment.region_code, Assessment.industry_code,
        Assessment.person_days, Assessment.flag_late,
        Assessment.flag_grade_jump, Assessment.flag_reduced_days, Assessment.flag_low_days, Assessment.flag_tie,
        Assessment.flag_surveillance_overdue, Enterprise.name.label("enterprise_name"),
        Enterprise.credit_code.label("enterprise_credit_code"), Organisation.name.label("body_name"),
    ).join(Enterprise, Enterprise.id == Assessment.enterprise_id).join(Organisation, Organisation.id == Assessment.body_id)
    return list_query(user, f, columns)


def summary(r) -> dict:
    return {
        "id": r.id, "status": r.status.value, "external_ref": r.external_ref, "certificate_no": r.certificate_no,
        "grade": r.grade.value, "assessment_type": r.assessment_type.value, "decision_date": r.decision_date,
        "enterprise_name": r.enterprise_name, "enterprise_credit_code": r.enterprise_credit_code,
        "body_name": r.body_name, "region_code": r.region_code, "flags": flags_of(r),
    }


_FLAG_KEYS = ("late", "grade_jump", "reduced_person_days", "low_person_days", "tie", "surveillance_overdue")


def summary_json(r) -> dict:
    """:func:`summary` as the list's JSON carries it (AssessmentSummaryOut dumped: the date as ISO text),
    built directly: marshmallow's pass over 50 rows costs more than the page's query."""
    return {
        "id": r.id, "status": r.status.value, "external_ref": r.external_ref, "certificate_no": r.certificate_no,
        "grade": r.grade.value, "assessment_type": r.assessment_type.value,
        "decision_date": r.decision_date.isoformat(), "enterprise_name": r.enterprise_name,
        "enterprise_credit_code": r.enterprise_credit_code, "body_name": r.body_name, "region_code": r.region_code,
        "flags": dict(zip(_FLAG_KEYS, (r.flag_late, r.flag_grade_jump, r.flag_reduced_days, r.flag_low_days,
                                       r.flag_tie, r.flag_surveillance_overdue), strict=True)),
    }


OFFICE_ACTOR = "office"  # who acted, as a body's users see an office user (labels.actor_name words it)
PUBLIC_STATUSES = ("standing", "suspended", "revoked", "expired")


def certificate(certificate_no: str) -> dict:
    """The public face of a certificate: issued ones only (a filing never confirmed is unknown)."""
    from auditbo.filings.models import AssessmentStatus

    row = db.session.execute(
        sa.select(Assessment.certificate_no, Enterprise.name, Assessment.grade, Assessment.status,
                  Assessment.valid_until)
        .join(Enterprise, Enterprise.id == Assessment.enterprise_id)
        .where(Assessment.certificate_no == certificate_no,
               Assessment.status.in_([AssessmentStatus(s) for s in PUBLIC_STATUSES]))
    ).first()
    if row is None:
        raise NotFound("no certificate with that number")
    return {"certificate_no": row[0], "enterprise_name": row[1], "grade": row[2].value, "status": row[3].value,
            "valid_until": row[4]}
