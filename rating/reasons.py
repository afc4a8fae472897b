"""Top reasons of a rating, in Chinese and English.

A reason names an indicator on which the subject does worse than the average subject of
its type (its contribution minus the peers' contribution, in points), with the raw
counts of the window behind it, so that the rated body can check it against its records.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from .config import EVENT_CODE, INDICATORS, NR, RatingConfig

MIN_POINTS = 0.5  # a deviation smaller than this is not worth a reason


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector paused (as it was before, after): for building the
    per-row texts, lists and dicts of a rating's output, tens of thousands of containers
    without cycles, each batch of which would otherwise have the collector walk every
    live object of the process (the full passes were about 5 % of B5's engine time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


INDICATOR_ZH = {
    "timeliness": "报送及时性",
    "confirmation": "确认审核结果",
    "spotcheck": "抽查结果",
    "complaints": "有效投诉",
}
INDICATOR_EN = {
    "timeliness": "filing timeliness",
    "confirmation": "confirmation audits",
    "spotcheck": "spot checks",
    "complaints": "substantiated complaints",
}


def _n(row, *events: str) -> int:
    return int(round(sum(row[EVENT_CODE[e]] for e in events)))


_CONF = ("confirmation_returned", "confirmation_grade_adjusted", "confirmation_rejected")
# per indicator: the counts its text quotes, each a sum of events
_QUOTED = {
    "timeliness": (("filing_late",), ("filing_late", "filing_on_time")),
    "confirmation": (("confirmation_confirmed", *_CONF), *((e,) for e in _CONF)),
    "spotcheck": (
        ("spotcheck_conforming", "spotcheck_minor", "spotcheck_major"),
        ("spotcheck_minor",),
        ("spotcheck_major",),
    ),
    "complaints": (("complaint_substantiated",),),
}


def _texts(ind: str, q: tuple) -> tuple[str, str]:
    """The zh and en text of a reason about ``ind`` from the quoted counts ``q``."""
    if ind == "timeliness":
        late, total = q
        return (
            f"逾期报送偏多：{late}/{total} 份评定逾期报送",
            f"late filing above peers: {late} of {total} assessments filed late",
        )
    if ind == "confirmation":
        t, a, b, c = q
        return (
            f"确认审核结果较差：{t} 次中退回 {a}、调级 {b}、不予确认 {c}",
            f"confirmation audits worse than peers: of {t}, {a} returned, {b} grade adjusted, {c} rejected",
        )
    if ind == "spotcheck":
        t, a, b = q
        return (
            f"抽查结果较差：{t} 次抽查中一般不符合 {a}、严重不符合 {b}",
            f"spot checks worse than peers: of {t}, {a} minor and {b} major findings",
        )
    (c,) = q
    return f"有效投诉 {c} 件，高于同类平均", f"{c} substantiated complaint(s), above peers"


def _indicator_text(ind: str, row: np.ndarray) -> tuple[str, str]:
    """The zh and en text of a reason about ``ind`` from the window's raw counts ``row``."""
    return _texts(ind, tuple(_n(row, *events) for events in _QUOTED[ind]))


# per indicator: the zh and en text of a reason, as templates over its quoted counts
# followed by the deviation (the same texts as _texts, with the points appended)
_TEMPLATES = {
    "timeliness": (
        "逾期报送偏多：{}/{} 份评定逾期报送（比同类平均低 {:.1f} 分）",
        "late filing above peers: {} of {} assessments filed late ({:+.1f} points against peers)",
    ),
    "confirmation": (
        "确认审核结果较差：{} 次中退回 {}、调级 {}、不予确认 {}（比同类平均低 {:.1f} 分）",
        "confirmation audits worse than peers: of {}, {} returned, {} grade adjusted, {} rejected"
        " ({:+.1f} points against peers)",
    ),
    "spotcheck": (
        "抽查结果较差：{} 次抽查中一般不符合 {}、严重不符合 {}（比同类平均低 {:.1f} 分）",
        "spot checks worse than peers: of {}, {} minor and {} major findings ({:+.1f} points against peers)",
    ),
    "complaints": (
        "有效投诉 {} 件，高于同类平均（比同类平均低 {:.1f} 分）",
        "{} substantiated complaint(s), above peers ({:+.1f} points against peers)",
    ),
}


def _quoted_columns(counts: np.ndarray, ind: str, rows: np.ndarray) -> list[list[int]]:
    """The counts the reason about ``ind`` quotes, one list per count, for ``rows``."""
    sub = counts[rows]
    return [
        np.rint(sub[:, [EVENT_CODE[e] for e in events]].sum(axis=1)).astype(np.int64).tolist()
        for events in _QUOTED[ind]
    ]


