"""The append-only, hash-chained event log (全流程跟踪).

Services call :func:`record` (or :func:`record_many` for bulk work) in the same
transaction as the change they describe. Each event carries the SHA-256 of the
previous one, so :func:`verify` can recompute the chain and name the first event
that was altered, removed or inserted. On PostgreSQL writers take a transaction-level
advisory lock so that the chain stays linear under concurrency; the database refuses
UPDATE and DELETE on the table (triggers created by the migration).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from auditbo.database import IdMixin, UTCDateTime, bulk_insert, utcnow
from auditbo.extensions import db

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x61756469  # "audi"
_BATCH = 2000


class Event(IdMixin, db.Model):
    __tablename__ = "events"

    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)  # a user id; no FK: the log outlives users
    actor: Mapped[str] = mapped_column(sa.String(100))  # username or "system"
    record_type: Mapped[str] = mapped_column(sa.String(40))
    record_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(60))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_events_record", "record_type", "record_id", "id"),)


@dataclass(frozen=True)
class Actor:
    """Who did it: a user (id and name) or the system (a job, the CLI)."""

    id: int | None
    name: str

    @classmethod
    def of_api(cls, user) -> Actor:
        """An API caller (authenticated by token rather than a session)."""
        return cls(user.id, user.username)

    @classmethod
    def of(cls, user) -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            return SYSTEM
        return cls(user.id, user.username)


SYSTEM = Actor(None, "system")


def _plain_json(value) -> bool:
    """Already what a JSON round trip would give back (str keys, lists, plain scalars)?"""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return True
    if kind is dict:
        return all(type(k) is str and _plain_json(v) for k, v in value.items())
    if kind is list:
        return all(_plain_json(v) for v in value)
    return False


def _canonical(value) -> object:
    """JSON-safe form; dates and enums become strings (the digest sorts the keys)."""
    if value is None or _plain_json(value):  # most events: no round trip needed
        return value
    return json.loads(json.dumps(value, default=str, sort_keys=True, ensure_ascii=False))


def _digest(prev_hash: str, row: dict) -> str:
    payload = json.dumps(
        [
            prev_hash,
            row["occurred_at"].isoformat(timespec="microseconds"),
            row["actor_id"],
            row["actor"],
            row["record_type"],
            row["record_id"],
            row["action"],
            row["before"],
            row["after"],
            row["reason"],
        ],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock_and_last_hash() -> str:
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    last = session.execute(sa.select(Event.hash).order_by(Event.id.desc()).limit(1)).scalar()
    return last or GENESIS


def _row(actor: Actor, record_type: str, record_id, action: str, before, after, reason, at) -> dict:
    return {
        "occurred_at": at or utcnow(),
        "actor_id": actor.id,
        "actor": actor.name,
        "record_type": record_type,
        "record_id": str(record_id),
        "action": action,
        "before": _canonical(before),
        "after": _canonical(after),
        "reason": reason,
    }


def record(
    actor: Actor,
    record_type: str,
    record_id,
    action: str,
    *,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
) -> str:
    """Append one event in the current transaction; returns its hash."""
    return record_many([(actor, record_type, record_id, action, before, after, reason)])


def record_many(items: Iterable[tuple], *, at: datetime | None = None) -> str:
    """Append many events: tuples (actor, record_type, record_id, action, before, after, reason[, at])."""
    prev = _lock_and_last_hash()
    batch: list[dict] = []
    for item in items:
        actor, record_type, record_id, action, before, after, reason = item[:7]
        row = _row(actor, record_type, record_id, action, before, after, reason, item[7] if len(item) > 7 else at)
        row["prev_hash"] = prev
        row["hash"] = prev = _digest(prev, row)
        batch.append(row)
        if len(batch) >= _BATCH:
            bulk_insert(Event, batch)
            batch = []
    if batch:
        bulk_insert(Event, batch)
    return prev


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_id: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify() -> VerifyResult:
    """Recompute the chain; name the first event whose link or content does not match."""
    stmt = sa.select(Event).order_by(Event.id).execution_options(yield_per=5000)
    result = db.session.scalars(stmt)
    try:
        return _verify(result)
    finally:
        result.close()


def _verify(stream: Iterator[Event]) -> VerifyResult:
    prev = GENESIS
    n = 0
    for ev in stream:
        n += 1
        if ev.prev_hash != prev:
            return VerifyResult(n, ev.id, "its previous-hash does not match the event before it")
        row = {
            "occurred_at": ev.occurred_at,
            "actor_id": ev.actor_id,
            "actor": ev.actor,
            "record_type": ev.record_type,
            "record_id": ev.record_id,
            "action": ev.action,
            "before": ev.before,
            "after": ev.after,
            "reason": ev.reason,
        }
        if _digest(prev, row) != ev.hash:
            return VerifyResult(n, ev.id, "its content does not match its hash")
        prev = ev.hash
    return VerifyResult(n, None, None)


def timeline(record_type: str, record_id) -> list[Event]:
    stmt = (
        sa.select(Event)
        .where(Event.record_type == record_type, Event.record_id == str(record_id))
        .order_by(Event.id)
    )
    return list(db.session.scalars(stmt))
