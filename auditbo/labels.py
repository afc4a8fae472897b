"""Words for the machine values a record page shows: event actions, changed fields, their values.

The event log and the services keep English codes (``status_changed``, ``filed``,
``pending_confirmation``, checklist answers ``yes``/``no``/``na``); pages show them through
these helpers (template globals, see :func:`auditbo.web.inject_globals`). A value without a
title is shown as it is, inside ``<code>`` by the ``_records.html`` macros.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from auditbo.confirmations import services as _confirmations
from auditbo.filings.models import AssessmentStatus, AssessmentType
from auditbo.orgs.forms import PERSON_KIND_TITLES, QUALIFICATION_TITLES
from auditbo.orgs.models import OrgKind

EVENT_TITLES = {
    "filed": _l("Filed"), "status_changed": _l("Status changed"), "amended": _l("Amended by the body"),
    "withdrawn": _l("Withdrawn"), "grade_adjusted": _l("Grade adjusted"),
    "assigned": _l("Reviewer drawn"), "assignment_failed": _l("No eligible reviewer"),
    "reassigned": _l("Reassigned"), "declaration_signed": _l("Declaration signed"),
    "conflict_declared": _l("Conflict of interest declared"), "checklist_saved": _l("Checklist saved"),
    "finding_added": _l("Finding added"), "decided": _l("Decided"), "cancelled": _l("Cancelled"),
    "reminder_sent": _l("Reminder sent"), "created": _l("Created"), "updated": _l("Changed"),
    "registered": _l("Registered"), "imported": _l("Imported"), "flagged": _l("Flagged"),
    "expired": _l("Expired"), "suspended": _l("Suspended"), "revoked": _l("Revoked"),
    "reinstated": _l("Reinstated"), "disclosed": _l("Disclosed"),
    # sanctions
    "proposed": _l("Proposed"), "imposed": _l("Imposed"), "confirmed": _l("Confirmed"), "declined": _l("Declined"),
    "ended": _l("Ended"),
}

FIELD_TITLES = {
    "status": _l("Status"), "grade": _l("Grade"), "adjusted_grade": _l("Adjusted grade"),
    "filed_grade": _l("Filed grade"), "reason": _l("Reason"), "decision": _l("Decision"),
    "person_days": _l("Person-days"), "certificate_no": _l("Certificate"), "valid_until": _l("Valid until"),
    "decision_date": _l("Decision date"), "onsite_start": _l("On-site start"), "onsite_end": _l("On-site end"),
    "team": _l("Team"), "capabilities": _l("Capabilities"), "enterprise": _l("Enterprise"),
    "consulting_body": _l("Consulting body"), "assessment_type": _l("Type"), "external_ref": _l("Your reference"),
    "reduction_reason": _l("Reason for fewer person-days"), "assignee_id": _l("Reviewer"), "round": _l("Round"),
    "due_date": _l("Due"), "note": _l("Note"), "name": _l("Name"), "region_code": _l("Region"),
    "qualification": _l("Qualification"), "kind": _l("Kind"),
    **dict(getattr(_confirmations, "CHECKLIST", [])),  # the checklist's questions, where still listed
}

ROLE_TITLES = {"lead": _l("lead"), "member": _l("member")}
ANSWER_TITLES = {"yes": _l("Yes"), "no": _l("No"), "na": _l("Not applicable")}
REGISTRY_STATUS_TITLES = {"active": _l("Active"), "suspended": _l("Suspended"), "revoked": _l("Revoked")}
_STATUSES = {s.value for s in AssessmentStatus}
_TYPES = {t.value for t in AssessmentType}
_KINDS = {k.value for k in OrgKind}


def _plain(value):
    return getattr(value, "value", value)


def event_title(action: str) -> str | None:
    """The action's title, or None (the page shows the code)."""
    title = EVENT_TITLES.get(action)
    return str(title) if title is not None else None


