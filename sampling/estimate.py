"""estimate: the market-wide nonconformity rate from the checked units.

Point estimates
    Horvitz-Thompson ``p_HT = Σ_s y_k / π_k / N`` (the reported ``rate``:
    design-unbiased whatever the risk model did) and Hájek
    ``p_H = Σ_s y_k / π_k / Σ_s 1 / π_k`` (reported alongside).

Variance
    Deville's approximation for high-entropy fixed-size πps designs (our
    randomized systematic draw, like Sampford or conditional Poisson):
    ``v(Ŷ) = Σ_s c_k / π_k² (y_k - y*_k)²`` with ``c_k = (1 - π_k) n / (n - 1)``
    and ``y*_k = π_k Σ_s c_l y_l / π_l / Σ_s c_l``, computed within each stratum
    and summed.  Certainty units (``π = 1``: mandatory checks, capped units)
    contribute no variance; ``1 - π_k`` is the finite-population correction.
    The Hájek variance is the same formula applied to ``y_k - p_H`` (linearisation).

Interval: Korn-Graubard, not Wald
    In a risk-based draw most of the population is represented by a few units
    drawn with small π, whose weights are large; when few of those turn out
    nonconforming the estimate is low *and* its estimated variance is low
    together, so the sampling distribution is skewed and a symmetric Wald
    interval ``p ± 1.96 se`` under-covers (87 % instead of 95 % in our
    simulation at n = 200, 94 % at n = 2,000).  Korn & Graubard (1998) use the
    design-based effective sample size ``n_eff = p (1 - p) / v`` (capped at
    ``n``; ``n`` when ``v = 0``), corrected for the degrees of freedom
    ``n - H`` (H strata), and invert the exact binomial (Clopper-Pearson)
    with ``x = n_eff p`` events: asymmetric, never outside [0, 1], exact when the
    design is simple random sampling.  It is the survey standard for proportions
    (R survey's ``svyciprop(method = "beta")``, Stata's ``citype(exact)``).  Over
    the bench's redraws it covers 93-97 % (see ``bench/sampling_bench.py``).
    A census (every unit of the population checked with π = 1) gives a
    zero-width interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._validation import SamplingError, as_frame, binary_column, numeric_column, require_columns

__all__ = ["Estimate", "estimate_rate", "korn_graubard_interval"]


@dataclass(frozen=True)
class Estimate:
    rate: float
    ci_low: float
    ci_high: float
    n: int
    population: int
    nonconforming: int
    hajek_rate: float
    std_error: float
    hajek_std_error: float
    effective_n: float
    design_effect: float | None
    confidence: float
    method: str = "horvitz-thompson, deville variance, korn-graubard interval"

    def to_dict(self) -> dict:
        return asdict(self)


def korn_graubard_interval(p: float, n_eff: float, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson interval for a rate ``p`` observed on ``n_eff`` (possibly fractional) units."""
    a = (1.0 - confidence) / 2.0
    p = min(max(float(p), 0.0), 1.0)
    x = n_eff * p
    lo = 0.0 if x <= 0 else float(stats.beta.ppf(a, x, n_eff - x + 1.0))
    hi = 1.0 if x >= n_eff else float(stats.beta.ppf(1.0 - a, x + 1.0, n_eff - x))
    return lo, hi


def _deville(values: np.ndarray, pi: np.ndarray, groups: np.ndarray) -> float:
    """Deville's variance of Σ values/π under a fixed-size πps design, summed over groups."""
    total = 0.0
    for g in np.unique(groups):
        m = groups == g
        y, p = values[m], pi[m]
        nh = len(y)
        c = (1.0 - p) * (nh / (nh - 1.0) if nh > 1 else 1.0)
        if c.sum() <= 0:
            continue
        ystar = p * np.sum(c * y / p) / c.sum()
        total += float(np.sum(c / p**2 * (y - ystar) ** 2))
    return total


def estimate_rate(
    checked: pd.DataFrame,
    *,
    population,
    confidence: float = 0.95,
    strata: str | None = None,
    outcome_column: str = "nonconforming",
    probability_column: str = "inclusion_probability",
) -> Estimate:
    """Horvitz-Thompson and Hájek rate estimates with a Korn-Graubard interval.

    ``checked`` holds one row per checked unit with its inclusion probability
    (as the draw recorded it) and outcome (0/1); ``population`` is the frame
    size N the sample was drawn from; ``strata`` names the stratum column when
    the draw was stratified (variance is then computed within strata).
    """
    checked = as_frame(checked, "checked units")
    require_columns(
        checked, [probability_column, outcome_column] + ([strata] if strata else []), "checked units"
    )
    pi = numeric_column(checked, probability_column, "checked units", allow_missing=False)
    bad = (pi <= 0) | (pi > 1)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise SamplingError(
            f"checked units: inclusion probabilities must lie in (0, 1] (row {pos + 1} holds {pi[pos]:g})"
        )
    y = binary_column(checked, outcome_column, "checked units").astype(float)
    if not 0 < confidence < 1:
        raise SamplingError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    n = len(y)
    try:
        N = int(population)
    except (TypeError, ValueError):
        raise SamplingError(f"population must be a positive integer, got {population!r}") from None
    if N != population or N < 1:
        raise SamplingError(f"population must be a positive integer, got {population!r}")
    if N < n:
        raise SamplingError(f"population N = {N} is smaller than the number of checked units n = {n}")
    groups = checked[strata].astype(str).to_numpy() if strata else np.zeros(n, dtype=np.int8)
    n_strata = len(np.unique(groups))

    w = 1.0 / pi
    total = float(np.sum(y * w))
    rate = total / N
    N_hat = float(np.sum(w))
    hajek = total / N_hat
    v = _deville(y, pi, groups) / N**2
    v_hajek = _deville(y - hajek, pi, groups) / N_hat**2

    census = n == N and bool(np.all(pi == 1))
    if census:
        lo = hi = rate
        n_eff = float(n)
    else:
        p = min(max(rate, 0.0), 1.0)
        n_eff = p * (1 - p) / v if v > 0 else float(n)
        n_eff = min(n_eff, float(n))
        df = n - n_strata
        if df >= 1 and n > 1:
            q = 1.0 - (1.0 - confidence) / 2.0
            n_eff *= (stats.t.ppf(q, n - 1) / stats.t.ppf(q, df)) ** 2
        lo, hi = korn_graubard_interval(p, n_eff, confidence)
    srs_var = rate * (1 - rate) / n * (1 - n / N) if 0 < rate < 1 else 0.0
    deff = v / srs_var if srs_var > 0 else None
    return Estimate(
        rate=rate,
        ci_low=lo,
        ci_high=hi,
        n=n,
        population=N,
        nonconforming=int(y.sum()),
        hajek_rate=hajek,
        std_error=float(np.sqrt(v)),
        hajek_std_error=float(np.sqrt(v_hajek)),
        effective_n=float(n_eff),
        design_effect=deff,
        confidence=float(confidence),
    )
