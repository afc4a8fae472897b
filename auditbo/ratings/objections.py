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

import sqlalchemy as sa
from flask import current_app

from auditbo import events
from auditbo.authz import Action, can, require
from auditbo.clock import to_local, today, utcnow
from auditbo.database import bulk_insert
from auditbo.errors import Conflict, FieldError, NotFound, ValidationFailed
from auditbo.events import Actor
from auditbo.evidence import Evidence
from auditbo.evidence import read_files as _read_files
from auditbo.extensions import db
from auditbo.ratings import queries
from auditbo.ratings.models import (
    OBJECTION_TRANSITIONS,
    Objection,
    ObjectionFile,
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


def read_evidence(storages) -> list[Evidence]:
    """Uploaded attachments → checked evidence (the shared checks: PDF, PNG, JPEG by their first bytes;
    at most ``OBJECTION_MAX_FILES`` of ``OBJECTION_MAX_FILE_BYTES`` each); a bad one raises 413/415/422."""
    cfg = current_app.config
    return _read_files(storages, max_files=cfg["OBJECTION_MAX_FILES"], max_bytes=cfg["OBJECTION_MAX_FILE_BYTES"])


def lodge(rating_id: int, reason: str, *, user, files: list[Evidence] = ()) -> Objection:
    """Object to a published rating with a reason and, optionally, attachments (stored with it)."""
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
    stored = _store(o, files, user)
    events.record(Actor(user.id, user.username), "rating_objection", o.id, "lodged",
                  after={"rating_id": r.id, "grade": r.grade, "period": run.period,
                         "deadline": last.isoformat() if last else None, "files": _described(stored)},
                  reason=text)
    return o


def _store(o: Objection, files, user) -> list[ObjectionFile]:
    rows = [ObjectionFile.of(f, objection_id=o.id, uploaded_by_id=user.id) for f in files]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def _described(rows) -> list[dict]:
    return [{"id": f.id, "filename": f.filename, "content_type": f.content_type, "sha256": f.sha256}
            for f in rows]


def _owner(o: Objection) -> int:
    """The body the objected rating belongs to."""
    return queries.get_rating(o.rating_id)[3]


def check_may_attach(user, objection_id: int) -> Objection:
    """The rated body's own user may add attachments to its objection (another body's: 404)."""
    o = get_objection(objection_id)
    require(user, Action.object_to_rating, _Body(_owner(o)), hide=True)
    return o


def add_files(o: Objection, files: list[Evidence], *, user) -> list[ObjectionFile]:
    """More attachments to an open objection; at most ``OBJECTION_MAX_FILES`` in all."""
    if o.status is not ObjectionStatus.lodged:
        raise Conflict("this objection is decided; nothing more can be attached")
    most = int(current_app.config["OBJECTION_MAX_FILES"])
    have = db.session.scalar(sa.select(sa.func.count()).select_from(ObjectionFile)
                             .where(ObjectionFile.objection_id == o.id))
    if not files:
        raise ValidationFailed([FieldError("files", "choose at least one PDF, PNG or JPEG file")])
    if have + len(files) > most:
        raise ValidationFailed([FieldError("files", f"an objection holds at most {most} files ({have} attached)")])
    rows = _store(o, files, user)
    events.record(Actor(user.id, user.username), "rating_objection", o.id, "evidence_added",
                  after={"files": _described(rows)})
    return rows


def files_of(objection_ids) -> dict[int, list[ObjectionFile]]:
    """The attachments (without their bytes) of these objections, by objection."""
    ids = list(objection_ids)
    out: dict[int, list[ObjectionFile]] = {i: [] for i in ids}
    if ids:
        for f in db.session.scalars(sa.select(ObjectionFile).where(ObjectionFile.objection_id.in_(ids))
                                    .order_by(ObjectionFile.id)):
            out[f.objection_id].append(f)
    return out


def get_file(user, objection_id: int, file_id: int) -> ObjectionFile:
    """One attachment for the office or the rated body's users; anyone else 404 (existence never leaks)."""
    o = get_objection(objection_id)
    if not (can(user, Action.review_rating) or can(user, Action.publish_rating)):
        require(user, Action.view_rating_explained, _Body(_owner(o)), hide=True)
    f = db.session.get(ObjectionFile, file_id)
    if f is None or f.objection_id != o.id:
        raise NotFound("no such file")
    return f


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
            "corrected_rating_id": o.corrected_rating_id,
            "files": [{"id": f.id, "filename": f.filename, "content_type": f.content_type, "size": f.size,
                       "sha256": f.sha256} for f in files_of([o.id])[o.id]]}
