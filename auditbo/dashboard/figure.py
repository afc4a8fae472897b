"""The dashboard's building blocks: a :class:`Figure` is a small table of :class:`Cell` values (each
cell may link to the list filtered to what it counts), and the office months they are counted by."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

MONTHS = 12
TOP_BODIES = 15


@dataclass
class Cell:
    value: object
    href: str | None = None
    text: str | None = None  # what the table shows, when not the value (a rate with its count)

    def __str__(self) -> str:
        return self.text if self.text is not None else ("" if self.value is None else str(self.value))


@dataclass
class Figure:
    key: str
    title: object
    kind: str  # bar | stacked | line | interval | table (no chart)
    x_label: object
    y_label: object
    columns: list  # the header: the category column, then one per series
    rows: list[list[Cell]] = field(default_factory=list)
    note: object = ""
    series_from: int = 1  # the first column a chart draws (the others are the table's)
    series_to: int | None = None
    skip_rows: int = 0  # leading rows the chart leaves out (a count beside shares)
    percent: bool = False  # the chart's values are shares (0..1), shown as per cent

    def csv_rows(self) -> list[list]:
        return [[str(c) for c in self.columns]] + [[c.value for c in row] for row in self.rows]

    @property
    def empty(self) -> bool:
        return not self.rows


def month_range(today: date, n: int = MONTHS) -> list[tuple[str, date, date]]:
    """The last ``n`` months up to ``today``'s: (``YYYY-MM``, first day, last day), oldest first."""
    out = []
    first = today.replace(day=1)
    for _ in range(n):
        nxt = (first + timedelta(days=32)).replace(day=1)
        out.append((first.strftime("%Y-%m"), first, nxt - timedelta(days=1)))
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def period_of(text: str | None) -> tuple[date, date] | None:
    """``YYYY-MM`` -> its first and last day, or None."""
    try:
        first = date.fromisoformat(f"{text}-01")
    except (TypeError, ValueError):
        return None
    if not 1900 <= first.year <= 2199:  # no office month lies outside; and 9999-12 would overflow
        return None
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _rate(n: int, total: int) -> float | None:
    return round(n / total, 4) if total else None


def _pct(n: int, total: int) -> str:
    return f"{n} ({n / total:.0%})" if total else "0"

