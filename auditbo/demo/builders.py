"""Registry part of the demo: bodies, staff, users, affiliations (plain dict rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from auditbo.codes import CREDIT_ALPHABET, make_credit_code
from auditbo.demo.history import build_history  # noqa: F401  (re-exported)
from auditbo.demo.names import BODY_WORDS, CITIES, CONSULT_WORDS, GIVEN, SURNAMES

NOW = datetime(2020, 1, 1, tzinfo=UTC)


def serial(n: int, salt: int) -> str:
    """A 9-character organisation id from the credit alphabet, unique per n."""
    chars = []
    v = n * 7919 + salt
    for _ in range(8):
        v, r = divmod(v, 31)
        chars.append(CREDIT_ALPHABET[r])
    return "M" + "".join(reversed(chars))


@dataclass
class World:
    orgs: list[dict] = field(default_factory=list)
    persons: list[dict] = field(default_factory=list)
    bodies: list[int] = field(default_factory=list)
    consulting: list[int] = field(default_factory=list)
    lax: dict[int, float] = field(default_factory=dict)  # org id or person pk (offset) -> laxity
    person_lax: dict[int, float] = field(default_factory=dict)
    staff: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # body -> [(person pk, qualification)]
    consultants: dict[int, list[int]] = field(default_factory=dict)
    body_share: np.ndarray | None = None
    cons_share: np.ndarray | None = None
    cons_pref: dict[int, int] = field(default_factory=dict)
    region: dict[int, str] = field(default_factory=dict)
    supervisors: list[int] = field(default_factory=list)
    clerk_of: dict[int, int] = field(default_factory=dict)

    @property
    def n_bodies(self) -> int:
        return len(self.bodies)

    @property
    def n_consulting(self) -> int:
        return len(self.consulting)


def person_name(rng: np.random.Generator) -> str:
    return SURNAMES[rng.integers(len(SURNAMES))] + "".join(
        GIVEN[i] for i in rng.integers(len(GIVEN), size=int(rng.integers(1, 3)))
    )


def build_registry(rng: np.random.Generator, scale: float) -> World:
    w = World()
    n_bodies = max(3, round(20 * min(scale, 10)))
    n_cons = max(5, round(150 * scale))
    org_id = 0
    for i in range(n_bodies):
        org_id += 1
        code, city = CITIES[i % len(CITIES)]
        name = f"{city}{BODY_WORDS[i % len(BODY_WORDS)]}两化融合评定中心有限公司"
        if i >= len(BODY_WORDS):
            name = f"{city}{BODY_WORDS[i % len(BODY_WORDS)]}{i}号评定有限公司"
        w.orgs.append(_org(org_id, code, name, "assessment_body", salt=11))
        w.bodies.append(org_id)
        w.lax[org_id] = float(rng.normal())
        w.region[org_id] = code
    for i in range(n_cons):
        org_id += 1
        code, city = CITIES[int(rng.integers(len(CITIES)))]
        word = CONSULT_WORDS[i % len(CONSULT_WORDS)]
        name = f"{city}{word}企业管理咨询有限公司" if i < len(CONSULT_WORDS) else f"{city}{word}{i}咨询有限公司"
        w.orgs.append(_org(org_id, code, name, "consulting_body", salt=13))
        w.consulting.append(org_id)
        w.lax[org_id] = float(rng.normal())
        w.region[org_id] = code
        # a third of consulting bodies steer most clients to one assessment body
        if rng.random() < 0.33:
            w.cons_pref[org_id] = w.bodies[int(rng.integers(n_bodies))]
    shares = 1.0 / np.arange(1, n_bodies + 1) ** 0.8
    w.body_share = shares / shares.sum()
    cshares = 1.0 / np.arange(1, n_cons + 1) ** 0.9
    w.cons_share = cshares / cshares.sum()

    pk = 0
    for body in w.bodies:
        staff = []
        n_staff = 12
        for j in range(n_staff):
            pk += 1
            qual = "senior_lead" if j < 3 else ("lead" if j < 6 else "assessor")
            w.persons.append(_person(pk, f"A-{pk + 1000:04d}", person_name(rng), "assessor", body, qual, rng))
            w.person_lax[pk] = 0.6 * w.lax[body] + float(rng.normal(0, 0.7))
            staff.append((pk, qual))
        w.staff[body] = staff
    for cons in w.consulting:
        members = []
        for _ in range(1 if rng.random() < 0.5 else 2):
            pk += 1
            w.persons.append(_person(pk, f"C-{pk:04d}", person_name(rng), "consultant", cons, "consultant", rng))
            w.person_lax[pk] = 0.6 * w.lax[cons] + float(rng.normal(0, 0.7))
            members.append(pk)
        w.consultants[cons] = members
    return w


def _org(org_id: int, region: str, name: str, kind: str, salt: int) -> dict:
    return {
        "id": org_id, "credit_code": make_credit_code(region, serial(org_id, salt)), "name": name, "kind": kind,
        "region_code": region, "status": "active", "scope": "两化融合管理体系评定" if kind == "assessment_body"
        else "两化融合管理体系贯标咨询", "contact": f"0{region[:3]}-8{org_id:07d}", "created_at": NOW, "updated_at": NOW,
    }


def _person(pk: int, ref: str, name: str, kind: str, org: int, qual: str, rng) -> dict:
    return {
        "id": pk, "person_id": ref, "name": name, "kind": kind, "org_id": org, "qualification": qual,
        "valid_until": date(2027 + int(rng.integers(0, 3)), 12, 31), "status": "active",
        "created_at": NOW, "updated_at": NOW,
    }


def build_users(w: World, pw_hash: str) -> list[dict]:
    rows = [_user(1, "admin", "系统管理员", "admin", None, pw_hash)]
    for i in range(6):
        uid = 2 + i
        rows.append(_user(uid, f"supervisor{i + 1}", f"监督员{i + 1}", "supervisor", None, pw_hash))
        w.supervisors.append(uid)
    uid = 1 + len(rows)
    for i, body in enumerate(w.bodies):
        rows.append(_user(uid, f"clerk{i + 1:02d}", f"填报员{i + 1:02d}", "body_clerk", body, pw_hash))
        w.clerk_of[body] = uid
        uid += 1
    for i, cons in enumerate(w.consulting[:5]):
        rows.append(_user(uid, f"consult{i + 1:02d}", f"咨询用户{i + 1:02d}", "consulting_user", cons, pw_hash))
        uid += 1
    return rows


def _user(uid, username, display, role, org, pw_hash) -> dict:
    return {"id": uid, "username": username, "display_name": display, "password_hash": pw_hash, "role": role,
            "org_id": org, "active": True, "failed_logins": 0, "created_at": NOW}


def build_affiliations(w: World, users: list[dict], rng) -> list[dict]:
    """Two supervisors once worked for an assessment body (they must be recused from it)."""
    rows = []
    for i, sup in enumerate(w.supervisors[:2]):
        rows.append({"id": i + 1, "user_id": sup, "org_id": w.bodies[i], "enterprise_id": None,
                     "started_on": date(2019, 3, 1), "ended_on": date(2024, 6, 30), "source": "declared",
                     "note": "曾任职", "created_at": NOW})
    return rows
