import numpy as np
import pandas as pd
import pytest
from sampling_factories import make_units

from sampling import RiskModel, SamplingError, feature_columns, rule_score, score


def test_fit_returns_self_with_learned_attributes(history, fitted_model):
    assert fitted_model.source_ == "model"
    m = fitted_model.metrics_
    assert m.n_train + m.n_calibration + m.n_test == len(history)
    assert 0.6 < m.auroc <= 1 and 0 < m.average_precision <= 1 and 0 < m.brier < 0.25
    assert m.auroc_std_error > 0
    assert "body_id" not in fitted_model.features_ and "unit_id" not in fitted_model.features_
    assert set(fitted_model.categorical_features_) == {"province", "assessment_type"}
    assert fitted_model.monotone_["body_prior_nc"] == 1 and fitted_model.monotone_["person_days_ratio"] == -1
    assert len(fitted_model.version_) == 16


def test_params_follow_sklearn_conventions():
    m = RiskModel(max_iter=10, random_state=3)
    assert m.get_params()["max_iter"] == 10
    assert not any(k.endswith("_") for k in vars(m))
    assert RiskModel().fit(make_units(400, 9, labelled=True)) is not None


def test_fit_is_deterministic_and_does_not_mutate(history, frame, fitted_model):
    before_h, before_f = history.copy(), frame.copy()
    again = RiskModel(random_state=0).fit(history)
    np.testing.assert_array_equal(again.predict_risk(frame), fitted_model.predict_risk(frame))
    assert again.version_ == fitted_model.version_
    pd.testing.assert_frame_equal(history, before_h)
    pd.testing.assert_frame_equal(frame, before_f)


def test_version_changes_with_training_data(history, fitted_model):
    other = RiskModel(random_state=0).fit(history.iloc[:-1])
    assert other.version_ != fitted_model.version_


def test_risk_is_calibrated_and_in_range(history, fitted_model):
    p = fitted_model.predict_risk(history)
    assert np.all((p > 0) & (p <= 1))
    assert p.mean() == pytest.approx(history.nonconforming.mean(), abs=0.03)
    proba = fitted_model.predict_proba(history.head())
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_monotone_in_prior_nonconformity(fitted_model, frame):
    row = frame.iloc[[0] * 20].copy()
    row["body_prior_nc"] = np.linspace(0.0, 0.5, 20)
    risk = fitted_model.predict_risk(row)
    assert np.all(np.diff(risk) >= -1e-12)
    row = frame.iloc[[0] * 20].copy()
    row["person_days_ratio"] = np.linspace(0.3, 1.6, 20)
    assert np.all(np.diff(fitted_model.predict_risk(row)) <= 1e-12)


def test_unseen_categories_and_missing_values_are_scored(fitted_model, frame):
    odd = frame.head(5).copy()
    odd["province"] = ["99", None, "11", "xx", "44"]
    odd.loc[odd.index[0], "lead_prior_nc"] = np.nan
    p = fitted_model.predict_risk(odd)
    assert np.all(np.isfinite(p))


def test_reasons_name_features(fitted_model, frame):
    scored = fitted_model.score_frame(frame)
    assert list(scored.columns) == ["risk", "reasons"]
    assert scored.index.equals(frame.index)
    top = scored.sort_values("risk").iloc[-1]
    assert top.reasons and len(top.reasons.split("; ")) <= 3
    assert any(f in top.reasons for f in fitted_model.features_)


def test_training_rows_are_weighted_by_inverse_pi(history):
    # the risky half of the history over-sampled: weights 1/pi undo it
    risky = history.body_prior_nc > history.body_prior_nc.median()
    h = history.assign(inclusion_probability=np.where(risky, 0.9, 0.1))
    weighted = RiskModel(random_state=0).fit(h)
    unweighted = RiskModel(random_state=0).fit(history)
    assert weighted.version_ != unweighted.version_
    assert weighted.metrics_.test_base_rate != pytest.approx(unweighted.metrics_.test_base_rate)


