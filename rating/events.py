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
    # the body a person's row is about (its case's assessment body for an assessor, its
    # consulting body for a consultant): subject code, -1 when unknown or not a person
    link: np.ndarray | None = None

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)

    @property
    def n_checkers(self) -> int:
        return len(self.checkers)

    def subject_type_codes(self) -> np.ndarray:
        return (
            self.subjects["subject_type"].map({t: i for i, t in enumerate(SUBJECT_TYPES)}).to_numpy(np.int64)
        )


def _where(source: str | None, positions: np.ndarray, frame: pd.DataFrame) -> str:
    i = int(positions[0])
    if source is not None:
        return f"{source} line {i + 2}"  # header is line 1
    return f"row {frame.index[i]!r}"


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():  # pandas reads 12 as 12.0 in a column with gaps
        return str(int(value))
    return str(value).strip()


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1: missing) and the distinct values they index, in no particular order.

    A categorical column is taken as it is encoded (its codes, its categories that occur)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        used = np.zeros(len(values.cat.categories) + 1, dtype=bool)
        used[codes] = True  # -1 marks the last slot
        used[-1] = False
        occurring = np.flatnonzero(used)
        lut = np.full(len(used), -1, dtype=np.int64)
        lut[occurring] = np.arange(len(occurring))
        return lut[codes], np.asarray(values.cat.categories, dtype=object)[occurring]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


def _clean_texts(uniques: np.ndarray) -> pd.Series:
    values = pd.Series(uniques, dtype=object)
    if len(values) and pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values.str.strip()  # the usual case, without a Python call per value
    return pd.Series([_text(v) for v in uniques], dtype=object)


