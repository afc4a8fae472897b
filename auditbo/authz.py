"""The one policy module: every permission question is ``can(user, action, obj)``.

Rules come from spec/domain.md, "Actors and what they may do". List queries for a
body user go through :func:`scope_assessments` (and friends), never through ad-hoc
filters in views. A denial on a record of another body is answered 404 by the
callers (:func:`require` with ``hide=True``) so that existence does not leak.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa

from auditbo.accounts.models import Role
from auditbo.errors import Forbidden, HiddenNotFound


class Action(enum.StrEnum):
    manage_users = "manage_users"
    manage_registry = "manage_registry"
    view_registry = "view_registry"
    view_org = "view_org"  # one body's profile, staff and the office's decisions about it
    file_assessment = "file_assessment"
    amend_assessment = "amend_assessment"
    withdraw_assessment = "withdraw_assessment"
    view_assessment = "view_assessment"
    view_office_queues = "view_office_queues"
    decide_confirmation = "decide_confirmation"
    reassign_confirmation = "reassign_confirmation"
    create_plan = "create_plan"
    approve_plan = "approve_plan"
    draw_plan = "draw_plan"
    record_spotcheck = "record_spotcheck"
    reassign_spotcheck = "reassign_spotcheck"
    disclose_spotcheck = "disclose_spotcheck"
    manage_checklists = "manage_checklists"
    register_complaint = "register_complaint"
    handle_complaint = "handle_complaint"  # the office's complaint list, one complaint, its moves
    view_complaint_outcome = "view_complaint_outcome"  # substantiated complaints about one body (obj: the body)
    sanction_certificate = "sanction_certificate"  # suspend, reinstate, downgrade a certificate
    sanction_registry = "sanction_registry"  # warn or suspend a body or a person; end a sanction
    propose_revocation = "propose_revocation"  # the first pair of eyes on a revocation
    confirm_revocation = "confirm_revocation"  # the second: an admin who did not propose it (obj: the proposal)
    view_sanctions = "view_sanctions"  # the 失信名单 and the certificates coming due for surveillance
    run_rating = "run_rating"
    review_rating = "review_rating"
    publish_rating = "publish_rating"
    view_rating_explained = "view_rating_explained"
    object_to_rating = "object_to_rating"  # a body's objection (异议) to its or its staff's rating (obj: the body)
    decide_objection = "decide_objection"  # a supervisor who did not run the rating (obj: the run)
    verify_certificate = "verify_certificate"
    read_events = "read_events"
    manage_own_tokens = "manage_own_tokens"


def _role(user) -> Role | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.role


def _org_of(obj) -> set[int]:
    """The bodies an object belongs to (an assessment: its body and its consulting body)."""
    ids = set()
    for attr in ("body_id", "org_id", "consulting_body_id"):
        v = getattr(obj, attr, None)
        if v is not None:
            ids.add(v)
    return ids


def can(user, action: Action | str, obj=None) -> bool:
    action = Action(action)
    role = _role(user)
    if action is Action.verify_certificate:
        return True
    if role is None:
        return False
    if action is Action.manage_own_tokens:
        return True
    if action in (Action.view_org, Action.view_complaint_outcome):
        if role in (Role.admin, Role.supervisor):
            return True
        return obj is not None and getattr(obj, "id", None) == user.org_id
    if action is Action.confirm_revocation:
        return role is Role.admin and obj is not None and getattr(obj, "proposed_by_id", None) != user.id
    if role is Role.admin:
        if action is Action.approve_plan and obj is not None:
            return getattr(obj, "author_id", None) != user.id  # four eyes: never one's own plan
        if action is Action.publish_rating and obj is not None:
            return getattr(obj, "run_by_id", None) != user.id  # four eyes: never a run of one's own
        return action not in {
            Action.file_assessment, Action.amend_assessment, Action.withdraw_assessment,
            Action.decide_confirmation, Action.create_plan, Action.record_spotcheck,
            Action.run_rating, Action.review_rating, Action.object_to_rating, Action.decide_objection,
        }
    if role is Role.supervisor:
        if action is Action.decide_confirmation:
            return obj is not None and getattr(obj, "assignee_id", None) == user.id
        if action is Action.approve_plan:
            return False  # supervisors create plans; an admin approves them
        if action is Action.record_spotcheck:
            return obj is not None and user.id in {i.user_id for i in getattr(obj, "inspectors", [])}
        if action is Action.decide_objection:
            return obj is None or getattr(obj, "run_by_id", None) != user.id
        return action in {
            Action.view_registry, Action.view_assessment, Action.view_office_queues, Action.create_plan,
            Action.draw_plan, Action.disclose_spotcheck,
            Action.register_complaint, Action.run_rating, Action.review_rating,
            Action.view_rating_explained, Action.read_events, Action.handle_complaint,
            Action.propose_revocation, Action.view_sanctions,
        }
    if role is Role.body_clerk:
        own = obj is None or user.org_id in {getattr(obj, "body_id", None), getattr(obj, "org_id", None)}
        if action in {Action.file_assessment}:
            return obj is None or getattr(obj, "body_id", None) == user.org_id
        if action in {Action.amend_assessment, Action.withdraw_assessment, Action.view_assessment,
                      Action.read_events}:
            return obj is not None and getattr(obj, "body_id", None) == user.org_id
        if action in (Action.view_rating_explained, Action.object_to_rating):
            return obj is not None and own
        return False
    if role is Role.consulting_user:
        if action is Action.view_assessment:
            return obj is not None and getattr(obj, "consulting_body_id", None) == user.org_id
        if action in (Action.view_rating_explained, Action.object_to_rating):
            return obj is not None and getattr(obj, "org_id", None) == user.org_id
        return False
    return False


def require(user, action: Action | str, obj=None, *, hide: bool = False) -> None:
    """Raise Forbidden — or NotFound when ``hide`` (another body's record must not leak)."""
    if not can(user, action, obj):
        if hide and _role(user) in (Role.body_clerk, Role.consulting_user):
            raise HiddenNotFound("no such record")
        raise Forbidden("you may not do this")


def scope_assessments(stmt: sa.Select, user) -> sa.Select:
    """Restrict a query over Assessment to what ``user`` may see."""
    from auditbo.filings.models import Assessment

    role = _role(user)
    if role in (Role.admin, Role.supervisor):
        return stmt
    if role is Role.body_clerk:
        return stmt.where(Assessment.body_id == user.org_id)
    if role is Role.consulting_user:
        return stmt.where(Assessment.consulting_body_id == user.org_id)
    return stmt.where(sa.false())
