import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.optimize import brentq

from sampling import SamplingError, estimate_rate, inclusion_probabilities, systematic_sample
from sampling.estimate import RiskFrame, score_interval


def checked(pi, y, **extra):
    return pd.DataFrame({"inclusion_probability": pi, "nonconforming": y, **extra})


def test_srs_gives_the_textbook_variance_and_a_score_interval():
    n, N = 200, 4000
    y = np.r_[np.ones(14), np.zeros(n - 14)]
    est = estimate_rate(checked(np.full(n, n / N), y), population=N)
    p, f = 14 / n, n / N
    s2 = n * p * (1 - p) / (n - 1)
    v = (1 - f) * s2 / n
    assert est.rate == pytest.approx(p) and est.hajek_rate == pytest.approx(p)
    assert est.std_error**2 == pytest.approx(v)
    z2 = stats.norm.ppf(0.975) ** 2
    lo, hi = est.ci_low, est.ci_high
    # near side: the variance scaled with p0 (1 - p0) (Wilson on the effective n)
    assert (p - lo) ** 2 == pytest.approx(z2 * v * lo * (1 - lo) / (p * (1 - p)))
    # far side: plus an unseen unit's variance, (w* - 1) / N = (1 - f) / n for equal weights
    assert (hi - p) ** 2 == pytest.approx(z2 * (v + (hi - p) * (1 - hi - p) * (1 - f) / n))
    # which is Wilson's interval (with the finite-population correction) up to n / (n - 1)
    ne = n / (1 - f)
    c = z2 / ne
    centre, half = (p + c / 2) / (1 + c), np.sqrt(z2 * (p * (1 - p) / ne + c / (4 * ne))) / (1 + c)
    assert (lo, hi) == pytest.approx((centre - half, centre + half), rel=0.01)
    assert est.design_effect == pytest.approx(1.0, abs=0.02)


def test_the_interval_mirrors_for_the_conforming_units():
    pi = np.full(60, 0.1)
    y = np.r_[np.ones(7), np.zeros(53)]
    a = estimate_rate(checked(pi, y), population=600)
    b = estimate_rate(checked(pi, 1 - y), population=600)
    assert b.rate == pytest.approx(1 - a.rate)
    assert (b.ci_low, b.ci_high) == pytest.approx((1 - a.ci_high, 1 - a.ci_low))


def test_upper_bound_allows_for_nonconforming_units_where_the_draw_barely_looked():
    """A strong model found its positives among units drawn with high π; most of the population sits
    at low π where a few draws saw nothing.  The upper bound must allow for positives there, as
    Wilson's zero-count bound does for a draw that looked at that part only."""
    hi_pi = np.full(40, 0.8)
    y_hi = np.r_[np.ones(20), np.zeros(20)]
    N = 50 + 9000
    light = estimate_rate(checked(np.r_[hi_pi, np.full(60, 0.0067)], np.r_[y_hi, np.zeros(60)]), population=N)
    srs_part = estimate_rate(checked(np.full(60, 60 / 9000), np.zeros(60)), population=9000)
    # the low-π part alone: 0 of 60 seen, bound ~ z² / 60 of 9,000 units
    assert srs_part.ci_high == pytest.approx(stats.norm.ppf(0.975) ** 2 / (60 + 3.84), rel=0.02)
    assert light.rate < 0.003
    assert light.ci_high > 9000 * srs_part.ci_high / N * 0.9


def test_no_positives_gives_a_one_sided_interval():
    est = estimate_rate(checked(np.full(50, 0.1), np.zeros(50)), population=500)
    assert est.rate == 0 and est.ci_low == 0 and 0 < est.ci_high < 0.1


def test_census_has_zero_width():
    est = estimate_rate(checked(np.ones(10), [1, 0, 0, 0, 1, 0, 0, 0, 0, 0]), population=10)
    assert est.rate == est.ci_low == est.ci_high == pytest.approx(0.2)


def test_certainty_units_add_no_variance():
    pi = np.r_[np.ones(5), np.full(20, 0.2)]
    y = np.r_[np.ones(5), np.zeros(18), np.ones(2)]
    a = estimate_rate(checked(pi, y), population=105)
    b = estimate_rate(checked(pi, np.r_[np.zeros(5), y[5:]]), population=105)
    assert a.std_error == pytest.approx(b.std_error)
    assert a.rate - b.rate == pytest.approx(5 / 105)


def test_certainty_units_are_a_census_stratum_outside_the_interval():
    """Mandatory units add a known count: the interval is the rest's, shifted and scaled."""
    pi_rest = np.full(40, 0.1)
    y_rest = np.r_[np.ones(6), np.zeros(34)]
    rest = estimate_rate(checked(pi_rest, y_rest), population=400)
    both = estimate_rate(
        checked(np.r_[np.ones(100), pi_rest], np.r_[np.ones(60), np.zeros(40), y_rest]), population=500
    )
    assert both.rate == pytest.approx((60 + 400 * rest.rate) / 500)
    assert both.ci_low == pytest.approx((60 + 400 * rest.ci_low) / 500)
    assert both.ci_high == pytest.approx((60 + 400 * rest.ci_high) / 500)