def test_cold_start_falls_back_to_the_rule_score(frame):
    small = make_units(150, seed=4, labelled=True)
    m = RiskModel().fit(small)
    assert m.source_ == "rule" and m.metrics_.auroc is None
    assert "150 labelled rows" in m.metrics_.note
    np.testing.assert_allclose(m.predict_risk(frame), rule_score(frame)["risk"])


def test_inspector_identity_is_never_a_feature(history):
    h = history.assign(inspector_id=np.arange(len(history)) % 7, lead_inspector_score=1.0)
    assert not any("inspector" in c for c in feature_columns(h))
    with pytest.raises(SamplingError, match="inspector"):
        RiskModel(features=["body_prior_nc", "inspector_id"]).fit(h)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h: h.drop(columns="nonconforming"), "nonconforming"),
        (lambda h: h.assign(nonconforming=3), "0 or 1"),
        (lambda h: h.assign(decided_on="someday"), "dates"),
        (lambda h: h.assign(inclusion_probability=0.0), r"\(0, 1\]"),
        (lambda h: h.assign(lead_workload_30d="many"), "must be numeric"),
        (lambda h: h.iloc[:0], "empty"),
    ],
)
def test_fit_rejects_bad_history(history, mutate, message):
    with pytest.raises(SamplingError, match=message):
        RiskModel().fit(mutate(history))


def test_frame_must_have_the_model_features(fitted_model, frame):
    with pytest.raises(SamplingError, match="body_prior_nc"):
        fitted_model.predict_risk(frame.drop(columns="body_prior_nc"))


def test_rule_score_documented_points():
    f = pd.DataFrame(
        {
            "unit_id": ["a", "b", "c"],
            "grade_jump": [0, 2, 0],
            "person_days_ratio": [1.1, 0.4, 0.8],
            "filing_delay_days": [0, 45, 0],
            "body_prior_nc": [0.0, 0.0, 0.25],
        }
    )
    out = rule_score(f)
    logit = np.log(0.05 / 0.95) + np.array([0.0, 1.0 + 1.5 + 0.5, 0.7 + 1.0])
    np.testing.assert_allclose(out["risk"], 1 / (1 + np.exp(-logit)))
    assert out.reasons[0] == ""
    assert (
        out.reasons[1]
        == "person-days under half the minimum; grade jump of 2 levels or more; filed more than 30 days late"
    )
    assert out.reasons[2] == "body's prior nonconformity; person-days below the minimum"


def test_score_verb_uses_model_then_column_then_rules(fitted_model, frame):
    assert score(frame, fitted_model)["risk"].tolist() == fitted_model.score_frame(frame)["risk"].tolist()
    given = frame.assign(risk=0.5)
    assert (score(given)["risk"] == 0.5).all()
    assert score(frame)["risk"].tolist() == rule_score(frame)["risk"].tolist()


def _weak_world(n_rows, seed, *, signal=1.0, start="2021-01-01"):
    """Mixed real-world features and a weak signal (true AUROC ~0.6-0.65): missing values, a
    skewed count, a binary flag, text categories; ~15 % prevalence."""
    g = np.random.default_rng(seed)
    count = np.floor(g.lognormal(1.0, 1.2, n_rows))
    flag = (g.random(n_rows) < 0.3).astype(int)
    province = g.choice([f"p{k:02d}" for k in range(12)], n_rows)
    industry = g.choice(list("ABCDEFGH"), n_rows)
    prov_eff = dict(zip([f"p{k:02d}" for k in range(12)], np.linspace(-0.4, 0.4, 12), strict=True))
    eta = -2.1 + signal * (0.25 * np.log1p(count) + 0.35 * flag + np.vectorize(prov_eff.get)(province))
    y = (g.random(n_rows) < 1 / (1 + np.exp(-eta))).astype(int)
    count_obs = np.where(g.random(n_rows) < 0.1, np.nan, count)
    return pd.DataFrame(
        {
            "unit_id": np.arange(n_rows),
            "complaints": count_obs,
            "repeat_flag": flag,
            "province": province,
            "industry": industry,
            "noise": g.normal(size=n_rows),
            "decided_on": pd.Timestamp(start) + pd.to_timedelta(g.integers(0, 3 * 365, n_rows), unit="D"),
            "nonconforming": y,
        }
    )


