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

INDICATOR_ZH = {"timeliness": "报送及时性", "confirmation": "确认审核结果", "spotcheck": "抽查结果", "complaints": "有效投诉"}
INDICATOR_EN = {
    "timeliness": "filing timeliness",
    "confirmation": "confirmation audits",
    "spotcheck": "spot checks",
    "complaints": "substantiated complaints",
}


def _c(counts: np.ndarray, *events: str) -> np.ndarray:
    return sum(counts[:, EVENT_CODE[e]] for e in events).round().astype(np.int64)


def _indicator_texts(counts: np.ndarray) -> dict[str, tuple[list[str], list[str]]]:
    late, ontime = _c(counts, "filing_late"), _c(counts, "filing_on_time")
    conf = _c(counts, "confirmation_confirmed", "confirmation_returned", "confirmation_grade_adjusted", "confirmation_rejected")
    ret, adj, rej = (_c(counts, e) for e in ("confirmation_returned", "confirmation_grade_adjusted", "confirmation_rejected"))
    spot = _c(counts, "spotcheck_conforming", "spotcheck_minor", "spotcheck_major")
    mi, ma = _c(counts, "spotcheck_minor"), _c(counts, "spotcheck_major")
    comp = _c(counts, "complaint_substantiated")
    return {
        "timeliness": (
            [f"逾期报送偏多：{a}/{a + b} 份评定逾期报送" for a, b in zip(late, ontime, strict=True)],
            [f"late filing above peers: {a} of {a + b} assessments filed late" for a, b in zip(late, ontime, strict=True)],
        ),
        "confirmation": (
            [f"确认审核结果较差：{t} 次中退回 {a}、调级 {b}、不予确认 {c}" for t, a, b, c in zip(conf, ret, adj, rej, strict=True)],
            [
                f"confirmation audits worse than peers: of {t}, {a} returned, {b} grade adjusted, {c} rejected"
                for t, a, b, c in zip(conf, ret, adj, rej, strict=True)
            ],
        ),
        "spotcheck": (
            [f"抽查结果较差：{t} 次抽查中一般不符合 {a}、严重不符合 {b}" for t, a, b in zip(spot, mi, ma, strict=True)],
            [f"spot checks worse than peers: of {t}, {a} minor and {b} major findings" for t, a, b in zip(spot, mi, ma, strict=True)],
        ),
        "complaints": (
            [f"有效投诉 {a} 件，高于同类平均" for a in comp],
            [f"{a} substantiated complaint(s), above peers" for a in comp],
        ),
    }


def reasons(out: pd.DataFrame, counts: np.ndarray, config: RatingConfig) -> tuple[list[list[str]], list[list[str]]]:
    """Per subject: the top reasons (most important first) in Chinese and in English."""
    n = len(out)
    contrib = out[[f"contrib_{i}" for i in INDICATORS]].to_numpy()
    peer = out[[f"peer_{i}" for i in INDICATORS]].to_numpy()
    dev = np.nan_to_num(contrib - peer, nan=0.0)
    order = np.argsort(dev, axis=1, kind="stable")
    texts = _indicator_texts(counts)
    grade = out["grade"].to_numpy()
    sanctioned = out["sanctioned"].to_numpy()
    eff = out["effective_n"].to_numpy()
    cap = config.sanction_cap
    zh_all: list[list[str]] = []
    en_all: list[list[str]] = []
    for i in range(n):
        zh: list[str] = []
        en: list[str] = []
        if grade[i] == NR:
            zh.append(f"证据不足：有效事件 {eff[i]:.1f} 件，低于 {config.min_effective_n:g} 件，不予评级")
            en.append(f"not rated: {eff[i]:.1f} effective events, below the threshold of {config.min_effective_n:g}")
        if sanctioned[i]:
            zh.append(f"评级窗口内受到处罚（暂停、撤销或证实造假），等级最高为 {cap}")
            en.append(f"sanctioned within the window (suspension, revocation or proven forgery): grade at most {cap}")
        if grade[i] != NR:
            for k in order[i]:
                d = dev[i, k]
                if d > -MIN_POINTS or len(zh) >= config.n_reasons:
                    break
                ind = INDICATORS[k]
                zh.append(f"{texts[ind][0][i]}（比同类平均低 {-d:.1f} 分）")
                en.append(f"{texts[ind][1][i]} ({d:+.1f} points against peers)")
            if not zh:
                best = INDICATORS[order[i][-1]]
                zh.append(f"各项指标均不低于同类平均，{INDICATOR_ZH[best]}最好（{dev[i, order[i][-1]]:+.1f} 分）")
                en.append(f"all indicators at or better than peers; best: {INDICATOR_EN[best]} ({dev[i, order[i][-1]]:+.1f} points)")
        zh_all.append(zh[: config.n_reasons])
        en_all.append(en[: config.n_reasons])
    return zh_all, en_all
