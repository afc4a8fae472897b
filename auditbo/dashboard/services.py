"""Counts for the dashboard, aggregated in SQL and scoped to what the user may see."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from auditbo import clock
from auditbo.authz import Action, can, scope_assessments
from auditbo.complaints.models import Complaint, ComplaintStatus
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit
from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentStatus, Grade
from auditbo.spotchecks.models import CheckStatus, SpotCheck


def status_and_grade_counts(user) -> tuple[dict[str, int], dict[str, int]]:
    """Assessments by status, and standing certificates by grade: one scan, grouped by both."""
    stmt = scope_assessments(
        sa.select(Assessment.status, Assessment.grade, sa.func.count()).group_by(
            Assessment.status, Assessment.grade
        ),
        user,
    )
    statuses = {s.value: 0 for s in AssessmentStatus}
    grades = {g.value: 0 for g in Grade}
    for status, grade, n in db.session.execute(stmt):
        statuses[status.value] += n
        if status is AssessmentStatus.standing:
            grades[grade.value] += n
    return statuses, grades


def office_counts(user, today: date | None = None) -> dict[str, int] | None:
    if not can(user, Action.view_office_queues):
        return None
    today = today or clock.today()
    open_audit = ConfirmationAudit.status.in_([AuditStatus.pending, AuditStatus.assigned])
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(ConfirmationAudit.due_date < today),
            sa.func.count().filter(ConfirmationAudit.assignee_id == user.id),
        ).where(open_audit)  # the open audits only (the status index): not the whole history
    ).one()
    open_checks = db.session.scalar(
        sa.select(sa.func.count()).select_from(SpotCheck).where(SpotCheck.status == CheckStatus.open)
    )
    open_complaints = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Complaint)
        .where(Complaint.status.in_([ComplaintStatus.received, ComplaintStatus.investigating]))
    )
    return {
        "audits_open": row[0],
        "audits_overdue": row[1],
        "audits_mine": row[2],
        "spotchecks_open": open_checks,
        "complaints_open": open_complaints,
    }
