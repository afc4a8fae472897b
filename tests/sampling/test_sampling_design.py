import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sampling_factories import make_units

from sampling import (
    SamplingError,
    draw,
    effective_uniform_share,
    estimate_rate,
    frame_hash,
    inclusion_probabilities,
    systematic_sample,
)

risks = arrays(np.float64, st.integers(2, 60), elements=st.floats(0.001, 1.0))


@settings(max_examples=60, deadline=None)
@given(
    risk=risks, frac=st.floats(0.01, 1.0), alpha=st.floats(0.01, 1.0), gamma=st.sampled_from([1.0, 2.0, 3.0])
)
def test_pi_sums_to_n_and_lies_in_0_1(risk, frac, alpha, gamma):
    n = max(1, int(round(frac * len(risk))))
    pi = inclusion_probabilities(risk, n, uniform_share=alpha, risk_exponent=gamma)
    assert np.all(pi > 0) and np.all(pi <= 1)
    assert pi.sum() == pytest.approx(n, abs=1e-9)
    # the uniform floor: every unit keeps at least n * alpha / N (before capping raised others)
    assert pi.min() >= min(1.0, n * alpha / len(risk)) * (1 - 1e-9)


@settings(max_examples=40, deadline=None)
@given(risk=risks, data=st.data())
def test_mandatory_units_get_one_and_are_always_drawn(risk, data):
    N = len(risk)
    mandatory = np.asarray(data.draw(st.lists(st.booleans(), min_size=N, max_size=N)))
    m = int(mandatory.sum())
    if m >= N:
        return
    n = data.draw(st.integers(m + 1, N))
    pi = inclusion_probabilities(risk, n, mandatory=mandatory)
    assert np.all(pi[mandatory] == 1.0)
    assert pi.sum() == pytest.approx(n)
    seed = data.draw(st.integers(0, 2**32 - 1))
    chosen = systematic_sample(pi, np.random.default_rng(seed))
    assert len(chosen) == n == len(set(chosen))
    assert set(np.flatnonzero(mandatory)) <= set(chosen)


@settings(max_examples=40, deadline=None)
@given(risk=risks, frac=st.floats(0.05, 0.9), seed=st.integers(0, 2**32 - 1))
def test_systematic_sample_draws_exactly_n_distinct(risk, frac, seed):
    n = max(1, int(frac * len(risk)))
    pi = inclusion_probabilities(risk, n)
    chosen = systematic_sample(pi, np.random.default_rng(seed))
    assert len(chosen) == n == len(np.unique(chosen))


class _Scripted:
    """A stand-in for numpy's Generator that plays a given permutation and start."""

    def __init__(self, perm, u):
        self.perm, self.u = perm, u

    def permutation(self, x):
        return np.asarray(x)[list(self.perm)]

    def random(self):
        return self.u


def exact_design(pi):
    """Every possible sample of the randomized systematic draw with its exact probability."""
    free = np.flatnonzero(pi < 1)
    out = {}
    perms = list(itertools.permutations(range(len(free))))
    for perm in perms:
        cum = np.cumsum(pi[free][list(perm)])
        cuts = np.unique(np.concatenate([[0.0, 1.0], np.mod(cum, 1.0)]))
        for a, b in itertools.pairwise(cuts):
            if b - a < 1e-12:
                continue
            s = tuple(systematic_sample(pi, _Scripted(perm, (a + b) / 2)))
            out[s] = out.get(s, 0.0) + (b - a) / len(perms)
    return out


def test_draw_realises_pi_exactly_and_ht_is_unbiased():
    """Exhaustive over every permutation and random start on a 7-unit population."""
    risk = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.9, 0.15])
    y = np.array([0, 0, 1, 0, 1, 1, 0])
    mandatory = np.array([0, 0, 0, 0, 0, 0, 1], dtype=bool)
    pi = inclusion_probabilities(risk, 3, uniform_share=0.2, risk_exponent=1.0, mandatory=mandatory)
    design = exact_design(pi)
    assert sum(design.values()) == pytest.approx(1.0)
    first_order = np.zeros(len(pi))
    expected_ht = 0.0
    for s, prob in design.items():
        s = np.array(s)
        assert len(s) == 3 and 6 in s
        first_order[s] += prob
        est = estimate_rate(
            pd.DataFrame({"inclusion_probability": pi[s], "nonconforming": y[s]}), population=7
        )
        expected_ht += prob * est.rate
    np.testing.assert_allclose(first_order, pi, atol=1e-9)
    assert expected_ht == pytest.approx(y.mean(), abs=1e-12)


