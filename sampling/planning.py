"""plan: how many units to check.

Two questions, two functions.

:func:`plan_attribute` answers the auditor's attribute test the way the R
package jfa's ``planning()`` does (classical branch): the smallest ``n`` whose
one-sided upper confidence bound on the nonconformity rate, when the expected
number of errors turns up in the sample, stays strictly below the
materiality.  With ``x`` the errors expected in a sample of ``n`` (``expected``
as a rate below 1 gives ``x = expected * n``; 1 or more is a count):

- binomial: ``x = ceil(x)``; bound = ``Beta(1 + x, n - x).ppf(confidence)``
  (Clopper-Pearson), i.e. ``P(Bin(n, m) <= x) < 1 - confidence``;
- poisson: bound = ``Gamma(1 + x, rate=n).ppf(confidence)`` (``x`` may be fractional);
- hypergeometric (needs the population ``N``): ``x = ceil(x)``; with
  ``K = ceil(m * N)`` tolerable errors in the population, the smallest ``n``
  with ``P(Hyper(N, K, n) <= x) <= 1 - confidence``.

Materiality 3 %, no expected errors, 95 %: binomial 99, Poisson 100 (jfa's values).

:func:`plan_precision` answers the estimator's question: the smallest ``n``
whose interval for the rate is at most ``± precision`` wide, for the interval
:func:`sampling.estimate_rate` actually reports (Korn-Graubard, see
``estimate.py``), evaluated at the expected rate with the design effect and the
finite-population correction: ``n_eff = n / (deff * (1 - n / N))``, capped at
``n`` as in the estimator.  This is a little larger than the textbook Wald
formula ``z² p (1 - p) deff / P²`` (385 -> 402 for ±5 pp at 50 %), because
the exact interval is a little wider; that is the price of an interval that
covers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from ._validation import SamplingError

__all__ = ["AttributePlan", "PrecisionPlan", "plan_attribute", "plan_precision"]

LIKELIHOODS = ("binomial", "poisson", "hypergeometric")


@dataclass(frozen=True)
class AttributePlan:
    n: int
    expected_errors: float
    upper_bound: float
    materiality: float
    confidence: float
    likelihood: str
    population: int | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PrecisionPlan:
    n: int
    half_width: float
    precision: float
    expected_rate: float
    confidence: float
    design_effect: float
    population: int | None

    def to_dict(self) -> dict:
        return asdict(self)


def _check_fraction(value, name: str, *, low_open: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SamplingError(f"{name} must be a number, got {value!r}") from None
    if not (0.0 < v < 1.0) or math.isnan(v):
        raise SamplingError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return v


def _check_population(population) -> int | None:
    if population is None:
        return None
    try:
        N = int(population)
    except (TypeError, ValueError):
        raise SamplingError(f"population must be a positive integer, got {population!r}") from None
    if N != population or N < 1:
        raise SamplingError(f"population must be a positive integer, got {population!r}")
    return N


def plan_attribute(
    materiality,
    *,
    confidence=0.95,
    expected=0.0,
    likelihood: str = "binomial",
    population=None,
    max_n: int = 5000,
) -> AttributePlan:
    """Smallest sample size for an attribute test (jfa's classical ``planning()``)."""
    m = _check_fraction(materiality, "materiality")
    conf = _check_fraction(confidence, "confidence")
    if likelihood not in LIKELIHOODS:
        raise SamplingError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {likelihood!r}")
    try:
        expected = float(expected)
    except (TypeError, ValueError):
        raise SamplingError(f"expected must be a number, got {expected!r}") from None
    if not expected >= 0:
        raise SamplingError(f"expected must be a rate in [0, 1) or a count >= 1, got {expected!r}")
    is_rate = expected < 1
    if is_rate and expected >= m:
        raise SamplingError(f"expected rate {expected:g} must be below the materiality {m:g}")
    N = _check_population(population)
    if likelihood == "hypergeometric" and N is None:
        raise SamplingError("the hypergeometric likelihood needs the population size N (--population)")
    if not is_rate and likelihood != "poisson":
        expected = float(math.ceil(expected))
    if N is not None and likelihood == "hypergeometric":
        K = math.ceil(m * N)
        x_n = math.ceil(expected * N) if is_rate else expected
        if x_n >= K:
            raise SamplingError("expected errors must be below materiality * N")
        max_n = min(max_n, N)
    alpha = 1.0 - conf
    for n in range(1, int(max_n) + 1):
        x = expected * n if is_rate else expected
        if likelihood != "poisson":
            x = math.ceil(x - 1e-12)
        if n <= x:
            continue
        if likelihood == "binomial":
            bound = stats.beta.ppf(conf, 1 + x, n - x)
            ok = bound < m
        elif likelihood == "poisson":
            bound = stats.gamma.ppf(conf, 1 + x, scale=1.0 / n)
            ok = bound < m
        else:
            ok = stats.hypergeom.cdf(x, N, K, n) <= alpha
            bound = _hyper_upper(conf, N, n, x) / N if ok else None
        if ok:
            return AttributePlan(int(n), float(x), float(bound), m, conf, likelihood, N)
    raise SamplingError(f"no sample size up to {max_n} reaches materiality {m:g} at {conf:g} confidence")


def _hyper_upper(conf: float, N: int, n: int, x: int) -> int:
    """Upper bound on the population errors K: the largest K with P(X <= x | K) > 1 - conf."""
    K = np.arange(x, N + 1)
    cdf = stats.hypergeom.cdf(x, N, K, n)
    return int(K[cdf > 1.0 - conf].max())


def plan_precision(
    precision,
    *,
    expected_rate,
    confidence=0.95,
    design_effect=1.0,
    population=None,
    max_n: int = 10_000_000,
) -> PrecisionPlan:
    """Smallest sample size whose interval half-width for the rate is at most ``precision``."""
    from .estimate import korn_graubard_interval

    P = _check_fraction(precision, "precision")
    p = _check_fraction(expected_rate, "expected rate")
    conf = _check_fraction(confidence, "confidence")
    try:
        deff = float(design_effect)
    except (TypeError, ValueError):
        raise SamplingError(f"design effect must be a number, got {design_effect!r}") from None
    if not deff > 0 or math.isinf(deff):
        raise SamplingError(f"design effect must be positive, got {design_effect!r}")
    N = _check_population(population)

    def half_width(n: int) -> float:
        if N is not None and n >= N:
            return 0.0
        fpc = 1.0 - n / N if N is not None else 1.0
        n_eff = min(n / (deff * fpc), float(n))
        lo, hi = korn_graubard_interval(p, n_eff, conf)
        return (hi - lo) / 2.0

    hi_n = N if N is not None else int(max_n)
    if half_width(hi_n) > P:
        raise SamplingError(f"no sample size up to {hi_n} reaches ± {P:g} at {conf:g} confidence")
    lo_n = 1
    while lo_n < hi_n:
        mid = (lo_n + hi_n) // 2
        if half_width(mid) <= P:
            hi_n = mid
        else:
            lo_n = mid + 1
    return PrecisionPlan(int(lo_n), float(half_width(lo_n)), P, p, conf, deff, N)
