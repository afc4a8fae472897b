"""The demo's spot checks, made through the services (create → approve → draw → work → disclose).

Two past plans are drawn and closed (their outcomes follow the demo's hidden truth per record),
so that the risk model has labelled history; a current plan is drawn with most checks still
open, for the demo supervisors (the inspectors) to work. Past days are replayed with the
services' ``plan_date``/``on`` arguments; everything else is what the pages and the API do.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa

from auditbo.accounts.models import Role, User
from auditbo.errors import DomainError
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings.models import Assessment, Grade
from auditbo.spotchecks import checks as work
from auditbo.spotchecks import services
from auditbo.spotchecks.frame import build_frame
from auditbo.spotchecks.models import SpotCheck, SpotCheckInspector

# (days before the demo's day, share of the frame, share of its checks closed by the demo's day)
PLANS = ((420, 0.05, 1.0), (210, 0.04, 1.0), (25, 0.02, 0.3))
LOOKBACK_DAYS = 3 * 365


def _actor(user: User) -> Actor:
    return Actor(user.id, user.username)


def _close(check: SpotCheck, bad: bool, rng, on: date) -> None:
    inspector_id = db.session.scalar(sa.select(SpotCheckInspector.user_id)
                                     .where(SpotCheckInspector.spot_check_id == check.id).order_by(
        SpotCheckInspector.user_id).limit(1))
    if inspector_id is None:
        return  # unassigned: it waits in the admins' queue
    insp = _actor(db.session.get(User, inspector_id))
    u = rng.random()
    outcome = ("major_findings" if u < 0.6 else "minor_findings") if bad else (
        "minor_findings" if u < 0.12 else "conforming")
    consequence, grade, reason = "none", None, None
    if outcome == "major_findings":
        a = db.session.get(Assessment, check.assessment_id)
        work.add_finding(check, "major", "现场核查发现能力等级证据不足", "body", None, insp)
        v = rng.random()
        if v < 0.3 and Grade(a.grade).level > 1:
            consequence, grade, reason = "downgrade", Grade.of_level(Grade(a.grade).level - 1).value, "抽查后降级"
        elif v < 0.8:
            consequence, reason = "suspend", "抽查发现严重不符合,暂停证书"
        else:
            consequence, reason = "revoke", "抽查发现严重不符合,撤销证书"
    elif outcome == "minor_findings":
        work.add_finding(check, "minor", "评定记录不完整", "body", None, insp)
    work.close(check, outcome, consequence, grade, reason, check.version, insp, on=on)


def run_plans(as_of: date, truth: dict[int, bool], *, seed: int) -> dict[str, int]:
    """Create, approve, draw and work the demo's plans; returns counts."""
    from flask import current_app

    rng = np.random.default_rng(seed)
    supervisors = db.session.scalars(sa.select(User).where(User.role == Role.supervisor, User.active.is_(True))
                                     .order_by(User.id)).all()
    admin = db.session.scalars(sa.select(User).where(User.role == Role.admin).order_by(User.id)).first()
    if not supervisors or admin is None:
        return {"plans": 0, "spot checks": 0}
    n_checks = n_plans = 0
    for k, (days_back, share, closed_share) in enumerate(PLANS):
        day = as_of - timedelta(days=days_back)
        population = {"decided_from": (day - timedelta(days=LOOKBACK_DAYS)).isoformat(),
                      "decided_to": (day - timedelta(days=30)).isoformat()}
        frame = build_frame(services.clean_population(population, _Quiet()), day, current_app.config,
                            with_history=False)
        if frame.size < 20:
            continue
        size = max(5, min(int(frame.size * share), frame.size // 3))
        size = max(size, frame.mandatory_count + 1)
        author = supervisors[k % len(supervisors)]
        try:
            plan = services.create_plan({"name": f"{day.year}年度两化融合评定结果抽查计划({k + 1})",
                                         "population": population, "size": size, "uniform_share": 0.2},
                                        _actor(author), plan_date=day)
            services.approve_plan(plan, _actor(admin))
            services.draw_plan(plan, _actor(admin), seed=1000 + k, on=day + timedelta(days=1))
        except DomainError:
            continue
        n_plans += 1
        checks = db.session.scalars(sa.select(SpotCheck).where(SpotCheck.plan_id == plan.id)
                                    .order_by(SpotCheck.id)).all()
        n_checks += len(checks)
        for check in checks:
            closed_on = day + timedelta(days=int(rng.integers(20, 90)))
            if rng.random() >= closed_share or closed_on > as_of:
                continue
            try:
                with db.session.begin_nested():  # a refused consequence leaves the check open, whole
                    _close(check, truth.get(check.assessment_id, False), rng, closed_on)
            except DomainError:
                db.session.expire(check)
                continue
            if check.closed_on and rng.random() < 0.9:
                disclosed = closed_on + timedelta(days=int(rng.integers(3, 25)))
                if disclosed <= as_of:
                    work.disclose(check, _actor(admin), on=disclosed)
    return {"plans": n_plans, "spot checks": n_checks}


class _Quiet:
    """An error collector for a population the demo builds itself (always valid)."""

    def __init__(self):
        self.errors = []

    def add(self, field: str, message: str) -> None:
        self.errors.append((field, message))
