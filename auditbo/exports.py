"""Exports: any list as CSV (UTF-8 with a BOM) or XLSX, streamed, formula-safe, in the UI's language.

A list's export is its page's query (the same filters, the same scoping, the same order)
with the page's limit left off, and a list of :class:`Column` saying what each cell shows::

    COLUMNS = [exports.Column("certificate_no", _l("Certificate")),
               exports.Column("status", _l("Status"), label=lambda s: AssessmentStatus(s).title)]
    return exports.response(fmt, stmt, COLUMNS, name="assessments")

Memory stays flat whatever the list holds:

- rows come from the database in batches (``yield_per``: a server-side cursor on PostgreSQL,
  ``fetchmany`` on SQLite), never the whole result at once;
- CSV goes out as it is written, a chunk per :data:`BATCH` rows (the first byte leaves
  after the first batch);
- XLSX is written with openpyxl's ``write_only`` workbook (each row goes to a temporary
  file on disk as it is appended, strings inline), then the zip is sent from its
  temporary file in chunks and the file removed. A workbook is a zip with its parts'
  sizes at the end, so its first byte leaves when the last row is written.

Headers and labels (an enum's title, yes/no) are translated into the request's language
once per distinct value; times are shown in the office's zone (:mod:`auditbo.clock`);
every text cell goes through :func:`safe_cell`, so that nothing runs as a formula.

The small in-memory writers (:func:`csv_bytes`, :func:`xlsx_bytes`: import templates, a
one-sheet table) are the same writers run over a list.
"""

from __future__ import annotations

import csv
import enum
import io
import operator
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask import Response, stream_with_context
from flask_babel import gettext as _

BATCH = 1000
CHUNK = 64 * 1024
FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_MAX_ROWS = 1_048_575  # a worksheet holds 1,048,576 rows, the header included
XLSX_SHEET_TITLE_MAX = 31


# --------------------------------------------------------------------------- cells
def safe_cell(v):
    """Never write a value a spreadsheet would run as a formula (``= + - @``, tab, CR): such a text
    gets a leading apostrophe; a negative number written as text stays a number."""
    if isinstance(v, str) and v:
        if v[0] in "=+@\t\r" or (v[0] == "-" and not _is_number(v)):
            return "'" + v
    return v


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _converter(fmt: str, yes_no: tuple) -> Callable[[Any], Any]:
    """value -> cell for ``fmt``: text formula-safe, enums by value, booleans as ``yes_no``, times in
    the office's zone (naive, as spreadsheets want them); in CSV dates and times as ISO text."""
    from auditbo.clock import office_zone

    zone = office_zone()
    as_text = fmt == "csv"

    def moment(v: datetime):
        local = (v if v.tzinfo else v.replace(tzinfo=UTC)).astimezone(zone).replace(tzinfo=None)
        return local.strftime("%Y-%m-%d %H:%M:%S") if as_text else local

    handlers: dict[type, Callable] = {
        str: safe_cell,
        int: _same,
        float: _same,
        type(None): _same,
        bool: lambda v: yes_no[0] if v else yes_no[1],
        date: (lambda v: v.isoformat()) if as_text else _same,
        datetime: moment,
    }

    def convert(v):
        t = type(v)
        if t is str:  # the usual cell: formula-safe text, inline
            return "'" + v if v and (v[0] in "=+@\t\r" or (v[0] == "-" and not _is_number(v))) else v
        if v is None or t is int or t is float:
            return v
        h = handlers.get(t)
        if h is not None:
            return h(v)
        if isinstance(v, enum.Enum):
            return safe_cell(v.value)
        for t, h in list(handlers.items()):  # a subclass (Decimal, a str subclass ...): learn its handler
            if isinstance(v, t) and t is not type(None):
                handlers[type(v)] = h
                return h(v)
        return safe_cell(str(v))

    return convert


def _same(v):
    return v


def _zh() -> bool:
    from flask import g

    return str(g.get("lang") or "zh_Hans_CN").startswith("zh")


def province_name(region_code: str | None) -> str | None:
    """A region code's province (GB/T 2260, its first two digits) in the UI's language."""
    from auditbo.codes import PROVINCES

    if not region_code:
        return region_code
    names = PROVINCES.get(region_code[:2])
    return region_code if names is None else names[0 if _zh() else 1]


def industry_section_name(industry_code: str | None) -> str | None:
    """An industry code's GB/T 4754 section, ``C 制造业``, in the UI's language."""
    from auditbo.codes import INDUSTRY_SECTIONS

    if not industry_code:
        return industry_code
    sec = INDUSTRY_SECTIONS.get(industry_code[:1])
    return industry_code if sec is None else f"{industry_code[:1]} {sec[2] if _zh() else sec[3]}"


@dataclass(frozen=True)
class Column:
    """One column of an export: the key of the result row (or ``get``), its header, and
    optionally ``label`` mapping a value to what is shown (remembered per distinct value)."""

    key: str
    title: Any  # a lazy string: translated when the export starts
    label: Callable[[Any], Any] | None = None
    get: Callable[[Any], Any] | None = None

    def raw(self, row):
        if self.get is not None:
            return self.get(row)
        if isinstance(row, dict):
            return row.get(self.key)
        return getattr(row, self.key)


