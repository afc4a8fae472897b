"""Confirmation audits: opening them for AAA+ filings, drawing their reviewers, and the review
itself (declaration, checklist, findings, decision, reassignment). The manual recusal list is in
:mod:`~auditbo.confirmations.recusals`, the reminders job in :mod:`~auditbo.confirmations.reminders`.

Plain functions: validate (every error at once), change state through the guarded
transitions, append the event, return. They never commit; the request, command or job does.
Optimistic locking: ``ConfirmationAudit.version`` is SQLAlchemy's version counter; a caller
that read version N decides with ``version=N`` and gets a :class:`Conflict` when someone else
changed the audit since, either at the explicit comparison or, when both read the same
version at the same moment, at the flush (``StaleDataError``).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from auditbo import events
from auditbo.checklists import services as criteria
from auditbo.clock import today as _today
from auditbo.confirmations import queries, recusals
from auditbo.confirmations.assignment import NoEligibleReviewer, ReviewerPool, is_recused, parties_of
from auditbo.confirmations.models import (
    AUDIT_TRANSITIONS,
    AuditStatus,
    ConfirmationAudit,
    Decision,
    Finding,
    FindingAgainst,
    Severity,
)
from auditbo.database import bulk_insert, utcnow
from auditbo.errors import Conflict, ErrorCollector, Forbidden
from auditbo.events import SYSTEM, Actor
from auditbo.extensions import db
from auditbo.filings import lifecycle
from auditbo.findings import check_finding
from auditbo.workdays import calendar_from_config

# The reviewer's checklist: the audit criteria in force for the record's grade (auditbo.checklists);
# CHECKLIST is the built-in version 0, which serves until the office publishes one.
CHECKLIST = criteria.BUILT_IN
ANSWERS = ("yes", "no", "na")
PARTIES = recusals.PARTIES
MAX_TEXT = 4000


def due_date_for(opened: date) -> date:
    cfg = current_app.config
    return calendar_from_config(cfg).add_working_days(opened, cfg["CONFIRMATION_DUE_WORKING_DAYS"])


def open_audits(rows: list[dict], today: date, *, reviewer_of: dict[int, int] | None = None) -> list[tuple]:
    """Open one audit per row (dicts with assessment_id, body_id, consulting_body_id, enterprise_id,
    round) and draw its reviewer; a re-review (round > 1) goes back to ``reviewer_of[assessment_id]``.

    Returns the events to append. An audit nobody may review stays ``pending`` with an
    ``assignment_failed`` event, for an admin to resolve: it is never given to a recused reviewer.
    """
    if not rows:
        return []
    cfg = current_app.config
    pool = ReviewerPool.load_from_db(today, cfg["RECUSAL_LOOKBACK_YEARS"],
                                     load_ttl=cfg["CONFIRMATION_LOAD_CACHE_SECONDS"])
    due = due_date_for(today)
    now = utcnow()
    audit_rows, evs = [], []
    for r in rows:
        parties = parties_of(r["body_id"], r.get("consulting_body_id"), r["enterprise_id"])
        assignee, seed = None, None
        previous = (reviewer_of or {}).get(r["assessment_id"])
        if previous is not None and previous in pool.eligible(parties):
            assignee = previous
        else:
            try:
                assignee, seed = pool.draw(parties)
            except NoEligibleReviewer:
                pass  # stays pending, with an assignment_failed event below
        audit_rows.append({
            "assessment_id": r["assessment_id"], "round": r.get("round", 1),
            "status": AuditStatus.assigned.value if assignee else AuditStatus.pending.value,
            "assignee_id": assignee, "assigned_at": now if assignee else None, "draw_seed": seed,
            "due_date": due, "checklist": {}, "created_at": now, "version": 1,
        })
    ids = bulk_insert(ConfirmationAudit, audit_rows, returning=ConfirmationAudit.id)
    for audit_id, row in zip(ids, audit_rows, strict=True):
        if row["assignee_id"]:
            evs.append((SYSTEM, "confirmation", audit_id, "assigned", None,
                        {"assessment_id": row["assessment_id"], "round": row["round"],
                         "assignee_id": row["assignee_id"], "draw_seed": row["draw_seed"],
                         "due_date": row["due_date"].isoformat()}, None))
        else:
            evs.append((SYSTEM, "confirmation", audit_id, "assignment_failed", None,
                        {"assessment_id": row["assessment_id"], "round": row["round"]},
                        "no eligible reviewer: every supervisor is recused"))
    return evs


def cancel_open_audits(assessment_id: int, actor, reason: str) -> None:
    audits = db.session.scalars(sa.select(ConfirmationAudit).where(
        ConfirmationAudit.assessment_id == assessment_id,
        ConfirmationAudit.status.in_([AuditStatus.pending, AuditStatus.assigned]))).all()
    for audit in audits:
        AUDIT_TRANSITIONS.check(audit.status, AuditStatus.cancelled)
        audit.status = AuditStatus.cancelled
        _flush()  # a reviewer deciding at the same moment: one of the two gets a clear conflict
        events.record(actor, "confirmation", audit.id, "cancelled", reason=reason)


def latest_audit(assessment_id: int) -> ConfirmationAudit | None:
    return db.session.scalar(sa.select(ConfirmationAudit).where(ConfirmationAudit.assessment_id == assessment_id)
                             .order_by(ConfirmationAudit.round.desc()).limit(1))


# --- helpers ---------------------------------------------------------------------------------
def _assessment(audit: ConfirmationAudit):
    from auditbo.filings.models import Assessment

    return db.session.get(Assessment, audit.assessment_id)


def audit_parties(audit: ConfirmationAudit) -> set[tuple[str, int]]:
    a = _assessment(audit)
    return parties_of(a.body_id, a.consulting_body_id, a.enterprise_id)


def reviewer_is_recused(audit: ConfirmationAudit, user_id: int, today: date | None = None) -> bool:
    return is_recused(user_id, audit_parties(audit), today or _today(), current_app.config["RECUSAL_LOOKBACK_YEARS"])


def _flush() -> None:
    """Flush the audit's change first (its row lock is the first lock taken); a concurrent
    change that got there first makes the UPDATE match no row: a clear conflict."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("someone else changed this confirmation audit at the same moment; "
                       "reload it and try again") from None


