"""The one clock: "now" and "today" in the office's time zone, and times shown in it.

Nothing else in auditbo reads the host's clock (tests/test_clock.py greps for it): the host
may run in UTC while the office works in Asia/Shanghai, and a filing at 02:54 on a Monday
in China is still Sunday on the host. The zone is the ``TIMEZONE`` setting of the current
app; without an app (a script, a job's helper) it is ``AUDITBO_TIMEZONE`` or the default.

Timestamps are stored in UTC (``utcnow``, the columns' default); dates the office reasons
about (deadlines, expiry, "since") are office dates (``today``); pages show times through
``format_local`` (the templates' ``|localtime`` filter), which names the zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from auditbo.config import office_timezone

DISPLAY_FORMAT = "%Y-%m-%d %H:%M"


def office_zone() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or office_timezone())  # ZoneInfo keeps one instance per key


def utcnow() -> datetime:
    """This instant, in UTC: what timestamp columns store."""
    return datetime.now(UTC)


def now() -> datetime:
    """This instant, in the office's zone (aware)."""
    return datetime.now(office_zone())


def today() -> date:
    """The office's date."""
    return now().date()


def start_of(day: date) -> datetime:
    """Midnight at the start of an office day (aware), for comparing with stored timestamps.

    Any date a caller can send is answered: the first days of year 1 are taken as the second
    (their midnight lies before year 1 in UTC), so a filter ``from=0001-01-01`` still compares."""
    return datetime.combine(max(day, date.min + timedelta(days=1)), time.min, tzinfo=office_zone())


def end_of(day: date) -> datetime:
    """The instant an office day ends (the next day's midnight), for ``< end_of(last)`` filters;
    the last representable day ends at the last representable instant."""
    if day >= date.max - timedelta(days=1):
        return datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
    return start_of(day + timedelta(days=1))


def to_local(value: datetime) -> datetime:
    """A stored timestamp in the office's zone; a naive value is taken as UTC, as stored."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(office_zone())


def zone_label(value: datetime | None = None) -> str:
    """The office's offset at that instant: ``UTC+8``, ``UTC+5:30``, ``UTC-5``, ``UTC``."""
    offset = to_local(value or utcnow()).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    if not minutes:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_local(value: datetime | None, *, date_only: bool = False, fmt: str = DISPLAY_FORMAT) -> str:
    """A timestamp as shown on pages: office time with the zone named, e.g. ``2026-11-30 02:54 (UTC+8)``."""
    if value is None:
        return "—"
    local = to_local(value)
    if date_only:
        return local.date().isoformat()
    return f"{local.strftime(fmt)} ({zone_label(local)})"
