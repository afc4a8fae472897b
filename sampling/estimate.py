"""estimate: the market-wide nonconformity rate from the checked units.

Point estimates
    Horvitz-Thompson ``p_HT = Σ_s y_k / π_k / N`` (the reported ``rate``:
    design-unbiased whatever the risk model did) and Hájek
    ``p_H = Σ_s y_k / π_k / Σ_s 1 / π_k`` (reported alongside).

Certainty units
    Units drawn with ``π = 1`` (mandatory checks, capped units) form a census
    stratum: their outcomes add a known count ``C`` and no variance.  The
    interval is built for the rate ``p_u = Σ_u y/π / N_u`` of the ``N_u`` other
    units and mapped back: ``rate = (C + N_u p_u) / N``.  (Counting the certainty
    units into a binomial for the whole rate, as before, made the interval too
    wide where they are many and the rest is rare.)

Variance
    Deville's approximation for high-entropy fixed-size πps designs (our
    randomized systematic draw, like Sampford or conditional Poisson):
    ``v(Ŷ) = Σ_s a_k``, ``a_k = c_k / π_k² (y_k - y*_k)²`` with
    ``c_k = (1 - π_k) n / (n - 1)`` and ``y*_k = π_k Σ_s c_l y_l / π_l / Σ_s c_l``,
    ``n`` the non-certainty units of the stratum, computed within each stratum
    and summed.  A stratum with a single non-certainty unit cannot estimate its
    own variance; such strata are collapsed into one (Wolter 2007, §2.5), and a
    lone one is compared with the overall rate.  ``1 - π_k`` is the
    finite-population correction.  The Hájek variance is the same formula
    applied to ``y_k - p_H`` (linearisation).

Interval: a score interval (Wilson's, generalised to unequal weights)
    The interval is for the rate ``p_u`` of the non-certainty units, found by
    inverting ``(p_u - p0)² = z² V(p0)`` on each side, with the variance
    evaluated at the hypothesised rate ``p0`` rather than at the estimate (the
    score principle that makes Wilson's interval work where Wald's fails):

    * near side (towards 0 for the minority class): ``V(p0) = v · p0 (1 - p0)
      / (p_u (1 - p_u))``, the observed variance scaled; this is Wilson's
      interval on the Korn-Graubard effective sample size ``n_eff = p_u (1 -
      p_u) / v`` (Korn & Graubard 1998, Survey Methodology 24: the effective
      n; Franco, Little, Louis & Slud 2019, J. Survey Stat. Methodol. 7,
      recommend the Wilson form on it after comparing seven intervals, as
      Dean & Pagano 2015, ibid. 3, compared them in clustered surveys; Kott
      2017, Survey Methodology 43, on Wilson intervals from complex samples);
    * far side: ``V(p0) = v + (p0 - p_u) (1 - p0 - p_u) (w* - 1) / N_u``: the
      observed variance plus that of the nonconforming units the draw has not
      seen, each carrying the weight ``w* = Σ_s w² / Σ_s w`` of a unit picked
      at random from the population (Kish's weighting design effect is
      ``n w* / N``).  This is the idea of Fay & Feuer's (1997) gamma interval
      for weighted rare counts (an extra event at a large weight on the upper
      side; Tiwari et al. 2006 use a typical rather than the largest weight),
      in score form.  With the frame (below) the far side uses the model instead.

    For a simple random sample both sides are Wilson's interval (with the
    finite-population correction, up to ``n / (n - 1)``).  Why not the logit
    interval with Satterthwaite's df (R survey's ``svyciprop(method =
    "xlogit")``, used before): a risk-based draw estimates a rare rate from a
    few heavy units; with one or two nonconforming units drawn the df is 1-2
    and ``t`` explodes (coverage 99-100 %, widths of 50 pp at 2 %), while a
    strong model that finds its positives at high π reports a small variance
    exactly when it has missed the low-π positives (coverage 70-86 %).
    Clopper-Pearson on the effective n (``svyciprop(method = "beta")``) shares
    the second failure and over-covers in the first.  The score form keeps the
    zero-count case honest (``p0 = z² c / (1 + z² c)`` with ``c = (w* - 1) /
    N_u``, Wilson's ``z² / (n + z²)`` for equal weights) without ``t``.
    Measured on ``bench/sampling_grid.py``'s grid of independent worlds (see
    the bench's output for every cell).  Rates above 1/2 are handled by
    mirroring (the conforming units are then the minority class).  With no
    non-certainty unit checked the rest is unknown; a census (every unit of
    the population checked with π = 1) gives a zero-width interval.

Frame-aware far side (optional: ``estimate_rate(..., frame=)``, CLI ``estimate --frame OUT.csv``)
    The draw knows every frame unit's model risk ``r_k`` and ``π_k`` (the
    ``draw`` output holds them).  Given them, the far side's extra term is the
    anticipated variance of the HT rate (Isaki & Fuller 1982, JASA 77;
    Särndal, Swensson & Wretman 1992, Model Assisted Survey Sampling, §12.2)
    under the model ``y_k ~ Bernoulli(r_k(p0))``, its risks shifted on the
    logit scale, ``r_k(p0) = expit(δ + β logit r_k)`` with ``δ`` such that their
    mean over the ``N_u`` non-certainty units is the hypothesised ``p0``::

        V(p0) = v + AV(p0) - AV(p_u),   AV(p) = Σ_U (1/π_k - 1) r_k(p) (1 - r_k(p)) / N_u²

    (the part ``Σ_U (1/π_k - 1) σ_k²`` of the anticipated variance; the other
    part, the design variance of the model means, is of order ``p²`` and left
    to the observed ``v``).  With a constant risk this is the far side above
    with ``w*`` replaced by the frame's mean weight ``Σ_U (1/π_k) / N_u``, the
    quantity Kish's ``w*`` estimates from the draw.  A model that finds its
    nonconforming units at high π gives them less weight than an average
    unit (the bench's strong model, 15 %, n 100: mean weight ~37 against
    ``w*`` ~67), hence a narrower upper side where the Kish weight
    over-covered.

    Guard against a wrong model (useless, or its ranking reversed, while π
    follows it: the unseen nonconforming units would get too little weight):
    the slope ``β`` is not taken as 1 but at the lower 95 % confidence bound
    of the logistic regression of the checked (non-certainty) units'
    outcomes on their logit risk, clipped to [0, 1].  The fit is unweighted
    (Wald, Fisher information): the draw depends on the risk (and stratum)
    only, so under the model being checked it is ignorable for this
    regression (Sugden & Smith 1984, Biometrika 71; Pfeffermann 1993, Int.
    Stat. Rev. 61).  A model the outcomes do not support (bound ≤ 0, or no
    nonconforming or no conforming unit checked) falls back to the flat
    frame (constant risk), a model better than it claims is used at β = 1.
    The design-weighted fit (pseudo-likelihood, sandwich variance) was tried
    first: with a useless model its bound exceeded 0 in 21 % of the redraws,
    precisely those that had missed the heavy nonconforming units, and the
    interval under-covered.  The frame is tabulated once (``RiskFrame``: per
    β in 0, 0.1, ..., 1, δ in steps of 0.05, units binned by logit risk in
    bins 0.01 wide; 0.15 s for 200,000 units) and may be passed prepared.
    Measured on ``bench/sampling_grid.py`` (``--frame-aware``, the default,
    against ``--no-frame-aware``, same draws, 1,000 redraws a cell): n = 100,
    all 144 cells, inside 93-97 % 101 -> 113 (strong model 24 -> 35 of 48,
    its 15 % cells 98-99 % -> 94-97 % with the truth above the interval
    0 -> 2-4 %; no model 41 -> 42 of 48, 30 % prevalence 32 -> 35 of 36);
    n = 400, all 144 cells 113 -> 125 (strong 30 -> 41 of 48; its 15 % cells,
    inside before, 95-96 % -> 93-95 %, the truth above 2-3 -> 3-4.5 %: the
    model side is slightly short there).  The 2 and 5 % cells
    still over-cover (the truth is above the interval ~0 %: with 2-5
    nonconforming units checked the slope's bound is near 0, the flat
    frame).  A reversed model (``--model reversed``, 32 cells at n = 100 and
    400): 25 -> 27 inside, none worse beyond noise.  The flat frame's exact
    mean weight also beats Kish's ``w*``, whose estimate is small exactly in
    the redraws that missed the heavy units.  Adding the design variance of
    the model means to ``AV`` (Deville's form per stratum) was measured too:
    n = 100, 101 -> 107 only (the 15 % no-model cells over-cover), not kept.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ._validation import SamplingError, as_frame, binary_column, numeric_column, require_columns

__all__ = ["Estimate", "RiskFrame", "estimate_rate", "korn_graubard_interval"]

_CERTAIN = 1.0 - 1e-9


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
    method: str = "horvitz-thompson, deville variance, score interval (wilson on the effective n, unseen units at the kish weight)"
    unseen_weight: float | None = None
    model_slope: float | None = None

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


def _deville_terms(values: np.ndarray, pi: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Deville's per-unit variance terms ``a_k`` of Σ values/π (non-certainty units), by group.

    ``codes`` numbers the groups 0, 1, ...  Groups with a single unit are
    collapsed into one; a lone single unit is compared with ``π_k`` times the
    overall weighted mean.  Vectorised over groups (``np.bincount``).
    """
    if len(values) == 0:
        return np.zeros(0)
    counts = np.bincount(codes)
    single = counts[codes] == 1
    if single.any():
        codes = np.where(single, counts.size, codes)
        counts = np.bincount(codes)
    nh = counts[codes].astype(float)
    lone = nh == 1
    c = (1.0 - pi) * np.where(lone, 1.0, nh / np.maximum(nh - 1.0, 1.0))
    c_sum = np.bincount(codes, c)
    cy_sum = np.bincount(codes, c * values / pi)
    ok = c_sum > 0
    ystar = pi * np.divide(cy_sum, c_sum, out=np.zeros_like(c_sum), where=ok)[codes]
    if lone.any():
        ystar[lone] = pi[lone] * np.sum(values / pi) / np.sum(1.0 / pi)
    return np.where(ok[codes], c / pi**2 * (values - ystar) ** 2, 0.0)


