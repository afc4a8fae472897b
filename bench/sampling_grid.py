"""Coverage, error and yield of the 95 % interval on a grid of independent worlds (issue 16).

Run::

    cd <repository root> && nice .venv/bin/python bench/sampling_grid.py            # full: 432 cells x 1,000 redraws
    cd <repository root> && .venv/bin/python bench/sampling_grid.py --redraws 100 --quick   # a few cells, smoke
    cd <repository root> && .venv/bin/python bench/sampling_grid.py --prevalence 0.02 --n 100  # a slice
    cd <repository root> && .venv/bin/python bench/sampling_grid.py --n 100 --no-frame-aware  # without the frame
    cd <repository root> && .venv/bin/python bench/sampling_grid.py --summarise A.jsonl B.jsonl  # slices' summary

Each cell is a world from ``bench/sampling_world.py`` (not the simulator the
engine was tuned on): prevalence {2, 5, 15, 30 %} × sampling fraction
{1, 5, 20 %} × n {100, 400, 2,000} × model strength {none, weak, strong} ×
mandatory units {none, 1 %} × {no strata, 8 unequal strata}.  The design is
the engine's default (``inclusion_probabilities``: uniform share 0.2, risk
exponent 3), the draw its randomized systematic πps (``systematic_sample``,
per stratum), the estimate ``estimate_rate``; the truth is the frame's own
rate.  Per cell the world, its π and the stratum index are built once; each
redraw only draws and estimates.  By default the estimate is given the frame's
π and risks (``estimate_rate(frame=)``, the frame-aware far side, prepared once
per cell); ``--no-frame-aware`` gives the estimate without them (same draws), so
both can be compared cell by cell.  ``--model reversed`` (not in the default
grid) is an adversarial world: π follows a strong model's ranking turned upside
down.

One JSON line per cell: coverage (%), the misses on each side (the truth
below the interval, above it: 2.5 % each for a central interval), mean error and width (pp), the
Monte-Carlo standard error of the coverage, the mean number of nonconforming
units drawn outside the certainty units, the yield (nonconforming found
beyond the mandatory units / what a uniform draw of as many among the
other units finds on average), and for reference the coverage a
simple random sample of n would give with Wilson's interval and the coverage
closest to 95 % that *any* interval monotone in the count could reach under
simple random sampling (``srs_best``: in the smallest cells the count takes
so few values that no interval lands in 93-97 %).  Then a summary: the share
of cells inside 93-97 %, the worst cells, the yield by model strength.  The
lines and the summary also go to ``<temp dir>/auditbo_sampling_grid.jsonl``
(``--out`` to change).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from sampling_world import make_world  # noqa: E402

from sampling import estimate_rate, inclusion_probabilities, systematic_sample  # noqa: E402
from sampling.estimate import RiskFrame  # noqa: E402

PREVALENCE = (0.02, 0.05, 0.15, 0.30)
FRACTION = (0.01, 0.05, 0.20)
SIZES = (100, 400, 2000)
STRENGTH = ("none", "weak", "strong")
MANDATORY = (0.0, 0.01)
STRATA = (False, True)
Z = 1.959963984540054
COLUMNS = ["inclusion_probability", "nonconforming", "h", "risk"]


def srs_reference(N: int, K: int, n: int) -> tuple[float, float]:
    """Coverage under simple random sampling of n from N with K nonconforming (hypergeometric count):
    Wilson's interval (with the finite-population correction), and the coverage closest to 95 % over
    every set of counts {a..b} (what any interval whose bounds rise with the count can cover)."""
    x = np.arange(0, n + 1)
    pmf = stats.hypergeom.pmf(x, N, K, n)
    p, f = K / N, n / N
    ph = x / n
    ne = n / max(1.0 - f, 1e-12)
    c = Z**2 / ne
    centre = (ph + c / 2) / (1 + c)
    half = Z * np.sqrt(ph * (1 - ph) / ne + c / (4 * ne)) / (1 + c)
    wilson = float(pmf[(centre - half <= p) & (p <= centre + half)].sum())
    keep = np.flatnonzero(pmf > 1e-12)
    lo_x, hi_x = keep.min(), keep.max()
    cum = np.concatenate([[0.0], np.cumsum(pmf[lo_x : hi_x + 1])])
    sums = cum[None, :] - cum[:, None]  # sums[a, b] = P(a <= X < b)
    best = float(sums.flat[np.argmin(np.abs(sums - 0.95))])
    return wilson, best


def cell(prevalence, fraction, n, strength, mandatory, strata, redraws, seed=0, frame_aware=True) -> dict:
    from sklearn.metrics import roc_auc_score

    N = int(round(n / fraction))
    w = make_world(
        seed, N=N, n=n, prevalence=prevalence, strength=strength, mandatory_share=mandatory, strata=strata
    )
    pi = inclusion_probabilities(w.risk, n, mandatory=w.mandatory, strata=w.strata)
    if strata:
        codes, _ = pd.factorize(w.strata, sort=True)
        parts = [np.flatnonzero(codes == h) for h in range(codes.max() + 1)]
    else:
        codes, parts = np.zeros(N, dtype=np.int8), [np.arange(N)]
    pi_parts = [pi[ix] for ix in parts]
    frame = (
        RiskFrame.from_frame(pd.DataFrame({"inclusion_probability": pi, "risk": w.risk}))
        if frame_aware
        else None
    )
    y = w.y
    truth = w.rate
    certain = pi >= 1.0 - 1e-9
    below, above = np.zeros(redraws, dtype=bool), np.zeros(redraws, dtype=bool)
    err, width, found_free, found_open = (np.zeros(redraws) for _ in range(4))
    open_ = ~w.mandatory
    for r in range(redraws):
        rng = np.random.default_rng([seed, r, 16])
        sel = np.concatenate([ix[systematic_sample(p, rng)] for ix, p in zip(parts, pi_parts, strict=True)])
        # one float block: the cheapest frame to build and to read columns from
        checked = pd.DataFrame(
            np.column_stack([pi[sel], y[sel], codes[sel], w.risk[sel]]), columns=COLUMNS, copy=False
        )
        est = estimate_rate(checked, population=N, strata="h" if strata else None, frame=frame)
        below[r] = truth < est.ci_low  # the interval misses on the low side: it lies above the truth
        above[r] = truth > est.ci_high
        err[r] = est.rate - truth
        width[r] = est.ci_high - est.ci_low
        found_free[r] = y[sel][~certain[sel]].sum()
        found_open[r] = y[sel][open_[sel]].sum()
    cov = 1.0 - float(below.mean()) - float(above.mean())
    m = int(w.mandatory.sum())
    wilson, best = srs_reference(N, int(y.sum()), n)
    return {
        "prevalence": prevalence,
        "fraction": fraction,
        "n": n,
        "N": N,
        "model": strength,
        "auroc": round(float(roc_auc_score(y, w.risk)), 3),
        "mandatory": int(w.mandatory.sum()),
        "strata": strata,
        "redraws": redraws,
        "frame_aware": frame_aware,
        "coverage": round(100 * cov, 1),
        "coverage_mc_se": round(100 * np.sqrt(cov * (1 - cov) / redraws), 2),
        # the two sides of the misses (2.5 % each for a central 95 % interval)
        "miss_truth_below_interval": round(100 * float(below.mean()), 1),
        "miss_truth_above_interval": round(100 * float(above.mean()), 1),
        "mean_error_pp": round(100 * float(err.mean()), 3),
        "mean_width_pp": round(100 * float(width.mean()), 2),
        "drawn_nonconforming_outside_certainty": round(float(found_free.mean()), 2),
        # beyond the mandatory units: found among the others vs a uniform draw of as many among them
        "yield_vs_uniform": round(float(found_open.mean()) / ((n - m) * y[open_].mean()), 3),
        "srs_wilson_coverage": round(100 * wilson, 1),
        "srs_best_coverage": round(100 * best, 1),
    }


def summarise(df: pd.DataFrame, seconds: float) -> dict:
    inside = df["coverage"].between(93, 97)
    cols = [
        "prevalence",
        "fraction",
        "n",
        "model",
        "mandatory",
        "strata",
        "coverage",
        "coverage_mc_se",
        "miss_truth_below_interval",
        "miss_truth_above_interval",
        "mean_width_pp",
        "drawn_nonconforming_outside_certainty",
        "srs_best_coverage",
    ]
    cols = [c for c in cols if c in df]  # lines written before the miss sides were recorded lack them
    impossible = df["srs_best_coverage"].between(93, 97).eq(False)
    return {
        "summary": True,
        "cells": len(df),
        "redraws_per_cell": int(df["redraws"].min()),
        "inside_93_97": int(inside.sum()),
        "share_inside_93_97": round(float(inside.mean()), 3),
        "inside_92_98": int(df["coverage"].between(92, 98).sum()),
        "below_93": int((df["coverage"] < 93).sum()),
        "above_97": int((df["coverage"] > 97).sum()),
        # where the misses fall, summed over cells (a central interval splits them evenly)
        **{
            f"mean_{side}": round(float(df[side].mean()), 2)
            for side in ("miss_truth_below_interval", "miss_truth_above_interval")
            if side in df
        },
        "cells_where_no_srs_interval_reaches_93_97": int(impossible.sum()),
        "coverage_min": float(df["coverage"].min()),
        "coverage_max": float(df["coverage"].max()),
        "worst_low": df.nsmallest(5, "coverage")[cols].to_dict("records"),
        "worst_high": df.nlargest(5, "coverage")[cols].to_dict("records"),
        "max_abs_mean_error_pp": float(df["mean_error_pp"].abs().max()),
        "yield_vs_uniform_by_model": {
            m: {
                "min": float(g["yield_vs_uniform"].min()),
                "median": float(g["yield_vs_uniform"].median()),
                "max": float(g["yield_vs_uniform"].max()),
            }
            for m, g in df.dropna(subset=["yield_vs_uniform"]).groupby("model")
        },
        "coverage_by_prevalence_and_n": {
            f"{p:g}/{n}": [float(g["coverage"].min()), float(g["coverage"].max())]
            for (p, n), g in df.groupby(["prevalence", "n"])
        },
        "seconds": round(seconds, 1),
        "cpu_seconds": round(time.process_time(), 1),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redraws", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="only n = 400, no strata, 5 %% fraction")
    ap.add_argument("--prevalence", type=float, nargs="*", help="only these prevalences")
    ap.add_argument("--n", type=int, nargs="*", help="only these sample sizes")
    ap.add_argument("--fraction", type=float, nargs="*", help="only these sampling fractions")
    ap.add_argument(
        "--model",
        nargs="*",
        choices=(*STRENGTH, "reversed"),
        help="only these model strengths (reversed: a strong model's ranking turned upside down, "
        "not in the default grid)",
    )
    ap.add_argument(
        "--frame-aware",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="pass the frame's π and risks to the estimate (the far side's anticipated variance)",
    )
    ap.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "auditbo_sampling_grid.jsonl"))
    ap.add_argument(
        "--failing-case", action="store_true", help="only the outside world's 20,000 / 1,000 / 16 %% case"
    )
    ap.add_argument(
        "--summarise", nargs="+", metavar="JSONL", help="only the summary of cells written by earlier runs"
    )
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    if a.summarise:
        lines = [json.loads(x) for f in a.summarise for x in Path(f).read_text().splitlines() if x.strip()]
        key = ["prevalence", "fraction", "n", "model", "mandatory", "strata"]
        cells = (
            pd.DataFrame([x for x in lines if not x.get("summary")]).drop_duplicates(key).to_dict("records")
        )
        seconds = sum(x["seconds"] for x in lines if x.get("summary"))
        print(json.dumps(summarise(pd.DataFrame(cells), seconds)))
        return 0
    if a.failing_case:
        grid = [(0.16, 0.05, 1000, "strong", 0.0003, False)]
    else:
        grid = list(
            itertools.product(
                a.prevalence or PREVALENCE,
                (0.05,) if a.quick else a.fraction or FRACTION,
                (400,) if a.quick else a.n or SIZES,
                a.model or STRENGTH,
                MANDATORY,
                (False,) if a.quick else STRATA,
            )
        )
    rows = []
    with open(a.out, "w") as out:
        for args in grid:
            row = cell(*args, redraws=a.redraws, frame_aware=a.frame_aware)
            rows.append(row)
            line = json.dumps(row)
            print(line, flush=True)
            out.write(line + "\n")
            out.flush()
        summary = json.dumps(summarise(pd.DataFrame(rows), time.perf_counter() - t0))
        print(summary, flush=True)
        out.write(summary + "\n")
    print(f"written to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
