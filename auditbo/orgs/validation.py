"""Validation of one registry row (from an import or a form), without the database.

Values arrive as strings (CSV, forms) or cells (XLSX: numbers, dates); English values
and the Chinese template's words are both accepted. Each validator returns the clean
values and *every* error found, so that an import can report all bad rows at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import date, datetime

from flask import current_app

from auditbo.codes import check_credit_code, check_region_code
from auditbo.errors import FieldError
from auditbo.orgs.models import OrgKind, PersonKind, Qualification, RegistryStatus

# which body a person of each kind works for, and the qualifications each kind may hold
EMPLOYER_KIND = {PersonKind.assessor: OrgKind.assessment_body, PersonKind.consultant: OrgKind.consulting_body}
QUALIFICATIONS_OF = {
    PersonKind.assessor: {Qualification.assessor, Qualification.lead, Qualification.senior_lead},
    PersonKind.consultant: {Qualification.consultant},
}

# Values accepted in imports and forms, in English or as in the Chinese template.
KIND_ALIASES = {"评定机构": "assessment_body", "咨询机构": "consulting_body", "贯标咨询服务机构": "consulting_body"}
PERSON_KIND_ALIASES = {"评定人员": "assessor", "咨询师": "consultant", "咨询人员": "consultant"}
STATUS_ALIASES = {"有效": "active", "正常": "active", "暂停": "suspended", "撤销": "revoked"}
QUALIFICATION_ALIASES = {"评定员": "assessor", "评定组长": "lead", "组长": "lead", "高级评定组长": "senior_lead",
                         "高级组长": "senior_lead", "咨询师": "consultant"}

PERSON_ID_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,31}\Z")
_ID_NUMBER_RE = re.compile(r"\A[0-9]{17}[0-9X]\Z")
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


# --------------------------------------------------------------------------- personal data
def hash_id_number(id_number: str) -> str:
    """HMAC-SHA256 of a resident identity number (PIPL: the number itself is never stored).

    Keyed with the app's secret so that the hash cannot be reversed by enumerating the
    (small) space of identity numbers; the same number always gives the same hash, so
    a duplicate registration can still be found.
    """
    key = ("auditbo-person-id:" + str(current_app.config["SECRET_KEY"])).encode()
    return hmac.new(key, id_number.upper().encode(), hashlib.sha256).hexdigest()


def check_id_number(value: str) -> str | None:
    """GB 11643 resident identity number: 17 digits and an ISO 7064 MOD 11-2 check character."""
    value = value.upper()
    if not _ID_NUMBER_RE.match(value):
        return "must be 17 digits followed by a digit or X"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11]
    if value[17] != check:
        return "check character does not match"
    return None


# --------------------------------------------------------------------------- validation
def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def _choice(raw, enum_cls, aliases: dict, field: str, errors: list[FieldError]):
    value = _text(raw)
    value = aliases.get(value, value)
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        errors.append(FieldError(field, f"must be one of {allowed}" + (f", got {value!r}" if value else "")))
        return None


def _length(raw, field: str, errors: list[FieldError], *, maximum: int, required: bool) -> str | None:
    value = _text(raw)
    if not value:
        if required:
            errors.append(FieldError(field, "is required"))
        return None
    if len(value) > maximum:
        errors.append(FieldError(field, f"must be at most {maximum} characters, got {len(value)}"))
        return None
    return value


def parse_date(raw) -> date | None:
    """A date from an import cell or form: a date, or text YYYY-MM-DD (also YYYY/MM/DD, YYYY.MM.DD)."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = _text(raw)
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if not m:
        raise ValueError("must be a date YYYY-MM-DD")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"{text} is not a calendar date") from None


def validate_org(data: Mapping[str, object]) -> tuple[dict, list[FieldError]]:
    """Check one body's fields (strings, as from a CSV row or a form) without touching the database.

    Returns the clean values of the keys present in ``data`` — an optional key that is
    absent or blank is left out, so that an upsert leaves the stored value alone — and
    every error found.
    """
    errors: list[FieldError] = []
    clean: dict = {}
    code = _text(data.get("credit_code")).upper()
    problem = check_credit_code(code) if code else "is required"
    if problem:
        errors.append(FieldError("credit_code", problem))
    clean["credit_code"] = code
    clean["name"] = _length(data.get("name"), "name", errors, maximum=200, required=True)
    clean["kind"] = _choice(data.get("kind"), OrgKind, KIND_ALIASES, "kind", errors)
    region = _text(data.get("region_code"))
    problem = check_region_code(region) if region else "is required"
    if problem:
        errors.append(FieldError("region_code", problem))
    clean["region_code"] = region
    if _text(data.get("status")):
        clean["status"] = _choice(data.get("status"), RegistryStatus, STATUS_ALIASES, "status", errors)
    for key, maximum in (("scope", 2000), ("contact", 200), ("status_reason", 2000)):
        value = _length(data.get(key), key, errors, maximum=maximum, required=False)
        if value is not None:
            clean[key] = value
    return clean, errors


def validate_person(data: Mapping[str, object]) -> tuple[dict, list[FieldError]]:
    """Check one person's fields without touching the database (see :func:`validate_org`)."""
    errors: list[FieldError] = []
    clean: dict = {}
    pid = _text(data.get("person_id"))
    if not pid:
        errors.append(FieldError("person_id", "is required"))
    elif not PERSON_ID_RE.match(pid):
        errors.append(FieldError("person_id", "must be 1-32 letters, digits, '.', '_' or '-', starting with a "
                                              "letter or digit"))
    clean["person_id"] = pid
    clean["name"] = _length(data.get("name"), "name", errors, maximum=100, required=True)
    kind = clean["kind"] = _choice(data.get("kind"), PersonKind, PERSON_KIND_ALIASES, "kind", errors)
    code = _text(data.get("org_credit_code")).upper()
    problem = check_credit_code(code) if code else "is required"
    if problem:
        errors.append(FieldError("org_credit_code", problem))
    clean["org_credit_code"] = code
    qual = clean["qualification"] = _choice(data.get("qualification"), Qualification, QUALIFICATION_ALIASES,
                                            "qualification", errors)
    if kind is not None and qual is not None and qual not in QUALIFICATIONS_OF[kind]:
        allowed = ", ".join(sorted(q.value for q in QUALIFICATIONS_OF[kind]))
        errors.append(FieldError("qualification", f"an {kind.value} holds one of {allowed}, not {qual.value}"
                                 if kind is PersonKind.assessor else f"a consultant holds {allowed}, not {qual.value}"))
    raw_until = data.get("valid_until")
    if raw_until is None or _text(raw_until) == "":
        errors.append(FieldError("valid_until", "is required"))
    else:
        try:
            clean["valid_until"] = parse_date(raw_until)
        except ValueError as exc:
            errors.append(FieldError("valid_until", str(exc)))
    if _text(data.get("status")):
        clean["status"] = _choice(data.get("status"), RegistryStatus, STATUS_ALIASES, "status", errors)
    reason = _length(data.get("status_reason"), "status_reason", errors, maximum=2000, required=False)
    if reason is not None:
        clean["status_reason"] = reason
    id_number = _text(data.get("id_number"))
    if id_number:
        problem = check_id_number(id_number)
        if problem:
            errors.append(FieldError("id_number", problem))
        else:
            clean["id_number_hash"] = hash_id_number(id_number)
    return clean, errors
