"""Working a spot check: the visit, findings, the outcome with its consequence, and disclosure.

Only the check's assigned inspectors write to it (the policy answers 404 to anyone else on the
write endpoints). The outcome's consequence moves the certificate through the assessment
lifecycle (:mod:`auditbo.filings.lifecycle`: status history and events), so the public
certificate lookup shows it at once. ``SpotCheck.version`` is SQLAlchemy's version counter: a
caller sends the version it read; a stale one is a 409, never a silent overwrite.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from auditbo import events
from auditbo.clock import today as _today
from auditbo.confirmations.models import FindingAgainst, Severity
from auditbo.errors import Conflict, ErrorCollector, FieldError, NotFound, ValidationFailed
from auditbo.events import Actor
from auditbo.evidence import Evidence
from auditbo.evidence import read_files as _read_files
from auditbo.extensions import db
from auditbo.filings import lifecycle
from auditbo.filings.models import Assessment, Grade
from auditbo.findings import check_finding
from auditbo.spotchecks.models import (
    CHECK_TRANSITIONS,
    CheckOutcome,
    CheckStatus,
    Consequence,
    SpotCheck,
    SpotCheckFile,
    SpotCheckFinding,
)
from auditbo.workdays import calendar_from_config

MAX_TEXT = 4000


def _flush(check: SpotCheck) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("someone else changed this spot check at the same moment; reload it and try again") from None


def _touch(check: SpotCheck) -> None:
    """Bump the version (a finding changes what an outcome is based on)."""
    flag_modified(check, "notes")


def _require_open(check: SpotCheck) -> None:
    if check.status is not CheckStatus.open:
        raise Conflict("this spot check is closed; it can no longer be changed")


def _check_version(check: SpotCheck, version, errors: ErrorCollector | None = None) -> None:
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationFailed([FieldError("version", "send the version you read")])
    if version != check.version:
        raise Conflict(f"this spot check was changed since you read it (you read version {version}, it is now "
                       f"version {check.version}); reload it and try again")


def schedule_visit(check: SpotCheck, day, version, actor: Actor) -> SpotCheck:
    errors = ErrorCollector()
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            errors.add("visit_on", "a date YYYY-MM-DD")
    if not isinstance(day, date):
        errors.add("visit_on", "a date YYYY-MM-DD")
    errors.raise_if_any()
    _require_open(check)
    _check_version(check, version)
    before = check.visit_on
    check.visit_on = day
    _flush(check)
    events.record(actor, "spot_check", check.id, "visit_scheduled",
                  before={"visit_on": before.isoformat() if before else None}, after={"visit_on": day.isoformat()})
    return check


def add_finding(check: SpotCheck, severity: str, text: str, against: str, person_id: str | None,
                actor: Actor) -> SpotCheckFinding:
    """A finding against the body, the lead, a team member or a consultant of the record (as on a
    confirmation audit): a member or a consultant is named by ``person_id``; the lead defaults to the record's."""
    _require_open(check)
    text, person_id, person_pk = check_finding(check.assessment_id, severity, text, against, person_id)
    finding = SpotCheckFinding(spot_check_id=check.id, severity=Severity(severity), text=text,
                               against=FindingAgainst(against), person_id=person_pk, created_by_id=actor.id)
    db.session.add(finding)
    _touch(check)
    _flush(check)
    events.record(actor, "spot_check", check.id, "finding_added",
                  after={"finding_id": finding.id, "severity": severity, "against": against,
                         "person_id": person_id if against != "body" else None, "text": text})
    return finding


def read_evidence(storages) -> list[Evidence]:
    """Uploaded files → checked evidence (PDF, PNG, JPEG by their first bytes; at most
    ``SPOTCHECK_MAX_FILE_BYTES`` each): a wrong type is 415, an oversized file 413."""
    cfg = current_app.config
    return _read_files(storages, max_files=cfg["SPOTCHECK_MAX_FILES"], max_bytes=cfg["SPOTCHECK_MAX_FILE_BYTES"])


def add_files(check: SpotCheck, files: list[Evidence], actor: Actor) -> list[SpotCheckFile]:
    """Attach evidence to an open check (at most ``SPOTCHECK_MAX_FILES`` in all); the files are kept in
    the database in this transaction, so a refused upload stores nothing."""
    _require_open(check)
    most = current_app.config["SPOTCHECK_MAX_FILES"]
    have = db.session.scalar(sa.select(sa.func.count()).select_from(SpotCheckFile)
                             .where(SpotCheckFile.spot_check_id == check.id))
    if not files:
        raise ValidationFailed([FieldError("files", "choose at least one PDF, PNG or JPEG file")])
    if have + len(files) > most:
        raise ValidationFailed([FieldError("files", f"a spot check holds at most {most} files ({have} attached)")])
    rows = [SpotCheckFile.of(f, spot_check_id=check.id, uploaded_by_id=actor.id) for f in files]
    db.session.add_all(rows)
    _touch(check)
    _flush(check)
    events.record(actor, "spot_check", check.id, "evidence_added",
                  after={"files": [{"id": r.id, "filename": r.filename, "content_type": r.content_type,
                                    "size": r.size, "sha256": r.sha256} for r in rows]})
    return rows