def _deville(values: np.ndarray, pi: np.ndarray, codes: np.ndarray) -> float:
    """Deville's variance of Σ values/π over the non-certainty units, summed over groups."""
    free = pi < _CERTAIN
    return float(_deville_terms(values[free], pi[free], codes[free]).sum()) if free.any() else 0.0


@lru_cache(maxsize=16)
def _z2(confidence: float) -> float:
    return float(stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0)) ** 2


def score_interval(
    p: float, var: float, unseen: float, confidence: float = 0.95, increment=None
) -> tuple[float, float]:
    """The score interval of the module docstring for a rate ``p`` with variance ``var``.

    ``unseen`` is the variance one more rate point of the minority class adds
    (``(w* - 1) / N``).  Solves ``(p - p0)² = z² V(p0)`` on each side in closed form;
    a simple random sample gives Wilson's interval.  ``increment`` (a function of
    ``p0``, the frame-aware far side) replaces the far side's ``V(p0) - var``; that
    side is then solved numerically.
    """
    z2 = _z2(float(confidence))
    flip = p > 0.5
    q = 1.0 - p if flip else p
    # near side (towards 0): the observed variance scaled with q0 (1 - q0), i.e. Wilson on n_eff
    if q <= 0 or var <= 0:
        near = q
    else:
        k = z2 * var / (q * (1.0 - q))
        b = 2.0 * q + k
        near = (b - np.sqrt(max(b * b - 4.0 * (1.0 + k) * q * q, 0.0))) / (2.0 * (1.0 + k))
    # far side (towards 1/2 and beyond): the observed variance plus that of units not yet seen
    if increment is not None:  # the frame's: solved numerically
        far = _far_root(p, var, z2, increment, 0.0 if flip else 1.0)
        far = 1.0 - far if flip else far
    else:
        a = 1.0 + z2 * unseen
        b = z2 * unseen * (1.0 - 2.0 * q)
        d = (b + np.sqrt(b * b + 4.0 * a * z2 * max(var, 0.0))) / (2.0 * a)
        far = min(q + d, 1.0)
    lo, hi = max(near, 0.0), far
    return (1.0 - hi, 1.0 - lo) if flip else (lo, hi)


