"""A simulated IIMS market whose truth is known, for the rating benchmark.

Every subject has a fixed latent quality q ~ N(0, 1) (higher is better); staff take after
their body. Each assessment (a case) is filed by an assessment body with a lead and 0-2
members, optionally prepared by a consulting body and one of its consultants. Outcomes:

- filing on time / late: office discipline, correlated 0.5 with the body's quality;
  filing is the assessment body's job, so it is held against the body and the lead only;
- confirmation audit for top grades, and spot checks of a sample: an ordinal outcome
  driven by the quality of the case (body, lead, members, consulting side) and by the
  strictness of the checker who did it, held (spec/rating.md: "Each event is held
  against every subject it concerns") against the assessment side (body, lead,
  members) and, where it is about the enterprise's real capability, the consulting
  side: every spot-check outcome, and a confirmation's decision on the grade
  (confirmed, grade adjusted, rejected), not a return for correction;
- substantiated complaints (body, lead, consulting body) and rare sanctions after a
  major finding.

``holding="legacy"`` reproduces the events of the first version, which held every
outcome (filings and returns included) against everyone named on the record, for
before/after comparisons. Scale: ``n_events`` samples the events down to that number
(the B5 scale, 1,000,000 events); ``n_cases`` sets the number of assessments instead
(the market of spec/performance.md: 1,000,000 assessments over 5 years), with
``counts=True`` returning them aggregated per (subject, month, event, checker, body of
the person's case) as auditbo's SQL does, so that millions of events stay small.

Volumes are heavy-tailed (lognormal), so many subjects are small; checkers work mostly
in their own region, so a strict region is a bias, not just noise. ``simulate`` returns
the events (the rating engine's input) and the truth per subject.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rating.config import EVENT_CODE, EVENTS, SUBJECT_TYPES

N_REGIONS = 6
TYPES = SUBJECT_TYPES  # the engine's vocabulary: one definition (rating/config.py)
TYPE_CODE = {t: i for i, t in enumerate(TYPES)}
EVENT_NAMES = EVENTS
CONF_CODES = np.array([EVENT_CODE[e] for e in EVENT_NAMES[2:6]])
SPOT_CODES = np.array([EVENT_CODE[e] for e in EVENT_NAMES[6:9]])
# events per assessment under each holding (the B5-scale scenario asks for a number of
# events; this turns it into a number of assessments before the sample down to it)
EVENTS_PER_CASE = {"spec": 3.3, "legacy": 5.7}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _ordinal(rng, latent, cuts):
    """Ordinal outcome 0..len(cuts) from a logistic latent variable and increasing cuts."""
    u = latent + rng.logistic(size=latent.shape)
    return np.searchsorted(np.asarray(cuts), u)


def simulate(
    n_events: int | None = 1_000_000,
    *,
    n_cases: int | None = None,
    holding: str = "spec",
    counts: bool = False,
    n_bodies: int = 200,
    n_consulting: int = 2000,
    n_assessors: int = 6000,
    n_consultants: int = 14000,
    n_checkers: int = 240,
    months: int = 60,
    start: str = "2020-01",
    seed: int = 0,
    with_cases: bool = False,
    strict_sd: float = 0.5,
    strict_region_sd: float = 0.3,
    consult_effect: float = 0.5,
    body_volume_sd: float = 1.1,
    consulting_volume_sd: float = 1.3,
):
    """Events and truth; with ``with_cases`` also the case table (who was on each case, its
    outcomes and the months they were recorded, checker strictness), which only the oracle
    of the benchmark may use.

    The world's axes (bench/rating_grid.py varies them): ``strict_sd`` and
    ``strict_region_sd``, the spread of the checkers' strictness (each checker's own and
    its region's, on the outcome's logistic scale); ``consult_effect``, how much the
    consulting side's quality moves a case's outcome (the assessment side's weighs 1);
    ``body_volume_sd`` and ``consulting_volume_sd``, the spread of the bodies' log volumes
    (0: every body files as much as every other)."""
    rng = np.random.default_rng(seed)
    # --- subjects -----------------------------------------------------------------
    qb = rng.normal(size=n_bodies)
    vb = rng.lognormal(0.0, body_volume_sd, n_bodies)
    region_b = rng.integers(0, N_REGIONS, n_bodies)
    qc = rng.normal(size=n_consulting)
    vc = rng.lognormal(0.0, consulting_volume_sd, n_consulting)
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
        rng.normal(0.0, strict_sd, n_checkers)
        + np.repeat(rng.normal(0.0, strict_region_sd, N_REGIONS), -(-n_checkers // N_REGIONS))[:n_checkers]
    )
    region_chk = np.repeat(np.arange(N_REGIONS), -(-n_checkers // N_REGIONS))[:n_checkers]

    # --- cases ----------------------------------------------------------------------
    if holding not in EVENTS_PER_CASE:
        raise ValueError(f"holding must be one of {sorted(EVENTS_PER_CASE)}")
    if n_cases is None:
        n_cases = int(n_events / EVENTS_PER_CASE[holding])
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
    case_q = assess_q + consult_effect * consult_q

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
    conf = rng.random(n_cases) < 0.25
    spot = rng.random(n_cases) < 0.09
    cchk = checker_for(conf)
    conf_out = _ordinal(rng, -1.1 * case_q[conf] + strict[cchk], [1.0, 2.3, 3.4])
    schk = checker_for(spot)
    spot_out = _ordinal(rng, -1.1 * case_q[spot] + strict[schk], [0.5, 2.2])
    complaint = rng.random(n_cases) < _sigmoid(-4.6 - 1.0 * case_q)
    spot_idx = np.flatnonzero(spot)
    major = spot_idx[spot_out == 2]
    sanction_lead = major[rng.random(len(major)) < 0.08]
    sanction_body = major[rng.random(len(major)) < 0.01]

    def sid(kind, idx):
        prefix = {"assessment_body": "AB", "consulting_body": "CB", "assessor": "AS", "consultant": "CS"}[
            kind
        ]
        return np.char.add(prefix, np.char.zfill(np.asarray(idx).astype(str), 5))

    # events as integer arrays (subject type and event as codes): the market scale is
    # millions of events, so nothing is a string until the end
    parts: dict = {k: [] for k in ("case", "stype", "who", "event", "month", "checker")}

    def emit(cases, kind, who, event, delay, checker=None):
        ok = who >= 0
        cases, who = cases[ok], who[ok]
        k = len(cases)
        parts["case"].append(cases.astype(np.int32))
        parts["stype"].append(np.full(k, TYPE_CODE[kind], dtype=np.int8))
        parts["who"].append(who.astype(np.int32))
        ev = event[ok] if isinstance(event, np.ndarray) else np.full(k, EVENT_CODE[event])
        parts["event"].append(ev.astype(np.int8))
        d = delay[ok] if isinstance(delay, np.ndarray) else np.full(k, delay)
        parts["month"].append((month[cases] + d).astype(np.int16))
        parts["checker"].append(
            checker[ok].astype(np.int16) if checker is not None else np.full(k, -1, dtype=np.int16)
        )

    allc = np.arange(n_cases)
    delays: list = []
    legacy = holding == "legacy"
    # filing is the assessment body's job (its clerk files, on the lead's report): held
    # against the body and the lead, never the members or the consulting side. The
    # "legacy" holding (before the fix) held it against everyone named on the record.
    filing = np.where(late, EVENT_CODE["filing_late"], EVENT_CODE["filing_on_time"])
    emit(allc, "assessment_body", body, filing, 0)
    emit(allc, "assessor", lead, filing, 0)
    if legacy:
        for j in range(2):
            emit(allc, "assessor", np.where(has_mem[:, j], mem[:, j], -1), filing, 0)
        emit(allc, "consulting_body", cb, filing, 0)
        emit(allc, "consultant", cons, filing, 0)
    returned = EVENT_CODE["confirmation_returned"]
    for cases, outc, codes_, chk, lo, hi in (
        (np.flatnonzero(conf), conf_out, CONF_CODES, cchk, 0, 2),
        (spot_idx, spot_out, SPOT_CODES, schk, 3, 13),
    ):
        ev = codes_[outc]
        delay = rng.integers(lo, hi, len(cases))
        delays.append(delay)
        # a check's outcome is held against the assessment side: body, lead, members
        emit(cases, "assessment_body", body[cases], ev, delay, chk)
        emit(cases, "assessor", lead[cases], ev, delay, chk)
        for j in range(2):
            emit(cases, "assessor", np.where(has_mem[cases, j], mem[cases, j], -1), ev, delay, chk)
        # ... and against the consulting side where it is about the enterprise's real
        # capability: every spot-check outcome and a confirmation's decision on the grade
        # (confirmed, grade adjusted, rejected); a confirmation *returned* for correction
        # is about the body's paperwork, not the enterprise (the legacy holding: all)
        about = np.ones(len(cases), dtype=bool) if legacy else ev != returned
        emit(cases, "consulting_body", np.where(about, cb[cases], -1), ev, delay, chk)
        emit(cases, "consultant", np.where(about, cons[cases], -1), ev, delay, chk)
    conf_delay, spot_delay = delays
    comp = np.flatnonzero(complaint)
    cdelay = rng.integers(1, 7, len(comp))
    emit(comp, "assessment_body", body[comp], "complaint_substantiated", cdelay)
    emit(comp, "assessor", lead[comp], "complaint_substantiated", cdelay)
    emit(comp, "consulting_body", cb[comp], "complaint_substantiated", cdelay)
    emit(sanction_lead, "assessor", lead[sanction_lead], "sanction", 14)
    emit(sanction_body, "assessment_body", body[sanction_body], "sanction", 14)
    ev = {k: np.concatenate(v) for k, v in parts.items()}
    keep = ev["month"] < months
    if n_events is not None and keep.sum() > n_events:
        keep = np.sort(rng.choice(np.flatnonzero(keep), n_events, replace=False))
    ev = {k: v[keep] for k, v in ev.items()}
    type_names = np.asarray(TYPES, dtype=object)
    event_names = np.asarray(EVENT_NAMES, dtype=object)
    # the body a person's event is about (an assessor's assessment body, a consultant's
    # consulting body on the same case): what auditbo reads with the assessment
    link = np.full(len(ev["case"]), -1, dtype=np.int32)
    is_a = ev["stype"] == TYPE_CODE["assessor"]
    is_k = ev["stype"] == TYPE_CODE["consultant"]
    link[is_a] = body[ev["case"][is_a]]
    link[is_k] = cb[ev["case"][is_k]]
    if counts:
        events = _aggregate(ev, link, start, months, n_checkers, type_names, event_names, sid)
    else:
        p0 = pd.Period(start, "M")
        first = pd.period_range(p0, periods=months, freq="M").to_timestamp().to_numpy()
        day = first[ev["month"]] + rng.integers(0, 28, len(ev["month"])).astype("timedelta64[D]")
        ids = np.empty(len(ev["case"]), dtype=object)
        for kind in TYPES:
            m = ev["stype"] == TYPE_CODE[kind]
            ids[m] = sid(kind, ev["who"][m])
        chk = ev["checker"]
        events = pd.DataFrame(
            {
                "subject_id": ids,
                "subject_type": type_names[ev["stype"]],
                "event_date": pd.DatetimeIndex(day).strftime("%Y-%m-%d"),
                "event": event_names[ev["event"]],
                "checker_id": np.where(
                    chk >= 0, np.char.add("IN", np.char.zfill(np.maximum(chk, 0).astype(str), 4)), None
                ),
                "case_id": np.char.add("C", ev["case"].astype(str)),
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
        "consult_effect": consult_effect,
    }
    return events, truth, cases, world


def _aggregate(ev, link, start, months, n_checkers, type_names, event_names, sid) -> pd.DataFrame:
    """Counts per (subject, month, event, checker, body of the person's case), the input
    auditbo's monthly job builds with a SQL GROUP BY (bench/rating_b5.py): the engine's
    ``encode`` takes them as they are. Text columns are categoricals (memory)."""
    key = ev["stype"].astype(np.int64)
    for col, width in ((ev["who"], 1 << 16), (ev["month"], 1 << 8), (ev["event"], 1 << 4)):
        key = key * width + col
    key = key * (1 << 10) + (ev["checker"] + 1)
    key = key * (1 << 12) + (link + 1)
    uk, n = np.unique(key, return_counts=True)
    lk = (uk % (1 << 12)) - 1
    uk //= 1 << 12
    chk = (uk % (1 << 10)) - 1
    uk //= 1 << 10
    event = uk % (1 << 4)
    uk //= 1 << 4
    month = uk % (1 << 8)
    uk //= 1 << 8
    who = uk % (1 << 16)
    stype = uk // (1 << 16)
    # subject ids: one categorical over all subjects seen
    subj = stype * (1 << 16) + who
    us, inv = np.unique(subj, return_inverse=True)
    names = np.empty(len(us), dtype=object)
    for t, kind in enumerate(type_names):
        m = us // (1 << 16) == t
        names[m] = sid(kind, us[m] % (1 << 16))
    body_type = np.where(type_names[stype] == "assessor", 0, 1)  # the linked body's type
    bkey = np.where(lk >= 0, body_type * (1 << 16) + lk, -1)
    ub, binv = np.unique(bkey, return_inverse=True)
    bnames = np.empty(len(ub), dtype=object)
    for t, kind in ((0, "assessment_body"), (1, "consulting_body")):
        m = (ub >= 0) & (ub // (1 << 16) == t)
        bnames[m] = sid(kind, ub[m] % (1 << 16))
    bcodes = np.where(lk >= 0, binv - int((ub < 0).sum()), -1)
    bnames = bnames[ub >= 0]
    mnames = np.array([str(pd.Period(start, "M") + i) for i in range(months)], dtype=object)
    cnames = np.char.add("IN", np.char.zfill(np.arange(n_checkers).astype(str), 4)).astype(object)
    return pd.DataFrame(
        {
            "subject_id": pd.Categorical.from_codes(inv, pd.Index(names)),
            "subject_type": pd.Categorical.from_codes(stype, pd.Index(type_names)),
            "month": pd.Categorical.from_codes(month, pd.Index(mnames)),
            "event": pd.Categorical.from_codes(event, pd.Index(event_names)),
            "checker_id": pd.Categorical.from_codes(chk, pd.Index(cnames)),
            "body_id": pd.Categorical.from_codes(bcodes, pd.Index(bnames)),
            "n": n,
        }
    )


def period_of(start: str, month: int) -> str:
    return str(pd.Period(start, "M") + month)
