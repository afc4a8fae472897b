"""Assessment history of the demo: enterprises, filings, audits, spot checks, complaints, events."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from auditbo.codes import INDUSTRY_SECTIONS, make_credit_code
from auditbo.demo.names import CAPABILITIES, CITIES, ENTERPRISE_FORMS, ENTERPRISE_WORDS, INDUSTRY_SUFFIX
from auditbo.events import SYSTEM, Actor
from auditbo.filings.rules import (
    default_valid_until,
    is_grade_jump,
    is_late,
    min_person_days,
    onsite_capacity,
)
from auditbo.workdays import calendar_from_config

SECTIONS = ["C", "I", "D", "E", "F", "G", "B", "A", "M"]
SECTION_P = np.array([0.62, 0.1, 0.06, 0.05, 0.05, 0.05, 0.03, 0.02, 0.02])
GRADE_P = np.array([0.08, 0.37, 0.40, 0.12, 0.03])
DECIDED_MINUTE = 200  # a review's steps on the day of its decision: declaration +100, finding +150, decided


def ts(d: date, minutes: int = 0) -> datetime:
    return datetime.combine(d, time(1, 30), tzinfo=UTC) + timedelta(minutes=minutes)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass
class History:
    enterprises: list[dict] = field(default_factory=list)
    assessments: list[dict] = field(default_factory=list)
    team: list[dict] = field(default_factory=list)
    consultants: list[dict] = field(default_factory=list)
    capabilities: list[dict] = field(default_factory=list)
    status_changes: list[dict] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    plans: list[dict] = field(default_factory=list)
    spot_checks: list[dict] = field(default_factory=list)
    inspectors: list[dict] = field(default_factory=list)
    complaints: list[dict] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    risk: dict[int, float] = field(default_factory=dict)  # latent nonconformity probability
    nonconforming: dict[int, bool] = field(default_factory=dict)


class Builder:
    def __init__(self, rng, world, cfg, as_of: date):
        self.rng, self.w, self.cfg, self.as_of = rng, world, cfg, as_of
        self.h = History()
        self.cal = calendar_from_config(cfg)
        self.users = {}
        self.ids = {"sc": 0, "team": 0, "cons": 0, "cap": 0, "audit": 0, "finding": 0}

    # --- small helpers
    def next_id(self, key: str) -> int:
        self.ids[key] = self.ids.get(key, 0) + 1
        return self.ids[key]

    def clerk(self, body: int) -> Actor:
        uid = self.w.clerk_of[body]
        return Actor(uid, f"clerk{self.w.bodies.index(body) + 1:02d}")

    def sup(self, uid: int) -> Actor:
        return Actor(uid, f"supervisor{uid - 1}")

    def move(self, a: dict, to: str, when: date, actor: Actor, reason: str | None = None, minute: int = 0) -> None:
        """A status change at ``minute`` past 01:30 UTC (09:30 in Shanghai) on ``when``: a record's steps
        keep their order (filed, then pending, then the reviewer drawn, then decided)."""
        self.h.status_changes.append({
            "id": self.next_id("sc"), "assessment_id": a["id"], "from_status": a["status"], "to_status": to,
            "actor_id": actor.id, "reason": reason, "at": ts(when, minute),
        })
        self.h.events.append((actor, "assessment", a["id"], "status_changed", {"status": a["status"]},
                              {"status": to}, reason, ts(when, minute)))
        a["status"] = to

    # --- enterprises
    def enterprise(self, eid: int) -> dict:
        rng = self.rng
        region, city = CITIES[int(rng.integers(len(CITIES)))]
        section = SECTIONS[int(rng.choice(len(SECTIONS), p=SECTION_P))]
        first, last, _, _ = INDUSTRY_SECTIONS[section]
        division = int(rng.integers(first, last + 1))
        employees = int(min(60000, max(8, rng.lognormal(5.3, 1.2))))
        size = "large" if employees >= 1000 else "medium" if employees >= 300 else "small" if employees >= 20 else "micro"
        word = ENTERPRISE_WORDS[int(rng.integers(len(ENTERPRISE_WORDS)))]
        suffix = INDUSTRY_SUFFIX[section][int(rng.integers(len(INDUSTRY_SUFFIX[section])))]
        form = ENTERPRISE_FORMS[int(rng.integers(len(ENTERPRISE_FORMS)))]
        serial = f"{eid:08d}"[-8:]
        code = make_credit_code(region, "E" + serial.replace("0", "0"), prefix="91")
        return {
            "id": eid, "credit_code": code, "name": f"{city}{word}{suffix}{eid}{form}", "region_code": region,
            "industry_code": f"{section}{division:02d}", "size": size, "employees": employees,
            "created_at": ts(date(2021, 1, 1)), "updated_at": ts(date(2021, 1, 1)),
        }

    def lax_cut(self) -> float:
        """The laxity from which a body is among the laxest third (its teams sometimes visit too briefly)."""
        if not hasattr(self, "_lax_cut"):
            ranked = sorted(self.w.lax[b] for b in self.w.bodies)
            self._lax_cut = ranked[(2 * len(ranked)) // 3] if ranked else 0.0
        return self._lax_cut

    # --- one filing
    def file(self, ent: dict, body: int, cons: int | None, atype: str, level: int, prev_level: int | None,
             decision: date, seq: int) -> dict | None:
        rng, w, cfg = self.rng, self.w, self.cfg
        lax_b = w.lax[body]
        delay = int(min(150, math.exp(rng.normal(1.7 + 0.45 * lax_b, 0.9))))
        filed_on = decision + timedelta(days=delay)
        if filed_on > self.as_of:
            return None
        staff = w.staff[body]
        leads = [p for p, q in staff if q == "senior_lead" or (q == "lead" and level <= 2)]
        lead = leads[int(rng.integers(len(leads)))]
        others = [p for p, _ in staff if p != lead]
        members = list(rng.choice(others, size=int(rng.integers(1, 4)), replace=False))
        minimum = min_person_days(ent["employees"], atype, cfg)
        ratio = float(np.clip(1.12 + rng.normal(0, 0.08) - 0.12 * max(lax_b, 0.0), 0.7, 1.6))
        person_days = max(0.5, round(minimum * ratio * 2) / 2)
        if person_days < minimum * 0.7:
            person_days = math.ceil(minimum * 0.7 * 2) / 2
        reduced = person_days < minimum
        team_size = 1 + len(members)
        onsite_end = decision - timedelta(days=int(rng.integers(3, 30)))
        onsite_start = onsite_end - timedelta(days=max(0, math.ceil(person_days / team_size) - 1))
        if lax_b >= self.lax_cut() and (len(self.h.assessments) + 1) % 9 == 0:  # the laxest third: a short visit
            onsite_start = onsite_end - timedelta(days=max(0, math.floor(minimum * 0.4 / team_size) - 1))
        lax_c = w.lax[cons] if cons else 0.0
        jump = is_grade_jump(prev_level, level)
        p = sigmoid(-2.5 + 0.9 * lax_b + 0.5 * w.person_lax[lead] + 0.6 * lax_c + 1.4 * (ratio < 0.88)
                    + 1.0 * jump + 0.3 * (level >= 4))
        aid = len(self.h.assessments) + 1
        grade = "A" * level
        minute = int(rng.integers(0, 480))  # filed during the office day
        a = {
            "id": aid, "body_id": body, "external_ref": f"PJ-{decision.year}-{aid:06d}", "enterprise_id": ent["id"],
            "assessment_type": atype, "grade": grade, "filed_grade": grade,
            "previous_grade": "A" * prev_level if prev_level else None, "consulting_body_id": cons,
            "person_days": person_days, "person_days_min": minimum,
            "reduction_reason": "企业管理体系运行成熟,申请减少人日" if reduced else None,
            "onsite_start": onsite_start, "onsite_end": onsite_end, "decision_date": decision,
            "certificate_no": f"IIMS-{decision.year}-{grade}-{aid:06d}",
            "valid_until": default_valid_until(decision, cfg["CERTIFICATE_VALID_YEARS"]),
            "region_code": ent["region_code"], "industry_code": ent["industry_code"], "status": None,
            "flag_late": is_late(decision, filed_on, cfg["LATE_FILING_DAYS"]), "flag_grade_jump": jump,
            "flag_reduced_days": reduced, "flag_low_days": onsite_capacity(team_size, onsite_start, onsite_end)
            < minimum * cfg["PERSON_DAYS_RED_FLAG"] - 1e-9,
            "flag_tie": bool(cons and w.cons_pref.get(cons) == body and aid % 4 == 0),
            "flag_surveillance_overdue": False,
            "content_hash": hashlib.sha256(f"demo-{aid}".encode()).hexdigest(),
            "filed_by_id": w.clerk_of[body], "filed_at": ts(filed_on, minute),
            "updated_at": ts(filed_on, minute), "version": 1,
        }
        self.h.assessments.append(a)
        self.h.risk[aid] = p
        self.h.nonconforming[aid] = bool(rng.random() < p)
        self.h.team.append({"id": self.next_id("team"), "assessment_id": aid, "person_id": lead, "role": "lead"})
        for m in members:
            self.h.team.append({"id": self.next_id("team"), "assessment_id": aid, "person_id": int(m),
                                "role": "member"})
        if cons:
            for c in w.consultants[cons][:1]:
                self.h.consultants.append({"id": self.next_id("cons"), "assessment_id": aid, "person_id": c})
        caps = rng.choice(len(CAPABILITIES), size=int(rng.integers(1, 4)), replace=False)
        for j, ci in enumerate(caps):
            lvl = level if j == 0 else int(rng.integers(1, level + 1))
            self.h.capabilities.append({"id": self.next_id("cap"), "assessment_id": aid,
                                        "name": CAPABILITIES[int(ci)], "level": lvl})
        clerk = self.clerk(body)
        self.h.events.append((clerk, "assessment", aid, "filed", None,
                              {"external_ref": a["external_ref"], "grade": grade, "certificate_no": a["certificate_no"]},
                              None, ts(filed_on, minute)))
        a["status"] = None
        self.move(a, "filed", filed_on, clerk, minute=minute)
        if level < self.cfg["CONFIRMATION_MIN_LEVEL"]:
            self.move(a, "standing", filed_on, SYSTEM, minute=minute)
        else:
            self.move(a, "pending_confirmation", filed_on, SYSTEM, minute=minute)
            self.confirm(a, filed_on, minute)
        return a

    # --- confirmation audits
    def pick_reviewer(self, body: int) -> int:
        # demo affiliations: supervisor1 tied to body 1, supervisor2 to body 2
        pool = [s for k, s in enumerate(self.w.supervisors) if not (k < 2 and self.w.bodies[k] == body)]
        return pool[int(self.rng.integers(len(pool)))]

    def audit(self, a: dict, rnd: int, opened: date, reviewer: int, minute: int) -> dict:
        due = self.cal.add_working_days(opened, self.cfg["CONFIRMATION_DUE_WORKING_DAYS"])
        row = {
            "id": self.next_id("audit"), "assessment_id": a["id"], "round": rnd, "status": "assigned",
            "assignee_id": reviewer, "assigned_at": ts(opened, minute), "draw_seed": int(self.rng.integers(1, 2**31)),
            "due_date": due, "checklist": {}, "decision": None, "adjusted_grade": None, "reason": None,
            "decided_at": None, "decided_by_id": None, "created_at": ts(opened, minute), "version": 1,
            "declaration_signed_at": None,
        }
        self.h.audits.append(row)
        self.h.events.append((SYSTEM, "confirmation", row["id"], "assigned", None,
                              {"assignee_id": reviewer, "round": rnd, "due_date": due.isoformat()}, None,
                              ts(opened, minute)))
        return row

    def decide(self, audit: dict, a: dict, decision: str, when: date, reason: str) -> None:
        audit.update(status="decided", decision=decision, decided_at=ts(when, DECIDED_MINUTE), decided_by_id=audit["assignee_id"],
                     reason=reason, declaration_signed_at=ts(when, 100), version=2)
        actor = self.sup(audit["assignee_id"])
        if decision == "grade_adjusted":
            audit["adjusted_grade"] = "A" * (len(a["grade"]) - 1)
        self.h.events.append((actor, "confirmation", audit["id"], "decided", None,
                              {"decision": decision, "adjusted_grade": audit["adjusted_grade"]}, reason,
                              ts(when, DECIDED_MINUTE)))
        if decision != "confirmed":
            sev = "minor" if decision == "returned" else "major"
            self.h.findings.append({
                "id": self.next_id("finding"), "audit_id": audit["id"], "severity": sev,
                "text": "评定证据不足以支持所评等级" if sev == "major" else "评定报告要素不完整",
                "against": "body" if self.rng.random() < 0.5 else "lead", "person_id": None,
                "created_by_id": audit["assignee_id"], "created_at": ts(when, 150),
            })

    def confirm(self, a: dict, filed_on: date, minute: int) -> None:
        rng = self.rng
        reviewer = self.pick_reviewer(a["body_id"])
        audit = self.audit(a, 1, filed_on, reviewer, minute)
        decided_on = filed_on + timedelta(days=int(rng.integers(2, 15)))
        if decided_on > self.as_of:
            return  # still pending
        bad = self.h.nonconforming[a["id"]]
        u = rng.random()
        if bad:
            decision = "returned" if u < 0.45 else "grade_adjusted" if u < 0.75 else "rejected"
        else:
            decision = "confirmed" if u < 0.93 else "returned"
        reasons = {"confirmed": "材料齐全,评定结论成立", "returned": "请补充现场评定证据后重新提交",
                   "grade_adjusted": "能力等级证据仅支持较低等级", "rejected": "评定过程严重不符合要求"}
        self.decide(audit, a, decision, decided_on, reasons[decision])
        decided = DECIDED_MINUTE
        if decision == "confirmed":
            self.move(a, "standing", decided_on, self.sup(reviewer), reasons[decision], minute=decided)
        elif decision == "grade_adjusted":
            a["grade"] = audit["adjusted_grade"]
            self.move(a, "standing", decided_on, self.sup(reviewer), reasons[decision], minute=decided)
        elif decision == "rejected":
            self.move(a, "rejected", decided_on, self.sup(reviewer), reasons[decision], minute=decided)
        else:
            self.move(a, "returned", decided_on, self.sup(reviewer), reasons[decision], minute=decided)
            amended = decided_on + timedelta(days=int(rng.integers(3, 20)))
            if amended > self.as_of:
                return
            a["version"] += 1
            self.h.events.append((self.clerk(a["body_id"]), "assessment", a["id"], "amended", None,
                                  {"person_days": a["person_days"]}, "按确认审核意见补充材料", ts(amended, 2)))
            self.move(a, "pending_confirmation", amended, self.clerk(a["body_id"]), "按确认审核意见补充材料", minute=2)
            audit2 = self.audit(a, 2, amended, reviewer, 2)
            decided2 = amended + timedelta(days=int(rng.integers(2, 10)))
            if decided2 > self.as_of:
                return
            d2 = "rejected" if bad and rng.random() < 0.3 else "confirmed"
            self.decide(audit2, a, d2, decided2, reasons[d2])
            self.move(a, "standing" if d2 == "confirmed" else "rejected", decided2, self.sup(reviewer), reasons[d2],
                      minute=decided)


def build_history(rng, world, cfg, as_of: date, scale: float) -> History:
    from auditbo.demo.checks import add_complaints, apply_time

    b = Builder(rng, world, cfg, as_of)
    n_ent = max(50, round(5500 * scale))
    span = 4 * 365
    for eid in range(1, n_ent + 1):
        ent = b.enterprise(eid)
        b.h.enterprises.append(ent)
        cons = None
        if rng.random() < 0.8:
            cons = world.consulting[int(rng.choice(len(world.consulting), p=world.cons_share))]
        if cons in world.cons_pref and rng.random() < 0.75:
            body = world.cons_pref[cons]
        else:
            body = world.bodies[int(rng.choice(len(world.bodies), p=world.body_share))]
        level = int(rng.choice(5, p=GRADE_P)) + 1
        decision = as_of - timedelta(days=int(rng.integers(2, span)))
        prev_level, atype, seq = None, "initial", 0
        while decision < as_of:
            a = b.file(ent, body, cons, atype, level, prev_level, decision, seq)
            if a is None or a["status"] == "rejected" or rng.random() < 0.12:
                break
            seq += 1
            prev_level = len(a["grade"]) if a["status"] == "standing" else prev_level
            decision = decision + timedelta(days=int(rng.integers(330, 390)))
            if seq % 3 == 0:
                atype = "reassessment"
            elif rng.random() < 0.12 and level < 5:
                jump = 2 if (cons and rng.random() < 0.15 + 0.15 * max(world.lax[cons], 0)) and level <= 3 else 1
                atype, level = "upgrade", level + jump
            else:
                atype = "surveillance"
            if atype == "surveillance":
                level = prev_level or level
    apply_time(b)
    add_complaints(b)  # spot checks: made through the services after the history (auditbo.spotchecks.demo)
    return b.h
