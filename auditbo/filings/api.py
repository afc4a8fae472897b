"""API: filing, listing, amending and withdrawing assessments; bulk imports; certificate lookup."""

from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from auditbo import paging, upload_store, uploads
from auditbo.accounts.models import Role
from auditbo.api.auth import BEARER_DOC, api_user
from auditbo.api.problems import problems
from auditbo.authz import Action, require
from auditbo.errors import DomainError, Forbidden
from auditbo.events import Actor
from auditbo.extensions import limiter
from auditbo.filings import filed_body, imports, records, services
from auditbo.filings.models import Assessment
from auditbo.filings.schemas import (
    AmendmentIn,
    AssessmentIn,
    AssessmentOut,
    AssessmentPageOut,
    CertificateOut,
    ImportResultOut,
    ListArgs,
    WithdrawalIn,
)

blp = Blueprint("filings_api", __name__, description="Assessment results filed by assessment bodies")
public_blp = Blueprint("certificates_api", __name__, description="Public certificate verification (no login)")


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"


def json_body() -> object:
    if not request.is_json:
        raise UnsupportedMediaType("send Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise DomainError("the body is not valid JSON")
    return data


def _body_of(user):
    require(user, Action.file_assessment)
    if user.org is None:
        raise Forbidden("your account belongs to no assessment body")
    return user.org


def _record(assessment_id: int, user) -> dict:
    a = records.get_visible(assessment_id, user)
    return records.to_dict(a, show_reviewer=user.role in (Role.admin, Role.supervisor))


def _json_doc(schema) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


class AssessmentListArgs(ListArgs, paging.CursorArgs):
    pass


class AssessmentListOut(AssessmentPageOut, paging.CursorPageOut):
    pass


@blp.route("/assessments")
class Assessments(MethodView):
    @blp.doc(**BEARER_DOC, **_json_doc(AssessmentIn))
    @problems(403, 409)
    @blp.response(201, AssessmentOut, description="filed")
    @blp.alt_response(200, schema=AssessmentOut, description="the same external_ref with the same content: "
                                                               "the existing record")
    def post(self):
        """File one assessment (assessment-body clerk).

        Every bad field is named at once (422). The same `external_ref` with other content is 409.
        """
        user = api_user()
        body = _body_of(user)
        result = services.file_assessment(body, json_body(), actor=Actor.of_api(user))
        if result.written is not None:  # the new record from what was written: no read-back
            record = filed_body.record_of(result.written, body, user,
                                          show_reviewer=user.role in (Role.admin, Role.supervisor))
        else:
            record = _record(result.assessment_id, user)
        status = 201 if result.created else 200
        headers = {"Location": url_for("filings_api.AssessmentById", assessment_id=result.assessment_id)}
        return record, status, headers

    @blp.doc(**BEARER_DOC)
    @blp.arguments(AssessmentListArgs, location="query", as_kwargs=True)
    @blp.response(200, AssessmentListOut)
    def get(self, page, per_page, cursor=None, **filters):
        """The records the caller may see, newest decision first (then by id); filters combine.

        Page through a long list by following `next` (keyset paging: as fast on the thousandth page as on
        the first); `page` counts offsets up to 10,000 records deep. `total` is exact when `total_is_exact`
        is true; deep in a list of more than 10,000 matches it is the count taken on the first page.
        A cursor that is not one this list handed out, or that was made under other filters, is 400.
        """
        # the items are JSON-ready (records.summary_json, tested equal to the schema's dump): sent as they are
        return jsonify(records.api_page(api_user(), filters, page=page, per_page=per_page, cursor=cursor))


@blp.route("/assessments/<int(min=1, max=2147483647):assessment_id>")
class AssessmentById(MethodView):
    @blp.doc(**BEARER_DOC)
    @blp.response(200, AssessmentOut)
    def get(self, assessment_id):
        """One record with its status history, flags and (AAA+) confirmation state; 404 for another body's."""
        return _record(assessment_id, api_user())


def _own_record(assessment_id: int, user, action: Action) -> Assessment:
    a = records.get_visible(assessment_id, user)
    require(user, action, a, hide=True)
    return a


@blp.route("/assessments/<int(min=1, max=2147483647):assessment_id>/amendments")
class Amendments(MethodView):
    @blp.doc(**BEARER_DOC, **_json_doc(AmendmentIn))
    @problems(403, 409)
    @blp.response(200, AssessmentOut)
    def post(self, assessment_id):
        """Correct a returned (or still filed) record: the changed fields and a `reason`.

        Fields may be sent at the top level or under `changes`. A returned AAA+ record goes back
        to `pending_confirmation` with the same reviewer.
        """
        user = api_user()
        a = _own_record(assessment_id, user, Action.amend_assessment)
        data = json_body()
        if not isinstance(data, dict):
            raise DomainError("the body must be a JSON object")
        changes = dict(data.get("changes") or {}) if isinstance(data.get("changes"), dict) else {}
        changes.update({k: v for k, v in data.items() if k not in ("changes", "reason")})
        services.amend(a, changes, data.get("reason") if isinstance(data.get("reason"), str) else "",
                       actor=Actor.of_api(user))
        return _record(assessment_id, user)


@blp.route("/assessments/<int(min=1, max=2147483647):assessment_id>/withdrawal")
class Withdrawal(MethodView):
    @blp.doc(**BEARER_DOC, **_json_doc(WithdrawalIn))
    @problems(403, 409)
    @blp.response(200, AssessmentOut)
    def post(self, assessment_id):
        """Withdraw a record that is not yet standing, with a `reason`."""
        user = api_user()
        a = _own_record(assessment_id, user, Action.withdraw_assessment)
        data = json_body()
        reason = data.get("reason") if isinstance(data, dict) and isinstance(data.get("reason"), str) else ""
        services.withdraw(a, reason, actor=Actor.of_api(user))
        return _record(assessment_id, user)


@blp.route("/imports")
class Imports(MethodView):
    @problems(403, 409)
    @blp.doc(**BEARER_DOC, requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}}}})
    @blp.response(201, ImportResultOut)
    def post(self):
        """File a CSV or XLSX in the published template: all rows or none.

        A refused file is a 422 naming the first `IMPORT_MAX_REPORTED_ERRORS` bad fields (`errors`), how many
        there are (`error_count`, over `invalid_rows` rows) and where the full report is (`error_report`).
        """
        user = api_user()
        body = _body_of(user)
        upload = request.files.get("file")
        if upload is None:
            raise UnsupportedMediaType("send multipart/form-data with the file in the field 'file'")
        with upload_store.ReportWriter() as report:
            errors = uploads.RowErrors(current_app.config["IMPORT_MAX_REPORTED_ERRORS"], sink=report.write)
            try:
                payloads = imports.read_upload(upload.filename or "", upload.stream, errors=errors)
                result = services.file_many(body, payloads, actor=Actor.of_api(user), errors=errors)
            except uploads.ImportRefused as exc:
                exc.report_url = url_for("filings_api.ImportReport", report_id=report.keep(user=user))
                raise
        return result, 201


@blp.route("/imports/reports/<string:report_id>")
class ImportReport(MethodView):
    @blp.doc(**BEARER_DOC)
    @blp.response(200, description="the full error report of a refused import (CSV: row, field, message)",
                  content_type="text/csv")
    def get(self, report_id):
        """The full error report of a refused import, for the caller (or their body) only; 404 for anyone else."""
        return upload_store.report_response(report_id, user=api_user())


@blp.route("/imports/template.<any(csv, xlsx):fmt>")
class ImportTemplate(MethodView):
    public = True

    @blp.response(200, description="the import template (headers in Chinese with the English field names)")
    def get(self, fmt):
        """The import template with one example row."""
        return imports.template_response(fmt)


@public_blp.route("/certificates/<string:certificate_no>")
class Certificate(MethodView):
    @public_blp.response(200, CertificateOut)
    @problems(429)
    @limiter.limit("60 per minute")
    def get(self, certificate_no):
        """Verify a certificate by number: enterprise name, grade, status and valid-until; nothing else."""
        return records.certificate(certificate_no)
