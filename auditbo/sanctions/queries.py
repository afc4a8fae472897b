"""Reading sanctions: the 失信名单 (registry sanctions with their periods), certificate sanctions and
proposals waiting for a second pair of eyes, as plain dicts."""

from __future__ import annotations

import sqlalchemy as sa

from auditbo.accounts.models import User
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.orgs.models import Organisation, Person
from auditbo.sanctions.models import Sanction, SanctionStatus

X = SanctionStatus
TABS = ("registry", "certificates", "proposed", "all")
PER_PAGE = 100


def page(tab: str, current_only: bool, page_no: int) -> tuple[list[dict], int]:
    where = []
    if tab == "registry":
        where.append(Sanction.assessment_id.is_(None))
    elif tab == "certificates":
        where.append(Sanction.assessment_id.is_not(None))
    if tab == "proposed":
        where.append(Sanction.status == X.proposed)
    elif current_only:
        where.append(Sanction.status == X.in_force)
    else:
        where.append(Sanction.status.in_([X.in_force, X.ended]))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Sanction).where(*where))
    rows = db.session.scalars(
        sa.select(Sanction)
        .where(*where)
        .order_by(Sanction.id.desc())
        .limit(PER_PAGE)
        .offset((page_no - 1) * PER_PAGE)
    ).all()
    return to_dicts(rows), total


def to_dicts(rows: list[Sanction]) -> list[dict]:
    orgs = _lookup(
        Organisation, (Organisation.id, Organisation.credit_code, Organisation.name), {s.org_id for s in rows}
    )
    persons = _lookup(Person, (Person.id, Person.person_id, Person.name), {s.person_id for s in rows})
    certs = _lookup(
        Assessment,
        (Assessment.id, Assessment.certificate_no, Assessment.status),
        {s.assessment_id for s in rows},
    )
    users = _lookup(
        User,
        (User.id, User.username, User.display_name),
        {s.proposed_by_id for s in rows} | {s.decided_by_id for s in rows},
    )
    out = []
    for s in rows:
        if s.assessment_id:
            c = certs.get(s.assessment_id)
            subject = {"type": "certificate", "ref": c[1] if c else None, "name": c[1] if c else None}
        elif s.org_id:
            o = orgs.get(s.org_id)
            subject = {"type": "organisation", "ref": o[1], "name": o[2]}
        else:
            p = persons.get(s.person_id)
            subject = {"type": "person", "ref": p[1], "name": p[2]}
        pb, db_ = users.get(s.proposed_by_id), users.get(s.decided_by_id)
        out.append(
            {
                "id": s.id,
                "kind": s.kind.value,
                "status": s.status.value,
                "subject": subject,
                "reason": s.reason,
                "legal_basis": s.legal_basis,
                "from_grade": s.from_grade,
                "to_grade": s.to_grade,
                "starts_on": s.starts_on,
                "ends_on": s.ends_on,
                "ended_on": s.ended_on,
                "end_reason": s.end_reason,
                "proposed_by": pb[1] if pb else None,
                "proposed_by_id": s.proposed_by_id,
                "decided_by": db_[1] if db_ else None,
                "version": s.version,
                "complaint_id": s.complaint_id,
            }
        )
    return out


def _lookup(model, columns, ids: set) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {r[0]: r for r in db.session.execute(sa.select(*columns).where(model.id.in_(ids)))}
