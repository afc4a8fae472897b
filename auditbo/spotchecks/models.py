from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditbo.confirmations.models import FindingAgainst as _Against
from auditbo.confirmations.models import Severity as _Severity
from auditbo.database import IdMixin, UTCDateTime, created_at_column, enum_type
from auditbo.evidence import EvidenceFile
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.states import Transitions


class PlanStatus(enum.StrEnum):
    draft = "draft"
    approved = "approved"
    drawn = "drawn"
    closed = "closed"


class CheckStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class CheckOutcome(enum.StrEnum):
    conforming = "conforming"
    minor_findings = "minor_findings"
    major_findings = "major_findings"


class Consequence(enum.StrEnum):
    none = "none"
    downgrade = "downgrade"
    suspend = "suspend"
    revoke = "revoke"


P = PlanStatus
PLAN_TRANSITIONS = Transitions({None: {P.draft}, P.draft: {P.approved}, P.approved: {P.drawn}, P.drawn: {P.closed}})
CHECK_TRANSITIONS = Transitions({None: {CheckStatus.open}, CheckStatus.open: {CheckStatus.closed}})


class SamplingPlan(IdMixin, db.Model):
    __tablename__ = "sampling_plans"

    title: Mapped[str] = mapped_column(sa.String(200))
    population: Mapped[dict] = mapped_column(sa.JSON)  # filter: decided_from/to, grades, regions, bodies
    size: Mapped[int] = mapped_column(sa.Integer)
    uniform_share: Mapped[float] = mapped_column(sa.Float, default=0.2)
    strata_column: Mapped[str | None] = mapped_column(sa.String(40))
    design: Mapped[str] = mapped_column(sa.String(40), default="risk_pps")
    seed: Mapped[int | None] = mapped_column(sa.BigInteger)  # drawn at the draw, never known before
    plan_date: Mapped[date | None] = mapped_column(sa.Date)  # features are computed as of this day
    status: Mapped[PlanStatus] = mapped_column(enum_type(PlanStatus, "plan_status"), default=PlanStatus.draft)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    frame_hash: Mapped[str | None] = mapped_column(sa.String(64))
    model_version: Mapped[str | None] = mapped_column(sa.String(80))
    summary: Mapped[dict | None] = mapped_column(sa.JSON)  # metrics, parameters, expected yield
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint("size > 0", name="size_pos"),
        sa.CheckConstraint("uniform_share > 0 AND uniform_share <= 1", name="uniform_share_range"),
        sa.CheckConstraint("approved_by_id IS NULL OR approved_by_id <> author_id", name="four_eyes"),
    )


class PlanUnit(db.Model):
    """The frozen frame of a drawn plan: every unit with its risk, π and selection."""

    __tablename__ = "sampling_plan_units"

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("sampling_plans.id", ondelete="CASCADE"), primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id"), primary_key=True)
    risk: Mapped[float] = mapped_column(sa.Float)
    inclusion_probability: Mapped[float] = mapped_column(sa.Float)
    mandatory: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    selected: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    reasons: Mapped[str | None] = mapped_column(sa.Text)
    features: Mapped[dict | None] = mapped_column(sa.JSON)  # frozen as drawn: the verify recomputes from these

    __table_args__ = (
        sa.CheckConstraint(
            "inclusion_probability > 0 AND inclusion_probability <= 1", name="pi_range"
        ),
    )


class SpotCheck(IdMixin, db.Model):
    __tablename__ = "spot_checks"

    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sampling_plans.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaints.id"))  # mandated by a complaint
    inclusion_probability: Mapped[float] = mapped_column(sa.Float, default=1.0)
    status: Mapped[CheckStatus] = mapped_column(enum_type(CheckStatus, "check_status"), default=CheckStatus.open)
    outcome: Mapped[CheckOutcome | None] = mapped_column(enum_type(CheckOutcome, "check_outcome"))
    consequence: Mapped[Consequence | None] = mapped_column(enum_type(Consequence, "check_consequence"))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    opened_on: Mapped[date] = mapped_column(sa.Date)
    closed_on: Mapped[date | None] = mapped_column(sa.Date)
    disclose_by: Mapped[date | None] = mapped_column(sa.Date)
    disclosed_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = created_at_column()
    visit_on: Mapped[date | None] = mapped_column(sa.Date)
    assign_seed: Mapped[int | None] = mapped_column(sa.BigInteger)
    reason: Mapped[str | None] = mapped_column(sa.Text)  # of the outcome and its consequence
    downgraded_to: Mapped[str | None] = mapped_column(sa.String(5))
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    checklist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checklists.id"))
    checklist_answers: Mapped[dict | None] = mapped_column(sa.JSON)
    version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")

    assessment: Mapped[Assessment] = relationship(lazy="raise_on_sql")
    inspectors: Mapped[list[SpotCheckInspector]] = relationship(cascade="all, delete-orphan", lazy="raise_on_sql")
    findings: Mapped[list[SpotCheckFinding]] = relationship(
        order_by="SpotCheckFinding.id", cascade="all, delete-orphan", lazy="raise_on_sql")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("(status = 'closed') = (outcome IS NOT NULL)", name="closed_has_outcome"),
        sa.Index("ix_spot_checks_status_disclose_by", "status", "disclose_by"),
    )


class SpotCheckInspector(db.Model):
    __tablename__ = "spot_check_inspectors"

    spot_check_id: Mapped[int] = mapped_column(sa.ForeignKey("spot_checks.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)


class SpotCheckFinding(IdMixin, db.Model):
    """A finding of a spot check: as a confirmation finding, held against the body, the lead, a member
    or a consultant of the record."""

    __tablename__ = "spot_check_findings"

    spot_check_id: Mapped[int] = mapped_column(sa.ForeignKey("spot_checks.id", ondelete="CASCADE"), index=True)
    severity: Mapped[_Severity] = mapped_column(enum_type(_Severity, "spot_finding_severity"))
    text: Mapped[str] = mapped_column(sa.Text)
    against: Mapped[_Against] = mapped_column(enum_type(_Against, "spot_finding_against"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("persons.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class SpotCheckFile(IdMixin, EvidenceFile, db.Model):
    """Evidence an inspector attached to a spot check (PDF, PNG, JPEG), kept in the database like a
    complaint's: stored in the upload's own transaction, so a refused upload leaves nothing."""

    __tablename__ = "spot_check_files"

    spot_check_id: Mapped[int] = mapped_column(sa.ForeignKey("spot_checks.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