@pytest.mark.parametrize(("signal", "low", "high"), [(1.25, 1.2, 9.0), (0.0, 0.0, 1.05)])
def test_a_weak_real_signal_still_beats_a_uniform_draw(signal, low, high):
    from sklearn.metrics import roc_auc_score

    from sampling import draw

    history = _weak_world(12_000, 1, signal=signal)
    truth = _weak_world(6_000, 2, signal=signal)
    frame = truth.drop(columns=["decided_on", "nonconforming"])
    model = RiskModel(random_state=0).fit(history)
    m = model.metrics_
    assert set(m.candidates) == {"boosted, monotone", "boosted, default", "logistic"}
    # never worse on the held-out slice than the regularised logistic regression
    best = m.candidates[m.model]["auroc"]
    assert best == max(c["auroc"] for c in m.candidates.values()) and best == pytest.approx(m.auroc, abs=1e-4)
    result = draw(frame, 300, random_state=0, model=model)
    pi = result.units["inclusion_probability"].to_numpy()
    y = truth["nonconforming"].to_numpy()
    expected_found, uniform_found = float(pi @ y), 300 * y.mean()
    if signal:
        assert 0.58 <= roc_auc_score(y, result.units["risk"]) <= 0.7
    assert low <= expected_found / uniform_found <= high


def test_a_feature_with_no_value_in_the_training_slice_is_left_out():
    """A column recorded only lately (all missing in the oldest rows) must not break the fit
    (scikit-learn's weighted histogram binning fails on an all-missing column)."""
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame({"decided_on": pd.date_range("2022-01-01", periods=n, freq="D").date,
                       "x": rng.normal(size=n), "recorded_lately": np.where(np.arange(n) > 500, 1.0, np.nan),
                       "nonconforming": rng.random(n) < 0.2, "inclusion_probability": rng.uniform(0.2, 1, n)})
    model = RiskModel(random_state=0).fit(df)
    assert model.source_ == "model" and "recorded_lately" not in model.features_
    assert len(model.predict_proba(df)) == n


def test_quantile_bins_give_the_trees_scikit_learn_would_grow():
    """The binner only moves scikit-learn's weighted binning out of the fit: same splits, same model."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from sampling._encoding import QuantileBinner

    rng = np.random.default_rng(5)
    n = 5_000
    X = np.column_stack([rng.lognormal(size=n), rng.normal(size=n), rng.integers(0, 5, n), rng.integers(0, 4, n)])
    X[rng.random(n) < 0.1, 0] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(2 - X[:, 1] - 0.3 * X[:, 3]))).astype(int)
    w = rng.uniform(0.5, 20, n)
    binner = QuantileBinner(n_numeric=3, max_bins=63).fit(X, sample_weight=w)
    Xb = binner.transform(X)
    assert binner.edges_[2] is None and np.array_equal(Xb[:, 2:], X[:, 2:])  # few values: kept as they are
    assert len(np.unique(Xb[~np.isnan(Xb[:, 0]), 0])) <= 63 and np.array_equal(np.isnan(Xb), np.isnan(X))
    order = np.argsort(X[:, 1])
    assert np.all(np.diff(Xb[order, 1]) >= 0)  # an increasing map: monotone constraints keep their meaning

    def model():
        return HistGradientBoostingClassifier(max_bins=63, categorical_features=[False] * 3 + [True], random_state=0)

    direct = model().fit(X, y, sample_weight=w).predict_proba(X)
    binned = model().fit(Xb, y, sample_weight=w).predict_proba(Xb)
    np.testing.assert_allclose(binned, direct, atol=1e-12)
