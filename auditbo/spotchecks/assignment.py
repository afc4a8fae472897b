"""Inspectors for spot checks: the engine's ``assign_inspectors`` among active supervisors.

Recused, exactly as for confirmation audits (:class:`auditbo.confirmations.assignment.ReviewerPool`):
a supervisor tied to the assessment body, the consulting body or the enterprise in the look-back
window, or listed by hand, or declared by the supervisor (:func:`declare_conflict`, the same list). A check with fewer than
``SPOTCHECK_INSPECTORS`` eligible supervisors is opened unassigned with an ``assignment_failed``
event and waits in the admins' queue: nobody is ever picked silently.
"""

from __future__ import annotations

import secrets

import pandas as pd
import sqlalchemy as sa
from flask import current_app

import sampling
from auditbo import events
from auditbo.clock import today as _today
from auditbo.confirmations import recusals
from auditbo.confirmations.assignment import ReviewerPool, parties_of
from auditbo.errors import Conflict
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.spotchecks.models import CheckStatus, SpotCheck, SpotCheckInspector


def _key(party: tuple[str, int]) -> str:
    return f"{party[0]}:{party[1]}"


def _pool() -> ReviewerPool:
    return ReviewerPool.load_from_db(_today(), current_app.config["RECUSAL_LOOKBACK_YEARS"])


def _recusals(pool: ReviewerPool) -> pd.DataFrame:
    rows = [(str(u), _key(p)) for u, ties in pool.ties.items() for p in ties]
    return pd.DataFrame(rows, columns=["inspector_id", "party_id"])


def draw_inspectors(checks: list[dict], k: int, seed: int, *, pool: ReviewerPool | None = None,
                    exclude: set[int] = frozenset()) -> tuple[dict[int, list[int]], list[int]]:
    """checks: dicts with check_id, body_id, consulting_body_id, enterprise_id; ``exclude``: supervisors
    not to draw. Returns ({check_id: [user ids]}, [check ids fewer than k supervisors may inspect])."""
    pool = pool or _pool()
    assignable, failed = [], []
    for c in checks:
        parties = parties_of(c["body_id"], c.get("consulting_body_id"), c["enterprise_id"])
        (assignable if len(pool.eligible(parties, exclude)) >= k else failed).append(c)
    out: dict[int, list[int]] = {}
    if not assignable:
        return out, [c["check_id"] for c in failed]
    frame = pd.DataFrame({
        "check_id": [str(c["check_id"]) for c in assignable],
        "body_id": [f"org:{c['body_id']}" for c in assignable],
        "consulting_body_id": [f"org:{c['consulting_body_id']}" if c.get("consulting_body_id") else None
                               for c in assignable],
        "enterprise_id": [f"ent:{c['enterprise_id']}" for c in assignable],
    })
    recusals = _recusals(pool)
    inspectors = pd.DataFrame({"inspector_id": [str(u) for u in pool.reviewers if u not in exclude]})
    result = sampling.assign_inspectors(frame, inspectors, per_check=k, random_state=seed,
                                        recusals=recusals if len(recusals) else None)
    for cid, uid in zip(result["check_id"], result["inspector_id"], strict=True):
        out.setdefault(int(cid), []).append(int(uid))
    return out, [c["check_id"] for c in failed]


def open_checks(plan, selected: pd.DataFrame, parties: pd.DataFrame, actor: Actor, *, seed: int,
                on=None) -> list[int]:
    """Open one spot check per selected unit and draw its inspectors (the plan's seed, recorded);
    ``on``: the opening day (today unless a history is replayed, as the demo does)."""
    k = int(current_app.config["SPOTCHECK_INSPECTORS"])
    today = on or _today()
    by_unit = parties.set_index("unit_id")
    checks = []
    for unit_id, pi in zip(selected["unit_id"], selected["inclusion_probability"], strict=True):
        p = by_unit.loc[unit_id]
        check = SpotCheck(plan_id=plan.id, assessment_id=int(unit_id), inclusion_probability=float(pi),
                          status=CheckStatus.open, opened_on=today, assign_seed=seed)
        db.session.add(check)
        checks.append((check, {"body_id": int(p["body_id"]), "enterprise_id": int(p["enterprise_id"]),
                               "consulting_body_id": None if pd.isna(p["consulting_body_id"])
                               else int(p["consulting_body_id"])}))
    db.session.flush()
    drawn, failed = draw_inspectors([{"check_id": c.id, **parts} for c, parts in checks], k, seed)
    evs = []
    for check, _parts in checks:
        users = drawn.get(check.id, [])
        for uid in users:
            db.session.add(SpotCheckInspector(spot_check_id=check.id, user_id=uid))
        evs.append((actor, "spot_check", check.id, "opened", None,
                    {"plan_id": plan.id, "assessment_id": check.assessment_id,
                     "inclusion_probability": check.inclusion_probability, "inspectors": users, "seed": seed}, None))
        if check.id in failed:
            evs.append((actor, "spot_check", check.id, "assignment_failed", None,
                        {"needed": k, "reason": "fewer eligible supervisors than inspectors needed"}, None))
    db.session.flush()
    events.record_many(evs)
    return [c.id for c, _ in checks]


