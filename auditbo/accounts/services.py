"""Users: password hashing (argon2), sign-in throttled per (username, address), revocable sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from auditbo import events
from auditbo.accounts.models import ApiToken, LoginThrottle, Role, User, UserSession
from auditbo.clock import utcnow
from auditbo.errors import ErrorCollector
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.inputs import client_address
from auditbo.orgs.models import Organisation, OrgKind

MIN_PASSWORD_LENGTH = 10
# A hash of a random password, verified when there is no user's hash to check (an unknown
# name, a throttled attempt) so that timing reveals neither.
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


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in. ``reason`` is for the log, never shown: every refusal reads alike.

    ``missed`` counts the refused sign-ins under this username since the user's previous
    successful one (with the last one's time and address), for the notice after sign-in.
    """

    user: User | None
    reason: str | None = None
    missed: int = 0
    last_missed_at: datetime | None = None
    last_missed_ip: str | None = None


def _verify(password_hash: str | None, password: str) -> bool:
    """One argon2 verification, always: against the user's hash, or a dummy one when there is no
    user to check or the attempt is throttled, so that every refusal costs the same time."""
    if password_hash is None:
        if _DUMMY["hash"] is None:
            _DUMMY["hash"] = hash_password(secrets.token_urlsafe(16))
        password_hash = _DUMMY["hash"]
    try:
        return _hasher().verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def authenticate(username: str, password: str, *, ip: str = "") -> SignIn:
    """Check a sign-in. Refused sign-ins are throttled per (username, address), never per account
    alone: whoever fails from one address waits there, and the user elsewhere is not slowed.
    An unknown name, a wrong password, a throttled pair and an inactive account do the same work."""
    name = (username or "").strip()[:64]
    address = client_address(ip)
    now = utcnow()
    user = db.session.scalar(sa.select(User).where(User.username == name))
    blocked_until = db.session.scalar(sa.select(LoginThrottle.blocked_until).where(
        LoginThrottle.username == name, LoginThrottle.address == address))
    throttled = blocked_until is not None and blocked_until > now
    ok = _verify(None if user is None or throttled else user.password_hash, password)
    if user is None or throttled or not ok or not user.active:
        reason = ("throttled" if throttled else "unknown user" if user is None
                  else "bad password" if not ok else "inactive")
        _refuse(name, address, user, reason, now=now, ip=ip, throttled=throttled)
        return SignIn(None, reason)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    result = SignIn(user, None, user.failed_logins, user.last_failed_login_at, user.last_failed_login_ip)
    user.failed_logins = 0
    user.last_login_at = now
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.username == name,
                                                      LoginThrottle.address == address))
    events.record(Actor(user.id, user.username), "user", user.id, "logged_in", after={"ip": ip})
    return result


def _refuse(name: str, address: str, user: User | None, reason: str, *, now: datetime, ip: str,
            throttled: bool) -> None:
    """Count a refused sign-in: for the (username, address) pair, and for the user's notice.

    The same statements run whether the username exists or not; a throttled attempt is counted
    for the user but not logged as an event (so a caller cannot fill the log), nor does it
    lengthen the wait."""
    cfg = current_app.config
    db.session.execute(sa.delete(LoginThrottle).where(
        LoginThrottle.last_failed_at < now - timedelta(hours=cfg["LOGIN_THROTTLE_FORGET_HOURS"])))
    db.session.execute(sa.update(User).where(User.username == name).values(
        failed_logins=User.failed_logins + 1, last_failed_login_at=now, last_failed_login_ip=ip[:45]))
    if throttled:
        db.session.execute(sa.update(LoginThrottle).where(
            LoginThrottle.username == name, LoginThrottle.address == address).values(last_failed_at=now))
        return
    failures = _count_failure(name, address, now)
    wait = _backoff_seconds(failures)
    if wait:
        db.session.execute(sa.update(LoginThrottle).where(
            LoginThrottle.username == name, LoginThrottle.address == address).values(
            blocked_until=now + timedelta(seconds=wait)))
    after = {"reason": reason, "ip": ip, "failures": failures, "wait_seconds": wait}
    if user is None:
        events.record(events.SYSTEM, "login", name or "-", "failed", after=after)
    else:
        action = "login_refused" if reason == "inactive" else "login_throttled" if wait else "login_failed"
        events.record(Actor(user.id, user.username), "user", user.id, action, after=after)


