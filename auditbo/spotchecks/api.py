"""API: sampling plans and spot checks for the supervision office (spec/api.md, fixed contract).

Authorize before parsing: the token, the role and the right on the record are checked (401,
403, 404) above ``@blp.arguments``. A check's write endpoints answer 404 to anyone who is not
one of its assigned inspectors.
"""

from __future__ import annotations

import functools

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from auditbo import evidence, paging
from auditbo.api.auth import BEARER_DOC, api_user
from auditbo.api.problems import problems
from auditbo.authz import Action, require
from auditbo.clock import today
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.spotchecks import assignment, checks, estimate, queries, services
from auditbo.spotchecks import schemas as s

blp = Blueprint("spotchecks_api", __name__, description="Sampling plans and spot checks (抽查): the office")


def _office():
    user = api_user()
    require(user, Action.view_office_queues)
    return user


def _requires(action: Action):
    """Authorize (401, 403) before ``@blp.arguments`` parses the body: put it above them."""

    def decorate(fn):
        @functools.wraps(fn)
        def checked(self, *args, **kwargs):
            require(_office(), action)
            return fn(self, *args, **kwargs)

        return checked

    return decorate


def _plan_may(action: Action):
    def decorate(fn):
        @functools.wraps(fn)
        def checked(self, *args, plan_id, **kwargs):
            user = _office()
            require(user, action)
            require(user, action, queries.get_plan(plan_id))
            return fn(self, *args, plan_id=plan_id, **kwargs)

        return checked

    return decorate


def _inspector(fn):
    @functools.wraps(fn)
    def checked(self, *args, check_id, **kwargs):
        user = api_user()
        queries.require_inspector(queries.get_check(check_id), user)
        return fn(self, *args, check_id=check_id, **kwargs)

    return checked


def _plan_out(plan_id: int) -> dict:
    db.session.flush()
    plan = queries.get_plan(plan_id)
    return queries.plan_to_dict(plan, estimate=estimate.plan_estimate(plan))


def _check_out(check_id: int) -> dict:
    db.session.flush()
    return queries.check_to_dict(queries.get_check(check_id))


@blp.route("/sampling-plans")
class Plans(MethodView):
    @problems(403)
    @blp.doc(**BEARER_DOC)
    @blp.arguments(s.PlanListArgs, location="query", as_kwargs=True)
    @blp.response(200, s.PlanPageOut)
    def get(self, page, per_page, status=None):
        """Every plan, newest first."""
        _office()
        plans, total = queries.plans_page(page, per_page, status)
        return {"items": [queries.plan_to_dict(p) for p in plans], "total": total, "page": page,
                "per_page": per_page}

    @problems(403)
    @_requires(Action.create_plan)
    @blp.doc(**BEARER_DOC)
    @blp.arguments(s.PlanIn)
    @blp.response(201, s.PlanOut)
    def post(self, data):
        """Create a draft plan (supervisor): `name`, `population`, and `size` or `precision` (or `attribute`).

        An empty population, or a size above the frame (or not above its mandatory units), is 422.
        """
        user = api_user()
        plan = services.create_plan(data, Actor.of_api(user))
        return _plan_out(plan.id), 201


@blp.route("/sampling-plans/preview")
class Preview(MethodView):
    @problems(403)
    @_requires(Action.create_plan)
    @blp.doc(**BEARER_DOC)
    @blp.arguments(s.PlanIn)
    @blp.response(200, s.PreviewOut)
    def post(self, data):
        """What a plan would draw, before anything is saved: frame size, mandatory units and why, the
        risk model (learned or rule, with its time-split validation) and the expected yield."""
        return services.preview(data)


@blp.route("/sampling-plans/<int:plan_id>")
class PlanById(MethodView):
    @problems(403)
    @blp.doc(**BEARER_DOC)
    @blp.response(200, s.PlanOut)
    def get(self, plan_id):
        """One plan; once drawn with its seed, frame hash, model and, from the first closed check, its estimate."""
        _office()
        return _plan_out(plan_id)


@blp.route("/sampling-plans/<int:plan_id>/approval")
class Approval(MethodView):
    @problems(403, 409)
    @_plan_may(Action.approve_plan)
    @blp.doc(**BEARER_DOC)
    @blp.response(200, s.PlanOut)
    def post(self, plan_id):
        """Approve a draft (an admin who is not its author; the author gets 403)."""
        plan = queries.get_plan(plan_id)
        services.approve_plan(plan, Actor.of_api(api_user()))
        return _plan_out(plan_id)


