"""Reading plans and spot checks: lists (a constant number of queries per page), one record as a dict."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from auditbo.accounts.models import Role, User
from auditbo.errors import HiddenNotFound, NotFound
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.orgs.models import Enterprise, Organisation, Person
from auditbo.spotchecks.models import (
    CheckStatus,
    PlanStatus,
    PlanUnit,
    SamplingPlan,
    SpotCheck,
    SpotCheckFile,
    SpotCheckFinding,
    SpotCheckInspector,
)


def _iso(d):
    return d.isoformat() if d is not None else None


def get_plan(plan_id: int) -> SamplingPlan:
    plan = db.session.get(SamplingPlan, plan_id)
    if plan is None:
        raise NotFound("no such sampling plan")
    return plan


def get_check(check_id: int) -> SpotCheck:
    check = db.session.get(SpotCheck, check_id)
    if check is None:
        raise NotFound("no such spot check")
    return check


def inspector_ids(check_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(SpotCheckInspector.user_id)
                                  .where(SpotCheckInspector.spot_check_id == check_id)))


def require_inspector(check: SpotCheck, user) -> None:
    """The check's write endpoints: anyone but an assigned inspector gets 404 (existence of the
    assignment does not leak)."""
    if getattr(user, "id", None) not in inspector_ids(check.id) or getattr(user.role, "value", "") != "supervisor":
        raise HiddenNotFound("no such spot check among yours")


def _names(ids) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.username).where(User.id.in_(ids))).all())


# --- plans ---------------------------------------------------------------------------------------
def plan_to_dict(plan: SamplingPlan, *, estimate: dict | None = None) -> dict:
    names = _names([plan.author_id, plan.approved_by_id])
    s = plan.summary or {}
    preview = s.get("preview") or {}
    out = {
        "id": plan.id, "name": plan.title, "status": plan.status.value, "population": _public_population(plan.population),
        "size": plan.size, "uniform_share": plan.uniform_share, "strata": plan.strata_column,
        "budgets": s.get("budgets_given"),
        "plan_date": plan.plan_date, "author": names.get(plan.author_id), "approved_by": names.get(plan.approved_by_id),
        "approved_at": plan.approved_at, "created_at": plan.created_at,
        "frame_size": s.get("frame_size", preview.get("frame_size")),
        "mandatory": s.get("mandatory", preview.get("mandatory")),
        "mandatory_reasons": s.get("mandatory_reasons", preview.get("mandatory_reasons")),
        "expected_yield": (s.get("draw") or {}).get("expected_yield", preview.get("expected_yield")),
        "uniform_expected_yield": s.get("uniform_expected_yield", preview.get("uniform_expected_yield")),
        "planner": preview.get("planner"),
        "model": s.get("model", preview.get("model")),
    }
    if plan.status in (PlanStatus.drawn, PlanStatus.closed):
        out.update(seed=plan.seed, frame_hash=plan.frame_hash, drawn_at=plan.drawn_at,
                   model_version=plan.model_version, estimate=estimate)
    return out


def _public_population(pop: dict) -> dict:
    return {k: v for k, v in (pop or {}).items() if k != "body_ids"}


def plans_page(page: int, per_page: int, status: str | None = None) -> tuple[list[SamplingPlan], int]:
    stmt = sa.select(SamplingPlan)
    if status:
        stmt = stmt.where(SamplingPlan.status == status)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(SamplingPlan.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def _units_select(plan: SamplingPlan, selected: bool | None) -> sa.Select:
    stmt = sa.select(PlanUnit.assessment_id, PlanUnit.risk, PlanUnit.inclusion_probability, PlanUnit.selected,
                     PlanUnit.mandatory, PlanUnit.reasons).where(PlanUnit.plan_id == plan.id)
    return stmt if selected is None else stmt.where(PlanUnit.selected.is_(selected))


def _unit(r) -> dict:
    return {"assessment_id": r[0], "risk": r[1], "inclusion_probability": r[2], "selected": r[3],
            "mandatory": r[4], "reasons": r[5]}


def units_keyset_page(plan: SamplingPlan, *, page: int, per_page: int, cursor: str | None,
                      selected: bool | None = None) -> dict:
    """The frame's units by assessment id, with keyset paging (auditbo.paging): a frame over the whole
    history holds hundreds of thousands of units."""
    from auditbo import paging

    stmt = _units_select(plan, selected)
    lst = paging.KeysetList(rows=stmt, matching=stmt.with_only_columns(PlanUnit.assessment_id),
                            order=[PlanUnit.assessment_id], descending=False,
                            fingerprint=paging.fingerprint("plan-units", "assessment_id",
                                                           {"plan": plan.id, "selected": selected}))
    return paging.page_of(lst, page=page, per_page=per_page, cursor=cursor, endpoint_args={"plan_id": plan.id},
                          to_item=_unit)


# --- spot checks ---------------------------------------------------------------------------------
def checks_page(page: int, per_page: int, *, plan_id: int | None = None, status: str | None = None,
                inspector_id: int | None = None, unassigned: bool = False, disclosure: str | None = None,
                today: date | None = None, outcome: str | None = None) -> tuple[list[dict], int]:
    C = SpotCheck
    stmt = checks_select(plan_id=plan_id, status=status, inspector_id=inspector_id, unassigned=unassigned,
                         disclosure=disclosure, today=today, outcome=outcome)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    order = (C.disclose_by, C.id) if disclosure else (C.id.desc(),)
    rows = db.session.execute(stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    return _check_items(rows), total


def nav_count_select(user, today: date) -> sa.Select | None:
    """The navigation badge: a supervisor's open spot checks (the "mine" tab's open ones), one count; none for
    others. auditbo.web reads it with the other badges in one statement."""
    if user.role is not Role.supervisor:
        return None
    C = SpotCheck
    return (sa.select(sa.func.count()).select_from(C)
            .where(C.status == CheckStatus.open,
                   C.id.in_(sa.select(SpotCheckInspector.spot_check_id).where(SpotCheckInspector.user_id == user.id))))


def checks_select(*, plan_id: int | None = None, status: str | None = None, inspector_id: int | None = None,
                  unassigned: bool = False, disclosure: str | None = None, today: date | None = None,
                  outcome: str | None = None) -> sa.Select:
    """The checks' rows under a queue's filters (no order): the page and the export read it."""
    C = SpotCheck
    stmt = (sa.select(C.id, C.status, C.outcome, C.consequence, C.plan_id, C.opened_on, C.closed_on, C.disclose_by,
                      C.disclosed_on, C.visit_on, C.version, Assessment.id.label("assessment_id"),
                      Assessment.certificate_no, Assessment.grade,
                      Assessment.status.label("assessment_status"), Organisation.credit_code,
                      Organisation.name.label("body_name"), Enterprise.name.label("enterprise_name"))
            .join(Assessment, Assessment.id == C.assessment_id)
            .join(Organisation, Organisation.id == Assessment.body_id)
            .join(Enterprise, Enterprise.id == Assessment.enterprise_id))
    if plan_id is not None:
        stmt = stmt.where(C.plan_id == plan_id)
    if outcome:  # a closed check's outcome (the dashboard's drill-down)
        stmt = stmt.where(C.outcome == outcome)
    if status:
        stmt = stmt.where(C.status == status)
    if inspector_id is not None:
        stmt = stmt.where(C.id.in_(sa.select(SpotCheckInspector.spot_check_id)
                                   .where(SpotCheckInspector.user_id == inspector_id)))
    if unassigned:  # fewer inspectors than a check needs: none could be drawn, or one declared a tie
        staffed = (sa.select(SpotCheckInspector.spot_check_id).group_by(SpotCheckInspector.spot_check_id)
                   .having(sa.func.count() >= current_app.config["SPOTCHECK_INSPECTORS"]))
        stmt = stmt.where(C.status == CheckStatus.open, ~C.id.in_(staffed))
    if disclosure in ("due", "overdue"):
        stmt = stmt.where(C.status == CheckStatus.closed, C.disclosed_on.is_(None))
        if disclosure == "overdue":
            stmt = stmt.where(C.disclose_by < today)
    return stmt


def _check_items(rows) -> list[dict]:
    ids = [r[0] for r in rows]
    insp: dict[int, list[dict]] = {}
    if ids:
        for cid, uid, username, display in db.session.execute(
                sa.select(SpotCheckInspector.spot_check_id, User.id, User.username, User.display_name)
                .join(User, User.id == SpotCheckInspector.user_id)
                .where(SpotCheckInspector.spot_check_id.in_(ids)).order_by(User.username)):
            insp.setdefault(cid, []).append({"id": uid, "username": username, "display_name": display})
    items = []
    for r in rows:
        items.append({
            "id": r[0], "status": r[1].value, "outcome": r[2].value if r[2] else None,
            "consequence": r[3].value if r[3] else None, "plan_id": r[4], "opened_on": _iso(r[5]),
            "closed_on": _iso(r[6]), "disclose_by": _iso(r[7]), "disclosed_on": _iso(r[8]), "visit_on": _iso(r[9]),
            "version": r[10],
            "assessment": {"id": r[11], "certificate_no": r[12], "grade": r[13].value, "status": r[14].value,
                           "body": {"credit_code": r[15], "name": r[16]}, "enterprise_name": r[17]},
            "inspectors": insp.get(r[0], []),
        })
    return items


def check_to_dict(check: SpotCheck) -> dict:
    a = db.session.get(Assessment, check.assessment_id)
    body = db.session.get(Organisation, a.body_id)
    ent = db.session.get(Enterprise, a.enterprise_id)
    creator = aliased(User)
    findings = db.session.execute(
        sa.select(SpotCheckFinding, Person.person_id, Person.name, creator.username)
        .outerjoin(Person, Person.id == SpotCheckFinding.person_id)
        .outerjoin(creator, creator.id == SpotCheckFinding.created_by_id)
        .where(SpotCheckFinding.spot_check_id == check.id).order_by(SpotCheckFinding.id)).all()
    inspectors = db.session.execute(
        sa.select(User.id, User.username, User.display_name).join(
            SpotCheckInspector, SpotCheckInspector.user_id == User.id)
        .where(SpotCheckInspector.spot_check_id == check.id).order_by(User.username)).all()
    files = db.session.execute(
        sa.select(SpotCheckFile.id, SpotCheckFile.filename, SpotCheckFile.content_type, SpotCheckFile.size,
                  SpotCheckFile.sha256, SpotCheckFile.created_at, User.username)
        .outerjoin(User, User.id == SpotCheckFile.uploaded_by_id)
        .where(SpotCheckFile.spot_check_id == check.id).order_by(SpotCheckFile.id)).all()
    return {
        "id": check.id, "status": check.status.value, "plan_id": check.plan_id, "version": check.version,
        "inclusion_probability": check.inclusion_probability,
        "outcome": check.outcome.value if check.outcome else None,
        "consequence": check.consequence.value if check.consequence else None,
        "grade": check.downgraded_to, "reason": check.reason, "visit_on": check.visit_on,
        "opened_on": check.opened_on, "closed_on": check.closed_on, "disclose_by": check.disclose_by,
        "disclosed_on": check.disclosed_on, "assign_seed": check.assign_seed,
        "assessment": {"id": a.id, "certificate_no": a.certificate_no, "grade": a.grade.value, "status": a.status.value,
                       "assessment_type": a.assessment_type.value, "decision_date": _iso(a.decision_date),
                       "region_code": a.region_code, "enterprise_name": ent.name,
                       "body": {"credit_code": body.credit_code, "name": body.name}},
        "inspectors": [{"id": i, "username": u, "display_name": d} for i, u, d in inspectors],
        "findings": [{"id": f.id, "severity": f.severity.value, "text": f.text, "against": f.against.value,
                      "person_id": pid, "person_name": pname, "created_by": by,
                      "created_at": f.created_at.isoformat()}
                     for f, pid, pname, by in findings],
        "files": [{"id": i, "filename": n, "content_type": t, "size": z, "sha256": h, "created_at": at.isoformat(),
                   "uploaded_by": by} for i, n, t, z, h, at, by in files],
    }


def body_recent_results(check: SpotCheck, limit: int = 10) -> list[dict]:
    """The body's latest closed spot checks (not this one): what an inspector sees beside the record."""
    body_id = db.session.scalar(sa.select(Assessment.body_id).where(Assessment.id == check.assessment_id))
    rows = db.session.execute(
        sa.select(SpotCheck.id, SpotCheck.closed_on, SpotCheck.outcome, SpotCheck.consequence, Assessment.certificate_no)
        .join(Assessment, Assessment.id == SpotCheck.assessment_id)
        .where(Assessment.body_id == body_id, SpotCheck.status == CheckStatus.closed, SpotCheck.id != check.id)
        .order_by(SpotCheck.closed_on.desc(), SpotCheck.id.desc()).limit(limit)).all()
    return [{"id": r[0], "closed_on": _iso(r[1]), "outcome": r[2].value if r[2] else None,
             "consequence": r[3].value if r[3] else None, "certificate_no": r[4]} for r in rows]