def _count_failure(name: str, address: str, now: datetime) -> int:
    """Add one failure to the pair's row (created if new) in one statement, safe against a
    concurrent attempt; returns the new count."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(LoginThrottle).values(username=name, address=address, failures=1, last_failed_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.username, LoginThrottle.address],
        set_={"failures": LoginThrottle.failures + 1, "last_failed_at": stmt.excluded.last_failed_at},
    ).returning(LoginThrottle.failures)
    return db.session.execute(stmt).scalar_one()


def _backoff_seconds(failures: int) -> int:
    """0 below the threshold; then LOGIN_THROTTLE_SECONDS, doubling with each failure, capped."""
    cfg = current_app.config
    over = failures - cfg["LOGIN_THROTTLE_AFTER"]
    if over < 0:
        return 0
    return min(cfg["LOGIN_THROTTLE_SECONDS"] * 2 ** min(over, 30), cfg["LOGIN_THROTTLE_MAX_SECONDS"])


# --- sessions ------------------------------------------------------------------------
def start_session(user: User, *, ip: str = "") -> str:
    """A new server-side session for ``user``; returns its key (kept in the signed cookie).

    Expired sessions (of anyone) are deleted here, so the table stays bounded."""
    now = utcnow()
    db.session.execute(sa.delete(UserSession).where(UserSession.expires_at <= now))
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=_token_hash(key), ip=(ip or "")[:45], created_at=now,
                               expires_at=now + current_app.permanent_session_lifetime))
    user.session_key = key
    return key


def end_session(user: User) -> None:
    """Sign-out: this session's row goes, so its cookie opens nothing any more."""
    if user.session_key:
        db.session.execute(sa.delete(UserSession).where(UserSession.key_hash == _token_hash(user.session_key)))
    events.record(Actor(user.id, user.username), "user", user.id, "logged_out")


def end_sessions(user: User, *, keep: str | None = None) -> int:
    """End every session of ``user`` (but ``keep``, the key of the caller's own); returns how many."""
    stmt = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        stmt = stmt.where(UserSession.key_hash != _token_hash(keep))
    return db.session.execute(stmt).rowcount or 0


def sign_out_everywhere(user: User) -> int:
    ended = end_sessions(user)
    events.record(Actor(user.id, user.username), "user", user.id, "signed_out_everywhere", after={"sessions": ended})
    return ended


def session_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.expires_at > utcnow())) or 0


def load_user_from_session(user_id: str) -> User | None:
    """Flask-Login loader: the cookie holds "<user id>:<session key>"; the user comes back only
    with a live session row, in one query."""
    try:
        uid, key = user_id.split(":", 1)
        uid = int(uid)
    except (ValueError, AttributeError):
        return None
    if not key or not 0 < uid < 2**31:
        return None
    user = db.session.scalar(
        sa.select(User).join(UserSession, UserSession.user_id == User.id)
        .where(User.id == uid, User.active.is_(True), UserSession.key_hash == _token_hash(key),
               UserSession.expires_at > utcnow()))
    if user is not None:
        user.session_key = key
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
    end_sessions(user, keep=user.session_key)


def reset_password(user: User, new: str, *, actor: Actor) -> None:
    """An admin sets a new password (e.g. a forgotten one); the user's sessions end, and waits on
    signing in under their name (from any address) are lifted."""
    errors = ErrorCollector()
    check_password_strength(new or "", errors)
    errors.raise_if_any()
    _set_password(user, new, actor, "password_reset")
    end_sessions(user)
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.username == user.username))


def _set_password(user: User, new: str, actor: Actor, action: str) -> None:
    user.password_hash = hash_password(new)
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
        end_sessions(user)  # a changed role or body takes effect at once
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
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str, *, actor: Actor | None = None) -> tuple[ApiToken, str]:
    """Issue a token; returns it with its secret, which is never stored and shown only once."""
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
