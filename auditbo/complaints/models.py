from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from auditbo.database import IdMixin, created_at_column, enum_type
from auditbo.extensions import db
from auditbo.states import Transitions


class ComplaintStatus(enum.StrEnum):
    received = "received"
    investigating = "investigating"
    substantiated = "substantiated"
    unsubstantiated = "unsubstantiated"


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

    __table_args__ = (
        sa.CheckConstraint(
            "against_org_id IS NOT NULL OR against_person_id IS NOT NULL", name="has_subject"
        ),
    )