def table(columns: Sequence[Column], rows: Iterable, *, fmt: str = "xlsx") -> Iterator[list]:
    """The header, then each row as a list of formula-safe cells (for ``fmt``)."""
    yield [safe_cell(str(c.title)) for c in columns]
    convert = _converter(fmt, (_("Yes"), _("No")))
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return
    cells = [_cell_of(c, convert, first) for c in columns]  # getters fitted to the rows' kind
    yield [cell(first) for cell in cells]
    for row in it:
        yield [cell(row) for cell in cells]


def _cell_of(c: Column, convert, sample) -> Callable[[Any], Any]:
    raw = c.raw if c.get is not None else _getter(c.key, sample)
    if c.label is None:
        return lambda row: convert(raw(row))
    memo: dict = {}
    label = c.label

    def labelled(row):
        v = raw(row)
        if v is None:
            return None
        try:
            return memo[v]
        except KeyError:
            shown = label(v.value if isinstance(v, enum.Enum) else v)
            memo[v] = out = convert(str(shown) if shown is not None else None)
            return out
        except TypeError:  # an unhashable value: not remembered
            return convert(label(v))

    return labelled


def _getter(key: str, sample) -> Callable[[Any], Any]:
    """How to read ``key`` from rows like ``sample``: a dict's item, a result row's position, an attribute."""
    if isinstance(sample, dict):
        return lambda row: row.get(key)
    fields = getattr(sample, "_fields", None)  # a result row: by position, as fast as a tuple
    if fields is not None and key in fields:
        return operator.itemgetter(fields.index(key))
    return operator.attrgetter(key)


def rows_of(stmt: sa.Select, *, batch: int = BATCH) -> Iterator:
    """The rows of ``stmt`` in batches of ``batch`` (a server-side cursor on PostgreSQL)."""
    from auditbo.extensions import db

    result = db.session.execute(stmt.execution_options(yield_per=batch))
    try:
        yield from result
    finally:
        result.close()


# --------------------------------------------------------------------------- writers
def csv_chunks(cells: Iterable[list], *, batch: int = BATCH) -> Iterator[bytes]:
    """CSV in UTF-8 with a BOM (so that Excel opens Chinese text correctly), a chunk per ``batch`` rows."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    yield "\ufeff".encode()
    n = 0
    for row in cells:
        writer.writerow(row)
        n += 1
        if n % batch == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def _sheet_title(title: str) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:XLSX_SHEET_TITLE_MAX] or "Sheet"


def write_xlsx(fh, sheets: Iterable[tuple[str, Iterable[list]]]) -> None:
    """A workbook of one or more ``(title, rows)`` sheets into the binary file ``fh`` (openpyxl,
    write-only: rows go to disk as they are appended). A sheet is cut at Excel's row limit."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(_sheet_title(str(title)))
        for n, row in enumerate(rows):
            if n > XLSX_MAX_ROWS:
                break
            ws.append(row)
    wb.save(fh)


def xlsx_chunks(sheets: Iterable[tuple[str, Iterable[list]]]) -> Iterator[bytes]:
    """:func:`write_xlsx` into a temporary file, then the file in chunks; the file is removed."""
    fd, path = tempfile.mkstemp(prefix="auditbo-export-", suffix=".xlsx")
    try:
        with os.fdopen(fd, "w+b") as fh:
            write_xlsx(fh, sheets)
            fh.seek(0)
            while chunk := fh.read(CHUNK):
                yield chunk
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def csv_bytes(rows: Iterable[list]) -> bytes:
    """A small table (already in memory) as CSV bytes: formula-safe, UTF-8 with a BOM."""
    return b"".join(csv_chunks(["" if v is None else safe_cell(v) for v in row] for row in rows))


def xlsx_bytes(rows: Iterable[list], title: str) -> bytes:
    """A small table (already in memory) as a one-sheet workbook: formula-safe."""
    buf = io.BytesIO()
    write_xlsx(buf, [(title, ([safe_cell(v) for v in row] for row in rows))])
    return buf.getvalue()


# --------------------------------------------------------------------------- responses
def download(fmt: str, chunks: Iterable[bytes], *, name: str) -> Response:
    """A streamed attachment (``name.fmt``), never cached."""
    if fmt not in FORMATS:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    resp = Response(stream_with_context(chunks), mimetype=MIMETYPES[fmt], direct_passthrough=True)
    resp.headers["Content-Disposition"] = f"attachment; filename={name}.{fmt}"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def stream(fmt: str, columns: Sequence[Column], rows: Iterable, *, sheet: str) -> Iterator[bytes]:
    """The chunks of one list (``rows``: result rows or dicts) in ``fmt``."""
    cells = table(columns, rows, fmt=fmt)
    if fmt == "xlsx":
        return xlsx_chunks([(sheet, cells)])
    return csv_chunks(cells)


def response(
    fmt: str, source: sa.Select | Iterable, columns: Sequence[Column], *, name: str, sheet: str | None = None
) -> Response:
    """The list ``source`` (a select, streamed in batches, or an iterable of rows) as ``name.fmt``.

    The select must already carry the list's filters, the caller's scope and its order.
    """
    rows = rows_of(source) if isinstance(source, sa.Select) else source
    return download(fmt, stream(fmt, columns, rows, sheet=str(sheet or name)), name=name)
