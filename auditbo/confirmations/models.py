from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditbo.database import IdMixin, UTCDateTime, created_at_column, enum_type
from auditbo.extensions import db
from auditbo.filings.models import Assessment, Grade
from auditbo.states import Transitions


class AuditStatus(enum.StrEnum):
    pending = "pending"  # created, no reviewer yet
    assigned = "assigned"
    decided = "decided"
    cancelled = "cancelled"  # the filing was withdrawn


class Decision(enum.StrEnum):
    confirmed = "confirmed"
    grade_adjusted = "grade_adjusted"
    returned = "returned"
    rejected = "rejected"


class Severity(enum.StrEnum):
    major = "major"
    minor = "minor"
    observation = "observation"


class FindingAgainst(enum.StrEnum):
    body = "body"
    lead = "lead"
    member = "member"
    consultant = "consultant"


A = AuditStatus
AUDIT_TRANSITIONS = Transitions(
    {
        None: {A.pending, A.assigned},
        A.pending: {A.assigned, A.cancelled},
        # assigned -> pending: the reviewer declared a conflict and nobody else may review it
        A.assigned: {A.assigned, A.pending, A.decided, A.cancelled},
    }
)


class ConfirmationAudit(IdMixin, db.Model):
    """One per AAA+ filing, and one more per re-filing after a return (round 2, 3 …)."""

    __tablename__ = "confirmation_audits"

    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id"), index=True)
    round: Mapped[int] = mapped_column(sa.Integer, default=1)
    status: Mapped[AuditStatus] = mapped_column(enum_type(AuditStatus, "audit_status"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    draw_seed: Mapped[int | None] = mapped_column(sa.BigInteger)
    due_date: Mapped[date] = mapped_column(sa.Date, index=True)
    declaration_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checklist: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    checklist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checklists.id"))  # the version answered; 0009
    decision: Mapped[Decision | None] = mapped_column(enum_type(Decision, "audit_decision"))
    adjusted_grade: Mapped[Grade | None] = mapped_column(enum_type(Grade, "adjusted_grade"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    assessment: Mapped[Assessment] = relationship(lazy="raise_on_sql")
    findings: Mapped[list[Finding]] = relationship(
        back_populates="audit", order_by="Finding.id", cascade="all, delete-orphan", lazy="raise_on_sql"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("assessment_id", "round", name="uq_confirmation_audits_assessment_round"),
        # open audits per reviewer: the reviewer draw's load balance and the navigation badge
        sa.Index("ix_confirmation_audits_status_assignee", "status", "assignee_id"),
        # the audits decided in a period (dashboard, body comparison, monthly report)
        sa.Index("ix_confirmation_audits_decided_at", "decided_at"),
        sa.CheckConstraint(
            "(decision = 'grade_adjusted') = (adjusted_grade IS NOT NULL)", name="adjusted_grade_iff"
        ),
    )


class Finding(IdMixin, db.Model):
    __tablename__ = "confirmation_findings"

    audit_id: Mapped[int] = mapped_column(sa.ForeignKey("confirmation_audits.id", ondelete="CASCADE"), index=True)
    severity: Mapped[Severity] = mapped_column(enum_type(Severity, "finding_severity"))
    text: Mapped[str] = mapped_column(sa.Text)
    against: Mapped[FindingAgainst] = mapped_column(enum_type(FindingAgainst, "finding_against"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("persons.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    audit: Mapped[ConfirmationAudit] = relationship(back_populates="findings")


class Recusal(IdMixin, db.Model):
    """A reviewer or inspector listed by hand as recused from a body or an enterprise."""

    __tablename__ = "recusals"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint("(org_id IS NULL) <> (enterprise_id IS NULL)", name="one_party"),
    )
