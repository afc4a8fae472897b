"""Where a refused request is written down.

Anonymous callers (no session, no valid token) are anyone on the network: their 401s and
403/404 denials go to the application log, at most ``DENIAL_LOG_LINES_PER_MINUTE`` lines
per minute per process, with one "suppressed K" line for the rest of a minute. They never
touch the hash-chained event log, which a burst would otherwise grow without limit (and
serialise on its lock).

A signed-in user's denial is an event (who tried what), at most one per (user, path,
status) per ``DENIAL_EVENT_EVERY_SECONDS``: the event log itself is asked whether the same
denial was recorded within that time, so the throttle holds across workers and hosts.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from auditbo import events
from auditbo.clock import utcnow
from auditbo.events import Actor, Event
from auditbo.extensions import db

log = logging.getLogger("auditbo.denials")


class _Window:
    """Counts the lines of the current minute; the first N are written, the rest counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: datetime | None = None
        self.written = 0
        self.suppressed = 0

    def admit(self, now: datetime, limit: int) -> tuple[bool, int]:
        """(write this line?, lines suppressed in the minute that just ended)."""
        with self.lock:
            ended = 0
            if self.started is None or now - self.started >= timedelta(minutes=1):
                ended, self.started, self.written, self.suppressed = self.suppressed, now, 0, 0
            if self.written < limit:
                self.written += 1
                return True, ended
            self.suppressed += 1
            return False, ended


_window = _Window()


def is_anonymous(user) -> bool:
    return user is None or not getattr(user, "is_authenticated", False)


def log_anonymous(path: str, method: str, status: int, ip: str) -> None:
    """An anonymous denial: one line in the application log, or a count when over the minute's cap."""
    write, ended = _window.admit(utcnow(), current_app.config["DENIAL_LOG_LINES_PER_MINUTE"])
    if ended:
        log.warning("anonymous denials: suppressed %d in the last minute", ended)
    if write:
        log.info("anonymous denial %d %s %s from %s", status, method, path[:200], ip or "-")


def record_for_user(user, path: str, method: str, status: int, detail: str) -> bool:
    """A signed-in user's denial as an event, unless the same one is in the log from the last minute.

    Returns whether an event was appended (the caller commits).
    """
    path = path[:64]
    since = utcnow() - timedelta(seconds=current_app.config["DENIAL_EVENT_EVERY_SECONDS"])
    recent = db.session.scalars(
        sa.select(Event.after).where(
            Event.record_type == "access",
            Event.record_id == path,
            Event.action == "denied",
            Event.actor_id == user.id,
            Event.occurred_at >= since,
        )
    ).all()
    if any((after or {}).get("status") == status for after in recent):
        return False
    events.record(
        Actor.of(user),
        "access",
        path,
        "denied",
        after={"method": method, "status": status, "detail": detail[:200]},
    )
    return True
