"""The append-only, hash-chained event log (全流程跟踪).

Services call :func:`record` (or :func:`record_many` for bulk work) in the same
transaction as the change they describe. Each event carries the SHA-256 of the
previous one, so :func:`verify` can recompute the chain and name the first event
that was altered, removed or inserted; the database refuses UPDATE and DELETE on the
table (triggers created by the migration).

Chaining at commit: :func:`record` only keeps the event in the session (``session.info``);
:func:`chain_pending` links and inserts a transaction's events in one step just before its
commit (a ``before_commit`` hook of every session). On PostgreSQL it takes a
transaction-level advisory lock for that step, so writers chain one after the other and
the chain's order (the ids) is the commit order; the lock is held from the last hash's
read to the commit, never during the transaction's own work (a 100,000-row import holds
it for its events' insert, not for the import). What does not depend on the previous
hash (each event's serialised content, the ORM's flush) is done before the lock.

The same transaction still sees its own events: a statement that reads the events table
(or raw SQL) chains the pending events first, as autoflush does for ORM objects. A
savepoint that is rolled back takes its events with it (and puts back those it chained
that were recorded before it). A rollback or close of the transaction drops them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from auditbo.database import COPY_MIN_ROWS, IdMixin, UTCDateTime, _row_converter, bulk_insert, utcnow
from auditbo.extensions import db

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x61756469  # "audi"
_LOG = "auditbo.events.log"  # session.info: the transaction's events, in order
_CHAINED = "auditbo.events.chained"  # session.info: how many of them are in the table already
_MARKS = "auditbo.events.marks"  # session.info: {savepoint: (len(log), chained) when it began}


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
    """SHA-256 of the canonical JSON list ``[prev_hash, occurred_at, actor_id, actor, record_type,
    record_id, action, before, after, reason]`` (sorted keys, no spaces, UTF-8)."""
    return _digest_tail(prev_hash, _tail(row))


def _digest_tail(prev_hash: str, tail: str) -> str:
    """The chain's one hash: SHA-256 of ``'["' + prev_hash + '",' + tail`` (``tail`` from ``_tail``)."""
    return hashlib.sha256(f'["{prev_hash}",{tail}'.encode()).hexdigest()


def _lock_and_last_hash(session: Session | None = None) -> str:
    session = session if session is not None else db.session()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    last = session.execute(sa.select(Event.hash).order_by(Event.id.desc()).limit(1)).scalar()
    return last or GENESIS


def _tail(row: dict) -> str:
    """The digest's payload without its first element (the previous hash), which is only known
    under the lock: ``_digest(prev, row)`` is the SHA-256 of ``'["' + prev + '",' + tail``."""
    return json.dumps(
        [
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
    )[1:]


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
) -> None:
    """Append one event to the current transaction (chained and inserted at its commit)."""
    record_many([(actor, record_type, record_id, action, before, after, reason)])


def record_many(items: Iterable[tuple], *, at: datetime | None = None) -> None:
    """Append many events: tuples (actor, record_type, record_id, action, before, after, reason[, at]).
    They are chained and inserted at the commit (:func:`chain_pending`)."""
    session = db.session()
    if not session.in_transaction():
        session.connection()  # begin it: its rollback must drop these events
    if session.autoflush:
        session.flush()  # as when each event read the last hash here: the change it describes is written
    log = session.info.get(_LOG)
    if log is None:
        log = session.info[_LOG] = []
    for item in items:
        actor, record_type, record_id, action, before, after, reason = item[:7]
        log.append(_row(actor, record_type, record_id, action, before, after, reason,
                        item[7] if len(item) > 7 else at))


def pending_count(session: Session | None = None) -> int:
    """Events recorded in the session's transaction and not yet in the table."""
    info = (session if session is not None else db.session()).info
    return len(info.get(_LOG) or ()) - info.get(_CHAINED, 0)


def chain_pending(session: Session | None = None) -> int:
    """Link the transaction's recorded events to the chain and insert them; returns how many.

    Called by the ``before_commit`` hook (and before a read of the events table); callers need
    not call it. The ORM's pending changes are flushed and every event serialised first, then
    the lock is taken (PostgreSQL), the last hash read, the hashes computed and the rows
    inserted: the lock is held for one batched insert and the commit.
    """
    session = session if session is not None else db.session()
    info = session.info
    log, done = info.get(_LOG), info.get(_CHAINED, 0)
    if not log or done >= len(log):
        return 0
    rows = log[done:]
    info[_CHAINED] = len(log)  # first: the statements below must not chain them again
    try:
        tails = [_tail(row) for row in rows]
        session.flush()  # before the lock: a flush may wait for another transaction's rows
        if len(rows) >= COPY_MIN_ROWS and session.get_bind().dialect.name == "postgresql":
            _copy_chained(session, rows, tails)
            return len(rows)
        prev = _lock_and_last_hash(session)
        for row, tail in zip(rows, tails, strict=True):
            row["prev_hash"] = prev
            row["hash"] = prev = _digest_tail(prev, tail)
        bulk_insert(Event, rows)
    except BaseException:
        info[_CHAINED] = done
        raise
    return len(rows)


def _copy_chained(session: Session, rows: list[dict], tails: list[str]) -> None:
    """PostgreSQL, many events: each row converted for COPY (its JSON serialised) before the lock;
    under it only the hashes are computed and the rows copied."""
    conn = session.connection()
    dialect, table = conn.dialect, Event.__table__
    keys = [k for k in rows[0] if k not in ("prev_hash", "hash")]  # (a row chained in a savepoint rolled back)
    convert = _row_converter(table, keys, {}, dialect)
    values = [convert(row) for row in rows]
    names = ", ".join(dialect.identifier_preparer.quote(table.c[k].name) for k in [*keys, "prev_hash", "hash"])
    prev = _lock_and_last_hash(session)
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN") as copy:
        write = copy.write_row
        for value, tail in zip(values, tails, strict=True):
            digest = _digest_tail(prev, tail)
            value += (prev, digest)
            prev = digest
            write(value)


def _reads_events(statement) -> bool:
    if isinstance(statement, sa.TextClause):
        return True  # raw SQL: it may read (or touch) the events table
    try:
        return Event.__table__ in sa.sql.util.find_tables(statement, include_joins=True, include_aliases=True)
    except Exception:  # noqa: BLE001 - a statement it cannot walk: chain, to be safe
        return True


@sa.event.listens_for(Session, "do_orm_execute")
def _before_read(state) -> None:
    info = state.session.info
    log = info.get(_LOG)
    if log and info.get(_CHAINED, 0) < len(log) and _reads_events(state.statement):
        chain_pending(state.session)


@sa.event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the transaction's commit, not a savepoint's release
        chain_pending(session)


@sa.event.listens_for(Session, "after_transaction_create")
def _savepoint_begins(session: Session, transaction) -> None:
    if transaction.nested:
        info = session.info
        info.setdefault(_MARKS, {})[transaction] = (len(info.get(_LOG) or ()), info.get(_CHAINED, 0))


@sa.event.listens_for(Session, "after_soft_rollback")
def _savepoint_rolled_back(session: Session, previous_transaction) -> None:
    marks = session.info.get(_MARKS)
    mark = marks.pop(previous_transaction, None) if marks and previous_transaction.nested else None
    log = session.info.get(_LOG)
    if mark is None or log is None:
        return
    size, chained = mark
    del log[size:]  # its events are gone; those chained inside it went with the savepoint's rows
    session.info[_CHAINED] = min(session.info.get(_CHAINED, 0), chained)


@sa.event.listens_for(Session, "after_transaction_end")
def _transaction_ends(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed (chained already), rolled back or closed
        session.info.pop(_LOG, None)
        session.info.pop(_CHAINED, None)
        session.info.pop(_MARKS, None)


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
