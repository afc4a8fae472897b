"""Bulk filing files: the published template (CSV and XLSX) and reading uploads safely.

Headers are "中文名 english_name"; a file may use either part or both. Hostile or
broken files get a clear 4xx: wrong type (415), not UTF-8/GBK, formulas, too many rows
or columns, a zip bomb (400/413). Nothing is filed from a file with any bad row.
"""

from __future__ import annotations

import csv
import io
import zipfile

from flask import current_app, make_response

from auditbo.errors import DomainError, FieldError, ValidationFailed

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
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_XLSX_RATIO = 200
FORMULA_START = ("=", "+", "@", "\t", "\r")


class UnsupportedFile(DomainError):
    status = 415
    title = "Unsupported media type"


class FileTooLarge(DomainError):
    status = 413
    title = "The upload is too large"


def header_label(field: str, zh: str) -> str:
    return f"{zh} {field}"


def _field_of(header: str) -> str | None:
    h = (header or "").strip().lstrip("\ufeff")
    for field, zh in COLUMNS:
        if h in (field, zh, header_label(field, zh)) or h.endswith(" " + field):
            return field
    return None


# --- reading ---------------------------------------------------------------------------------
def read_upload(filename: str, stream) -> list[dict]:
    name = filename.lower()
    data = stream.read()
    if name.endswith(".csv"):
        rows = _csv_rows(data)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    else:
        raise UnsupportedFile("upload a .csv or .xlsx file in the published template")
    return _to_payloads(rows)


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DomainError("the file is neither UTF-8 nor GBK/GB18030 text")


def _csv_rows(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise DomainError("this is not a CSV text file")
    text = _decode(data)
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise DomainError(f"the CSV cannot be read: {exc}") from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
            packed = sum(i.compress_size for i in zf.infolist()) or 1
    except zipfile.BadZipFile:
        raise DomainError("this is not an XLSX workbook") from None
    if total > MAX_XLSX_UNCOMPRESSED or total / packed > MAX_XLSX_RATIO:
        raise FileTooLarge("the workbook expands to too much data (a zip bomb?)")
    import openpyxl  # uses defusedxml when installed

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - any parse failure of an untrusted file is the sender's problem
        raise DomainError("the workbook cannot be read") from None
    try:
        ws = wb.worksheets[0]
        limit = current_app.config["IMPORT_MAX_ROWS"] + 1
        rows: list[list[str]] = []
        for row in ws.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1):
            if len(rows) > limit:
                break
            cells = ["" if v is None else (v.isoformat()[:10] if hasattr(v, "isoformat") else str(v)) for v in row]
            while cells and cells[-1] == "":
                cells.pop()
            rows.append(cells)
        return rows
    finally:
        wb.close()


def _split(value: str) -> list[str]:
    return [p.strip() for p in value.replace("；", ";").split(";") if p.strip()]


def _number(value: str):
    try:
        f = float(value)
    except ValueError:
        return value  # the schema names the field and says it is not a number
    return int(f) if f.is_integer() else f


def _to_payloads(rows: list[list[str]]) -> list[dict]:
    rows = [r for r in rows if any((c or "").strip() for c in r)]
    if not rows:
        raise ValidationFailed([FieldError("file", "is empty")])
    header = rows[0]
    if len(header) > MAX_COLUMNS:
        raise DomainError(f"the file has {len(header)} columns; the template has {len(COLUMNS)}")
    fields = [_field_of(h) for h in header]
    missing = [f for f, _ in COLUMNS if f not in fields and f not in ("reduction_reason", "valid_until",
                                                                          "consulting_body_credit_code",
                                                                          "consultant_ids")]
    if missing:
        raise ValidationFailed([FieldError("header", f"missing column {m}") for m in missing],
                               detail="the header does not match the template")
    body = rows[1:]
    if len(body) > current_app.config["IMPORT_MAX_ROWS"]:
        raise FileTooLarge(f"at most {current_app.config['IMPORT_MAX_ROWS']} rows per file")
    errors: list[FieldError] = []
    payloads = []
    for n, raw in enumerate(body, start=2):
        rec = {f: (raw[i].strip() if i < len(raw) and raw[i] else "") for i, f in enumerate(fields) if f}
        for f, v in rec.items():
            if v.startswith(FORMULA_START) or (v.startswith("-") and not v[1:2].isdigit()):
                errors.append(FieldError(f"row {n}: {f}", "formulas are not accepted"))
        payloads.append(_payload(rec))
    if errors:
        raise ValidationFailed(errors, detail="the file contains formulas; nothing was filed")
    return payloads


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
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)
        resp = make_response("\ufeff" + buf.getvalue())
        resp.mimetype = "text/csv"
        resp.headers["Content-Disposition"] = "attachment; filename=assessments-template.csv"
        return resp
    resp = make_response(xlsx_bytes(rows, "assessments"))
    resp.mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    resp.headers["Content-Disposition"] = "attachment; filename=assessments-template.xlsx"
    return resp


def xlsx_bytes(rows: list[list], title: str) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(title)
    for row in rows:
        ws.append([_safe_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _safe_cell(v):
    """Never write a value a spreadsheet would run as a formula."""
    if isinstance(v, str) and v.startswith(("=", "+", "-", "@")) and not v[1:2].isdigit():
        return "'" + v
    return v