def _touch(audit: ConfirmationAudit) -> None:
    """Bump the audit's version (a finding changes what a decision was based on)."""
    flag_modified(audit, "checklist")


def _require_reviewer(audit: ConfirmationAudit, actor: Actor) -> None:
    """Only the assigned reviewer works on an open audit, and never a recused one."""
    if audit.status is not AuditStatus.assigned:
        raise Conflict(f"this confirmation audit is {audit.status.value}; it can no longer be worked on")
    if actor.id is None or audit.assignee_id != actor.id:
        raise Forbidden("only the assigned reviewer may work on this confirmation audit")
    if reviewer_is_recused(audit, actor.id):
        raise Forbidden("you are recused from this assessment's parties; an administrator must reassign it")


def _ensure_declared(audit: ConfirmationAudit, actor: Actor, via: str) -> None:
    """In the web UI the reviewer signs the declaration on opening, before anything else; a
    script acting through the API without having signed it signs it by acting (recorded so)."""
    if audit.declaration_signed_at is None and via == "web":
        raise Conflict("sign the self-declaration (no conflict of interest) before working on the audit")
    if audit.declaration_signed_at is None:
        audit.declaration_signed_at = utcnow()
        _flush()
        events.record(actor, "confirmation", audit.id, "declaration_signed",
                      after={"no_conflict": True, "implicit": True, "via": via})


def check_version(audit: ConfirmationAudit, version) -> None:
    if version != audit.version:
        raise Conflict(f"this confirmation audit was changed since you read it (you read version {version}, "
                       f"it is now version {audit.version}); reload it and try again")


