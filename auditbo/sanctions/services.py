"""Sanctions by hand (优胜劣汰): on a certificate (suspend, reinstate, downgrade, revoke) and in the
registry (warn, suspend, revoke an assessment body, consulting body or person), each with a reason,
a legal basis and an optional end date.

A revocation takes four eyes: someone proposes it (``proposed``), an admin other than the proposer
confirms it (``in_force``) or declines it. A sanction with an end date ends by itself
(:func:`end_due_sanctions`, a daily job): a suspended body or person becomes active again, a
suspended certificate stands again; the record stays, marked ``ended`` (credit repair: nothing is
deleted). Every change goes through the guarded transitions (certificates: the assessment
lifecycle; registry: ``orgs.services.change_status``) and the event log.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from auditbo import events
from auditbo.clock import today as _today
from auditbo.errors import Conflict, ErrorCollector, Forbidden, NotFound
from auditbo.events import SYSTEM, Actor
from auditbo.extensions import db
from auditbo.filings import lifecycle
from auditbo.filings.models import Assessment, AssessmentStatus, Grade
from auditbo.orgs import services as registry
from auditbo.orgs.models import Organisation, Person, RegistryStatus
from auditbo.sanctions.models import SANCTION_TRANSITIONS, Sanction, SanctionKind, SanctionStatus

K, X = SanctionKind, SanctionStatus
CERTIFICATE_KINDS = (K.suspension, K.downgrade, K.revocation)
REGISTRY_KINDS = (K.warning, K.suspension, K.revocation)


def _texts(reason, legal_basis, errors: ErrorCollector) -> tuple[str, str]:
    out = []
    for name, value in (("reason", reason), ("legal_basis", legal_basis)):
        value = (value or "").strip() if isinstance(value, str) or value is None else ""
        if not value:
            errors.add(name, "is required")
        elif len(value) > 2000:
            errors.add(name, "must be at most 2000 characters")
        out.append(value)
    return out[0], out[1]


def _kind(kind, allowed, errors: ErrorCollector) -> SanctionKind | None:
    try:
        k = K(kind)
    except ValueError:
        k = None
    if k not in allowed:
        errors.add("kind", f"must be one of {', '.join(x.value for x in allowed)}")
        return None
    return k


def _ends(ends_on, kind, errors: ErrorCollector, today: date) -> date | None:
    if ends_on is None:
        return None
    if not isinstance(ends_on, date):
        errors.add("ends_on", "must be a date")
    elif ends_on <= today:
        errors.add("ends_on", "must be after today")
    elif kind in (K.downgrade,):
        errors.add("ends_on", "a downgrade has no end date")
    return ends_on if isinstance(ends_on, date) else None


def _event(s: Sanction, actor: Actor, action: str, before: dict | None, reason: str | None) -> None:
    events.record(
        actor,
        "sanction",
        s.id,
        action,
        before=before,
        after={
            "kind": s.kind.value,
            "status": s.status.value,
            "assessment_id": s.assessment_id,
            "org_id": s.org_id,
            "person_id": s.person_id,
            "ends_on": s.ends_on,
            "ended_on": s.ended_on,
            "to_grade": s.to_grade,
            "legal_basis": s.legal_basis,
        },
        reason=reason,
    )


def _move(s: Sanction, to: SanctionStatus) -> dict:
    SANCTION_TRANSITIONS.check(s.status, to)
    before = {"status": s.status.value if s.status else None}
    s.status = to
    return before


# --- certificates -------------------------------------------------------------------------------
def sanction_certificate(
    a: Assessment,
    kind,
    reason,
    legal_basis,
    *,
    actor: Actor,
    grade=None,
    ends_on: date | None = None,
    complaint_id: int | None = None,
) -> Sanction:
    """Suspend or downgrade a certificate at once, or propose its revocation (four eyes)."""
    errors = ErrorCollector()
    k = _kind(kind, CERTIFICATE_KINDS, errors)
    reason, legal_basis = _texts(reason, legal_basis, errors)
    today = _today()
    ends_on = _ends(ends_on, k, errors, today)
    target = None
    if k is K.downgrade:
        try:
            target = Grade(grade)
        except ValueError:
            errors.add("grade", "name the lower grade")
        else:
            if target.level >= Grade(a.grade).level:
                errors.add("grade", f"must be below the certificate's grade {Grade(a.grade).value}")
    errors.raise_if_any()
    s = Sanction(
        assessment_id=a.id,
        kind=k,
        reason=reason,
        legal_basis=legal_basis,
        starts_on=today,
        ends_on=ends_on,
        complaint_id=complaint_id,
        proposed_by_id=actor.id,
        status=None,
    )
    if k is K.revocation:
        lifecycle.check_certificate_move(a, AssessmentStatus.revoked)
        before = _move(s, X.proposed)
        db.session.add(s)
        db.session.flush()
        _event(s, actor, "proposed", before, reason)
        return s
    if k is K.suspension:
        lifecycle.suspend(a, reason, actor=actor)
    else:
        s.from_grade = Grade(a.grade).value
        lifecycle.downgrade(a, target, reason, actor=actor)
        s.to_grade = target.value
    s.decided_by_id = actor.id
    before = _move(s, X.in_force)
    db.session.add(s)
    db.session.flush()
    _event(s, actor, "imposed", before, reason)
    return s


def reinstate_certificate(a: Assessment, reason, *, actor: Actor) -> None:
    """A suspended certificate stands again; the suspension in force on it ends (kept, marked ended)."""
    errors = ErrorCollector()
    reason, _ = _texts(reason, "-", errors)
    errors.raise_if_any()
    lifecycle.reinstate(a, reason, actor=actor)
    for s in _in_force(Sanction.assessment_id == a.id, Sanction.kind == K.suspension):
        _end(s, reason, actor)


# --- the registry ---------------------------------------------------------------------------------
def sanction_party(
    party: Organisation | Person,
    kind,
    reason,
    legal_basis,
    *,
    actor: Actor,
    ends_on: date | None = None,
    complaint_id: int | None = None,
) -> Sanction:
    """Warn or suspend a body or a person at once, or propose a revocation (four eyes)."""
    errors = ErrorCollector()
    k = _kind(kind, REGISTRY_KINDS, errors)
    reason, legal_basis = _texts(reason, legal_basis, errors)
    today = _today()
    ends_on = _ends(ends_on, k, errors, today)
    errors.raise_if_any()
    status = RegistryStatus(party.status)
    if status is RegistryStatus.revoked:
        raise Conflict("this registration is revoked already")
    if k is K.suspension and status is RegistryStatus.suspended:
        raise Conflict("this registration is suspended already")
    is_org = isinstance(party, Organisation)
    s = Sanction(
        org_id=party.id if is_org else None,
        person_id=None if is_org else party.id,
        kind=k,
        reason=reason,
        legal_basis=legal_basis,
        starts_on=today,
        ends_on=ends_on,
        complaint_id=complaint_id,
        proposed_by_id=actor.id,
        status=None,
    )
    if k is K.revocation:
        before = _move(s, X.proposed)
        db.session.add(s)
        db.session.flush()
        _event(s, actor, "proposed", before, reason)
        return s
    if k is K.suspension:
        registry.change_status(
            party, RegistryStatus.suspended, f"{reason} ({legal_basis})", actor=actor, on=today
        )
    s.decided_by_id = actor.id
    before = _move(s, X.in_force)
    db.session.add(s)
    db.session.flush()
    _event(s, actor, "imposed", before, reason)
    return s


# --- four eyes ---------------------------------------------------------------------------------------
def confirm(s: Sanction, *, actor: Actor, version) -> Sanction:
    """The second pair of eyes: an admin other than the proposer puts a proposed revocation in force."""
    _check_version(s, version)
    if s.status is not X.proposed:
        raise Conflict(f"this sanction is {s.status.value}, not waiting for confirmation")
    if actor.id is not None and actor.id == s.proposed_by_id:
        raise Forbidden("four eyes: a revocation is confirmed by an admin other than its proposer")
    if s.assessment_id:
        a = db.session.get(Assessment, s.assessment_id)
        lifecycle.revoke(a, s.reason, actor=actor)
        for other in _in_force(Sanction.assessment_id == a.id, Sanction.kind == K.suspension):
            _end(other, "superseded by the revocation", actor)
    else:
        party = db.session.get(Organisation, s.org_id) if s.org_id else db.session.get(Person, s.person_id)
        registry.change_status(
            party, RegistryStatus.revoked, f"{s.reason} ({s.legal_basis})", actor=actor, on=_today()
        )
        for other in _in_force(_same_party(s), Sanction.kind.in_([K.suspension, K.warning])):
            _end(other, "superseded by the revocation", actor)
    s.decided_by_id, s.starts_on = actor.id, _today()
    before = _move(s, X.in_force)
    db.session.flush()
    _event(s, actor, "confirmed", before, None)
    return s


def decline(s: Sanction, reason, *, actor: Actor, version) -> Sanction:
    errors = ErrorCollector()
    reason, _ = _texts(reason, "-", errors)
    errors.raise_if_any()
    _check_version(s, version)
    if s.status is not X.proposed:
        raise Conflict(f"this sanction is {s.status.value}, not waiting for confirmation")
    if actor.id is not None and actor.id == s.proposed_by_id:
        raise Forbidden("four eyes: a proposal is decided by an admin other than its proposer")
    before = _move(s, X.declined)
    s.decided_by_id, s.end_reason = actor.id, reason
    db.session.flush()
    _event(s, actor, "declined", before, reason)
    return s


# --- ending -------------------------------------------------------------------------------------------
def end(s: Sanction, reason, *, actor: Actor, version) -> Sanction:
    """Lift a suspension or warning before its end date (a revocation and a downgrade are final)."""
    errors = ErrorCollector()
    reason, _ = _texts(reason, "-", errors)
    errors.raise_if_any()
    _check_version(s, version)
    if s.status is not X.in_force or s.kind not in (K.suspension, K.warning):
        raise Conflict("only a suspension or a warning in force can be lifted")
    _lift_effect(s, reason, actor)
    _end(s, reason, actor)
    return s


def end_due_sanctions(today: date) -> int:
    """The daily job: sanctions whose end date has passed end, and what they suspended is active again."""
    due = list(
        db.session.scalars(
            sa.select(Sanction)
            .where(Sanction.status == X.in_force, Sanction.ends_on.is_not(None), Sanction.ends_on <= today)
            .order_by(Sanction.id)
        )
    )
    for s in due:
        reason = f"the sanction ran until {s.ends_on.isoformat()}"
        if s.kind in (K.suspension, K.warning):
            _lift_effect(s, reason, SYSTEM)
        _end(s, reason, SYSTEM, on=s.ends_on)
    return len(due)


def _lift_effect(s: Sanction, reason: str, actor: Actor) -> None:
    if s.kind is not K.suspension:
        return
    if s.assessment_id:
        a = db.session.get(Assessment, s.assessment_id)
        if a.status is AssessmentStatus.suspended:
            lifecycle.reinstate(a, reason, actor=actor)
        return
    party = db.session.get(Organisation, s.org_id) if s.org_id else db.session.get(Person, s.person_id)
    if RegistryStatus(party.status) is RegistryStatus.suspended:
        registry.change_status(party, RegistryStatus.active, reason, actor=actor, on=_today())


def _end(s: Sanction, reason: str, actor: Actor, *, on: date | None = None) -> None:
    before = _move(s, X.ended)
    s.ended_on, s.end_reason = on or _today(), reason
    db.session.flush()
    _event(s, actor, "ended", before, reason)


def _in_force(*where) -> list[Sanction]:
    return list(db.session.scalars(sa.select(Sanction).where(Sanction.status == X.in_force, *where)))


def _same_party(s: Sanction):
    return Sanction.org_id == s.org_id if s.org_id else Sanction.person_id == s.person_id


def _check_version(s: Sanction, version) -> None:
    if not isinstance(version, int) or isinstance(version, bool) or version != s.version:
        raise Conflict(
            f"this sanction was changed since you read it (it is now version {s.version}); "
            "reload it and try again"
        )


def get(sanction_id: int) -> Sanction:
    s = db.session.get(Sanction, sanction_id)
    if s is None:
        raise NotFound("no such sanction")
    return s
