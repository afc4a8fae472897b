"""A spot check's checklist: the audit criteria in force for the record's grade (and type), from
:mod:`auditbo.checklists.services`, as for a confirmation audit; the check keeps the version it
was answered against, and a later version never changes it."""

from __future__ import annotations

from sqlalchemy.orm.attributes import flag_modified

from auditbo import events
from auditbo.checklists import services as criteria
from auditbo.errors import Conflict, ErrorCollector, FieldError, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.spotchecks.models import CheckStatus, SpotCheck


def for_check(check: SpotCheck) -> dict:
    """The checklist a check uses (the one it kept, else the one in force today) and its answers."""
    a = db.session.get(Assessment, check.assessment_id)
    used = criteria.in_use(check.checklist_id, bool(check.checklist_answers), a.grade.value, a.assessment_type.value)
    return {**used, "answers": check.checklist_answers or {}}


def save_answers(check: SpotCheck, answers: dict, version, actor: Actor) -> SpotCheck:
    """Answer the checklist (yes / no / na per item); the check keeps which version it used."""
    if check.status is not CheckStatus.open:
        raise Conflict("this spot check is closed; it can no longer be changed")
    current = for_check(check)
    errors = ErrorCollector()
    clean = criteria.check_answers(current, answers, errors, prefix="item_")
    errors.raise_if_any()
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationFailed([FieldError("version", "send the version you read")])
    if version != check.version:
        raise Conflict("this spot check was changed since you read it; reload it and try again")
    check.checklist_id = current["id"]
    check.checklist_answers = clean
    flag_modified(check, "checklist_answers")
    db.session.flush()
    events.record(actor, "spot_check", check.id, "checklist_saved",
                  after={"checklist_id": current["id"], "checklist_version": current["version"], "answers": clean})
    return check