def get_file(check: SpotCheck, file_id: int) -> SpotCheckFile:
    f = db.session.get(SpotCheckFile, file_id)
    if f is None or f.spot_check_id != check.id:
        raise NotFound("no such file on this spot check")
    return f


def disclose_by_for(closed: date) -> date:
    cfg = current_app.config
    return calendar_from_config(cfg).add_working_days(closed, cfg["DISCLOSURE_WORKING_DAYS"])


def close(check: SpotCheck, outcome: str, consequence: str | None, grade: str | None, reason: str | None,
          version, actor: Actor, *, on: date | None = None) -> SpotCheck:
    """Close the check with its outcome; a major finding needs a consequence (downgrade to a lower
    grade, suspend, revoke) with a reason, which the certificate follows at once."""
    a = db.session.get(Assessment, check.assessment_id)
    errors = ErrorCollector()
    if outcome not in {o.value for o in CheckOutcome}:
        errors.add("outcome", f"must be one of {', '.join(o.value for o in CheckOutcome)}")
    consequence = consequence or "none"
    if consequence not in {c.value for c in Consequence}:
        errors.add("consequence", f"must be one of {', '.join(c.value for c in Consequence)}")
    elif outcome == CheckOutcome.major_findings.value and consequence == "none":
        errors.add("consequence", "a major finding needs a consequence: downgrade, suspend or revoke")
    elif outcome in ("conforming", "minor_findings") and consequence != "none":
        errors.add("consequence", "only a major finding carries a consequence")
    reason = (reason or "").strip()
    if consequence != "none" and not reason:
        errors.add("reason", "give the reason for the consequence")
    if len(reason) > MAX_TEXT:
        errors.add("reason", f"at most {MAX_TEXT} characters")
    target = None
    if consequence == "downgrade":
        if not grade:
            errors.add("grade", "name the lower grade")
        elif grade not in {g.value for g in Grade}:
            errors.add("grade", f"must be one of {', '.join(g.value for g in Grade)}")
        elif Grade(grade).level >= Grade(a.grade).level:
            errors.add("grade", f"must be below the certificate's grade {Grade(a.grade).value}")
        else:
            target = Grade(grade)
    elif grade:
        errors.add("grade", "only a downgrade sets a grade")
    if outcome == CheckOutcome.major_findings.value and not any(
            f.severity is Severity.major for f in _findings(check)):
        errors.add("outcome", "record the major finding first")
    errors.raise_if_any()
    _require_open(check)
    _check_version(check, version)
    CHECK_TRANSITIONS.check(check.status, CheckStatus.closed)
    today = on or _today()
    check.status, check.outcome, check.consequence = CheckStatus.closed, CheckOutcome(outcome), Consequence(consequence)
    check.reason, check.downgraded_to, check.closed_by_id = reason or None, target.value if target else None, actor.id
    check.closed_on, check.disclose_by = today, disclose_by_for(today)
    _flush(check)  # the check first: a concurrent close fails here, before the certificate is touched
    events.record(actor, "spot_check", check.id, "closed", before={"status": "open"},
                  after={"outcome": outcome, "consequence": consequence, "grade": grade if target else None,
                         "assessment_id": a.id, "disclose_by": check.disclose_by.isoformat()},
                  reason=reason or None)
    why = f"spot check {check.id}: {reason}" if reason else None
    if consequence == "downgrade":
        lifecycle.downgrade(a, target, why, actor=actor)
    elif consequence == "suspend":
        lifecycle.suspend(a, why, actor=actor)
    elif consequence == "revoke":
        lifecycle.revoke(a, why, actor=actor)
    db.session.flush()
    return check


def _findings(check: SpotCheck) -> list[SpotCheckFinding]:
    return list(db.session.scalars(sa.select(SpotCheckFinding).where(SpotCheckFinding.spot_check_id == check.id)))


def disclose(check: SpotCheck, actor: Actor, *, on: date | None = None) -> SpotCheck:
    """Mark a closed check's result as published (the certificate's status is public at once; this
    puts the check into its body's public aggregate)."""
    if check.status is not CheckStatus.closed:
        raise Conflict("only a closed spot check can be disclosed")
    if check.disclosed_on is not None:
        return check
    check.disclosed_on = on or _today()
    _flush(check)
    events.record(actor, "spot_check", check.id, "disclosed", after={"disclosed_on": check.disclosed_on.isoformat(),
                                                                      "disclose_by": check.disclose_by.isoformat()
                                                                      if check.disclose_by else None})
    return check