def _far_root(p: float, var: float, z2: float, increment, end: float) -> float:
    """The far bound: the root of ``(p0 - p)² = z² (var + increment(p0))`` between ``p`` and ``end``."""

    def f(p0):
        return (p0 - p) ** 2 - z2 * max(var + increment(p0), 0.0)

    start = p + (1e-12 if end > p else -1e-12)
    if f(end) <= 0:
        return end
    if f(start) >= 0:
        return p
    return float(optimize.brentq(f, start, end, xtol=1e-12, rtol=1e-10))


_LOGIT_EDGE = float(special.logit(1e-9))
_SHIFT_STEP = 0.05
SLOPES = np.linspace(0.0, 1.0, 11)
SLOPE_CONFIDENCE = 0.95
_FRAME_METHOD = (
    "horvitz-thompson, deville variance, score interval (wilson on the effective n, unseen units at the "
    "frame's anticipated variance)"
)


@dataclass(frozen=True)
class RiskFrame:
    """Every frame unit's π and model risk, prepared once for the frame-aware far side.

    For each slope β in ``SLOPES`` the non-certainty units' risks are taken as
    ``r_k = expit(δ + β logit risk_k)`` over a grid of shifts δ; ``logit_rates[j]``
    holds their mean risk (logit, increasing) and ``variance[j]`` the anticipated
    variance of the rate there, ``Σ_U (1/π_k - 1) r_k (1 - r_k) / N_u²``.
    """

    population: int
    logit_rates: tuple
    variance: tuple

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        probability_column: str = "inclusion_probability",
        risk_column: str = "risk",
    ) -> RiskFrame:
        frame = as_frame(frame, "frame")
        require_columns(frame, [probability_column, risk_column], "frame")
        pi = numeric_column(frame, probability_column, "frame", allow_missing=False)
        risk = numeric_column(frame, risk_column, "frame", allow_missing=False)
        for values, what in ((pi, "inclusion probabilities"), (risk, "risks")):
            bad = ~((values > 0) & (values <= 1))
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                raise SamplingError(f"frame: {what} must lie in (0, 1] (row {pos + 1} holds {values[pos]:g})")
        free = pi < _CERTAIN
        n_u = int(free.sum())
        logit = special.logit(np.clip(risk[free], 1e-9, 1.0 - 1e-9))
        # units binned by logit risk (bins 0.01 wide, each at its units' mean): sums over a few
        # thousand bins instead of every unit, exact to ~1e-5 of the variance
        bins = np.floor((logit - logit.min()) / 0.01).astype(np.intp) if n_u else np.zeros(0, np.intp)
        bins = np.unique(bins, return_inverse=True)[1].ravel()
        count = np.bincount(bins).astype(float)
        centre = np.bincount(bins, logit) / np.maximum(count, 1.0)
        a = np.bincount(bins, 1.0 / pi[free] - 1.0)
        rates, variances = [], []
        for beta in SLOPES:
            x = beta * centre
            lo, hi = (_LOGIT_EDGE - x.max(), -_LOGIT_EDGE - x.min()) if n_u else (0.0, 0.0)
            shifts = np.arange(lo, hi + _SHIFT_STEP, _SHIFT_STEP)
            rate, var = np.zeros(len(shifts)), np.zeros(len(shifts))
            for i in range(0, len(shifts) if n_u else 0, 64):  # 64 shifts at a time
                r = special.expit(x[None, :] + shifts[i : i + 64, None])
                rate[i : i + 64] = r @ count / n_u
                var[i : i + 64] = (r * (1.0 - r)) @ a / n_u**2
            rates.append(special.logit(np.clip(rate, 1e-12, 1.0 - 1e-12)))
            variances.append(var)
        return cls(population=len(frame), logit_rates=tuple(rates), variance=tuple(variances))

    def anticipated_variance(self, p0: float, slope: float = 1.0) -> float:
        """The anticipated variance of the non-certainty units' rate at mean risk ``p0`` (the model's
        logit risks multiplied by ``slope`` in [0, 1], interpolated between the tabulated slopes)."""
        t = min(max(slope, 0.0), 1.0) * (len(SLOPES) - 1)
        i = min(int(t), len(SLOPES) - 2)
        v0, v1 = (self._at(p0, j) for j in (i, i + 1))
        return v0 + (t - i) * (v1 - v0)

    def _at(self, p0: float, j: int) -> float:
        """Table ``j`` at ``p0``; beyond its ends the variance falls linearly to 0 at rates 0 and 1."""
        rates, var = self.logit_rates[j], self.variance[j]
        x = special.logit(min(max(p0, 1e-300), 1.0 - 1e-16))
        if x < rates[0]:
            return float(var[0] * p0 / special.expit(rates[0]))
        if x > rates[-1]:
            return float(var[-1] * (1.0 - p0) / (1.0 - special.expit(rates[-1])))
        return float(np.interp(x, rates, var))