def declare_conflict(check: SpotCheck, parties: list[str], reason: str, actor: Actor) -> list[int]:
    """An assigned inspector declares a tie to the record's body, consulting body or enterprise: the tie
    joins the recusal list (so no later draw picks them for these parties, on a spot check or a
    confirmation audit) and the check's team is drawn afresh among the eligible supervisors (the engine's
    balanced, seeded draw; the seed is recorded). With too few left, the others stay and the
    check keeps fewer inspectors than it needs, with an ``assignment_failed`` event: it waits in the
    admins' queue (never a recused inspector)."""
    if check.status is not CheckStatus.open:
        raise Conflict("this spot check is closed; its inspectors stay as they were")
    a = db.session.get(Assessment, check.assessment_id)
    recusals.declare_ties(a, parties, reason, actor)
    current = set(db.session.scalars(sa.select(SpotCheckInspector.user_id)
                                     .where(SpotCheckInspector.spot_check_id == check.id)))
    db.session.execute(sa.delete(SpotCheckInspector).where(SpotCheckInspector.spot_check_id == check.id,
                                                           SpotCheckInspector.user_id == actor.id))
    seed = secrets.randbits(62)
    c = {"check_id": check.id, "body_id": a.body_id, "consulting_body_id": a.consulting_body_id,
         "enterprise_id": a.enterprise_id}
    k = int(current_app.config["SPOTCHECK_INSPECTORS"])
    drawn, failed = draw_inspectors([c], k, seed, pool=_pool())  # the declarer is recused by now
    if not failed:  # the engine draws the whole team afresh (balanced, seeded); else the others stay
        db.session.execute(sa.delete(SpotCheckInspector).where(SpotCheckInspector.spot_check_id == check.id))
        for uid in drawn[check.id]:
            db.session.add(SpotCheckInspector(spot_check_id=check.id, user_id=uid))
        check.assign_seed = seed
    db.session.flush()
    after = sorted(drawn[check.id]) if not failed else sorted(current - {actor.id})
    events.record(actor, "spot_check", check.id, "conflict_declared", before={"inspectors": sorted(current)},
                  after={"parties": list(dict.fromkeys(parties)), "inspectors": after, "seed": seed},
                  reason=reason.strip())
    if failed:
        events.record(actor, "spot_check", check.id, "assignment_failed",
                      after={"needed": k, "inspectors": after,
                             "reason": "no eligible supervisor left to replace an inspector who declared a tie"})
    return after


def reassign(check: SpotCheck, reason: str, actor: Actor) -> list[int]:
    """Admin: draw the check's inspectors afresh (others than the current ones where enough remain)."""
    from auditbo.errors import FieldError, ValidationFailed

    if not (reason or "").strip():
        raise ValidationFailed([FieldError("reason", "give the reason")])
    if check.status is not CheckStatus.open:
        raise Conflict("a closed spot check keeps its inspectors")
    k = int(current_app.config["SPOTCHECK_INSPECTORS"])
    a = db.session.get(Assessment, check.assessment_id)
    current = set(db.session.scalars(sa.select(SpotCheckInspector.user_id)
                                     .where(SpotCheckInspector.spot_check_id == check.id)))
    pool = _pool()
    c = {"check_id": check.id, "body_id": a.body_id, "consulting_body_id": a.consulting_body_id,
         "enterprise_id": a.enterprise_id}
    seed = secrets.randbits(62)
    parties = parties_of(a.body_id, a.consulting_body_id, a.enterprise_id)
    exclude = current if len(pool.eligible(parties, current)) >= k else set()
    drawn, failed = draw_inspectors([c], k, seed, pool=pool, exclude=exclude)
    if failed:
        raise Conflict(f"fewer than {k} supervisors may inspect this record (the others are recused)")
    users = drawn[check.id]
    db.session.execute(sa.delete(SpotCheckInspector).where(SpotCheckInspector.spot_check_id == check.id))
    for uid in users:
        db.session.add(SpotCheckInspector(spot_check_id=check.id, user_id=uid))
    check.assign_seed = seed
    db.session.flush()
    events.record(actor, "spot_check", check.id, "reassigned", before={"inspectors": sorted(current)},
                  after={"inspectors": users, "seed": seed}, reason=reason.strip())
    return users
