import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rating_histories import history, population

from rating import EVENTS, INDICATORS, NR, Rater, RatingConfig, RatingError, rate

BAD_EVENTS = [
    "filing_late",
    "confirmation_returned",
    "confirmation_grade_adjusted",
    "confirmation_rejected",
    "spotcheck_minor",
    "spotcheck_major",
    "complaint_substantiated",
    "sanction",
]
CLEAN_EVENTS = ["filing_on_time", "confirmation_confirmed", "spotcheck_conforming"]


def frame(*parts):
    return pd.DataFrame([r for p in parts for r in p])


@pytest.fixture(scope="module")
def fitted():
    ev = frame(population())
    return ev, Rater().fit(ev, "2024-06")


def test_contributions_add_up_to_the_score(pop_events):
    out = rate(pop_events, "2024-06")
    rated = out[out["grade"] != NR]
    total = rated["base"] + rated[[f"contrib_{i}" for i in INDICATORS]].sum(axis=1)
    np.testing.assert_allclose(total, rated["score"], atol=1e-9)
    for _, row in rated.iterrows():
        assert row["base"] + sum(row["contributions"].values()) == pytest.approx(row["score"])
    assert (rated["score_low"] <= rated["score"]).all() and (rated["score"] <= rated["score_high"]).all()
    assert rated["top_reason"].str.len().gt(0).all() and rated["top_reason_en"].str.len().gt(0).all()


def test_scores_are_clipped_with_contributions_still_adding_up():
    cfg = RatingConfig(
        indicator_weights={"timeliness": 100, "confirmation": 100, "spotcheck": 100, "complaints": 100}
    )
    ev = frame(
        population(),
        history("AWFUL", {"spotcheck_major": 40, "filing_late": 40, "complaint_substantiated": 30}),
    )
    out = rate(ev, "2024-06", cfg).set_index("subject_id")
    row = out.loc["AWFUL"]
    assert row["score"] >= 0
    assert row["base"] + sum(row["contributions"].values()) == pytest.approx(row["score"])


def test_decay_older_bad_news_weighs_less_and_old_news_drops_out():
    ev = frame(
        population(month="2024-06"),
        history("NEW", {"spotcheck_major": 5, "spotcheck_conforming": 20}, month="2024-06"),
        history("OLD", {"spotcheck_major": 5}, month="2022-06"),
        history("OLD", {"spotcheck_conforming": 20}, month="2024-06"),
        history("GONE", {"spotcheck_major": 5}, month="2021-05"),  # 37 months before 2024-06
        history("GONE", {"spotcheck_conforming": 20}, month="2024-06"),
    )
    out = rate(ev, "2024-06").set_index("subject_id")
    assert out.loc["OLD", "score"] > out.loc["NEW", "score"]
    assert out.loc["GONE", "score"] > out.loc["OLD", "score"]
    assert out.loc["GONE", "effective_n"] == pytest.approx(20.0)
    # half-life: 24 months old -> weight 1/4
    assert out.loc["OLD", "effective_n"] == pytest.approx(20 + 5 * 0.25)


def test_rates_remember_longer_than_the_evidence_threshold():
    ev = frame(
        population(month="2024-06"),
        history("OLD", {"spotcheck_major": 8}, month="2022-06"),
        history("OLD", {"spotcheck_conforming": 20}, month="2024-06"),
        history("STALE", {"spotcheck_conforming": 12}, month="2022-06"),  # 12 x 1/4 = 3 recent
    )
    out = rate(ev, "2024-06").set_index("subject_id")
    # the threshold counts recent evidence (half_life_months: 12) ...
    assert out.loc["STALE", "grade"] == NR and out.loc["STALE", "effective_n"] == pytest.approx(3.0)
    assert out.loc["OLD", "effective_n"] == pytest.approx(20 + 8 * 0.25)
    # ... the rates remember longer (rate_half_life_months: 36): old bad news weighs more
    short = rate(ev, "2024-06", RatingConfig(rate_half_life_months=12.0)).set_index("subject_id")
    assert out.loc["OLD", "score"] < short.loc["OLD", "score"]
    assert short.loc["OLD", "effective_n"] == pytest.approx(out.loc["OLD", "effective_n"])
    longer = rate(ev, "2024-06", RatingConfig(half_life_months=36.0)).set_index("subject_id")
    assert longer.loc["STALE", "grade"] != NR


def test_nr_below_the_evidence_threshold(fitted):
    ev, _ = fitted
    thin = history("THIN", {"filing_on_time": 4})
    enough = history("ENOUGH", {"filing_on_time": 5})
    out = rate(frame(population(), thin, enough), "2024-06").set_index("subject_id")
    assert out.loc["THIN", "grade"] == NR and np.isnan(out.loc["THIN", "score"])
    assert out.loc["THIN", "contributions"] is None
    assert out.loc["ENOUGH", "grade"] != NR and np.isfinite(out.loc["ENOUGH", "score"])
    strict = rate(frame(population(), enough), "2024-06", RatingConfig(min_effective_n=6)).set_index(
        "subject_id"
    )
    assert strict.loc["ENOUGH", "grade"] == NR


def test_sanction_caps_the_grade():
    good = history("GOOD", {"spotcheck_conforming": 40, "filing_on_time": 40, "confirmation_confirmed": 20})
    out = rate(frame(population(), good, history("GOOD", {"sanction": 1})), "2024-06").set_index("subject_id")
    clean = rate(frame(population(), good), "2024-06").set_index("subject_id")
    assert clean.loc["GOOD", "grade"] in ("AAA", "AA")
    assert out.loc["GOOD", "grade"] == "C"
    assert out.loc["GOOD", "sanctioned"]
    assert "处罚" in out.loc["GOOD", "top_reason"] and "sanction" in out.loc["GOOD", "top_reason_en"]
    capped = rate(
        frame(population(), good, history("GOOD", {"sanction": 1})), "2024-06", RatingConfig(sanction_cap="B")
    )
    assert capped.set_index("subject_id").loc["GOOD", "grade"] == "B"


