"""Complaints (社会化监督): registration by the office or the public, and their handling.

``received`` → ``investigating`` → ``substantiated`` | ``unsubstantiated`` (or straight from
``received`` to ``unsubstantiated``), each move with a reason; a complaint is due
``COMPLAINT_DUE_WORKING_DAYS`` working days after it was received and shown overdue after that.
Services validate (collecting every error), move through the guarded transitions, append the
event and flush; the request commits. The complainant's name and contact never go into the
event log nor to the body complained about.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from auditbo import events
from auditbo.accounts.models import Role, User
from auditbo.clock import today as _today
from auditbo.complaints.models import (
    COMPLAINT_TRANSITIONS,
    SOURCES,
    Complaint,
    ComplaintFile,
    ComplaintStatus,
)
from auditbo.errors import Conflict, ErrorCollector, NotFound
from auditbo.events import Actor
from auditbo.evidence import Evidence
from auditbo.extensions import db
from auditbo.filings.models import PUBLIC_CERTIFICATE_STATUSES, Assessment, AssessmentConsultant, TeamMember
from auditbo.orgs.models import Organisation, OrgKind, Person
from auditbo.workdays import calendar_from_config

CS = ComplaintStatus
AGAINST_KINDS = ("assessment_body", "consulting_body", "person")
MAX_TEXT = 10_000
PUBLIC = Actor(None, "public")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


def due_date_for(received: date) -> date:
    cfg = current_app.config
    return calendar_from_config(cfg).add_working_days(received, cfg["COMPLAINT_DUE_WORKING_DAYS"])


def is_overdue(c: Complaint, today: date) -> bool:
    return not c.status.closed and c.due_date is not None and c.due_date < today


def new_tracking_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"TS-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@dataclass(frozen=True)
class Subject:
    org: Organisation | None
    person: Person | None
    assessment: Assessment | None


def _text(value, name: str, errors: ErrorCollector, *, required: bool, most: int) -> str | None:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        errors.add(name, "must be text")
        return None
    if required and not value:
        errors.add(name, "is required")
    elif len(value) > most:
        errors.add(name, f"must be at most {most} characters")
    return value or None


def find_subject(
    kind, credit_code, person_id, assessment_id, certificate_no, errors: ErrorCollector
) -> Subject:
    """The party complained about (and the assessment, when named), every problem collected."""
    org = person = assessment = None
    if kind not in AGAINST_KINDS:
        errors.add("against.kind", f"must be one of {', '.join(AGAINST_KINDS)}")
    elif kind == "person":
        pid = (person_id or "").strip() if isinstance(person_id, str) else ""
        person = db.session.scalar(sa.select(Person).where(Person.person_id == pid)) if pid else None
        if person is None:
            errors.add("against.person_id", "name a registered person by person_id")
    else:
        code = (credit_code or "").strip().upper() if isinstance(credit_code, str) else ""
        org = (
            db.session.scalar(sa.select(Organisation).where(Organisation.credit_code == code))
            if code
            else None
        )
        if org is None or org.kind.value != kind:
            errors.add("against.credit_code", f"name a registered {kind.replace('_', ' ')} by credit_code")
            org = None
    if assessment_id is not None:
        assessment = db.session.get(Assessment, assessment_id) if isinstance(assessment_id, int) else None
        if assessment is None:
            errors.add("assessment_id", "no such assessment")
    elif certificate_no:
        assessment = db.session.scalar(
            sa.select(Assessment).where(Assessment.certificate_no == str(certificate_no).strip())
        )
        if assessment is None:
            errors.add("certificate_no", "no certificate has this number")
    if (
        assessment is not None
        and (org is not None or person is not None)
        and not _concerns(assessment, org, person)
    ):
        errors.add("assessment_id", "this assessment is not one of the party complained about")
    return Subject(org, person, assessment)


def _concerns(a: Assessment, org: Organisation | None, person: Person | None) -> bool:
    if org is not None:
        return org.id in (a.body_id, a.consulting_body_id)
    on_team = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TeamMember)
        .where(TeamMember.assessment_id == a.id, TeamMember.person_id == person.id)
    )
    consulted = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AssessmentConsultant)
        .where(AssessmentConsultant.assessment_id == a.id, AssessmentConsultant.person_id == person.id)
    )
    return bool(on_team or consulted)


def _create(
    subject: Subject,
    *,
    text: str,
    source: str,
    complainant,
    contact,
    received_on: date,
    files: list[Evidence],
    actor: Actor,
    subject_hint: str | None = None,
    tracking_code: str | None = None,
) -> Complaint:
    c = Complaint(
        against_org_id=subject.org.id if subject.org else None,
        against_person_id=subject.person.id if subject.person else None,
        assessment_id=subject.assessment.id if subject.assessment else None,
        received_on=received_on,
        complainant=complainant,
        contact=contact,
        summary=text,
        status=CS.received,
        source=source,
        subject_hint=subject_hint,
        due_date=due_date_for(received_on),
        tracking_code=tracking_code,
        registered_by_id=actor.id,
    )
    COMPLAINT_TRANSITIONS.check(None, CS.received)
    db.session.add(c)
    db.session.flush()
    for f in files:
        db.session.add(ComplaintFile.of(f, complaint_id=c.id))
    events.record(
        actor,
        "complaint",
        c.id,
        "registered",
        after={
            "against_org_id": c.against_org_id,
            "against_person_id": c.against_person_id,
            "assessment_id": c.assessment_id,
            "source": source,
            "due_date": c.due_date.isoformat(),
            "files": [f.sha256 for f in files],
        },
    )
    db.session.flush()
    return c


def register(data: dict, *, actor: Actor, files: list[Evidence] = ()) -> Complaint:
    """The office registers a complaint: ``against`` {kind, credit_code | person_id}, optional
    ``assessment_id`` or ``certificate_no``, ``text``, ``source``, optional ``complainant``,
    ``contact`` and ``received_on`` (not in the future; default today)."""
    errors = ErrorCollector()
    against = data.get("against") if isinstance(data.get("against"), dict) else {}
    if not isinstance(data.get("against"), dict):
        errors.add("against", "name the party complained about: {kind, credit_code | person_id}")
    subject = find_subject(
        against.get("kind"),
        against.get("credit_code"),
        against.get("person_id"),
        data.get("assessment_id"),
        data.get("certificate_no"),
        errors,
    )
    text = _text(data.get("text"), "text", errors, required=True, most=MAX_TEXT)
    source = data.get("source") or "other"
    if source not in SOURCES or source == "public":
        errors.add("source", f"must be one of {', '.join(s for s in SOURCES if s != 'public')}")
    complainant = _text(data.get("complainant"), "complainant", errors, required=False, most=200)
    contact = _text(data.get("contact"), "contact", errors, required=False, most=200)
    today = _today()
    received_on = data.get("received_on") or today
    if not isinstance(received_on, date):
        errors.add("received_on", "must be a date")
    elif received_on > today:
        errors.add("received_on", "must not be in the future")
    errors.raise_if_any()
    return _create(
        subject,
        text=text,
        source=source,
        complainant=complainant,
        contact=contact,
        received_on=received_on,
        files=list(files),
        actor=actor,
    )


def submit_public(data: dict, files: list[Evidence] = ()) -> Complaint:
    """A complaint from the public form: ``contact`` (required), optional ``name``, a ``certificate_no``
    or a body's ``body`` (its exact name or credit code), ``text``. Returns it with its tracking code."""
    errors = ErrorCollector()
    contact = _text(data.get("contact"), "contact", errors, required=True, most=200)
    name = _text(data.get("name"), "name", errors, required=False, most=200)
    text = _text(data.get("text"), "text", errors, required=True, most=MAX_TEXT)
    cert = _text(data.get("certificate_no"), "certificate_no", errors, required=False, most=64)
    body = _text(data.get("body"), "body", errors, required=False, most=200)
    org = assessment = None
    if cert:
        assessment = db.session.scalar(sa.select(Assessment).where(
            Assessment.certificate_no == cert, Assessment.status.in_(PUBLIC_CERTIFICATE_STATUSES)))
        if assessment is None:
            errors.add("certificate_no", "no certificate has this number")
        else:
            org = db.session.get(Organisation, assessment.body_id)
    elif body:
        org = db.session.scalar(
            sa.select(Organisation)
            .where(sa.or_(Organisation.credit_code == body.upper(), Organisation.name == body))
            .limit(1)
        )
        if org is None:
            errors.add("body", "no registered body has this name or credit code")
    else:
        errors.add("certificate_no", "give the certificate number or the body's name")
    errors.raise_if_any()
    hint = cert or body
    return _create(
        Subject(org, None, assessment),
        text=text,
        source="public",
        complainant=name,
        contact=contact,
        received_on=_today(),
        files=list(files),
        actor=PUBLIC,
        subject_hint=hint,
        tracking_code=new_tracking_code(),
    )


