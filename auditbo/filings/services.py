"""Filing, amending and withdrawing assessments: one set of rules for the API, the form and imports.

Services validate (collecting every error), change state through guarded transitions,
append events, and return; the request, CLI command or job commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite  # noqa: F401 - their INSERT … ON CONFLICT
from flask import current_app

from auditbo import events
from auditbo.clock import to_local
from auditbo.clock import today as _today
from auditbo.confirmations import services as confirmations
from auditbo.database import COPY_MIN_ROWS, bulk_insert, utcnow
from auditbo.errors import Conflict, ErrorCollector, FieldError, ValidationFailed
from auditbo.events import SYSTEM, Actor
from auditbo.extensions import db
from auditbo.filings import lifecycle, writes
from auditbo.filings.bulk import BatchWriter
from auditbo.filings.context import FilingContext
from auditbo.filings.models import (
    Assessment,
    AssessmentConsultant,
    AssessmentStatus,
    Capability,
    TeamMember,
)
from auditbo.filings.validation import Filing, validate_filing
from auditbo.orgs.models import Enterprise, Organisation
from auditbo.uploads import RowErrors

S = AssessmentStatus
NO_DATA_ROWS = "has no data rows: fill in at least one row under the header"
BATCH = 2000


@dataclass(frozen=True)
class FileResult:
    assessment_id: int
    created: bool  # False: an identical re-filing of an existing record
    written: Written | None = None  # what a new filing wrote (its 201 body is built from it, no read-back)


@dataclass(frozen=True)
class Written:
    """The rows one new filing wrote, as :mod:`auditbo.filings.filed_body` needs them."""

    row: dict  # the assessment row as inserted
    filing: Filing
    enterprise: tuple[str, str, int]  # the stored enterprise's name, size, employees
    audit: dict | None  # the confirmation audit opened (id, round, status, assignee_id, due_date), if any


def _needs_confirmation(level: int) -> bool:
    return level >= current_app.config["CONFIRMATION_MIN_LEVEL"]


# --- filing --------------------------------------------------------------------------------
def check_may_file(body: Organisation) -> None:
    """A body suspended or revoked in the registry files nothing: 422 naming the sanction's reason."""
    status = getattr(body.status, "value", body.status)
    if status != "active":
        since = f" since {body.status_changed_on.isoformat()}" if body.status_changed_on else ""
        why = f": {body.status_reason}" if body.status_reason else ""
        raise ValidationFailed([FieldError("body", f"your body is {status} in the registry{since}{why}; "
                                                   "it cannot file assessments")],
                               detail=f"the body is {status} in the registry{since}{why}")


def file_assessment(body: Organisation, payload, *, actor: Actor) -> FileResult:
    """File one assessment. The same external_ref with the same content returns the existing
    record; with other content it is a Conflict."""
    check_may_file(body)
    ctx = FilingContext(body)
    ctx.preload([payload])  # a few IN-queries instead of one per person
    filing = validate_filing(payload, ctx, current_app.config, _today())
    existing = ctx.existing(filing.external_ref)
    if existing is not None:
        if existing[1] == filing.content_hash:
            return FileResult(existing[0], created=False)
        raise Conflict(f"external_ref {filing.external_ref} was filed before with other content; "
                       "amend that record instead")
    written: list[Written] = []
    ids = persist(body, [filing], ctx, actor=actor, written=written)
    return FileResult(ids[0], created=True, written=written[0] if written else None)


