"""API: confirmation audits for the supervision office (supervisors and admins).

Fixed by spec/api.md: the list, one audit, findings, the decision and the reassignment.
Added: the reviewer's declaration and the checklist. Bodies see the state of their own
records' audits through ``GET /api/v1/assessments/{id}`` (``confirmation``).
"""

from __future__ import annotations

import functools

from flask.views import MethodView
from flask_smorest import Blueprint

from auditbo import paging
from auditbo.api.auth import BEARER_DOC, api_user
from auditbo.api.problems import problems
from auditbo.authz import Action, require
from auditbo.clock import today
from auditbo.confirmations import queries, services
from auditbo.confirmations.queries import QueueFilter
from auditbo.confirmations.schemas import ConfirmationChecklistIn as ChecklistIn
from auditbo.confirmations.schemas import ConfirmationDecisionIn as DecisionIn
from auditbo.confirmations.schemas import ConfirmationDeclarationIn as DeclarationIn
from auditbo.confirmations.schemas import ConfirmationFindingIn as FindingIn
from auditbo.confirmations.schemas import ConfirmationListArgs as ListArgs
from auditbo.confirmations.schemas import ConfirmationOut, ConfirmationPageOut
from auditbo.confirmations.schemas import ConfirmationReassignmentIn as ReassignmentIn
from auditbo.events import Actor
from auditbo.extensions import db

blp = Blueprint("confirmations_api", __name__, description="Confirmation audits (确认审核) of AAA+ results: "
                                                            "supervisors and admins")


def _office_user():
    user = api_user()
    require(user, Action.view_office_queues)
    return user


def _audit(audit_id: int):
    return queries.get_audit(audit_id)


def _may(action: Action):
    """The caller's token, role and right on the audit are checked (401, 403, 404) before the body is
    parsed and validated (422): put it above ``@blp.arguments``, which parses first."""

    def decorate(fn):
        @functools.wraps(fn)
        def checked(self, *args, audit_id, **kwargs):
            require(_office_user(), action, _audit(audit_id))
            return fn(self, *args, audit_id=audit_id, **kwargs)

        return checked

    return decorate


def _out(audit_id: int) -> dict:
    db.session.expire_all()
    return queries.to_dict(queries.get_audit(audit_id), today())


class ConfirmationCursorArgs(ListArgs, paging.CursorArgs):
    pass


class ConfirmationListOut(ConfirmationPageOut, paging.CursorPageOut):
    pass


@blp.route("/confirmations")
class Confirmations(MethodView):
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.arguments(ConfirmationCursorArgs, location="query", as_kwargs=True)
    @blp.response(200, ConfirmationListOut)
    def get(self, page, per_page, status=None, assignee=None, cursor=None, **filters):
        """The audits visible to the caller (the whole office's), open ones by due date, decided ones newest first.

        Without `status`, every audit is listed (cancelled ones included). Follow `next` to page through a long
        queue (keyset paging); `page` offsets stop at 10,000 audits.
        """
        user = _office_user()
        f = QueueFilter(tab=status or "all", assignee_me=assignee == "me", **filters)
        return queries.queue_keyset_page(f, user, today(), page=page, per_page=per_page, cursor=cursor)


@blp.route("/confirmations/<int:audit_id>")
class ConfirmationById(MethodView):
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.response(200, ConfirmationOut)
    def get(self, audit_id):
        """One audit: its assessment, assignee, due date (working days), checklist, findings, decision and `version`."""
        _office_user()
        return _out(audit_id)


@blp.route("/confirmations/<int:audit_id>/findings")
class Findings(MethodView):
    @_may(Action.decide_confirmation)
    @blp.doc(**BEARER_DOC)
    @problems(403, 409)
    @blp.arguments(FindingIn)
    @blp.response(201, ConfirmationOut, description="the audit with the new finding (and its new version)")
    def post(self, data, audit_id):
        """Add a finding (assigned reviewer only): `severity`, `text`, `against` and, naming a person, `person_id`."""
        user = _office_user()
        audit = _audit(audit_id)
        services.add_finding(audit, data["severity"], data["text"], data["against"], data["person_id"],
                             Actor.of_api(user), via="api")
        return _out(audit_id), 201


@blp.route("/confirmations/<int:audit_id>/checklist")
class Checklist(MethodView):
    @_may(Action.decide_confirmation)
    @blp.doc(**BEARER_DOC)
    @problems(403, 409)
    @blp.arguments(ChecklistIn)
    @blp.response(200, ConfirmationOut)
    def put(self, data, audit_id):
        """Replace the checklist answers (assigned reviewer only): `yes`, `no` or `na` per item, and a `note`."""
        user = _office_user()
        audit = _audit(audit_id)
        services.save_checklist(audit, data["answers"], Actor.of_api(user), note=data["note"], via="api")
        return _out(audit_id)


@blp.route("/confirmations/<int:audit_id>/declaration")
class Declaration(MethodView):
    @_may(Action.decide_confirmation)
    @blp.doc(**BEARER_DOC)
    @problems(403, 409)
    @blp.arguments(DeclarationIn)
    @blp.response(200, ConfirmationOut)
    def post(self, data, audit_id):
        """The assigned reviewer's self-declaration: no tie to the body, the consulting body or the enterprise
        (`conflict: false`), or a declared tie (`conflict: true`, `parties`, `reason`), after which another
        reviewer is drawn. Acting on the audit (findings, checklist, decision) without a declaration signs it."""
        user = _office_user()
        audit = _audit(audit_id)
        services.declare(audit, Actor.of_api(user), conflict=data["conflict"], parties=data["parties"],
                         reason=data["reason"])
        return _out(audit_id)


@blp.route("/confirmations/<int:audit_id>/decision")
class DecisionEndpoint(MethodView):
    @_may(Action.decide_confirmation)
    @blp.doc(**BEARER_DOC)
    @problems(403, 409)
    @blp.arguments(DecisionIn)
    @blp.response(200, ConfirmationOut, description="the decided audit; its assessment shows the effect")
    def post(self, data, audit_id):
        """Decide (assigned reviewer only, never a recused one): `confirmed`, `grade_adjusted` (with the lower
        `grade`), `returned` or `rejected`, with a `reason` (optional when confirmed) and the `version` you read.

        A stale `version` (someone changed the audit since) is 409. The assessment becomes `standing`
        (with the adjusted grade), `returned` or `rejected`.
        """
        user = _office_user()
        audit = _audit(audit_id)
        services.decide(audit, data["decision"], data["grade"], data["reason"], data["version"],
                        Actor.of_api(user), via="api")
        return _out(audit_id)


@blp.route("/confirmations/<int:audit_id>/reassignment")
class Reassignment(MethodView):
    @_may(Action.reassign_confirmation)
    @blp.doc(**BEARER_DOC)
    @problems(403, 409)
    @blp.arguments(ReassignmentIn)
    @blp.response(200, ConfirmationOut)
    def post(self, data, audit_id):
        """Admin only: draw a new reviewer (never the current one nor a recused one), with a `reason`.

        409 when no other supervisor may review the assessment.
        """
        user = _office_user()
        audit = _audit(audit_id)
        services.reassign(audit, data["reason"], Actor.of_api(user))
        return _out(audit_id)
