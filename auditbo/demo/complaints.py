"""Complaints and sanctions of the demo, made through the services after the history is in.

The history (``checks.add_complaints``) decides which records draw a complaint and how it ends;
here each is registered, investigated and closed through :mod:`auditbo.complaints.services`, so
the demo holds complaints in every state (some overdue), with their events, as the office makes
them. A few come from the public form (with tracking codes). The body with the most substantiated
complaints is suspended for 90 days, a lead assessor of another body is suspended, a body is
warned, and the revocation of one certificate waits for a second admin (four eyes).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from auditbo.accounts.models import Role, User
from auditbo.complaints import services as complaints
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentStatus, TeamMember, TeamRole
from auditbo.orgs.models import Organisation, Person
from auditbo.sanctions import services as sanctions

LAW = "《两化融合管理体系评定管理办法》"


def _actors() -> tuple[Actor, list[Actor]]:
    users = db.session.execute(
        sa.select(User.id, User.username, User.role)
        .where(User.role.in_([Role.admin, Role.supervisor]))
        .order_by(User.id)
    ).all()
    admin = next(Actor(u.id, u.username) for u in users if u.role is Role.admin)
    sups = [Actor(u.id, u.username) for u in users if u.role is Role.supervisor] or [admin]
    return admin, sups


def _every_state(plans: list[dict]) -> list[dict]:
    """A small demo may draw no complaint that is still under investigation or was found substantiated:
    turn the oldest closed ones into those, so that every state shows."""
    plans = [dict(p) for p in plans]
    closed = sorted(
        (p for p in plans if p["status"] in ("substantiated", "unsubstantiated")),
        key=lambda p: (p["received_on"], p["assessment_id"]),
    )
    have = {p["status"] for p in plans}
    for state in ("substantiated", "investigating"):
        if state not in have and closed:
            p = closed.pop(0)
            p["status"] = state
            p["resolution"] = "经核查属实" if state == "substantiated" else None
            p["closed_on"] = p["closed_on"] if state == "substantiated" else None
    return plans


def run_complaints(plans: list[dict], as_of: date) -> dict[str, int]:
    plans = _every_state(plans)
    admin, sups = _actors()
    codes = dict(db.session.execute(sa.select(Organisation.id, Organisation.credit_code)).all())
    substantiated: Counter = Counter()
    for i, p in enumerate(plans):
        sup = sups[i % len(sups)]
        c = complaints.register(
            {
                "against": {"kind": "assessment_body", "credit_code": codes[p["against_org_id"]]},
                "assessment_id": p["assessment_id"],
                "text": p["summary"],
                "source": p["source"],
                "complainant": p["complainant"],
                "received_on": p["received_on"],
            },
            actor=sup,
        )
        if p["status"] == "received":
            continue
        if p["status"] == "unsubstantiated" and i % 3 == 0:  # closed at once, without an investigation
            complaints.transition(c, "unsubstantiated", "投诉内容与事实明显不符", c.version, actor=sup)
        else:
            complaints.transition(c, "investigating", "已立案调查", c.version, actor=sup)
            if p["status"] != "investigating":
                complaints.transition(c, p["status"], p["resolution"], c.version, actor=sup)
        if c.status.closed:
            c.closed_on = p["closed_on"]  # when it was closed in the history, not today
        if p["status"] == "substantiated":
            substantiated[p["against_org_id"]] += 1
    public = _public_complaints(as_of)
    _sanctions(substantiated, admin, sups, as_of)
    db.session.flush()
    return {"complaints": len(plans) + public}


def _public_complaints(as_of: date) -> int:
    certs = db.session.scalars(
        sa.select(Assessment.certificate_no)
        .where(Assessment.status == AssessmentStatus.standing)
        .order_by(Assessment.decision_date.desc())
        .limit(3)
    ).all()
    texts = ["评定组现场只待了半天,人日明显不足", "证书等级与企业实际水平不符", "咨询机构承诺包过评定"]
    for cert, text in zip(certs, texts, strict=False):
        complaints.submit_public(
            {"certificate_no": cert, "text": text, "contact": "138****0000", "name": None}
        )
    return len(certs)


def _sanctions(substantiated: Counter, admin: Actor, sups: list[Actor], as_of: date) -> None:
    if substantiated:
        worst = db.session.get(Organisation, substantiated.most_common(1)[0][0])
        sanctions.sanction_party(
            worst,
            "suspension",
            f"{substantiated[worst.id]} 起投诉经查属实,暂停评定业务",
            LAW,
            actor=admin,
            ends_on=as_of + timedelta(days=90),
        )
    bodies = db.session.scalars(
        sa.select(Organisation)
        .where(Organisation.kind == "assessment_body", Organisation.status == "active")
        .order_by(Organisation.id)
    ).all()
    if len(bodies) >= 2:
        sanctions.sanction_party(
            bodies[0], "warning", "多次迟报评定结果", LAW, actor=admin, ends_on=as_of + timedelta(days=180)
        )
        lead = db.session.scalar(
            sa.select(Person)
            .join(TeamMember, TeamMember.person_id == Person.id)
            .where(TeamMember.role == TeamRole.lead, Person.org_id == bodies[1].id, Person.status == "active")
            .limit(1)
        )
        if lead is not None:
            sanctions.sanction_party(
                lead,
                "suspension",
                "评定组长未到现场即签署评定报告",
                LAW,
                actor=admin,
                ends_on=as_of + timedelta(days=365),
            )
    cert = db.session.scalar(
        sa.select(Assessment)
        .where(Assessment.status == AssessmentStatus.standing)
        .order_by(Assessment.id)
        .limit(1)
    )
    if cert is not None:  # proposed by a supervisor, waiting for an admin (four eyes)
        sanctions.sanction_certificate(cert, "revocation", "企业提供虚假材料骗取证书", LAW, actor=sups[0])
