"""Helpers for the confirmation-audit tests: an AAA+ filing with its audit, tokens, and the assignee."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from auditbo.confirmations.models import ConfirmationAudit
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings import services as filings
from auditbo.filings.models import Assessment
from tests.factories import UserFactory
from tests.filing_support import Registry, make_registry, payload


@dataclass
class Office:
    reg: Registry
    admin: object
    tokens: dict  # user id -> bearer token

    def h(self, user) -> dict:
        if user.id not in self.tokens:
            self.tokens[user.id] = create_token(user, "t")[1]
        return {"Authorization": f"Bearer {self.tokens[user.id]}"}

    def user(self, user_id):
        from auditbo.accounts.models import User

        return db.session.get(User, user_id)


def make_office(n_supervisors: int = 3) -> Office:
    reg = make_registry(n_supervisors)
    admin = UserFactory(role=Role.admin)
    return Office(reg, admin, {})


def file_aaa(office: Office, grade: str = "AAA", **over) -> tuple[Assessment, ConfirmationAudit]:
    """File an AAA+ assessment through the service (as the API does) and return it with its audit."""
    reg = office.reg
    result = filings.file_assessment(reg.body, payload(reg, grade=grade, **over), actor=Actor.of_api(reg.clerk))
    db.session.flush()
    a = db.session.get(Assessment, result.assessment_id)
    audit = db.session.scalar(sa.select(ConfirmationAudit).where(ConfirmationAudit.assessment_id == a.id)
                              .order_by(ConfirmationAudit.round.desc()).limit(1))
    return a, audit


def actor(user) -> Actor:
    return Actor(user.id, user.username)
