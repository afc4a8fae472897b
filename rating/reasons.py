"""Top reasons of a rating, in Chinese and English.

A reason names an indicator on which the subject does worse than the average subject of
its type (its contribution minus the peers' contribution, in points), with the raw
counts of the window behind it, so that the rated body can check it against its records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import EVENT_CODE, INDICATORS, NR, RatingConfig

MIN_POINTS = 0.5  # a deviation smaller than this is not worth a reason

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


def _quoted_counts(counts: np.ndarray) -> dict:
    """Per indicator: per subject, the tuple of counts its reason quotes (vectorised)."""
    out = {}
    for ind, sums in _QUOTED.items():
        cols = [
            np.rint(counts[:, [EVENT_CODE[e] for e in events]].sum(axis=1)).astype(np.int64)
            for events in sums
        ]
        out[ind] = list(zip(*(c.tolist() for c in cols), strict=True))
    return out


def reasons(
    out: pd.DataFrame, counts: np.ndarray, config: RatingConfig
) -> tuple[list[list[str]], list[list[str]]]:
    """Per subject: the top reasons (most important first) in Chinese and in English."""
    n = len(out)
    contrib = out[[f"contrib_{i}" for i in INDICATORS]].to_numpy()
    peer = out[[f"peer_{i}" for i in INDICATORS]].to_numpy()
    dev = np.nan_to_num(contrib - peer, nan=0.0)
    order = np.argsort(dev, axis=1, kind="stable")
    grade = out["grade"].to_numpy()
    sanctioned = out["sanctioned"].to_numpy()
    held = out["grade_held"].to_numpy()
    score = out["score"].to_numpy()
    eff = out["effective_n"].to_numpy()
    cap = config.sanction_cap
    quoted = _quoted_counts(np.asarray(counts, dtype=np.float64))
    zh_all: list[list[str]] = []
    en_all: list[list[str]] = []
    for i in range(n):
        zh: list[str] = []
        en: list[str] = []
        if grade[i] == NR:
            zh.append(f"证据不足：有效事件 {eff[i]:.1f} 件，低于 {config.min_effective_n:g} 件，不予评级")
            en.append(
                f"not rated: {eff[i]:.1f} effective events, below the threshold of {config.min_effective_n:g}"
            )
        if held[i]:
            h = config.hysteresis_points
            zh.append(f"得分 {score[i]:.1f} 仍在上月等级 {grade[i]} 的 ±{h:g} 分缓冲带内，保持 {grade[i]}")
            en.append(
                f"score {score[i]:.1f} within {h:g} points of last month's grade {grade[i]}: grade kept"
            )
        if sanctioned[i]:
            zh.append(f"评级窗口内受到处罚（暂停、撤销或证实造假），等级最高为 {cap}")
            en.append(
                f"sanctioned within the window (suspension, revocation or proven forgery): grade at most {cap}"
            )
        if grade[i] != NR:
            for k in order[i]:
                d = dev[i, k]
                if d > -MIN_POINTS or len(zh) >= config.n_reasons:
                    break
                ind = INDICATORS[k]
                text_zh, text_en = _texts(ind, quoted[ind][i])
                zh.append(f"{text_zh}（比同类平均低 {-d:.1f} 分）")
                en.append(f"{text_en} ({d:+.1f} points against peers)")
            if not zh:
                best = INDICATORS[order[i][-1]]
                zh.append(
                    f"各项指标均不低于同类平均，{INDICATOR_ZH[best]}最好（{dev[i, order[i][-1]]:+.1f} 分）"
                )
                en.append(
                    f"all indicators at or better than peers; best: {INDICATOR_EN[best]} ({dev[i, order[i][-1]]:+.1f} points)"
                )
        zh_all.append(zh[: config.n_reasons])
        en_all.append(en[: config.n_reasons])
    return zh_all, en_all
