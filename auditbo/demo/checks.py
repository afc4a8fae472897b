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
