"""Confirmation audits: opening them for AAA+ filings and drawing their reviewers.

(Review, findings and decisions are worked on the audit itself; see issue 5.)
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app

from auditbo import events
from auditbo.confirmations.assignment import NoEligibleReviewer, ReviewerPool, parties_of
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit
from auditbo.db import utcnow
from auditbo.events import SYSTEM
from auditbo.extensions import db
from auditbo.workdays import calendar_from_config


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
    pool = ReviewerPool.load_from_db(today, cfg["RECUSAL_LOOKBACK_YEARS"])
    due = due_date_for(today)
    now = utcnow()
    audit_rows, evs = [], []
    for r in rows:
        parties = parties_of(r["body_id"], r.get("consulting_body_id"), r["enterprise_id"])
        assignee, seed, failure = None, None, None
        previous = (reviewer_of or {}).get(r["assessment_id"])
        if previous is not None and previous in pool.eligible(parties):
            assignee = previous
        else:
            try:
                assignee, seed = pool.draw(parties)
            except NoEligibleReviewer as exc:
                failure = exc.detail
        audit_rows.append({
            "assessment_id": r["assessment_id"], "round": r.get("round", 1),
            "status": AuditStatus.assigned.value if assignee else AuditStatus.pending.value,
            "assignee_id": assignee, "assigned_at": now if assignee else None, "draw_seed": seed,
            "due_date": due, "checklist": {}, "created_at": now, "version": 1,
        })
    ids = db.session.execute(
        sa.insert(ConfirmationAudit).returning(ConfirmationAudit.id, sort_by_parameter_order=True), audit_rows
    ).scalars().all()
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
        audit.status = AuditStatus.cancelled
        events.record(actor, "confirmation", audit.id, "cancelled", reason=reason)


def latest_audit(assessment_id: int) -> ConfirmationAudit | None:
    return db.session.scalar(sa.select(ConfirmationAudit).where(ConfirmationAudit.assessment_id == assessment_id)
                             .order_by(ConfirmationAudit.round.desc()).limit(1))
