"""The score scale: a subject's points against its type's average mapped onto 0-100 so that
the cut points fall at chosen quantiles of a reference distribution fitted at most once a
year (``rating.fit_scale`` fits one to store with the configuration).

Why not fixed cut points on the raw score (base minus weighted bad rates): in a market
whose bad rates cluster, two thirds of the subjects got one grade (issue 16). Why not a
scale re-fitted every month: a grade should change because the subject's record did, not
because the others' did; a month-by-month rescaling moves every grade a little each month.

The choice: per subject type, a subject's *deviation* (its raw points against the type's
average: the indicators' weighted shrunk rates against the type's prior means, what the
contributions show) is mapped onto 0-100 through knots fitted on a *reference month*:
the deviations of the type's rated subjects at the cumulative ``scale_shares`` (from the
bottom: C's share, then C + B's, ...), each knot halfway between the two subjects either
side. The knots go onto the cut points (B, A, AA, AAA); between them the map is linear,
beyond the end knots it goes on with the slope of the whole span. So in the reference
month the grades hold the chosen shares (default 10 / 20 / 40 / 20 / 10 %: no grade holds
half of a type, AAA and C are not empty), and in the following year's months the scale
stays put: a grade moves only where the subject's own evidence moved its deviation.
Deviations rather than raw scores, because the type's average (the empirical-Bayes prior
mean) is re-fitted every month: a scale in raw points would move every subject of a
small, tightly clustered type by the prior's monthly wobble.

- The reference month of a rated month is the last ``scale_reference_month`` (default
  December) strictly before it: the months of 2025 use the scale of 2024-12. A scale can
  also be fitted once and stored in the configuration (``fit_scale`` ->
  ``RatingConfig.scale``); a stored scale wins over the reference month.
- A type with fewer than ``scale_min_subjects`` rated subjects at the reference month
  (a young register, a small type) uses the rated month's own distribution (as long as
  it has ``MIN_OWN`` rated subjects; below that the raw score itself): its grades then
  follow the month, which is the price of separating a small type at all.
- Knots closer together than ``scale_min_gap`` raw points are spread to that gap around
  their middle, so that a population of equals (bad rates that differ by noise only,
  which shrinkage leaves close together) is not stretched over the grades.
- The map is increasing: everything monotone about the raw score (a bad event never
  raises it, less evidence stays nearer the middle) holds for the score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import GRADES, SUBJECT_TYPES, RatingConfig

N_TYPES = len(SUBJECT_TYPES)
KNOT_GRADES = tuple(reversed(GRADES[:-1]))  # B, A, AA, AAA: the cut points from the bottom
KNOT_COLUMNS = tuple(f"knot_{g}" for g in KNOT_GRADES)
MIN_OWN = 5  # rated subjects of a type below which it keeps the raw score


def reference_period(period: int, config: RatingConfig) -> int:
    """The month (index) whose distribution anchors the scale of ``period``: the last
    ``scale_reference_month`` strictly before it."""
    m = int(config.scale_reference_month) - 1  # 0-based month of the year
    ref = (period // 12) * 12 + m
    return ref if ref < period else ref - 12


def quantile_levels(config: RatingConfig) -> np.ndarray:
    """Cumulative shares from the bottom at which the knots B, A, AA, AAA sit."""
    shares = [config.scale_shares[g] for g in reversed(GRADES)]  # C first
    return np.cumsum(shares)[:-1]


def knots_of(raw: np.ndarray, config: RatingConfig) -> np.ndarray:
    """Knots (B, A, AA, AAA) from a sample of raw scores, at least ``scale_min_gap`` apart."""
    # each knot halfway between the subjects either side of its share, so that the shares
    # hold exactly in the reference month and no subject sits on a cut point
    v = np.sort(np.asarray(raw, dtype=np.float64))
    k = np.clip(np.round(quantile_levels(config) * len(v)).astype(np.int64), 1, len(v) - 1)
    return spread_knots((v[k - 1] + v[k]) / 2, config.scale_min_gap)


def spread_knots(k: np.ndarray, gap: float) -> np.ndarray:
    """Widen the gaps below ``gap`` to ``gap``, keeping the middle of the span."""
    k = np.asarray(k, dtype=np.float64)
    d = np.maximum(np.diff(k), gap)
    out = np.concatenate([[0.0], np.cumsum(d)])
    return out + (k[0] + k[-1]) / 2 - (out[0] + out[-1]) / 2


def type_knots(
    dev: np.ndarray,
    rated: np.ndarray,
    stype: np.ndarray,
    config: RatingConfig,
    *,
    at_least: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per type (rows): knots from the deviations of the type's rated subjects (NaN with
    fewer than ``at_least``, default ``scale_min_subjects``) and the number of them."""
    need = config.scale_min_subjects if at_least is None else at_least
    knots = np.full((N_TYPES, len(KNOT_GRADES)), np.nan)
    count = np.zeros(N_TYPES, dtype=np.int64)
    for t in range(N_TYPES):
        sel = rated & (stype == t)
        count[t] = int(sel.sum())
        if count[t] >= max(need, 2):
            knots[t] = knots_of(dev[sel], config)
    return knots, count


def scale_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=[*KNOT_COLUMNS, "source", "period", "rated"],
        index=pd.Index(SUBJECT_TYPES, name="subject_type"),
    )


def apply(raw: np.ndarray, knots: np.ndarray, config: RatingConfig) -> np.ndarray:
    """Score of each deviation ``raw`` under its row's knots (rows of ``knots`` align with
    ``raw``; a NaN row: ``raw`` unchanged)."""
    cuts = np.array([config.cut_points[g] for g in KNOT_GRADES])
    raw = np.asarray(raw, dtype=np.float64)
    out = raw.copy()
    ok = np.isfinite(knots).all(axis=1)
    if not ok.any():
        return out
    k, r = knots[ok], raw[ok]
    span = (cuts[-1] - cuts[0]) / (k[:, -1] - k[:, 0])
    # the segment each raw score falls in (0: below B's knot ... 4: above AAA's)
    seg = (r[:, None] >= k).sum(axis=1)
    lo = np.clip(seg - 1, 0, len(cuts) - 2)
    rows = np.arange(len(r))
    k0, k1 = k[rows, lo], k[rows, lo + 1]
    inside = cuts[lo] + (r - k0) * (cuts[lo + 1] - cuts[lo]) / (k1 - k0)
    below = cuts[0] + (r - k[:, 0]) * span
    above = cuts[-1] + (r - k[:, -1]) * span
    out[ok] = np.where(seg == 0, below, np.where(seg == len(cuts), above, inside))
    return out