def _sorted_codes(clean: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize(clean, sort=True) (None: missing), skipping the sort when already in order."""
    index = pd.Index(clean, dtype=object)
    if len(index) and not index.hasnans and index.is_unique and index.is_monotonic_increasing:
        return np.arange(len(index), dtype=np.int64), clean.to_numpy(dtype=object)
    return pd.factorize(clean, sort=True, use_na_sentinel=True)


def _factorize_text(
    frame: pd.DataFrame, col: str, source: str | None, *, required: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Codes and stripped unique values of a text column (hashing once, cleaning the uniques).

    Missing or blank values get code -1 (an error when ``required``)."""
    codes, uniques = _factorize(frame[col])
    clean = _clean_texts(uniques)
    blank = (clean == "").to_numpy()
    recode, cleaned = _sorted_codes(clean.where(~blank, None))
    recode = np.append(recode, -1)  # index -1 (missing) stays missing
    out = recode[codes]
    if required:
        bad = np.flatnonzero(out < 0)
        if bad.size:
            raise RatingError(f"{_where(source, bad, frame)}: empty {col}")
    return out.astype(np.int64), np.asarray(cleaned, dtype=object)


def _codes(frame, col, vocabulary, source) -> np.ndarray:
    codes, uniques = _factorize_text(frame, col, source, required=True)
    lookup = np.array([vocabulary.index(u) if u in vocabulary else -1 for u in uniques], dtype=np.int64)
    out = lookup[codes]
    bad = np.flatnonzero(out < 0)
    if bad.size:
        value = uniques[codes[bad[0]]]
        raise RatingError(
            f"{_where(source, bad, frame)}: unknown {col} {value!r} (expected one of {', '.join(vocabulary)})"
        )
    return out.astype(np.int8)


def _month_index(frame, col, fmt, what, source) -> tuple[np.ndarray, np.ndarray]:
    s = frame[col]
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        d = pd.DatetimeIndex(s)
        if d.isna().any():
            raise RatingError(f"{_where(source, np.flatnonzero(d.isna()), frame)}: empty {col}")
        return (d.year * 12 + d.month - 1).to_numpy(np.int32), d.to_numpy("datetime64[D]")
    codes, uniques = _factorize(s)
    parsed = pd.to_datetime(pd.Series(uniques, dtype=object).astype(str), format=fmt, errors="coerce")
    okay = parsed.notna().to_numpy()
    bad = np.flatnonzero((codes < 0) | ~okay[np.maximum(codes, 0)])
    if bad.size:
        raise RatingError(
            f"{_where(source, bad, frame)}: bad {col} {s.iloc[int(bad[0])]!r} (expected {what})"
        )
    p = pd.DatetimeIndex(parsed)
    months = (p.year * 12 + p.month - 1).to_numpy(np.int32)[codes]
    days = p.to_numpy("datetime64[D]")[codes]
    return months, days


def encode(events: pd.DataFrame, *, source: str | None = None) -> EventCounts:
    """Validate raw events or pre-aggregated counts and encode them.

    Raw events have columns subject_id, subject_type, event_date (YYYY-MM-DD), event and
    optional checker_id, case_id. Pre-aggregated counts (e.g. a SQL GROUP BY) have
    subject_id, subject_type, month (YYYY-MM), event, n and optional checker_id and
    body_id. A person's rows are linked to the body of their case (an assessor to the
    assessment body, a consultant to the consulting body): through case_id in raw events,
    through body_id (the body's subject_id) in counts; the model uses the link to tell a
    person's own effect from their body's.
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
    id_codes, id_uniques = _factorize_text(events, "subject_id", source, required=True)
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
    key = id_codes.astype(np.int64) * len(SUBJECT_TYPES) + stype
    present = np.zeros(len(id_uniques) * len(SUBJECT_TYPES), dtype=bool)
    present[key] = True  # np.unique(key, return_inverse=True) without sorting the rows
    skeys = np.flatnonzero(present)
    subject = (np.cumsum(present) - 1)[key]
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
        checker, checkers = _factorize_text(events, "checker_id", source, required=False)
    else:
        checker, checkers = np.full(len(events), -1), np.array([], dtype=object)
    case = None
    link = None
    if "case_id" in cols and not counts:
        case = events["case_id"].astype(object).where(events["case_id"].notna(), None).to_numpy()
        case_codes, _ = _factorize_text(events, "case_id", source, required=False)
        link = _links_from_cases(case_codes, subject, subjects)
    elif "body_id" in cols and counts:
        link = _links_from_body_ids(events, source, subject, subjects)
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
        link=link,
    )


# person type -> the body type it is linked to
PERSON_BODY = {"assessor": "assessment_body", "consultant": "consulting_body"}


def _person_target(subjects: pd.DataFrame) -> np.ndarray:
    """Per subject: the code of the body type its rows link to (-1: not a person)."""
    t = subjects["subject_type"].to_numpy()
    out = np.full(len(t), -1, dtype=np.int64)
    for person, body in PERSON_BODY.items():
        out[t == person] = SUBJECT_TYPES.index(body)
    return out


def _links_from_cases(case_codes: np.ndarray, subject: np.ndarray, subjects: pd.DataFrame) -> np.ndarray:
    """Link each person row to the body of the same type-pair on the same case."""
    stype = subjects["subject_type"].map({t: i for i, t in enumerate(SUBJECT_TYPES)}).to_numpy(np.int64)
    target = _person_target(subjects)
    link = np.full(len(subject), -1, dtype=np.int64)
    has = case_codes >= 0
    if not has.any():
        return link
    n_cases = int(case_codes.max()) + 1
    for body in PERSON_BODY.values():
        b = SUBJECT_TYPES.index(body)
        body_rows = np.flatnonzero(has & (stype[subject] == b))
        if not body_rows.size:
            continue
        of_case = np.full(n_cases, -1, dtype=np.int64)
        # deterministic when a case names two bodies of a type: the smallest code wins
        order = body_rows[np.argsort(-subject[body_rows], kind="stable")]
        of_case[case_codes[order]] = subject[order]
        rows = np.flatnonzero(has & (target[subject] == b))
        link[rows] = of_case[case_codes[rows]]
    return link


def _links_from_body_ids(events, source, subject, subjects) -> np.ndarray:
    codes, uniques = _factorize_text(events, "body_id", source, required=False)
    types = subjects["subject_type"].to_numpy()
    ids = subjects["subject_id"].to_numpy()
    # per body type and distinct body_id: that body's subject code (-1: none; the last
    # column is a missing body_id's), then one lookup per row by its person's body type
    lookup = np.full((len(SUBJECT_TYPES), len(uniques) + 1), -1, dtype=np.int64)
    for body in PERSON_BODY.values():
        mine = np.flatnonzero(types == body)
        if not mine.size:
            continue
        pos = pd.Index(ids[mine], dtype=object).get_indexer(pd.Index(uniques, dtype=object))
        lookup[SUBJECT_TYPES.index(body), :-1] = np.where(pos >= 0, mine[np.maximum(pos, 0)], -1)
    target = _person_target(subjects)[subject]
    return np.where(target >= 0, lookup[np.maximum(target, 0), codes], -1)


def event_code(name: str) -> int:
    return EVENT_CODE[name]
