"""Checker strictness: tell a strict or lenient checker apart from a bad or good subject.

For each checked criterion (e.g. "spot check found at least a minor finding") the outcome
y of a check is modelled additively, y = mu + subject effect + checker effect + noise, and
fitted by alternating shrunk means (backfitting), fully vectorised with ``np.bincount``.
The checker effect is how much more often than average this checker records the bad
outcome for the same subjects; subtracting it from the subject's bad count keeps a harsh
or a soft checker from moving the subject's rating.
"""

from __future__ import annotations

import numpy as np

SUBJECT_PRIOR = 5.0


def fit_checker_effects(
    subject: np.ndarray,
    checker: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    n_subjects: int,
    n_checkers: int,
    *,
    prior: float = 20.0,
    iterations: int = 8,
) -> np.ndarray:
    """Checker effects (rate units, weighted mean 0) from checks y in {0, 1} with weights w."""
    b = np.zeros(n_checkers)
    if n_checkers == 0 or w.sum() <= 0:
        return b
    mu = float(np.dot(w, y) / w.sum())
    ws = np.bincount(subject, weights=w, minlength=n_subjects)
    wc = np.bincount(checker, weights=w, minlength=n_checkers)
    a = np.bincount(subject, weights=w * (y - mu), minlength=n_subjects) / (ws + SUBJECT_PRIOR)
    for _ in range(iterations):
        b = np.bincount(checker, weights=w * (y - mu - a[subject]), minlength=n_checkers) / (wc + prior)
        b -= np.dot(wc, b) / wc.sum()
        a = np.bincount(subject, weights=w * (y - mu - b[checker]), minlength=n_subjects) / (
            ws + SUBJECT_PRIOR
        )
    return b
