"""Time-driven changes of standing certificates: expiry and overdue surveillance.

A standing certificate (from an initial assessment, reassessment or upgrade) needs a
later assessment of its enterprise (a surveillance, or a reassessment or upgrade that
goes further) within each ``SURVEILLANCE_INTERVAL_MONTHS`` of its decision or of the last
one; one overdue is flagged, and one more than ``SURVEILLANCE_SUSPEND_AFTER_MONTHS``
overdue is suspended. Both are idempotent.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app

from auditbo.events import SYSTEM
from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentStatus, AssessmentType
from auditbo.filings.services import transition

S = AssessmentStatus
BATCH = 1000


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
                   reason=f"surveillance assessment due {due.isoformat()} is more than {grace} months overdue")
    return {"flagged": len(flagged), "suspended": len(suspended)}
