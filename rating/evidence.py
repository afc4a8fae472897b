"""Decayed evidence per subject at one period: the window, the decay, the per-event tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .config import EVENTS, RatingConfig
from .events import EventCounts

N_EVENTS = len(EVENTS)


@dataclass(frozen=True, eq=False)
class Evidence:
    """Per-subject evidence at one period (arrays aligned with ``codes.subjects``)."""

    period: int
    exists: np.ndarray  # subject has an event on or before the period
    counts: np.ndarray  # (subjects, events) raw counts in the window
    decayed: np.ndarray  # (subjects, events) counts in the window, decayed for the rates
    recent: np.ndarray  # (subjects, events) counts decayed for the evidence threshold
    decayed2: np.ndarray  # (subjects, events) sums of squared decay weights (for effective n)
    new: np.ndarray  # (subjects, events) counts in the rated month
    expired: np.ndarray  # (subjects, events) counts that left the window this month
    rows: np.ndarray  # positions of the window rows in codes
    weights: np.ndarray  # decayed weight of each window row
    # (subjects x subjects) decayed weight of a person's rows linked to each body, or None
    affiliation: sparse.csr_matrix | None = None


def gather(codes: EventCounts, period: int, config: RatingConfig) -> Evidence:
    age = period - codes.month.astype(np.int64)
    maxage = int(config.max_age_months)
    ns = codes.n_subjects
    seen = age >= 0
    exists = np.bincount(codes.subject[seen], minlength=ns) > 0
    rows = np.flatnonzero(seen & (age <= maxage))
    a = age[rows]
    key = codes.subject[rows] * N_EVENTS + codes.event[rows]
    cnt = codes.n[rows]

    def table(k, wt):
        table = np.bincount(k, weights=wt, minlength=ns * N_EVENTS)  # no rows: integers
        return table.astype(np.float64, copy=False).reshape(ns, N_EVENTS)

    gone = a == maxage
    expired = table(key[gone], cnt[gone])
    live = ~gone
    decay = 0.5 ** (np.arange(maxage + 1) / config.rate_half_life_months)
    recency = 0.5 ** (np.arange(maxage + 1) / config.half_life_months)
    rows, a, key, cnt = rows[live], a[live], key[live], cnt[live]
    w = cnt * decay[a]
    now = a == 0
    affiliation = None
    if codes.link is not None:
        lk = codes.link[rows]
        has = lk >= 0
        if has.any():
            affiliation = sparse.csr_matrix(
                (w[has], (codes.subject[rows[has]], lk[has])), shape=(ns, ns), dtype=np.float64
            )
    return Evidence(
        period=period,
        exists=exists,
        counts=table(key, cnt),
        decayed=table(key, w),
        decayed2=table(key, w * decay[a]),
        recent=table(key, cnt * recency[a]),
        new=table(key[now], cnt[now]),
        expired=expired,
        rows=rows,
        weights=w,
        affiliation=affiliation,
    )
