"""Grades: cut points, the hysteresis band around last month's grade, the sanction cap."""

import numpy as np
import pandas as pd
import pytest

from rating import NR, Rater, RatingConfig, RatingError
from rating.grades import assign, previous_grade_index

CFG = RatingConfig(hysteresis_points=2.0)  # AAA >= 90, AA >= 80, A >= 70, B >= 60


def grades(score, previous, *, rated=True, sanctioned=False, config=CFG):
    n = len(score)
    return assign(
        np.asarray(score, dtype=float),
        np.full(n, rated),
        np.full(n, sanctioned),
        np.asarray(previous),
        config,
    )


def test_last_months_grade_is_kept_within_the_band_and_left_beyond_it():
    # last month AA (1) for every subject
    g, held = grades([79.0, 78.01, 77.99, 91.9, 92.0, 85.0], [1] * 6)
    assert list(g) == ["AA", "AA", "A", "AA", "AAA", "AA"]
    assert list(held) == [True, True, False, True, False, False]


def test_without_a_previous_grade_or_without_a_band_the_cut_points_decide():
    g, held = grades([79.0, 79.0], [-1, 1], config=RatingConfig(hysteresis_points=0.0))
    assert list(g) == ["A", "A"] and not held.any()
    g, _ = grades([79.0], [-1])
    assert list(g) == ["A"]


def test_the_band_is_open_at_the_top_and_bottom_grades():
    g, _ = grades([95.0, 10.0, 61.9], [0, 4, 4])
    assert list(g) == ["AAA", "C", "C"]


def test_sanction_cap_and_nr_win_over_the_band():
    g, held = grades([79.0], [1], sanctioned=True)
    assert list(g) == ["C"] and not held.any()
    g, held = grades([79.0], [1], rated=False)
    assert list(g) == [NR] and not held.any()


def test_previous_grades_are_matched_by_subject_and_capped_grades_are_not_kept():
    subjects = pd.DataFrame(
        {"subject_id": ["A1", "A2", "A3", "A4"], "subject_type": ["assessment_body"] * 3 + ["assessor"]}
    )
    prev = pd.DataFrame(
        {
            "subject_id": ["A2", "A1", "A3", "A4"],
            "subject_type": ["assessment_body", "assessment_body", "assessment_body", "consultant"],
            "grade": ["C", "AA", NR, "B"],
            "sanctioned": [True, False, False, False],
        }
    )
    assert list(previous_grade_index(prev, subjects)) == [1, -1, -1, -1]
    assert list(previous_grade_index(None, subjects)) == [-1] * 4


@pytest.mark.parametrize(
    "previous, message",
    [
        (pd.DataFrame({"subject_id": ["A1"], "grade": ["AA"]}), "missing column"),
        (pd.DataFrame({"subject_id": ["A1"], "subject_type": ["assessor"], "grade": ["D"]}), "unknown grade"),
        (
            pd.DataFrame({"subject_id": ["A1", "A1"], "subject_type": ["assessor"] * 2, "grade": ["A", "B"]}),
            "more than once",
        ),
        ([("A1", "assessor", "A")], "DataFrame"),
    ],
)
def test_bad_previous_ratings_raise_one_line(previous, message):
    subjects = pd.DataFrame({"subject_id": ["A1"], "subject_type": ["assessor"]})
    with pytest.raises(RatingError, match=message):
        previous_grade_index(previous, subjects)


@pytest.mark.parametrize("points", [-1.0, 10.0, 12.0])
def test_band_must_be_below_the_smallest_gap_between_cut_points(points):
    with pytest.raises(RatingError, match="hysteresis_points"):
        RatingConfig(hysteresis_points=points)


def test_rater_keeps_last_months_grade_and_says_why(pop_events):
    plain = Rater().fit_transform(pop_events, "2024-06")
    rated = plain[plain["grade"] != NR]
    assert not rated["grade_held"].any()
    # a subject within 2 points above a cut point, told it had the grade below last month
    cuts = np.array([90.0, 80.0, 70.0, 60.0])
    over = rated["score"].to_numpy()[:, None] - cuts[None, :]
    near = np.flatnonzero(((over >= 0) & (over < 2)).any(axis=1))
    assert near.size, "the population has a subject just above a cut point"
    i = rated.index[near[0]]
    below = {"AAA": "AA", "AA": "A", "A": "B", "B": "C"}[plain.loc[i, "grade"]]
    previous = plain[["subject_id", "subject_type", "grade"]].copy()
    previous.loc[i, "grade"] = below
    out = Rater().fit_transform(pop_events, "2024-06", previous)
    assert out.loc[i, "grade"] == below and out.loc[i, "grade_held"]
    assert out.loc[i, "score"] == pytest.approx(plain.loc[i, "score"])
    assert "缓冲带" in out.loc[i, "top_reason"] and "grade kept" in out.loc[i, "top_reason_en"]
    others = out.index != i
    assert (out.loc[others, "grade"] == plain.loc[others, "grade"]).all()
    # with no band the same previous grades change nothing
    off = Rater(RatingConfig(hysteresis_points=0.0)).fit_transform(pop_events, "2024-06", previous)
    assert (off["grade"] == plain["grade"]).all()
