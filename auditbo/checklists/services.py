"""Which checklist an audit uses, checking its answers, and publishing a new version.

The checklist in force for a record on a day is, for its grade and type, else for its grade (any
type), the version with the latest ``effective_from`` by that day (the higher version on a tie).
Before the office publishes any, the built-in list serves: version 0, the seven items confirmation
audits have always used. An audit answered once keeps its version (``checklist_id``; none kept and
answers present means the built-in), so a later version never changes an answered audit.
"""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from auditbo import events
from auditbo.checklists.models import Checklist
from auditbo.clock import today as _today
from auditbo.errors import ErrorCollector
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings.models import AssessmentType, Grade

# version 0, before the office publishes one: (key, question)
BUILT_IN = [
    ("scope", _l("The capabilities and their levels fit the enterprise's business and size")),
    ("team", _l("The team is registered and qualified; the lead may lead this grade")),
    ("person_days", _l("Person-days meet the minimum, or the reduction is justified")),
    ("evidence", _l("The on-site evidence supports every capability level")),
    ("grade", _l("The grade follows from the highest capability level")),
    ("ties", _l("No undisclosed tie between the consulting side and the assessing side")),
    ("report", _l("The report and the certificate data are complete and consistent")),
]
ANSWERS = ("yes", "no", "na")
MAX_ITEMS = 60
MAX_KEY, MAX_TEXT = 40, 1000
_KEY = re.compile(r"[A-Za-z0-9_]+")


def _type_clause(assessment_type: str | None):
    return (
        Checklist.assessment_type.is_(None)
        if assessment_type is None
        else Checklist.assessment_type == assessment_type
    )


def in_force(grade: str, assessment_type: str | None, day: date) -> Checklist | None:
    """The published version in force on ``day`` (None: the built-in list serves)."""
    for t in [assessment_type, None] if assessment_type else [None]:
        row = db.session.scalars(
            sa.select(Checklist)
            .where(Checklist.grade == grade, Checklist.effective_from <= day, _type_clause(t))
            .order_by(Checklist.effective_from.desc(), Checklist.version.desc())
            .limit(1)
        ).first()
        if row is not None:
            return row
    return None


def _text(lazy) -> str:
    """A built-in item in the reader's language; outside a request (a job, the CLI) its English msgid."""
    if has_request_context() or not isinstance(lazy, LazyString):
        return str(lazy)
    return str(lazy._args[0])


def describe(checklist: Checklist | None) -> dict:
    """A checklist as pages and the API show it; None is the built-in version 0 (texts in the reader's language)."""
    if checklist is None:
        return {
            "id": None,
            "version": 0,
            "grade": None,
            "assessment_type": None,
            "effective_from": None,
            "items": [{"key": k, "text": _text(t)} for k, t in BUILT_IN],
        }
    return {
        "id": checklist.id,
        "version": checklist.version,
        "grade": checklist.grade,
        "assessment_type": checklist.assessment_type,
        "effective_from": checklist.effective_from,
        "items": list(checklist.items),
    }


def in_use(
    checklist_id: int | None, answered: bool, grade: str, assessment_type: str | None, day: date | None = None
) -> dict:
    """The checklist an audit uses: the version it kept, the built-in when it was answered before any
    version was kept, else the one in force on ``day`` (today)."""
    if checklist_id is not None:
        return describe(db.session.get(Checklist, checklist_id))
    if answered:
        return describe(None)
    return describe(in_force(grade, assessment_type, day or _today()))


def check_answers(checklist: dict, answers: dict, errors: ErrorCollector, *, prefix: str) -> dict[str, str]:
    """Answers (yes / no / na per item of this checklist; empty ones dropped), errors named ``prefix + key``."""
    keys = [i["key"] for i in checklist["items"]]
    clean: dict[str, str] = {}
    for key, value in (answers or {}).items():
        if key not in keys:
            errors.add(f"{prefix}{key}", "is not an item of this checklist")
        elif value in (None, ""):
            continue
        elif value not in ANSWERS:
            errors.add(f"{prefix}{key}", f"must be one of {', '.join(ANSWERS)}")
        else:
            clean[key] = value
    return {k: clean[k] for k in keys if k in clean}


