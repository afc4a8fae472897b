"""Bulk filing files: the published template (CSV and XLSX) and reading uploads into payloads.

Headers are "中文名 english_name"; a file may use either part or both. Hostile or
broken files get a clear 4xx from :mod:`auditbo.uploads`: wrong type (415), not
UTF-8/GBK, formulas, too many rows or columns, a zip bomb (400/413). Nothing is filed
from a file with any bad row.
"""

from __future__ import annotations

from flask import current_app, make_response

from auditbo import uploads
from auditbo.errors import DomainError, FieldError, ValidationFailed
from auditbo.uploads import UnsupportedFile

COLUMNS = [
    ("external_ref", "评定编号"), ("assessment_type", "评定类型"), ("enterprise_name", "企业名称"),
    ("enterprise_credit_code", "统一社会信用代码"), ("enterprise_region_code", "行政区划代码"),
    ("enterprise_industry_code", "行业代码"), ("enterprise_size", "企业规模"), ("enterprise_employees", "员工人数"),
    ("grade", "评定等级"), ("capabilities", "新型能力(名称:等级;…)"), ("consulting_body_credit_code", "咨询机构信用代码"),
    ("consultant_ids", "咨询师编号(;分隔)"), ("team", "评定组(人员编号:lead/member;…)"), ("person_days", "人日数"),
    ("reduction_reason", "减少人日理由"), ("onsite_start", "现场评定开始日期"), ("onsite_end", "现场评定结束日期"),
    ("decision_date", "评定决定日期"), ("certificate_no", "证书编号"), ("valid_until", "证书有效期至"),
]
EXAMPLE = ["PJ-2026-0113", "initial", "示例机械股份有限公司", "91350100M000100Y43", "350100", "C34", "large", "2300",
           "AAA", "智能生产与现场作业管控能力:CL3", "91110108MA01C0QX26", "C-0042", "A-1001:lead;A-1002:member",
           "12", "", "2026-09-14", "2026-09-17", "2026-10-09", "IIMS-2026-AAA-000113", ""]
MAX_COLUMNS = 60
_FORMULA_FIRST = frozenset("=+-@")  # a stripped cell can be a formula only if it starts so (uploads.is_formula)


def header_label(field: str, zh: str) -> str:
    return f"{zh} {field}"


def _field_of(header: str) -> str | None:
    h = (header or "").strip().lstrip("\ufeff")
    for field, zh in COLUMNS:
        if h in (field, zh, header_label(field, zh)) or h.endswith(" " + field):
            return field
    return None


# --- reading ---------------------------------------------------------------------------------
class Payloads:
    """The payloads of an upload, read as they are used (one pass: memory stays flat whatever
    the file holds). :meth:`numbered` yields ``(spreadsheet row, payload)``; :meth:`problems_of`
    names a row's cells that start like a formula (asked when the row is checked, so that its
    problems are reported together); ``head`` keeps the first payloads (a preview)."""

    HEAD = 20

    def __init__(self, sheet: uploads.Sheet, fields: list[str | None], errors: uploads.RowErrors, limit: int):
        self._sheet, self._fields, self.errors, self._limit = sheet, fields, errors, limit
        self.head: list[dict] = []
        self.count = 0
        self._used = False
        self._formulas: dict[int, list[str]] = {}  # rows read, not yet checked (a batch at most)

    def numbered(self):
        if self._used:
            raise RuntimeError("an upload's payloads are read once")
        self._used = True
        columns = [(i, f) for i, f in enumerate(self._fields) if f]
        may_be_formula = uploads.is_formula
        with self._sheet as sheet:
            for number, cells in sheet.rows:
                if self.count >= self._limit:
                    raise uploads.FileTooLarge(f"at most {self._limit} rows per file")
                self.count += 1
                rec = {f: cells[i].strip() for i, f in columns}
                formulas = [f for f, v in rec.items() if v and v[0] in _FORMULA_FIRST and may_be_formula(v)]
                if formulas:
                    self._formulas[number] = formulas
                payload = _payload(rec)
                if len(self.head) < self.HEAD:
                    self.head.append(payload)
                yield number, payload

    def problems_of(self, number: int) -> list[FieldError]:
        return [FieldError(f, "formulas are not accepted") for f in self._formulas.pop(number, ())]

    def __iter__(self):
        return (payload for _number, payload in self.numbered())