def file_many(body: Organisation, payloads: list, *, actor: Actor, row_offset: int = 2,
              errors: RowErrors | None = None) -> dict:
    """All or nothing: validate every row, report every bad row and field, or file them all.

    ``payloads`` is any iterable, read once, BATCH rows at a time (the registry is preloaded per
    batch): an upload's :class:`~auditbo.filings.imports.Payloads` number the rows as the
    spreadsheet does; a list is numbered from ``row_offset``. Errors go to ``errors`` (default: the
    upload's own), the first ``IMPORT_MAX_REPORTED_ERRORS`` kept, all counted and handed to its
    report sink, so that memory stays flat whatever the file holds.

    Rows are written batch by batch as they pass; at the first bad row writing stops (the
    rest is still checked, to report every problem) and the caller rolls back. Rows identical to a record already filed are counted as unchanged; a row whose
    external_ref was filed with other content is an error (amend that record instead).
    """
    check_may_file(body)
    ctx = FilingContext(body)
    today = _today()
    cfg = current_app.config
    if errors is None:
        errors = getattr(payloads, "errors", None)
    if errors is None:
        errors = RowErrors(cfg["IMPORT_MAX_REPORTED_ERRORS"])
    rows = payloads.numbered() if hasattr(payloads, "numbered") else enumerate(payloads, start=row_offset)
    read_problems = getattr(payloads, "problems_of", None)  # an upload's refused cells (formulas)
    to_file: list[Filing] = []  # validated, not yet written (at most one batch: memory stays flat)
    total = unchanged = filed = pending = 0
    seen_refs: dict[str, int] = {}
    seen_certs: dict[str, int] = {}
    writer = BatchWriter(body, ctx, actor, persist)  # PostgreSQL: a batch is written while the next is checked
    try:
        for chunk in _batches(rows, BATCH):
            writer.wait()  # the connection is the loop's again
            ctx.preload(payload for _row, payload in chunk)  # a few IN-queries per batch
            writer.start()  # the batch checked last is written while this chunk is checked
            for row, payload in chunk:
                total += 1
                if read_problems is not None:
                    errors.extend(row, read_problems(row))
                try:
                    filing = validate_filing(payload, ctx, cfg, today)
                except ValidationFailed as exc:
                    errors.extend(row, exc.errors)
                    continue
                ref, cert = filing.external_ref, filing.certificate_no
                if ref in seen_refs:
                    errors.add(row, "external_ref", f"{ref} also appears in row {seen_refs[ref]}")
                    continue
                if cert in seen_certs:
                    errors.add(row, "certificate_no", f"{cert} also appears in row {seen_certs[cert]}")
                    continue
                seen_refs[ref], seen_certs[cert] = row, row
                existing = ctx.existing(ref)
                if existing is not None:
                    if existing[1] == filing.content_hash:
                        unchanged += 1
                        continue
                    errors.add(row, "external_ref", f"{ref} was filed before with other content")
                    continue
                if errors:
                    continue  # nothing more is written once a row failed; the caller rolls back what was
                to_file.append(filing)
                if len(to_file) >= BATCH:
                    filed, pending = _write(writer, to_file, filed, pending)
                    to_file = []
    finally:
        writer.wait()  # never leave the thread writing behind an error
    if errors:
        raise errors.refuse(f"{errors.rows} row(s) are invalid; nothing was filed")
    if total == 0:  # a header alone "files" nothing: say so rather than report success
        raise ValidationFailed([FieldError("file", NO_DATA_ROWS)], detail="the file has no data rows; nothing was filed")
    if to_file:
        filed, pending = _write(writer, to_file, filed, pending)
    writer.finish()
    return {"rows": total, "filed": filed, "unchanged": unchanged, "pending_confirmation": pending}


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(writer: BatchWriter, filings: list[Filing], filed: int, pending: int) -> tuple[int, int]:
    writer.submit(filings)
    return filed + len(filings), pending + sum(1 for f in filings if _needs_confirmation(f.grade_level))



def persist(body: Organisation, filings: list[Filing], ctx: FilingContext, *, actor: Actor,
            written: list[Written] | None = None) -> list[int]:
    """Insert validated filings in bulk (Core inserts in batches) with their events; with ``written``,
    what each wrote is appended to it (when the context knows its stored enterprise)."""
    now, today = utcnow(), _today()
    ids: list[int] = []
    for start in range(0, len(filings), BATCH):
        ids += _persist_batch(body, filings[start:start + BATCH], ctx, actor, now, today, written)
    return ids


def insert_enterprises(rows: list[dict], ours: set[str] | None = None) -> dict[str, int]:
    """Create the enterprises of ``rows`` (new credit codes) and return {credit code: id}.

    Another request creating one of them at the same moment is not an error: its row is used.
    On PostgreSQL our INSERT waits for that request's commit and is then refused; the savepoint
    takes the refusal back and the committed row is read (a later statement sees it). On SQLite
    the write lock taken at BEGIN (IMMEDIATE) serialises the two requests. ``ours`` collects the
    codes this call inserted itself.
    """
    if len(rows) < COPY_MIN_ROWS:
        return _insert_few_enterprises(rows, ours)
    ids: dict[str, int] = {}
    pending = rows
    for _attempt in range(3):
        try:
            with db.session.begin_nested():
                new_ids = bulk_insert(Enterprise, pending, returning=Enterprise.id)
        except Exception as exc:
            if not _is_unique_violation(exc):
                raise
            codes = [r["credit_code"] for r in pending]
            ids.update(db.session.execute(sa.select(Enterprise.credit_code, Enterprise.id)
                                          .where(Enterprise.credit_code.in_(codes))).all())
            left = [r for r in pending if r["credit_code"] not in ids]
            if len(left) == len(pending):
                raise  # not another request's enterprise: a real fault
            pending = left
            if not pending:
                return ids
            continue
        ids.update(zip((r["credit_code"] for r in pending), new_ids, strict=True))
        if ours is not None:
            ours.update(r["credit_code"] for r in pending)
        return ids
    raise Conflict("enterprise.credit_code: other requests keep registering the same enterprises; try again")


