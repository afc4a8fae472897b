"""Input boundary: validate events (raw or pre-aggregated) and encode them as arrays.

Everything after this module works on integer codes and numpy arrays; nothing here
mutates the caller's DataFrame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import EVENT_CODE, EVENTS, SUBJECT_TYPES, RatingError

RAW_COLUMNS = ("subject_id", "subject_type", "event_date", "event")
COUNT_COLUMNS = ("subject_id", "subject_type", "month", "event", "n")
_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(period) -> int:
    """'YYYY-MM' (or a pandas Period / Timestamp) -> month index year*12 + month - 1."""
    if isinstance(period, (pd.Period, pd.Timestamp)):
        return int(period.year) * 12 + int(period.month) - 1
    m = _PERIOD_RE.match(str(period).strip()) if isinstance(period, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise RatingError(f"bad period {period!r} (expected YYYY-MM)")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def format_period(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True, eq=False)
class EventCounts:
    """Events encoded as parallel arrays, one row per event (or per pre-aggregated count).

    ``subjects`` has columns subject_id, subject_type, sorted, and its position is the
    subject code used in ``subject``; ``checkers`` likewise for ``checker`` (-1: none).
    ``day`` and ``case`` are kept for raw events only (to list the events behind a change).
    """

    subjects: pd.DataFrame
    checkers: np.ndarray
    subject: np.ndarray
    month: np.ndarray
    event: np.ndarray
    checker: np.ndarray
    n: np.ndarray
    day: np.ndarray | None = None
    case: np.ndarray | None = None

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)

    @property
    def n_checkers(self) -> int:
        return len(self.checkers)

    def subject_type_codes(self) -> np.ndarray:
        return self.subjects["subject_type"].map({t: i for i, t in enumerate(SUBJECT_TYPES)}).to_numpy(np.int64)


def _where(source: str | None, positions: np.ndarray, frame: pd.DataFrame) -> str:
    i = int(positions[0])
    if source is not None:
        return f"{source} line {i + 2}"  # header is line 1
    return f"row {frame.index[i]!r}"


def _text_column(frame: pd.DataFrame, col: str, source: str | None, *, required: bool) -> pd.Series:
    s = frame[col]
    isna = s.isna().to_numpy()
    if s.dtype != object and not isinstance(s.dtype, pd.StringDtype):
        s = s.astype(str).where(~isna, None)
    if required:
        empty = isna | (s.astype(str).str.strip() == "").to_numpy()
        if empty.any():
            raise RatingError(f"{_where(source, np.flatnonzero(empty), frame)}: empty {col}")
    return s


def _codes(frame, col, vocabulary, source) -> np.ndarray:
    s = _text_column(frame, col, source, required=True)
    cat = pd.Categorical(s, categories=list(vocabulary))
    codes = np.asarray(cat.codes)
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        value = s.iloc[int(bad[0])]
        raise RatingError(
            f"{_where(source, bad, frame)}: unknown {col} {value!r} (expected one of {', '.join(vocabulary)})"
        )
    return codes.astype(np.int8)


def _month_index(frame, col, fmt, what, source) -> tuple[np.ndarray, np.ndarray]:
    s = frame[col]
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        d = pd.DatetimeIndex(s)
        if d.isna().any():
            raise RatingError(f"{_where(source, np.flatnonzero(d.isna()), frame)}: empty {col}")
        return (d.year * 12 + d.month - 1).to_numpy(np.int32), d.to_numpy("datetime64[D]")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    parsed = pd.to_datetime(pd.Series(uniques, dtype=object).astype(str), format=fmt, errors="coerce")
    okay = parsed.notna().to_numpy()
    bad = np.flatnonzero((codes < 0) | ~okay[np.maximum(codes, 0)])
    if bad.size:
        raise RatingError(f"{_where(source, bad, frame)}: bad {col} {s.iloc[int(bad[0])]!r} (expected {what})")
    p = pd.DatetimeIndex(parsed)
    months = (p.year * 12 + p.month - 1).to_numpy(np.int32)[codes]
    days = p.to_numpy("datetime64[D]")[codes]
    return months, days


def encode(events: pd.DataFrame, *, source: str | None = None) -> EventCounts:
    """Validate raw events or pre-aggregated counts and encode them.

    Raw events have columns subject_id, subject_type, event_date (YYYY-MM-DD), event and
    optional checker_id, case_id. Pre-aggregated counts (e.g. a SQL GROUP BY) have
    subject_id, subject_type, month (YYYY-MM), event, n and optional checker_id.
    ``source`` names a file in error messages ("EVENTS.csv line 7: ...").
    """
    if isinstance(events, EventCounts):
        return events
    if not isinstance(events, pd.DataFrame):
        raise RatingError(f"events must be a pandas DataFrame, got {type(events).__name__}")
    cols = set(events.columns)
    counts = "n" in cols and "month" in cols and "event_date" not in cols
    need = COUNT_COLUMNS if counts else RAW_COLUMNS
    missing = [c for c in need if c not in cols]
    label = source or "events"
    if missing:
        raise RatingError(f"{label}: missing column(s) {', '.join(missing)} (need {', '.join(need)})")
    ids = _text_column(events, "subject_id", source, required=True).astype(str).str.strip()
    stype = _codes(events, "subject_type", SUBJECT_TYPES, source)
    event = _codes(events, "event", EVENTS, source)
    if counts:
        month, _ = _month_index(events, "month", "%Y-%m", "YYYY-MM", source)
        day = None
        n = pd.to_numeric(events["n"], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(n) | (n < 0))
        if bad.size:
            raise RatingError(f"{_where(source, bad, events)}: bad n {events['n'].iloc[int(bad[0])]!r}")
    else:
        month, day = _month_index(events, "event_date", "%Y-%m-%d", "YYYY-MM-DD", source)
        n = np.ones(len(events), dtype=np.float64)
    # subjects: (type, id) pairs, sorted so that codes are deterministic
    id_codes, id_uniques = pd.factorize(ids, sort=True)
    key = id_codes.astype(np.int64) * len(SUBJECT_TYPES) + stype
    skeys, subject = np.unique(key, return_inverse=True)
    subjects = pd.DataFrame(
        {
            "subject_id": np.asarray(id_uniques, dtype=object)[skeys // len(SUBJECT_TYPES)],
            "subject_type": np.asarray(SUBJECT_TYPES, dtype=object)[skeys % len(SUBJECT_TYPES)],
        }
    )
    order = np.lexsort((subjects["subject_id"].to_numpy(), subjects["subject_type"].map(SUBJECT_TYPES.index)))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    subjects = subjects.iloc[order].reset_index(drop=True)
    subject = rank[subject]
    if "checker_id" in cols:
        raw = events["checker_id"]
        text = raw.astype(str).str.strip()
        text = text.where(raw.notna().to_numpy() & (text != "").to_numpy(), None)
        checker, checkers = pd.factorize(text, sort=True)
        checkers = np.asarray(checkers, dtype=object)
    else:
        checker, checkers = np.full(len(events), -1), np.array([], dtype=object)
    case = None
    if "case_id" in cols and not counts:
        case = events["case_id"].astype(object).where(events["case_id"].notna(), None).to_numpy()
    return EventCounts(
        subjects=subjects,
        checkers=checkers,
        subject=np.asarray(subject, dtype=np.int64),
        month=np.asarray(month, dtype=np.int32),
        event=event,
        checker=np.asarray(checker, dtype=np.int64),
        n=n,
        day=day,
        case=case,
    )


def event_code(name: str) -> int:
    return EVENT_CODE[name]