def by_tracking_code(code: str) -> Complaint | None:
    code = (code or "").strip().upper()
    if not code or len(code) > 24:
        return None
    return db.session.scalar(sa.select(Complaint).where(Complaint.tracking_code == code))


# --- handling ----------------------------------------------------------------------------------
def get(complaint_id: int) -> Complaint:
    c = db.session.get(Complaint, complaint_id)
    if c is None:
        raise NotFound("no such complaint")
    return c


def check_version(c: Complaint, version) -> None:
    if version != c.version:
        raise Conflict(
            f"this complaint was changed since you read it (you read version {version}, it is now "
            f"version {c.version}); reload it and try again"
        )


def _office_user(user_id, errors: ErrorCollector) -> User | None:
    user = (
        db.session.get(User, user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
    )
    if user is None or not user.active or user.role not in (Role.admin, Role.supervisor):
        errors.add("assignee_id", "must be an active supervisor or administrator")
        return None
    return user


def transition(
    c: Complaint, to, reason, version, *, actor: Actor, assignee_id: int | None = None
) -> Complaint:
    """Move a complaint on, with a reason and the version the caller read (stale: 409).

    To ``investigating`` it gets an assignee (the caller unless named); closing it keeps the reason
    as its resolution and the closing date."""
    errors = ErrorCollector()
    try:
        target = CS(to)
    except ValueError:
        errors.add("to", "must be one of investigating, substantiated, unsubstantiated")
        target = None
    reason = _text(reason, "reason", errors, required=True, most=4000)
    if not isinstance(version, int) or isinstance(version, bool):
        errors.add("version", "send the version you read")
    assignee = None
    if assignee_id is not None:
        assignee = _office_user(assignee_id, errors)
    errors.raise_if_any()
    check_version(c, version)
    COMPLAINT_TRANSITIONS.check(c.status, target)
    before = {"status": c.status.value, "assignee_id": c.assignee_id}
    c.status = target
    if target is CS.investigating:
        c.assignee_id = assignee.id if assignee is not None else (c.assignee_id or actor.id)
    elif assignee is not None:
        c.assignee_id = assignee.id
    if target.closed:
        c.resolution, c.closed_on = reason, _today()
    db.session.flush()  # the version counter: a concurrent move fails here (StaleDataError → 409)
    events.record(
        actor,
        "complaint",
        c.id,
        "status_changed",
        before=before,
        after={"status": target.value, "assignee_id": c.assignee_id},
        reason=reason,
    )
    return c


def office_users() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.active.is_(True), User.role.in_([Role.admin, Role.supervisor]))
            .order_by(User.username)
        )
    )


def subject_kind(c: Complaint, org: Organisation | None) -> str:
    if c.against_person_id:
        return "person"
    return org.kind.value if org is not None else OrgKind.assessment_body.value