def _insert_few_enterprises(rows: list[dict], ours: set[str] | None) -> dict[str, int]:
    """A filing's new enterprises without a savepoint: INSERT … ON CONFLICT DO NOTHING (which waits
    for another request inserting the same code, as the plain INSERT did) returns the rows it made;
    those another request made are then read (a later statement sees their commit)."""
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": sa.dialects.postgresql.insert, "sqlite": sa.dialects.sqlite.insert}[dialect]
    stmt = (insert(Enterprise).on_conflict_do_nothing(index_elements=[Enterprise.credit_code])
            .returning(Enterprise.credit_code, Enterprise.id))
    ids = dict(db.session.execute(stmt, rows[0]).all()) if len(rows) == 1 else \
        dict(db.session.execute(stmt.values(rows)).all())
    if ours is not None:
        ours.update(ids)
    missing = [r["credit_code"] for r in rows if r["credit_code"] not in ids]
    if missing:
        ids.update(db.session.execute(sa.select(Enterprise.credit_code, Enterprise.id)
                                      .where(Enterprise.credit_code.in_(missing))).all())
    return ids


def _is_unique_violation(exc: Exception) -> bool:
    """A unique constraint refused the row (SQLAlchemy's IntegrityError, or psycopg's own from COPY)."""
    orig = getattr(exc, "orig", exc)
    return isinstance(exc, sa.exc.IntegrityError) or getattr(orig, "sqlstate", None) == "23505"


