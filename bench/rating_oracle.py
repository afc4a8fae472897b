"""Noise ceiling of the rating benchmark: what the best estimator could do with the same events.

The oracle knows the simulator's true model (bench/rating_sim.py): every coefficient, the
cut points of the ordinal outcomes, every checker's strictness, who was on each case and
which body each person belongs to. It sees the same outcomes the engine sees (recorded in
the engine's 36-month window up to the rated month, no decay: the world does not change)
and estimates every latent quality jointly as the posterior mode (MAP) of the true model,
with the true population priors (staff take after their body). Its Spearman correlation
with the true quality is the ceiling an engine can hope for on these events; no engine
that sees only the events (and not the coefficients) should beat it by more than noise.

It reads the case table, so it knows every case's full roster: the role of each assessor
(lead or member) and, under the spec's holding (bench/rating_sim.py), the consulting side
and the members of cases whose only events are filings (which are held against the body
and the lead alone). That extra knowledge only enters through the complaint likelihood
and the lead/member weights, and makes the ceiling, if anything, a little generous.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import expit, log_expit

CONF_CUTS = np.array([1.0, 2.3, 3.4])
SPOT_CUTS = np.array([0.5, 2.2])


def _ordinal_nll(eta, y, cuts):
    """-log P(y | eta) of the ordinal logistic outcome and its derivative in eta."""
    hi = np.append(cuts, np.inf)[y] - eta
    lo = np.insert(cuts, 0, -np.inf)[y] - eta
    fh = np.where(np.isfinite(hi), expit(hi), 1.0)
    fl = np.where(np.isfinite(lo), expit(lo), 0.0)
    p = np.maximum(fh - fl, 1e-300)
    dh = fh * (1 - fh)
    dl = fl * (1 - fl)
    return -np.log(p), (dh - dl) / p  # d(-log p)/d eta = (f(hi) - f(lo)) / p


def oracle_quality(cases: pd.DataFrame, world: dict, period: int, window: int = 36) -> dict:
    """MAP estimate of every latent quality from the outcomes recorded in months
    (period - window, period]; returns {subject_type: array of estimates}."""
    q = world["quality"]
    nb, nc = len(q["assessment_body"]), len(q["consulting_body"])
    na, nk = len(q["assessor"]), len(q["consultant"])
    ob, oad, oc, oa, ok_ = 0, nb, 2 * nb, 2 * nb + nc, 2 * nb + nc + na
    nvar = ok_ + nk
    lo_m = period - window + 1

    body, lead = cases["body"].to_numpy(), cases["lead"].to_numpy()
    mem = cases[["mem0", "mem1"]].to_numpy()
    cb, cons = cases["cb"].to_numpy(), cases["cons"].to_numpy()
    n_mem = (mem >= 0).sum(1)
    rows, cols, vals = [], [], []
    idx = np.arange(len(cases))

    def add(r, c, v):
        rows.append(r)
        cols.append(c)
        vals.append(v)

    add(idx, ob + body, np.full(len(idx), 0.35))
    add(idx, oa + lead, np.where(n_mem > 0, 0.45, 0.65))
    for j in range(2):
        s = mem[:, j] >= 0
        add(idx[s], oa + mem[s, j], 0.2 / n_mem[s])
    s = cb >= 0
    ce = world.get("consult_effect", 0.5)
    add(idx[s], oc + cb[s], np.full(s.sum(), 0.7 * ce))
    add(idx[s], ok_ + cons[s], np.full(s.sum(), 0.3 * ce))
    case_q = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(cases), nvar)
    )
    month = cases["month"].to_numpy()
    # filing: logistic in the body's office discipline and the lead's quality
    f_sel = (month >= lo_m) & (month <= period)
    fr = np.flatnonzero(f_sel)
    filing = sparse.csr_matrix(
        (
            np.concatenate([np.full(len(fr), -0.9), np.full(len(fr), -0.2)]),
            (np.concatenate([np.arange(len(fr))] * 2), np.concatenate([oad + body[fr], oa + lead[fr]])),
        ),
        shape=(len(fr), nvar),
    )
    late = cases["late"].to_numpy()[fr].astype(float)
    # complaints: cases old enough for a complaint to have been recorded (delay <= 6)
    c_sel = (month >= lo_m) & (month <= period - 6)
    cm = cases["complaint_month"].to_numpy()
    comp_y = ((cm >= 0) & (cm <= period))[c_sel].astype(float)
    comp_x = case_q[np.flatnonzero(c_sel)]
    checks = []
    for kind, cuts in (("conf", CONF_CUTS), ("spot", SPOT_CUTS)):
        m = cases[f"{kind}_month"].to_numpy()
        sel = (cases[f"{kind}_y"].to_numpy() >= 0) & (m >= lo_m) & (m <= period)
        r = np.flatnonzero(sel)
        checks.append(
            (
                case_q[r],
                cases[f"{kind}_y"].to_numpy()[r],
                world["strict"][cases[f"{kind}_chk"].to_numpy()[r]],
                cuts,
            )
        )
    boa, cok = world["body_of_assessor"], world["cb_of_consultant"]

    def f(theta):
        g = np.zeros(nvar)
        qb, adm, qc = theta[ob:oad], theta[oad:oc], theta[oc:oa]
        qa, qk = theta[oa:ok_], theta[ok_:]
        # priors
        ra, rk, rd = qa - 0.5 * qb[boa], qk - 0.5 * qc[cok], adm - 0.5 * qb
        nll = 0.5 * (qb @ qb + qc @ qc) + 0.5 * (ra @ ra + rk @ rk + rd @ rd) / 0.75
        g[ob:oad] += qb - 0.5 * np.bincount(boa, weights=ra, minlength=nb) / 0.75 - 0.5 * rd / 0.75
        g[oad:oc] += rd / 0.75
        g[oc:oa] += qc - 0.5 * np.bincount(cok, weights=rk, minlength=nc) / 0.75
        g[oa:ok_] += ra / 0.75
        g[ok_:] += rk / 0.75
        # filing
        eta = -2.3 + filing @ theta
        nll += -(late * log_expit(eta) + (1 - late) * log_expit(-eta)).sum()
        g += filing.T @ (expit(eta) - late)
        # complaints
        eta = -4.6 - comp_x @ theta
        nll += -(comp_y * log_expit(eta) + (1 - comp_y) * log_expit(-eta)).sum()
        g += -(comp_x.T @ (expit(eta) - comp_y))
        for x, y, st, cuts in checks:
            eta = -1.1 * (x @ theta) + st
            v, d = _ordinal_nll(eta, y, cuts)
            nll += v.sum()
            g += -1.1 * (x.T @ d)
        return nll, g

    res = minimize(f, np.zeros(nvar), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    t = res.x
    return {
        "assessment_body": t[ob:oad],
        "consulting_body": t[oc:oa],
        "assessor": t[oa:ok_],
        "consultant": t[ok_:],
    }


def oracle_frame(cases, world, period: int, window: int = 36) -> pd.DataFrame:
    """The oracle's estimates as (subject_id, subject_type, oracle) rows, ids as in the sim."""
    est = oracle_quality(cases, world, period, window)
    prefix = {"assessment_body": "AB", "consulting_body": "CB", "assessor": "AS", "consultant": "CS"}
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "subject_id": np.char.add(prefix[t], np.char.zfill(np.arange(len(v)).astype(str), 5)),
                    "subject_type": t,
                    "oracle": v,
                }
            )
            for t, v in est.items()
        ],
        ignore_index=True,
    )
