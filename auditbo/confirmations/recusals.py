"""The manual recusal list (admin): supervisors listed by hand as recused from a body or an enterprise.

:mod:`~auditbo.confirmations.assignment` reads this list together with the supervisors'
affiliations: either keeps a reviewer from being drawn.
"""

from __future__ import annotations

import sqlalchemy as sa

from auditbo import events
from auditbo.confirmations.models import Recusal
from auditbo.errors import ErrorCollector
from auditbo.events import Actor
from auditbo.extensions import db


def add_recusal(user_id: int, party: str, credit_code: str, reason: str, actor: Actor) -> Recusal:
    """List a supervisor by hand as recused from a body or an enterprise (by credit code)."""
    from auditbo.accounts.models import Role, User
    from auditbo.orgs.models import Enterprise, Organisation

    errors = ErrorCollector()
    user = db.session.get(User, user_id) if user_id else None
    if user is None or user.role is not Role.supervisor:
        errors.add("user_id", "choose a supervisor")
    code = (credit_code or "").strip().upper()
    model = Organisation if party == "org" else Enterprise if party == "enterprise" else None
    target = None
    if model is None:
        errors.add("party", "must be org or enterprise")
    else:
        target = db.session.scalar(sa.select(model.id).where(model.credit_code == code))
        if target is None:
            errors.add("credit_code", f"no {'body' if party == 'org' else 'enterprise'} with this credit code")
    if not (reason or "").strip():
        errors.add("reason", "give the reason")
    errors.raise_if_any()
    rec = Recusal(user_id=user.id, org_id=target if party == "org" else None,
                  enterprise_id=target if party == "enterprise" else None, reason=reason.strip(),
                  created_by_id=actor.id)
    db.session.add(rec)
    db.session.flush()
    events.record(actor, "recusal", rec.id, "created",
                  after={"user_id": user.id, "org_id": rec.org_id, "enterprise_id": rec.enterprise_id,
                         "source": "manual"}, reason=rec.reason)
    return rec


def remove_recusal(rec: Recusal, reason: str, actor: Actor) -> None:
    if not (reason or "").strip():
        from auditbo.errors import FieldError, ValidationFailed

        raise ValidationFailed([FieldError("reason", "give the reason")])
    events.record(actor, "recusal", rec.id, "removed",
                  before={"user_id": rec.user_id, "org_id": rec.org_id, "enterprise_id": rec.enterprise_id},
                  reason=reason.strip())
    db.session.delete(rec)
    db.session.flush()