# --- the reviewer's self-declaration ----------------------------------------------------------
def declare(audit: ConfirmationAudit, actor: Actor, *, conflict: bool = False, parties: list[str] | None = None,
            reason: str = "") -> ConfirmationAudit:
    """Sign the no-conflict declaration on opening, or declare a conflict instead.

    A declared conflict lists the reviewer as recused from the named parties (Recusal rows)
    and draws another reviewer; with nobody left, the audit goes back to ``pending`` for an
    administrator (``assignment_failed``), never to a recused reviewer.
    """
    if not conflict:
        _require_reviewer(audit, actor)
        if audit.declaration_signed_at is not None:
            return audit
        audit.declaration_signed_at = utcnow()
        _flush()
        events.record(actor, "confirmation", audit.id, "declaration_signed", after={"no_conflict": True})
        return audit
    if audit.status is not AuditStatus.assigned:
        raise Conflict(f"this confirmation audit is {audit.status.value}")
    if actor.id is None or audit.assignee_id != actor.id:
        raise Forbidden("only the assigned reviewer may declare a conflict on this confirmation audit")
    parties = list(dict.fromkeys(parties or []))
    recusals.declare_ties(_assessment(audit), parties, reason, actor, max_text=MAX_TEXT)
    events.record(actor, "confirmation", audit.id, "conflict_declared", after={"parties": parties},
                  reason=reason.strip())
    _redraw(audit, actor, reason="the reviewer declared a conflict of interest", exclude={actor.id}, fail_soft=True)
    return audit


def _redraw(audit: ConfirmationAudit, actor: Actor, *, reason: str, exclude: set[int], fail_soft: bool) -> None:
    cfg = current_app.config
    pool = ReviewerPool.load_from_db(_today(), cfg["RECUSAL_LOOKBACK_YEARS"])
    before = {"assignee_id": audit.assignee_id}
    try:
        assignee, seed = pool.draw(audit_parties(audit), exclude=exclude)
    except NoEligibleReviewer as exc:
        if not fail_soft:
            raise NoEligibleReviewer("no other supervisor may review this assessment: every other one is "
                                     "recused from its parties (or there is none); list fewer recusals "
                                     "or add a supervisor") from None
        AUDIT_TRANSITIONS.check(audit.status, AuditStatus.pending)
        audit.status, audit.assignee_id, audit.assigned_at, audit.draw_seed = AuditStatus.pending, None, None, None
        audit.declaration_signed_at = None
        _flush()
        events.record(actor, "confirmation", audit.id, "assignment_failed", before=before,
                      after={"assignee_id": None}, reason=f"{reason}; {exc.detail}")
        return
    AUDIT_TRANSITIONS.check(audit.status, AuditStatus.assigned)
    audit.status, audit.assignee_id, audit.assigned_at, audit.draw_seed = (
        AuditStatus.assigned, assignee, utcnow(), seed)
    audit.declaration_signed_at = None  # the new reviewer signs their own
    _flush()
    events.record(actor, "confirmation", audit.id, "reassigned", before=before,
                  after={"assignee_id": assignee, "draw_seed": seed}, reason=reason)


# --- reassignment (admin) ---------------------------------------------------------------------
def reassign(audit: ConfirmationAudit, reason: str, actor: Actor) -> ConfirmationAudit:
    """Draw a new reviewer (never the current one, never a recused one), with a reason."""
    errors = ErrorCollector()
    if not (reason or "").strip():
        errors.add("reason", "a reassignment needs a reason")
    elif len(reason) > MAX_TEXT:
        errors.add("reason", f"at most {MAX_TEXT} characters")
    errors.raise_if_any()
    if audit.status not in (AuditStatus.pending, AuditStatus.assigned):
        raise Conflict(f"a {audit.status.value} confirmation audit cannot be reassigned")
    exclude = {audit.assignee_id} if audit.assignee_id else set()
    _redraw(audit, actor, reason=reason.strip(), exclude=exclude, fail_soft=False)
    return audit


# --- checklist and findings -----------------------------------------------------------------
def save_checklist(audit: ConfirmationAudit, answers: dict, actor: Actor, *, note: str | None = None,
                   via: str = "web") -> ConfirmationAudit:
    """Record the reviewer's answers (yes / no / na per item of the checklist in use; unanswered items
    are left out). The audit keeps the version it was answered against."""
    _require_reviewer(audit, actor)
    errors = ErrorCollector()
    used = queries.checklist_of(audit)
    new = criteria.check_answers(used, answers, errors, prefix="checklist.")
    if note is not None and len(note) > MAX_TEXT:
        errors.add("note", f"at most {MAX_TEXT} characters")
    errors.raise_if_any()
    if note and note.strip():
        new["note"] = note.strip()
    old = dict(audit.checklist or {})
    if new == old and audit.checklist_id == used["id"]:
        return audit
    _ensure_declared(audit, actor, via)
    audit.checklist = new
    audit.checklist_id = used["id"]
    _flush()
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    events.record(actor, "confirmation", audit.id, "checklist_saved",
                  before={k: old.get(k) for k in changed},
                  after={**{k: new.get(k) for k in changed}, "checklist_version": used["version"]})
    return audit


