"""Persons vs their body, and the score scale on a varied population."""

import numpy as np
import pandas as pd
import pytest
from rating_histories import population

from rating import NR, Rater, RatingConfig, RatingError, rate


def team_world(seed=3, n_bodies=12, staff=6, cases=60):
    """Bodies of varied quality, each with assessors; every case names its body and a
    lead, and carries a spot check and a filing held against both."""
    rng = np.random.default_rng(seed)
    rows = []
    case = 0
    for b in range(n_bodies):
        qb = rng.uniform(0.05, 0.5)
        for _ in range(cases):
            lead = f"AS{b:02d}{int(rng.integers(staff))}"
            e = rng.choice(
                ["spotcheck_conforming", "spotcheck_minor", "spotcheck_major"], p=[1 - qb, qb / 2, qb / 2]
            )
            f = "filing_late" if rng.random() < qb / 2 else "filing_on_time"
            for sid, st in ((f"AB{b:02d}", "assessment_body"), (lead, "assessor")):
                for ev in (e, f):
                    rows.append(
                        {
                            "subject_id": sid,
                            "subject_type": st,
                            "event_date": f"2024-0{1 + case % 6}-10",
                            "event": ev,
                            "checker_id": "K1" if ev.startswith("spot") else None,
                            "case_id": f"C{case}",
                        }
                    )
            case += 1
    return pd.DataFrame(rows)


def test_persons_are_shrunk_towards_their_body_not_all_persons():
    ev = team_world()
    linked = rate(ev, "2024-06").set_index("subject_id")
    unlinked = rate(ev.drop(columns=["case_id"]), "2024-06").set_index("subject_id")
    persons = linked[(linked["subject_type"] == "assessor") & (linked["grade"] != NR)].index
    persons = persons[unlinked.loc[persons, "grade"].to_numpy() != NR]
    body = {p: f"AB{p[2:4]}" for p in persons}
    body_score = linked.loc[[body[p] for p in persons], "score"].to_numpy()
    # with the link, a person's score follows its body's more closely
    r_linked = np.corrcoef(linked.loc[persons, "score"], body_score)[0, 1]
    r_unlinked = np.corrcoef(unlinked.loc[persons, "score"], body_score)[0, 1]
    assert r_linked > r_unlinked
    # own effect only: persons are compared with their body, the body's level is gone
    own = rate(ev, "2024-06", RatingConfig(person_body_share=0.0)).set_index("subject_id")
    assert abs(np.corrcoef(own.loc[persons, "score"], body_score)[0, 1]) < r_linked


def test_body_id_in_counts_links_like_case_id_in_raw_events():
    ev = team_world()
    body = (
        ev[ev["subject_type"] == "assessment_body"]
        .drop_duplicates("case_id")
        .set_index("case_id")["subject_id"]
    )
    ev = ev.assign(
        month=ev["event_date"].str[:7],
        body_id=np.where(ev["subject_type"] == "assessor", ev["case_id"].map(body), None),
    )
    counts = (
        ev.groupby(["subject_id", "subject_type", "month", "event", "checker_id", "body_id"], dropna=False)
        .size()
        .rename("n")
        .reset_index()
    )
    # the joint fit of the checks needs whole cases (case_id), which counts do not carry:
    # without it the two inputs give the same ratings
    cfg = RatingConfig(joint_fit=False)
    a = rate(ev.drop(columns=["month", "body_id"]), "2024-06", cfg)
    b = rate(counts, "2024-06", cfg)
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-9)
    assert (a["grade"] == b["grade"]).all()
    # with it (the default) the counts are rated as before, the raw events by the joint fit
    np.testing.assert_allclose(rate(counts, "2024-06")["score"], b["score"], rtol=1e-9)
    assert not np.allclose(rate(ev.drop(columns=["month", "body_id"]), "2024-06")["score"], a["score"])


def test_scaled_grades_spread_and_adverse_order_holds(pop_events):
    out = rate(pop_events, "2024-06")
    rated = out[out["grade"] != NR]
    # the population is varied: it is not squeezed into one or two grades
    assert rated["grade"].nunique() >= 3
    # worse raw records never get a better grade than better ones by more than noise
    rho = np.corrcoef(rated["score"].rank(), (-rated["raw_bad_rate"]).rank())[0, 1]
    assert rho > 0.8


def test_a_population_of_equals_is_not_stretched_over_the_grades():
    rng = np.random.default_rng(9)
    rows = [
        {
            "subject_id": f"S{i}",
            "subject_type": "assessment_body",
            "event_date": "2024-06-01",
            "event": "spotcheck_minor" if rng.random() < 0.2 else "spotcheck_conforming",
        }
        for i in range(60)
        for _ in range(40)
    ]
    out = rate(pd.DataFrame(rows), "2024-06")
    assert set(out["grade"]) <= {"AA", "A", "B"}
    assert out["score"].std() < 5


def test_scale_is_shown_and_configurable(pop_events):
    r = Rater().fit(pop_events, "2024-06")
    assert {"knot_B", "knot_A", "knot_AA", "knot_AAA", "source", "period"} <= set(r.scale_.columns)
    # nothing before June 2024: the type's own month anchors it, the empty types have none
    assert r.scale_.loc["assessment_body", "source"] == "period"
    knots = r.scale_.loc["assessment_body", ["knot_B", "knot_A", "knot_AA", "knot_AAA"]].to_numpy(float)
    assert (np.diff(knots) > 0).all()
    with pytest.raises(RatingError, match="scale_shares"):
        RatingConfig(scale_shares={"AAA": 0.5, "AA": 0.5, "A": 0.5, "B": 0.1, "C": 0.1})
    with pytest.raises(RatingError, match="person_body_share"):
        RatingConfig(person_body_share=1.5)
    assert len(population()) > 0