def test_stratified_draw_respects_each_budget(frame):
    res = draw(frame, 60, random_state=3, strata="province")
    alloc = res.parameters["allocation"]
    assert sum(alloc.values()) == 60
    units = res.units
    got = units[units.selected == 1].groupby("province").size().to_dict()
    assert got == alloc
    sizes = frame.province.value_counts()
    for s, n_h in alloc.items():  # proportional allocation by largest remainders
        assert abs(n_h - 60 * sizes[s] / len(frame)) < 1
        pi_h = units.loc[units.province == s, "inclusion_probability"]
        assert pi_h.sum() == pytest.approx(n_h)


def test_explicit_strata_budgets(frame):
    budgets = {"11": 5, "31": 10, "44": 20, "51": 5}
    res = draw(frame, 40, random_state=1, strata="province", budgets=budgets)
    got = res.units[res.units.selected == 1].groupby("province").size().to_dict()
    assert got == budgets
    with pytest.raises(SamplingError, match="sum to"):
        draw(frame, 41, random_state=1, strata="province", budgets=budgets)


def test_draw_is_deterministic_and_ignores_row_order(frame, fitted_model):
    a = draw(frame, 50, random_state=7, model=fitted_model)
    b = draw(frame, 50, random_state=7, model=fitted_model)
    shuffled = frame.sample(frac=1.0, random_state=0)
    c = draw(shuffled, 50, random_state=7, model=fitted_model)
    other = draw(frame, 50, random_state=8, model=fitted_model)
    pd.testing.assert_frame_equal(a.units, b.units)
    assert a.summary() == b.summary()
    assert sorted(a.selected_ids) == sorted(c.selected_ids)
    assert a.frame_hash == c.frame_hash
    assert set(a.selected_ids) != set(other.selected_ids)
    assert a.seed == 7 and a.model_version == fitted_model.version_
    assert a.units["inclusion_probability"].sum() == pytest.approx(50)


def test_draw_does_not_mutate_its_input(frame, fitted_model):
    before = frame.copy()
    draw(frame, 30, random_state=1, model=fitted_model, strata="province")
    pd.testing.assert_frame_equal(frame, before)


def test_mandatory_units_in_a_draw(frame):
    f = frame.assign(mandatory=0)
    f.loc[f.index[:5], "mandatory"] = 1
    res = draw(f, 20, random_state=11)
    sel = set(res.selected_ids)
    assert set(f.unit_id[:5]) <= sel
    assert (res.units.inclusion_probability[:5] == 1).all()
    with pytest.raises(SamplingError, match="mandatory"):
        draw(f, 5, random_state=1)


def test_frame_hash_is_content_based(frame):
    h = frame_hash(frame)
    assert h == frame_hash(frame.sample(frac=1.0, random_state=3))
    assert h == frame_hash(frame.astype({"filing_delay_days": "float64"}))
    changed = frame.copy()
    changed.loc[changed.index[0], "body_prior_nc"] += 0.001
    assert frame_hash(changed) != h
    assert frame_hash(frame.iloc[1:]) != h
    ints = pd.DataFrame({"unit_id": [3, 1, 2], "x": [1.0, 2.0, 3.0]})
    texts = pd.DataFrame({"unit_id": ["1", "2", "3"], "x": [2.0, 3.0, 1.0]})
    assert frame_hash(ints) == frame_hash(texts)