def add_finding(audit: ConfirmationAudit, severity: str, text: str, against: str, person_id: str | None,
                actor: Actor, *, via: str = "web") -> Finding:
    """A finding held against the body, the lead, a team member or a consultant of this record.

    ``person_id`` is the registry's id of the person (required for a member or a consultant;
    for the lead it defaults to the record's lead; a finding against the body names nobody).
    """
    _require_reviewer(audit, actor)
    a = _assessment(audit)
    text, person_id, person_pk = check_finding(a.id, severity, text, against, person_id)
    _ensure_declared(audit, actor, via)
    finding = Finding(audit_id=audit.id, severity=Severity(severity), text=text, against=FindingAgainst(against),
                      person_id=person_pk, created_by_id=actor.id)
    db.session.add(finding)
    _touch(audit)
    _flush()
    events.record(actor, "confirmation", audit.id, "finding_added",
                  after={"finding_id": finding.id, "severity": severity, "against": against,
                         "person_id": person_id if against != "body" else None, "text": text})
    return finding


# --- the decision ---------------------------------------------------------------------------
def decide(audit: ConfirmationAudit, decision: str, grade: str | None, reason: str | None, version,
           actor: Actor, *, via: str = "web") -> ConfirmationAudit:
    """Decide the audit and apply its effect on the assessment.

    confirmed → standing; grade_adjusted → standing with the lower grade; returned → returned
    (the body amends, and the amendment comes back to the same reviewer as a re-review);
    rejected → rejected. ``version`` is the version the reviewer read: a stale one is a Conflict.
    """
    from auditbo.filings.models import AssessmentStatus, Grade

    a = _assessment(audit)
    errors = ErrorCollector()
    if decision not in {d.value for d in Decision}:
        errors.add("decision", f"must be one of {', '.join(d.value for d in Decision)}")
    reason = (reason or "").strip()
    adjusted = None
    if decision == Decision.grade_adjusted.value:
        if not grade:
            errors.add("grade", "name the lower grade")
        elif grade not in {g.value for g in Grade}:
            errors.add("grade", f"must be one of {', '.join(g.value for g in Grade)}")
        elif Grade(grade).level >= a.grade.level:
            errors.add("grade", f"must be lower than the filed grade {a.grade.value}")
        else:
            adjusted = Grade(grade)
    elif grade:
        errors.add("grade", "only a grade_adjusted decision sets a grade")
    if decision in {"grade_adjusted", "returned", "rejected"} and not reason:
        errors.add("reason", "this decision needs a reason")
    if len(reason) > MAX_TEXT:
        errors.add("reason", f"at most {MAX_TEXT} characters")
    if not isinstance(version, int) or isinstance(version, bool):
        errors.add("version", "send the version you read")
    errors.raise_if_any()
    check_version(audit, version)
    _require_reviewer(audit, actor)
    _ensure_declared(audit, actor, via)
    AUDIT_TRANSITIONS.check(audit.status, AuditStatus.decided)
    d = Decision(decision)
    audit.status, audit.decision, audit.adjusted_grade = AuditStatus.decided, d, adjusted
    audit.reason, audit.decided_at, audit.decided_by_id = reason or None, utcnow(), actor.id
    _flush()  # the audit first: a concurrent decision fails here, before anything else is touched
    events.record(actor, "confirmation", audit.id, "decided", before={"status": "assigned"},
                  after={"decision": d.value, "adjusted_grade": adjusted.value if adjusted else None,
                         "assessment_id": a.id, "round": audit.round}, reason=reason or None)
    target = {Decision.confirmed: AssessmentStatus.standing, Decision.grade_adjusted: AssessmentStatus.standing,
              Decision.returned: AssessmentStatus.returned, Decision.rejected: AssessmentStatus.rejected}[d]
    if adjusted is not None:
        before = a.grade
        a.grade = adjusted
        events.record(actor, "assessment", a.id, "grade_adjusted", before={"grade": before.value},
                      after={"grade": adjusted.value}, reason=reason)
    lifecycle.transition(a, target, actor=actor, reason=reason or None)
    _flush()
    return audit
