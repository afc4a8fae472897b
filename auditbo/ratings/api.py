"""API: monthly credit ratings (spec/api.md, "Ratings"): runs, their ratings, publication, the public
grades, a body's own ratings, objections. Thin: authorize, call the service, answer; the request
commits once at its end (auditbo/transaction.py)."""

from __future__ import annotations

import functools

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from auditbo import evidence
from auditbo.api.auth import BEARER_DOC, api_user
from auditbo.api.problems import problems
from auditbo.authz import Action, require
from auditbo.errors import Forbidden
from auditbo.events import Actor
from auditbo.ratings import objections, queries, services
from auditbo.ratings.schemas import (
    DecisionIn,
    MineOut,
    ObjectionIn,
    ObjectionOut,
    PageArgs,
    PublicArgs,
    PublicPageOut,
    RatingListArgs,
    RatingPageOut,
    RunIn,
    RunOut,
    RunPageOut,
)

blp = Blueprint("ratings_api", __name__, description="Monthly credit ratings (信用评级) of bodies and their staff")


def _may(action: Action, *, with_run: bool = False):
    """Token and role (and the run's existence) are checked before the body is parsed: put it above
    ``@blp.arguments``."""

    def decorate(fn):
        @functools.wraps(fn)
        def checked(self, *args, **kwargs):
            require(api_user(), action)
            if with_run:
                services.get_run(kwargs["run_id"])
            return fn(self, *args, **kwargs)

        return checked

    return decorate


@blp.route("/rating-runs")
class Runs(MethodView):
    @_may(Action.review_rating)
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.arguments(PageArgs, location="query", as_kwargs=True)
    @blp.response(200, RunPageOut)
    def get(self, page, per_page):
        """Every run, newest month first: `period`, `status` (`draft`, `published`, `failed`), `run_by`,
        `published_by`, counts per grade, `validation` (`auroc`, `psi`, `grade_changes`)."""
        items, total = queries.runs_page(page, per_page)
        return {"items": items, "total": total, "page": page, "per_page": per_page}

    @_may(Action.run_rating)
    @blp.doc(**BEARER_DOC)
    @problems(403, 409)
    @blp.arguments(RunIn)
    @blp.response(201, RunOut)
    def post(self, data):
        """Rate a finished month from the database and store it as a draft: `period` (YYYY-MM).

        A month whose run is still a draft is computed again and replaces that draft; a published
        month is 409. When the engine refuses the data the run is stored with `status` `failed` and
        its `error`, with no ratings."""
        run = services.run_period(data["period"], actor=Actor.of_api(api_user()))
        return queries.run_out(run), 201


@blp.route("/rating-runs/<int:run_id>")
class RunById(MethodView):
    @_may(Action.review_rating, with_run=True)
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.response(200, RunOut)
    def get(self, run_id):
        """One run."""
        return queries.run_out(services.get_run(run_id))


@blp.route("/rating-runs/<int:run_id>/ratings")
class RunRatings(MethodView):
    @_may(Action.review_rating, with_run=True)
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.arguments(RatingListArgs, location="query", as_kwargs=True)
    @blp.response(200, RatingPageOut)
    def get(self, run_id, page, per_page, subject_type=None, grade=None):
        """Office only: every subject's rating with `grade`, `score` and its interval, `effective_n`,
        `contributions` (points per indicator; base + contributions = score), `reasons` (zh/en),
        `change` since last month with the events behind it, and `version` (superseded ones too)."""
        items, total = queries.ratings_page(services.get_run(run_id), page, per_page, subject_type=subject_type,
                                            grade=grade)
        return {"items": items, "total": total, "page": page, "per_page": per_page}


@blp.route("/rating-runs/<int:run_id>/publication")
class Publication(MethodView):
    @blp.doc(**BEARER_DOC)
    @problems(403, 409)
    @blp.response(200, RunOut)
    def post(self, run_id):
        """An admin who did not run it publishes a draft: its bodies' grades appear in the public
        `GET /api/v1/ratings`. Already published, failed, or being re-run by someone else: 409."""
        user = api_user()
        require(user, Action.publish_rating)
        run = services.get_run(run_id)
        if run.run_by_id == user.id:
            raise Forbidden("four eyes: you ran this month's ratings; another admin publishes them")
        require(user, Action.publish_rating, run)
        return queries.run_out(services.publish(run, actor=Actor.of_api(user)))


