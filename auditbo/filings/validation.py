"""Every rule a filing must pass (spec/domain.md, "Assessment"), collected in one pass.

``validate_filing`` parses the payload with the API schema, applies the rules that need
the registry through a :class:`FilingContext`, and either returns a :class:`Filing`
(normalised data, computed minimum, flags, resolved ids) or raises ``ValidationFailed``
naming every bad field at once (``team[0].person_id``, ``enterprise.credit_code`` …).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from marshmallow.utils import missing

from auditbo.codes import check_credit_code, check_industry_code, check_region_code
from auditbo.errors import ErrorCollector, flatten_messages
from auditbo.filings.context import ASSESSMENT_BODY, CONSULTING_BODY, FilingContext
from auditbo.filings.rules import (
    default_valid_until,
    is_grade_jump,
    is_late,
    min_person_days,
    onsite_capacity,
    person_days_flags,
)
from auditbo.filings.schemas import AssessmentIn
from auditbo.orgs.rules import person_problems
from auditbo.schemaload import compile_field_loader, compile_loader

_SCHEMA = AssessmentIn()
_FAST_LOAD = compile_loader(_SCHEMA)  # marshmallow's answer for plainly clean payloads, fast


def _field_problems(key: str, value, messages: dict) -> list[tuple[str, str]]:
    """A field's marshmallow messages as (path, message), 'is required' for an empty value."""
    part = {} if value is missing else {key: value}
    return [(item["field"], _plain(item["message"], _value_at(part, item["field"])))
            for item in flatten_messages(messages)]


# the same answer for the others: marshmallow for their bad fields only, remembered per value
_FIELD_LOAD = compile_field_loader(_SCHEMA, finish=_field_problems)


@dataclass
class Filing:
    data: dict  # the normalised payload (JSON-safe), as stored and compared
    content_hash: str
    grade_level: int
    person_days_min: float
    valid_until: date
    team: list[tuple[int, str]]  # (person pk, role)
    consultant_pks: list[int]
    consulting_body_pk: int | None
    enterprise_pk: int | None
    previous_level: int | None
    flags: dict[str, bool] = field(default_factory=dict)

    def __getattr__(self, name):  # filing.external_ref, filing.enterprise … read the data
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None


REQUIRED = "is required"


def _value_at(payload, path: str):
    """The value a flattened field path ('team[0].person_id') points at in the payload, or None."""
    import re

    value = payload
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            value = value[int(index)] if index else value.get(key)
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    return value


