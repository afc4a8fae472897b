"""Objections (异议) and credit repair: a rated body objects to its own or its staff's published
rating within ``OBJECTION_DAYS`` of publication; a supervisor who did not run the rating decides;
upheld publishes a new version of that rating with the reason, the old one kept and marked
superseded. Plain functions: validate, guarded transition, event, flush; never commit.

The period is in calendar days from the office date of publication, the last day included:
a notice period stated as "自公布之日起15日内" counts calendar days unless it says 工作日,
and a body that counts on its fingers gets the same answer as the office.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from auditbo import events
from auditbo.authz import Action, require
from auditbo.clock import to_local, today, utcnow
from auditbo.database import bulk_insert
from auditbo.errors import Conflict, FieldError, NotFound, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.ratings import queries
from auditbo.ratings.models import (
    OBJECTION_TRANSITIONS,
    Objection,
    ObjectionStatus,
    Rating,
    RatingRun,
    RunStatus,
)

MAX_TEXT = 4000


class _Body:
    def __init__(self, org_id):
        self.id = self.org_id = org_id


def deadline(run: RatingRun) -> date | None:
    """The last office day on which a published run's ratings may be objected to."""
    if run.published_at is None:
        return None
    return to_local(run.published_at).date() + timedelta(days=int(current_app.config["OBJECTION_DAYS"]))


def check_may_object(user, rating_id: int) -> tuple:
    """The rating (current, published) of the user's own body or staff, or 404/403."""
    r, sid, name, body_id, run = queries.get_rating(rating_id)
    require(user, Action.object_to_rating, _Body(body_id), hide=True)
    if run.status is not RunStatus.published:
        raise NotFound("no such rating")  # a draft is not theirs to see
    return r, run


def lodge(rating_id: int, reason: str, *, user) -> Objection:
    r, run = check_may_object(user, rating_id)
    errors = []
    text = (reason or "").strip()
    if not text or len(text) > MAX_TEXT:
        errors.append(FieldError("reason", f"give a reason of 1 to {MAX_TEXT} characters"))
    if r.superseded_at is not None:
        errors.append(FieldError("rating_id", "this version was superseded; object to the current one"))
    last = deadline(run)
    if last is not None and today() > last:
        errors.append(FieldError("rating_id", f"the objection period ended on {last.isoformat()}"))
    if errors:
        raise ValidationFailed(errors)
    if db.session.query(Objection.id).filter(Objection.rating_id == r.id,
                                             Objection.status == ObjectionStatus.lodged).first():
        raise Conflict("an objection to this rating is already open")
    OBJECTION_TRANSITIONS.check(None, ObjectionStatus.lodged)
    o = Objection(rating_id=r.id, lodged_by_id=user.id, lodged_on=today(), text=text,
                  status=ObjectionStatus.lodged)
    db.session.add(o)
    db.session.flush()
    events.record(Actor(user.id, user.username), "rating_objection", o.id, "lodged",
                  after={"rating_id": r.id, "grade": r.grade, "period": run.period,
                         "deadline": last.isoformat() if last else None}, reason=text)
    return o


def get_objection(objection_id: int) -> Objection:
    o = db.session.get(Objection, objection_id)
    if o is None:
        raise NotFound("no such objection")
    return o


def run_of(o: Objection) -> RatingRun:
    r = db.session.get(Rating, o.rating_id)
    return db.session.get(RatingRun, r.run_id)


def get_for_decision(objection_id: int, user) -> Objection:
    require(user, Action.decide_objection)
    o = get_objection(objection_id)
    require(user, Action.decide_objection, run_of(o))
    return o


def decide(o: Objection, decision: str, grade: str | None, reason: str, *, actor: Actor) -> Objection:
    errors = []
    if decision not in ("upheld", "dismissed"):
        errors.append(FieldError("decision", "must be upheld or dismissed"))
    if decision == "upheld" and grade not in ("AAA", "AA", "A", "B", "C"):
        errors.append(FieldError("grade", "an upheld objection names the corrected grade (AAA, AA, A, B or C)"))
    text = (reason or "").strip()
    if not text or len(text) > MAX_TEXT:
        errors.append(FieldError("reason", f"give a reason of 1 to {MAX_TEXT} characters"))
    if errors:
        raise ValidationFailed(errors)
    target = ObjectionStatus(decision)
    OBJECTION_TRANSITIONS.check(o.status, target)
    old = db.session.get(Rating, o.rating_id)
    before = {"status": o.status.value, "grade": old.grade}
    o.status = target
    o.decided_by_id = actor.id
    o.decided_at = utcnow()
    o.decision_reason = text
    if target is ObjectionStatus.upheld:
        o.corrected_rating_id = _new_version(old, grade, text)
    db.session.flush()
    events.record(actor, "rating_objection", o.id, decision, before=before,
                  after={"status": o.status.value, "grade": grade if decision == "upheld" else old.grade,
                         "corrected_rating_id": o.corrected_rating_id}, reason=text)
    return o


def _new_version(old: Rating, grade: str, reason: str) -> int:
    """Publish version n+1 of ``old`` with the corrected grade; ``old`` is kept, superseded."""
    if old.superseded_at is not None:
        raise Conflict("this rating was already corrected")
    old.superseded_at = utcnow()
    db.session.flush()
    change = dict(old.change or {})
    change["corrected_from"] = old.grade
    row = {c.key: getattr(old, c.key) for c in Rating.__table__.columns if c.key not in ("id",)}
    row.update(grade=grade, version=old.version + 1, superseded_at=None, correction_reason=reason, change=change)
    (new_id,) = bulk_insert(Rating, [row], returning=Rating.id)
    return new_id


def out(o: Objection) -> dict:
    run = run_of(o)
    return {"id": o.id, "rating_id": o.rating_id,
            "status": "open" if o.status is ObjectionStatus.lodged else o.status.value,
            "reason": o.text, "lodged_on": o.lodged_on, "deadline": deadline(run),
            "decision_reason": o.decision_reason, "decided_at": o.decided_at,
            "corrected_rating_id": o.corrected_rating_id}