def _persist_batch(body, batch: list[Filing], ctx, actor, now, today, written: list | None = None) -> list[int]:
    # enterprises: create the new ones (first occurrence in the batch wins)
    new_ents: dict[str, dict] = {}
    for f in batch:
        code = f.enterprise["credit_code"]
        if ctx.enterprise_id(code) is None and code not in new_ents:
            e = f.enterprise
            new_ents[code] = {"credit_code": code, "name": e["name"], "region_code": e["region_code"],
                              "industry_code": e["industry_code"], "size": e["size"], "employees": e["employees"],
                              "created_at": now, "updated_at": now}
    if new_ents:
        ours: set[str] = set()
        ctx.enterprises.update(insert_enterprises(list(new_ents.values()), ours))
        for code in ours:  # as stored (one another request made at the same moment: not known here)
            row = new_ents[code]
            ctx.enterprise_rows[code] = (row["name"], row["size"], row["employees"])
    a_rows = []
    for f in batch:
        level, d = f.grade_level, f.data
        a_rows.append({
            "body_id": body.id, "external_ref": d["external_ref"], "enterprise_id": ctx.enterprises[
                d["enterprise"]["credit_code"]], "assessment_type": d["assessment_type"], "grade": d["grade"],
            "filed_grade": d["grade"], "previous_grade": "A" * f.previous_level if f.previous_level else None,
            "consulting_body_id": f.consulting_body_pk, "person_days": d["person_days"],
            "person_days_min": f.person_days_min, "reduction_reason": d.get("reduction_reason"),
            "onsite_start": date.fromisoformat(d["onsite_start"]), "onsite_end": date.fromisoformat(d["onsite_end"]),
            "decision_date": date.fromisoformat(d["decision_date"]), "certificate_no": d["certificate_no"],
            "valid_until": f.valid_until, "region_code": d["enterprise"]["region_code"],
            "industry_code": d["enterprise"]["industry_code"],
            "status": (S.pending_confirmation if _needs_confirmation(level) else S.standing).value,
            "flag_late": f.flags["late"], "flag_grade_jump": f.flags["grade_jump"],
            "flag_reduced_days": f.flags["reduced_person_days"], "flag_low_days": f.flags["low_person_days"],
            "flag_tie": f.flags["tie"], "flag_surveillance_overdue": False, "content_hash": f.content_hash,
            "filed_by_id": actor.id, "filed_at": now, "updated_at": now, "version": 1,
        })
    kids = [writes.children_of(f, row, actor, now) for f, row in zip(batch, a_rows, strict=True)]
    if len(batch) == 1 and db.session.get_bind().dialect.name == "postgresql":
        ids = [writes.insert_with_children(a_rows[0], kids[0])]  # one statement for the filing's rows
    else:
        ids = bulk_insert(Assessment, a_rows, returning=Assessment.id)
        writes.insert_children([(model, [{"assessment_id": aid, **r} for aid, k in zip(ids, kids, strict=True)
                                         for r in k[model]]) for model in writes.CHILDREN])
    evs, audits = [], []
    for aid, f, row in zip(ids, batch, a_rows, strict=True):
        flags = sorted(k for k, v in f.flags.items() if v)
        evs.append((actor, "assessment", aid, "filed", None,
                    {"external_ref": row["external_ref"], "grade": row["grade"],
                     "certificate_no": row["certificate_no"], "flags": flags}, None))
        evs.append((SYSTEM, "assessment", aid, "status_changed", {"status": S.filed.value},
                    {"status": row["status"]}, None))
        if row["status"] == S.pending_confirmation.value:
            audits.append({"assessment_id": aid, "body_id": body.id, "consulting_body_id": f.consulting_body_pk,
                           "enterprise_id": row["enterprise_id"], "round": 1})
        ctx.note_filed(f)
    audit_evs = confirmations.open_audits(audits, today)
    events.record_many(evs + audit_evs)
    later: dict[int, date] = {}  # a later assessment resets the surveillance clock of earlier certificates
    for f, row in zip(batch, a_rows, strict=True):
        if ctx.overdue.get(f.enterprise["credit_code"]) is False:
            continue  # the look-up found no certificate of it flagged overdue (or no enterprise): nothing to lift
        ent, decided = row["enterprise_id"], row["decision_date"]
        later[ent] = max(later.get(ent, decided), decided)
    lifecycle.lift_surveillance_suspensions(later.keys(), later, actor=SYSTEM,
                                            reason="a later assessment of the enterprise was filed")
    if written is not None:
        _note_written(written, ids, batch, a_rows, ctx, audit_evs, today)
    return list(ids)


def _note_written(written: list, ids: list[int], batch: list[Filing], a_rows: list[dict], ctx,
                  audit_evs: list[tuple], today: date) -> None:
    opened = {}  # assessment id -> its audit, from the events open_audits returned
    for _actor, _type, audit_id, action, _before, after, _reason in audit_evs:
        opened[after["assessment_id"]] = {
            "id": audit_id, "round": after["round"], "status": "assigned" if action == "assigned" else "pending",
            "assignee_id": after.get("assignee_id"),
            "due_date": date.fromisoformat(after["due_date"]) if "due_date" in after
            else confirmations.due_date_for(today)}
    for aid, f, row in zip(ids, batch, a_rows, strict=True):
        stored = ctx.enterprise_rows.get(f.enterprise["credit_code"])
        if stored is not None:
            written.append(Written({**row, "id": aid}, f, stored, opened.get(aid)))


# --- transitions -----------------------------------------------------------------------------
transition = lifecycle.transition  # the guarded move lives in the lifecycle module every feature calls


def withdraw(a: Assessment, reason: str, *, actor: Actor) -> None:
    errors = ErrorCollector()
    if not (reason or "").strip():
        errors.add("reason", "a withdrawal needs a reason")
    errors.raise_if_any()
    if a.status not in (S.filed, S.pending_confirmation, S.returned):
        raise Conflict(f"a {a.status.value} record cannot be withdrawn (only one not yet standing)")
    transition(a, S.withdrawn, actor=actor, reason=reason)
    confirmations.cancel_open_audits(a.id, actor, "the filing was withdrawn")


# --- amendments ------------------------------------------------------------------------------
AMENDABLE = (S.filed, S.returned)


