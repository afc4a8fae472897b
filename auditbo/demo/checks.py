"""Time effects, spot checks and complaints for the demo history."""

from __future__ import annotations

from datetime import date, timedelta

from auditbo.demo.history import Builder, ts
from auditbo.events import SYSTEM


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


def apply_time(b: Builder) -> None:
    """Surveillance overdue (flag, then suspension after 3 months) and expiry, as the jobs would."""
    by_ent: dict[int, list[dict]] = {}
    for a in b.h.assessments:
        by_ent.setdefault(a["enterprise_id"], []).append(a)
    interval = b.cfg["SURVEILLANCE_INTERVAL_MONTHS"]
    grace = b.cfg["SURVEILLANCE_SUSPEND_AFTER_MONTHS"]
    for records in by_ent.values():
        records.sort(key=lambda r: r["decision_date"])
        for i, a in enumerate(records):
            if a["status"] != "standing":
                continue
            if a["valid_until"] < b.as_of:
                b.move(a, "expired", a["valid_until"], SYSTEM, "certificate expired")
                continue
            later = [r for r in records[i + 1:] if r["status"] not in ("rejected", "withdrawn")]
            due = _add_months(a["decision_date"], interval)
            if later or due >= b.as_of:
                continue
            a["flag_surveillance_overdue"] = True
            suspend_on = _add_months(due, grace)
            if suspend_on < b.as_of:
                b.move(a, "suspended", suspend_on, SYSTEM, "surveillance assessment more than 3 months overdue")


def add_spot_checks(b: Builder) -> None:
    """Two past yearly plans drawn uniformly (π = n/N); the latest still has open checks."""
    rng, h = b.rng, b.h
    plan_dates = [b.as_of - timedelta(days=400), b.as_of - timedelta(days=35)]
    check_id = 0
    checked: set[int] = set()
    for pid, drawn_on in enumerate(plan_dates, start=1):
        frame = [a for a in h.assessments if a["status"] == "standing" and a["decision_date"] < drawn_on
                 - timedelta(days=60) and a["id"] not in checked]
        n = max(5, int(len(frame) * 0.03))
        if len(frame) < n:
            continue
        pick = rng.choice(len(frame), size=n, replace=False)
        author, approver = b.w.supervisors[2], 1
        h.plans.append({
            "id": pid, "title": f"{drawn_on.year}年度两化融合评定结果抽查计划({pid})",
            "population": {"decided_to": (drawn_on - timedelta(days=60)).isoformat(), "status": ["standing"]},
            "size": n, "uniform_share": 1.0, "strata_column": None, "design": "uniform", "seed": 1000 + pid,
            "status": "drawn", "author_id": author, "approved_by_id": approver, "approved_at": ts(drawn_on),
            "drawn_at": ts(drawn_on, 60), "frame_hash": None, "model_version": "uniform",
            "summary": {"N": len(frame), "n": n}, "created_at": ts(drawn_on - timedelta(days=7)),
        })
        for k in sorted(int(x) for x in pick):
            a = frame[k]
            checked.add(a["id"])
            check_id += 1
            opened = drawn_on + timedelta(days=int(rng.integers(1, 10)))
            closed = opened + timedelta(days=int(rng.integers(20, 60)))
            row = {"id": check_id, "plan_id": pid, "assessment_id": a["id"], "complaint_id": None,
                   "inclusion_probability": n / len(frame), "status": "open", "outcome": None,
                   "consequence": None, "notes": None, "opened_on": opened, "closed_on": None,
                   "disclose_by": None, "disclosed_on": None, "created_at": ts(opened)}
            inspectors = rng.choice(len(b.w.supervisors) - 2, size=2, replace=False) + 2
            for i in inspectors:
                h.inspectors.append({"spot_check_id": check_id, "user_id": b.w.supervisors[int(i)]})
            h.spot_checks.append(row)
            h.events.append((b.sup(b.w.supervisors[int(inspectors[0])]), "spot_check", check_id, "opened", None,
                             {"assessment_id": a["id"], "plan_id": pid}, None, ts(opened)))
            if closed > b.as_of:
                continue
            bad = h.nonconforming[a["id"]]
            u = rng.random()
            outcome = ("major_findings" if u < 0.6 else "minor_findings") if bad else (
                "minor_findings" if u < 0.12 else "conforming")
            consequence = "none"
            if outcome == "major_findings":
                consequence = "suspend" if u < 0.3 else "revoke" if u < 0.42 else "downgrade"
            row.update(status="closed", outcome=outcome, consequence=consequence, closed_on=closed,
                       disclose_by=b.cal.add_working_days(closed, b.cfg["DISCLOSURE_WORKING_DAYS"]),
                       disclosed_on=closed + timedelta(days=int(rng.integers(3, 20))))
            insp = b.sup(b.w.supervisors[int(inspectors[0])])
            h.events.append((insp, "spot_check", check_id, "closed", None,
                             {"outcome": outcome, "consequence": consequence}, None, ts(closed)))
            if consequence == "suspend" and a["status"] == "standing":
                b.move(a, "suspended", closed, insp, "抽查发现严重不符合")
            elif consequence == "revoke" and a["status"] in ("standing", "suspended"):
                b.move(a, "revoked", closed, insp, "抽查发现严重不符合,撤销证书")
            elif consequence == "downgrade" and len(a["grade"]) > 1:
                h.events.append((insp, "assessment", a["id"], "downgraded", {"grade": a["grade"]},
                                 {"grade": a["grade"][:-1]}, "抽查后降级", ts(closed, 3)))
                a["grade"] = a["grade"][:-1]


def add_complaints(b: Builder) -> None:
    rng, h = b.rng, b.h
    cid = 0
    for a in h.assessments:
        if rng.random() > 0.02 * h.risk[a["id"]] / 0.1:
            continue
        cid += 1
        received = a["decision_date"] + timedelta(days=int(rng.integers(20, 200)))
        if received > b.as_of:
            received = b.as_of - timedelta(days=1)
        age = (b.as_of - received).days
        bad = h.nonconforming[a["id"]]
        status = "received" if age < 15 else "investigating" if age < 45 else (
            "substantiated" if bad and rng.random() < 0.7 else "unsubstantiated")
        h.complaints.append({
            "id": cid, "against_org_id": a["body_id"], "against_person_id": None, "assessment_id": a["id"],
            "received_on": received, "complainant": "匿名", "summary": "反映该企业实际能力与评定等级不符",
            "status": status, "resolution": None if status in ("received", "investigating") else (
                "经核查属实" if status == "substantiated" else "经核查不属实"),
            "closed_on": received + timedelta(days=40) if status in ("substantiated", "unsubstantiated") else None,
            "registered_by_id": b.w.supervisors[0], "created_at": ts(received),
            "source": ("letter", "phone", "email", "referral")[cid % 4],
        })  # registered and handled through the services after the history (auditbo.demo.complaints)
