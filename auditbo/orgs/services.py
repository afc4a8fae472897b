"""The registry: bodies and their staff — validation, upserts, status changes, qualification rules.

Every change appends an event (``record_type`` ``"organisation"`` or ``"person"``, the
row's id): the event log *is* the change history of a registry entry
(:func:`history`). Services validate (collecting every error first), change, log,
and never commit.

Filing calls the two pure helpers :func:`lead_may_lead` and :func:`person_is_usable`
(or :func:`person_problems` for the reasons, to put in a validation error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from auditbo import clock, events
from auditbo.errors import FieldError, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.orgs.models import Organisation, Person, PersonKind, RegistryStatus
from auditbo.orgs.rules import lead_may_lead, person_is_usable, person_problems  # noqa: F401  (filing's entry points)
from auditbo.orgs.validation import (  # noqa: F401  (re-exported: imports and views use them from here)
    EMPLOYER_KIND,
    check_id_number,
    hash_id_number,
    parse_date,
    validate_org,
    validate_person,
)
from auditbo.states import Transitions

RS = RegistryStatus
# revoked is final: a revoked body or person re-enters the registry only under a new registration
STATUS_TRANSITIONS = Transitions({RS.active: {RS.suspended, RS.revoked}, RS.suspended: {RS.active, RS.revoked}})
IMPORT_REASON = "registry import"


# --------------------------------------------------------------------------- snapshots (event payloads)
ORG_TRACKED = ("credit_code", "name", "kind", "region_code", "scope", "contact")
PERSON_TRACKED = ("person_id", "name", "kind", "org_id", "qualification", "valid_until")


def _value(v):
    if hasattr(v, "value"):
        return v.value
    if isinstance(v, date):
        return v.isoformat()
    return v


def _snapshot(obj, keys) -> dict:
    return {k: _value(getattr(obj, k)) for k in keys}


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    changed = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def record_type_of(obj) -> str:
    return "organisation" if isinstance(obj, Organisation) else "person"


# --------------------------------------------------------------------------- status
def _check_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", "a reason is required")])
    if len(reason) > 2000:
        raise ValidationFailed([FieldError("reason", "must be at most 2000 characters")])
    return reason


def change_status(obj: Organisation | Person, status: RegistryStatus | str, reason: str, *,
                  actor: Actor, on: date | None = None) -> None:
    """Suspend, reinstate or revoke a body or a person, with a reason; appends a ``status_changed`` event.

    Allowed moves: active → suspended | revoked; suspended → active | revoked; revoked is final.
    The date (``on``, default today) is kept on a body (``status_changed_on``) and in the
    event for both.
    """
    target = RegistryStatus(status)
    reason = _check_reason(reason)
    STATUS_TRANSITIONS.check(RegistryStatus(obj.status), target)
    events.record_many([_set_status(obj, target, reason, actor=actor, on=on or clock.today())])


def _set_status(obj, target: RegistryStatus, reason: str, *, actor: Actor, on: date) -> tuple:
    before = {"status": _value(obj.status), "status_reason": obj.status_reason}
    obj.status = target
    obj.status_reason = reason
    if isinstance(obj, Organisation):
        before["status_changed_on"] = _value(obj.status_changed_on)
        obj.status_changed_on = on
    db.session.flush()
    after = {"status": target.value, "status_reason": reason, "status_changed_on": on.isoformat()}
    return (actor, record_type_of(obj), obj.id, "status_changed", before, after, reason)


def _status_problem(current: RegistryStatus | None, target: RegistryStatus) -> str | None:
    if current is None or current is target:
        return None
    if not STATUS_TRANSITIONS.allowed(current, target):
        return f"cannot move from {current.value} to {target.value}"
    return None


# --------------------------------------------------------------------------- upserts
@dataclass(frozen=True)
class Upserted:
    obj: Organisation | Person
    outcome: str  # created | updated | unchanged


def org_problems(clean: dict, existing: Organisation | None) -> list[FieldError]:
    """Checks that need the stored body: its kind never changes, its status moves only as allowed."""
    return _stored_record_problems(clean, existing) if existing is not None else []


def _stored_record_problems(clean: dict, existing: Organisation | Person) -> list[FieldError]:
    """A registered body or person: its kind never changes, its status moves only as allowed."""
    errors = []
    if clean.get("kind") is not None and clean["kind"] != existing.kind:
        errors.append(FieldError("kind", f"cannot change: registered as {existing.kind.value}"))
    if clean.get("status") is not None:
        problem = _status_problem(RegistryStatus(existing.status), clean["status"])
        if problem:
            errors.append(FieldError("status", problem))
    return errors


def person_problems_in_registry(clean: dict, existing: Person | None, employer: Organisation | None) -> list[FieldError]:
    """Checks that need the registry: the employer is registered and of the right kind, moves are allowed."""
    errors = []
    if clean.get("org_credit_code"):
        if employer is None:
            errors.append(FieldError("org_credit_code", f"no registered body with credit code {clean['org_credit_code']}"))
        elif clean.get("kind") is not None and employer.kind != EMPLOYER_KIND[clean["kind"]]:
            errors.append(FieldError("org_credit_code", f"an {clean['kind'].value} works for an "
                                     f"{EMPLOYER_KIND[clean['kind']].value}, not a {employer.kind.value}"
                                     if clean["kind"] is PersonKind.assessor else
                                     f"a consultant works for a consulting_body, not a {employer.kind.value}"))
    if existing is not None:
        errors += _stored_record_problems(clean, existing)
    return errors


def apply_org(clean: dict, existing: Organisation | None, *, actor: Actor, today: date,
              reason: str = IMPORT_REASON, clear: tuple[str, ...] = ()) -> tuple[Upserted, list[tuple]]:
    """Create or update a validated body; returns the outcome and the events to append.

    An optional field missing from ``clean`` is left alone, unless named in ``clear``
    (a form that emptied it), which sets it to NULL.
    """
    out: list[tuple] = []
    fields = {k: clean[k] for k in ORG_TRACKED if k in clean and clean[k] is not None}
    status = clean.get("status")
    status_reason = clean.get("status_reason") or reason
    if existing is None:
        org = Organisation(**fields, status=RegistryStatus.active)
        if status is not None and status is not RegistryStatus.active:
            org.status, org.status_reason, org.status_changed_on = status, status_reason, today
        db.session.add(org)
        db.session.flush()
        after = _snapshot(org, ORG_TRACKED) | {"status": org.status.value, "status_reason": org.status_reason}
        out.append((actor, "organisation", org.id, "created", None, after, None))
        return Upserted(org, "created"), out
    before = _snapshot(existing, ORG_TRACKED)
    for k, v in fields.items():
        if k not in ("credit_code", "kind"):
            setattr(existing, k, v)
    for k in clear:
        if k in ("scope", "contact") and k not in fields:
            setattr(existing, k, None)
    b, a = _diff(before, _snapshot(existing, ORG_TRACKED))
    if a:
        db.session.flush()
        out.append((actor, "organisation", existing.id, "updated", b, a, None))
    if status is not None and status != existing.status:
        out.append(_set_status(existing, status, status_reason, actor=actor, on=today))
    return Upserted(existing, "updated" if out else "unchanged"), out


def apply_person(clean: dict, existing: Person | None, employer: Organisation, *, actor: Actor, today: date,
                 reason: str = IMPORT_REASON) -> tuple[Upserted, list[tuple]]:
    """Create or update a validated person; returns the outcome and the events to append."""
    out: list[tuple] = []
    fields = {k: clean[k] for k in ("person_id", "name", "kind", "qualification", "valid_until") if k in clean}
    status = clean.get("status")
    status_reason = clean.get("status_reason") or reason
    if existing is None:
        person = Person(**fields, org_id=employer.id, org=employer, status=RegistryStatus.active,
                        id_number_hash=clean.get("id_number_hash"))
        if status is not None and status is not RegistryStatus.active:
            person.status, person.status_reason = status, status_reason
        db.session.add(person)
        db.session.flush()
        after = _snapshot(person, PERSON_TRACKED) | {"id_number": "set" if person.id_number_hash else None,
                                                     "status": person.status.value,
                                                     "status_reason": person.status_reason,
                                                     "status_changed_on": today.isoformat()}
        out.append((actor, "person", person.id, "created", None, after, None))
        return Upserted(person, "created"), out
    before = _snapshot(existing, PERSON_TRACKED)
    for k, v in fields.items():
        if k not in ("person_id", "kind"):
            setattr(existing, k, v)
    if existing.org_id != employer.id:
        existing.org_id, existing.org = employer.id, employer
    new_hash = clean.get("id_number_hash")
    b, a = _diff(before, _snapshot(existing, PERSON_TRACKED))
    if new_hash and new_hash != existing.id_number_hash:
        # the log says that the number changed, never what it is (nor its hash)
        b["id_number"], a["id_number"] = ("set" if existing.id_number_hash else None), "replaced"
        existing.id_number_hash = new_hash
    if a:
        db.session.flush()
        out.append((actor, "person", existing.id, "updated", b, a, None))
    if status is not None and status != existing.status:
        out.append(_set_status(existing, status, status_reason, actor=actor, on=today))
    return Upserted(existing, "updated" if out else "unchanged"), out


def org_by_code(code: str) -> Organisation | None:
    return db.session.scalar(sa.select(Organisation).where(Organisation.credit_code == code))


def person_by_ref(person_id: str) -> Person | None:
    return db.session.scalar(sa.select(Person).where(Person.person_id == person_id))


def upsert_org(data: Mapping[str, object], *, actor: Actor, today: date | None = None,
               clear: tuple[str, ...] = ()) -> Upserted:
    """Create a body, or update the one with this credit code (its kind never changes). Raises ValidationFailed."""
    clean, errors = validate_org(data)
    existing = org_by_code(clean["credit_code"]) if clean["credit_code"] and not any(
        e.field == "credit_code" for e in errors) else None
    errors += org_problems(clean, existing)
    if errors:
        raise ValidationFailed(errors)
    result, evs = apply_org(clean, existing, actor=actor, today=today or clock.today(),
                            reason=clean.get("status_reason") or "set by the office", clear=clear)
    if evs:
        events.record_many(evs)
    return result


def upsert_person(data: Mapping[str, object], *, actor: Actor, today: date | None = None) -> Upserted:
    """Create a person, or update the one with this person id. Raises ValidationFailed."""
    clean, errors = validate_person(data)
    existing = person_by_ref(clean["person_id"]) if clean["person_id"] else None
    employer = None
    if clean["org_credit_code"] and not any(e.field == "org_credit_code" for e in errors):
        employer = org_by_code(clean["org_credit_code"])
        errors += person_problems_in_registry(clean, existing, employer)
    elif existing is not None:
        errors += person_problems_in_registry({k: v for k, v in clean.items() if k != "org_credit_code"},
                                              existing, None)
    if errors:
        raise ValidationFailed(errors)
    result, evs = apply_person(clean, existing, employer, actor=actor, today=today or clock.today(),
                               reason=clean.get("status_reason") or "set by the office")
    if evs:
        events.record_many(evs)
    return result


# --------------------------------------------------------------------------- history
def history(obj: Organisation | Person) -> list[events.Event]:
    """The change history of a registry entry: its events, oldest first."""
    return events.timeline(record_type_of(obj), obj.id)


def staff_decisions(org: Organisation, limit: int = 200) -> list[tuple[events.Event, str, str]]:
    """The office's status decisions about a body's staff: (event, person id, name), newest first."""
    ev = events.Event
    stmt = (
        sa.select(ev, Person.person_id, Person.name)
        .join(Person, sa.and_(ev.record_type == "person", ev.record_id == sa.cast(Person.id, sa.String)))
        .where(Person.org_id == org.id, ev.action == "status_changed")
        .order_by(ev.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1], row[2]) for row in db.session.execute(stmt)]


def status_since(obj: Organisation | Person) -> date | None:
    """When the current status began: kept on a body, read from the event log for a person."""
    if isinstance(obj, Organisation):
        return obj.status_changed_on
    ev = events.Event
    last = db.session.scalar(
        sa.select(ev).where(ev.record_type == "person", ev.record_id == str(obj.id),
                            ev.action.in_(["status_changed", "created"])).order_by(ev.id.desc()).limit(1)
    )
    if last is None or not last.after:
        return None
    on = last.after.get("status_changed_on")
    return date.fromisoformat(on) if on else clock.to_local(last.occurred_at).date()


def allowed_statuses(obj) -> list[RegistryStatus]:
    current = RegistryStatus(obj.status)
    return [s for s in RegistryStatus if STATUS_TRANSITIONS.allowed(current, s)]

