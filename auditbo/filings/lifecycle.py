"""The assessment lifecycle: guarded transitions of a certificate, by hand and by time.

Every feature that moves an assessment calls this module (filings, confirmation decisions,
sanctions, spot checks, complaints): it holds the guarded transition with its history row and
event, the office's sanctions on a certificate (suspend, reinstate, downgrade, revoke), and the
time-driven changes (expiry, overdue surveillance) with the surveillance filing that lifts an
automatic suspension. It imports no feature's services, so none of them import each other.

Time-driven changes of standing certificates: expiry and overdue surveillance.

A standing certificate (from an initial assessment, reassessment or upgrade) needs a
later assessment of its enterprise (a surveillance, or a reassessment or upgrade that
goes further) within each ``SURVEILLANCE_INTERVAL_MONTHS`` of its decision or of the last
one; one overdue is flagged, and one more than ``SURVEILLANCE_SUSPEND_AFTER_MONTHS``
overdue is suspended. Both are idempotent.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from auditbo import events
from auditbo.errors import Conflict, ErrorCollector
from auditbo.events import SYSTEM, Actor
from auditbo.extensions import db
from auditbo.filings.models import (
    ASSESSMENT_TRANSITIONS,
    Assessment,
    AssessmentStatus,
    AssessmentType,
    Grade,
    StatusChange,
)

S = AssessmentStatus
BATCH = 1000
SURVEILLANCE_SUSPENSION = "surveillance assessment due"  # how the job's suspension reason begins


# --- transitions -----------------------------------------------------------------------------
def transition(a: Assessment, to: AssessmentStatus, *, actor: Actor, reason: str | None = None) -> None:
    """Move an assessment through its guarded state machine, with history and event."""
    before = S(a.status)
    ASSESSMENT_TRANSITIONS.check(before, to)
    a.status = to
    db.session.add(StatusChange(assessment_id=a.id, from_status=before, to_status=to, actor_id=actor.id,
                                reason=reason))
    events.record(actor, "assessment", a.id, "status_changed", before={"status": before.value},
                  after={"status": to.value}, reason=reason)


def _need_reason(reason: str | None, errors: ErrorCollector) -> str:
    reason = (reason or "").strip()
    if not reason:
        errors.add("reason", "a reason is required")
    elif len(reason) > 2000:
        errors.add("reason", "must be at most 2000 characters")
    return reason


def check_certificate_move(a: Assessment, to: AssessmentStatus) -> None:
    """A certificate sanction's move, as a Conflict naming the current status when it is not allowed."""
    if not ASSESSMENT_TRANSITIONS.allowed(S(a.status), to):
        raise Conflict(f"a {S(a.status).value} certificate cannot become {to.value}")


def suspend(a: Assessment, reason: str, *, actor: Actor) -> None:
    """standing → suspended (a sanction, a spot check's finding)."""
    errors = ErrorCollector()
    reason = _need_reason(reason, errors)
    errors.raise_if_any()
    check_certificate_move(a, S.suspended)
    transition(a, S.suspended, actor=actor, reason=reason)


def reinstate(a: Assessment, reason: str, *, actor: Actor) -> None:
    """suspended → standing."""
    errors = ErrorCollector()
    reason = _need_reason(reason, errors)
    errors.raise_if_any()
    check_certificate_move(a, S.standing)
    if S(a.status) is not S.suspended:
        raise Conflict(f"only a suspended certificate can be reinstated; this one is {S(a.status).value}")
    transition(a, S.standing, actor=actor, reason=reason)


def revoke(a: Assessment, reason: str, *, actor: Actor) -> None:
    """standing | suspended → revoked (final)."""
    errors = ErrorCollector()
    reason = _need_reason(reason, errors)
    errors.raise_if_any()
    check_certificate_move(a, S.revoked)
    transition(a, S.revoked, actor=actor, reason=reason)


def downgrade(a: Assessment, grade: Grade | str, reason: str, *, actor: Actor) -> Grade:
    """Lower a standing (or suspended) certificate's grade; the status stays. Returns the old grade."""
    errors = ErrorCollector()
    reason = _need_reason(reason, errors)
    try:
        target = Grade(grade)
    except ValueError:
        errors.add("grade", f"must be one of {', '.join(g.value for g in Grade)}")
        target = None
    if target is not None and target.level >= Grade(a.grade).level:
        errors.add("grade", f"must be below the certificate's grade {Grade(a.grade).value}")
    errors.raise_if_any()
    if S(a.status) not in (S.standing, S.suspended):
        raise Conflict(f"a {S(a.status).value} certificate cannot be downgraded")
    before = Grade(a.grade)
    a.grade = target
    events.record(actor, "assessment", a.id, "downgraded", before={"grade": before.value},
                  after={"grade": target.value}, reason=reason)
    return before