def slope_lower_bound(y: np.ndarray, logit_risk: np.ndarray, confidence: float) -> float:
    """The lower confidence bound of β in the logistic fit ``logit P(y_k = 1) = a + β logit risk_k`` over
    the checked units, unweighted (the draw depends on the risk only, so given the risk it is
    ignorable for this regression), Wald with the Fisher information; ``-inf`` when the fit says nothing."""
    n = len(y)
    found = float(y.sum())
    if n < 3 or found == 0 or found == n or np.ptp(logit_risk) == 0:
        return -np.inf
    X = np.column_stack([np.ones(n), logit_risk])
    b = np.array([special.logit(found / n), 0.0])
    for _ in range(50):
        m = special.expit(X @ b)
        info = (X * (m * (1 - m))[:, None]).T @ X
        try:
            step = np.linalg.solve(info, X.T @ (y - m))
        except np.linalg.LinAlgError:
            return -np.inf
        b = b + np.clip(step, -5.0, 5.0)
        if np.max(np.abs(step)) < 1e-8:
            break
    m = special.expit(X @ b)
    info = (X * (m * (1 - m))[:, None]).T @ X
    try:
        var = float(np.linalg.inv(info)[1, 1])
    except np.linalg.LinAlgError:
        return -np.inf
    if not np.isfinite(b[1]) or not var > 0:
        return -np.inf
    return float(b[1] - stats.norm.ppf(confidence) * np.sqrt(var))


