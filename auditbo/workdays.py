"""Chinese working days: weekends and public holidays off, make-up working days on.

Uses the ``holidays`` package's calendar for China (State Council notices, including
the make-up Saturdays and Sundays); the office can add days either way in config
(``WORKDAY_EXTRA_HOLIDAYS`` / ``WORKDAY_EXTRA_WORKDAYS``, lists of ISO dates) for a
year the package does not know yet.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _calendar(year: int):
    return holidays.country_holidays("CN", years=[year])


class WorkCalendar:
    def __init__(self, extra_holidays=(), extra_workdays=()):
        self.extra_holidays = {date.fromisoformat(str(d)) for d in extra_holidays}
        self.extra_workdays = {date.fromisoformat(str(d)) for d in extra_workdays}

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        return _calendar(day.year).is_working_day(day)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself does not count)."""
        day = start
        while n > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative if end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(self.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))


def calendar_from_config(config) -> WorkCalendar:
    return WorkCalendar(config.get("WORKDAY_EXTRA_HOLIDAYS", ()), config.get("WORKDAY_EXTRA_WORKDAYS", ()))
