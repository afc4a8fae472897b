"""The demo's complaints and sanctions, made through the services: every state, public ones, a suspended
body, a sanctioned person and a revocation waiting for its second pair of eyes; the event log holds."""

from datetime import date

import sqlalchemy as sa

from auditbo import events
from auditbo.complaints.models import Complaint
from auditbo.demo import load_demo
from auditbo.extensions import db
from auditbo.orgs.models import Organisation, Person
from auditbo.sanctions.models import Sanction

AS_OF = date(2026, 11, 20)


def test_demo_complaints_and_sanctions(app):
    load_demo(seed=5, scale=0.1, as_of=AS_OF)
    states = {s.value for s in db.session.scalars(sa.select(Complaint.status).distinct())}
    assert states == {"received", "investigating", "substantiated", "unsubstantiated"}
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Complaint).where(Complaint.source == "public")
        )
        >= 1
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Complaint).where(Complaint.tracking_code.is_not(None))
        )
        >= 1
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Organisation).where(Organisation.status == "suspended")
        )
        >= 1
    )
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.status != "active"))
        >= 1
    )
    kinds = {(k.value, s.value) for k, s in db.session.execute(sa.select(Sanction.kind, Sanction.status))}
    assert ("revocation", "proposed") in kinds and ("suspension", "in_force") in kinds
    registered = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(events.Event)
        .where(events.Event.record_type == "complaint", events.Event.action == "registered")
    )
    assert registered == db.session.scalar(sa.select(sa.func.count()).select_from(Complaint))
    assert events.verify().ok
    from auditbo.filings.models import Assessment

    red = db.session.scalar(
        sa.select(sa.func.count()).select_from(Assessment).where(Assessment.flag_low_days)
    )
    assert red > 0  # the person-days red flag fires (a lax body's short visits)
