"""The 201 body of a new filing, built from what the filing wrote (no read-back of eight statements).

It is the record as :func:`auditbo.filings.records.to_dict` reads it back for the filer, field
for field: the stored enterprise's name, size and employees (an existing enterprise keeps its
own), the filing's normalised payload, the two status changes just written (the filer by
name, then the system) and the confirmation audit just opened (no reviewer shown to a body
unless CONFIRMATION_REVIEWER_TO_BODY says "always"). ``tests/test_filing_statements.py``
compares it with a read-back of the same record.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from auditbo import clock
from auditbo.accounts.models import User
from auditbo.extensions import db
from auditbo.filings.records import _body_sees_reviewer
from auditbo.filings.services import Written


def record_of(w: Written, body, filer, *, show_reviewer: bool) -> dict:
    """The new record as ``filer`` (who filed it for ``body``) sees it."""
    row, data = w.row, w.filing.data
    name, size, employees = w.enterprise
    cb = data.get("consulting_body")
    return {
        "external_ref": row["external_ref"], "assessment_type": row["assessment_type"],
        "enterprise": {"name": name, "credit_code": data["enterprise"]["credit_code"],
                       "region_code": row["region_code"], "industry_code": row["industry_code"], "size": size,
                       "employees": employees},
        "grade": row["grade"],
        "capabilities": [{"name": c["name"], "level": c["level"]} for c in data["capabilities"]],
        "consulting_body": {"credit_code": cb["credit_code"], "consultant_ids": list(cb.get("consultant_ids") or [])}
        if cb and row["consulting_body_id"] else None,
        "team": [{"person_id": m["person_id"], "role": m["role"]} for m in data["team"]],
        "person_days": float(row["person_days"]), "reduction_reason": row["reduction_reason"],
        "onsite_start": row["onsite_start"], "onsite_end": row["onsite_end"], "decision_date": row["decision_date"],
        "certificate_no": row["certificate_no"], "valid_until": row["valid_until"],
        "id": row["id"], "status": row["status"], "body": {"credit_code": body.credit_code, "name": body.name},
        "filed_grade": row["filed_grade"], "person_days_min": float(row["person_days_min"]),
        "filed_at": row["filed_at"], "updated_at": row["updated_at"],
        "flags": {"late": row["flag_late"], "grade_jump": row["flag_grade_jump"],
                  "reduced_person_days": row["flag_reduced_days"], "low_person_days": row["flag_low_days"],
                  "tie": row["flag_tie"], "surveillance_overdue": row["flag_surveillance_overdue"]},
        "history": [
            {"from_status": None, "to_status": "filed", "at": row["filed_at"], "actor": filer.username,
             "reason": None},
            {"from_status": "filed", "to_status": row["status"], "at": row["filed_at"], "actor": "system",
             "reason": None},
        ],
        "confirmation": _confirmation(w.audit, show_reviewer=show_reviewer),
    }


def _confirmation(audit: dict | None, *, show_reviewer: bool) -> dict | None:
    if audit is None:
        return None
    reviewer = None
    if audit["assignee_id"] and (show_reviewer or _body_sees_reviewer(False)):
        reviewer = db.session.scalar(sa.select(User.display_name).where(User.id == audit["assignee_id"]))
    due: date = audit["due_date"]
    return {"id": audit["id"], "round": audit["round"], "status": audit["status"], "due_date": due,
            "overdue": due < clock.today(), "decision": None, "adjusted_grade": None, "reason": None,
            "reviewer": reviewer, "findings": []}