@blp.route("/sampling-plans/<int:plan_id>/draw")
class Draw(MethodView):
    @problems(403, 409, 422)
    @_plan_may(Action.draw_plan)
    @blp.doc(**BEARER_DOC)
    @blp.response(200, s.PlanOut)
    def post(self, plan_id):
        """Freeze the frame and draw (approved plans only: a draft or a drawn plan is 409); each selected record
        becomes a spot check with its inspectors."""
        plan = queries.get_plan(plan_id)
        services.draw_plan(plan, Actor.of_api(api_user()))
        return _plan_out(plan_id)


class UnitListArgs(s.UnitListArgs, paging.CursorArgs):
    pass


class UnitPageOut(s.UnitPageOut, paging.CursorPageOut):
    pass


@blp.route("/sampling-plans/<int:plan_id>/units")
class Units(MethodView):
    @problems(403)
    @blp.doc(**BEARER_DOC)
    @blp.arguments(UnitListArgs, location="query", as_kwargs=True)
    @blp.response(200, UnitPageOut)
    def get(self, page, per_page, selected=None, plan_id=None, cursor=None):
        """Every frame unit of a drawn plan with its risk, π, selection and mandatory flag, by assessment id.

        Follow `next` to page through a large frame (keyset paging); `page` offsets stop at 10,000 units.
        """
        _office()
        return queries.units_keyset_page(queries.get_plan(plan_id), page=page, per_page=per_page, cursor=cursor,
                                         selected=selected)


@blp.route("/sampling-plans/<int:plan_id>/verification")
class Verification(MethodView):
    @problems(403, 409)
    @blp.doc(**BEARER_DOC)
    @blp.response(200, s.VerificationOut)
    def get(self, plan_id):
        """Redraw from the frozen frame and seed: `{"matches": true}`, or false with what differs."""
        _office()
        return services.verify_plan(queries.get_plan(plan_id))


@blp.route("/spot-checks")
class Checks(MethodView):
    @problems(403)
    @blp.doc(**BEARER_DOC)
    @blp.arguments(s.CheckListArgs, location="query", as_kwargs=True)
    @blp.response(200, s.CheckPageOut)
    def get(self, page, per_page, plan_id=None, status=None, inspector=None, disclosure=None, unassigned=False):
        """Spot checks: filters `plan_id`, `status` (open, closed), `inspector=me`, `disclosure` (due, overdue),
        `unassigned`."""
        user = _office()
        items, total = queries.checks_page(page, per_page, plan_id=plan_id, status=status,
                                           inspector_id=user.id if inspector == "me" else None,
                                           unassigned=unassigned, disclosure=disclosure, today=today())
        return {"items": items, "total": total, "page": page, "per_page": per_page}


@blp.route("/spot-checks/<int:check_id>")
class CheckById(MethodView):
    @problems(403)
    @blp.doc(**BEARER_DOC)
    @blp.response(200, s.CheckOut)
    def get(self, check_id):
        """One spot check: its assessment, inspectors, findings, outcome, consequence, `disclose_by`, `version`."""
        _office()
        return _check_out(check_id)


@blp.route("/spot-checks/<int:check_id>/findings")
class Findings(MethodView):
    @problems(409)
    @_inspector
    @blp.doc(**BEARER_DOC)
    @blp.arguments(s.FindingIn)
    @blp.response(201, s.CheckOut)
    def post(self, data, check_id):
        """Add a finding (an assigned inspector): `severity`, `text`, `against`, and `person_id` naming a person."""
        checks.add_finding(queries.get_check(check_id), data["severity"], data["text"], data["against"],
                           data["person_id"], Actor.of_api(api_user()))
        return _check_out(check_id), 201


FILES_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
    "required": ["files"]}}}}


