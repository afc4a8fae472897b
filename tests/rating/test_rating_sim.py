"""The benchmark's simulated market holds each event against the subjects it concerns
(spec/rating.md), and its SQL-style counts give the engine the same input as its events."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rating

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from rating_sim import simulate  # noqa: E402

N_CASES = 12_000


@pytest.fixture(scope="module")
def world():
    events, truth, cases, _ = simulate(None, n_cases=N_CASES, seed=5, with_cases=True)
    return events, truth, cases


def _events_of(events, kind):
    return set(events.loc[events["subject_type"] == kind, "event"].unique())


def test_filing_is_held_against_the_assessment_body_and_the_lead_only(world):
    events, _, cases = world
    filings = events[events["event"].str.startswith("filing_")]
    assert set(filings["subject_type"]) == {"assessment_body", "assessor"}
    # one filing per assessment for the body and one for its lead (members are not named)
    per_type = filings.groupby("subject_type").size()
    assert per_type["assessment_body"] == per_type["assessor"]
    assert per_type["assessment_body"] <= len(cases)
    for kind in ("consulting_body", "consultant"):
        assert not {"filing_on_time", "filing_late"} & _events_of(events, kind)


def test_the_consulting_side_sees_what_is_about_the_enterprises_capability(world):
    events, _, _ = world
    for kind in ("consulting_body", "consultant"):
        seen = _events_of(events, kind)
        assert "confirmation_returned" not in seen  # paperwork, the assessment body's
        assert {"confirmation_confirmed", "confirmation_grade_adjusted", "spotcheck_conforming"} <= seen
    assert "confirmation_returned" in _events_of(events, "assessment_body")
    assert "confirmation_returned" in _events_of(events, "assessor")


def test_a_checked_case_is_held_against_its_whole_team(world):
    events, _, cases = world
    spot = events[events["event"].str.startswith("spotcheck_")]
    per_case = spot.groupby("case_id")["subject_type"].agg(lambda s: frozenset(s))
    assert all("assessment_body" in s and "assessor" in s for s in per_case)
    # a spot check of a case with a consulting body is also held against it
    with_cb = cases.index[(cases["spot_y"] >= 0) & (cases["cb"] >= 0)]
    ids = pd.Index("C" + with_cb.astype(str)).intersection(per_case.index)
    assert len(ids) and all("consulting_body" in per_case[i] for i in ids)


def test_legacy_holding_is_kept_for_comparison():
    events, _ = simulate(None, n_cases=3000, seed=5, holding="legacy")
    assert "filing_on_time" in _events_of(events, "consulting_body")
    with pytest.raises(ValueError):
        simulate(None, n_cases=10, holding="nobody")


def test_counts_give_the_engine_the_same_input_as_events():
    events, _ = simulate(None, n_cases=N_CASES, seed=6)
    counts, _ = simulate(None, n_cases=N_CASES, seed=6, counts=True)
    assert int(counts["n"].sum()) == len(events)
    # without the joint fit of the checks, which needs whole cases (case_id) and counts
    # do not carry them
    cfg = rating.RatingConfig(joint_fit=False)
    a = rating.Rater(cfg, explain=False).fit_transform(events, "2024-12")
    b = rating.Rater(cfg, explain=False).fit_transform(counts, "2024-12")
    m = a.merge(b, on=["subject_id", "subject_type"], validate="one_to_one")
    assert len(m) == len(a) == len(b)
    assert (m["grade_x"] == m["grade_y"]).all()
    np.testing.assert_allclose(m["score_x"].to_numpy(), m["score_y"].to_numpy(), atol=1e-9)
