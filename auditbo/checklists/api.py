"""API: the audit criteria (checklists per grade and type), their versions, and publishing a new one.

Authorize before parsing: the token and the right are checked (401, 403) above ``@blp.arguments``.
"""

from __future__ import annotations

import functools

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from auditbo.api.auth import BEARER_DOC, api_user
from auditbo.api.problems import problems
from auditbo.authz import Action, require
from auditbo.checklists import services
from auditbo.clock import today
from auditbo.events import Actor
from auditbo.filings.models import AssessmentType, Grade

blp = Blueprint(
    "checklists_api", __name__, description="Audit criteria (严控审核标准): versioned checklists per grade"
)


class ItemIn(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=services.MAX_KEY))
    text = fields.String(required=True, validate=validate.Length(min=1, max=services.MAX_TEXT))


class ChecklistIn(Schema):
    class Meta:
        unknown = EXCLUDE

    grade = fields.String(required=True, validate=validate.OneOf([g.value for g in Grade]))
    assessment_type = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf([t.value for t in AssessmentType])
    )
    items = fields.List(
        fields.Nested(ItemIn), required=True, validate=validate.Length(min=1, max=services.MAX_ITEMS)
    )
    effective_from = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "today (the default) or later"}
    )


class ListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    grade = fields.String(load_default=None, validate=validate.OneOf([g.value for g in Grade]))
    assessment_type = fields.String(
        load_default=None, validate=validate.OneOf([t.value for t in AssessmentType])
    )


class ChecklistOut(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null: the built-in version 0"})
    grade = fields.String(allow_none=True)
    assessment_type = fields.String(allow_none=True)
    version = fields.Integer()
    effective_from = fields.Date(allow_none=True)
    items = fields.List(fields.Dict())
    in_force = fields.Boolean()


class ChecklistListOut(Schema):
    items = fields.List(fields.Nested(ChecklistOut))
    in_force = fields.Nested(
        ChecklistOut,
        allow_none=True,
        metadata={"description": "with grade (and type): the checklist in force today"},
    )


def _requires(action: Action):
    def decorate(fn):
        @functools.wraps(fn)
        def checked(self, *args, **kwargs):
            user = api_user()
            require(user, Action.view_office_queues)
            require(user, action)
            return fn(self, *args, **kwargs)

        return checked

    return decorate


@blp.route("/checklists")
class Checklists(MethodView):
    @problems(403)
    @_requires(Action.view_office_queues)
    @blp.doc(**BEARER_DOC)
    @blp.arguments(ListArgs, location="query", as_kwargs=True)
    @blp.response(200, ChecklistListOut)
    def get(self, grade=None, assessment_type=None):
        """Every published version (newest first; filter by `grade`, `assessment_type`), and with a `grade` the
        checklist in force today (version 0 is the built-in list)."""
        out = {"items": services.versions(grade, assessment_type), "in_force": None}
        if grade:
            out["in_force"] = {
                **services.describe(services.in_force(grade, assessment_type, today())),
                "in_force": True,
            }
        return out

    @problems(403)
    @_requires(Action.manage_checklists)
    @blp.doc(**BEARER_DOC)
    @blp.arguments(ChecklistIn)
    @blp.response(201, ChecklistOut)
    def post(self, data):
        """Publish a new version for a `grade` (and optionally an `assessment_type`), in force from
        `effective_from` (an administrator). Audits already answered keep their version."""
        cl = services.publish(
            data["grade"],
            data["assessment_type"],
            data["items"],
            data["effective_from"],
            Actor.of_api(api_user()),
        )
        return {**services.describe(cl), "in_force": cl.effective_from <= today()}, 201