def read_upload(filename: str, stream, *, errors: uploads.RowErrors | None = None) -> Payloads:
    """The payloads of a CSV or XLSX upload in the template, read as they are used.

    The header is checked here; only its columns are read and blank rows are skipped. Cells
    that start like a formula go to ``errors`` (capped, counted: see
    :class:`~auditbo.uploads.RowErrors`), which :func:`~auditbo.filings.services.file_many`
    reports with the rows' other problems: any of them refuses the file.
    """
    if not filename.lower().endswith((".csv", ".xlsx")):
        raise UnsupportedFile("upload a .csv or .xlsx file in the published template")
    cfg = current_app.config
    errors = errors if errors is not None else uploads.RowErrors(cfg["IMPORT_MAX_REPORTED_ERRORS"])
    sheet = uploads.read_sheet(filename, stream.read(), max_columns=MAX_COLUMNS, text=_text)
    try:
        fields = _fields(sheet.header)
    except DomainError:
        sheet.close()
        raise
    return Payloads(sheet, fields, errors, cfg["IMPORT_MAX_ROWS"])


def _text(v) -> str:
    if v is None:
        return ""
    return v.isoformat()[:10] if hasattr(v, "isoformat") else str(v)


def _split(value: str) -> list[str]:
    if not value:
        return []
    return [p for p in map(str.strip, value.replace("；", ";").split(";")) if p]


def _number(value: str):
    try:
        f = float(value)
    except ValueError:
        return value  # the schema names the field and says it is not a number
    return int(f) if f.is_integer() else f


def _fields(header: list[str]) -> list[str | None]:
    if not header:
        raise ValidationFailed([FieldError("file", "is empty")])
    if len(header) > MAX_COLUMNS:
        raise DomainError(f"the file has more than {MAX_COLUMNS} columns; the template has {len(COLUMNS)}")
    fields = [_field_of(h) for h in header]
    missing = [f for f, _ in COLUMNS if f not in fields and f not in ("reduction_reason", "valid_until",
                                                                          "consulting_body_credit_code",
                                                                          "consultant_ids")]
    if missing:
        raise ValidationFailed([FieldError("header", f"missing column {m}") for m in missing],
                               detail="the header does not match the template")
    return fields


def _payload(rec: dict) -> dict:
    def opt(key):
        return rec.get(key) or None

    caps = []
    for part in _split(rec.get("capabilities", "")):
        name, _, level = part.rpartition(":")
        caps.append({"name": name.strip() or part, "level": level.strip().upper()})
    team = []
    for part in _split(rec.get("team", "")):
        pid, _, role = part.partition(":")
        team.append({"person_id": pid.strip(), "role": (role.strip() or "member").lower()})
    payload = {
        "external_ref": rec.get("external_ref", ""), "assessment_type": rec.get("assessment_type", ""),
        "enterprise": {"name": rec.get("enterprise_name", ""), "credit_code": rec.get("enterprise_credit_code", ""),
                       "region_code": rec.get("enterprise_region_code", ""),
                       "industry_code": rec.get("enterprise_industry_code", ""),
                       "size": rec.get("enterprise_size", ""), "employees": _number(rec.get("enterprise_employees", ""))},
        "grade": rec.get("grade", "").upper(), "capabilities": caps, "team": team,
        "person_days": _number(rec.get("person_days", "")), "reduction_reason": opt("reduction_reason"),
        "onsite_start": rec.get("onsite_start", ""), "onsite_end": rec.get("onsite_end", ""),
        "decision_date": rec.get("decision_date", ""), "certificate_no": rec.get("certificate_no", ""),
        "valid_until": opt("valid_until"), "consulting_body": None,
    }
    if opt("consulting_body_credit_code"):
        payload["consulting_body"] = {"credit_code": rec["consulting_body_credit_code"],
                                      "consultant_ids": _split(rec.get("consultant_ids", ""))}
    return payload


# --- the template --------------------------------------------------------------------------
def template_rows() -> list[list[str]]:
    return [[header_label(f, zh) for f, zh in COLUMNS], EXAMPLE]


def template_response(fmt: str):
    rows = template_rows()
    if fmt == "csv":
        resp = make_response(uploads.csv_bytes(rows))
        resp.mimetype = "text/csv"
    else:
        resp = make_response(uploads.xlsx_bytes(rows, "assessments"))
        resp.mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    resp.headers["Content-Disposition"] = f"attachment; filename=assessments-template.{fmt}"
    return resp