def field_title(key: str) -> str | None:
    title = FIELD_TITLES.get(key)
    return str(title) if title is not None else None


def value_title(key: str, value) -> str:
    """A changed field's value in words: statuses, types, checklist answers, yes/no; else as it is."""
    value = _plain(value)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if key == "status" and value in _STATUSES:
        return str(AssessmentStatus(value).title)
    if key == "status" and value in REGISTRY_STATUS_TITLES:
        return str(REGISTRY_STATUS_TITLES[value])
    if key == "assessment_type" and value in _TYPES:
        return str(AssessmentType(value).title)
    if isinstance(value, str) and value in ANSWER_TITLES:
        return str(ANSWER_TITLES[value])
    if key == "role" and value in ROLE_TITLES:
        return str(ROLE_TITLES[value])
    if key == "kind" and value in _KINDS:
        return str(OrgKind(value).title)
    if key == "kind" and value in PERSON_KIND_TITLES:
        return str(PERSON_KIND_TITLES[value])
    if key == "qualification" and value in QUALIFICATION_TITLES:
        return str(QUALIFICATION_TITLES[value])
    return str(value)


def role_title(role) -> str:
    role = _plain(role)
    return str(ROLE_TITLES.get(role, role))


def actor_name(name: str | None) -> str:
    """A user's name as it is; the system (jobs, the demo's automatic steps) and the office as a
    body's users see it (``records.OFFICE_ACTOR``) in words."""
    if name == "office":
        return str(_l("Supervision office"))
    if name == "public":  # a complaint from the public form
        return str(_l("The public"))
    return str(_l("System")) if name in (None, "", "system") else name


# One colour per meaning, on every page: good and in force; waiting or needing attention; ended badly;
# in progress; changed by the office; closed or out of force.
BADGE_COLOURS = {
    "success": {"standing", "active", "confirmed", "conforming", "published"},
    "warning": {"pending_confirmation", "pending", "returned", "suspended", "minor_findings", "received", "draft",
                "objected", "minor"},
    "danger": {"rejected", "revoked", "major_findings", "substantiated", "failed", "overdue", "major"},
    "primary": {"assigned", "investigating", "filed", "open", "drawn", "approved", "in_progress"},
    "info": {"grade_adjusted", "decided"},
    "secondary": {"withdrawn", "expired", "cancelled", "unsubstantiated", "closed", "disclosed"},
}
_COLOUR_OF = {value: colour for colour, values in BADGE_COLOURS.items() for value in values}


def badge_colour(value) -> str:
    """The Bootstrap colour of a status or outcome badge (``text-bg-<colour>``); light when unknown."""
    return _COLOUR_OF.get(_plain(value), "light")


# the rating engine's event vocabulary (rating.EVENTS) and whether an event entered or left the window
RATING_EVENT_TITLES = {
    "filing_on_time": _l("Filed on time"),
    "filing_late": _l("Filed late"),
    "confirmation_confirmed": _l("Confirmation audit: confirmed"),
    "confirmation_returned": _l("Confirmation audit: returned"),
    "confirmation_grade_adjusted": _l("Confirmation audit: grade adjusted"),
    "confirmation_rejected": _l("Confirmation audit: rejected"),
    "spotcheck_conforming": _l("Spot check: conforming"),
    "spotcheck_minor": _l("Spot check: minor findings"),
    "spotcheck_major": _l("Spot check: major findings"),
    "complaint_substantiated": _l("Substantiated complaint"),
    "sanction": _l("Sanction"),
    "entered": _l("counted from this month"),
    "left": _l("no longer counted"),
}


def rating_event_title(code: str) -> str:
    return str(RATING_EVENT_TITLES.get(code, code))


def template_globals() -> dict:
    return {"event_title": event_title, "field_title": field_title, "value_title": value_title,
            "role_title": role_title, "actor_name": actor_name, "rating_event_title": rating_event_title,
            "badge_colour": badge_colour}
