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
    # refused sign-ins under this username since the last successful one (told to the user, then reset)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failed_login_ip: Mapped[str | None] = mapped_column(sa.String(45))
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

    # the server-side session this request runs in (set at sign-in and by the session loader)
    session_key = None  # str: not a column

    def get_id(self) -> str:  # Flask-Login stores this in the cookie: the user and their session
        return f"{self.id}:{self.session_key}"


class UserSession(IdMixin, db.Model):
    """A signed-in browser session. The cookie carries its key; only the key's SHA-256 is stored.

    Deleting the row ends the session at once (sign-out, sign-out everywhere, a password
    change or reset, a changed role); a row also ends at ``expires_at``.
    """

    __tablename__ = "user_sessions"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginThrottle(db.Model):
    """Refused sign-ins for one username from one address (an IPv6 /64 counts as one address).

    After ``LOGIN_THROTTLE_AFTER`` failures that pair waits ``blocked_until`` (a delay that
    doubles with every further failure); other addresses, and so the real user, are not
    slowed. Rows are forgotten ``LOGIN_THROTTLE_FORGET_HOURS`` after their last failure.
    """

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


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