def reasons(
    out: pd.DataFrame, counts: np.ndarray, config: RatingConfig
) -> tuple[list[list[str]], list[list[str]]]:
    """Per subject: the top reasons (most important first) in Chinese and in English.

    In order: not rated, grade kept by the hysteresis band, sanction cap, then (rated
    subjects) the indicators worse than peers by at least MIN_POINTS, worst first, or,
    when nothing else was said, the best indicator; at most ``config.n_reasons``. The texts
    are built per kind of reason over the rows that have it (templates, not a row loop).
    """
    n = len(out)
    contrib = out[[f"contrib_{i}" for i in INDICATORS]].to_numpy()
    peer = out[[f"peer_{i}" for i in INDICATORS]].to_numpy()
    dev = np.nan_to_num(contrib - peer, nan=0.0)
    order = np.argsort(dev, axis=1, kind="stable")
    grade = out["grade"].to_numpy()
    sanctioned = out["sanctioned"].to_numpy().astype(bool)
    held = out["grade_held"].to_numpy().astype(bool)
    score = out["score"].to_numpy()
    eff = out["effective_n"].to_numpy()
    cap = config.sanction_cap
    n_max = config.n_reasons
    counts = np.asarray(counts, dtype=np.float64)
    zh_all: list[list[str]] = [[] for _ in range(n)]
    en_all: list[list[str]] = [[] for _ in range(n)]
    if not n:
        return zh_all, en_all

    def add(rows: np.ndarray, zh: list[str], en: list[str]) -> None:
        for i, a, b in zip(rows.tolist(), zh, en, strict=True):
            zh_all[i].append(a)
            en_all[i].append(b)

    is_nr = grade == NR
    said = np.zeros(n, dtype=np.int64)  # reasons given so far per row
    rows = np.flatnonzero(is_nr)
    if rows.size:
        m = f"{config.min_effective_n:g}"
        tz = "证据不足：有效事件 {:.1f} 件，低于 " + m + " 件，不予评级"
        te = "not rated: {:.1f} effective events, below the threshold of " + m
        e = eff[rows].tolist()
        add(rows, [tz.format(v) for v in e], [te.format(v) for v in e])
        said[rows] += 1
    rows = np.flatnonzero(held)
    if rows.size:
        h = f"{config.hysteresis_points:g}"
        tz = "得分 {:.1f} 仍在上月等级 {} 的 ±" + h + " 分缓冲带内，保持 {}"
        te = "score {:.1f} within " + h + " points of last month's grade {}: grade kept"
        s, g = score[rows].tolist(), grade[rows].tolist()
        add(
            rows,
            [tz.format(a, b, b) for a, b in zip(s, g, strict=True)],
            [te.format(a, b) for a, b in zip(s, g, strict=True)],
        )
        said[rows] += 1
    rows = np.flatnonzero(sanctioned)
    if rows.size:
        tz = f"评级窗口内受到处罚（暂停、撤销或证实造假），等级最高为 {cap}"
        te = f"sanctioned within the window (suspension, revocation or proven forgery): grade at most {cap}"
        add(rows, [tz] * rows.size, [te] * rows.size)
        said[rows] += 1
    rated = ~is_nr
    # worst first; the deviations are sorted, so the reasons are a prefix of ``order``
    sorted_dev = np.take_along_axis(dev, order, axis=1)
    for pos in range(order.shape[1]):
        take = rated & (sorted_dev[:, pos] <= -MIN_POINTS) & (said < n_max)
        if not take.any():
            break
        for k, ind in enumerate(INDICATORS):
            rows = np.flatnonzero(take & (order[:, pos] == k))
            if not rows.size:
                continue
            q = _quoted_columns(counts, ind, rows)
            d = sorted_dev[rows, pos].tolist()
            tz, te = _TEMPLATES[ind]
            add(
                rows,
                [tz.format(*a, -b) for *a, b in zip(*q, d, strict=True)],
                [te.format(*a, b) for *a, b in zip(*q, d, strict=True)],
            )
        said[take] += 1
    fallback = rated & (said == 0)
    best = order[:, -1]
    for k, ind in enumerate(INDICATORS):
        rows = np.flatnonzero(fallback & (best == k))
        if not rows.size:
            continue
        tz = "各项指标均不低于同类平均，" + INDICATOR_ZH[ind] + "最好（{:+.1f} 分）"
        te = "all indicators at or better than peers; best: " + INDICATOR_EN[ind] + " ({:+.1f} points)"
        d = sorted_dev[rows, -1].tolist()
        add(rows, [tz.format(v) for v in d], [te.format(v) for v in d])
    if n_max < 1 or (said > n_max).any():
        for i in range(n):
            if len(zh_all[i]) > n_max:
                zh_all[i] = zh_all[i][:n_max]
                en_all[i] = en_all[i][:n_max]
    return zh_all, en_all
