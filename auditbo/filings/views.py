"""Web pages for assessments: the list (filters, sorting, paging, export), the record, the
filing form, amendments, withdrawal and bulk import with a preview."""

from __future__ import annotations

import io
import operator

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from auditbo import exports, paging, upload_store, uploads
from auditbo.accounts.forms import EmptyForm
from auditbo.authz import Action, can, require
from auditbo.codes import INDUSTRY_SECTIONS, PROVINCES
from auditbo.errors import Conflict, DomainError, ValidationFailed
from auditbo.events import Actor, timeline
from auditbo.extensions import db
from auditbo.filings import imports, pickers, records, services
from auditbo.filings.forms import FilingForm, ImportForm
from auditbo.filings.models import FLAG_TITLES, AssessmentStatus, AssessmentType, Grade
from auditbo.inputs import int_arg
from auditbo.orgs.models import Organisation, OrgKind
from auditbo.transaction import discard

bp = Blueprint("filings", __name__, url_prefix="/assessments", template_folder="templates")
PER_PAGE = 50
COUNT_CAP = 10_000
MAX_PAGE = paging.OFFSET_CAP // PER_PAGE + 1  # the deepest offset page (the JSON list pages deeper by cursor)


def _deep_pages_note() -> str:
    return _("The pages stop after %(n)s records: narrow the filters or reverse the order to see the rest.",
             n=f"{paging.OFFSET_CAP:,}")


def _filters() -> dict:
    a = request.args
    f = {k: a.get(k) for k in ("status", "grade", "decided_from", "decided_to", "filed_from", "filed_to", "region",
                               "industry", "assessment_type", "q", "external_ref") if a.get(k)}
    valid = {"status": {s.value for s in AssessmentStatus}, "grade": {g.value for g in Grade},
             "assessment_type": {t.value for t in AssessmentType}}
    for key, allowed in valid.items():
        if key in f and f[key] not in allowed:
            f.pop(key)
    for key in ("decided_from", "decided_to", "filed_from", "filed_to"):
        if key in f:
            from datetime import date

            try:
                f[key] = date.fromisoformat(f[key])
            except ValueError:
                f.pop(key)
    if a.get("body") and can(current_user, Action.view_office_queues):
        f["body_id"] = int_arg("body")
    f["flags"] = [x for x in a.getlist("flag") if x in records.FLAG_COLUMNS]
    return f


def _page() -> int:
    return int_arg("page", 1)


