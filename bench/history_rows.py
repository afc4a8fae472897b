"""Rows of the benchmark history, built with numpy (no database): see gen_history.py."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

SEED = 20261126
GRADE_P = np.array([0.08, 0.37, 0.40, 0.12, 0.03])  # A .. AAAAA, as in the demo market
SECTIONS = ["C", "I", "D", "E", "F", "G", "B", "A", "M"]
SECTION_P = np.array([0.62, 0.1, 0.06, 0.05, 0.05, 0.05, 0.03, 0.02, 0.02])
N_SUPERVISORS = 10
BIG_TABLES = ["enterprises", "assessments", "assessment_team", "assessment_consultants", "assessment_capabilities",
              "assessment_status_changes", "confirmation_audits", "events", "persons", "organisations", "users"]
SEQ_TABLES = ["organisations", "persons", "users", "affiliations", "enterprises", "assessments", "assessment_team",
              "assessment_consultants", "assessment_capabilities", "assessment_status_changes",
              "confirmation_audits", "events"]


# --- database plumbing -------------------------------------------------------------------------
def _serial(n: np.ndarray | int, salt: int, lead: str) -> list[str]:
    from auditbo.codes import CREDIT_ALPHABET

    ns = np.atleast_1d(np.asarray(n, dtype=np.int64)) * 7919 + salt
    out = []
    for v in ns.tolist():
        chars = []
        for _ in range(8):
            v, r = divmod(v, 31)
            chars.append(CREDIT_ALPHABET[r])
        out.append(lead + "".join(reversed(chars)))
    return out


def _codes(regions: list[str], serials: list[str]) -> list[str]:
    from auditbo.codes import make_credit_code

    return [make_credit_code(r, s) for r, s in zip(regions, serials, strict=True)]


def _zipf(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def _min_person_days(employees: np.ndarray, atype: np.ndarray, cfg) -> np.ndarray:
    table = cfg["PERSON_DAYS_TABLE"]
    uppers = np.array([u for u, _ in table])
    days = np.array([d for _, d in table] + [cfg["PERSON_DAYS_ABOVE_TABLE"]], dtype=float)
    base = days[np.searchsorted(uppers, employees, side="left")]
    factors = cfg["PERSON_DAYS_FACTORS"]
    f = np.ones(len(atype))
    for k, v in factors.items():
        f[atype == k] = v
    return np.round(base * f, 2)


def build(scale: float, seed: int, as_of: date, cfg) -> dict[str, pd.DataFrame]:
    from auditbo.codes import INDUSTRY_SECTIONS
    from auditbo.demo.names import CAPABILITIES, CITIES, ENTERPRISE_FORMS, ENTERPRISE_WORDS, INDUSTRY_SUFFIX

    rng = np.random.default_rng(seed)
    n_target = max(2000, round(1_000_000 * scale))
    n_bodies = max(5, round(200 * scale))
    n_cons = max(10, round(2000 * scale))
    n_assessors = max(12 * n_bodies, round(12_000 * scale))
    n_consultants = max(n_cons, round(8_000 * scale))
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    t0 = pd.Timestamp(as_of)

    # organisations: bodies 1..B, consulting B+1..B+C
    city_codes = [c for c, _ in CITIES]
    city_names = [n for _, n in CITIES]
    org_city = rng.integers(len(CITIES), size=n_bodies + n_cons)
    org_ids = np.arange(1, n_bodies + n_cons + 1)
    regions = [city_codes[i] for i in org_city]
    serials = _serial(org_ids, 11, "M")
    kinds = ["assessment_body"] * n_bodies + ["consulting_body"] * n_cons
    names = [f"{city_names[c]}{'评定' if k == 'assessment_body' else '咨询'}{i}号"
             f"{'两化融合评定中心有限公司' if k == 'assessment_body' else '企业管理咨询有限公司'}"
             for i, c, k in zip(org_ids, org_city, kinds, strict=True)]
    orgs = pd.DataFrame({
        "id": org_ids, "credit_code": _codes(regions, serials), "name": names, "kind": kinds,
        "region_code": regions, "scope": ["两化融合管理体系评定" if k == "assessment_body" else "两化融合管理体系贯标咨询"
                                          for k in kinds],
        "contact": [f"0{r[:3]}-8{i:07d}" for r, i in zip(regions, org_ids, strict=True)], "status": "active",
        "status_reason": None, "status_changed_on": None, "created_at": now - timedelta(days=6 * 365),
        "updated_at": now - timedelta(days=6 * 365),
    })
    bodies = org_ids[:n_bodies]
    cons_ids = org_ids[n_bodies:]
    body_share = _zipf(n_bodies, 0.8)
    cons_share = _zipf(n_cons, 0.6)
    cons_pref = np.where(rng.random(n_cons) < 0.33, rng.choice(bodies, size=n_cons, p=body_share), 0)

    # persons: assessors by body (proportional to volume, at least 12), consultants by consulting body
    staff_n = np.maximum(12, np.round(body_share * n_assessors)).astype(int)
    a_body = np.repeat(bodies, staff_n)
    qual = np.empty(len(a_body), dtype=object)
    starts = np.concatenate([[0], np.cumsum(staff_n)[:-1]])
    pos = np.arange(len(a_body)) - np.repeat(starts, staff_n)
    frac = pos / np.repeat(staff_n, staff_n)
    qual[:] = "assessor"
    qual[frac < 0.45] = "lead"
    qual[frac < 0.2] = "senior_lead"
    qual[pos < 3] = "senior_lead"
    c_n = np.maximum(1, np.round(cons_share * n_consultants)).astype(int)
    c_org = np.repeat(cons_ids, c_n)
    n_a, n_c = len(a_body), len(c_org)
    pid = np.arange(1, n_a + n_c + 1)
    surnames = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
    given = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅飞鹏辉晶")
    g1, g2, sn = rng.integers(len(given), size=len(pid)), rng.integers(len(given), size=len(pid)), \
        rng.integers(len(surnames), size=len(pid))
    persons = pd.DataFrame({
        "id": pid,
        "person_id": [f"A-{i:06d}" for i in range(1, n_a + 1)] + [f"C-{i:06d}" for i in range(1, n_c + 1)],
        "name": [surnames[a] + given[b] + (given[c] if c % 2 else "") for a, b, c in zip(sn, g1, g2, strict=True)],
        "kind": ["assessor"] * n_a + ["consultant"] * n_c,
        "org_id": np.concatenate([a_body, c_org]),
        "qualification": np.concatenate([qual, np.full(n_c, "consultant", dtype=object)]),
        "valid_until": [date(2027 + int(k), 12, 31) for k in rng.integers(0, 3, size=len(pid))],
        "status": "active", "status_reason": None,
        "id_number_hash": [hashlib.sha256(f"id-{i}".encode()).hexdigest() for i in pid],
        "created_at": now - timedelta(days=6 * 365), "updated_at": now - timedelta(days=6 * 365),
    })
    # per body: the staff (shuffled), the senior leads, the lead-capable
    staff_pk = pid[:n_a]
    order = np.lexsort((rng.random(n_a), a_body))
    staff_sorted, staff_body = staff_pk[order], a_body[order]
    s_start = np.searchsorted(staff_body, bodies)
    s_count = np.searchsorted(staff_body, bodies, side="right") - s_start

    def group(mask):
        pk, b = staff_pk[mask], a_body[mask]
        o = np.argsort(b, kind="stable")
        pk, b = pk[o], b[o]
        st = np.searchsorted(b, bodies)
        return pk, st, np.searchsorted(b, bodies, side="right") - st

    senior_pk, senior_st, senior_n = group(qual == "senior_lead")
    leadc_pk, leadc_st, leadc_n = group(qual != "assessor")
    c_pk = pid[n_a:]
    c_first = {int(o): int(c_pk[np.searchsorted(c_org, o)]) for o in cons_ids}

    # users: admin, supervisors, one clerk per body (clerk001 = the largest body)
    users = [{"id": 1, "username": "admin", "display_name": "系统管理员", "role": "admin", "org_id": None}]
    for i in range(N_SUPERVISORS):
        users.append({"id": 2 + i, "username": f"supervisor{i + 1:02d}", "display_name": f"监督员{i + 1:02d}",
                      "role": "supervisor", "org_id": None})
    clerk_of = {}
    for i, b in enumerate(bodies):
        uid = 2 + N_SUPERVISORS + i
        users.append({"id": uid, "username": f"clerk{i + 1:03d}", "display_name": f"填报员{i + 1:03d}",
                      "role": "body_clerk", "org_id": int(b)})
        clerk_of[int(b)] = uid
    users = pd.DataFrame(users)
    users["org_id"] = users["org_id"].astype("Int64")
    supervisors = np.arange(2, 2 + N_SUPERVISORS)
    affiliations = pd.DataFrame([
        {"id": 1, "user_id": 2, "org_id": int(bodies[0]), "enterprise_id": None, "started_on": date(2019, 3, 1),
         "ended_on": date(2024, 6, 30), "source": "declared", "note": "曾任职", "created_at": now},
        {"id": 2, "user_id": 3, "org_id": int(bodies[1]), "enterprise_id": None, "started_on": date(2020, 3, 1),
         "ended_on": None, "source": "declared", "note": "曾任职", "created_at": now},
    ])
    affiliations["enterprise_id"] = affiliations["enterprise_id"].astype("Int64")

    # enterprises and their chains of assessments (initial, then yearly) over 5 years
    span = 5 * 365
    n_ent = int(n_target / 2.6)
    while True:
        ent_start = rng.integers(2, span, size=n_ent)  # days before as_of of the first decision
        steps = np.minimum(6, (ent_start - 2) // 360 + 1)
        drop = rng.random((n_ent, 6)) < 0.1
        drop[:, 0] = False
        alive = np.cumsum(drop, axis=1) == 0
        k = np.minimum(steps, alive.sum(axis=1))
        if k.sum() >= n_target:
            break
        n_ent = int(n_ent * 1.15)
    cum = np.cumsum(k)
    n_ent = int(np.searchsorted(cum, n_target) + 1)
    k = k[:n_ent].copy()
    k[-1] -= int(cum[n_ent - 1] - n_target)
    ent_start = ent_start[:n_ent]
    eid = np.arange(1, n_ent + 1)
    e_city = rng.integers(len(CITIES), size=n_ent)
    e_sec = rng.choice(len(SECTIONS), size=n_ent, p=SECTION_P)
    sec_first = np.array([INDUSTRY_SECTIONS[x][0] for x in SECTIONS])
    sec_width = np.array([INDUSTRY_SECTIONS[x][1] - INDUSTRY_SECTIONS[x][0] + 1 for x in SECTIONS])
    e_div = sec_first[e_sec] + rng.integers(0, 100, size=n_ent) % sec_width[e_sec]
    employees = np.clip(rng.lognormal(5.3, 1.2, size=n_ent), 8, 60000).astype(int)
    size = np.where(employees >= 1000, "large", np.where(employees >= 300, "medium",
                                                         np.where(employees >= 20, "small", "micro")))
    e_region = np.array(city_codes)[e_city]
    e_industry = pd.Series(np.array(SECTIONS)[e_sec]).str.cat(pd.Series(e_div).map("{:02d}".format)).to_numpy()
    words = np.array(ENTERPRISE_WORDS)[rng.integers(len(ENTERPRISE_WORDS), size=n_ent)]
    suffix = np.array([INDUSTRY_SUFFIX[SECTIONS[s]][i % len(INDUSTRY_SUFFIX[SECTIONS[s]])]
                       for s, i in zip(e_sec, rng.integers(0, 60, size=n_ent), strict=True)])
    forms = np.array(ENTERPRISE_FORMS)[rng.integers(len(ENTERPRISE_FORMS), size=n_ent)]
    e_names = [f"{city_names[c]}{w}{s}{i}{f}" for c, w, s, i, f in
               zip(e_city, words, suffix, eid, forms, strict=True)]
    e_codes = _codes(e_region.tolist(), _serial(eid, 17, "E"))
    e_created = t0 - pd.to_timedelta(ent_start + 200, unit="D")
    enterprises = pd.DataFrame({
        "id": eid, "credit_code": e_codes, "name": e_names, "region_code": e_region, "industry_code": e_industry,
        "size": size, "employees": employees,
        "created_at": e_created.tz_localize("UTC"), "updated_at": e_created.tz_localize("UTC"),
    })
    e_cons = np.where(rng.random(n_ent) < 0.8, rng.choice(cons_ids, size=n_ent, p=cons_share), 0)
    pref = cons_pref[np.maximum(e_cons - n_bodies - 1, 0)]
    e_body = np.where((e_cons > 0) & (pref > 0) & (rng.random(n_ent) < 0.6), pref,
                      rng.choice(bodies, size=n_ent, p=body_share))
    e_level = rng.choice(5, size=n_ent, p=GRADE_P) + 1

    # --- assessments, flattened: one row per (enterprise, step)
    n = int(k.sum())
    ent_of = np.repeat(eid - 1, k)
    step = np.arange(n) - np.repeat(np.concatenate([[0], np.cumsum(k)[:-1]]), k)
    last = step == (k[ent_of] - 1)
    gap = rng.integers(330, 390, size=n)
    gap[step == 0] = 0
    cumgap = pd.Series(gap).groupby(ent_of).cumsum().to_numpy()
    days_ago = ent_start[ent_of] - cumgap
    days_ago = np.maximum(days_ago, 2)
    decision = (t0 - pd.to_timedelta(days_ago, unit="D")).to_numpy()
    atype = np.where(step == 0, "initial", np.where(step % 3 == 0, "reassessment", "surveillance"))
    upgrade = (step > 0) & (step % 3 != 0) & (rng.random(n) < 0.1)
    atype = np.where(upgrade, "upgrade", atype)
    ups = pd.Series(upgrade.astype(int)).groupby(ent_of).cumsum().to_numpy()
    level = np.minimum(5, e_level[ent_of] + ups)
    jump2 = upgrade & (rng.random(n) < 0.05) & (level <= 3)
    level = np.where(jump2, np.minimum(5, level + 1), level)
    body = e_body[ent_of]
    bidx = np.searchsorted(bodies, body)
    cons = e_cons[ent_of]
    emp = employees[ent_of]
    pd_min = _min_person_days(emp, atype, cfg)
    ratio = np.clip(rng.normal(1.1, 0.09, size=n), 0.72, 1.6)
    person_days = np.maximum(0.5, np.round(pd_min * ratio * 2) / 2)
    person_days = np.maximum(person_days, np.ceil(pd_min * 0.7 * 2) / 2)
    reduced = person_days < pd_min - 1e-9
    low = person_days < pd_min * cfg["PERSON_DAYS_RED_FLAG"] - 1e-9
    team_size = rng.integers(2, 5, size=n)
    onsite_end = decision - pd.to_timedelta(rng.integers(3, 30, size=n), unit="D").to_numpy()
    onsite_len = np.maximum(0, np.ceil(person_days / team_size) - 1).astype(int)
    onsite_start = onsite_end - pd.to_timedelta(onsite_len, unit="D").to_numpy()
    delay = np.minimum(150, np.exp(rng.normal(1.7, 0.9, size=n))).astype(int)
    delay = np.minimum(delay, days_ago - 1)
    filed_on = decision + pd.to_timedelta(delay, unit="D").to_numpy()
    filed_at = pd.DatetimeIndex(filed_on).tz_localize("UTC") + pd.to_timedelta(
        rng.integers(60, 600, size=n), unit="m")
    late = delay > cfg["LATE_FILING_DAYS"]
    dec_idx = pd.DatetimeIndex(decision)
    years = cfg["CERTIFICATE_VALID_YEARS"]
    valid_until = dec_idx + pd.DateOffset(years=years)
    grade_s = np.array(["", "A", "AA", "AAA", "AAAA", "AAAAA"], dtype=object)
    filed_grade = grade_s[level]

    # outcomes: AAA+ goes to confirmation (decided some days after filing unless recent)
    needs = level >= cfg["CONFIRMATION_MIN_LEVEL"]
    filed_days_ago = (t0 - pd.DatetimeIndex(filed_on)).days.to_numpy()
    decided_after = rng.integers(2, 15, size=n)
    pending = needs & (decided_after >= filed_days_ago)
    u = rng.random(n)
    decision_kind = np.where(u < 0.88, "confirmed", np.where(u < 0.93, "grade_adjusted",
                                                             np.where(u < 0.97, "returned", "rejected")))
    decision_kind = np.where(needs & ~pending, decision_kind, "")
    grade_lvl = np.where(decision_kind == "grade_adjusted", level - 1, level)
    # the returned ones: most were amended and confirmed (a second round); recent ones are still returned
    returned = decision_kind == "returned"
    reamended = returned & (filed_days_ago > 40)
    status = np.full(n, "standing", dtype=object)
    status[pending] = "pending_confirmation"
    status[returned & ~reamended] = "returned"
    status[decision_kind == "rejected"] = "rejected"
    valid_past = (valid_until < t0)
    superseded = ~last
    ok = status == "standing"
    status[ok & valid_past] = "expired"
    v = rng.random(n)
    status[ok & ~valid_past & last & (v < 0.01)] = "suspended"
    status[ok & ~valid_past & last & (v > 0.995)] = "revoked"
    w_mask = (status == "pending_confirmation") & (rng.random(n) < 0.02)
    status[w_mask] = "withdrawn"
    del superseded
    # previous standing grade of the enterprise (for grade_previous)
    prev = pd.Series(np.where(np.isin(status, ["standing", "expired", "suspended", "revoked"]), grade_lvl, np.nan))
    prev = prev.groupby(ent_of).shift(1)
    prev = prev.groupby(ent_of).ffill().to_numpy()
    prev_grade = np.where(np.isnan(prev), None, grade_s[np.nan_to_num(prev, nan=0).astype(int)])
    aid = np.arange(1, n + 1)
    year = dec_idx.year.to_numpy()
    ref = pd.Series(aid).map("{:07d}".format).to_numpy()
    yr = pd.Series(year).astype(str).to_numpy()
    external_ref = "PJ-" + yr + "-" + ref
    cert = "IIMS-" + yr + "-" + filed_grade.astype(str) + "-" + ref
    chash = [hashlib.sha256(b"bench-%d" % i).hexdigest() for i in aid]
    clerk_ids = np.array([clerk_of[int(b)] for b in bodies])[bidx]
    assessments = pd.DataFrame({
        "id": aid, "body_id": body, "external_ref": external_ref, "enterprise_id": eid[ent_of],
        "assessment_type": atype, "grade": grade_s[grade_lvl], "filed_grade": filed_grade,
        "previous_grade": prev_grade, "consulting_body_id": pd.array(np.where(cons > 0, cons, 0), dtype="Int64"),
        "person_days": person_days, "person_days_min": pd_min,
        "reduction_reason": np.where(reduced, "企业管理体系运行成熟,申请减少人日", None),
        "onsite_start": pd.DatetimeIndex(onsite_start).date, "onsite_end": pd.DatetimeIndex(onsite_end).date,
        "decision_date": dec_idx.date, "certificate_no": cert, "valid_until": valid_until.date,
        "region_code": e_region[ent_of], "industry_code": e_industry[ent_of], "status": status,
        "flag_late": late, "flag_grade_jump": jump2, "flag_reduced_days": reduced, "flag_low_days": low,
        "flag_tie": (cons > 0) & (cons_pref[np.maximum(cons - n_bodies - 1, 0)] == body) & (rng.random(n) < 0.3),
        "flag_surveillance_overdue": False, "content_hash": chash, "filed_by_id": clerk_ids,
        "filed_at": filed_at, "updated_at": filed_at, "version": np.where(reamended, 2, 1),
    })
    assessments.loc[cons == 0, "consulting_body_id"] = pd.NA

    # team: a lead qualified for the grade, 1-3 other members of the body's staff
    u = rng.random(n)
    use_senior = level >= 3
    lead = np.where(use_senior, senior_pk[np.minimum(senior_st[bidx] + (u * senior_n[bidx]).astype(int),
                                                     len(senior_pk) - 1)],
                    leadc_pk[np.minimum(leadc_st[bidx] + (u * leadc_n[bidx]).astype(int), len(leadc_pk) - 1)])
    off = rng.integers(0, 1 << 30, size=n)
    cand = np.stack([staff_sorted[s_start[bidx] + (off + j) % s_count[bidx]] for j in range(4)], axis=1)
    valid = cand != lead[:, None]
    rank = np.cumsum(valid, axis=1)
    take = valid & (rank <= (team_size - 1)[:, None])
    m_rows, m_cols = np.nonzero(take)
    team_aid = np.concatenate([aid, aid[m_rows]])
    team_pid = np.concatenate([lead, cand[m_rows, m_cols]])
    team_role = np.concatenate([np.full(n, "lead", dtype=object), np.full(len(m_rows), "member", dtype=object)])
    o = np.argsort(team_aid, kind="stable")
    team = pd.DataFrame({"id": np.arange(1, len(o) + 1), "assessment_id": team_aid[o], "person_id": team_pid[o],
                         "role": team_role[o]})

    has_c = cons > 0
    consultants = pd.DataFrame({"assessment_id": aid[has_c],
                                "person_id": [c_first[int(c)] for c in cons[has_c]]})
    consultants.insert(0, "id", np.arange(1, len(consultants) + 1))

    # capabilities: 1-3 distinct, the first at the filed grade's level
    ncap = rng.integers(1, 4, size=n)
    coff = rng.integers(0, len(CAPABILITIES), size=n)
    cap_aid = np.repeat(aid, ncap)
    j = np.arange(len(cap_aid)) - np.repeat(np.concatenate([[0], np.cumsum(ncap)[:-1]]), ncap)
    lvl = np.repeat(level, ncap)
    cap_lvl = np.where(j == 0, lvl, 1 + (rng.random(len(cap_aid)) * lvl).astype(int))
    cap_name = np.array(CAPABILITIES)[(np.repeat(coff, ncap) + j) % len(CAPABILITIES)]
    capabilities = pd.DataFrame({"id": np.arange(1, len(cap_aid) + 1), "assessment_id": cap_aid, "name": cap_name,
                                 "level": cap_lvl})

    # status history and confirmation audits
    filed_ts = pd.Series(filed_at)
    conf_ts = filed_ts + pd.to_timedelta(decided_after, unit="D")
    sc = []  # (aid, from, to, actor, reason, at)

    def add(mask, frm, to, actor, reason, at):
        idx = np.nonzero(mask)[0]
        sc.append(pd.DataFrame({"assessment_id": aid[idx], "from_status": frm if isinstance(frm, str) or frm is None
                                else frm[idx], "to_status": to if isinstance(to, str) else to[idx],
                                "actor_id": pd.array(actor[idx] if isinstance(actor, np.ndarray) else
                                                     [actor] * len(idx), dtype="Int64"),
                                "reason": reason, "at": at.iloc[idx].to_numpy() if isinstance(at, pd.Series)
                                else at[idx]}))

    everyone = np.ones(n, dtype=bool)
    add(everyone, None, "filed", clerk_ids, None, filed_ts)
    add(~needs, "filed", "standing", np.full(n, None, dtype=object), None, filed_ts + pd.Timedelta(seconds=1))
    add(needs, "filed", "pending_confirmation", np.full(n, None, dtype=object), None,
        filed_ts + pd.Timedelta(seconds=1))
    reviewer = rng.choice(supervisors[2:], size=n)  # the two affiliated supervisors rarely draw here
    first_out = np.where(np.isin(decision_kind, ["confirmed", "grade_adjusted"]), "standing", decision_kind)
    add(needs & ~pending, "pending_confirmation", first_out, reviewer, "确认审核结论", conf_ts)
    again_ts = conf_ts + pd.Timedelta(days=10)
    add(reamended, "returned", "pending_confirmation", clerk_ids, "按确认审核意见补充材料", again_ts)
    add(reamended, "pending_confirmation", "standing", reviewer, "材料齐全,评定结论成立",
        again_ts + pd.Timedelta(days=5))
    exp_ts = pd.Series(pd.DatetimeIndex(valid_until).tz_localize("UTC") + pd.Timedelta(hours=1))
    add(status == "expired", "standing", "expired", np.full(n, None, dtype=object), "证书有效期届满", exp_ts)
    add(status == "suspended", "standing", "suspended", reviewer, "监督检查发现问题,暂停证书",
        pd.Series(pd.Timestamp(now) - pd.Timedelta(days=3), index=range(n)))
    add(status == "revoked", "standing", "revoked", reviewer, "撤销证书", pd.Series(pd.Timestamp(now) -
                                                                                  pd.Timedelta(days=2), index=range(n)))
    add(status == "withdrawn", "pending_confirmation", "withdrawn", clerk_ids, "企业申请撤回",
        filed_ts + pd.Timedelta(days=1))
    changes = pd.concat(sc, ignore_index=True)
    changes = changes.sort_values(["assessment_id", "at"], kind="stable", ignore_index=True)
    changes.insert(0, "id", np.arange(1, len(changes) + 1))

    a_idx = np.nonzero(needs)[0]
    audits = []
    r1_status = np.where(pending[a_idx], "assigned", np.where(status[a_idx] == "withdrawn", "cancelled", "decided"))
    r1_decided = r1_status == "decided"
    dk = decision_kind[a_idx]
    audits.append(pd.DataFrame({
        "assessment_id": aid[a_idx], "round": 1, "status": r1_status, "assignee_id": reviewer[a_idx],
        "assigned_at": filed_ts.iloc[a_idx].to_numpy(), "draw_seed": rng.integers(1, 2**62, size=len(a_idx)),
        "due_date": (pd.DatetimeIndex(filed_on[a_idx]) + pd.Timedelta(days=14)).date,
        "declaration_signed_at": np.where(r1_decided, conf_ts.iloc[a_idx].to_numpy(), pd.NaT),
        "checklist": "{}", "decision": np.where(r1_decided, dk, None),
        "adjusted_grade": np.where(dk == "grade_adjusted", grade_s[np.maximum(level[a_idx] - 1, 0)], None),
        "reason": np.where(r1_decided, "确认审核结论", None),
        "decided_at": np.where(r1_decided, conf_ts.iloc[a_idx].to_numpy(), pd.NaT),
        "decided_by_id": pd.array(np.where(r1_decided, reviewer[a_idx], 0), dtype="Int64"),
        "created_at": filed_ts.iloc[a_idx].to_numpy(), "version": np.where(r1_decided, 2, 1),
    }))
    r_idx = np.nonzero(reamended)[0]
    audits.append(pd.DataFrame({
        "assessment_id": aid[r_idx], "round": 2, "status": "decided", "assignee_id": reviewer[r_idx],
        "assigned_at": again_ts.iloc[r_idx].to_numpy(), "draw_seed": rng.integers(1, 2**62, size=len(r_idx)),
        "due_date": (pd.DatetimeIndex(filed_on[r_idx]) + pd.Timedelta(days=30)).date,
        "declaration_signed_at": (again_ts.iloc[r_idx] + pd.Timedelta(days=5)).to_numpy(), "checklist": "{}",
        "decision": "confirmed", "adjusted_grade": None, "reason": "材料齐全,评定结论成立",
        "decided_at": (again_ts.iloc[r_idx] + pd.Timedelta(days=5)).to_numpy(),
        "decided_by_id": pd.array(reviewer[r_idx], dtype="Int64"), "created_at": again_ts.iloc[r_idx].to_numpy(),
        "version": 2,
    }))
    audits = pd.concat(audits, ignore_index=True).sort_values(["assessment_id", "round"], ignore_index=True)
    audits.loc[audits["decided_by_id"] == 0, "decided_by_id"] = pd.NA
    for col in ("declaration_signed_at", "decided_at"):
        audits[col] = pd.to_datetime(audits[col], utc=True)
    audits.insert(0, "id", np.arange(1, len(audits) + 1))

    return {
        "organisations": orgs, "persons": persons, "users": users, "affiliations": affiliations,
        "enterprises": enterprises, "assessments": assessments, "assessment_team": team,
        "assessment_consultants": consultants, "assessment_capabilities": capabilities,
        "assessment_status_changes": changes, "confirmation_audits": audits,
    }


def build_events(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One "filed" event per assessment, chained exactly like auditbo.events.record_many."""
    from auditbo.events import GENESIS, _digest

    a = tables["assessments"].sort_values(["filed_at", "id"], kind="stable")
    users = tables["users"].set_index("id")["username"].to_dict()
    prev = GENESIS
    ts = pd.DatetimeIndex(a["filed_at"]).to_pydatetime()
    hashes, prevs, afters = [], [], []
    for at, aid, ref, grade, cert, uid in zip(ts, a["id"].tolist(), a["external_ref"].tolist(),
                                              a["filed_grade"].tolist(), a["certificate_no"].tolist(),
                                              a["filed_by_id"].tolist(), strict=True):
        after = {"certificate_no": cert, "external_ref": ref, "flags": [], "grade": grade}
        row = {"occurred_at": at, "actor_id": uid, "actor": users[uid], "record_type": "assessment",
               "record_id": str(aid), "action": "filed", "before": None, "after": after, "reason": None}
        prevs.append(prev)
        prev = _digest(prev, row)
        hashes.append(prev)
        afters.append(json.dumps(after, ensure_ascii=False, sort_keys=True))
    return pd.DataFrame({
        "id": np.arange(1, len(a) + 1), "occurred_at": a["filed_at"].to_numpy(), "actor_id": a["filed_by_id"].to_numpy(),
        "actor": [users[u] for u in a["filed_by_id"].tolist()], "record_type": "assessment",
        "record_id": a["id"].astype(str).to_numpy(), "action": "filed", "before": None, "after": afters,
        "reason": None, "prev_hash": prevs, "hash": hashes,
    })


# --- loading -----------------------------------------------------------------------------------
