from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from auditbo.database import IdMixin, UTCDateTime, created_at_column, enum_type
from auditbo.evidence import EvidenceFile
from auditbo.extensions import db
from auditbo.states import Transitions


class SubjectType(enum.StrEnum):
    assessment_body = "assessment_body"
    consulting_body = "consulting_body"
    assessor = "assessor"
    consultant = "consultant"


class RunStatus(enum.StrEnum):
    draft = "draft"
    reviewed = "reviewed"
    published = "published"
    superseded = "superseded"


class ObjectionStatus(enum.StrEnum):
    lodged = "lodged"
    upheld = "upheld"
    dismissed = "dismissed"


class RatingRun(IdMixin, db.Model):
    __tablename__ = "rating_runs"

    period: Mapped[str] = mapped_column(sa.String(7), index=True)  # YYYY-MM
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    status: Mapped[RunStatus] = mapped_column(enum_type(RunStatus, "run_status"), default=RunStatus.draft)
    correction_reason: Mapped[str | None] = mapped_column(sa.Text)
    config: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    validation: Mapped[dict | None] = mapped_column(sa.JSON)
    run_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    # 0006: when the engine last computed it, and why it refused the data (a failed run holds no ratings)
    error: Mapped[str | None] = mapped_column(sa.Text)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def state(self) -> str:
        """What callers see: ``failed`` for a run the engine refused, else the status."""
        return "failed" if self.error else self.status.value

    __table_args__ = (
        sa.UniqueConstraint("period", "version", name="uq_rating_runs_period_version"),
        sa.CheckConstraint("version >= 1", name="version_pos"),
    )


class Rating(IdMixin, db.Model):
    __tablename__ = "ratings"

    run_id: Mapped[int] = mapped_column(sa.ForeignKey("rating_runs.id", ondelete="CASCADE"))
    subject_type: Mapped[SubjectType] = mapped_column(enum_type(SubjectType, "subject_type"))
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("persons.id"), index=True)
    score: Mapped[float | None] = mapped_column(sa.Float)  # NULL for NR
    score_low: Mapped[float | None] = mapped_column(sa.Float)
    score_high: Mapped[float | None] = mapped_column(sa.Float)
    grade: Mapped[str] = mapped_column(sa.String(3))
    effective_n: Mapped[float] = mapped_column(sa.Float, default=0.0)
    contributions: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    reasons: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {"zh": [...], "en": [...]}
    change: Mapped[dict | None] = mapped_column(sa.JSON)  # since last month, with causing events
    # 0006: an upheld objection publishes version 2 of this rating; version 1 is kept, superseded
    version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    correction_reason: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.UniqueConstraint("run_id", "subject_type", "org_id", "person_id", name="uq_ratings_subject"),
        # one version per subject and run (NULLs are distinct: each index holds one kind of subject)
        sa.Index("ix_ratings_run_org_version", "run_id", "org_id", "version", unique=True),
        sa.Index("ix_ratings_run_person_version", "run_id", "person_id", "version", unique=True),
        sa.CheckConstraint("grade IN ('AAA', 'AA', 'A', 'B', 'C', 'NR')", name="grade_values"),
        sa.CheckConstraint("(org_id IS NULL) <> (person_id IS NULL)", name="one_subject"),
    )


class Objection(IdMixin, db.Model):
    """A rated body's objection (异议), decided by someone who did not run the rating."""

    __tablename__ = "rating_objections"

    rating_id: Mapped[int] = mapped_column(sa.ForeignKey("ratings.id"), index=True)
    lodged_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    lodged_on: Mapped[date] = mapped_column(sa.Date)
    text: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ObjectionStatus] = mapped_column(
        enum_type(ObjectionStatus, "objection_status"), default=ObjectionStatus.lodged
    )
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()
    corrected_rating_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ratings.id"))  # 0006: upheld


class ObjectionFile(IdMixin, EvidenceFile, db.Model):
    """An attachment of an objection (PDF, PNG, JPEG), kept in the database like a complaint's: stored in
    the objection's own transaction, so a refused file leaves nothing behind (0008)."""

    __tablename__ = "rating_objection_files"

    objection_id: Mapped[int] = mapped_column(sa.ForeignKey("rating_objections.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


R = RunStatus
RUN_TRANSITIONS = Transitions(
    {
        None: {R.draft},
        R.draft: {R.reviewed, R.published},
        R.reviewed: {R.published},
        R.published: {R.superseded},
    }
)
OBJECTION_TRANSITIONS = Transitions(
    {None: {ObjectionStatus.lodged}, ObjectionStatus.lodged: {ObjectionStatus.upheld, ObjectionStatus.dismissed}}
)
