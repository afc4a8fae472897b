"""What a finding (of a confirmation audit or a spot check) says and whom it is held against.

One check for both: the severity, the text, and the party — the body, the record's lead, a
member of its team or a consultant named on it (by the registry's ``person_id``; the lead
defaults to the record's; a finding against the body names nobody). Every bad field at once.
"""

from __future__ import annotations

import sqlalchemy as sa

from auditbo.confirmations.models import FindingAgainst, Severity
from auditbo.errors import ErrorCollector
from auditbo.extensions import db
from auditbo.filings.models import AssessmentConsultant, TeamMember, TeamRole
from auditbo.orgs.models import Person

MAX_TEXT = 4000


def check_finding(assessment_id: int, severity: str, text: str, against: str,
                  person_id: str | None) -> tuple[str, str | None, int | None]:
    """The finding's text (stripped), the ``person_id`` it names (None for the body) and that
    person's primary key; raises ValidationFailed naming every bad field."""
    errors = ErrorCollector()
    if severity not in {s.value for s in Severity}:
        errors.add("severity", f"must be one of {', '.join(s.value for s in Severity)}")
    if against not in {x.value for x in FindingAgainst}:
        errors.add("against", f"must be one of {', '.join(x.value for x in FindingAgainst)}")
    text = (text or "").strip()
    if len(text) < 2:
        errors.add("text", "describe the finding")
    elif len(text) > MAX_TEXT:
        errors.add("text", f"at most {MAX_TEXT} characters")
    person_id = (person_id or "").strip() or None
    person_pk = None
    if against in {x.value for x in FindingAgainst}:
        team = {pid: (pk, role) for pid, pk, role in db.session.execute(
            sa.select(Person.person_id, Person.id, TeamMember.role).join(TeamMember, TeamMember.person_id == Person.id)
            .where(TeamMember.assessment_id == assessment_id))}
        consultants = dict(db.session.execute(
            sa.select(Person.person_id, Person.id).join(AssessmentConsultant, AssessmentConsultant.person_id == Person.id)
            .where(AssessmentConsultant.assessment_id == assessment_id)).all())
        if against == "body":
            if person_id:
                errors.add("person_id", "a finding against the body names no person")
        elif against == "lead":
            lead = next((pid for pid, (_pk, role) in team.items() if role is TeamRole.lead), None)
            if person_id and person_id != lead:
                errors.add("person_id", f"{person_id} is not the lead of this assessment")
            elif lead is not None:
                person_pk = team[lead][0]
        elif against == "member":
            if not person_id:
                errors.add("person_id", "name the team member (person_id)")
            elif person_id not in team or team[person_id][1] is TeamRole.lead:
                errors.add("person_id", f"{person_id} is not a member of this assessment's team")
            else:
                person_pk = team[person_id][0]
        elif against == "consultant":
            if not person_id:
                errors.add("person_id", "name the consultant (person_id)")
            elif person_id not in consultants:
                errors.add("person_id", f"{person_id} is not a consultant named on this assessment")
            else:
                person_pk = consultants[person_id]
    errors.raise_if_any()
    return text, person_id, person_pk
