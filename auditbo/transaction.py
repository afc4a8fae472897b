"""One transaction per request, in one place (as indico's request handler does).

Services change things and flush; views and API handlers never commit. When the view has
answered, :func:`init_app`'s hook commits once if the answer is a success or a redirect
(status below 400) and rolls back otherwise; a view that shows a refusal on a 200 page or
behind a redirect calls :func:`discard` first. CLI commands and jobs commit themselves.

A race on a unique constraint (two requests filing one new certificate number at the same
moment) ends in an ``IntegrityError``, at a flush or at the commit: it is answered as
422 naming the field (or 409 for a client's own reference), never 500. Constraint names
follow ``NAMING_CONVENTION``; :data:`UNIQUE_FIELDS` maps them to the fields callers know.

SQLite takes its write lock at ``BEGIN IMMEDIATE`` in writing requests, so that two writers
queue (busy timeout) instead of one failing with "database is locked" when it upgrades a
read snapshot another writer has moved past: the default install behaves like PostgreSQL.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request

from auditbo.errors import Conflict, DomainError, FieldError, ValidationFailed
from auditbo.extensions import db

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# unique constraint (NAMING_CONVENTION) -> (the field a caller sent, 422 or 409)
UNIQUE_FIELDS: dict[str, tuple[str, int]] = {
    "uq_assessments_certificate_no": ("certificate_no", 422),
    "uq_assessments_body_external_ref": ("external_ref", 409),
    "uq_enterprises_credit_code": ("enterprise.credit_code", 409),
    "uq_organisations_credit_code": ("credit_code", 422),
    "uq_persons_person_id": ("person_id", 422),
    "uq_users_username": ("username", 422),
}
TAKEN = "is already taken: it was saved by another request at the same moment"


class Busy(DomainError):
    status = 503
    title = "Service busy"


def discard() -> None:
    """Roll the request's changes back now, and commit nothing more at its end: for a view that
    answers a refused change with a page (200) or a redirect rather than an error status."""
    g.transaction_discarded = True
    db.session.rollback()


def begin_sql() -> str:
    """SQLite's BEGIN: IMMEDIATE (the write lock at once) in a writing request, else deferred."""
    if has_request_context() and request.method in WRITE_METHODS:
        return "BEGIN IMMEDIATE"
    return "BEGIN"


def end_request(response):
    """Commit once when the answer is a success or a redirect; roll back on anything else."""
    if response.status_code >= 400 or g.pop("transaction_discarded", False):
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - answered by the error handlers, as if the view had raised it
        db.session.rollback()
        return current_app.make_response(current_app.handle_user_exception(exc))
    return response


# --- IntegrityError -> the field --------------------------------------------------------------
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$", re.M)


def _unique_by_columns() -> dict[tuple[str, tuple[str, ...]], str]:
    from auditbo.database import Base

    out = {}
    for table in Base.metadata.tables.values():
        for c in table.constraints:
            if isinstance(c, sa.UniqueConstraint) and c.name:
                out[(table.name, tuple(col.name for col in c.columns))] = str(c.name)
        for ix in table.indexes:
            if ix.unique and ix.name:
                out[(table.name, tuple(col.name for col in ix.columns))] = str(ix.name)
    return out


def constraint_of(exc: Exception) -> str | None:
    """The name of the unique constraint an IntegrityError broke, or None (another kind).
    ``exc`` is SQLAlchemy's IntegrityError or the driver's own (psycopg's, from a COPY)."""
    orig = getattr(exc, "orig", exc)
    diag = getattr(orig, "diag", None)
    if diag is not None:  # PostgreSQL (psycopg): the constraint by name; 23505 is unique_violation
        return diag.constraint_name if getattr(orig, "sqlstate", None) == "23505" else None
    m = _SQLITE_UNIQUE.search(str(orig))
    if m is None:
        return None
    cols = [part.strip().split(".", 1) for part in m.group(1).split(",")]
    table = cols[0][0]
    return _unique_by_columns().get((table, tuple(c[-1] for c in cols)), f"uq_{table}")


def refusal_for(exc: Exception) -> DomainError | None:
    """The answer for a database error that a concurrent request caused, or None (a real fault)."""
    if isinstance(exc, sa.exc.IntegrityError) or getattr(exc, "sqlstate", None) == "23505":
        name = constraint_of(exc)
        if name is None:
            return None
        field, status = UNIQUE_FIELDS.get(name, ("_body", 409))
        if status == 422:
            return ValidationFailed([FieldError(field, TAKEN)], detail=f"{field} {TAKEN}")
        err = Conflict(f"{field} {TAKEN}; reload and try again")
        err.errors = [FieldError(field, TAKEN)]
        return err
    if isinstance(exc, sa.exc.OperationalError) and "database is locked" in str(exc.orig):
        return Busy("the database is busy with other changes; try again in a moment")
    return None


def init_app(app: Flask) -> None:
    """The commit at the end of every request; web's error handlers answer with :func:`refusal_for`."""
    app.after_request(end_request)
