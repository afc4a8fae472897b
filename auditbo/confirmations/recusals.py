"""The recusal list: supervisors listed by hand (admin) as recused from a body or an enterprise, or
declaring a tie themselves on a record they were drawn for (a confirmation reviewer, a spot-check
inspector): :func:`declare_ties`.

:mod:`~auditbo.confirmations.assignment` reads this list together with the supervisors'
affiliations: either keeps a reviewer or an inspector from being drawn.
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


PARTIES = ("body", "consulting_body", "enterprise")  # the parties of a record one may be tied to


def declare_ties(a, parties, reason: str, actor: Actor, *, max_text: int = 4000) -> list[Recusal]:
    """A supervisor declares a tie to parties of record ``a`` (its body, consulting body, enterprise):
    each becomes a Recusal row (source ``declared``), so no later draw picks them for these parties."""
    errors = ErrorCollector()
    parties = list(dict.fromkeys(parties or []))
    if not parties:
        errors.add("parties", "name the party (or parties) you are tied to")
    for p in parties:
        if p not in PARTIES:
            errors.add("parties", f"must be among {', '.join(PARTIES)}")
        elif p == "consulting_body" and a.consulting_body_id is None:
            errors.add("parties", "this assessment names no consulting body")
    if not (reason or "").strip():
        errors.add("reason", "describe the tie")
    elif len(reason) > max_text:
        errors.add("reason", f"at most {max_text} characters")
    errors.raise_if_any()
    targets = {"body": ("org", a.body_id), "consulting_body": ("org", a.consulting_body_id),
               "enterprise": ("ent", a.enterprise_id)}
    made = []
    for p in parties:
        kind, pk = targets[p]
        rec = Recusal(user_id=actor.id, org_id=pk if kind == "org" else None,
                      enterprise_id=pk if kind == "ent" else None, reason=reason.strip(), created_by_id=actor.id)
        db.session.add(rec)
        db.session.flush()
        events.record(actor, "recusal", rec.id, "created",
                      after={"user_id": actor.id, "org_id": rec.org_id, "enterprise_id": rec.enterprise_id,
                             "source": "declared"}, reason=reason.strip())
        made.append(rec)
    return made


def remove_recusal(rec: Recusal, reason: str, actor: Actor) -> None:
    if not (reason or "").strip():
        from auditbo.errors import FieldError, ValidationFailed

        raise ValidationFailed([FieldError("reason", "give the reason")])
    events.record(actor, "recusal", rec.id, "removed",
                  before={"user_id": rec.user_id, "org_id": rec.org_id, "enterprise_id": rec.enterprise_id},
                  reason=reason.strip())
    db.session.delete(rec)
    db.session.flush()