def lift_surveillance_suspensions(enterprise_ids, decided: dict[int, date], *, actor: Actor,
                                  reason: str) -> list[int]:
    """A surveillance (or later) assessment filed for an enterprise resets its certificates'
    surveillance clock and lifts the job's automatic suspension of those decided before it.

    ``decided`` maps each enterprise to the decision date of the new filing. Only a suspension
    made by the surveillance job is lifted (one by hand stays); the overdue flag is cleared.
    """
    ids = list(enterprise_ids)
    if not ids:
        return []
    lifted = []
    rows = db.session.scalars(sa.select(Assessment).where(
        Assessment.enterprise_id.in_(ids), Assessment.flag_surveillance_overdue.is_(True),
        Assessment.status.in_([S.standing, S.suspended]))).all()
    for a in rows:
        if a.decision_date >= decided[a.enterprise_id]:
            continue
        a.flag_surveillance_overdue = False
        if a.status is S.suspended and _suspended_by_surveillance_job(a.id):
            transition(a, S.standing, actor=actor, reason=reason)
            lifted.append(a.id)
    return lifted


def _suspended_by_surveillance_job(assessment_id: int) -> bool:
    last = db.session.execute(
        sa.select(StatusChange.actor_id, StatusChange.reason)
        .where(StatusChange.assessment_id == assessment_id, StatusChange.to_status == S.suspended)
        .order_by(StatusChange.id.desc()).limit(1)).first()
    return last is not None and last[0] is None and (last[1] or "").startswith(SURVEILLANCE_SUSPENSION)


def surveillance_due(today: date, days: int = 60, *, limit: int = 500) -> list[dict]:
    """Standing certificates whose next surveillance assessment falls due within ``days`` (or is overdue
    and not yet suspended): certificate, body, enterprise and due date, soonest first."""
    from auditbo.orgs.models import Enterprise, Organisation

    interval = current_app.config["SURVEILLANCE_INTERVAL_MONTHS"]
    horizon = today + timedelta(days=days)
    follow = sa.orm.aliased(Assessment)
    last_followup = (
        sa.select(sa.func.max(follow.decision_date))
        .where(follow.enterprise_id == Assessment.enterprise_id, follow.decision_date > Assessment.decision_date,
               follow.status.not_in([S.rejected, S.withdrawn]))
        .correlate(Assessment).scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Assessment.id, Assessment.certificate_no, Assessment.grade, Assessment.decision_date,
                  last_followup, Organisation.name, Enterprise.name, Assessment.flag_surveillance_overdue)
        .join(Organisation, Organisation.id == Assessment.body_id)
        .join(Enterprise, Enterprise.id == Assessment.enterprise_id)
        .where(Assessment.status == S.standing, Assessment.assessment_type != AssessmentType.surveillance,
               Assessment.decision_date <= add_months(horizon, -interval))
    ).all()
    out = []
    for aid, cert, grade, decided, last, body, ent, overdue in rows:
        due = add_months(last or decided, interval)
        if due <= horizon:
            out.append({"id": aid, "certificate_no": cert, "grade": grade.value, "body": body, "enterprise": ent,
                        "due": due, "overdue": due < today or overdue})
    out.sort(key=lambda r: (r["due"], r["id"]))
    return out[:limit]


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    day = min(d.day, [31, 29 if (d.year + y) % 4 == 0 and ((d.year + y) % 100 or (d.year + y) % 400 == 0) else 28,
                      31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m])
    return date(d.year + y, m + 1, day)


def expire_certificates(today: date) -> int:
    """Standing or suspended certificates past their valid-until date become expired."""
    ids = db.session.scalars(sa.select(Assessment.id).where(
        Assessment.status.in_([S.standing, S.suspended]), Assessment.valid_until < today).order_by(Assessment.id)).all()
    for start in range(0, len(ids), BATCH):
        for a in db.session.scalars(sa.select(Assessment).where(Assessment.id.in_(ids[start:start + BATCH]))):
            transition(a, S.expired, actor=SYSTEM, reason=f"valid until {a.valid_until.isoformat()}")
    return len(ids)


def check_surveillance(today: date) -> dict[str, int]:
    """Flag overdue surveillance and suspend certificates that are too long overdue."""
    cfg = current_app.config
    interval, grace = cfg["SURVEILLANCE_INTERVAL_MONTHS"], cfg["SURVEILLANCE_SUSPEND_AFTER_MONTHS"]
    follow = sa.orm.aliased(Assessment)
    last_followup = (
        sa.select(sa.func.max(follow.decision_date))
        .where(follow.enterprise_id == Assessment.enterprise_id, follow.decision_date > Assessment.decision_date,
               follow.status.not_in([S.rejected, S.withdrawn]))
        .correlate(Assessment).scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Assessment.id, Assessment.decision_date, last_followup, Assessment.flag_surveillance_overdue)
        .where(Assessment.status == S.standing,
               Assessment.assessment_type != AssessmentType.surveillance,
               Assessment.decision_date <= add_months(today, -interval))
    ).all()
    flagged, suspended = [], []
    for aid, decided, last, already in rows:
        due = add_months(last or decided, interval)
        if due >= today:
            continue
        if add_months(due, grace) < today:
            suspended.append((aid, due))
        elif not already:
            flagged.append(aid)
    for start in range(0, len(flagged), BATCH):
        db.session.execute(sa.update(Assessment).where(Assessment.id.in_(flagged[start:start + BATCH]))
                           .values(flag_surveillance_overdue=True))
    for aid, due in suspended:
        a = db.session.get(Assessment, aid)
        a.flag_surveillance_overdue = True
        transition(a, S.suspended, actor=SYSTEM,
                   reason=f"{SURVEILLANCE_SUSPENSION} {due.isoformat()} is more than {grace} months overdue")
    return {"flagged": len(flagged), "suspended": len(suspended)}
