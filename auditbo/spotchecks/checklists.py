"""The audit criteria (严控审核标准, 分级分类): versioned checklists per grade, optionally per assessment type.

The checklist in force for a record is the newest version, effective by the day asked about, for
its grade and type, else for its grade (any type); before the office publishes one, the built-in
list (version 0: the confirmation audit's seven items) serves. A spot check keeps the id of the
version it was answered against; a new version never changes an answered check.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified

from auditbo import events
from auditbo.clock import today as _today
from auditbo.confirmations.services import CHECKLIST as BUILT_IN
from auditbo.errors import Conflict, ErrorCollector, FieldError, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentType, Grade
from auditbo.spotchecks.models import Checklist, CheckStatus, SpotCheck

ANSWERS = ("yes", "no", "na")
MAX_ITEMS = 60


def in_force(grade: str, assessment_type: str | None, day: date) -> Checklist | None:
    for t in ([assessment_type, None] if assessment_type else [None]):
        row = db.session.scalars(
            sa.select(Checklist).where(Checklist.grade == grade, Checklist.effective_from <= day,
                                       Checklist.assessment_type.is_(None) if t is None
                                       else Checklist.assessment_type == t)
            .order_by(Checklist.version.desc()).limit(1)).first()
        if row is not None:
            return row
    return None


def items_of(checklist: Checklist | None) -> list[dict]:
    if checklist is None:
        return [{"key": k, "text": str(t)} for k, t in BUILT_IN]
    return list(checklist.items)


def for_check(check: SpotCheck) -> dict:
    """The checklist a check uses: the one it was answered against, else the one in force today."""
    cl = db.session.get(Checklist, check.checklist_id) if check.checklist_id else None
    if cl is None:
        a = db.session.get(Assessment, check.assessment_id)
        cl = in_force(a.grade.value, a.assessment_type.value, _today())
    return {"id": cl.id if cl else None, "version": cl.version if cl else 0, "grade": cl.grade if cl else None,
            "items": items_of(cl), "answers": check.checklist_answers or {}}


def publish(grade: str, assessment_type: str | None, items, effective_from, actor: Actor) -> Checklist:
    """A new version of a grade's (and type's) checklist; items: [{"key", "text"}] or lines of text."""
    errors = ErrorCollector()
    if grade not in {g.value for g in Grade}:
        errors.add("grade", f"must be one of {', '.join(g.value for g in Grade)}")
    assessment_type = assessment_type or None
    if assessment_type and assessment_type not in {t.value for t in AssessmentType}:
        errors.add("assessment_type", "unknown assessment type")
    if isinstance(items, str):
        items = [{"key": f"item{i + 1}", "text": line.strip()} for i, line in enumerate(items.splitlines())
                 if line.strip()]
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS or not all(
            isinstance(i, dict) and str(i.get("text", "")).strip() and str(i.get("key", "")).strip() for i in items):
        errors.add("items", f"1 to {MAX_ITEMS} items, each with a key and a text")
    elif len({i["key"] for i in items}) != len(items):
        errors.add("items", "item keys must differ")
    if isinstance(effective_from, str):
        try:
            effective_from = date.fromisoformat(effective_from) if effective_from else _today()
        except ValueError:
            errors.add("effective_from", "a date YYYY-MM-DD")
    effective_from = effective_from or _today()
    errors.raise_if_any()
    last = db.session.scalar(sa.select(sa.func.max(Checklist.version)).where(
        Checklist.grade == grade, Checklist.assessment_type.is_(None) if assessment_type is None
        else Checklist.assessment_type == assessment_type)) or 0
    cl = Checklist(grade=grade, assessment_type=assessment_type, version=last + 1,
                   items=[{"key": str(i["key"]).strip()[:40], "text": str(i["text"]).strip()[:1000]} for i in items],
                   effective_from=effective_from, created_by_id=actor.id)
    db.session.add(cl)
    db.session.flush()
    events.record(actor, "checklist", cl.id, "published",
                  after={"grade": grade, "assessment_type": assessment_type, "version": cl.version,
                         "items": cl.items, "effective_from": effective_from.isoformat()})
    return cl


def save_answers(check: SpotCheck, answers: dict, version, actor: Actor) -> SpotCheck:
    """Answer the checklist in force (yes / no / na per item); the check keeps which version it used."""
    if check.status is not CheckStatus.open:
        raise Conflict("this spot check is closed; it can no longer be changed")
    current = for_check(check)
    keys = {i["key"] for i in current["items"]}
    errors = ErrorCollector()
    for k, v in answers.items():
        if k not in keys:
            errors.add(f"item_{k}", "not an item of this checklist")
        elif v not in ANSWERS:
            errors.add(f"item_{k}", "yes, no or na")
    errors.raise_if_any()
    if not isinstance(version, int) or version != check.version:
        raise Conflict("this spot check was changed since you read it; reload it and try again") if isinstance(
            version, int) else ValidationFailed([FieldError("version", "send the version you read")])
    check.checklist_id = current["id"]
    check.checklist_answers = {k: v for k, v in answers.items() if v}
    flag_modified(check, "checklist_answers")
    db.session.flush()
    events.record(actor, "spot_check", check.id, "checklist_saved",
                  after={"checklist_id": current["id"], "checklist_version": current["version"],
                         "answers": check.checklist_answers})
    return check
