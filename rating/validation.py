"""The validation report stored with every run.

- backtest: the ratings as they stood ``backtest_months`` ago, against whether the subject
  had an adverse outcome (major finding, grade adjusted or rejected at confirmation,
  substantiated complaint, sanction) in the months since: AUROC, and the adverse rate per
  grade, which must fall as grades rise (judged over the grades with at least
  ``MIN_GRADE_N`` backtested subjects; the counts are in the report);
- grade distribution, transition matrix and PSI against the previous month;
- a size check: Spearman correlation of score with the subject's number of events.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .changes import key_positions
from .config import EVENT_CODE, GRADES, NR, SUBJECT_TYPES, RatingConfig
from .events import encode, format_period, parse_period
from .model import Rater

ADVERSE_EVENTS = (
    "confirmation_grade_adjusted",
    "confirmation_rejected",
    "spotcheck_major",
    "complaint_substantiated",
    "sanction",
)
SIZE_CORRELATION_LIMIT = 0.3
# a grade with fewer backtested subjects than this says nothing about the order of the
# adverse rates (one subject is 0 % or 100 %): it is shown but not judged
MIN_GRADE_N = 30
KEYS = ["subject_id", "subject_type"]
ALL_GRADES = (*GRADES, NR)


def auroc(labels, scores) -> float | None:
    """Area under the ROC curve of ``scores`` for binary ``labels`` (ties count half)."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return None
    r = pd.Series(s).rank(method="average").to_numpy()
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def stratified_auroc(labels, scores, strata) -> float | None:
    """AUROC counting only pairs within the same stratum (a stratified concordance).

    Used with strata of similar exposure, so that a big subject that had a bad outcome
    because it had many outcomes is not compared with a small one that had few. (Each
    stratum's :func:`auroc`, its ranks taken within the stratum in one pass.)"""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    g, _ = pd.factorize(np.asarray(strata), sort=True)  # the strata in order; -1: missing
    keep = g >= 0
    y, s, g = y[keep], s[keep], g[keep]
    k = int(g.max()) + 1 if g.size else 0
    n1 = np.bincount(g[y], minlength=k)
    n0 = np.bincount(g[~y], minlength=k)
    r = pd.Series(s).groupby(g).rank(method="average").to_numpy()
    rank_sum = np.bincount(g[y], weights=r[y], minlength=k)  # sums of halves: exact
    num = den = 0.0
    for i in np.flatnonzero((n1 > 0) & (n0 > 0)).tolist():
        a, b = int(n1[i]), int(n0[i])
        pairs = float(a) * float(b)
        num += float((rank_sum[i] - a * (a + 1) / 2) / (a * b)) * pairs
        den += pairs
    return num / den if den else None


