from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditbo.database import IdMixin, UTCDateTime, created_at_column, enum_type, utcnow
from auditbo.extensions import db
from auditbo.orgs.models import Enterprise, Organisation, Person
from auditbo.states import Transitions


class Grade(enum.StrEnum):
    A = "A"
    AA = "AA"
    AAA = "AAA"
    AAAA = "AAAA"
    AAAAA = "AAAAA"

    @property
    def level(self) -> int:
        return len(self.value)

    @classmethod
    def of_level(cls, level: int) -> Grade:
        return cls("A" * level)

    @property
    def title(self) -> str:
        names = {1: _l("Initial"), 2: _l("Unit"), 3: _l("Process"), 4: _l("Network"), 5: _l("Ecosystem")}
        return f"{self.value} ({names[self.level]})"


class AssessmentType(enum.StrEnum):
    initial = "initial"
    surveillance = "surveillance"
    reassessment = "reassessment"
    upgrade = "upgrade"

    @property
    def title(self) -> str:
        return str({"initial": _l("Initial assessment"), "surveillance": _l("Surveillance"),
                    "reassessment": _l("Reassessment"), "upgrade": _l("Upgrade")}[self.value])


class TeamRole(enum.StrEnum):
    lead = "lead"
    member = "member"


class AssessmentStatus(enum.StrEnum):
    filed = "filed"
    pending_confirmation = "pending_confirmation"
    returned = "returned"
    standing = "standing"
    rejected = "rejected"
    withdrawn = "withdrawn"
    suspended = "suspended"
    revoked = "revoked"
    expired = "expired"

    @property
    def title(self) -> str:
        return str(STATUS_TITLES[self.value])


# A record becomes a public certificate once it stands; its later states stay visible
# (a suspended or revoked certificate must be checkable). Filed, pending, returned,
# rejected and withdrawn records are not certificates: whatever the public asks about them
# (the lookup, the complaint form) answers as for a number that does not exist.
PUBLIC_CERTIFICATE_STATUSES = (AssessmentStatus.standing, AssessmentStatus.suspended,
                               AssessmentStatus.revoked, AssessmentStatus.expired)