def merge_changes(current: dict, changes: dict) -> dict:
    """Top-level fields are replaced; the enterprise (and consulting body) may be given in part."""
    merged = dict(current)
    for key, value in changes.items():
        if key in ("enterprise", "consulting_body") and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def amend(a: Assessment, changes: dict, reason: str, *, actor: Actor) -> None:
    """Correct a returned (or still filed) record; a returned AAA+ record goes back to its reviewer."""
    from auditbo.filings.records import payload_of

    errors = ErrorCollector()
    if not isinstance(changes, dict) or not changes:
        errors.add("changes", "name at least one field to change")
    elif "external_ref" in changes and changes["external_ref"] != a.external_ref:
        errors.add("external_ref", "cannot be changed; withdraw and file anew")
    if not (reason or "").strip():
        errors.add("reason", "an amendment needs a reason")
    errors.raise_if_any()
    if a.status not in AMENDABLE:
        raise Conflict(f"a {a.status.value} record cannot be amended (only a returned or filed one)")
    body = db.session.get(Organisation, a.body_id)
    before = payload_of(a)
    ctx = FilingContext(body)
    merged = merge_changes(before, changes)
    if "valid_until" not in changes and "decision_date" in changes:
        merged["valid_until"] = None  # recomputed from the new decision date
    filing = validate_filing(merged, ctx, current_app.config, to_local(a.filed_at).date(), self_id=a.id)
    if filing.content_hash == a.content_hash:
        raise Conflict("the amendment changes nothing")
    _apply(a, filing, ctx)
    changed = {k: filing.data.get(k) for k in merged if filing.data.get(k) != before.get(k)}
    events.record(actor, "assessment", a.id, "amended", before={k: before.get(k) for k in changed},
                  after=changed, reason=reason)
    if a.status is S.returned:
        transition(a, S.pending_confirmation, actor=actor, reason=reason)
        last = confirmations.latest_audit(a.id)
        reviewer_of = {a.id: last.assignee_id} if last and last.assignee_id else {}
        evs = confirmations.open_audits(
            [{"assessment_id": a.id, "body_id": a.body_id, "consulting_body_id": a.consulting_body_id,
              "enterprise_id": a.enterprise_id, "round": (last.round + 1) if last else 1}],
            _today(), reviewer_of=reviewer_of)
        events.record_many(evs)


def _apply(a: Assessment, f: Filing, ctx: FilingContext) -> None:
    d = f.data
    ent_id = ctx.enterprise_id(d["enterprise"]["credit_code"])
    if ent_id is None:
        e = d["enterprise"]
        now = utcnow()
        ent_id = insert_enterprises([{"credit_code": e["credit_code"], "name": e["name"],
                                      "region_code": e["region_code"], "industry_code": e["industry_code"],
                                      "size": e["size"], "employees": e["employees"], "created_at": now,
                                      "updated_at": now}])[e["credit_code"]]
    a.enterprise_id = ent_id
    a.assessment_type, a.grade, a.filed_grade = d["assessment_type"], d["grade"], d["grade"]
    a.consulting_body_id = f.consulting_body_pk
    a.person_days, a.person_days_min, a.reduction_reason = d["person_days"], f.person_days_min, d.get(
        "reduction_reason")
    a.onsite_start = date.fromisoformat(d["onsite_start"])
    a.onsite_end = date.fromisoformat(d["onsite_end"])
    a.decision_date = date.fromisoformat(d["decision_date"])
    a.certificate_no, a.valid_until = d["certificate_no"], f.valid_until
    a.region_code, a.industry_code = d["enterprise"]["region_code"], d["enterprise"]["industry_code"]
    a.flag_late, a.flag_grade_jump = f.flags["late"], f.flags["grade_jump"]
    a.flag_reduced_days, a.flag_low_days, a.flag_tie = (f.flags["reduced_person_days"], f.flags["low_person_days"],
                                                         f.flags["tie"])
    a.content_hash = f.content_hash
    a.previous_grade = "A" * f.previous_level if f.previous_level else None
    for model in (TeamMember, AssessmentConsultant, Capability):
        db.session.execute(sa.delete(model).where(model.assessment_id == a.id))
    bulk_insert(TeamMember, [{"assessment_id": a.id, "person_id": pk, "role": r} for pk, r in f.team])
    if f.consultant_pks:
        bulk_insert(AssessmentConsultant, [{"assessment_id": a.id, "person_id": pk} for pk in f.consultant_pks])
    bulk_insert(Capability, [{"assessment_id": a.id, "name": c["name"], "level": int(c["level"][2])}
                             for c in d["capabilities"]])
    db.session.flush()
    db.session.expire(a)  # read back as the database holds it (enums, not the strings set above)