def _risk_frame(frame, population: int, probability_column: str) -> RiskFrame:
    rf = (
        frame
        if isinstance(frame, RiskFrame)
        else RiskFrame.from_frame(frame, probability_column=probability_column)
    )
    if rf.population != population:
        raise SamplingError(f"the frame has {rf.population} units, not the population N = {population}")
    return rf


def _stratum_codes(column: pd.Series) -> np.ndarray:
    """Stratum labels as codes 0, 1, ... (labels compared as text, so 1 and "1" are one stratum)."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return np.unique(column.to_numpy(), return_inverse=True)[1].ravel()
    return pd.factorize(column.astype(str))[0]


def estimate_rate(
    checked: pd.DataFrame,
    *,
    population,
    confidence: float = 0.95,
    strata: str | None = None,
    outcome_column: str = "nonconforming",
    probability_column: str = "inclusion_probability",
    frame=None,
    risk_column: str = "risk",
) -> Estimate:
    """Horvitz-Thompson and Hájek rate estimates with a score interval (see the module docstring).

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
    codes = _stratum_codes(checked[strata]) if strata else np.zeros(n, dtype=np.intp)
    rf = None if frame is None else _risk_frame(frame, N, probability_column)
    if rf is not None:
        require_columns(checked, [risk_column], "checked units (with a frame)")
        risk = numeric_column(checked, risk_column, "checked units", allow_missing=False)
        if np.any((risk <= 0) | (risk > 1)):
            raise SamplingError("checked units: risks must lie in (0, 1]")
        logit_risk = special.logit(np.clip(risk, 1e-9, 1.0 - 1e-9))

    w = 1.0 / pi
    total = float(np.sum(y * w))
    rate = total / N
    N_hat = float(np.sum(w))
    hajek = total / N_hat
    v_hajek = _deville(y - hajek, pi, codes) / N_hat**2

    certain = pi >= _CERTAIN
    free = ~certain
    n_u = int(free.sum())
    N_u = N - int(certain.sum())
    certain_total = float(y[certain].sum())
    terms = _deville_terms(y[free], pi[free], codes[free]) if n_u else np.zeros(0)
    v_u = float(terms.sum()) / N_u**2 if N_u else 0.0
    v = v_u * (N_u / N) ** 2
    w_star = slope = method = None
    if N_u == 0:  # a census
        lo = hi = rate
        n_eff = float(n)
    elif n_u == 0:  # only certainty units checked: the rest is unknown
        lo, hi = certain_total / N, (certain_total + N_u) / N
        n_eff = 0.0
    else:
        p_u = min(max((total - certain_total) / N_u, 0.0), 1.0)
        n_eff = min(p_u * (1 - p_u) / v_u if v_u > 0 else float(n_u), float(n_u))
        w_u = w[free]
        w_star = float(np.sum(w_u**2) / np.sum(w_u))  # the weight of a unit not yet seen (Kish)
        increment = None
        if rf is not None:
            method = _FRAME_METHOD
            slope = slope_lower_bound(y[free], logit_risk[free], SLOPE_CONFIDENCE)
            slope = min(max(slope, 0.0), 1.0)
            av_u = rf.anticipated_variance(p_u, slope)
            increment = lambda p0: rf.anticipated_variance(p0, slope) - av_u  # noqa: E731
        lo_u, hi_u = score_interval(p_u, v_u, max(w_star - 1.0, 0.0) / N_u, confidence, increment)
        lo = (certain_total + N_u * lo_u) / N
        hi = (certain_total + N_u * hi_u) / N
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
        unseen_weight=w_star,
        model_slope=slope,
        **({"method": method} if method else {}),
    )