STATUS_TITLES = {
    "filed": _l("Filed"),
    "pending_confirmation": _l("Pending confirmation"),
    "returned": _l("Returned"),
    "standing": _l("Standing"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "suspended": _l("Suspended"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
}

FLAG_TITLES = {  # the flags stored on a record (never blocking; visible to the office)
    "late": _l("Filed late"), "grade_jump": _l("Grade jump"), "reduced_person_days": _l("Reduced person-days"),
    "low_person_days": _l("On-site capacity under half the minimum"), "tie": _l("Tie between consulting and assessing side"),
    "surveillance_overdue": _l("Surveillance overdue"),
}

S = AssessmentStatus
ASSESSMENT_TRANSITIONS = Transitions(
    {
        None: {S.filed},
        S.filed: {S.standing, S.pending_confirmation, S.withdrawn},
        S.pending_confirmation: {S.standing, S.returned, S.rejected, S.withdrawn},
        S.returned: {S.pending_confirmation, S.withdrawn},
        S.standing: {S.suspended, S.revoked, S.expired},
        S.suspended: {S.standing, S.revoked, S.expired},
    }
)


class Assessment(IdMixin, db.Model):
    __tablename__ = "assessments"

    body_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    external_ref: Mapped[str] = mapped_column(sa.String(64))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    assessment_type: Mapped[AssessmentType] = mapped_column(enum_type(AssessmentType, "assessment_type"))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade, "grade"))  # standing grade (after any adjustment)
    filed_grade: Mapped[Grade] = mapped_column(enum_type(Grade, "filed_grade"))
    previous_grade: Mapped[Grade | None] = mapped_column(enum_type(Grade, "previous_grade"))
    consulting_body_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    person_days: Mapped[float] = mapped_column(sa.Float)
    person_days_min: Mapped[float] = mapped_column(sa.Float)
    reduction_reason: Mapped[str | None] = mapped_column(sa.Text)
    onsite_start: Mapped[date] = mapped_column(sa.Date)
    onsite_end: Mapped[date] = mapped_column(sa.Date)
    decision_date: Mapped[date] = mapped_column(sa.Date)
    certificate_no: Mapped[str] = mapped_column(sa.String(64), unique=True)
    valid_until: Mapped[date] = mapped_column(sa.Date)
    # snapshot of the enterprise as filed, for filters and sampling frames without joins
    region_code: Mapped[str] = mapped_column(sa.String(6))
    industry_code: Mapped[str] = mapped_column(sa.String(5))
    status: Mapped[AssessmentStatus] = mapped_column(enum_type(AssessmentStatus, "assessment_status"))
    # flags (spec/domain.md): each stored so the office can filter on it
    flag_late: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    flag_grade_jump: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    flag_reduced_days: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # justified reduction
    flag_low_days: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # team × on-site days < half the minimum
    flag_tie: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    flag_surveillance_overdue: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(sa.String(64))  # idempotent re-filing
    filed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    body: Mapped[Organisation] = relationship(foreign_keys=[body_id], lazy="raise_on_sql")
    consulting_body: Mapped[Organisation | None] = relationship(
        foreign_keys=[consulting_body_id], lazy="raise_on_sql"
    )
    enterprise: Mapped[Enterprise] = relationship(lazy="raise_on_sql")
    team: Mapped[list[TeamMember]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", lazy="raise_on_sql"
    )
    capabilities: Mapped[list[Capability]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", lazy="raise_on_sql"
    )
    consultants: Mapped[list[AssessmentConsultant]] = relationship(
        cascade="all, delete-orphan", lazy="raise_on_sql"
    )
    history: Mapped[list[StatusChange]] = relationship(
        order_by="StatusChange.id", cascade="all, delete-orphan", lazy="raise_on_sql"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("body_id", "external_ref", name="uq_assessments_body_external_ref"),
        sa.CheckConstraint("onsite_start <= onsite_end", name="onsite_order"),
        sa.CheckConstraint("onsite_end <= decision_date", name="decision_after_onsite"),
        sa.CheckConstraint("person_days > 0", name="person_days_pos"),
        sa.Index("ix_assessments_body_decision", "body_id", "decision_date"),
        sa.Index("ix_assessments_status_decision", "status", "decision_date"),
        sa.Index("ix_assessments_grade_decision", "grade", "decision_date"),
        # no (region_code, …) index: region filters are prefixes, which it cannot serve (migration 0012)
        sa.Index("ix_assessments_decision_id", "decision_date", "id"),
        # the list pages filter by status and grade and sort by decision date (office, and per body)
        sa.Index("ix_assessments_status_grade_decision", "status", "grade", "decision_date", "id"),
        sa.Index("ix_assessments_body_status_grade_decision", "body_id", "status", "grade", "decision_date", "id"),
        # a consulting body's share of clients per assessment body (tie flag)
        sa.Index("ix_assessments_consulting_body", "consulting_body_id", "body_id"),
        # the filings of a period (dashboard, body comparison, monthly report)
        sa.Index("ix_assessments_filed_at", "filed_at"),
        sa.Index("ix_assessments_body_filed_at", "body_id", "filed_at"),  # a body's own dashboard
    )


class TeamMember(IdMixin, db.Model):
    __tablename__ = "assessment_team"

    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("persons.id"), index=True)
    role: Mapped[TeamRole] = mapped_column(enum_type(TeamRole, "team_role"))

    assessment: Mapped[Assessment] = relationship(back_populates="team")
    person: Mapped[Person] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("assessment_id", "person_id", name="uq_assessment_team_member"),)


class AssessmentConsultant(IdMixin, db.Model):
    __tablename__ = "assessment_consultants"

    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("persons.id"), index=True)

    person: Mapped[Person] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("assessment_id", "person_id", name="uq_assessment_consultant"),)


class Capability(IdMixin, db.Model):
    __tablename__ = "assessment_capabilities"

    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[int] = mapped_column(sa.SmallInteger)  # CL1..CL5 as 1..5

    assessment: Mapped[Assessment] = relationship(back_populates="capabilities")

    __table_args__ = (sa.CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)


class StatusChange(IdMixin, db.Model):
    """Every transition of an assessment: who, when, why."""

    __tablename__ = "assessment_status_changes"

    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[AssessmentStatus | None] = mapped_column(enum_type(AssessmentStatus, "from_status"))
    to_status: Mapped[AssessmentStatus] = mapped_column(enum_type(AssessmentStatus, "to_status"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime] = created_at_column()