def psi(expected, actual, eps: float = 1e-4) -> float | None:
    """Population stability index between two vectors of bin counts."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.sum() <= 0 or a.sum() <= 0:
        return None
    p = np.maximum(e / e.sum(), eps)
    q = np.maximum(a / a.sum(), eps)
    return float(((q - p) * np.log(q / p)).sum())


def spearman(x, y) -> float | None:
    x = pd.Series(np.asarray(x, dtype=np.float64))
    y = pd.Series(np.asarray(y, dtype=np.float64))
    ok = x.notna() & y.notna()
    if ok.sum() < 3 or x[ok].nunique() < 2 or y[ok].nunique() < 2:
        return None
    return float(np.corrcoef(x[ok].rank(), y[ok].rank())[0, 1])


@dataclass(frozen=True)
class ValidationReport:
    period: str
    backtest_period: str
    auroc: float | None
    auroc_unstratified: float | None
    auroc_by_type: Mapping[str, float | None]
    backtest_n: int
    backtest_positives: int
    adverse_rate_by_grade: Mapping[str, float | None]
    adverse_rate_falls: bool | None
    backtest_n_by_grade: Mapping[str, int]
    grade_distribution: Mapping[str, Mapping[str, int]]
    transitions: Mapping[str, Mapping[str, int]]
    changed_share: float | None
    two_grade_jumps: int
    psi: float | None
    size_correlation: Mapping[str, float | None]
    size_check_passed: bool

    def to_dict(self) -> dict:
        def clean(v):
            if isinstance(v, float):
                return None if math.isnan(v) else round(v, 6)
            if isinstance(v, Mapping):
                return {k: clean(x) for k, x in v.items()}
            return v

        return {k: clean(v) for k, v in asdict(self).items()}


def _grade_codes(grades) -> np.ndarray:
    """Position of each grade in ALL_GRADES (-1: missing or not a grade)."""
    return pd.Index(ALL_GRADES, dtype=object).get_indexer(pd.Index(np.asarray(grades, dtype=object)))


def grade_distribution(ratings: pd.DataFrame) -> dict[str, dict[str, int]]:
    g = _grade_codes(ratings["grade"])
    t = pd.Index(SUBJECT_TYPES, dtype=object).get_indexer(pd.Index(ratings["subject_type"].to_numpy(object)))
    ok = g >= 0
    k = len(ALL_GRADES)
    per_type = np.bincount(t[ok & (t >= 0)] * k + g[ok & (t >= 0)], minlength=len(SUBJECT_TYPES) * k)
    tables = {"all": np.bincount(g[ok], minlength=k)}
    tables.update(zip(SUBJECT_TYPES, per_type.reshape(-1, k), strict=True))
    return {
        name: {grade: int(c) for grade, c in zip(ALL_GRADES, tab, strict=True)}
        for name, tab in tables.items()
    }


def transitions(
    previous: pd.DataFrame, current: pd.DataFrame
) -> tuple[dict, float | None, int, float | None]:
    """Transition counts previous grade -> current grade, share of rated subjects (rated in
    both months) that changed grade, number of jumps of two grades or more, and the PSI of
    the rated grade distribution."""
    at = key_positions(current, previous) if len(current) and len(previous) else None
    if at is None:
        m = current[KEYS + ["grade"]].merge(
            previous[KEYS + ["grade"]], on=KEYS, how="outer", suffixes=("", "_prev")
        )
    else:  # the outer merge's pairs (their order does not matter here): matched, new, gone
        prev_grade = previous["grade"].to_numpy(object)
        gone = np.ones(len(previous), dtype=bool)
        gone[at[at >= 0]] = False
        m = pd.DataFrame(
            {
                "grade": np.concatenate([current["grade"].to_numpy(object), np.full(gone.sum(), NR, object)]),
                "grade_prev": np.concatenate(
                    [np.where(at >= 0, prev_grade[np.maximum(at, 0)], NR), prev_grade[gone]]
                ),
            }
        )
    m = m.fillna({"grade": NR, "grade_prev": NR})
    # grades as positions in ALL_GRADES (AAA ... C, then NR; -1: not a grade)
    g, gp = _grade_codes(m["grade"]), _grade_codes(m["grade_prev"])
    k, nr = len(ALL_GRADES), ALL_GRADES.index(NR)
    ok = (g >= 0) & (gp >= 0)
    tab = np.bincount(gp[ok] * k + g[ok], minlength=k * k).reshape(k, k)
    matrix = {a: {b: int(tab[i, j]) for j, b in enumerate(ALL_GRADES)} for i, a in enumerate(ALL_GRADES)}
    both = (g != nr) & (gp != nr)  # a text that is no grade counts here, as a change of neither kind
    steps = np.abs(g - gp)[both & ok]
    changed = float(np.count_nonzero(steps > 0) / both.sum()) if both.any() else None
    jumps = int(np.count_nonzero(steps >= 2))

    def rated(frame: pd.DataFrame) -> np.ndarray:
        c = _grade_codes(frame["grade"])
        return np.bincount(c[(c >= 0) & (c != nr)], minlength=k)[: len(GRADES)]

    return matrix, changed, jumps, psi(rated(previous), rated(current))


def outcome_labels(codes, period: int, months: int) -> pd.DataFrame:
    """Per subject: adverse events and all events in the ``months`` after ``period``."""
    sel = (codes.month > period) & (codes.month <= period + months)
    adverse = np.isin(codes.event, [EVENT_CODE[e] for e in ADVERSE_EVENTS]) & sel
    out = codes.subjects.copy()
    out["later_events"] = np.bincount(codes.subject[sel], weights=codes.n[sel], minlength=codes.n_subjects)
    out["later_adverse"] = np.bincount(
        codes.subject[adverse], weights=codes.n[adverse], minlength=codes.n_subjects
    )
    return out


def backtest(rated: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Rated subjects (ratings from the backtest month) with a later event, with ``adverse``."""
    r = rated.loc[rated["grade"] != NR, KEYS + ["grade", "score"]]
    at = key_positions(r, labels) if len(r) and len(labels) else None
    if at is None:
        m = r.merge(labels, on=KEYS, how="inner")
    else:  # that inner merge: the rated rows found in labels, in their order, with the labels' columns
        found = at >= 0
        m = r[found].reset_index(drop=True)
        for c in labels.columns.drop(KEYS):
            m[c] = labels[c].to_numpy()[at[found]]
    m = m[m["later_events"] > 0].copy()
    m["adverse"] = m["later_adverse"] > 0
    return m


