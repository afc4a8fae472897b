"""The change of each rating since the previous month, and the events behind it."""

from __future__ import annotations

import operator
from itertools import chain, repeat

import numpy as np
import pandas as pd

from .config import EVENTS, GRADES, INDICATORS, NR, RatingConfig, RatingError
from .events import EventCounts, encode, parse_period
from .reasons import INDICATOR_EN, INDICATOR_ZH, without_cyclic_gc

EVENT_ZH = {
    "filing_on_time": "按时报送",
    "filing_late": "逾期报送",
    "confirmation_confirmed": "确认审核通过",
    "confirmation_returned": "确认审核退回",
    "confirmation_grade_adjusted": "确认审核调级",
    "confirmation_rejected": "确认审核不予确认",
    "spotcheck_conforming": "抽查符合",
    "spotcheck_minor": "抽查一般不符合",
    "spotcheck_major": "抽查严重不符合",
    "complaint_substantiated": "有效投诉",
    "sanction": "处罚",
}
KEYS = ["subject_id", "subject_type"]
_RANK = {g: i for i, g in enumerate(GRADES)}


_EVENT_RANK = {e: i for i, e in enumerate(EVENTS)}


_EVENT_NAMES_ZH = np.array([EVENT_ZH[e] for e in EVENTS], dtype=object)
_EVENT_NAMES_EN = np.array(list(EVENTS), dtype=object)


def _events_texts(dicts: list) -> tuple[np.ndarray, np.ndarray]:
    """The zh and en texts ("event×n", in event order) of each non-empty dict of ``dicts``.

    Columnar: every dict's entries are laid end to end, sorted by dict and event (stable,
    so that equal ranks keep the dict's order) and joined per dict with ``reduceat``."""
    lens = np.fromiter(map(len, dicts), dtype=np.int64, count=len(dicts))
    keys = list(chain.from_iterable(dicts))
    vals = list(chain.from_iterable(d.values() for d in dicts))
    rank = np.fromiter(map(_EVENT_RANK.__getitem__, keys), dtype=np.int64, count=len(keys))
    times = np.empty(len(vals), dtype=object)
    times[:] = ["×" + format(v, "g") for v in vals]  # f"{v:g}"
    row = np.repeat(np.arange(len(dicts)), lens)
    order = np.argsort(row * len(EVENTS) + rank, kind="stable")
    row, rank, times = row[order], rank[order], times[order]
    first = np.ones(len(row), dtype=bool)
    first[1:] = row[1:] != row[:-1]
    starts = np.flatnonzero(first)
    zh = _EVENT_NAMES_ZH[rank] + times
    en = _EVENT_NAMES_EN[rank] + times
    zh[~first] = "、" + zh[~first]
    en[~first] = ", " + en[~first]
    return np.add.reduceat(zh, starts), np.add.reduceat(en, starts)


