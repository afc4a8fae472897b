"""The change of each rating since the previous month, and the events behind it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import EVENTS, GRADES, INDICATORS, NR, RatingConfig, RatingError
from .events import encode, parse_period
from .reasons import INDICATOR_EN, INDICATOR_ZH

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


def _event_order(item) -> int:
    return _EVENT_RANK[item[0]]


def _events_text(d: dict, zh: bool) -> str:
    if not d:
        return ""
    parts = [f"{EVENT_ZH[e] if zh else e}×{v:g}" for e, v in sorted(d.items(), key=_event_order)]
    return ("、" if zh else ", ").join(parts)


def compare(previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """Return ``current`` with the change since ``previous`` (both outputs of a Rater).

    Adds grade_previous, score_previous, score_change, grade_steps (+1 = one grade up;
    missing when either month is NR or the subject is new), indicator_changes ({indicator:
    points}), change_events ("event×n" entered this month / left the window) and
    change_zh / change_en. Neither input is modified.
    """
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
    m = out[KEYS].merge(prev, how="left", on=KEYS, validate="one_to_one")
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
    g_prev = out["grade_previous"].tolist()
    g_cur = out["grade"].tolist()
    if n_rows:
        biggest = np.argmax(np.abs(np.nan_to_num(delta, nan=0.0)), axis=1)
        big = delta[np.arange(n_rows), biggest]
        big = np.where(np.isfinite(big), big, np.nan).tolist()
        biggest = biggest.tolist()
    else:
        biggest = big = []
    zh, en, evs = [], [], []
    for i in range(n_rows):
        a, b = new[i] or {}, old[i] or {}
        evs.append({"entered": a, "left": b})
        parts_zh, parts_en = [], []
        g0, g1 = g_prev[i], g_cur[i]
        if isinstance(g0, str) and g0 != g1:
            parts_zh.append(f"等级由 {g0} 变为 {g1}")
            parts_en.append(f"grade {g0} -> {g1}")
        d = big[i]
        if d == d and abs(d) >= 0.05:  # not NaN (delta holds no infinities)
            ind = INDICATORS[biggest[i]]
            parts_zh.append(f"变动最大：{INDICATOR_ZH[ind]} {d:+.1f} 分")
            parts_en.append(f"largest move: {INDICATOR_EN[ind]} {d:+.1f} points")
        if a:
            parts_zh.append(f"本月新增：{_events_text(a, True)}")
            parts_en.append(f"new this month: {_events_text(a, False)}")
        if b:
            parts_zh.append(f"移出评级窗口：{_events_text(b, True)}")
            parts_en.append(f"left the window: {_events_text(b, False)}")
        if not parts_zh:
            parts_zh.append("无新事件，仅随时间衰减")
            parts_en.append("no new events; time decay only")
        zh.append("；".join(parts_zh))
        en.append("; ".join(parts_en))
    out["change_events"] = evs
    out["change_zh"] = zh
    out["change_en"] = en
    return out


def events_behind_change(events: pd.DataFrame, period, config: RatingConfig | None = None) -> pd.DataFrame:
    """The raw events that entered (the rated month) or left (aged out) the window at ``period``.

    Returns the matching rows of ``events`` (a copy) with a column ``effect``:
    ``entered`` or ``left``.
    """
    cfg = config or RatingConfig()
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