@bp.route("")
@login_required
def index():
    f = _filters()
    sort = request.args.get("sort", "-decision_date")
    if sort.lstrip("-") not in records.SORTS:
        sort = "-decision_date"
    page = _page()
    if page > MAX_PAGE:  # deep offsets read and drop every row before them: the pages stop at OFFSET_CAP
        total = records.count_matches(current_user, f, COUNT_CAP)
        if total > COUNT_CAP:
            flash(_deep_pages_note(), "info")
        last = min(MAX_PAGE, max(1, -(-total // PER_PAGE)))
        return redirect(url_for("filings.index", **{**request.args.to_dict(), "page": last}))
    rows, total = records.list_page(current_user, f, page, PER_PAGE, sort, count_cap=COUNT_CAP)
    last = max(1, -(-total // PER_PAGE))
    if total <= COUNT_CAP and page > last:  # past the end: the last page, not an empty one
        return redirect(url_for("filings.index", **{**request.args.to_dict(), "page": last}))
    office = can(current_user, Action.view_office_queues)
    bodies = db.session.execute(
        db.select(Organisation.id, Organisation.name).where(Organisation.kind == OrgKind.assessment_body)
        .order_by(Organisation.name)).all() if office else []
    return render_template(
        "filings/list.html", rows=rows, total=total, capped=total > COUNT_CAP, page=page, per_page=PER_PAGE,
        has_next=len(rows) == PER_PAGE and page < MAX_PAGE, deep_note=_deep_pages_note() if page == MAX_PAGE else None,
        filters=f, sort=sort, office=office, bodies=bodies, provinces=PROVINCES, sections=INDUSTRY_SECTIONS,
        statuses=list(AssessmentStatus), grades=list(Grade), types=list(AssessmentType),
        flag_names=list(records.FLAG_COLUMNS), can_file=can(current_user, Action.file_assessment),
    )


@bp.route("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    """The filtered, sorted list as CSV or XLSX, streamed, for the caller's visible records only."""
    sort = request.args.get("sort", "-decision_date")
    office = can(current_user, Action.view_office_queues)
    columns = [c for c in exports_columns() if office or c.key != "body_name"]
    return exports.response(fmt, records.rows_select(current_user, _filters(), sort), columns, name="assessments",
                            sheet=_("Assessments"))


def exports_columns() -> list[exports.Column]:
    """The assessment list's export: what a person reads, in the UI's language."""
    titles = [str(FLAG_TITLES[k]) for k in records.FLAG_COLUMNS]  # translated once
    values = operator.attrgetter(*(_FLAG_ATTRS[k] for k in records.FLAG_COLUMNS))

    def flags(r) -> str:
        return "; ".join([t for t, v in zip(titles, values(r), strict=True) if v])

    return [
        exports.Column("certificate_no", _l("Certificate")),
        exports.Column("external_ref", _l("Reference")),
        exports.Column("enterprise_name", _l("Enterprise")),
        exports.Column("enterprise_credit_code", _l("Credit code")),
        exports.Column("body_name", _l("Assessment body")),
        exports.Column("grade", _l("Grade")),
        exports.Column("assessment_type", _l("Type"), label=lambda t: AssessmentType(t).title),
        exports.Column("decision_date", _l("Decision date")),
        exports.Column("status", _l("Status"), label=lambda s: AssessmentStatus(s).title),
        exports.Column("region_code", _l("Province"), label=exports.province_name),
        exports.Column("industry_code", _l("Industry"), label=exports.industry_section_name),
        exports.Column("person_days", _l("Person-days")),
        exports.Column("flags", _l("Flags"), get=flags),
    ]


_FLAG_ATTRS = {"late": "flag_late", "grade_jump": "flag_grade_jump", "reduced_person_days": "flag_reduced_days",
               "low_person_days": "flag_low_days", "tie": "flag_tie",
               "surveillance_overdue": "flag_surveillance_overdue"}


@bp.route("/<int(min=1, max=2147483647):assessment_id>")
@login_required
def detail(assessment_id: int):
    a = records.get_visible(assessment_id, current_user)
    office = can(current_user, Action.view_office_queues)
    events = timeline("assessment", a.id) if can(current_user, Action.read_events, a) else []
    actors = {e.actor for e in events}
    users = records.actors_of(a, actors)  # the history's and the timeline's actors: one look-up
    rec = records.to_dict(a, show_reviewer=office, users=users)
    return render_template("filings/detail.html", a=a, rec=rec, events=events, office=office,
                           event_actor=records.actor_as_seen(a, actors, office=office, users=users),
                           can_amend=can(current_user, Action.amend_assessment, a) and a.status in services.AMENDABLE,
                           can_withdraw=can(current_user, Action.withdraw_assessment, a) and a.status in (
                               AssessmentStatus.filed, AssessmentStatus.pending_confirmation,
                               AssessmentStatus.returned),
                           withdraw_form=EmptyForm())


def _csrf_failed(form) -> bool:
    token = getattr(form, "csrf_token", None)
    return bool(token is not None and token.errors)


def _body():
    require(current_user, Action.file_assessment)
    return current_user.org


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    body = _body()
    form = FilingForm()
    loose: list[str] = []
    if request.method == "POST":
        form.validate()
        if _csrf_failed(form):
            abort(400, "CSRF token missing or invalid")
        try:
            result = services.file_assessment(body, form.to_payload(), actor=Actor.of(current_user))
            flash(_("Filed.") if result.created else _("This record was filed before; nothing changed."), "success")
            return redirect(url_for("filings.detail", assessment_id=result.assessment_id))
        except ValidationFailed as exc:
            discard()
            loose = form.show_errors(exc.errors)
            flash(_("Please correct the %(n)d marked problem(s).", n=len(exc.errors)), "danger")
        except Conflict as exc:
            discard()
            form.clear_errors()
            loose = [exc.detail]
    return render_template("filings/form.html", form=form, loose=loose, amending=None, pickers=pickers.for_body(body))


@bp.route("/<int(min=1, max=2147483647):assessment_id>/amend", methods=["GET", "POST"])
@login_required
def amend(assessment_id: int):
    a = records.get_visible(assessment_id, current_user)
    require(current_user, Action.amend_assessment, a, hide=True)
    form = FilingForm()
    loose: list[str] = []
    if request.method == "GET":
        form.fill(records.payload_of(a))
    else:
        form.validate()
        if _csrf_failed(form):
            abort(400, "CSRF token missing or invalid")
        changes = form.to_payload()
        changes.pop("external_ref", None)
        try:
            services.amend(a, changes, form.reason.data or "", actor=Actor.of(current_user))
            flash(_("Amended."), "success")
            return redirect(url_for("filings.detail", assessment_id=a.id))
        except ValidationFailed as exc:
            discard()
            loose = form.show_errors(exc.errors)
        except Conflict as exc:
            discard()
            loose = [exc.detail]
    return render_template("filings/form.html", form=form, loose=loose, amending=a, pickers=pickers.for_body(a.body))


@bp.route("/<int(min=1, max=2147483647):assessment_id>/withdraw", methods=["POST"])
@login_required
def withdraw(assessment_id: int):
    a = records.get_visible(assessment_id, current_user)
    require(current_user, Action.withdraw_assessment, a, hide=True)
    if not EmptyForm().validate_on_submit():
        abort(400, "CSRF token missing or invalid")
    try:
        services.withdraw(a, request.form.get("reason", ""), actor=Actor.of(current_user))
        flash(_("Withdrawn."), "info")
    except DomainError as exc:
        discard()
        messages = [e.message for e in getattr(exc, "errors", [])] or [exc.detail]
        flash("; ".join(messages), "danger")
    return redirect(url_for("filings.detail", assessment_id=a.id))


# --- bulk import with a preview --------------------------------------------------------------
# The uploaded file waits for its confirmation on disk (auditbo.upload_store), keyed by a random
# id that is all the cookie session holds; a refused file's errors are a report on disk too.
ERRORS_ON_PAGE = 200


def _preview_gone():
    flash(_("This preview was already confirmed or has expired; upload the file again."), "warning")
    return redirect(url_for("filings.import_file"))


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file():
    body = _body()
    form = ImportForm()
    preview = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        with upload_store.ReportWriter() as report:
            errors = uploads.RowErrors(current_app.config["IMPORT_MAX_REPORTED_ERRORS"], sink=report.write)
            try:
                payloads = imports.read_upload(upload.filename or "", io.BytesIO(data), errors=errors)
                # a dry run: validate everything in a savepoint that is rolled back
                with db.session.begin_nested() as nested:
                    result = services.file_many(body, payloads, actor=Actor.of(current_user), errors=errors)
                    nested.rollback()
                token = upload_store.save_preview(data, upload.filename or "", user=current_user)
                upload_store.discard_preview(session.get("import_preview"))  # one preview per session
                session["import_preview"] = token
                preview = {"result": result, "rows": payloads.head, "token": token, "errors": None}
            except ValidationFailed as exc:
                discard()
                count = getattr(exc, "error_count", len(exc.errors))
                preview = {"errors": exc.errors[:ERRORS_ON_PAGE], "detail": exc.detail, "count": count,
                           "rows": [], "report_url": None}
                if isinstance(exc, uploads.ImportRefused):
                    preview["report_url"] = url_for("filings.import_report", report_id=report.keep(user=current_user))
            except DomainError as exc:
                discard()
                flash(exc.detail, "danger")
    return render_template("filings/import.html", form=form, preview=preview, confirm_form=EmptyForm())


@bp.route("/import/confirm", methods=["POST"])
@login_required
def import_confirm():
    body = _body()
    if not EmptyForm().validate_on_submit():
        abort(400, "CSRF token missing or invalid")
    token = request.form.get("token")
    if not token or session.get("import_preview") != token:
        return _preview_gone()
    session.pop("import_preview", None)
    try:
        with upload_store.claimed_preview(token, user=current_user) as path:  # exactly one request gets it
            with path.open("rb") as fh:
                payloads = imports.read_upload(path.name, fh)
            result = services.file_many(body, payloads, actor=Actor.of(current_user))
            db.session.flush()  # the request commits at its end
        flash(_("%(n)d assessments filed (%(u)d already on file).", n=result["filed"], u=result["unchanged"]),
              "success")
    except upload_store.PreviewGone:
        discard()
        return _preview_gone()
    except DomainError as exc:
        discard()
        flash(exc.detail, "danger")
    return redirect(url_for("filings.index"))


@bp.route("/import/reports/<report_id>.csv")
@login_required
def import_report(report_id: str):
    """A refused import's full error report: for the user who uploaded it (or their body) only."""
    return upload_store.report_response(report_id, user=current_user)