def test_only_certainty_units_checked_leaves_the_rest_unknown():
    est = estimate_rate(checked(np.ones(5), [1, 0, 0, 0, 0]), population=20)
    assert est.rate == pytest.approx(1 / 20)
    assert (est.ci_low, est.ci_high) == pytest.approx((1 / 20, 16 / 20))


def test_a_stratum_with_one_drawn_unit_still_counts_variance():
    """Alone in its stratum, a unit cannot show its own variance: such strata are collapsed."""
    pi = np.r_[np.full(10, 0.5), 0.05, 0.05, 0.05]
    y = np.r_[np.ones(5), np.zeros(5), 1, 0, 0]
    strata = ["a"] * 10 + ["b", "c", "d"]
    est = estimate_rate(checked(pi, y, s=strata), population=100, strata="s")
    homogeneous_a = estimate_rate(checked(pi[:10], y[:10]), population=100)
    assert est.std_error > 2 * homogeneous_a.std_error


def test_stratified_variance_is_computed_within_strata():
    pi = np.r_[np.full(10, 0.5), np.full(10, 0.05)]
    y = np.r_[np.ones(10), np.zeros(8), np.ones(2)]
    strata = ["a"] * 10 + ["b"] * 10
    within = estimate_rate(checked(pi, y, s=strata), population=220, strata="s")
    pooled = estimate_rate(checked(pi, y), population=220)
    a = estimate_rate(checked(pi[:10], y[:10]), population=220)
    b = estimate_rate(checked(pi[10:], y[10:]), population=220)
    assert within.rate == pooled.rate
    assert within.std_error**2 == pytest.approx(a.std_error**2 + b.std_error**2)
    assert a.std_error == 0  # stratum a is homogeneous
    assert within.std_error != pytest.approx(pooled.std_error)


def test_interval_covers_in_a_risk_based_design():
    """A quick version of the bench: 300 redraws, coverage of the 95 % interval within 91-99 %."""
    g = np.random.default_rng(0)
    N, n = 3000, 300
    p = 1 / (1 + np.exp(-(-2.6 + g.normal(0, 1.0, N))))
    y = (g.random(N) < p).astype(int)
    risk = np.clip(p * np.exp(g.normal(0, 0.5, N)), 1e-3, 1)
    pi = inclusion_probabilities(risk, n)
    cover, err = [], []
    for seed in range(300):
        s = systematic_sample(pi, np.random.default_rng(seed))
        est = estimate_rate(checked(pi[s], y[s]), population=N)
        cover.append(est.ci_low <= y.mean() <= est.ci_high)
        err.append(est.rate - y.mean())
    assert 0.91 <= np.mean(cover) <= 0.99
    assert abs(np.mean(err)) < 3 * np.std(err) / np.sqrt(300)


@settings(max_examples=30, deadline=None)
@given(
    pi=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=40),
    data=st.data(),
)
def test_interval_is_ordered_and_inside_0_1(pi, data):
    y = data.draw(st.lists(st.integers(0, 1), min_size=len(pi), max_size=len(pi)))
    N = int(np.ceil(np.sum(1 / np.asarray(pi)))) + len(pi)
    est = estimate_rate(checked(pi, y), population=N)
    assert 0 <= est.ci_low <= min(max(est.rate, 0), 1) <= est.ci_high <= 1
    assert est.n == len(pi) and est.nonconforming == sum(y)


@pytest.mark.parametrize(
    ("frame", "population", "message"),
    [
        (checked([0.5, 1.2], [0, 1]), 10, r"\(0, 1\]"),
        (checked([0.5, 0.0], [0, 1]), 10, r"\(0, 1\]"),
        (checked([0.5, 0.5], [0, 2]), 10, "0 or 1"),
        (checked([0.5, 0.5], [0, 1]), 1, "smaller than"),
        (checked([0.5, 0.5], [0, 1]).drop(columns="nonconforming"), 10, "nonconforming"),
        (checked([], []), 10, "empty"),
        (checked(["a", 0.5], [0, 1]), 10, "numeric"),
    ],
)
def test_estimate_rejects_bad_input(frame, population, message):
    with pytest.raises(SamplingError, match=message):
        estimate_rate(frame, population=population)


