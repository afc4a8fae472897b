"""Coverage and error of the 95 % interval on a grid of independent worlds (issue 16).

Run::

    cd <repository root> && nice .venv/bin/python bench/sampling_grid.py                 # full: 1,000 redraws per cell
    cd <repository root> && .venv/bin/python bench/sampling_grid.py --redraws 100 --quick  # a few cells, smoke

Each cell is a world from ``bench/sampling_world.py`` (not the simulator the
engine was tuned on): prevalence {2, 5, 15, 30 %} × sampling fraction
{1, 5, 20 %} × n {100, 400, 2,000} × model strength {none, weak, strong} ×
mandatory units {none, 1 %} × {no strata, 8 unequal strata}.  The design is
the engine's default (``inclusion_probabilities``: uniform share 0.2, risk
exponent 3), the draw its randomized systematic πps, the estimate
``estimate_rate``; the truth is the frame's own rate.  One line per cell (JSON),
then the worst cells and the share of cells inside 93-97 %.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from sampling_world import make_world  # noqa: E402

from sampling import estimate_rate, inclusion_probabilities, systematic_sample  # noqa: E402

PREVALENCE = (0.02, 0.05, 0.15, 0.30)
FRACTION = (0.01, 0.05, 0.20)
SIZES = (100, 400, 2000)
STRENGTH = ("none", "weak", "strong")
MANDATORY = (0.0, 0.01)
STRATA = (False, True)


def cell(prevalence, fraction, n, strength, mandatory, strata, redraws, seed=0) -> dict:
    from sklearn.metrics import roc_auc_score

    N = int(round(n / fraction))
    w = make_world(
        seed, N=N, n=n, prevalence=prevalence, strength=strength, mandatory_share=mandatory, strata=strata
    )
    pi = inclusion_probabilities(w.risk, n, mandatory=w.mandatory, strata=w.strata)
    labels = w.strata if strata else np.zeros(N, dtype="<U1")
    parts = [np.flatnonzero(labels == s) for s in sorted(set(labels))]
    truth = w.rate
    cover, err, width = [], [], []
    for r in range(redraws):
        rng = np.random.default_rng([seed, r, 16])
        sel = np.concatenate([ix[systematic_sample(pi[ix], rng)] for ix in parts])
        checked = pd.DataFrame(
            {"inclusion_probability": pi[sel], "nonconforming": w.y[sel], "h": labels[sel]}
        )
        est = estimate_rate(checked, population=N, strata="h" if strata else None)
        cover.append(est.ci_low <= truth <= est.ci_high)
        err.append(est.rate - truth)
        width.append(est.ci_high - est.ci_low)
    return {
        "prevalence": prevalence,
        "fraction": fraction,
        "n": n,
        "N": N,
        "model": strength,
        "auroc": round(float(roc_auc_score(w.y, w.risk)), 3),
        "mandatory": int(w.mandatory.sum()),
        "strata": strata,
        "redraws": redraws,
        "coverage": round(100 * float(np.mean(cover)), 1),
        "mean_error_pp": round(100 * float(np.mean(err)), 3),
        "mean_width_pp": round(100 * float(np.mean(width)), 2),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redraws", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="only n = 400, no strata, 5 % fraction")
    ap.add_argument(
        "--failing-case", action="store_true", help="only the outside world's 20,000 / 1,000 / 16 % case"
    )
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = []
    if a.failing_case:
        grid = [(0.16, 0.05, 1000, "strong", 0.0003, False)]
    elif a.quick:
        grid = list(itertools.product(PREVALENCE, (0.05,), (400,), STRENGTH, MANDATORY, (False,)))
    else:
        grid = list(itertools.product(PREVALENCE, FRACTION, SIZES, STRENGTH, MANDATORY, STRATA))
    for args in grid:
        row = cell(*args, redraws=a.redraws)
        rows.append(row)
        print(json.dumps(row), flush=True)
    df = pd.DataFrame(rows)
    inside = df["coverage"].between(93, 97)
    print(
        json.dumps(
            {
                "cells": len(df),
                "inside_93_97": int(inside.sum()),
                "coverage_min": float(df["coverage"].min()),
                "coverage_max": float(df["coverage"].max()),
                "worst_low": df.nsmallest(3, "coverage").to_dict("records"),
                "worst_high": df.nlargest(3, "coverage").to_dict("records"),
                "max_abs_mean_error_pp": float(df["mean_error_pp"].abs().max()),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