def _plain(message: str, value) -> str:
    """Say 'is required' for an empty or missing value, whatever marshmallow's wording."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if message.startswith(("Missing data", "Field may not be null", "Length must be", "Shorter than")):
            return REQUIRED
    return message


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _size_band_error(size: str, employees: int, bands: dict) -> str | None:
    low, high = bands.get(size, (None, None))
    if low is not None and employees < low or high is not None and employees > high:
        span = f"{low}-{high}" if high is not None else f"{low} or more"
        return f"a {size} enterprise has {span} employees, not {employees}"
    return None


def validate_filing(payload, ctx: FilingContext, config, today: date, *, self_id: int | None = None) -> Filing:
    errors = ErrorCollector()
    if not isinstance(payload, dict):
        errors.add("_body", "must be a JSON object")
        errors.raise_if_any()
    data = _FAST_LOAD(payload)
    if data is None:
        data, problems = _FIELD_LOAD(payload)
        for path, message in problems:
            errors.add(path, message)
    # rules below only look at parts that parsed cleanly: drop the parts with schema errors
    broken = {e.field.split(".")[0].split("[")[0] for e in errors.errors}
    for part in ("team", "capabilities", "consulting_body", "enterprise"):
        if part in broken:
            data.pop(part, None)
    ent = data.get("enterprise") or {}
    if "enterprise" in broken and isinstance(payload.get("enterprise"), dict):
        # one bad enterprise field (a missing name) must not hide the national-code checks of the others
        bad = {e.field.split(".")[1] for e in errors.errors if e.field.startswith("enterprise.")}
        ent = {k: v.strip() for k, v in payload["enterprise"].items()
               if k in ("credit_code", "region_code", "industry_code") and k not in bad and isinstance(v, str)}

    # --- national codes and the enterprise
    for key, check in (("credit_code", check_credit_code), ("region_code", check_region_code),
                       ("industry_code", check_industry_code)):
        if key in ent:
            problem = check(ent[key])
            if problem:
                errors.add(f"enterprise.{key}", problem)
    if "size" in ent and "employees" in ent:
        problem = _size_band_error(ent["size"], ent["employees"], config["ENTERPRISE_SIZE_BANDS"])
        if problem:
            errors.add("enterprise.employees", problem)

    # --- grade and capabilities
    level = len(data["grade"]) if "grade" in data else None
    caps = data.get("capabilities") or []
    if level and caps:
        levels = [int(c["level"][2]) for c in caps]
        if max(levels) > level:
            errors.add("capabilities", f"no capability may exceed CL{level} for grade {data['grade']}")
        elif max(levels) != level:
            errors.add("capabilities", f"the highest capability level must be CL{level} for grade {data['grade']}")
        names = [c["name"] for c in caps]
        if len(set(names)) != len(names):
            errors.add("capabilities", "a capability is named twice")

    # --- dates
    start, end, decided = data.get("onsite_start"), data.get("onsite_end"), data.get("decision_date")
    if start and end and start > end:
        errors.add("onsite_end", "must not be before onsite_start")
    if end and decided and end > decided:
        errors.add("decision_date", "must not be before onsite_end")
    if decided and decided > today:
        errors.add("decision_date", "must not be in the future")
    valid_until = data.get("valid_until")
    if decided:
        default_until = default_valid_until(decided, config["CERTIFICATE_VALID_YEARS"])
        if valid_until is None:
            valid_until = default_until
        elif not decided < valid_until <= default_until:
            errors.add("valid_until", f"must be after the decision date and at most {default_until.isoformat()}")

    # --- team: registered assessors of the filing body, exactly one lead who may lead this grade
    team_rows: list[tuple[int, str]] = []
    team_hashes: set[str] = set()
    members = data.get("team") or []
    if members:
        leads = [i for i, m in enumerate(members) if m["role"] == "lead"]
        if len(leads) != 1:
            errors.add("team", f"needs exactly one lead, found {len(leads)}")
        seen: set[str] = set()
        for i, m in enumerate(members):
            pid = m["person_id"]
            where = f"team[{i}].person_id"
            if pid in seen:
                errors.add(where, f"{pid} is listed twice")
                continue
            seen.add(pid)
            person = ctx.person(pid)
            if person is None or person.kind != "assessor":
                errors.add(where, f"{pid} is not a registered assessor")
                continue
            if person.org_id != ctx.body.id:
                errors.add(where, f"{pid} is not an assessor of the filing body")
                continue
            is_lead = m["role"] == "lead" and bool(level)
            for problem in person_problems(person, decided or today, grade_level=level if is_lead else None,
                                           config=config):
                errors.add(where, f"{pid}: {problem}")
            team_rows.append((person.pk, m["role"]))
            if person.id_number_hash:
                team_hashes.add(person.id_number_hash)

    # --- consulting body and consultants
    cons_pk, consultant_pks, tie = None, [], False
    cb = data.get("consulting_body")
    if cb:
        problem = check_credit_code(cb["credit_code"])
        org = None if problem else ctx.org(cb["credit_code"])
        if problem:
            errors.add("consulting_body.credit_code", problem)
        elif org is None or org.kind != CONSULTING_BODY:
            errors.add("consulting_body.credit_code", f"{cb['credit_code']} is not a registered consulting body")
        elif org.status != "active":
            errors.add("consulting_body.credit_code", f"the consulting body is {org.status}")
        else:
            cons_pk = org.pk
            tie = cb["credit_code"] == ctx.body.credit_code
        for i, cid in enumerate(cb.get("consultant_ids") or []):
            person = ctx.person(cid)
            if person is None or person.kind != "consultant" or (cons_pk and person.org_id != cons_pk):
                errors.add(f"consulting_body.consultant_ids[{i}]", f"{cid} is not a consultant of that body")
            else:
                consultant_pks.append(person.pk)
                tie = tie or (person.id_number_hash is not None and person.id_number_hash in team_hashes)

    # --- person-days against the minimum
    pd_min, flags = None, {}
    if "person_days" in data and "employees" in ent and "assessment_type" in data:
        pd_min = min_person_days(ent["employees"], data["assessment_type"], config)
        capacity = onsite_capacity(len(team_rows), start, end) if team_rows and start and end and start <= end \
            else None
        accepted, reduced, red = person_days_flags(data["person_days"], pd_min, config, capacity=capacity)
        if not accepted:
            floor = pd_min * (1 - config["PERSON_DAYS_MAX_REDUCTION"])
            errors.add("person_days", f"{data['person_days']:g} is below the minimum of {pd_min:g} by more than "
                                      f"{config['PERSON_DAYS_MAX_REDUCTION']:.0%} (at least {floor:.2f})")
        elif reduced and not (data.get("reduction_reason") or "").strip():
            errors.add("reduction_reason", f"person-days below the minimum of {pd_min:g} need a justification")
        flags.update(reduced_person_days=reduced, low_person_days=red)

    # --- uniqueness of the certificate number
    cert = data.get("certificate_no")
    if cert:
        owner = ctx.certificate_owner(cert)
        if owner is not None and owner != self_id:
            existing = ctx.existing(data.get("external_ref", "")) if data.get("external_ref") else None
            if not (existing and existing[0] == owner):  # an idempotent re-filing is decided later
                errors.add("certificate_no", f"{cert} is already used by another assessment")

    errors.raise_if_any()

    # --- flags that never block
    prev = ctx.previous_level(ent["credit_code"])
    if cons_pk and not tie:
        here, total = ctx.consulting_share(cons_pk)
        if total + 1 >= config["TIE_MIN_CLIENTS"] and (here + 1) / (total + 1) >= config["TIE_SHARE"]:
            tie = True
    flags.update(late=is_late(decided, today, config["LATE_FILING_DAYS"]), grade_jump=is_grade_jump(prev, level),
                 tie=tie)
    text = canonical({**data, "valid_until": valid_until})  # string keys only: the text is the normalised form's
    normalised = json.loads(text)
    return Filing(
        data=normalised, content_hash=hashlib.sha256(text.encode()).hexdigest(), grade_level=level, person_days_min=pd_min,
        valid_until=valid_until, team=team_rows, consultant_pks=consultant_pks, consulting_body_pk=cons_pk,
        enterprise_pk=ctx.enterprise_id(ent["credit_code"]), previous_level=prev, flags=flags,
    )


ASSESSMENT_BODY_KIND = ASSESSMENT_BODY
