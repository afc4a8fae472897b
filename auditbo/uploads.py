"""Reading untrusted CSV/XLSX uploads and writing spreadsheets safely: the mechanics every import shares.

The reader refuses what it should not open: text that is neither UTF-8 nor GBK/GB18030
(Chinese Excel saves CSV as GBK), UTF-16 or binary text, macro workbooks and the old
``.xls`` format, and XLSX files that would inflate beyond :data:`MAX_UNCOMPRESSED`
(checked with :mod:`zipfile` before openpyxl opens anything; openpyxl parses the XML
through defusedxml). It yields raw rows; each import maps them to its own columns and
payloads, and refuses cells for which :func:`is_formula` is true.

The writers (:mod:`auditbo.exports`, re-exported here) never write a value a spreadsheet would run
as a formula (:func:`safe_cell`).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator

from auditbo.errors import DomainError, FieldError, ValidationFailed
from auditbo.exports import csv_bytes, safe_cell, xlsx_bytes  # noqa: F401 - the writers live in exports (one copy)

MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, per XLSX member above 1 MiB
MAX_MEMBERS = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Rows = Iterator[tuple[int, list]]  # (spreadsheet row number, raw cell values)


class UploadError(DomainError):
    """The file itself is refused (not a row in it)."""


class UnsupportedFile(UploadError):
    status = 415
    title = "Unsupported media type"


class FileTooLarge(UploadError):
    status = 413
    title = "The upload is too large"


class ImportRefused(ValidationFailed):
    """An import refused for its rows: the first errors (``errors``), how many there are in all
    (``error_count``, over ``invalid_rows`` rows) and, once the caller stored it, where the full
    report can be downloaded (``report_url``)."""

    def __init__(self, collected: RowErrors, detail: str):
        super().__init__(collected.kept, detail=detail)
        self.error_count = collected.total
        self.invalid_rows = collected.rows
        self.report_url: str | None = None

    @property
    def truncated(self) -> bool:
        return self.error_count > len(self.errors)

    def problem_extra(self) -> dict:
        """What the API adds to its problem+json body (beside ``errors``)."""
        extra = {"error_count": self.error_count, "invalid_rows": self.invalid_rows}
        if self.report_url:
            extra["error_report"] = self.report_url
        return extra


class RowErrors:
    """The row errors of one import, in the order they are found.

    The first ``cap`` are kept as :class:`FieldError` (labelled like ``row 5: grade``); every
    one is counted and handed to ``sink(row, field, message)`` (the report file), so that
    memory stays flat whatever a file holds. Rows are counted as they change (errors come row
    by row); ``row=None`` is the file or its header.
    """

    def __init__(self, cap: int, sink: Callable[[int | None, str, str], None] | None = None,
                 label: str = "row {row}: {field}"):
        self.cap = max(cap, 0)
        self.sink = sink
        self.label = label
        self.kept: list[FieldError] = []
        self.total = 0
        self.rows = 0
        self._last_row: int | None = None

    def add(self, row: int | None, field: str, message: str) -> None:
        self.total += 1
        if row is not None and row != self._last_row:
            self.rows += 1
            self._last_row = row
        if len(self.kept) < self.cap:
            self.kept.append(FieldError(field if row is None else self.label.format(row=row, field=field), message))
        if self.sink is not None:
            self.sink(row, field, message)

    def extend(self, row: int | None, errors) -> None:
        for e in errors:
            self.add(row, e.field, e.message)

    def __bool__(self) -> bool:
        return self.total > 0

    def refuse(self, detail: str) -> ImportRefused:
        return ImportRefused(self, detail)


# --------------------------------------------------------------------------- reading
def read_rows(filename: str, data: bytes, *, max_uncompressed: int = MAX_UNCOMPRESSED,
              max_columns: int | None = None) -> tuple[Rows, str]:
    """The rows of a CSV or XLSX upload and its encoding (``"xlsx"`` for a workbook).

    The rows are a generator: close it (``contextlib.closing``) when you stop early.
    """
    name = (filename or "").lower()
    if data.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        if name.endswith(".xlsm"):
            raise UploadError("macro-enabled workbooks (.xlsm) are refused: save as .xlsx")
        return xlsx_rows(data, max_uncompressed=max_uncompressed, max_columns=max_columns), "xlsx"
    if name.endswith(".xls"):
        raise UploadError("the old Excel format (.xls) is not read: save as .xlsx or CSV")
    text, encoding = decode_text(data)
    return csv_rows(text), encoding


def decode_text(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GBK/GB18030; anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadError("the file is UTF-16 text: save it as CSV UTF-8 (or GBK)")
    if b"\x00" in data:
        raise UploadError("the file is not text (it holds NUL bytes): upload a CSV or an XLSX file")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise UploadError("the file is neither UTF-8 nor GBK/GB18030 text") from None


def csv_rows(text: str) -> Rows:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as exc:
        raise UploadError(f"line {reader.line_num}: not well-formed CSV ({exc})") from None


def check_xlsx_archive(data: bytes, *, max_uncompressed: int = MAX_UNCOMPRESSED) -> None:
    """Refuse an XLSX that is not a sane zip or would inflate too far (a zip bomb)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError("the file is not a valid XLSX workbook") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise FileTooLarge(f"the workbook has {len(infos)} parts (at most {MAX_MEMBERS})")
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise FileTooLarge(f"the workbook part {info.filename} inflates "
                                   f"{info.file_size // max(info.compress_size, 1)} times: refused as a possible zip bomb")
        if total > max_uncompressed:
            raise FileTooLarge(f"the workbook inflates to {total // (1024 * 1024)} MiB "
                               f"(at most {max_uncompressed // (1024 * 1024)} MiB)")
        if "xl/workbook.xml" not in zf.namelist():
            raise UploadError("the file is not a valid XLSX workbook")


