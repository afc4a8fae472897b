"""Bulk onboarding of the registry from CSV or XLSX (`orgs import`, `persons import`).

An import is all-or-nothing: every row is checked (fields, the registry, repeats in the
file) and every bad row and field is reported before anything changes; then all rows
are upserted (by credit code / person id) in the caller's transaction. Nothing is ever
deleted, and a row equal to what is stored changes nothing and logs nothing, so a file
can be imported again and again.

Files are read by :mod:`auditbo.uploads`, which refuses what it should not open (text
that is neither UTF-8 nor GBK/GB18030, XLSX files that would inflate beyond
:data:`MAX_UNCOMPRESSED`); here cells that start like a formula (``= + - @``: spreadsheet
injection) and more than :data:`MAX_ROWS` rows are refused.

Row numbers in the report are the spreadsheet's: the header is row 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app

from auditbo import clock, events, uploads
from auditbo.codes import check_credit_code
from auditbo.errors import FieldError, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.orgs import services
from auditbo.orgs.models import Organisation, Person

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED = uploads.MAX_UNCOMPRESSED  # passed to the reader on each call, so it can be set here
MAX_COLUMNS = 60  # the header is read this wide (the templates have 8 and 9 columns)
_CHUNK = 900

# canonical column -> (Chinese template header, required)
ORG_COLUMNS: dict[str, tuple[str, bool]] = {
    "credit_code": ("统一社会信用代码", True),
    "name": ("机构名称", True),
    "kind": ("机构类型", True),
    "region_code": ("行政区划代码", True),
    "status": ("状态", False),
    "status_reason": ("状态原因", False),
    "scope": ("业务范围", False),
    "contact": ("联系方式", False),
}
PERSON_COLUMNS: dict[str, tuple[str, bool]] = {
    "person_id": ("人员编号", True),
    "name": ("姓名", True),
    "kind": ("人员类型", True),
    "org_credit_code": ("所属机构统一社会信用代码", True),
    "qualification": ("资格", True),
    "valid_until": ("资格有效期至", True),
    "status": ("状态", False),
    "status_reason": ("状态原因", False),
    "id_number": ("身份证号", False),
}


def _refuse(message: str, where: str = "file") -> ValidationFailed:
    return ValidationFailed([FieldError(where, message)], detail=message)


@dataclass
class Table:
    """Rows of a file as ``(spreadsheet row number, {column: raw value})``.

    A cell refused while reading stays in its row, marked: a :class:`Formula` value (formula
    injection) or an ``int`` key (the column number of a value under no header). They are
    reported with the row's other problems, so nothing is collected beyond the file itself.
    """

    columns: list[str]
    rows: list[tuple[int, dict]]
    encoding: str = ""


class Formula(str):
    """A cell that starts like a formula, kept as read until its row is reported."""


# --------------------------------------------------------------------------- reading
def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return str(value)


def _header_map(columns: dict[str, tuple[str, bool]]) -> dict[str, str]:
    names = {}
    for canonical, (chinese, _required) in columns.items():
        names[canonical] = canonical
        names[chinese] = canonical
    return names


def read_table(filename: str, data: bytes, columns: dict[str, tuple[str, bool]]) -> Table:
    """Read a CSV or XLSX upload into a :class:`Table`, refusing unsafe or malformed files.

    Only the header's columns are read (at most :data:`MAX_COLUMNS`), and blank rows are skipped.
    """
    if len(data) > MAX_BYTES:
        raise _refuse(f"the file is {len(data) // (1024 * 1024)} MiB (at most {MAX_BYTES // (1024 * 1024)} MiB)")
    if not data.strip():
        raise _refuse("the file is empty")
    try:
        with uploads.read_sheet(filename, data, max_columns=MAX_COLUMNS, max_uncompressed=MAX_UNCOMPRESSED,
                                text=_cell) as sheet:
            return _table(sheet, columns)
    except uploads.UploadError as exc:
        raise _refuse(exc.detail) from None


def _table(sheet: uploads.Sheet, columns: dict[str, tuple[str, bool]]) -> Table:
    if not sheet.header:
        raise _refuse("the file has no header row")
    if len(sheet.header) > MAX_COLUMNS:
        raise _refuse(f"the header has more than {MAX_COLUMNS} columns; expected {', '.join(columns)}", "header")
    errors: list[FieldError] = []
    header = _parse_header(sheet.header, _header_map(columns), columns, errors)
    if errors:
        raise ValidationFailed(errors, detail=errors[0].message)
    rows: list[tuple[int, dict]] = []
    for number, cells in sheet.rows:
        if len(rows) >= MAX_ROWS:
            raise _refuse(f"the file has more than {MAX_ROWS} rows: split it")
        row: dict = {}
        for i, value in enumerate(cells):
            col = header[i]
            if col is None:
                if str(value).strip():
                    row[i + 1] = value
                continue
            if isinstance(value, str) and uploads.is_formula(value):
                value = Formula(value)
            row[col] = value
        rows.append((number, row))
    return Table(columns=[c for c in header if c], rows=rows, encoding=sheet.encoding)


def _parse_header(cells: list, aliases: dict[str, str], columns, errors: list[FieldError]) -> list[str | None]:
    header: list[str | None] = []
    seen = set()
    for i, cell in enumerate(cells):
        label = str(cell).strip()
        key = aliases.get(label, aliases.get(label.lower()))
        if not label:
            header.append(None)
            continue
        if key is None:
            errors.append(FieldError("header", f"unknown column {label!r} (column {i + 1}); expected "
                                                f"{', '.join(columns)}"))
        elif key in seen:
            errors.append(FieldError("header", f"column {key} appears twice"))
        seen.add(key)
        header.append(key)
    missing = [c for c, (_zh, required) in columns.items() if required and c not in seen]
    if missing:
        errors.append(FieldError("header", f"missing column(s): {', '.join(missing)}"))
    return header


# --------------------------------------------------------------------------- importing
@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.rows} rows: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged")


def _fetch(model, column, keys: Iterable[str]) -> dict:
    keys = sorted({k for k in keys if k})
    found = {}
    for i in range(0, len(keys), _CHUNK):
        for obj in db.session.scalars(sa.select(model).where(column.in_(keys[i:i + _CHUNK]))):
            found[getattr(obj, column.key)] = obj
    return found


def _read_problems(raw: dict) -> tuple[list[FieldError], dict]:
    """The cells refused while reading (in column order) and the row without them."""
    problems, kept = [], {}
    for col, value in raw.items():
        if isinstance(col, int):
            problems.append(FieldError(f"column {col}", "holds a value but has no header"))
        elif isinstance(value, Formula):
            problems.append(FieldError(col, f"starts with {value.strip()[:1] or repr(value[:1])}: cells that start "
                                            "with = + - @ are refused as formula injection"))
        else:
            kept[col] = value
    return problems, kept


def _check_rows(table: Table, validate, key: str, registry, errors: uploads.RowErrors) -> list[tuple[int, dict]]:
    """Validate every row, chunk by chunk, into ``errors`` (in row order): refused cells, fields, a key
    (credit code, person id) seen before in the file, then ``registry(chunk)`` — a function that
    fetches what the chunk's rows need and returns ``problems(clean) -> [FieldError]``."""
    cleaned: list[tuple[int, dict]] = []
    first_row: dict[str, int] = {}
    for start in range(0, len(table.rows), _CHUNK):
        checked = []
        for number, raw in table.rows[start:start + _CHUNK]:
            problems, kept = _read_problems(raw)
            refused = {e.field for e in problems}
            clean, errs = validate(kept)
            value = clean[key]
            if value and not any(e.field == key for e in errs):
                if value in first_row:
                    errs.append(FieldError(key, f"{value} repeats row {first_row[value]}"))
                else:
                    first_row[value] = number
            checked.append((number, clean, problems + [e for e in errs if e.field not in refused]))
        problems_of = registry([clean for _n, clean, _e in checked])
        for number, clean, errs in checked:
            errors.extend(number, errs + problems_of(clean))
            cleaned.append((number, clean))
    return cleaned


