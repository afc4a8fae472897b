"""The joint fit of the checks (rating/joint.py): with case_id, a consulting body is judged
on what its cases did beyond what their assessment bodies and checkers explain."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rating import NR, Rater, RatingConfig, rate


def market(seed=7, n_bodies=20, n_cb=20, cases=2000):
    """Assessment bodies of varied quality; consulting bodies all alike, except that the
    even ones work mostly (80 %) with the bad half of the assessment bodies and a strict
    checker, and the odd ones mostly with the good half and a lenient one."""
    rng = np.random.default_rng(seed)
    q_ab = np.linspace(0.05, 0.6, n_bodies)  # bad-outcome rate each body brings
    rows = []
    for c in range(cases):
        cb = int(rng.integers(n_cb))
        usual = rng.random() < 0.8
        bad_side = (cb % 2 == 0) == usual
        half = np.arange(n_bodies // 2, n_bodies) if bad_side else np.arange(n_bodies // 2)
        ab = int(rng.choice(half))
        checker = "STRICT" if (cb % 2 == 0) == (rng.random() < 0.8) else "SOFT"
        p = min(q_ab[ab] + (0.1 if checker == "STRICT" else 0.0), 0.95)
        e = "spotcheck_major" if rng.random() < p else "spotcheck_conforming"
        for sid, st in ((f"AB{ab:02d}", "assessment_body"), (f"CB{cb:02d}", "consulting_body")):
            rows.append(
                {
                    "subject_id": sid,
                    "subject_type": st,
                    "event_date": f"2024-0{1 + c % 6}-10",
                    "event": e,
                    "checker_id": checker,
                    "case_id": f"C{c}",
                }
            )
    return pd.DataFrame(rows)


def cb_gap(out: pd.DataFrame) -> float:
    """The even consulting bodies' mean major-finding rate (as the engine estimates it)
    minus the odd ones', in percentage points (truth: 0). Not the scores: the score scale
    spreads a type's subjects over the grades whatever their spread."""
    cb = out[(out["subject_type"] == "consulting_body") & (out["grade"] != NR)]
    odd = cb["subject_id"].str[-2:].astype(int) % 2 == 1
    rate = cb["rate_spotcheck>=1"] * 100
    return float(rate[~odd].mean() - rate[odd].mean())


def test_a_consulting_body_is_not_blamed_for_its_assessment_bodies():
    ev = market()
    joint = rate(ev, "2024-06")
    marginal = rate(ev, "2024-06", RatingConfig(joint_fit=False))
    without_cases = rate(ev.drop(columns=["case_id"]), "2024-06")
    # the marginal rates rank the consulting bodies by their partners' quality
    assert cb_gap(marginal) > 5
    assert cb_gap(without_cases) == cb_gap(marginal)
    # the joint fit takes the partners out: far smaller a gap between equal bodies
    assert abs(cb_gap(joint)) < 0.3 * cb_gap(marginal)
    # and the assessment bodies keep their order (their own quality)
    ab = joint[joint["subject_type"] == "assessment_body"].sort_values("subject_id")
    assert np.corrcoef(ab["score"], -np.arange(len(ab)))[0, 1] > 0.8


def test_the_joint_fit_is_deterministic_and_explained():
    ev = market(cases=600)
    a = Rater().fit_transform(ev, "2024-06")
    b = Rater().fit_transform(ev.sample(frac=1.0, random_state=1), "2024-06")
    pd.testing.assert_series_equal(a["score"], b["score"], check_exact=False, rtol=1e-9)
    rated = a[a["grade"] != NR]
    contrib = rated[[c for c in rated.columns if c.startswith("contrib_")]].sum(axis=1)
    np.testing.assert_allclose(rated["base"] + contrib, rated["score"], atol=1e-9)
    r = Rater().fit(ev, "2024-06")
    assert r.joint_lambda_ is not None and (r.joint_lambda_[:, 1:] >= 0).all()
    # the strict checker is found strict with the subjects taken out
    assert (
        r.checker_strictness_.loc["STRICT", "spotcheck>=1"]
        > r.checker_strictness_.loc["SOFT", "spotcheck>=1"]
    )