def public_results(credit_code: str) -> dict | None:
    """A body's disclosed spot-check results per year (信息公开): counts by outcome and consequence,
    nothing about who inspected or why. None for an unknown assessment body."""
    from auditbo.orgs.models import OrgKind

    org = db.session.execute(sa.select(Organisation.id, Organisation.name, Organisation.credit_code).where(
        Organisation.credit_code == credit_code, Organisation.kind == OrgKind.assessment_body)).first()
    if org is None:
        return None
    year = sa.extract("year", SpotCheck.closed_on)
    rows = db.session.execute(
        sa.select(year, SpotCheck.outcome, SpotCheck.consequence, sa.func.count())
        .join(Assessment, Assessment.id == SpotCheck.assessment_id)
        .where(Assessment.body_id == org.id, SpotCheck.status == CheckStatus.closed,
               SpotCheck.disclosed_on.is_not(None))
        .group_by(year, SpotCheck.outcome, SpotCheck.consequence)).all()
    years: dict[int, dict] = {}
    for y, outcome, consequence, n in rows:
        e = years.setdefault(int(y), {"year": int(y), "checked": 0, "conforming": 0, "minor_findings": 0,
                                      "major_findings": 0, "downgrade": 0, "suspend": 0, "revoke": 0})
        e["checked"] += n
        e[outcome.value] += n
        if consequence is not None and consequence.value != "none":
            e[consequence.value] += n
    return {"credit_code": org.credit_code, "name": org.name,
            "years": [years[y] for y in sorted(years, reverse=True)]}