def _coverage(world_seed, *, N, n, prevalence, signal, mandatory, redraws, spread=1.4):
    g = np.random.default_rng(world_seed)
    z = g.normal(size=N)
    eta = 1.5 * z
    b = brentq(lambda b: np.mean(1 / (1 + np.exp(-(b + eta)))) - prevalence, -30, 30)
    y = (g.random(N) < 1 / (1 + np.exp(-(b + eta)))).astype(int)
    s = signal * z + np.sqrt(1 - signal**2) * g.normal(size=N)
    risk = 1 / (1 + np.exp(-(np.log(prevalence / (1 - prevalence)) + spread * s)))
    mand = np.zeros(N, dtype=bool)
    mand[g.choice(N, mandatory, replace=False)] = True
    pi = inclusion_probabilities(risk, n, mandatory=mand)
    cover = []
    for r in range(redraws):
        sel = systematic_sample(pi, np.random.default_rng([world_seed, r]))
        est = estimate_rate(checked(pi[sel], y[sel]), population=N)
        cover.append(est.ci_low <= y.mean() <= est.ci_high)
    return np.mean(cover)


@pytest.mark.parametrize(
    ("world", "N", "n", "prevalence", "signal", "mandatory", "spread"),
    [
        (5, 4000, 200, 0.30, 0.93, 0, 1.4),  # common, a strong model
        (
            6,
            40000,
            400,
            0.02,
            0.0,
            80,
            0.9,
        ),  # rare, a score that spreads π but knows nothing, mandatory units
    ],
)
def test_interval_covers_93_to_97_percent_in_worlds_it_was_not_tuned_on(
    world, N, n, prevalence, signal, mandatory, spread
):
    """500 seeded redraws: a 90 % interval falls below 92.5 % with probability ~0.95, a 95 % one ~0.01.

    The rare world is where the Korn-Graubard interval on the effective n covered ~82 %.
    """
    cover = _coverage(
        world, N=N, n=n, prevalence=prevalence, signal=signal, mandatory=mandatory, redraws=500, spread=spread
    )
    assert 0.925 <= cover <= 0.975


@pytest.mark.parametrize(
    ("N", "signal", "mandatory", "spread"),
    [
        (10000, 0.93, 0, 1.4),  # a strong model: most positives live where π is tiny and few are drawn
        (2000, 0.0, 20, 0.9),  # a score that knows nothing: ~2 positives drawn, one or two heavy
    ],
)
def test_interval_covers_with_two_percent_prevalence_and_n_100(N, signal, mandatory, spread):
    """The smallest counts: ~2 nonconforming units drawn outside the mandatory ones (400 seeded redraws).

    The logit interval with Satterthwaite's df covered ~80 % in the first world and ~100 % (t on one
    or two df) in the second; the score interval covers ~96 % and ~95 %.
    """
    cover = _coverage(
        8, N=N, n=100, prevalence=0.02, signal=signal, mandatory=mandatory, redraws=400, spread=spread
    )
    assert 0.925 <= cover <= 0.975


