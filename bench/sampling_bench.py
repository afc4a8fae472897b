"""Bench for sampling/: does the risk design find more, stay honest, and run fast?

Run (one command; every figure is one JSON line on standard output)::

    cd <repository root> && .venv/bin/python bench/sampling_bench.py            # full: ~10 x 100 redraws + B4
    cd <repository root> && .venv/bin/python bench/sampling_bench.py --quick    # smoke: 2 x 25 redraws, 100k-unit B4
    cd <repository root> && .venv/bin/python bench/sampling_bench.py --b4-only  # B4 alone (or --skip-b4)

What it measures, on the simulated market of ``bench/sampling_sim.py`` (truth known):

* several independent markets ("populations"); in each, a risk model trained
  on 30,000 labelled past checks (themselves drawn by an earlier risk-based
  design, so training weights are 1/π), a 40,000-unit frame and n = 2,000
  checks (5 %); then many seeded redraws of the sample from that frame;
* yield: nonconforming units found by the default design vs. a uniform draw
  of the same size (same seed), vs. an oracle using the same design with the
  *true* probabilities, and vs. the top-n oracle (the n truly riskiest units:
  the ceiling no honest design reaches); the spec's formula (γ = 1) for reference;
* honesty: Horvitz-Thompson error against the frame's true rate (mean and
  RMSE, RMSE vs. a uniform draw's), the 95 % score interval's coverage (Wald's
  coverage as the baseline);
* the same in a weak market (every effect shrunk: the true probabilities
  AUROC ~0.63) and with a useless model (trained on shuffled labels);
* B4 (spec/performance.md): train on 200,000 labelled rows, score a
  1,000,000-unit frame, compute every π and draw 2,000, in a fresh
  subprocess, with its peak memory; baseline: bare scikit-learn on
  pre-encoded arrays (HistGradientBoosting fit + predict_proba +
  ``numpy`` weighted choice, one OpenMP thread like the engine) in another
  fresh subprocess on the same data.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from sampling_sim import TRUTH_COLUMNS, Market, labelled_history  # noqa: E402

from sampling import (  # noqa: E402
    RiskModel,
    draw,
    estimate_rate,
    inclusion_probabilities,
    systematic_sample,
)
from sampling.design import DEFAULT_RISK_EXPONENT, DEFAULT_UNIFORM_SHARE  # noqa: E402

WEAK_SIGNAL = 0.45  # every effect of the simulated market shrunk: true AUROC ~0.63 (issue 16: 0.60-0.65)


def emit(bench: str, value, baseline=None, ratio=None, unit: str = "") -> None:
    def r(x):
        return None if x is None else round(float(x), 4)

    print(
        json.dumps(
            {"bench": bench, "value": r(value), "baseline": r(baseline), "ratio": r(ratio), "unit": unit}
        ),
        flush=True,
    )


# --------------------------------------------------------------------------- yield and honesty
def scenario(populations: int, redraws: int, *, N: int, n: int, useless: bool, signal: float = 1.0) -> dict:
    from sklearn.metrics import roc_auc_score

    acc = {
        k: []
        for k in (
            "found",
            "found_unif",
            "found_oracle",
            "found_spec",
            "err",
            "err_hajek",
            "err_unif",
            "cover",
            "cover_wald",
            "width",
        )
    }
    top_n, auc_valid, auc_frame, auc_oracle, shares = [], [], [], [], []
    for s in range(populations):
        market = Market(s, signal=signal)
        history = labelled_history(market, 200_000, 30_000, seed=s, useless=useless)
        truth = market.units(N, 1000 + s, start="2024-01-01")
        frame = truth.drop(columns=TRUTH_COLUMNS)
        y, p = truth["y"].to_numpy(), truth["p_true"].to_numpy()
        rate = y.mean()
        model = RiskModel(random_state=0).fit(history)
        first = draw(frame, n, random_state=s * 100_000, model=model)
        pi = first.units["inclusion_probability"].to_numpy()
        risk = first.units["risk"].to_numpy()
        alpha = first.parameters["effective_uniform_share"]
        shares.append(alpha)
        auc_valid.append(first.metrics["auroc"])
        auc_frame.append(roc_auc_score(y, risk))
        auc_oracle.append(roc_auc_score(y, p))
        # unit ids are 0..N-1 in order, so the canonical order is the frame's order
        assert np.array_equal(
            np.flatnonzero(first.units["selected"].to_numpy()),
            systematic_sample(pi, np.random.default_rng(s * 100_000)),
        )
        pi_oracle = inclusion_probabilities(p, n, uniform_share=DEFAULT_UNIFORM_SHARE)
        pi_spec = inclusion_probabilities(risk, n, uniform_share=alpha, risk_exponent=1.0)
        top_n.append(y[np.argsort(-p, kind="stable")[:n]].sum())
        for r in range(redraws):
            seed = s * 100_000 + r
            sel = systematic_sample(pi, np.random.default_rng(seed))
            unif = np.random.default_rng([seed, 9]).choice(N, n, replace=False)
            acc["found"].append(y[sel].sum())
            acc["found_unif"].append(y[unif].sum())
            acc["found_oracle"].append(
                y[systematic_sample(pi_oracle, np.random.default_rng([seed, 7]))].sum()
            )
            acc["found_spec"].append(y[systematic_sample(pi_spec, np.random.default_rng([seed, 8]))].sum())
            est = estimate_rate(
                pd.DataFrame({"inclusion_probability": pi[sel], "nonconforming": y[sel]}), population=N
            )
            acc["err"].append(est.rate - rate)
            acc["err_hajek"].append(est.hajek_rate - rate)
            acc["err_unif"].append(y[unif].mean() - rate)
            acc["cover"].append(est.ci_low <= rate <= est.ci_high)
            acc["cover_wald"].append(abs(est.rate - rate) <= 1.959964 * est.std_error)
            acc["width"].append(est.ci_high - est.ci_low)
    out = {k: np.asarray(v, dtype=float) for k, v in acc.items()}
    out.update(
        top_n=np.mean(top_n),
        auc_valid=np.mean(auc_valid),
        auc_frame=np.mean(auc_frame),
        auc_oracle=np.mean(auc_oracle),
        share=np.mean(shares),
        redraws=populations * redraws,
    )
    return out


def report(tag: str, r: dict) -> None:
    pre = f"{tag}: " if tag else ""
    emit(f"{pre}redraws (populations x redraws)", r["redraws"], unit="count")
    emit(f"{pre}model AUROC, validated on the held-out period", r["auc_valid"], unit="auroc")
    emit(
        f"{pre}model AUROC on the frame vs true-probability AUROC",
        r["auc_frame"],
        r["auc_oracle"],
        r["auc_frame"] / r["auc_oracle"],
        "auroc",
    )
    emit(f"{pre}effective uniform share", r["share"], DEFAULT_UNIFORM_SHARE, None, "share")
    f, fu, fo = r["found"].mean(), r["found_unif"].mean(), r["found_oracle"].mean()
    goal = {"": "goal >= 2.5x", "useless model": "goal 0.95-1.05x"}.get(tag, "goal >= 1.2x")
    emit(f"{pre}yield vs uniform draw ({goal})", f, fu, f / fu, "nonconforming found")
    emit(
        f"{pre}yield vs oracle, same design with true probabilities (goal >= 0.70)",
        f,
        fo,
        f / fo,
        "nonconforming found",
    )
    emit(
        f"{pre}yield vs oracle, top-n by true probability (ceiling)",
        f,
        r["top_n"],
        f / r["top_n"],
        "nonconforming found",
    )
    emit(
        f"{pre}yield of the spec formula (risk exponent 1) vs uniform",
        r["found_spec"].mean(),
        fu,
        r["found_spec"].mean() / fu,
        "nonconforming found",
    )
    emit(f"{pre}HT rate mean error (goal < 0.5 pp)", 100 * r["err"].mean(), None, None, "pp")
    emit(f"{pre}Hajek rate mean error", 100 * r["err_hajek"].mean(), None, None, "pp")
    rmse, rmse_u = 100 * np.sqrt(np.mean(r["err"] ** 2)), 100 * np.sqrt(np.mean(r["err_unif"] ** 2))
    emit(f"{pre}HT rate RMSE vs uniform draw's RMSE", rmse, rmse_u, rmse / rmse_u, "pp")
    c, cw = 100 * r["cover"].mean(), 100 * r["cover_wald"].mean()
    emit(f"{pre}95% interval coverage, score interval vs Wald (goal 93-97%)", c, cw, c / cw, "%")
    emit(f"{pre}95% interval mean width", 100 * r["width"].mean(), None, None, "pp")


# --------------------------------------------------------------------------- B4
def b4_data(units: int, rows: int):
    from sampling import rule_score

    market = Market(99)
    history = market.units(rows, 1, start="2019-01-01", days=5 * 365, id_offset=10_000_000)
    risk = rule_score(history, n_reasons=0)["risk"].to_numpy()
    history["inclusion_probability"] = inclusion_probabilities(
        risk, rows // 10, uniform_share=0.3, risk_exponent=1.0
    ).clip(1e-6, 1)
    history["nonconforming"] = history["y"]
    history = history.drop(columns=["p_true", "y"])
    frame = market.units(units, 2, start="2024-01-01").drop(columns=TRUTH_COLUMNS)
    return history, frame


def b4_child(kind: str, units: int, rows: int) -> None:
    history, frame = b4_data(units, rows)
    out = {}
    if kind == "engine":
        t0 = time.perf_counter()
        model = RiskModel(random_state=0).fit(history)
        t1 = time.perf_counter()
        result = draw(frame, 2000, random_state=1, model=model)
        t2 = time.perf_counter()
        out.update(
            seconds=t2 - t0,
            fit_seconds=t1 - t0,
            draw_seconds=t2 - t1,
            selected=int(result.units["selected"].sum()),
            auroc=result.metrics["auroc"],
        )
    else:
        from sklearn.ensemble import HistGradientBoostingClassifier

        feats = [c for c in frame.columns if c not in ("unit_id", "body_id")]
        cats = [c for c in feats if isinstance(frame[c].dtype, pd.CategoricalDtype)]

        def matrix(df):
            return np.column_stack(
                [df[c].cat.codes.to_numpy() if c in cats else df[c].to_numpy(float) for c in feats]
            )

        Xh, Xf = matrix(history), matrix(frame)
        yh, wh = history["nonconforming"].to_numpy(), 1 / history["inclusion_probability"].to_numpy()
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)  # the same thread budget as the engine (RiskModel(n_threads=1))
        t0 = time.perf_counter()
        m = HistGradientBoostingClassifier(
            max_iter=60,
            learning_rate=0.15,
            max_leaf_nodes=15,
            max_bins=63,
            early_stopping=False,
            categorical_features=[c in cats for c in feats],
            random_state=0,
        )
        m.fit(Xh, yh, sample_weight=wh)
        p = m.predict_proba(Xf)[:, 1]
        rng = np.random.default_rng(1)
        rng.choice(len(p), 2000, replace=False, p=p / p.sum())
        t1 = time.perf_counter()
        rng.choice(len(p), 2000, replace=False)
        t2 = time.perf_counter()
        out.update(seconds=t1 - t0, uniform_seconds=t2 - t1)
    out["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run_b4(units: int, rows: int) -> None:
    def child(kind):
        proc = subprocess.run(
            [sys.executable, __file__, "--b4-child", kind, "--units", str(units), "--rows", str(rows)],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(proc.stdout.strip().splitlines()[-1])

    eng = child("engine")
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    base = child("baseline")
    tag = f"B4 ({rows:,} history rows, {units:,}-unit frame, n = 2,000)"
    emit(
        f"{tag} wall: train + score + pi + draw (target <= 10 s) vs bare sklearn",
        eng["seconds"],
        base["seconds"],
        eng["seconds"] / base["seconds"],
        "s",
    )
    emit(
        f"{tag} of which model fit (incl. time split, calibration, validation)",
        eng["fit_seconds"],
        None,
        None,
        "s",
    )
    emit(f"{tag} of which scoring, reasons, pi, draw, frame hash", eng["draw_seconds"], None, None, "s")
    emit(
        f"{tag} vs a bare numpy uniform draw of 2,000",
        eng["seconds"],
        base["uniform_seconds"],
        eng["seconds"] / base["uniform_seconds"],
        "s",
    )
    emit(
        f"{tag} peak memory incl. data generation (target <= 2048 MiB) vs bare sklearn",
        eng["maxrss_mib"],
        base["maxrss_mib"],
        eng["maxrss_mib"] / base["maxrss_mib"],
        "MiB",
    )
    emit(
        f"{tag} peak memory, as the parent sees its child (RUSAGE_CHILDREN)", peak_children, None, None, "MiB"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fast smoke: fewer redraws, smaller B4 frame")
    ap.add_argument("--b4-only", action="store_true", help="only B4")
    ap.add_argument("--skip-b4", action="store_true", help="only the yield and honesty scenarios")
    ap.add_argument("--b4-child", choices=("engine", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--units", type=int, default=1_000_000, help=argparse.SUPPRESS)
    ap.add_argument("--rows", type=int, default=200_000, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.b4_child:
        b4_child(a.b4_child, a.units, a.rows)
        return 0
    pops, redraws = (2, 25) if a.quick else (10, 100)
    t = time.perf_counter()
    if not a.b4_only:
        report("", scenario(pops, redraws, N=40_000, n=2_000, useless=False))
        report(
            f"weak model (signal {WEAK_SIGNAL}: true AUROC ~0.63)",
            scenario(pops, redraws, N=40_000, n=2_000, useless=False, signal=WEAK_SIGNAL),
        )
        report("useless model", scenario(pops, redraws, N=40_000, n=2_000, useless=True))
        emit("yield and honesty bench wall time", time.perf_counter() - t, None, None, "s")
    if a.skip_b4:
        return 0
    emit(
        "default design: uniform share / risk exponent",
        DEFAULT_UNIFORM_SHARE,
        None,
        DEFAULT_RISK_EXPONENT,
        "params",
    )
    if a.quick:
        run_b4(100_000, 20_000)
    else:
        run_b4(1_000_000, 200_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