def row_errors(sink=None) -> uploads.RowErrors:
    """A collector for this module's row errors (``row N, field``), optionally streaming to ``sink``."""
    return uploads.RowErrors(current_app.config["IMPORT_MAX_REPORTED_ERRORS"], sink=sink, label="row {row}, {field}")


def _refused(errors: uploads.RowErrors, total: int) -> uploads.ImportRefused:
    return errors.refuse(f"{errors.rows} of {total} rows are invalid; nothing was imported")


def _apply_all(cleaned: list[tuple[int, dict]], apply, progress: Callable[[str], None]) -> ImportReport:
    """Write every checked row with ``apply(clean) -> (result, events)``, then append the events."""
    report = ImportReport(rows=len(cleaned))
    pending: list[tuple] = []
    for i, (_number, clean) in enumerate(cleaned, start=1):
        result, evs = apply(clean)
        pending += evs
        setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        report.ids.append(result.obj.id)
        if i % 5000 == 0:
            progress(f"imported {i} of {len(cleaned)} rows")
    if pending:
        events.record_many(pending)
    progress(report.summary())
    return report


def import_orgs(table: Table, *, actor: Actor, today: date | None = None,
                progress: Callable[[str], None] = lambda _m: None,
                errors: uploads.RowErrors | None = None) -> ImportReport:
    """Upsert every body in ``table`` by credit code, or change nothing and raise with the bad rows
    (the first ``IMPORT_MAX_REPORTED_ERRORS`` errors kept, every one counted and given to ``errors``' sink)."""
    today = today or clock.today()
    errors = errors if errors is not None else row_errors()
    existing: dict[str, Organisation] = {}

    def registry(chunk: list[dict]):
        existing.update(_fetch(Organisation, Organisation.credit_code, (c["credit_code"] for c in chunk)))
        return lambda clean: services.org_problems(clean, existing.get(clean["credit_code"]))

    cleaned = _check_rows(table, services.validate_org, "credit_code", registry, errors)
    progress(f"checked {len(cleaned)} rows")
    if errors:
        raise _refused(errors, len(table.rows))
    return _apply_all(cleaned, lambda clean: services.apply_org(
        clean, existing.get(clean["credit_code"]), actor=actor, today=today), progress)


