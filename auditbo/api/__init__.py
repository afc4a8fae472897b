"""The JSON API under /api/v1 (flask-smorest): token auth, problem+json, OpenAPI, offline docs.

Feature packages define their endpoints in ``<feature>/api.py`` as flask-smorest
blueprints; :func:`register_api` mounts them. Errors are answered by auditbo.web's
handlers (application/problem+json for every path under /api/).
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, send_from_directory
from flask_smorest import Api
from marshmallow import Schema, fields

from auditbo.extensions import csrf

API_PREFIX = "/api/v1"


class ProblemSchema(Schema):
    """application/problem+json (RFC 9457), as every error of the API is answered."""

    type = fields.String()
    status = fields.Integer()
    title = fields.String()
    detail = fields.String()
    errors = fields.List(fields.Dict(), metadata={"description": "for 422: every bad field, "
                                                                 "[{\"field\": \"team[0].person_id\", \"message\": …}]"})


class AuditboApi(Api):
    """flask-smorest's Api without its own HTTP error handler (auditbo.web answers errors), its error
    responses documented as application/problem+json, each status by name (auditbo.api.problems)."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None  # no catch-all: every operation lists the statuses it can answer

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        from http import HTTPStatus

        from auditbo.api.problems import PROBLEM_JSON

        for status in HTTPStatus:
            if status >= 400:
                self.spec.components.response(status.name, {
                    "description": status.phrase,
                    "content": {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}}}, lazy=True)


api = AuditboApi()

docs_bp = Blueprint("api_docs", __name__, template_folder="templates")


@docs_bp.route("/api/docs")
def docs():
    return render_template("api/docs.html")


@docs_bp.route("/api/docs/assets/<path:filename>")
def docs_assets(filename: str):
    import swagger_ui_bundle

    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


# the docs' sections: a person's name for each blueprint's tag (flask-smorest tags by blueprint name)
TAG_NAMES = {
    "accounts_api": "账号 Account", "filings_api": "评定报送 Filings", "certificates_api": "证书查询 Certificates",
    "confirmations_api": "确认审核 Confirmation audits", "complaints_api": "投诉 Complaints",
    "spotchecks_api": "抽查 Spot checks", "ratings_api": "信用评级 Ratings", "checklists_api": "审核标准 Checklists",
}


def _name_tags(spec) -> None:
    """Rename the tags (and every operation's tags) from blueprint names to TAG_NAMES, in place."""
    for tag in spec._tags:
        tag["name"] = TAG_NAMES.get(tag["name"], tag["name"])
    for operations in spec._paths.values():
        for op in operations.values():
            if isinstance(op, dict) and "tags" in op:
                op["tags"] = [TAG_NAMES.get(t, t) for t in op["tags"]]


def register_api(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "auditbo")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Filing and disclosure API of the IIMS supervision office. "
                                "Authenticate with `Authorization: Bearer <token>`; tokens are issued "
                                "in the web UI (My account) and shown once."},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    })
    from auditbo.api.problems import ProblemResponses

    api.init_app(app, spec_kwargs={"extra_plugins": [ProblemResponses(app)]})
    from auditbo.api.auth import authenticate_first

    app.before_request(authenticate_first)  # before auditbo's hooks that read a body
    from auditbo.accounts.api import blp as accounts_blp
    from auditbo.checklists.api import blp as checklists_blp
    from auditbo.complaints.api import blp as complaints_blp
    from auditbo.confirmations.api import blp as confirmations_blp
    from auditbo.filings.api import blp as filings_blp
    from auditbo.filings.api import public_blp as certificates_blp
    from auditbo.ratings.api import blp as ratings_blp
    from auditbo.spotchecks.api import blp as spotchecks_blp

    for blp in (accounts_blp, filings_blp, certificates_blp, confirmations_blp, complaints_blp,
                spotchecks_blp, ratings_blp, checklists_blp):
        csrf.exempt(blp)
        api.register_blueprint(blp, url_prefix=API_PREFIX)
    _name_tags(api.spec)
    app.register_blueprint(docs_bp)
