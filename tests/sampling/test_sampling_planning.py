import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sampling import SamplingError, korn_graubard_interval, plan_attribute, plan_precision

# jfa's own test values (koenderks/jfa, tests of planning(), classical branch)
JFA = [
    (0.03, 0, "binomial", None, 99),  # the examples
    (0.03, 0, "poisson", None, 100),
    (0.01, 0, "binomial", None, 299),
    (0.05, 0, "binomial", None, 59),
    (0.05, 0.025, "binomial", None, 234),
    (0.05, 2, "binomial", None, 124),
    (0.01, 0, "poisson", None, 300),
    (0.05, 0, "poisson", None, 60),
    (0.05, 0.025, "poisson", None, 231),
    (0.05, 2, "poisson", None, 126),
    (0.01, 0, "hypergeometric", 1000, 258),
    (0.05, 0, "hypergeometric", 1000, 57),
    (0.05, 0.025, "hypergeometric", 1000, 197),
    (0.05, 2, "hypergeometric", 1000, 119),
    (0.05, 0, "hypergeometric", 10000, 59),
]


@pytest.mark.parametrize(("materiality", "expected", "likelihood", "population", "n"), JFA)
def test_attribute_plan_matches_jfa(materiality, expected, likelihood, population, n):
    plan = plan_attribute(
        materiality, confidence=0.95, expected=expected, likelihood=likelihood, population=population
    )
    assert plan.n == n
    assert plan.upper_bound < materiality


def test_binomial_zero_errors_by_hand():
    # smallest n with 0.97^n < 0.05: ln(0.05) / ln(0.97) = 98.35 -> 99
    assert 0.97**99 < 0.05 <= 0.97**98
    assert plan_attribute(0.03).n == 99


def test_poisson_zero_errors_by_hand():
    # smallest n with exp(-0.03 n) < 0.05: n > ln(20) / 0.03 = 99.86 -> 100
    assert math.exp(-0.03 * 100) < 0.05 <= math.exp(-0.03 * 99)
    assert plan_attribute(0.03, likelihood="poisson").n == 100


def test_hypergeometric_by_hand():
    """N = 1000, materiality 3 %: K = 30 tolerable errors; zero errors expected.
    P(no error in n draws) = prod_{j<n} (970 - j) / (1000 - j) must fall to 5 % or below."""
    prob, n = 1.0, 0
    while prob > 0.05:
        prob *= (970 - n) / (1000 - n)
        n += 1
    assert n == 94
    assert plan_attribute(0.03, likelihood="hypergeometric", population=1000).n == n


def test_hypergeometric_one_expected_error_by_hand():
    # N = 500, materiality 5 %: K = 25; one error expected: P(X <= 1) <= 5 %
    def p_le_1(n):
        p0 = math.comb(475, n) / math.comb(500, n)
        p1 = 25 * math.comb(475, n - 1) / math.comb(500, n)
        return p0 + p1

    n = next(n for n in range(2, 500) if p_le_1(n) <= 0.05)
    assert plan_attribute(0.05, expected=1, likelihood="hypergeometric", population=500).n == n


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"materiality": 1.5}, "materiality"),
        ({"materiality": 0.05, "expected": 0.06}, "below the materiality"),
        ({"materiality": 0.05, "likelihood": "hypergeometric"}, "population"),
        ({"materiality": 0.05, "likelihood": "normal"}, "likelihood"),
        ({"materiality": 0.05, "confidence": 1.0}, "confidence"),
    ],
)
def test_attribute_plan_rejects_bad_input(kwargs, message):
    m = kwargs.pop("materiality")
    with pytest.raises(SamplingError, match=message):
        plan_attribute(m, **kwargs)


def _half_width(n, p, deff=1.0, N=None):
    fpc = 1 - n / N if N else 1.0
    lo, hi = korn_graubard_interval(p, min(n / (deff * fpc), n), 0.95)
    return (hi - lo) / 2


@pytest.mark.parametrize(
    ("precision", "rate", "deff", "N"),
    [(0.05, 0.5, 1.0, None), (0.02, 0.08, 1.0, None), (0.02, 0.08, 1.8, None), (0.03, 0.1, 1.5, 5000)],
)
def test_precision_plan_is_the_smallest_n(precision, rate, deff, N):
    plan = plan_precision(precision, expected_rate=rate, design_effect=deff, population=N)
    assert _half_width(plan.n, rate, deff, N) <= precision < _half_width(plan.n - 1, rate, deff, N)
    # close to the textbook Wald size (a little above it: the exact interval is wider)
    z = stats.norm.ppf(0.975)
    n0 = z**2 * rate * (1 - rate) * deff / precision**2
    wald = n0 / (1 + n0 / N) if N else n0
    assert wald * 0.97 <= plan.n <= wald * 1.12


def test_precision_plan_hand_case():
    # ±5 pp at 50 %: Wald says 385; the exact (Clopper-Pearson) half-width first drops below 5 pp at 402
    assert plan_precision(0.05, expected_rate=0.5).n == 402
    assert plan_precision(0.05, expected_rate=0.5, design_effect=2.0).n > 780


def test_precision_plan_census_when_population_is_small():
    plan = plan_precision(0.001, expected_rate=0.3, population=50)
    assert plan.n <= 50


@settings(max_examples=25, deadline=None)
@given(rate=st.floats(0.02, 0.6), precision=st.floats(0.01, 0.1), deff=st.floats(1.0, 3.0))
def test_precision_plan_grows_with_design_effect(rate, precision, deff):
    base = plan_precision(precision, expected_rate=rate).n
    assert plan_precision(precision, expected_rate=rate, design_effect=deff).n >= base
