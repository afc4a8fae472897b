"""Users: password hashing (argon2), authentication with lockout, session loading."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy.orm import joinedload

from auditbo import events
from auditbo.accounts.models import ApiToken, Role, User
from auditbo.database import utcnow
from auditbo.errors import ErrorCollector
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.orgs.models import Organisation, OrgKind

MIN_PASSWORD_LENGTH = 10
# A hash of a random password, verified when the username is unknown so that timing
# does not reveal which usernames exist.
_DUMMY = {"hash": None}


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password_strength(password: str, errors: ErrorCollector, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")


ORG_KIND_FOR_ROLE = {Role.body_clerk: OrgKind.assessment_body, Role.consulting_user: OrgKind.consulting_body}


def create_user(
    *, username: str, password: str, role: str, org_credit_code: str | None = None,
    display_name: str = "", actor: Actor = events.SYSTEM,
) -> User:
    errors = ErrorCollector()
    username = (username or "").strip()
    if not username or len(username) > 64:
        errors.add("username", "must be 1-64 characters")
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors.add("username", "is already taken")
    check_password_strength(password or "", errors)
    try:
        role_v = Role(role)
    except ValueError:
        errors.add("role", f"must be one of {', '.join(r.value for r in Role)}")
        role_v = None
    org = _org_for_role(role_v, org_credit_code, errors)
    errors.raise_if_any()
    user = User(
        username=username, password_hash=hash_password(password), role=role_v,
        org_id=org.id if org else None, display_name=display_name or username,
    )
    db.session.add(user)
    db.session.flush()
    events.record(actor, "user", user.id, "created", after={"username": username, "role": role_v.value,
                                                            "org_id": user.org_id})
    return user


def authenticate(username: str, password: str, *, ip: str = "") -> tuple[User | None, str | None]:
    """Return (user, None) on success or (None, reason) — the reason is for the log, not the user."""
    cfg = current_app.config
    user = db.session.scalar(sa.select(User).where(User.username == (username or "").strip()))
    now = utcnow()
    if user is None:
        if _DUMMY["hash"] is None:
            _DUMMY["hash"] = hash_password("not-a-real-password")
        try:
            _hasher().verify(_DUMMY["hash"], password or "")
        except (VerificationError, InvalidHashError):
            pass
        events.record(events.SYSTEM, "login", username[:64] if username else "-", "failed",
                      after={"reason": "unknown user", "ip": ip})
        return None, "unknown user"
    actor = Actor(user.id, user.username)
    if user.locked_until and user.locked_until > now:
        events.record(actor, "user", user.id, "login_refused", after={"reason": "locked", "ip": ip})
        return None, "locked"
    try:
        _hasher().verify(user.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins += 1
        locked = user.failed_logins >= cfg["LOGIN_MAX_FAILURES"]
        if locked:
            user.locked_until = now + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
        events.record(actor, "user", user.id, "locked" if locked else "login_failed", after={"ip": ip})
        return None, "locked" if locked else "bad password"
    if not user.active:
        events.record(actor, "user", user.id, "login_refused", after={"reason": "inactive", "ip": ip})
        return None, "inactive"
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    events.record(actor, "user", user.id, "logged_in", after={"ip": ip})
    return user, None


def load_user_from_session(user_id: str) -> User | None:
    """Flask-Login loader: the session id is "<id>:<session_version>"."""
    try:
        uid, version = (int(x) for x in user_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


# --- passwords -----------------------------------------------------------------------
def change_own_password(user: User, current: str, new: str) -> None:
    """Change one's own password; every other session of the user is signed out."""
    errors = ErrorCollector()
    try:
        _hasher().verify(user.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        errors.add("current_password", "is not your current password")
    check_password_strength(new or "", errors, "new_password")
    errors.raise_if_any()
    _set_password(user, new, Actor(user.id, user.username), "password_changed")


def reset_password(user: User, new: str, *, actor: Actor) -> None:
    """An admin sets a new password (e.g. a forgotten one); the user's sessions end, the lock lifts."""
    errors = ErrorCollector()
    check_password_strength(new or "", errors)
    errors.raise_if_any()
    _set_password(user, new, actor, "password_reset")


def _set_password(user: User, new: str, actor: Actor, action: str) -> None:
    user.password_hash = hash_password(new)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    events.record(actor, "user", user.id, action)


def update_user(user: User, *, role: str, org_credit_code: str | None, active: bool, display_name: str,
                actor: Actor) -> None:
    errors = ErrorCollector()
    try:
        role_v = Role(role)
    except ValueError:
        errors.add("role", f"must be one of {', '.join(r.value for r in Role)}")
        role_v = None
    org = _org_for_role(role_v, org_credit_code, errors)
    if actor.id == user.id and (not active or role_v is not Role.admin):
        errors.add("role", "you cannot demote or deactivate yourself")
    errors.raise_if_any()
    before = {"role": user.role.value, "org_id": user.org_id, "active": user.active}
    user.role, user.org_id, user.active = role_v, (org.id if org else None), bool(active)
    user.display_name = display_name or user.username
    if before != {"role": role_v.value, "org_id": user.org_id, "active": user.active}:
        user.session_version += 1  # a changed role or body takes effect at once
    events.record(actor, "user", user.id, "updated", before=before,
                  after={"role": role_v.value, "org_id": user.org_id, "active": user.active})


def _org_for_role(role_v: Role | None, org_credit_code: str | None, errors: ErrorCollector):
    if role_v in ORG_KIND_FOR_ROLE:
        if not org_credit_code:
            errors.add("org", f"a {role_v.value} needs the credit code of their body")
            return None
        org = db.session.scalar(sa.select(Organisation).where(Organisation.credit_code == org_credit_code))
        if org is None:
            errors.add("org", f"no registered body with credit code {org_credit_code}")
        elif org.kind != ORG_KIND_FOR_ROLE[role_v]:
            errors.add("org", f"a {role_v.value} belongs to a {ORG_KIND_FOR_ROLE[role_v].value}")
            return None
        return org
    if role_v is not None and org_credit_code:
        errors.add("org", "office users (admin, supervisor) belong to no body")
    return None


# --- API tokens ----------------------------------------------------------------------
TOKEN_PREFIX = "abo_"


def _token_hash(secret: str) -> str:
    import hashlib

    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str, *, actor: Actor | None = None) -> tuple[ApiToken, str]:
    """Issue a token; returns it with its secret, which is never stored and shown only once."""
    import secrets

    errors = ErrorCollector()
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors.add("name", "must be 1-100 characters")
    errors.raise_if_any()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_token_hash(secret), prefix=secret[:12])
    db.session.add(token)
    db.session.flush()
    events.record(actor or Actor(user.id, user.username), "api_token", token.id, "created",
                  after={"user_id": user.id, "name": name, "prefix": token.prefix})
    return token, secret


def revoke_token(token: ApiToken, *, actor: Actor) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        events.record(actor, "api_token", token.id, "revoked", after={"user_id": token.user_id})


def user_from_token(secret: str, *, ip: str = "") -> User | None:
    token = db.session.scalar(sa.select(ApiToken).options(joinedload(ApiToken.user))  # one round trip
                              .where(ApiToken.token_hash == _token_hash(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now  # committed with the request's own work
    return token.user


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))