def xlsx_rows(data: bytes, *, max_uncompressed: int = MAX_UNCOMPRESSED, max_columns: int | None = None) -> Rows:
    """The first sheet's rows, read with openpyxl in read-only mode after :func:`check_xlsx_archive`."""
    import openpyxl  # uses defusedxml when it is installed

    check_xlsx_archive(data, max_uncompressed=max_uncompressed)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
        raise UploadError(f"the XLSX workbook cannot be read ({type(exc).__name__})") from None
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # the declared A1:XFD1048576 would pad every row and every gap to its size
        yield from enumerate(ws.iter_rows(values_only=True, max_col=max_columns), start=1)
    finally:
        wb.close()


class Sheet:
    """The header of an upload (its first non-blank row) and the non-blank rows below it.

    Only the header's columns are read: each row is cut (or padded with ``None``) to the
    header's width, so that a sheet declaring ``A1:XFD1048576`` or a row with a cell in
    column XFD costs what its header does, and blank rows are skipped wherever they are.
    ``rows`` is a generator: close the sheet (``with``) when you stop early.
    """

    def __init__(self, raw: Rows, encoding: str, *, max_columns: int, text=None):
        text = text or plain_text
        self.encoding = encoding
        self._raw = raw
        self._text = text
        self.header_row = 0
        self.header: list = []
        for number, values in raw:
            cells = [text(v) for v in values[:max_columns + 1]]
            if not is_blank(cells):
                while cells and not str(cells[-1]).strip():
                    cells.pop()
                self.header_row, self.header = number, cells
                break
        self.width = len(self.header)

    @property
    def rows(self) -> Rows:
        width, text = self.width, self._text
        if self.encoding != "xlsx":  # CSV: every cell is already a str (text() would give it back as it is)
            blank = text(None)
            for number, values in self._raw:
                cells = values[:width]
                if not any(map(str.strip, cells)):
                    continue
                if len(cells) < width:
                    cells += [blank] * (width - len(cells))
                yield number, cells
            return
        for number, values in self._raw:
            cells = [text(v) for v in values[:width]]
            if is_blank(cells):
                continue
            if len(cells) < width:
                cells += [text(None)] * (width - len(cells))
            yield number, cells

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def plain_text(value) -> str:
    return "" if value is None else str(value)


def read_sheet(filename: str, data: bytes, *, max_columns: int, max_uncompressed: int = MAX_UNCOMPRESSED,
               text=None) -> Sheet:
    """The header and rows of a CSV or XLSX upload (see :class:`Sheet`); ``text`` maps each raw cell
    (``None`` for an empty one) to what the import works with. A header wider than ``max_columns``
    comes back with ``max_columns + 1`` cells, so that the caller can refuse it."""
    raw, encoding = read_rows(filename, data, max_uncompressed=max_uncompressed, max_columns=max_columns + 1)
    return Sheet(raw, encoding, max_columns=max_columns, text=text)


def is_formula(value: str) -> bool:
    """Cells that start like a formula (``= + - @``, or a tab or CR before one) are spreadsheet injection."""
    if not value:
        return False
    first = value[0]
    if first in _FORMULA_FIRST:
        return True
    return first.isspace() and value.strip().startswith(FORMULA_STARTS[:4])  # (checked for every cell: kept cheap)


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def is_blank(cells: list) -> bool:
    return not any(str(c).strip() for c in cells)