def exposure_strata(bt: pd.DataFrame, n: int = 5) -> np.ndarray:
    """Subject type x quantile of the number of outcomes in the backtest horizon."""
    q = bt.groupby("subject_type")["later_events"].transform(
        lambda v: pd.qcut(v.rank(method="first"), min(n, len(v)), labels=False) if len(v) > 1 else 0
    )
    return (bt["subject_type"].astype(str) + ":" + q.astype(int).astype(str)).to_numpy()


def validation_report(
    events,
    period,
    config: RatingConfig | None = None,
    *,
    current: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    past: pd.DataFrame | None = None,
    correct_strictness: bool = True,
) -> ValidationReport:
    """Validation report of the ratings at ``period``; ratings not given are computed from
    ``events`` (``previous``: the month before, which a computed ``current`` keeps to
    within the hysteresis band; ``past``: ``backtest_months`` before)."""
    cfg = config or RatingConfig()
    codes = encode(events)
    p = parse_period(period)
    b = int(cfg.backtest_months)

    def run(month: int, last: pd.DataFrame | None = None) -> pd.DataFrame:
        return Rater(cfg, correct_strictness=correct_strictness, explain=False).fit_transform(
            codes, format_period(month), last
        )

    previous = run(p - 1) if previous is None else previous
    current = run(p, previous) if current is None else current
    past = run(p - b) if past is None else past
    bt = backtest(past, outcome_labels(codes, p - b, b))
    strata = exposure_strata(bt)
    auc = stratified_auroc(bt["adverse"], -bt["score"].to_numpy(), strata)
    by_type = {
        t: stratified_auroc(bt.loc[sel, "adverse"], -bt.loc[sel, "score"].to_numpy(), strata[sel.to_numpy()])
        for t in SUBJECT_TYPES
        for sel in [bt["subject_type"] == t]
    }
    # adverse rate per grade, standardised over the exposure strata so that it compares
    # grades, not sizes: mean over strata of the stratum's rate, weighted by all subjects
    bt = bt.assign(stratum=strata)
    cell = bt.groupby(["grade", "stratum"])["adverse"].mean().unstack()
    weight = bt["stratum"].value_counts()
    rate = (cell * weight).sum(axis=1) / cell.notna().mul(weight).sum(axis=1)
    rate = rate.reindex(GRADES)
    n_grade = bt["grade"].value_counts().reindex(GRADES, fill_value=0)
    seen = rate[(n_grade >= MIN_GRADE_N).to_numpy()].dropna().to_numpy()
    falls = bool(np.all(np.diff(seen) >= 0)) if len(seen) >= 2 else None  # AAA first: rate rises towards C
    matrix, changed, jumps, psi_ = transitions(previous, current)
    rated = current[current["grade"] != NR]
    size = {
        t: spearman(
            rated.loc[rated["subject_type"] == t, "score"], rated.loc[rated["subject_type"] == t, "n_events"]
        )
        for t in SUBJECT_TYPES
    }
    return ValidationReport(
        period=format_period(p),
        backtest_period=format_period(p - b),
        auroc=auc,
        auroc_unstratified=auroc(bt["adverse"], -bt["score"].to_numpy()),
        auroc_by_type=by_type,
        backtest_n=int(len(bt)),
        backtest_positives=int(bt["adverse"].sum()),
        adverse_rate_by_grade={g: (None if pd.isna(v) else float(v)) for g, v in rate.items()},
        adverse_rate_falls=falls,
        backtest_n_by_grade={g: int(v) for g, v in n_grade.items()},
        grade_distribution=grade_distribution(current),
        transitions=matrix,
        changed_share=changed,
        two_grade_jumps=jumps,
        psi=psi_,
        size_correlation=size,
        size_check_passed=all(v is None or abs(v) <= SIZE_CORRELATION_LIMIT for v in size.values()),
    )
