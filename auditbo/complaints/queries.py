"""Reading complaints: the office's list (tabs, filters, one page in a fixed number of queries) and
one complaint as a plain dict for the API and the pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from auditbo.accounts.models import User
from auditbo.complaints.models import Complaint, ComplaintFile, ComplaintStatus
from auditbo.complaints.services import is_overdue
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.orgs.models import Organisation, Person

CS = ComplaintStatus
TABS = ("open", "overdue", "mine", "closed", "all")
OPEN = (CS.received, CS.investigating)


@dataclass(frozen=True)
class ComplaintFilter:
    tab: str = "open"
    status: str | None = None
    body: str | None = None  # credit code of the body complained about


def _where(f: ComplaintFilter, user, today: date) -> list:
    where = []
    if f.tab in ("open", "overdue", "mine"):
        where.append(Complaint.status.in_(OPEN))
    if f.tab == "overdue":
        where.append(Complaint.due_date < today)
    if f.tab == "mine":
        where.append(Complaint.assignee_id == user.id)
    if f.tab == "closed":
        where.append(Complaint.status.in_([CS.substantiated, CS.unsubstantiated]))
    if f.status:
        where.append(Complaint.status == CS(f.status))
    if f.body:
        where.append(
            Complaint.against_org_id
            == sa.select(Organisation.id).where(Organisation.credit_code == f.body).scalar_subquery()
        )
    return where


def page(f: ComplaintFilter, user, today: date, page_no: int, per_page: int) -> tuple[list[dict], int]:
    where = _where(f, user, today)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Complaint).where(*where))
    order = (
        (Complaint.due_date, Complaint.id) if f.tab in ("open", "overdue", "mine") else (Complaint.id.desc(),)
    )
    rows = db.session.scalars(
        sa.select(Complaint).where(*where).order_by(*order).limit(per_page).offset((page_no - 1) * per_page)
    ).all()
    return to_dicts(rows, today), total


def rows_select(f: ComplaintFilter, user, today: date) -> sa.Select:
    """The list under its tab, in its order, with the names a row shows (exports read it). The
    complainant and their contact stay out: personal data the list does not show either."""
    body, person, assignee = aliased(Organisation), aliased(Person), aliased(User)
    order = (Complaint.due_date, Complaint.id) if f.tab in ("open", "overdue", "mine") else (Complaint.id.desc(),)
    return (sa.select(Complaint.id, Complaint.received_on, Complaint.status, Complaint.source,
                      body.name.label("body_name"), person.name.label("person_name"),
                      Assessment.certificate_no, Complaint.summary, assignee.display_name.label("assignee_name"),
                      Complaint.due_date, Complaint.closed_on, Complaint.resolution)
            .outerjoin(body, body.id == Complaint.against_org_id)
            .outerjoin(person, person.id == Complaint.against_person_id)
            .outerjoin(Assessment, Assessment.id == Complaint.assessment_id)
            .outerjoin(assignee, assignee.id == Complaint.assignee_id)
            .where(*_where(f, user, today)).order_by(*order))


def to_dicts(rows: list[Complaint], today: date, *, with_files: bool = False) -> list[dict]:
    org_ids = {c.against_org_id for c in rows if c.against_org_id}
    person_ids = {c.against_person_id for c in rows if c.against_person_id}
    a_ids = {c.assessment_id for c in rows if c.assessment_id}
    user_ids = {c.assignee_id for c in rows if c.assignee_id}
    orgs = (
        {
            o.id: o
            for o in db.session.execute(
                sa.select(
                    Organisation.id, Organisation.credit_code, Organisation.name, Organisation.kind
                ).where(Organisation.id.in_(org_ids))
            )
        }
        if org_ids
        else {}
    )
    persons = (
        {
            p.id: p
            for p in db.session.execute(
                sa.select(Person.id, Person.person_id, Person.name).where(Person.id.in_(person_ids))
            )
        }
        if person_ids
        else {}
    )
    certs = (
        dict(
            db.session.execute(
                sa.select(Assessment.id, Assessment.certificate_no).where(Assessment.id.in_(a_ids))
            ).all()
        )
        if a_ids
        else {}
    )
    users = (
        {
            u.id: u
            for u in db.session.execute(
                sa.select(User.id, User.username, User.display_name).where(User.id.in_(user_ids))
            )
        }
        if user_ids
        else {}
    )
    files: dict[int, list[dict]] = {}
    if with_files and rows:
        for fid, cid, name, ctype, size in db.session.execute(
            sa.select(
                ComplaintFile.id,
                ComplaintFile.complaint_id,
                ComplaintFile.filename,
                ComplaintFile.content_type,
                ComplaintFile.size,
            )
            .where(ComplaintFile.complaint_id.in_([c.id for c in rows]))
            .order_by(ComplaintFile.id)
        ):
            files.setdefault(cid, []).append(
                {"id": fid, "filename": name, "content_type": ctype, "size": size}
            )
    out = []
    for c in rows:
        if c.against_person_id:
            p = persons.get(c.against_person_id)
            against = {
                "kind": "person",
                "person_id": p.person_id if p else None,
                "name": p.name if p else None,
            }
        else:
            o = orgs.get(c.against_org_id)
            against = {
                "kind": o.kind.value if o else None,
                "credit_code": o.credit_code if o else None,
                "name": o.name if o else None,
            }
        u = users.get(c.assignee_id)
        d = {
            "id": c.id,
            "status": c.status.value,
            "against": against,
            "assessment_id": c.assessment_id,
            "certificate_no": certs.get(c.assessment_id),
            "text": c.summary,
            "source": c.source,
            "complainant": c.complainant,
            "contact": c.contact,
            "subject_hint": c.subject_hint,
            "received_on": c.received_on,
            "due_date": c.due_date,
            "overdue": is_overdue(c, today),
            "assignee": {"id": u.id, "username": u.username, "name": u.display_name or u.username}
            if u
            else None,
            "resolution": c.resolution,
            "closed_on": c.closed_on,
            "tracking_code": c.tracking_code,
            "version": c.version,
        }
        if with_files:
            d["files"] = files.get(c.id, [])
        out.append(d)
    return out


def one(c: Complaint, today: date) -> dict:
    return to_dicts([c], today, with_files=True)[0]


def outcomes_about(org_id: int) -> list[dict]:
    """Substantiated complaints about a body or its staff, with their outcome: what the body itself
    may see (never who complained, how to reach them, nor the office's handling)."""
    staff = sa.select(Person.id).where(Person.org_id == org_id)
    rows = db.session.execute(
        sa.select(
            Complaint.id,
            Complaint.received_on,
            Complaint.summary,
            Complaint.resolution,
            Complaint.closed_on,
            Assessment.certificate_no,
            Person.name,
        )
        .outerjoin(Assessment, Assessment.id == Complaint.assessment_id)
        .outerjoin(Person, Person.id == Complaint.against_person_id)
        .where(
            Complaint.status == CS.substantiated,
            sa.or_(Complaint.against_org_id == org_id, Complaint.against_person_id.in_(staff)),
        )
        .order_by(Complaint.closed_on.desc(), Complaint.id.desc())
        .limit(500)
    ).all()
    return [
        {
            "id": r[0],
            "received_on": r[1],
            "text": r[2],
            "resolution": r[3],
            "closed_on": r[4],
            "certificate_no": r[5],
            "person": r[6],
        }
        for r in rows
    ]


def nav_count_select(user, today: date) -> sa.Select:
    """Open complaints past their due date (the navigation badge; auditbo.web reads it with the others)."""
    return sa.select(sa.func.count()).select_from(Complaint).where(Complaint.status.in_(OPEN), Complaint.due_date < today)