def key_positions(left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray | None:
    """For each row of ``left``, the position of the row of ``right`` with the same subject_id and
    subject_type (-1: none); None when a side repeats a subject (the caller's merge says so).

    One integer key per subject (both sides' texts hashed once together) instead of a merge on two
    text columns."""
    n = len(left)
    ids, _ = pd.factorize(np.concatenate([left["subject_id"].to_numpy(object), right["subject_id"].to_numpy(object)]))
    types, names = pd.factorize(
        np.concatenate([left["subject_type"].to_numpy(object), right["subject_type"].to_numpy(object)])
    )
    if (ids < 0).any() or (types < 0).any():
        return None  # missing keys: as pandas merges them
    key = ids.astype(np.int64) * max(len(names), 1) + types
    a, b = pd.Index(key[:n]), pd.Index(key[n:])
    if not (a.is_unique and b.is_unique):
        return None
    return b.get_indexer(a)


def compare(previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """Return ``current`` with the change since ``previous`` (both outputs of a Rater).

    Adds grade_previous, score_previous, score_change, grade_steps (+1 = one grade up;
    missing when either month is NR or the subject is new), indicator_changes ({indicator:
    points}), change_events ("event×n" entered this month / left the window) and
    change_zh / change_en. Neither input is modified.
    """
    with without_cyclic_gc():
        return _compare(previous, current)


def _compare(previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    for name, frame in (("current", current), ("previous", previous)):
        if frame is None:
            continue
        missing = [c for c in KEYS + ["grade", "score"] if c not in frame.columns]
        if missing:
            raise RatingError(f"{name} ratings: missing column(s) {', '.join(missing)}")
    contrib = [f"contrib_{i}" for i in INDICATORS]
    out = current.copy()
    if previous is None:
        previous = pd.DataFrame(columns=KEYS + ["grade", "score"] + contrib)
    cols = KEYS + ["grade", "score"] + [c for c in contrib if c in previous.columns]
    prev = previous[cols].rename(columns={c: c + "_prev" for c in cols if c not in KEYS})
    at = key_positions(out, prev) if len(prev) and len(out) else None
    if at is None:
        m = out[KEYS].merge(prev, how="left", on=KEYS, validate="one_to_one")
    else:  # the same columns as that merge: previous values, NaN where the subject is new
        m = {}
        for c in prev.columns.drop(KEYS):
            v = prev[c].to_numpy()[np.maximum(at, 0)]
            if (at < 0).any():
                v = v.astype(v.dtype if v.dtype.kind in "fc" else object)
                v[at < 0] = np.nan
            m[c] = v
        m = pd.DataFrame(m, index=pd.RangeIndex(len(out)))
    out["grade_previous"] = m["grade_prev"].to_numpy()
    out["score_previous"] = pd.to_numeric(m["score_prev"], errors="coerce").to_numpy()
    out["score_change"] = out["score"] - out["score_previous"]
    cur_rank = out["grade"].map(_RANK)
    prev_rank = out["grade_previous"].map(_RANK)
    out["grade_steps"] = (prev_rank - cur_rank).astype("Int64")
    if all(c in out.columns for c in contrib):
        delta = out[contrib].to_numpy() - np.column_stack(
            [
                pd.to_numeric(m.get(c + "_prev", pd.Series(np.nan, index=m.index)), errors="coerce")
                for c in contrib
            ]
        )
    else:
        delta = np.full((len(out), len(INDICATORS)), np.nan)
    all_nan = np.isnan(delta).all(axis=1).tolist()
    out["indicator_changes"] = [
        None if gone else dict(zip(INDICATORS, row, strict=True))
        for row, gone in zip(delta.tolist(), all_nan, strict=True)
    ]
    n_rows = len(out)
    new = out["events_new"].tolist() if "events_new" in out.columns else [{}] * n_rows
    old = out["events_expired"].tolist() if "events_expired" in out.columns else [{}] * n_rows
    new = [d or {} for d in new]
    old = [d or {} for d in old]
    evs = [{"entered": a, "left": b} for a, b in zip(new, old, strict=True)]
    # the texts, built per part over the rows that have it, then joined per row:
    # grade change; largest move; events entered; events left; else time decay only
    zh = np.full(n_rows, "", dtype=object)
    en = np.full(n_rows, "", dtype=object)
    said = np.zeros(n_rows, dtype=bool)

    def put(rows: np.ndarray, part_zh, part_en) -> None:
        both = said[rows]
        r = rows[both]
        zh[r] = zh[r] + "；" + np.asarray(part_zh, dtype=object)[both]
        en[r] = en[r] + "; " + np.asarray(part_en, dtype=object)[both]
        r = rows[~both]
        zh[r] = np.asarray(part_zh, dtype=object)[~both]
        en[r] = np.asarray(part_en, dtype=object)[~both]
        said[rows] = True

    def parts(values: list) -> np.ndarray:
        a = np.empty(len(values), dtype=object)
        a[:] = values
        return a

    g_prev = out["grade_previous"].to_numpy(dtype=object)
    g_cur = out["grade"].to_numpy(dtype=object)
    rows = np.flatnonzero(np.fromiter(map(isinstance, g_prev, repeat(str)), dtype=bool, count=n_rows))
    rows = rows[np.fromiter(map(operator.ne, g_prev[rows], g_cur[rows]), dtype=bool, count=rows.size)]
    if rows.size:
        pairs = list(zip(g_prev[rows].tolist(), g_cur[rows].tolist(), strict=True))
        put(
            rows,
            parts([f"等级由 {g0} 变为 {g1}" for g0, g1 in pairs]),
            parts([f"grade {g0} -> {g1}" for g0, g1 in pairs]),
        )
    if n_rows:
        biggest = np.argmax(np.abs(np.nan_to_num(delta, nan=0.0)), axis=1)
        big = delta[np.arange(n_rows), biggest]
        big = np.where(np.isfinite(big), big, np.nan)
        moved = ~np.isnan(big) & (np.abs(big) >= 0.05)  # delta holds no infinities
        rows = np.flatnonzero(moved)
        if rows.size:
            part_zh = np.empty(rows.size, dtype=object)
            part_en = np.empty(rows.size, dtype=object)
            which = biggest[rows]
            for k, ind in enumerate(INDICATORS):
                sel = np.flatnonzero(which == k)
                if not sel.size:
                    continue
                tz = "变动最大：" + INDICATOR_ZH[ind] + " {:+.1f} 分"
                te = "largest move: " + INDICATOR_EN[ind] + " {:+.1f} points"
                d = big[rows[sel]].tolist()
                part_zh[sel] = [tz.format(v) for v in d]
                part_en[sel] = [te.format(v) for v in d]
            put(rows, part_zh, part_en)
    for dicts, head_zh, head_en in (
        (new, "本月新增：", "new this month: "),
        (old, "移出评级窗口：", "left the window: "),
    ):
        rows = np.flatnonzero(np.fromiter(map(bool, dicts), dtype=bool, count=n_rows))
        if rows.size:
            text_zh, text_en = _events_texts([dicts[i] for i in rows.tolist()])
            put(rows, head_zh + text_zh, head_en + text_en)
    zh[~said] = "无新事件，仅随时间衰减"
    en[~said] = "no new events; time decay only"
    zh, en = zh.tolist(), en.tolist()
    out["change_events"] = evs
    out["change_zh"] = zh
    out["change_en"] = en
    return out


def events_behind_change(
    events: pd.DataFrame, period, config: RatingConfig | None = None, *, codes: EventCounts | None = None
) -> pd.DataFrame:
    """The raw events that entered (the rated month) or left (aged out) the window at ``period``.

    Returns the matching rows of ``events`` (a copy) with a column ``effect``:
    ``entered`` or ``left``. ``codes``: ``encode(events)`` when the caller has it already
    (the events are not encoded a second time).
    """
    cfg = config or RatingConfig()
    if codes is None or len(codes.subject) != len(events):
        codes = encode(events)
    p = parse_period(period)
    if codes.day is None:
        raise RatingError("events_behind_change needs raw events (with event_date), not counts")
    entered = codes.month == p
    left = codes.month == p - int(cfg.max_age_months)
    sel = np.flatnonzero(entered | left)
    out = events.iloc[sel].copy()
    out["effect"] = np.where(entered[sel], "entered", "left")
    return out.reset_index(drop=True)


def grade_rank(grade: pd.Series) -> pd.Series:
    """0 = AAA ... 4 = C; NR and missing give <NA>."""
    return grade.map(_RANK).astype("Int64").where(grade != NR)