def _deville_loop(values, pi, groups):
    """The per-group loop the vectorised terms replaced (kept here as the reference)."""
    out = np.zeros(len(values))
    labels, counts = np.unique(groups, return_counts=True)
    single = labels[counts == 1]
    if len(single):
        groups = np.where(np.isin(groups, single), -1, groups)
    for g in np.unique(groups):
        m = groups == g
        y, p = values[m], pi[m]
        if m.sum() == 1:
            c = 1.0 - p
            ystar = p * np.sum(values / pi) / np.sum(1.0 / pi)
        else:
            c = (1.0 - p) * m.sum() / (m.sum() - 1.0)
            ystar = p * np.sum(c * y / p) / c.sum()
        out[m] = c / p**2 * (y - ystar) ** 2
    return out


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_deville_terms_match_the_per_group_loop(seed):
    from sampling.estimate import _deville_terms

    g = np.random.default_rng(seed)
    n = int(g.integers(2, 60))
    pi = g.uniform(0.01, 0.99, n)
    y = (g.random(n) < 0.3).astype(float)
    groups = g.integers(0, max(1, n // 4), n)  # some groups of one unit
    assert np.allclose(_deville_terms(y, pi, groups), _deville_loop(y, pi, groups))


def _frame(pi, risk):
    return pd.DataFrame({"inclusion_probability": pi, "risk": risk})


def test_frame_with_constant_risk_gives_the_kish_interval_at_the_population_mean_weight():
    """A model that knows nothing: the unseen units carry the frame's mean weight, which Kish's w*
    estimates from the draw (equal weights: both are N / n, so the intervals coincide)."""
    N, n = 3000, 150
    y = np.r_[np.ones(9), np.zeros(n - 9)]
    srs = checked(np.full(n, n / N), y, risk=0.05)
    plain = estimate_rate(srs, population=N)
    aware = estimate_rate(srs, population=N, frame=_frame(np.full(N, n / N), np.full(N, 0.05)))
    assert (aware.ci_low, aware.ci_high) == pytest.approx((plain.ci_low, plain.ci_high), rel=1e-6)
    # unequal π: the far side is the closed form with w* replaced by the frame's mean weight
    g = np.random.default_rng(3)
    pi_frame = inclusion_probabilities(g.uniform(0.01, 0.3, N), n)
    sel = systematic_sample(pi_frame, g)
    ys = (g.random(n) < 0.1).astype(float)
    c = checked(pi_frame[sel], ys, risk=0.05)
    aware = estimate_rate(c, population=N, frame=_frame(pi_frame, np.full(N, 0.05)))
    plain = estimate_rate(c, population=N)
    lo, hi = score_interval(aware.rate, aware.std_error**2, (np.mean(1 / pi_frame) - 1) / N)
    assert aware.ci_low == pytest.approx(plain.ci_low) and aware.ci_high == pytest.approx(hi, rel=1e-3)
    assert aware.model_slope == 0.0 and plain.model_slope is None


def _strong_world(N=2000, n=100, prevalence=0.15, reversed_=False, seed=0):
    g = np.random.default_rng(seed)
    z = g.normal(size=N)
    eta = 1.5 * z
    b = brentq(lambda b: np.mean(1 / (1 + np.exp(-(b + eta)))) - prevalence, -30, 30)
    y = (g.random(N) < 1 / (1 + np.exp(-(b + eta)))).astype(int)
    s = 0.93 * z + np.sqrt(1 - 0.93**2) * g.normal(size=N)
    eta_r = 1.5 * 0.93 * s * (-1 if reversed_ else 1)
    b_r = brentq(lambda b: np.mean(1 / (1 + np.exp(-(b + eta_r)))) - prevalence, -30, 30)
    risk = 1 / (1 + np.exp(-(b_r + eta_r)))
    return y, risk, inclusion_probabilities(risk, n)


def test_a_model_whose_positives_sit_at_high_pi_narrows_the_upper_bound():
    y, risk, pi = _strong_world()
    frame = _frame(pi, risk)
    sel = systematic_sample(pi, np.random.default_rng(1))
    c = checked(pi[sel], y[sel], risk=risk[sel])
    plain, aware = estimate_rate(c, population=len(y)), estimate_rate(c, population=len(y), frame=frame)
    assert aware.model_slope > 0.3
    assert aware.rate == plain.rate and aware.ci_low == plain.ci_low
    assert plain.rate < aware.ci_high < plain.ci_high
    # the same outcomes against a reversed model (its positives at low risk): no narrowing beyond the flat frame
    flat = estimate_rate(c, population=len(y), frame=_frame(pi, np.full(len(y), 0.15)))
    rev = estimate_rate(c.assign(risk=1 - risk[sel]), population=len(y), frame=_frame(pi, 1 - risk))
    assert rev.model_slope == 0.0 and rev.ci_high == pytest.approx(flat.ci_high, rel=1e-3)


@pytest.mark.parametrize(("reversed_", "low", "high"), [(False, 0.925, 0.975), (True, 0.925, 0.975)])
def test_frame_aware_interval_covers_with_a_strong_or_a_reversed_model(reversed_, low, high):
    """300 seeded redraws at 15 %, n = 100 of 2,000: the strong model over-covered (~99 %) with the
    Kish weight; the reversed model (π follows a ranking opposite to the truth) must not fall apart."""
    y, risk, pi = _strong_world(reversed_=reversed_)
    frame = RiskFrame.from_frame(_frame(pi, risk))
    cover = []
    for r in range(300):
        sel = systematic_sample(pi, np.random.default_rng([7, r]))
        est = estimate_rate(checked(pi[sel], y[sel], risk=risk[sel]), population=len(y), frame=frame)
        cover.append(est.ci_low <= y.mean() <= est.ci_high)
    assert low <= np.mean(cover) <= high


@pytest.mark.parametrize(
    ("frame", "checked_", "message"),
    [
        (_frame(np.full(10, 0.2), np.full(10, 0.1)).drop(columns="risk"), None, "risk"),
        (_frame(np.full(10, 0.2), np.r_[np.full(9, 0.1), 1.5]), None, r"\(0, 1\]"),
        (_frame(np.r_[np.full(9, 0.2), 0.0], np.full(10, 0.1)), None, r"\(0, 1\]"),
        (_frame(np.full(12, 0.2), np.full(12, 0.1)), None, "population"),
        (_frame(np.full(10, 0.2), np.full(10, 0.1)), checked([0.2, 0.2], [0, 1]), "risk"),
    ],
)
def test_bad_frames_are_rejected(frame, checked_, message):
    c = checked([0.2, 0.2], [0, 1], risk=[0.1, 0.1]) if checked_ is None else checked_
    with pytest.raises(SamplingError, match=message):
        estimate_rate(c, population=10, frame=frame)
