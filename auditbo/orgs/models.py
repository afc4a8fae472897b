from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditbo.database import IdMixin, UTCDateTime, created_at_column, enum_type, utcnow
from auditbo.extensions import db


class OrgKind(enum.StrEnum):
    assessment_body = "assessment_body"
    consulting_body = "consulting_body"

    @property
    def title(self) -> str:
        return str({"assessment_body": _l("Assessment body"), "consulting_body": _l("Consulting body")}[self.value])


class RegistryStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"
    revoked = "revoked"

    @property
    def title(self) -> str:
        return str({"active": _l("Active"), "suspended": _l("Suspended"), "revoked": _l("Revoked")}[self.value])


class PersonKind(enum.StrEnum):
    assessor = "assessor"
    consultant = "consultant"


class Qualification(enum.StrEnum):
    assessor = "assessor"
    lead = "lead"
    senior_lead = "senior_lead"
    consultant = "consultant"


class EnterpriseSize(enum.StrEnum):
    large = "large"
    medium = "medium"
    small = "small"
    micro = "micro"

    @property
    def title(self) -> str:
        return str({"large": _l("Large"), "medium": _l("Medium"), "small": _l("Small"), "micro": _l("Micro")}[self.value])


class Organisation(IdMixin, db.Model):
    __tablename__ = "organisations"

    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrgKind] = mapped_column(enum_type(OrgKind, "org_kind"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    scope: Mapped[str | None] = mapped_column(sa.Text)
    contact: Mapped[str | None] = mapped_column(sa.String(200))  # office only (PIPL)
    status: Mapped[RegistryStatus] = mapped_column(
        enum_type(RegistryStatus, "org_status"), default=RegistryStatus.active, index=True
    )
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    status_changed_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    persons: Mapped[list[Person]] = relationship(back_populates="org", lazy="raise_on_sql")

    __table_args__ = (sa.CheckConstraint("length(region_code) = 6", name="region_code_len"),)

    def __repr__(self) -> str:
        return f"<Organisation {self.credit_code} {self.kind}>"


class Person(IdMixin, db.Model):
    """An assessor (staff of an assessment body) or consultant (staff of a consulting body)."""

    __tablename__ = "persons"

    person_id: Mapped[str] = mapped_column(sa.String(32), unique=True)  # the registry's own id
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[PersonKind] = mapped_column(enum_type(PersonKind, "person_kind"))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    qualification: Mapped[Qualification] = mapped_column(enum_type(Qualification, "qualification"))
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[RegistryStatus] = mapped_column(
        enum_type(RegistryStatus, "person_status"), default=RegistryStatus.active
    )
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    id_number_hash: Mapped[str | None] = mapped_column(sa.String(64))  # PIPL: never the number itself
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    org: Mapped[Organisation] = relationship(back_populates="persons", lazy="joined")


class Enterprise(IdMixin, db.Model):
    """An assessed organisation, matched by its credit code across filings."""

    __tablename__ = "enterprises"

    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6))
    industry_code: Mapped[str] = mapped_column(sa.String(5))
    size: Mapped[EnterpriseSize] = mapped_column(enum_type(EnterpriseSize, "enterprise_size"))
    employees: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint("employees >= 0", name="employees_nonneg"),)
