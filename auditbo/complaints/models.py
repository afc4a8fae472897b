from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from auditbo.database import IdMixin, UTCDateTime, created_at_column, enum_type, utcnow
from auditbo.evidence import EvidenceFile
from auditbo.extensions import db
from auditbo.states import Transitions


class ComplaintStatus(enum.StrEnum):
    received = "received"
    investigating = "investigating"
    substantiated = "substantiated"
    unsubstantiated = "unsubstantiated"

    @property
    def title(self) -> str:
        return str(STATUS_TITLES[self.value])

    @property
    def closed(self) -> bool:
        return self in (ComplaintStatus.substantiated, ComplaintStatus.unsubstantiated)


STATUS_TITLES = {
    "received": _l("Received"),
    "investigating": _l("Investigating"),
    "substantiated": _l("Substantiated"),
    "unsubstantiated": _l("Unsubstantiated"),
}

# where a complaint came from; "public" is the public form's (the office registers the others)
SOURCES = ("letter", "phone", "email", "visit", "referral", "public", "other")
SOURCE_TITLES = {
    "letter": _l("Letter"),
    "phone": _l("Telephone"),
    "email": _l("E-mail"),
    "visit": _l("Visit"),
    "referral": _l("Referral by an authority"),
    "public": _l("Public complaint form"),
    "other": _l("Other"),
}

C = ComplaintStatus
COMPLAINT_TRANSITIONS = Transitions(
    {
        None: {C.received},
        C.received: {C.investigating, C.unsubstantiated},
        C.investigating: {C.substantiated, C.unsubstantiated},
    }
)


class Complaint(IdMixin, db.Model):
    __tablename__ = "complaints"

    against_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    against_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("persons.id"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assessments.id"), index=True)
    received_on: Mapped[date] = mapped_column(sa.Date)
    complainant: Mapped[str | None] = mapped_column(sa.String(200))  # office only
    summary: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ComplaintStatus] = mapped_column(enum_type(ComplaintStatus, "complaint_status"))
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    closed_on: Mapped[date | None] = mapped_column(sa.Date)
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    # 0004: intake and handling
    source: Mapped[str] = mapped_column(sa.String(20), default="other", server_default="other")
    contact: Mapped[str | None] = mapped_column(sa.String(200))  # office only, like the complainant
    subject_hint: Mapped[str | None] = mapped_column(sa.String(200))  # what a public complainant typed
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    tracking_code: Mapped[str | None] = mapped_column(sa.String(24))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("against_org_id IS NOT NULL OR against_person_id IS NOT NULL", name="has_subject"),
        sa.Index("ix_complaints_tracking_code", "tracking_code", unique=True),
        sa.Index("ix_complaints_status_due", "status", "due_date"),
    )


class ComplaintFile(IdMixin, EvidenceFile, db.Model):
    """Evidence attached to a complaint, kept in the database: it is stored in the same transaction as
    its complaint, so a refused submission leaves nothing behind."""

    __tablename__ = "complaint_files"

    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
