"""A simulated IIMS market whose truth is known, for the rating benchmark.

Every subject has a fixed latent quality q ~ N(0, 1) (higher is better); staff take after
their body. Each assessment (a case) is filed by an assessment body with a lead and 0-2
members, optionally prepared by a consulting body and one of its consultants. Outcomes:

- filing on time / late: office discipline, correlated 0.5 with the body's quality
  (held, like every outcome, against everyone named on the record);
- confirmation audit for top grades, and spot checks of a sample: an ordinal outcome
  driven by the quality of the case (body, lead, members, consulting side) and by the
  strictness of the checker who did it (held against every subject of the case);
- substantiated complaints (body and lead) and rare sanctions after a major finding.

Volumes are heavy-tailed (lognormal), so many subjects are small; checkers work mostly
in their own region, so a strict region is a bias, not just noise. ``simulate`` returns
the events (the rating engine's input) and the truth per subject.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_REGIONS = 6


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _ordinal(rng, latent, cuts):
    """Ordinal outcome 0..len(cuts) from a logistic latent variable and increasing cuts."""
    u = latent + rng.logistic(size=latent.shape)
    return np.searchsorted(np.asarray(cuts), u)


def simulate(
    n_events: int = 1_000_000,
    *,
    n_bodies: int = 200,
    n_consulting: int = 2000,
    n_assessors: int = 6000,
    n_consultants: int = 14000,
    n_checkers: int = 240,
    months: int = 60,
    start: str = "2020-01",
    seed: int = 0,
    with_cases: bool = False,
):
    """Events and truth; with ``with_cases`` also the case table (who was on each case, its
    outcomes and the months they were recorded, checker strictness), which only the oracle
    of the benchmark may use."""
    rng = np.random.default_rng(seed)
    # --- subjects -----------------------------------------------------------------
    qb = rng.normal(size=n_bodies)
    vb = rng.lognormal(0.0, 1.1, n_bodies)
    region_b = rng.integers(0, N_REGIONS, n_bodies)
    qc = rng.normal(size=n_consulting)
    vc = rng.lognormal(0.0, 1.3, n_consulting)
    region_c = rng.integers(0, N_REGIONS, n_consulting)
    # staff: body b gets a share of the assessors growing with its volume (at least 3)
    share = vb**0.7 / (vb**0.7).sum()
    na = np.maximum(3, np.round(share * n_assessors)).astype(int)
    body_of_a = np.repeat(np.arange(n_bodies), na)
    qa = 0.5 * qb[body_of_a] + np.sqrt(0.75) * rng.normal(size=len(body_of_a))
    start_a = np.concatenate([[0], np.cumsum(na)[:-1]])
    sharec = vc**0.7 / (vc**0.7).sum()
    nk = np.maximum(1, np.round(sharec * n_consultants)).astype(int)
    cb_of_k = np.repeat(np.arange(n_consulting), nk)
    qk = 0.5 * qc[cb_of_k] + np.sqrt(0.75) * rng.normal(size=len(cb_of_k))
    start_k = np.concatenate([[0], np.cumsum(nk)[:-1]])
    strict = (
        rng.normal(0.0, 0.5, n_checkers)
        + np.repeat(rng.normal(0.0, 0.3, N_REGIONS), -(-n_checkers // N_REGIONS))[:n_checkers]
    )
    region_chk = np.repeat(np.arange(N_REGIONS), -(-n_checkers // N_REGIONS))[:n_checkers]

    # --- cases ----------------------------------------------------------------------
    n_cases = int(n_events / 5.7)
    body = rng.choice(n_bodies, n_cases, p=vb / vb.sum())
    month = rng.integers(0, months, n_cases)
    lead = start_a[body] + (rng.random(n_cases) * na[body]).astype(int)
    n_mem = rng.integers(0, 3, n_cases)
    mem = start_a[body][:, None] + (rng.random((n_cases, 2)) * na[body][:, None]).astype(int)
    has_mem = np.arange(2)[None, :] < n_mem[:, None]
    # consulting side: 70 % of cases, mostly from the body's region
    has_cb = rng.random(n_cases) < 0.7
    same_region = rng.random(n_cases) < 0.8
    cb = rng.choice(n_consulting, n_cases, p=vc / vc.sum())
    pick = np.where(same_region, rng.random(n_cases), 0)
    # re-draw the consulting body among those of the body's region for "same_region" cases
    for r in range(N_REGIONS):
        pool = np.flatnonzero(region_c == r)
        sel = has_cb & same_region & (region_b[body] == r)
        p = vc[pool] / vc[pool].sum()
        cb[sel] = pool[np.searchsorted(np.cumsum(p), pick[sel] * 0.999999)]
    cons = start_k[cb] + (rng.random(n_cases) * nk[cb]).astype(int)
    cb = np.where(has_cb, cb, -1)
    cons = np.where(has_cb, cons, -1)

    qmem = np.where(has_mem, qa[mem], 0.0).sum(1) / np.maximum(n_mem, 1)
    # the lead writes the report: the team matters more than the body's name
    assess_q = 0.35 * qb[body] + 0.45 * qa[lead] + 0.20 * np.where(n_mem > 0, qmem, qa[lead])
    consult_q = np.where(has_cb, 0.7 * qc[np.maximum(cb, 0)] + 0.3 * qk[np.maximum(cons, 0)], 0.0)
    case_q = assess_q + 0.5 * consult_q

    def checker_for(mask):
        local = rng.random(mask.sum()) < 0.7
        reg = region_b[body[mask]]
        by_region = [np.flatnonzero(region_chk == r) for r in range(N_REGIONS)]
        out = rng.integers(0, n_checkers, mask.sum())
        for r in range(N_REGIONS):
            s = local & (reg == r)
            out[s] = rng.choice(by_region[r], s.sum())
        return out

    # filing on time is office discipline: related to quality, not the same thing
    admin = 0.5 * qb + np.sqrt(0.75) * rng.normal(size=n_bodies)
    late = rng.random(n_cases) < _sigmoid(-2.3 - 0.9 * admin[body] - 0.2 * qa[lead])
    filing = np.where(late, "filing_late", "filing_on_time")
    conf = rng.random(n_cases) < 0.25
    spot = rng.random(n_cases) < 0.09
    cchk = checker_for(conf)
    conf_out = _ordinal(rng, -1.1 * case_q[conf] + strict[cchk], [1.0, 2.3, 3.4])
    conf_names = np.array(
        [
            "confirmation_confirmed",
            "confirmation_returned",
            "confirmation_grade_adjusted",
            "confirmation_rejected",
        ]
    )
    schk = checker_for(spot)
    spot_out = _ordinal(rng, -1.1 * case_q[spot] + strict[schk], [0.5, 2.2])
    spot_names = np.array(["spotcheck_conforming", "spotcheck_minor", "spotcheck_major"])
    complaint = rng.random(n_cases) < _sigmoid(-4.6 - 1.0 * case_q)
    spot_idx = np.flatnonzero(spot)
    major = spot_idx[spot_out == 2]
    sanction_lead = major[rng.random(len(major)) < 0.08]
    sanction_body = major[rng.random(len(major)) < 0.01]

    def sid(kind, idx):
        prefix = {"assessment_body": "AB", "consulting_body": "CB", "assessor": "AS", "consultant": "CS"}[
            kind
        ]
        return np.char.add(prefix, np.char.zfill(idx.astype(str), 5))

    frames = []

    def emit(cases, kind, who, event, delay, checker=None):
        ok = who >= 0
        cases, who = cases[ok], who[ok]
        ev = event[ok] if isinstance(event, np.ndarray) else np.full(len(cases), event)
        d = delay[ok] if isinstance(delay, np.ndarray) else np.full(len(cases), delay)
        frames.append(
            pd.DataFrame(
                {
                    "case": cases,
                    "subject_type": kind,
                    "who": who,
                    "event": ev,
                    "month": month[cases] + d,
                    "checker": checker[ok] if checker is not None else -1,
                }
            )
        )

    allc = np.arange(n_cases)
    delays: list = []
    # a filing is held against everyone named on the record
    emit(allc, "assessment_body", body, filing, 0)
    emit(allc, "assessor", lead, filing, 0)
    for j in range(2):
        emit(allc, "assessor", np.where(has_mem[:, j], mem[:, j], -1), filing, 0)
    emit(allc, "consulting_body", cb, filing, 0)
    emit(allc, "consultant", cons, filing, 0)
    for cases, outc, names, chk, lo, hi in (
        (np.flatnonzero(conf), conf_out, conf_names, cchk, 0, 2),
        (spot_idx, spot_out, spot_names, schk, 3, 13),
    ):
        ev = names[outc]
        delay = rng.integers(lo, hi, len(cases))
        delays.append(delay)
        emit(cases, "assessment_body", body[cases], ev, delay, chk)
        emit(cases, "assessor", lead[cases], ev, delay, chk)
        for j in range(2):
            emit(cases, "assessor", np.where(has_mem[cases, j], mem[cases, j], -1), ev, delay, chk)
        emit(cases, "consulting_body", cb[cases], ev, delay, chk)
        emit(cases, "consultant", cons[cases], ev, delay, chk)
    conf_delay, spot_delay = delays
    comp = np.flatnonzero(complaint)
    cdelay = rng.integers(1, 7, len(comp))
    emit(comp, "assessment_body", body[comp], "complaint_substantiated", cdelay)
    emit(comp, "assessor", lead[comp], "complaint_substantiated", cdelay)
    emit(comp, "consulting_body", cb[comp], "complaint_substantiated", cdelay)
    emit(sanction_lead, "assessor", lead[sanction_lead], "sanction", 14)
    emit(sanction_body, "assessment_body", body[sanction_body], "sanction", 14)
    ev = pd.concat(frames, ignore_index=True)
    ev = ev[ev["month"] < months]
    if len(ev) > n_events:
        ev = ev.iloc[np.sort(rng.choice(len(ev), n_events, replace=False))]
    # ids and dates
    p0 = pd.Period(start, "M")
    first = pd.period_range(p0, periods=months, freq="M").to_timestamp().to_numpy()
    day = first[ev["month"].to_numpy()] + rng.integers(0, 28, len(ev)).astype("timedelta64[D]")
    ids = np.empty(len(ev), dtype=object)
    for kind in ("assessment_body", "consulting_body", "assessor", "consultant"):
        m = (ev["subject_type"] == kind).to_numpy()
        ids[m] = sid(kind, ev["who"].to_numpy()[m])
    chk = ev["checker"].to_numpy()
    events = pd.DataFrame(
        {
            "subject_id": ids,
            "subject_type": ev["subject_type"].to_numpy(),
            "event_date": pd.DatetimeIndex(day).strftime("%Y-%m-%d"),
            "event": ev["event"].to_numpy(),
            "checker_id": np.where(
                chk >= 0, np.char.add("IN", np.char.zfill(np.maximum(chk, 0).astype(str), 4)), None
            ),
            "case_id": np.char.add("C", ev["case"].to_numpy().astype(str)),
        }
    )
    events = events.sort_values(
        ["event_date", "case_id", "subject_type", "subject_id"], kind="stable"
    ).reset_index(drop=True)
    truth = pd.concat(
        [
            pd.DataFrame(
                {
                    "subject_id": sid("assessment_body", np.arange(n_bodies)),
                    "subject_type": "assessment_body",
                    "quality": qb,
                }
            ),
            pd.DataFrame(
                {
                    "subject_id": sid("consulting_body", np.arange(n_consulting)),
                    "subject_type": "consulting_body",
                    "quality": qc,
                }
            ),
            pd.DataFrame(
                {"subject_id": sid("assessor", np.arange(len(qa))), "subject_type": "assessor", "quality": qa}
            ),
            pd.DataFrame(
                {
                    "subject_id": sid("consultant", np.arange(len(qk))),
                    "subject_type": "consultant",
                    "quality": qk,
                }
            ),
        ],
        ignore_index=True,
    )
    truth.attrs["checker_strictness"] = pd.Series(
        strict, index=np.char.add("IN", np.char.zfill(np.arange(n_checkers).astype(str), 4))
    )
    if not with_cases:
        return events, truth
    full = np.full(n_cases, -1)
    conf_y, conf_k, spot_y, spot_k = full.copy(), full.copy(), full.copy(), full.copy()
    conf_y[conf], conf_k[conf], spot_y[spot], spot_k[spot] = conf_out, cchk, spot_out, schk
    comp_m = full.copy()
    comp_m[comp] = month[comp] + cdelay
    conf_m, spot_m = full.copy(), full.copy()
    conf_m[np.flatnonzero(conf)] = month[conf] + conf_delay
    spot_m[spot_idx] = month[spot_idx] + spot_delay
    cases = pd.DataFrame(
        {
            "body": body,
            "lead": lead,
            "mem0": np.where(has_mem[:, 0], mem[:, 0], -1),
            "mem1": np.where(has_mem[:, 1], mem[:, 1], -1),
            "cb": cb,
            "cons": cons,
            "month": month,
            "late": late,
            "conf_y": conf_y,
            "conf_chk": conf_k,
            "conf_month": conf_m,
            "spot_y": spot_y,
            "spot_chk": spot_k,
            "spot_month": spot_m,
            "complaint_month": comp_m,
        }
    )
    world = {
        "strict": strict,
        "body_of_assessor": body_of_a,
        "cb_of_consultant": cb_of_k,
        "quality": {"assessment_body": qb, "consulting_body": qc, "assessor": qa, "consultant": qk},
        "admin": admin,
    }
    return events, truth, cases, world


def period_of(start: str, month: int) -> str:
    return str(pd.Period(start, "M") + month)