@settings(max_examples=40, deadline=None)
@given(
    counts=st.dictionaries(st.sampled_from(EVENTS), st.integers(0, 12), min_size=1),
    bad=st.sampled_from(BAD_EVENTS),
    clean=st.sampled_from(CLEAN_EVENTS),
    age=st.integers(0, 35),
)
def test_score_is_monotone_in_each_event(fitted, counts, bad, clean, age):
    """With the fitted priors held fixed, one more bad event never raises the score and
    one more clean event never lowers it."""
    _, model = fitted
    month = str(pd.Period("2024-06", "M") - age)
    base = history("S", {**counts, "filing_on_time": counts.get("filing_on_time", 0) + 6})
    s0 = model.transform(frame(base), "2024-06")["score"].iloc[0]
    s_bad = model.transform(frame(base, history("S", {bad: 1}, month=month)), "2024-06")["score"].iloc[0]
    s_clean = model.transform(frame(base, history("S", {clean: 1}, month=month)), "2024-06")["score"].iloc[0]
    assert s_bad <= s0 + 1e-9
    assert s_clean >= s0 - 1e-9


def test_deterministic_and_order_free(pop_events):
    a = rate(pop_events, "2024-06")
    b = rate(pop_events.sample(frac=1.0, random_state=7), "2024-06")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, rate(pop_events, "2024-06"))


def test_inputs_are_not_mutated(pop_events):
    before = pop_events.copy(deep=True)
    Rater().fit_transform(pop_events, "2024-06")
    pd.testing.assert_frame_equal(pop_events, before)


def test_sklearn_manners(pop_events):
    r = Rater()
    assert r.fit(pop_events, "2024-06") is r
    assert r.period_ == "2024-06"
    assert {"alpha", "beta", "mean", "strength"} <= set(r.priors_.columns)
    assert "checks" in r.checker_strictness_.columns
    out = r.transform(pop_events)
    pd.testing.assert_frame_equal(out, Rater().fit_transform(pop_events, "2024-06"))
    with pytest.raises(RatingError, match="not fitted"):
        Rater().transform(pop_events)


def test_pre_aggregated_counts_give_the_same_ratings(pop_events):
    ev = pop_events.assign(month=pop_events["event_date"].str[:7])
    counts = (
        ev.groupby(["subject_id", "subject_type", "month", "event", "checker_id"], dropna=False)
        .size()
        .rename("n")
        .reset_index()
    )
    a = rate(pop_events, "2024-06")
    b = rate(counts, "2024-06")
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-9)
    assert (a["grade"] == b["grade"]).all()


def test_a_strict_checker_does_not_sink_the_subjects_it_checks():
    rng = np.random.default_rng(5)
    rows = []
    # 40 subjects of equal quality; checker STRICT records findings twice as often
    for i in range(40):
        for j in range(40):
            chk = "STRICT" if i < 20 and j % 2 == 0 else f"K{j % 5}"
            p = 0.5 if chk == "STRICT" else 0.2
            e = "spotcheck_minor" if rng.random() < p else "spotcheck_conforming"
            rows.append(
                {
                    "subject_id": f"S{i}",
                    "subject_type": "assessment_body",
                    "event_date": "2024-06-01",
                    "event": e,
                    "checker_id": chk,
                }
            )
    ev = pd.DataFrame(rows)
    on = Rater().fit_transform(ev, "2024-06")
    off = Rater(correct_strictness=False).fit_transform(ev, "2024-06")
    strictly_checked = on["subject_id"].isin([f"S{i}" for i in range(20)])

    def gap(out):
        return out.loc[~strictly_checked, "score"].mean() - out.loc[strictly_checked, "score"].mean()

    assert gap(off) > 1.0
    assert gap(on) < gap(off) / 3
    r = Rater().fit(ev, "2024-06")
    assert r.checker_strictness_.loc["STRICT", "spotcheck>=0.3"] > 0.15


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.drop(columns=["event"]), "missing column"),
        (lambda d: d.assign(event="spotcheck_huge"), "unknown event 'spotcheck_huge'"),
        (lambda d: d.assign(subject_type="auditor"), "unknown subject_type 'auditor'"),
        (lambda d: d.assign(event_date="2024-13-01"), "bad event_date '2024-13-01'"),
        (lambda d: d.assign(subject_id=""), "empty subject_id"),
    ],
)
def test_bad_input_raises_one_line(pop_events, mutate, message):
    with pytest.raises(RatingError, match=message) as exc:
        rate(mutate(pop_events), "2024-06")
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("period", ["2024-13", "2024/06", "24-06", "", "2024-6"])
def test_bad_period(pop_events, period):
    with pytest.raises(RatingError, match="bad period"):
        rate(pop_events, period)


def test_bad_config():
    with pytest.raises(RatingError, match="cut_points"):
        RatingConfig(cut_points={"AAA": 80, "AA": 90, "A": 70, "B": 60})
    with pytest.raises(RatingError, match="severity"):
        RatingConfig(severity={"spotcheck_major": 1.0})
    with pytest.raises(RatingError, match="rate_half_life_months"):
        RatingConfig(rate_half_life_months=0)