def publish(grade: str, assessment_type: str | None, items, effective_from, actor: Actor) -> Checklist:
    """A new version of a grade's (and type's) checklist, in force from ``effective_from`` (today or later:
    criteria are never changed retroactively). ``items``: [{"key", "text"}], or lines of text."""
    errors = ErrorCollector()
    if grade not in {g.value for g in Grade}:
        errors.add("grade", f"must be one of {', '.join(g.value for g in Grade)}")
    assessment_type = assessment_type or None
    if assessment_type and assessment_type not in {t.value for t in AssessmentType}:
        errors.add("assessment_type", f"must be one of {', '.join(t.value for t in AssessmentType)}")
    if isinstance(items, str):
        items = [
            {"key": f"item{i + 1}", "text": line.strip()}
            for i, line in enumerate([ln for ln in items.splitlines() if ln.strip()])
        ]
    if (
        not isinstance(items, list)
        or not items
        or len(items) > MAX_ITEMS
        or not all(
            isinstance(i, dict)
            and isinstance(i.get("key"), str)
            and isinstance(i.get("text"), str)
            and i["key"].strip()
            and i["text"].strip()
            for i in items
        )
    ):
        errors.add("items", f"1 to {MAX_ITEMS} items, each with a key and a text")
    elif any(len(i["key"].strip()) > MAX_KEY or len(i["text"].strip()) > MAX_TEXT for i in items):
        errors.add("items", f"a key has at most {MAX_KEY} characters, a text at most {MAX_TEXT}")
    elif not all(_KEY.fullmatch(i["key"].strip()) for i in items):
        errors.add("items", "a key is made of letters, digits and _ only")
    elif len({i["key"].strip() for i in items}) != len(items):
        errors.add("items", "item keys must differ")
    today = _today()
    if effective_from in (None, ""):
        effective_from = today
    elif isinstance(effective_from, str):
        try:
            effective_from = date.fromisoformat(effective_from)
        except ValueError:
            errors.add("effective_from", "a date YYYY-MM-DD")
    if isinstance(effective_from, date) and effective_from < today:
        errors.add("effective_from", f"must be today ({today.isoformat()}) or later")
    errors.raise_if_any()
    last = (
        db.session.scalar(
            sa.select(sa.func.max(Checklist.version)).where(
                Checklist.grade == grade, _type_clause(assessment_type)
            )
        )
        or 0
    )
    cl = Checklist(
        grade=grade,
        assessment_type=assessment_type,
        version=last + 1,
        items=[{"key": i["key"].strip(), "text": i["text"].strip()} for i in items],
        effective_from=effective_from,
        created_by_id=actor.id,
    )
    db.session.add(cl)
    db.session.flush()
    events.record(
        actor,
        "checklist",
        cl.id,
        "published",
        after={
            "grade": grade,
            "assessment_type": assessment_type,
            "version": cl.version,
            "items": cl.items,
            "effective_from": effective_from.isoformat(),
        },
    )
    return cl


def versions(grade: str | None = None, assessment_type: str | None = None) -> list[dict]:
    """Every published version (newest first), each marked when it is in force today."""
    stmt = sa.select(Checklist)
    if grade:
        stmt = stmt.where(Checklist.grade == grade)
    if assessment_type:
        stmt = stmt.where(Checklist.assessment_type == assessment_type)
    rows = db.session.scalars(
        stmt.order_by(Checklist.grade, sa.nulls_first(Checklist.assessment_type), Checklist.version.desc())
    ).all()
    today = _today()
    current: set[int] = set()
    for g, t in {(r.grade, r.assessment_type) for r in rows}:
        cl = in_force(g, t, today)
        if cl is not None and cl.assessment_type == t:
            current.add(cl.id)
    return [{**describe(r), "in_force": r.id in current, "created_at": r.created_at} for r in rows]