def test_frame_hash_recipe_is_pinned():
    """Frozen plans are re-verified against their stored hash: the recipe's output must never change.

    The hex digests were computed by the first implementation of ``sampling-frame-v1``.
    """
    kinds = pd.Categorical(["b", "a", None, "b", "c"], categories=["c", "b", "a", "z"])
    mixed = pd.DataFrame(
        {
            "unit_id": [30, 10, 20, 50, 40],
            "x": [1.5, -0.0, np.nan, 2.0, 3.0],
            "flag": [True, False, True, True, False],
            "name": ["é", None, "b", "é", np.nan],
            "kind": kinds,
            "mixed": [1, "1", None, 2.5, "x"],
        }
    )
    text_ids = pd.DataFrame({"unit_id": ["b7", "a1", "c3"], "x": [1, 2, 3], "t": ["u", "u", None]})
    float_ids = pd.DataFrame(
        {"unit_id": [2.0, 1.0, 3.0], "n": [np.nan, 1, 2], "t": pd.Categorical(["a", "a", "b"])}
    )
    dated = pd.DataFrame({"d": pd.to_datetime(["2020-01-02", None, "2019-05-05", "2020-01-02"])})
    assert frame_hash(mixed) == "c52707c032197de8dd5306207d4e28cf7cb86b343a9c5bd3ab4d6e5d956d93de"
    assert (
        frame_hash(mixed, id_column=None)
        == "de0db7fee96504343918a31fea3f6fb411431398809536eb472bb92413cc25f9"
    )
    assert frame_hash(text_ids) == "ec6ce458b457fea0bffd1297c67f3bc7e18ea0a0e31e1d0a2d5336cbb8d8e1e0"
    assert frame_hash(float_ids) == "344acfe07d838734c041e1eb5d24dd76779e2a13881c7ecce25931a0856524aa"
    assert (
        frame_hash(dated, id_column=None)
        == "9140751394629c07c24aac92fbc51d95cada24a54832028623849c963cce23a0"
    )


def test_only_a_model_indistinguishable_from_chance_gets_a_uniform_draw():
    assert effective_uniform_share(0.2, 0.75, 0.01) == 0.2
    assert effective_uniform_share(0.2, 0.60, 0.01) == 0.2  # weak but real: kept (issue 16)
    assert effective_uniform_share(0.2, 0.52, 0.02) == 1.0
    assert effective_uniform_share(0.2, 0.48, 0.001) == 1.0
    assert effective_uniform_share(0.2, 0.70, 0.15) == 1.0  # not distinguishable from chance
    assert effective_uniform_share(0.2, None) == 0.2


def test_draw_with_given_risk_column_and_rule_fallback(frame):
    with_risk = frame.assign(risk=np.linspace(0.01, 1.0, len(frame)))
    res = draw(with_risk, 30, random_state=2)
    assert res.risk_source == "column"
    assert res.units.risk.tolist() == with_risk.risk.tolist()
    rule = draw(frame, 30, random_state=2)
    assert rule.risk_source == "rule" and rule.metrics is None


@pytest.mark.parametrize(
    ("mutate", "n", "message"),
    [
        (lambda f: f.iloc[:0], 5, "empty"),
        (lambda f: f, 10_000, "fewer than the sample size"),
        (lambda f: f.drop(columns="unit_id"), 5, "unit_id"),
        (lambda f: f.assign(risk=1.5), 5, r"\(0, 1\]"),
        (lambda f: f.assign(risk=0.0), 5, r"\(0, 1\]"),
        (lambda f: f.assign(unit_id="same"), 5, "repeats"),
        (lambda f: f.assign(mandatory=2), 5, "0 or 1"),
        (lambda f: f.assign(person_days_ratio="lots"), 5, "must be numeric"),
    ],
)
def test_draw_rejects_bad_input(frame, mutate, n, message):
    with pytest.raises(SamplingError, match=message):
        draw(mutate(frame), n, random_state=1)


def test_draw_needs_an_integer_seed(frame):
    with pytest.raises(SamplingError, match="seed"):
        draw(frame, 5, random_state=None)


def test_small_frame_census():
    f = make_units(8, seed=5)
    res = draw(f, 8, random_state=0)
    assert res.units.selected.sum() == 8
    assert (res.units.inclusion_probability == 1).all()
