"""Reminding reviewers of confirmation audits that fall due soon (a scheduled job)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app

from auditbo import clock, events
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit
from auditbo.events import SYSTEM, Event
from auditbo.extensions import db
from auditbo.workdays import calendar_from_config


def send_reminders(today: date | None = None) -> int:
    """Remind each reviewer of their open audits due within N working days (not yet overdue).

    There is no mail system: the reminder is a ``reminder_sent`` event addressed to the
    reviewer (shown in their queue). Idempotent: at most one reminder per audit per day.
    """
    cfg = current_app.config
    today = today or clock.today()
    cutoff = calendar_from_config(cfg).add_working_days(today, cfg["CONFIRMATION_REMINDER_WORKING_DAYS"])
    due = db.session.execute(
        sa.select(ConfirmationAudit.id, ConfirmationAudit.assignee_id, ConfirmationAudit.due_date)
        .where(ConfirmationAudit.status == AuditStatus.assigned, ConfirmationAudit.due_date >= today,
               ConfirmationAudit.due_date <= cutoff)
        .order_by(ConfirmationAudit.id)).all()
    if not due:
        return 0
    sent_today = reminded_on(today, [str(r.id) for r in due])
    cal = calendar_from_config(cfg)
    evs = []
    for r in due:
        if str(r.id) in sent_today:
            continue
        evs.append((SYSTEM, "confirmation", r.id, "reminder_sent", None,
                    {"to": r.assignee_id, "for_date": today.isoformat(), "due_date": r.due_date.isoformat(),
                     "working_days_left": cal.working_days_between(today, r.due_date)}, None))
    if evs:
        events.record_many(evs)
    return len(evs)


def reminded_on(day: date, record_ids: list[str]) -> set[str]:
    """Audits (as record ids) already reminded for ``day``."""
    if not record_ids:
        return set()
    rows = db.session.execute(
        sa.select(Event.record_id, Event.after).where(
            Event.record_type == "confirmation", Event.action == "reminder_sent",
            Event.record_id.in_(record_ids))).all()
    return {rid for rid, after in rows if (after or {}).get("for_date") == day.isoformat()}