@blp.route("/spot-checks/<int:check_id>/files")
class Files(MethodView):
    @problems(409)
    @_inspector
    @blp.doc(**BEARER_DOC, requestBody=FILES_BODY)
    @blp.response(201, s.CheckOut)
    def post(self, check_id):
        """Attach evidence files (an assigned inspector, open checks): multipart `files`, PDF, PNG or JPEG
        recognised by their first bytes. A wrong type is 415, an oversized file 413, too many 422: then
        nothing is stored."""
        files = checks.read_evidence(request.files.getlist("files"))
        checks.add_files(queries.get_check(check_id), files, Actor.of_api(api_user()))
        return _check_out(check_id), 201


@blp.route("/spot-checks/<int:check_id>/files/<int:file_id>")
class FileById(MethodView):
    @problems(403)
    @blp.doc(**BEARER_DOC)
    @blp.response(200, content_type="application/octet-stream")
    def get(self, check_id, file_id):
        """Download one evidence file (the office): an attachment, never shown inline."""
        _office()
        return evidence.send(checks.get_file(queries.get_check(check_id), file_id))


@blp.route("/spot-checks/<int:check_id>/visit")
class Visit(MethodView):
    @problems(409)
    @_inspector
    @blp.doc(**BEARER_DOC)
    @blp.arguments(s.VisitIn)
    @blp.response(200, s.CheckOut)
    def post(self, data, check_id):
        """Schedule the visit (an assigned inspector): `visit_on`, `version`."""
        checks.schedule_visit(queries.get_check(check_id), data["visit_on"], data["version"],
                              Actor.of_api(api_user()))
        return _check_out(check_id)


@blp.route("/spot-checks/<int:check_id>/outcome")
class Outcome(MethodView):
    @problems(409)
    @_inspector
    @blp.doc(**BEARER_DOC)
    @blp.arguments(s.OutcomeIn)
    @blp.response(200, s.CheckOut)
    def post(self, data, check_id):
        """Close the check (an assigned inspector): `outcome`, `consequence` (not `none` for a major finding),
        `grade` (downgrade), `reason`, `version` (stale: 409). The certificate follows at once."""
        checks.close(queries.get_check(check_id), data["outcome"], data["consequence"], data["grade"],
                     data["reason"], data["version"], Actor.of_api(api_user()))
        return _check_out(check_id)


@blp.route("/spot-checks/<int:check_id>/conflict")
class ConflictDeclaration(MethodView):
    @problems(409)
    @_inspector
    @blp.doc(**BEARER_DOC)
    @blp.arguments(s.ConflictIn)
    @blp.response(200, s.CheckOut)
    def post(self, data, check_id):
        """An assigned inspector declares a tie (`parties`: body, consulting_body, enterprise; `reason`): they are
        recused from those parties from now on and replaced on this check by another eligible supervisor (none
        left: the check waits in the admins' queue, `unassigned`)."""
        assignment.declare_conflict(queries.get_check(check_id), data["parties"], data["reason"],
                                    Actor.of_api(api_user()))
        return _check_out(check_id)


@blp.route("/spot-checks/<int:check_id>/reassignment")
class Reassignment(MethodView):
    @problems(403, 409)
    @_requires(Action.reassign_spotcheck)
    @blp.doc(**BEARER_DOC)
    @blp.arguments(s.ReasonIn)
    @blp.response(200, s.CheckOut)
    def post(self, data, check_id):
        """Admin: draw the check's inspectors afresh, with a `reason`."""
        assignment.reassign(queries.get_check(check_id), data["reason"], Actor.of_api(api_user()))
        return _check_out(check_id)


@blp.route("/spot-checks/<int:check_id>/disclosure")
class Disclosure(MethodView):
    @problems(403, 409)
    @blp.doc(**BEARER_DOC)
    @blp.response(200, s.CheckOut)
    def post(self, check_id):
        """Publish a closed check's result in its body's public aggregate (due within 20 working days)."""
        user = _office()
        require(user, Action.disclose_spotcheck)
        checks.disclose(queries.get_check(check_id), Actor.of_api(user))
        return _check_out(check_id)


@blp.route("/bodies/<string:credit_code>/spot-check-results")
class PublicResults(MethodView):
    public = True

    @blp.response(200, s.PublicResultsOut)
    def get(self, credit_code):
        """Public (no login): an assessment body's disclosed spot-check results per year."""
        from auditbo.errors import NotFound

        results = queries.public_results(credit_code.strip().upper()[:18])
        if results is None:
            raise NotFound("no such assessment body")
        return results
