"""Reading untrusted CSV/XLSX uploads and writing spreadsheets safely: the mechanics every import shares.

The reader refuses what it should not open: text that is neither UTF-8 nor GBK/GB18030
(Chinese Excel saves CSV as GBK), UTF-16 or binary text, macro workbooks and the old
``.xls`` format, and XLSX files that would inflate beyond :data:`MAX_UNCOMPRESSED`
(checked with :mod:`zipfile` before openpyxl opens anything; openpyxl parses the XML
through defusedxml). It yields raw rows; each import maps them to its own columns and
payloads, and refuses cells for which :func:`is_formula` is true.

The writers never write a value a spreadsheet would run as a formula (:func:`safe_cell`).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

from auditbo.errors import DomainError

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
        for number, values in enumerate(ws.iter_rows(values_only=True, max_col=max_columns), start=1):
            yield number, list(values)
    finally:
        wb.close()


def is_formula(value: str) -> bool:
    """Cells that start like a formula (``= + - @``, or a tab or CR before one) are spreadsheet injection."""
    return value.startswith(FORMULA_STARTS) or value.strip().startswith(FORMULA_STARTS[:4])


def is_blank(cells: list) -> bool:
    return not any(str(c).strip() for c in cells)


# --------------------------------------------------------------------------- writing
def safe_cell(v):
    """Never write a value a spreadsheet would run as a formula."""
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


def csv_bytes(rows: list[list]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens Chinese text correctly."""
    buf = io.StringIO()
    csv.writer(buf).writerows([[safe_cell(v) for v in row] for row in rows])
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: list[list], title: str) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(title)
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
