"""Empirical-Bayes beta-binomial shrinkage, vectorised over groups (subject types)."""

from __future__ import annotations

import numpy as np

FALLBACK_STRENGTH = 10.0


def fit_beta_prior(
    x: np.ndarray,
    n: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    *,
    min_strength: float = 2.0,
    max_strength: float = 200.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Method-of-moments beta-binomial prior per group (Kleinman's weighted estimator).

    ``x`` bad outcomes (may be fractional: decayed, severity-adjusted) out of ``n``
    opportunities per subject; ``group`` the subject's group code. Subjects with no
    opportunity are ignored. Returns (alpha, beta) per group; a group with fewer than
    three subjects borrows the pooled mean of all groups and a middling strength.
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    has = n > 1e-12
    g, x, n = group[has], np.clip(x[has], 0.0, n[has]), n[has]
    k = np.bincount(g, minlength=n_groups).astype(np.float64)
    sx = np.bincount(g, weights=x, minlength=n_groups)
    sn = np.bincount(g, weights=n, minlength=n_groups)
    sn2 = np.bincount(g, weights=n * n, minlength=n_groups)
    sxx = np.bincount(g, weights=x * x / n, minlength=n_groups)
    pooled = (sx.sum() + 0.5) / (sn.sum() + 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(sn > 0, sx / sn, pooled)
        eps = 0.5 / (sn + 1.0)
        mu = np.clip(mu, eps, 1.0 - eps)
        s = sxx - mu * mu * sn  # sum n_i (p_i - mu)^2
        num = s / (mu * (1.0 - mu)) - (k - 1.0)
        den = sn - sn2 / np.where(sn > 0, sn, 1.0) - (k - 1.0)
        rho = np.where((den > 0) & (num > 0), num / den, 0.0)
        strength = np.where(rho > 0, 1.0 / rho - 1.0, max_strength)
    strength = np.clip(strength, min_strength, max_strength)
    few = k < 3
    mu = np.where(few, np.clip(pooled, 1e-6, 1 - 1e-6), mu)
    strength = np.where(few, np.clip(FALLBACK_STRENGTH, min_strength, max_strength), strength)
    return mu * strength, (1.0 - mu) * strength


def posterior(
    x: np.ndarray, n: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and variance of each subject's rate under its Beta(alpha, beta) prior."""
    # a checker-corrected count may be slightly negative; keep the posterior proper
    a = np.maximum(np.minimum(x, n) + alpha, 0.1 * alpha)
    total = np.maximum(n + alpha + beta, a + 0.1 * beta)
    mean = a / total
    var = mean * (1.0 - mean) / (total + 1.0)
    return mean, var