@blp.route("/ratings")
class PublicRatings(MethodView):
    public = True

    @blp.arguments(PublicArgs, location="query", as_kwargs=True)
    @blp.response(200, PublicPageOut)
    def get(self, page, per_page, period=None, subject_type=None):
        """Public, no login: the published grades of assessment and consulting bodies for a month
        (default: the latest published one), current versions only; persons' ratings are never public."""
        return queries.public_ratings(period, subject_type, page, per_page)


@blp.route("/ratings/mine")
class Mine(MethodView):
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.response(200, MineOut)
    def get(self):
        """A body's clerk or a consulting body's user: the latest published ratings of their own body
        and its staff, with reasons."""
        user = api_user()
        if user.org_id is None:
            raise Forbidden("only a body's own users see their body's ratings here")
        require(user, Action.view_rating_explained, _Body(user.org_id))
        return queries.mine(user.org_id)


class _Body:
    """The body a rating belongs to, as the policy asks about it."""

    def __init__(self, org_id: int):
        self.id = self.org_id = org_id


def _objector(fn):
    """The rated body's own user, before the body is parsed (another body's rating: 404)."""

    @functools.wraps(fn)
    def checked(self, *args, **kwargs):
        objections.check_may_object(api_user(), kwargs["rating_id"])
        return fn(self, *args, **kwargs)

    return checked


def _decider(fn):
    """A supervisor who did not run the rating, before the body is parsed."""

    @functools.wraps(fn)
    def checked(self, *args, **kwargs):
        objections.get_for_decision(kwargs["objection_id"], api_user())
        return fn(self, *args, **kwargs)

    return checked


@blp.route("/ratings/<int:rating_id>/objections")
class Objections(MethodView):
    @_objector
    @blp.doc(**BEARER_DOC)
    @problems(403)
    @blp.arguments(ObjectionIn)
    @blp.response(201, ObjectionOut)
    def post(self, data, rating_id):
        """The rated body's own clerk or consulting user objects (异议), within the objection period
        after publication (calendar days, configurable, default 15): `reason`. 201 with `status` `open`;
        another body's rating is 404; too late, or a rating not published, is 422."""
        o = objections.lodge(rating_id, data["reason"], user=api_user())
        return objections.out(o), 201


@blp.route("/objections/<int:objection_id>/decision")
class ObjectionDecision(MethodView):
    @_decider
    @blp.doc(**BEARER_DOC)
    @problems(403, 409)
    @blp.arguments(DecisionIn)
    @blp.response(200, ObjectionOut)
    def post(self, data, objection_id):
        """A supervisor who did not run the rating decides: `decision` (`upheld`, `dismissed`), `grade`
        (for `upheld`), `reason`. Upheld publishes a new version of that rating; the old one is kept,
        marked superseded. An objection already decided is 409."""
        user = api_user()
        o = objections.get_for_decision(objection_id, user)
        objections.decide(o, data["decision"], data.get("grade"), data["reason"], actor=Actor.of_api(user))
        return objections.out(o)


FILES_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
    "required": ["files"]}}}}


@blp.route("/objections/<int:objection_id>/files")
class ObjectionFiles(MethodView):
    @problems(403, 409)
    @blp.doc(**BEARER_DOC, requestBody=FILES_BODY)
    @blp.response(201, ObjectionOut)
    def post(self, objection_id):
        """The rated body's own user attaches evidence to its open objection: multipart `files`, PDF, PNG
        or JPEG recognised by their first bytes (at most 5 in all, 5 MiB each, configurable). A wrong type
        is 415, an oversized file 413, too many or none 422, a decided objection 409: then nothing is
        stored. Another body's objection is 404."""
        user = api_user()
        o = objections.check_may_attach(user, objection_id)
        files = objections.read_evidence(request.files.getlist("files"))
        objections.add_files(o, files, user=user)
        return objections.out(o), 201


@blp.route("/objections/<int:objection_id>/files/<int:file_id>")
class ObjectionFileById(MethodView):
    @problems(403)
    @blp.doc(**BEARER_DOC)
    @blp.response(200, content_type="application/octet-stream")
    def get(self, objection_id, file_id):
        """Download one attachment (the office, or the rated body's users): an attachment, never shown inline."""
        return evidence.send(objections.get_file(api_user(), objection_id, file_id))
