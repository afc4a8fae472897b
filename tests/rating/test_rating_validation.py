import numpy as np
import pandas as pd
import pytest
from rating_histories import history, population

from rating import NR, Rater, compare, events_behind_change, validation_report
from rating.validation import auroc, psi, stratified_auroc, transitions


def test_auroc_and_psi_basics():
    assert auroc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert auroc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert auroc([0, 1, 0, 1], [1, 1, 1, 1]) == 0.5
    assert auroc([1, 1], [0.1, 0.2]) is None
    assert psi([10, 20, 30], [10, 20, 30]) == pytest.approx(0.0)
    assert psi([10, 20, 30], [30, 20, 10]) > 0.25
    # within-stratum pairs only: the cross-stratum ordering does not count
    assert stratified_auroc([0, 1, 0, 1], [0.0, 1.0, 2.0, 3.0], ["a", "a", "b", "b"]) == 1.0


def grades(*pairs):
    return pd.DataFrame(
        {"subject_id": [p[0] for p in pairs], "subject_type": "assessor", "grade": [p[1] for p in pairs]}
    )


def test_transitions_counts_changes_and_jumps():
    prev = grades(("a", "AAA"), ("b", "A"), ("c", "B"), ("d", NR))
    cur = grades(("a", "AAA"), ("b", "AA"), ("c", "C"), ("d", "A"), ("e", "A"))
    matrix, changed, jumps, _ = transitions(prev, cur)
    assert matrix["A"]["AA"] == 1 and matrix[NR]["A"] == 2 and matrix["AAA"]["AAA"] == 1
    assert changed == pytest.approx(2 / 3)
    assert jumps == 0
    _, _, jumps, _ = transitions(grades(("a", "AAA")), grades(("a", "B")))
    assert jumps == 1


def test_compare_names_the_change_and_the_events_behind_it():
    base = population(month="2024-05")
    may = pd.DataFrame(
        base + history("X", {"spotcheck_conforming": 30, "filing_on_time": 20}, month="2024-05")
    )
    june = pd.concat(
        [may, pd.DataFrame(history("X", {"spotcheck_major": 6}, month="2024-06"))], ignore_index=True
    )
    prev = Rater().fit_transform(may, "2024-05")
    cur = Rater().fit_transform(june, "2024-06")
    before = cur.copy(deep=True)
    out = compare(prev, cur).set_index("subject_id")
    pd.testing.assert_frame_equal(cur, before)
    x = out.loc["X"]
    assert x["score_change"] < 0
    assert x["change_events"]["entered"] == {"spotcheck_major": 6.0}
    assert x["indicator_changes"]["spotcheck"] < 0
    assert "spotcheck_major×6" in x["change_en"] and "抽查严重不符合×6" in x["change_zh"]
    rows = events_behind_change(june, "2024-06")
    assert set(rows["subject_id"]) == {"X"} and (rows["effect"] == "entered").all() and len(rows) == 6


def test_validation_report_on_a_world_with_signal():
    rng = np.random.default_rng(11)
    rows = []
    months = pd.period_range("2021-01", "2024-06", freq="M")
    quality = rng.uniform(0.05, 0.6, size=80)
    for i, q in enumerate(quality):
        for m in months:
            for e in rng.choice(["spotcheck_conforming", "spotcheck_major"], size=3, p=[1 - q, q]):
                rows.append(
                    {
                        "subject_id": f"S{i}",
                        "subject_type": "assessment_body",
                        "event_date": f"{m}-10",
                        "event": e,
                    }
                )
    rep = validation_report(pd.DataFrame(rows), "2024-06")
    assert rep.auroc is not None and rep.auroc > 0.7
    assert rep.backtest_period == "2023-12"
    assert rep.changed_share is not None and rep.changed_share < 0.2
    assert rep.psi is not None and rep.psi < 0.1
    assert sum(rep.grade_distribution["all"].values()) == 80
    assert set(rep.size_correlation) == {"assessment_body", "consulting_body", "assessor", "consultant"}
    d = rep.to_dict()
    assert d["period"] == "2024-06" and isinstance(d["transitions"], dict)
