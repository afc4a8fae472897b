"""A small rated market written straight into the tables (no workflow): filings, confirmation
decisions, spot checks, complaints and sanctions at chosen instants, for the ratings tests."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from auditbo.accounts.models import Role
from auditbo.clock import office_zone
from auditbo.complaints.models import Complaint
from auditbo.confirmations.models import ConfirmationAudit, Finding
from auditbo.extensions import db
from auditbo.filings.models import AssessmentConsultant, TeamMember
from auditbo.orgs.models import PersonKind, Qualification
from auditbo.sanctions.models import Sanction
from auditbo.spotchecks.models import SpotCheck, SpotCheckInspector
from tests.factories import CertificateFactory, ConsultingFactory, OrgFactory, PersonFactory, UserFactory


def at(day: date, hour: int = 10) -> datetime:
    """An office-time instant on ``day``, as stored (UTC)."""
    return datetime.combine(day, time(hour), tzinfo=office_zone()).astimezone(UTC)


@dataclass
class Side:
    body: object
    lead: object
    member: object
    consulting: object
    consultant: object


@dataclass
class Market:
    sides: list[Side]
    reviewer: object
    inspector: object
    records: list = field(default_factory=list)


def make_side() -> Side:
    body = OrgFactory()
    cons = ConsultingFactory()
    return Side(
        body,
        PersonFactory(org=body, qualification=Qualification.senior_lead),
        PersonFactory(org=body),
        cons,
        PersonFactory(org=cons, kind=PersonKind.consultant, qualification=Qualification.consultant),
    )


def make_market(n_sides: int = 2) -> Market:
    return Market([make_side() for _ in range(n_sides)], UserFactory(role=Role.supervisor),
                  UserFactory(role=Role.supervisor))


def record(side: Side, filed: datetime, *, late: bool = False, grade: str = "AAA"):
    a = CertificateFactory(body=side.body, consulting_body=side.consulting, grade=grade, filed_at=filed,
                           flag_late=late)
    db.session.add_all([
        TeamMember(assessment_id=a.id, person_id=side.lead.id, role="lead"),
        TeamMember(assessment_id=a.id, person_id=side.member.id, role="member"),
        AssessmentConsultant(assessment_id=a.id, person_id=side.consultant.id),
    ])
    db.session.flush()
    return a


def decide(a, reviewer, decided: datetime, decision: str = "confirmed", *, consultant_finding: bool = False,
           round_: int = 1):
    audit = ConfirmationAudit(assessment_id=a.id, round=round_, status="decided", assignee_id=reviewer.id,
                              due_date=decided.date(), decision=decision, decided_at=decided,
                              decided_by_id=reviewer.id,
                              adjusted_grade="AA" if decision == "grade_adjusted" else None)
    db.session.add(audit)
    db.session.flush()
    if consultant_finding:
        db.session.add(Finding(audit_id=audit.id, severity="minor", text="咨询材料不实", against="consultant"))
        db.session.flush()
    return audit


def spot_check(a, inspector, closed: date, outcome: str = "conforming"):
    c = SpotCheck(assessment_id=a.id, status="closed", outcome=outcome, opened_on=closed, closed_on=closed,
                  consequence="none" if outcome != "major_findings" else "suspend")
    db.session.add(c)
    db.session.flush()
    db.session.add(SpotCheckInspector(spot_check_id=c.id, user_id=inspector.id))
    db.session.flush()
    return c


def complaint(closed: date, *, org=None, person=None, assessment=None, status: str = "substantiated"):
    c = Complaint(against_org_id=org.id if org else None, against_person_id=person.id if person else None,
                  assessment_id=assessment.id if assessment else None, received_on=closed, summary="投诉",
                  status=status, closed_on=closed if status in ("substantiated", "unsubstantiated") else None)
    db.session.add(c)
    db.session.flush()
    return c


def sanction(starts: date, *, org=None, person=None, kind: str = "suspension", status: str = "in_force"):
    s = Sanction(org_id=org.id if org else None, person_id=person.id if person else None, kind=kind,
                 status=status, reason="违规", legal_basis="规则第十条", starts_on=starts)
    db.session.add(s)
    db.session.flush()
    return s


def history(m: Market, months: list[date], *, per_month: int = 3, seed: int = 1) -> None:
    """A few filings and decided audits per side and month; side 0 good, the others worse."""
    rng = random.Random(seed)
    for first in months:
        for k, side in enumerate(m.sides):
            for j in range(per_month):
                day = first.replace(day=1 + (j * 7) % 27)
                a = record(side, at(day), late=rng.random() < 0.1 * k)
                bad = rng.random() < 0.15 + 0.3 * k
                decide(a, m.reviewer, at(day.replace(day=min(day.day + 1, 28))),
                       rng.choice(["returned", "grade_adjusted", "rejected"]) if bad else "confirmed")
                m.records.append(a)
