"""API: complaints for the supervision office (spec/api.md, "Complaints"): register, list, one, move."""

from __future__ import annotations

import functools

from flask.views import MethodView
from flask_smorest import Blueprint

from auditbo.api.auth import BEARER_DOC, api_user
from auditbo.api.problems import problems
from auditbo.authz import Action, require
from auditbo.clock import today
from auditbo.complaints import queries, services
from auditbo.complaints.queries import ComplaintFilter
from auditbo.complaints.schemas import ComplaintIn, ComplaintOut, ComplaintPageOut, ListArgs, TransitionIn
from auditbo.events import Actor

blp = Blueprint(
    "complaints_api",
    __name__,
    description="Complaints (社会化监督) against bodies and persons: supervisors and admins",
)


def _may(action: Action, *, with_complaint: bool = False):
    """Token, role and (for one complaint) its existence are checked before the body is parsed: put it
    above ``@blp.arguments``."""

    def decorate(fn):
        @functools.wraps(fn)
        def checked(self, *args, **kwargs):
            require(api_user(), action)
            if with_complaint:
                services.get(kwargs["complaint_id"])
            return fn(self, *args, **kwargs)

        return checked

    return decorate


@blp.route("/complaints")
class Complaints(MethodView):
    @_may(Action.handle_complaint)
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.arguments(ListArgs, location="query", as_kwargs=True)
    @blp.response(200, ComplaintPageOut)
    def get(self, page, per_page, tab="all", status=None, body=None):
        """The office's complaints: `tab` = open (by due date), overdue, mine, closed or all (newest first)."""
        items, total = queries.page(
            ComplaintFilter(tab=tab, status=status, body=body), api_user(), today(), page, per_page
        )
        return {"items": items, "total": total, "page": page, "per_page": per_page}

    @_may(Action.register_complaint)
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.arguments(ComplaintIn)
    @blp.response(201, ComplaintOut)
    def post(self, data):
        """Register a complaint: `against` (`kind` = assessment_body, consulting_body or person, with its
        `credit_code` or `person_id`), optional `assessment_id` (one of that party's), `text`, `source`.

        201 with `status` `received` and its `due_date` (working days, configurable, default 30)."""
        c = services.register(data, actor=Actor.of_api(api_user()))
        return queries.one(c, today()), 201


@blp.route("/complaints/<int:complaint_id>")
class ComplaintById(MethodView):
    @_may(Action.handle_complaint, with_complaint=True)
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.response(200, ComplaintOut)
    def get(self, complaint_id):
        """One complaint with its handling, files and `version`."""
        return queries.one(services.get(complaint_id), today())


@blp.route("/complaints/<int:complaint_id>/transition")
class Transition(MethodView):
    @_may(Action.handle_complaint, with_complaint=True)
    @blp.doc(**BEARER_DOC)
    @problems(403, 409)
    @blp.arguments(TransitionIn)
    @blp.response(200, ComplaintOut)
    def post(self, data, complaint_id):
        """Move the complaint: `to` (`investigating`, `substantiated`, `unsubstantiated`), `reason`, `version`.

        received → investigating | unsubstantiated; investigating → substantiated | unsubstantiated.
        An illegal move or a stale `version` is 409."""
        c = services.get(complaint_id)
        services.transition(
            c,
            data["to"],
            data["reason"],
            data["version"],
            actor=Actor.of_api(api_user()),
            assignee_id=data["assignee_id"],
        )
        return queries.one(c, today())
