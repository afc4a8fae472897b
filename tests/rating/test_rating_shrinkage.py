import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rating_histories import history, population

from rating import Rater, RatingConfig
from rating.shrinkage import fit_beta_prior, posterior


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(0.0, 1.0),
    n_small=st.integers(1, 50),
    factor=st.integers(2, 20),
    alpha=st.floats(0.2, 50),
    beta=st.floats(0.2, 50),
)
def test_less_evidence_means_nearer_the_prior(rate, n_small, factor, alpha, beta):
    n = np.array([n_small, n_small * factor], dtype=float)
    mean, _ = posterior(rate * n, n, np.full(2, alpha), np.full(2, beta))
    prior = alpha / (alpha + beta)
    assert abs(mean[0] - prior) <= abs(mean[1] - prior) + 1e-12


def test_prior_recovers_population_spread():
    rng = np.random.default_rng(3)
    p = rng.beta(4, 16, size=4000)  # mean 0.2, strength 20
    n = rng.integers(20, 200, size=4000).astype(float)
    x = rng.binomial(n.astype(int), p).astype(float)
    a, b = fit_beta_prior(x, n, np.zeros(4000, dtype=int), 1)
    assert a[0] / (a[0] + b[0]) == pytest.approx(0.2, abs=0.01)
    assert 14 < a[0] + b[0] < 28


def test_no_spread_means_strong_pooling():
    rng = np.random.default_rng(4)
    n = np.full(2000, 50.0)
    x = rng.binomial(50, 0.1, size=2000).astype(float)
    a, b = fit_beta_prior(x, n, np.zeros(2000, dtype=int), 1, max_strength=200)
    assert a[0] + b[0] > 100


def test_same_raw_rate_less_evidence_scores_nearer_the_middle():
    base = population()
    small = history("SMALL", {"spotcheck_major": 2, "spotcheck_conforming": 3, "filing_on_time": 5})
    big = history("BIG", {"spotcheck_major": 20, "spotcheck_conforming": 30, "filing_on_time": 50})
    good_small = history("GSMALL", {"spotcheck_conforming": 6, "filing_on_time": 6})
    good_big = history("GBIG", {"spotcheck_conforming": 60, "filing_on_time": 60})
    out = (
        Rater()
        .fit_transform(pd.DataFrame(base + small + big + good_small + good_big), "2024-06")
        .set_index("subject_id")
    )
    middle = out["base"] + out[[c for c in out.columns if c.startswith("peer_")]].sum(axis=1)
    dist = (out["score"] - middle).abs()
    assert out.loc["SMALL", "score"] > out.loc["BIG", "score"]  # both bad, the small one less so
    assert dist["SMALL"] < dist["BIG"]
    assert out.loc["GSMALL", "score"] < out.loc["GBIG", "score"]  # both good, the small one less so
    assert dist["GSMALL"] < dist["GBIG"]
    # and the interval is wider with less evidence
    width = out["score_high"] - out["score_low"]
    assert width["SMALL"] > width["BIG"] and width["GSMALL"] > width["GBIG"]


def test_priors_are_per_subject_type_and_criterion():
    ev = pd.DataFrame(population() + population(subject_type="assessor", seed=1))
    r = Rater(RatingConfig()).fit(ev, "2024-06")
    assert set(r.priors_.index.get_level_values("subject_type")) >= {"assessment_body", "assessor"}
    assert (r.priors_["alpha"] > 0).all() and (r.priors_["beta"] > 0).all()
