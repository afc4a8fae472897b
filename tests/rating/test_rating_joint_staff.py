"""The joint fit beyond the checks (rating/joint.py): complaints fitted jointly, a body's
staff's effects on its cases, a consultant rated from the joint fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rating import NR, RatingConfig, RatingError, rate
from rating.config import SUBJECT_TYPES
from rating.joint import staff_effects


def test_a_body_takes_its_staffs_effects_on_its_cases():
    cb, k = SUBJECT_TYPES.index("consulting_body"), SUBJECT_TYPES.index("consultant")
    stype = np.array([cb, k, k, cb])  # subjects: body 0 (staff 1, 2), body 3 (no staff)
    e = np.array([0.05, 0.1, -0.2, 0.3])
    # rows (unit, subject, y, w, checker of unit): unit 0 names body 0 and consultant 1,
    # unit 1 body 0 and consultant 2 (weight 3), unit 2 body 3 alone
    rows = (
        np.array([0, 0, 1, 1, 2]),
        np.array([0, 1, 0, 2, 3]),
        np.zeros(5),
        np.array([1.0, 1.0, 3.0, 3.0, 1.0]),
        np.zeros(3, dtype=np.int64),
    )
    got = staff_effects(e, rows, stype, ("consulting_body",))
    np.testing.assert_allclose(got, [(1 * 0.1 + 3 * -0.2) / 4, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(staff_effects(e, rows, stype, ()), np.zeros(4))
    np.testing.assert_array_equal(staff_effects(e, rows, stype, ("assessment_body",)), np.zeros(4))


def complaints_market(seed=3, n_bodies=20, n_cb=20, cases=3000, consultants=False):
    """Assessment bodies of varied quality; consulting bodies all alike, the even ones
    working mostly (80 %) with the bad half of the assessment bodies. Every case gets a
    conforming spot check (the clean outcome complaints are counted against) and, with a
    probability that only its assessment body sets, a substantiated complaint held
    against both bodies; with ``consultants`` the spot check also names one of its
    consulting body's two consultants (a complaint never does)."""
    rng = np.random.default_rng(seed)
    q_ab = np.linspace(0.01, 0.3, n_bodies)  # complaint probability each body brings
    rows = []
    for c in range(cases):
        cb = int(rng.integers(n_cb))
        bad_side = (cb % 2 == 0) == (rng.random() < 0.8)
        half = np.arange(n_bodies // 2, n_bodies) if bad_side else np.arange(n_bodies // 2)
        ab = int(rng.choice(half))
        month = 1 + c % 6
        events = [("spotcheck_conforming", "IN1", f"2024-0{month}-05")]
        if rng.random() < q_ab[ab]:
            events.append(("complaint_substantiated", None, f"2024-0{month}-20"))
        consultant = f"K{cb:02d}{int(rng.integers(2))}"
        for e, checker, day in events:
            named = [(f"AB{ab:02d}", "assessment_body"), (f"CB{cb:02d}", "consulting_body")]
            if consultants and e != "complaint_substantiated":
                named.append((consultant, "consultant"))
            for sid, st in named:
                rows.append(
                    {
                        "subject_id": sid,
                        "subject_type": st,
                        "event_date": day,
                        "event": e,
                        "checker_id": checker,
                        "case_id": f"C{c}",
                    }
                )
    return pd.DataFrame(rows)


def cb_complaint_gap(out: pd.DataFrame) -> float:
    """The even consulting bodies' mean complaint rate (as the engine estimates it) minus
    the odd ones', in percentage points (truth: 0)."""
    cb = out[(out["subject_type"] == "consulting_body") & (out["grade"] != NR)]
    odd = cb["subject_id"].str[-2:].astype(int) % 2 == 1
    rate_ = cb["rate_complaints"] * 100
    return float(rate_[~odd].mean() - rate_[odd].mean())


def test_a_consulting_body_is_not_blamed_for_its_assessment_bodies_complaints():
    ev = complaints_market()
    joint = rate(ev, "2024-06")
    marginal = rate(ev, "2024-06", RatingConfig(joint_unchecked=()))
    assert cb_complaint_gap(marginal) > 2
    assert abs(cb_complaint_gap(joint)) < 0.5 * cb_complaint_gap(marginal)
    # the assessment bodies keep their order (their own complaints)
    ab = joint[joint["subject_type"] == "assessment_body"].sort_values("subject_id")
    assert np.corrcoef(ab["rate_complaints"], np.arange(len(ab)))[0, 1] > 0.8
    contrib = joint[[c for c in joint.columns if c.startswith("contrib_")]].sum(axis=1)
    rated = joint["grade"] != NR
    np.testing.assert_allclose((joint["base"] + contrib)[rated], joint["score"][rated], atol=1e-9)


def test_a_consultants_complaints_part_is_its_consultancys_level_only():
    # complaints never name a consultant: it stays in their joint fit (its clean checks
    # are its consultancy's too) and takes no deviation of its own from it; its score
    # carries person_body_share of its consultancy's level, as for every criterion
    ev = complaints_market(consultants=True)
    out = rate(ev, "2024-06")
    ks = out[(out["subject_type"] == "consultant") & (out["grade"] != NR)].copy()
    assert len(ks) > 20
    assert ks["contrib_spotcheck"].notna().all()
    # the two consultants of one consultancy get the same complaints part (no own term) ...
    ks["body"] = "CB" + ks["subject_id"].str[1:3]
    spread = ks.groupby("body")["contrib_complaints"].agg(lambda x: x.max() - x.min())
    assert (ks.groupby("body").size() == 2).sum() > 5
    assert spread.max() < 1e-9
    # ... which follows its consultancy's, and without a share of it there is none
    cb = out[(out["subject_type"] == "consulting_body") & (out["grade"] != NR)]
    cb_part = cb.set_index("subject_id")["contrib_complaints"]
    assert cb_part.abs().max() > 0.1
    per_body = ks.groupby("body")["contrib_complaints"].first()
    # (the consultancy's own part carries its staff's effects too, so not exactly)
    assert np.corrcoef(per_body, cb_part[per_body.index])[0, 1] > 0.5
    alone = rate(ev, "2024-06", RatingConfig(person_body_share=0.0))
    ks0 = alone[(alone["subject_type"] == "consultant") & (alone["grade"] != NR)]
    assert (ks0["contrib_complaints"].abs() < 1e-9).all()
    # the consulting bodies are still not blamed for their assessment bodies' complaints
    marginal = rate(ev, "2024-06", RatingConfig(joint_unchecked=()))
    assert abs(cb_complaint_gap(out)) < 0.5 * cb_complaint_gap(marginal)


def test_the_new_joint_settings_name_the_right_types():
    for bad in ("complaints", ("confirmation",), ("complaint",)):
        with pytest.raises(RatingError, match="joint_unchecked"):
            RatingConfig(joint_unchecked=bad)
    with pytest.raises(RatingError, match="joint_person_own"):
        RatingConfig(joint_person_own=("consulting_body",))
    with pytest.raises(RatingError, match="joint_body_staff"):
        RatingConfig(joint_body_staff=("consultant",))
