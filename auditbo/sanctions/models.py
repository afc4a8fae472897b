from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from auditbo.database import IdMixin, UTCDateTime, created_at_column, enum_type, utcnow
from auditbo.extensions import db
from auditbo.states import Transitions


class SanctionKind(enum.StrEnum):
    """What a sanction does. Reinstating a suspended certificate (or lifting a body's suspension) is not a
    sanction of its own: it ends the suspension (``ended``, with the date and reason)."""

    warning = "warning"  # registry only
    suspension = "suspension"
    revocation = "revocation"
    downgrade = "downgrade"  # certificate only

    @property
    def title(self) -> str:
        return str(KIND_TITLES[self.value])


KIND_TITLES = {
    "warning": _l("Warning"),
    "suspension": _l("Suspension"),
    "revocation": _l("Revocation"),
    "downgrade": _l("Downgrade"),
}


class SanctionStatus(enum.StrEnum):
    proposed = "proposed"  # a revocation waiting for a second person (four eyes)
    in_force = "in_force"
    ended = "ended"  # ran out or lifted: the record stays (credit repair), nothing is deleted
    declined = "declined"  # a proposal the confirming admin turned down

    @property
    def title(self) -> str:
        return str(SANCTION_STATUS_TITLES[self.value])


SANCTION_STATUS_TITLES = {
    "proposed": _l("Proposed, awaiting confirmation"),
    "in_force": _l("In force"),
    "ended": _l("Ended"),
    "declined": _l("Declined"),
}

X = SanctionStatus
SANCTION_TRANSITIONS = Transitions(
    {
        None: {X.proposed, X.in_force},
        X.proposed: {X.in_force, X.declined},
        X.in_force: {X.ended},
    }
)


class Sanction(IdMixin, db.Model):
    """One sanction on one certificate, body or person: what, why, on what legal basis, from when to when."""

    __tablename__ = "sanctions"

    assessment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assessments.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("persons.id"), index=True)
    kind: Mapped[SanctionKind] = mapped_column(enum_type(SanctionKind, "sanction_kind"))
    status: Mapped[SanctionStatus] = mapped_column(enum_type(SanctionStatus, "sanction_status"))
    reason: Mapped[str] = mapped_column(sa.Text)
    legal_basis: Mapped[str] = mapped_column(sa.Text)
    from_grade: Mapped[str | None] = mapped_column(sa.String(5))
    to_grade: Mapped[str | None] = mapped_column(sa.String(5))
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)  # planned end (none: until lifted, or final)
    ended_on: Mapped[date | None] = mapped_column(sa.Date)  # when it actually ended
    end_reason: Mapped[str | None] = mapped_column(sa.Text)
    complaint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaints.id"))
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN assessment_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN org_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN person_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
        sa.Index("ix_sanctions_status_kind", "status", "kind"),
    )

    @property
    def subject_type(self) -> str:
        return "assessment" if self.assessment_id else "organisation" if self.org_id else "person"
