"""Rating benchmark: accuracy, caution, stability, backtest and B5 speed, in one command.

    cd <repository root> && .venv/bin/python bench/rating_bench.py [--quick] [--scenario b5|market|both]

Prints one JSON line per figure: {"bench", "value", "baseline", "ratio", "unit"}, each
labelled with its ``scenario``: ``b5`` (1,000,000 events, about 300,000 assessments: the
B5 scale) and ``market`` (spec/performance.md's market: 1,000,000 assessments over 5
years, several million events, fed to the engine as SQL-style counts).
The world is simulated (bench/rating_sim.py) with fixed latent qualities, so "truth" is
known and a month-over-month change is noise. B5 loads the same events into PostgreSQL
(127.0.0.1, database ``test``, scratch table ``bench_rating_events`` or $RATING_BENCH_TABLE, dropped after) and
compares the rating path (SQL pre-aggregation per subject x month x event x checker of
the events the monthly job reads, from ``rating.earliest_month`` to the period's end,
fetched with COPY, then the engine: ratings of this month, last month and the backtest
month, validation report, changes) with a bare ``GROUP BY subject, month`` over all the
events, fetched the fastest way we have, same run, same data (the path reading every
event is given too). Peak memory is the rating path's, measured
in a child process (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rating_b5  # noqa: E402
from rating_b5 import b5, b5_child, emit  # noqa: E402
from rating_oracle import oracle_frame  # noqa: E402
from rating_sim import simulate  # noqa: E402

import rating  # noqa: E402
from rating import NR, Rater  # noqa: E402
from rating.validation import (  # noqa: E402
    auroc,
    backtest,
    exposure_strata,
    outcome_labels,
    spearman,
    stratified_auroc,
    transitions,
)

DSN = os.environ.get("RATING_BENCH_DSN", "host=127.0.0.1 user=postgres dbname=test")
TABLE = os.environ.get("RATING_BENCH_TABLE", "bench_rating_events")  # own name: runs side by side
START = "2020-01"
MONTHS = 60
PERIOD = "2024-12"
BODIES = ("assessment_body", "consulting_body")
PERSONS = ("assessor", "consultant")
WARMUP = 6  # months of the hysteresis chain before the measured ones


def r4(v):
    return None if v is None else round(v, 4)


def month_str(offset: int) -> str:
    return str(pd.Period(PERIOD, "M") + offset)


# -- accuracy / caution --------------------------------------------------------------
def accuracy(codes, truth, ratings, oracle):
    """Spearman of score vs true quality among rated subjects, next to the raw bad rate's
    (baseline) and the oracle's (noise ceiling: bench/rating_oracle.py), overall and for
    the better-evidenced half of each type (effective events above the type's median)."""
    m = ratings.merge(truth, on=["subject_id", "subject_type"]).merge(
        oracle, on=["subject_id", "subject_type"], how="left"
    )
    rated = m[m["grade"] != NR]
    rich = rated["effective_n"] > rated.groupby("subject_type")["effective_n"].transform("median")
    for label, types in (("bodies", BODIES), ("persons", PERSONS), *((t, (t,)) for t in (*BODIES, *PERSONS))):
        sel = rated["subject_type"].isin(types)
        g, h = rated[sel], rated[sel & rich]
        emit(
            f"rating.spearman_score_vs_quality.{label}",
            spearman(g["score"], g["quality"]),
            spearman(-g["raw_bad_rate"], g["quality"]),
            "rho (baseline: raw bad-outcome rate)",
            n_rated=int(len(g)),
            oracle_ceiling=r4(spearman(g["oracle"], g["quality"])),
            better_evidenced_half=r4(spearman(h["score"], h["quality"])),
            better_evidenced_half_oracle=r4(spearman(h["oracle"], h["quality"])),
        )
    return rated


def caution(rated):
    """Share of low-evidence rated subjects (bottom quartile of effective events, per type)
    in the extreme grades (AAA, C), against the raw rate given the same grade shares."""
    q = rated.groupby("subject_type")["effective_n"].transform(lambda v: v.rank(pct=True))
    low = (q <= 0.25).to_numpy()
    extreme = rated["grade"].isin(["AAA", "C"]).to_numpy()
    # the raw rate's "grades": the same number of subjects per grade, per type, ranked by raw rate
    raw_grade = np.empty(len(rated), dtype=object)
    for _, idx in rated.groupby("subject_type").indices.items():
        sub = rated.iloc[idx]
        shares = sub["grade"].value_counts().reindex(rating.GRADES, fill_value=0).to_numpy()
        order = np.argsort(sub["raw_bad_rate"].to_numpy(), kind="stable")
        labels = np.repeat(np.asarray(rating.GRADES, dtype=object), shares)
        g = np.empty(len(idx), dtype=object)
        g[order] = labels
        raw_grade[idx] = g
    raw_extreme = np.isin(raw_grade, ["AAA", "C"])
    emit(
        "rating.low_evidence_share_in_extreme_grades",
        float(extreme[low].mean()),
        float(raw_extreme[low].mean()),
        "share (baseline: raw rate with the same grade shares)",
        n_low=int(low.sum()),
    )


def chained(codes, months: int, cfg) -> dict:
    """Ratings of the last ``months`` + 1 months, each month keeping to the one before
    within the hysteresis band as auditbo's stored runs do, after ``WARMUP`` months of the
    same chain (so that the first measured month is not the chain's fresh start)."""
    ratings, last = {}, None
    for k in range(months + WARMUP, -1, -1):
        last = Rater(cfg, explain=k == 0).fit_transform(codes, month_str(-k), last)
        if k <= months:
            ratings[k] = last
    return ratings


def stability(codes, months: int):
    ratings = chained(codes, months, rating.RatingConfig())
    plain = chained(codes, months, rating.RatingConfig(hysteresis_points=0.0))
    plain_changed = float(np.mean([transitions(plain[k + 1], plain[k])[1] for k in range(months)]))
    # the world's qualities do not change, but sanctions happen: a sanction entering or
    # leaving the window moves a grade to or from the cap by design (a legitimate event,
    # not instability), so the figures are also given without those subjects
    changed, unchanged_world, jumps, sanction_jumps, psis = [], [], 0, 0, []
    rank = {g: i for i, g in enumerate(rating.GRADES)}
    for k in range(months):
        prev, cur = ratings[k + 1], ratings[k]
        _, ch, j, p = transitions(prev, cur)
        changed.append(ch)
        psis.append(p)
        m = cur.merge(prev, on=["subject_id", "subject_type"], suffixes=("", "_p"))
        m = m[(m["grade"] != NR) & (m["grade_p"] != NR)]
        steps = (m["grade"].map(rank) - m["grade_p"].map(rank)).abs()
        sanction_moved = (m["sanctioned"] != m["sanctioned_p"]).to_numpy()
        jumps += int((steps >= 2).sum())
        sanction_jumps += int(((steps >= 2) & sanction_moved).sum())
        unchanged_world.append(float((steps[~sanction_moved] > 0).mean()))
    emit(
        "rating.stability.grade_change_share",
        float(np.mean(changed)),
        plain_changed,
        f"share of rated subjects, mean of {months} month pairs (baseline: no hysteresis band)",
        max=round(float(np.max(changed)), 4),
        without_sanction_changes=round(float(np.mean(unchanged_world)), 4),
    )
    emit(
        "rating.stability.two_grade_jumps",
        jumps,
        None,
        f"count over {months} month pairs",
        caused_by_sanction_entering_or_leaving=sanction_jumps,
        without_sanction_changes=jumps - sanction_jumps,
    )
    emit(
        "rating.stability.psi",
        float(np.mean(psis)),
        None,
        f"PSI of rated grades, mean of {months} month pairs",
        max=round(float(np.max(psis)), 6),
    )
    return ratings


def backtest_figures(codes, ratings, cfg, truth):
    rep = rating.validation_report(
        codes, PERIOD, cfg, current=ratings[0], previous=ratings[1], past=ratings.get(cfg.backtest_months)
    )
    past = ratings.get(cfg.backtest_months)
    if past is None:
        past = Rater(cfg).fit_transform(codes, month_str(-cfg.backtest_months))
    bt = backtest(
        past.assign(score_raw=-past["raw_bad_rate"]),
        outcome_labels(codes, rating.parse_period(month_str(-cfg.backtest_months)), cfg.backtest_months),
    )
    # raw rate's AUROC on the same subjects and strata
    bt = bt.merge(past[["subject_id", "subject_type", "raw_bad_rate"]], on=["subject_id", "subject_type"])
    strata = exposure_strata(bt)
    raw_auc = stratified_auroc(bt["adverse"], bt["raw_bad_rate"].to_numpy(), strata)
    # reference: the true latent quality itself as the score. Not a strict ceiling: a
    # subject's bad outcomes also depend on the other subjects of its cases (a person's
    # body, a body's staff), which a score estimated from the outcomes partly carries
    bt = bt.merge(truth, on=["subject_id", "subject_type"], how="left")
    true_auc = stratified_auroc(bt["adverse"], -bt["quality"].to_numpy(), strata)
    emit(
        "rating.backtest_auroc",
        rep.auroc,
        raw_auc,
        "AUROC, exposure-stratified (baseline: raw rate)",
        n=rep.backtest_n,
        positives=rep.backtest_positives,
        true_quality_as_score=r4(true_auc),
    )
    emit(
        "rating.backtest_auroc_unstratified",
        rep.auroc_unstratified,
        None,
        "AUROC, all rated subjects pooled",
        true_quality_as_score=r4(auroc(bt["adverse"], -bt["quality"].to_numpy())),
    )
    for t, v in rep.auroc_by_type.items():
        sel = (bt["subject_type"] == t).to_numpy()
        emit(
            f"rating.backtest_auroc.{t}",
            v,
            None,
            "AUROC, exposure-stratified",
            true_quality_as_score=r4(
                stratified_auroc(bt.loc[sel, "adverse"], -bt.loc[sel, "quality"].to_numpy(), strata[sel])
            ),
        )
    print(
        json.dumps(
            {
                "bench": "rating.adverse_rate_by_grade",
                **rating_b5.LABEL,
                "value": rep.adverse_rate_by_grade,
                "falls_as_grades_rise": rep.adverse_rate_falls,
                "n_by_grade": rep.backtest_n_by_grade,
                "judged_over_grades_with_n_at_least": rating.validation.MIN_GRADE_N,
            }
        ),
        flush=True,
    )
    print(
        json.dumps(
            {
                "bench": "rating.grade_distribution",
                **rating_b5.LABEL,
                "value": rep.grade_distribution["all"],
                "by_type": {k: v for k, v in rep.grade_distribution.items() if k != "all"},
            }
        ),
        flush=True,
    )
    print(
        json.dumps(
            {
                "bench": "rating.size_correlation",
                **rating_b5.LABEL,
                "value": rep.size_correlation,
                "passed": rep.size_check_passed,
            }
        ),
        flush=True,
    )


SCENARIOS = {
    # B5's figure: 1,000,000 outcome events (about 300,000 assessments), raw events
    "b5": "1,000,000 events (B5 scale)",
    # spec/performance.md's market: 1,000,000 assessments over 5 years (several million
    # events), aggregated per subject x month x event x checker x body as auditbo's SQL does
    "market": "1,000,000 assessments, 200 assessment bodies, 2,000 consulting bodies, 20,000 persons, 5 years",
}


def scenario(name: str, args) -> None:
    quick = args.quick
    rating_b5.LABEL.clear()
    rating_b5.LABEL.update({"scenario": name, "holding": args.holding})
    t = time.perf_counter()
    if name == "market":
        n_cases = 100_000 if quick else 1_000_000
        events, truth, cases, world = simulate(
            None,
            n_cases=n_cases,
            months=MONTHS,
            start=START,
            seed=args.seed,
            with_cases=True,
            holding=args.holding,
            counts=True,
        )
        n_events = int(events["n"].sum())
    else:
        n = args.events or (100_000 if quick else 1_000_000)
        events, truth, cases, world = simulate(
            n, months=MONTHS, start=START, seed=args.seed, with_cases=True, holding=args.holding
        )
        n_events = len(events)
    emit(
        "rating.sim.events",
        n_events,
        None,
        "events",
        assessments=len(cases),
        described_as=SCENARIOS[name],
        seconds=round(time.perf_counter() - t, 2),
        subjects=int(truth.shape[0]),
        subjects_with_events=int(events.groupby("subject_type", observed=True)["subject_id"].nunique().sum()),
    )
    if args.only_b5:
        if name == "b5":
            b5(events, 3 if quick else 9)
        return
    codes = rating.encode(events)
    cfg = rating.RatingConfig()
    ratings = stability(codes, 3 if quick else 6)
    t = time.perf_counter()
    oracle = oracle_frame(cases, world, rating.parse_period(PERIOD) - rating.parse_period(START))
    emit("rating.oracle.seconds", time.perf_counter() - t, None, "s to fit the oracle (noise ceiling)")
    rated = accuracy(codes, truth, ratings[0], oracle)
    caution(rated)
    nostrict = (
        Rater(cfg, correct_strictness=False)
        .fit_transform(codes, PERIOD)
        .merge(truth, on=["subject_id", "subject_type"])
    )
    nostrict = nostrict[nostrict["grade"] != NR]
    for label, types in (("bodies", BODIES), ("persons", PERSONS)):
        g = rated[rated["subject_type"].isin(types)]
        h = nostrict[nostrict["subject_type"].isin(types)]
        emit(
            f"rating.spearman_strictness_correction.{label}",
            spearman(g["score"], g["quality"]),
            spearman(h["score"], h["quality"]),
            "rho (baseline: same engine without checker-strictness correction)",
        )
    backtest_figures(codes, ratings, cfg, truth)
    if name == "b5" and not args.no_b5:
        b5(events, 3 if quick else 9)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    emit("rating.bench.peak_memory_so_far", rss, None, "MiB, this benchmark process (ru_maxrss)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="100,000 events / assessments, fewer repetitions (smoke)"
    )
    ap.add_argument("--events", type=int, default=None, help="events of the B5-scale scenario")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--scenario", choices=["b5", "market", "both"], default="both", help="accuracy scenario(s) to run"
    )
    ap.add_argument(
        "--holding",
        choices=["spec", "legacy"],
        default="spec",
        help="who each simulated event is held against (legacy: the first version, for comparison)",
    )
    ap.add_argument("--no-b5", action="store_true")
    ap.add_argument(
        "--only-b5", action="store_true", help="B5 alone (its scenario's events, no accuracy figures)"
    )
    ap.add_argument("--b5-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.b5_child:
        return b5_child()
    for name in ("b5", "market") if args.scenario == "both" else (args.scenario,):
        scenario(name, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
