from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditbo.database import IdMixin, UTCDateTime, created_at_column, enum_type
from auditbo.extensions import db
from auditbo.orgs.models import Organisation


class Role(enum.StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    body_clerk = "body_clerk"
    consulting_user = "consulting_user"

    @property
    def title(self) -> str:
        return str(
            {
                "admin": _l("Administrator"),
                "supervisor": _l("Supervisor"),
                "body_clerk": _l("Assessment-body clerk"),
                "consulting_user": _l("Consulting-body user"),
            }[self.value]
        )

    @property
    def is_office(self) -> bool:
        return self in (Role.admin, Role.supervisor)


class User(IdMixin, UserMixin, db.Model):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"))
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # bumped on password change: every session carrying an older value is logged out
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()

    org: Mapped[Organisation | None] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint(
            "(role IN ('admin', 'supervisor') AND org_id IS NULL) OR "
            "(role IN ('body_clerk', 'consulting_user') AND org_id IS NOT NULL)",
            name="role_org",
        ),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: a password change invalidates old sessions
        return f"{self.id}:{self.session_version}"


class ApiToken(IdMixin, db.Model):
    """A bearer token: only its SHA-256 is stored; the secret is shown once."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class Affiliation(IdMixin, db.Model):
    """A supervisor's or inspector's past tie to a body or an enterprise (for recusal)."""

    __tablename__ = "affiliations"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id"))
    started_on: Mapped[date | None] = mapped_column(sa.Date)
    ended_on: Mapped[date | None] = mapped_column(sa.Date)  # None: still tied
    source: Mapped[str] = mapped_column(sa.String(20), default="declared")  # declared | manual | record
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint("(org_id IS NULL) <> (enterprise_id IS NULL)", name="one_party"),
    )