def import_persons(table: Table, *, actor: Actor, today: date | None = None,
                   progress: Callable[[str], None] = lambda _m: None,
                   errors: uploads.RowErrors | None = None) -> ImportReport:
    """Upsert every person in ``table`` by person id, or change nothing and raise with the bad rows.

    Each person's body must already be registered (import the bodies first).
    """
    today = today or clock.today()
    errors = errors if errors is not None else row_errors()
    people: dict[str, Person] = {}
    bodies: dict[str, Organisation] = {}

    def registry(chunk: list[dict]):
        people.update(_fetch(Person, Person.person_id, (c["person_id"] for c in chunk)))
        bodies.update(_fetch(Organisation, Organisation.credit_code, (c["org_credit_code"] for c in chunk)))

        def problems(clean: dict) -> list[FieldError]:
            code = clean["org_credit_code"]
            registry_clean = clean if code and check_credit_code(code) is None else {
                k: v for k, v in clean.items() if k != "org_credit_code"}
            return services.person_problems_in_registry(registry_clean, people.get(clean["person_id"]),
                                                        bodies.get(code))
        return problems

    cleaned = _check_rows(table, services.validate_person, "person_id", registry, errors)
    progress(f"checked {len(cleaned)} rows")
    if errors:
        raise _refused(errors, len(table.rows))
    return _apply_all(cleaned, lambda clean: services.apply_person(
        clean, people.get(clean["person_id"]), bodies[clean["org_credit_code"]], actor=actor, today=today), progress)


KINDS = {"orgs": (ORG_COLUMNS, import_orgs), "persons": (PERSON_COLUMNS, import_persons)}


def run_import(which: str, filename: str, data: bytes, *, actor: Actor, today: date | None = None,
               progress: Callable[[str], None] = lambda _m: None,
               errors: uploads.RowErrors | None = None) -> ImportReport:
    """Read and import a file: ``which`` is ``orgs`` or ``persons``. Row errors are labelled
    ``row N, field``: pass ``errors`` (:class:`~auditbo.uploads.RowErrors`) to stream them to a report."""
    columns, importer = KINDS[which]
    table = read_table(filename, data, columns)
    progress(f"read {len(table.rows)} rows ({table.encoding})")
    return importer(table, actor=actor, today=today, progress=progress, errors=errors)


# --------------------------------------------------------------------------- templates
def template_headers(which: str, lang: str = "en") -> list[str]:
    columns, _ = KINDS[which]
    return [zh if lang.startswith("zh") else col for col, (zh, _req) in columns.items()]


def template_csv(which: str, lang: str = "en") -> bytes:
    return uploads.csv_bytes([template_headers(which, lang)])


def template_xlsx(which: str, lang: str = "en") -> bytes:
    return uploads.xlsx_bytes([template_headers(which, lang)], which)
