"""Complaints in the web UI: the office's list, registration, one complaint and its handling, the
evidence files; and for a body, the substantiated complaints about itself (never who complained).

Thin: permissions through ``authz.require``, the domain in ``services``; the request commits once.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from auditbo import evidence as evidence_files
from auditbo import exports, transaction
from auditbo.accounts.views import form_errors
from auditbo.authz import Action, can, require
from auditbo.clock import today as _today
from auditbo.complaints import evidence, queries, services
from auditbo.complaints.forms import KIND_TITLES, MOVE_TITLES, ComplaintForm, TransitionForm, choices
from auditbo.complaints.models import COMPLAINT_TRANSITIONS, SOURCE_TITLES, ComplaintFile, ComplaintStatus
from auditbo.complaints.queries import TABS, ComplaintFilter
from auditbo.errors import DomainError, NotFound, ValidationFailed
from auditbo.events import Actor, timeline
from auditbo.extensions import db
from auditbo.inputs import int_arg
from auditbo.orgs.models import Organisation

bp = Blueprint("complaints", __name__, url_prefix="/complaints", template_folder="templates")

PER_PAGE = 50
TAB_TITLES = {
    "open": _l("Open"),
    "overdue": _l("Overdue"),
    "mine": _l("Assigned to me"),
    "closed": _l("Closed"),
    "all": _l("All"),
}
EVENT_TITLES = {"registered": _l("Registered"), "status_changed": _l("Status changed")}


@bp.record_once
def _register_badge(state) -> None:
    from auditbo.web import NAV_BADGES

    NAV_BADGES["complaints.index"] = queries.nav_count_select


@bp.app_context_processor
def _helpers() -> dict:
    return {
        "complaint_status_title": lambda s: ComplaintStatus(getattr(s, "value", s)).title,
        "complaint_source_title": lambda s: SOURCE_TITLES.get(s, s),
        "complaint_kind_title": lambda k: KIND_TITLES.get(k, k),
    }


@bp.route("/")
@login_required
def index():
    require(current_user, Action.handle_complaint)
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "open"
    page = int_arg("page", 1, maximum=1_000_000)
    items, total = queries.page(ComplaintFilter(tab=tab), current_user, _today(), page, PER_PAGE)
    return render_template(
        "complaints/index.html",
        items=items,
        total=total,
        page=page,
        per_page=PER_PAGE,
        tab=tab,
        tabs=[(k, TAB_TITLES[k]) for k in TABS],
    )


@bp.route("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    """The list under its tab, streamed as CSV or XLSX."""
    require(current_user, Action.handle_complaint)
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "open"
    columns = [
        exports.Column("id", _l("Number")),
        exports.Column("received_on", _l("Received on")),
        exports.Column("status", _l("Status"), label=lambda s: ComplaintStatus(s).title),
        exports.Column("source", _l("Source"), label=lambda s: SOURCE_TITLES.get(s, s)),
        exports.Column("body_name", _l("Assessment body")),
        exports.Column("person_name", _l("Person")),
        exports.Column("certificate_no", _l("Certificate")),
        exports.Column("summary", _l("Summary")),
        exports.Column("assignee_name", _l("Handled by")),
        exports.Column("due_date", _l("Due")),
        exports.Column("closed_on", _l("Closed on")),
        exports.Column("resolution", _l("Resolution")),
    ]
    return exports.response(fmt, queries.rows_select(ComplaintFilter(tab=tab), current_user, _today()), columns,
                            name="complaints", sheet=_("Complaints"))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    require(current_user, Action.register_complaint)
    form = ComplaintForm()
    status = 200
    if form.validate_on_submit():
        kind = form.kind.data
        party = (form.party.data or "").strip()
        data = {
            "against": {"kind": kind, "person_id" if kind == "person" else "credit_code": party},
            "certificate_no": (form.certificate_no.data or "").strip() or None,
            "text": form.text.data,
            "source": form.source.data,
            "complainant": form.complainant.data,
            "contact": form.contact.data,
            "received_on": form.received_on.data,
        }
        try:
            files = evidence.read_files(request.files.getlist(form.files.name), field="files")
            c = services.register(data, actor=Actor.of(current_user), files=files)
        except ValidationFailed as exc:
            form_errors(form, _map_fields(exc))
            status = 422
        except DomainError as exc:
            form.files.errors = list(form.files.errors) + [exc.detail]
            status = exc.status
        else:
            flash(
                _("Complaint #%(id)d registered; due on %(date)s.", id=c.id, date=c.due_date.isoformat()),
                "success",
            )
            return redirect(url_for("complaints.detail", complaint_id=c.id))
    elif request.method == "POST":
        status = 422
    return render_template("complaints/new.html", form=form), status


def _map_fields(exc: ValidationFailed) -> ValidationFailed:
    names = {
        "against.kind": "kind",
        "against.credit_code": "party",
        "against.person_id": "party",
        "assessment_id": "certificate_no",
    }
    exc.errors = [type(e)(names.get(e.field, e.field), e.message) for e in exc.errors]
    return exc


def _transition_form(c, form: TransitionForm | None = None) -> TransitionForm:
    form = form or TransitionForm(version=str(c.version))
    nxt = [s for s in ComplaintStatus if COMPLAINT_TRANSITIONS.allowed(c.status, s)]
    form.to.choices = choices((s.value, MOVE_TITLES[s.value]) for s in nxt)
    form.assignee_id.choices = choices(
        [("", _("(unchanged / me)"))]
        + [(str(u.id), u.display_name or u.username) for u in services.office_users()]
    )
    return form


def _detail(c, form=None, status: int = 200):
    item = queries.one(c, _today())
    history = timeline("complaint", c.id)
    return render_template(
        "complaints/detail.html",
        c=item,
        form=_transition_form(c, form),
        history=history,
        event_titles=EVENT_TITLES,
        closed=c.status.closed,
    ), status


@bp.route("/<int:complaint_id>")
@login_required
def detail(complaint_id: int):
    require(current_user, Action.handle_complaint)
    return _detail(services.get(complaint_id))


@bp.route("/<int:complaint_id>/transition", methods=["POST"])
@login_required
def move(complaint_id: int):
    require(current_user, Action.handle_complaint)
    c = services.get(complaint_id)
    form = _transition_form(c, TransitionForm())
    if not form.validate_on_submit():
        return _detail(c, form, 422)
    try:
        version = int(form.version.data or "")
    except ValueError:
        version = None
    assignee = int(form.assignee_id.data) if (form.assignee_id.data or "").isdigit() else None
    try:
        services.transition(
            c, form.to.data, form.reason.data, version, actor=Actor.of(current_user), assignee_id=assignee
        )
    except ValidationFailed as exc:
        transaction.discard()
        form_errors(form, exc)
        return _detail(services.get(complaint_id), form, 422)
    except DomainError as exc:  # an illegal move, a stale version (409)
        transaction.discard()
        flash(exc.detail, "danger")
        return redirect(url_for("complaints.detail", complaint_id=complaint_id))
    flash(_("Complaint #%(id)d is now: %(status)s.", id=c.id, status=c.status.title), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.route("/<int:complaint_id>/files/<int:file_id>")
@login_required
def file(complaint_id: int, file_id: int):
    require(current_user, Action.handle_complaint)
    f = db.session.get(ComplaintFile, file_id)
    if f is None or f.complaint_id != complaint_id:
        raise NotFound("no such file")
    return evidence_files.send(f)


@bp.route("/about-us")
@login_required
def about_us():
    """A body's substantiated complaints about itself and its staff, with the outcome (no complainant)."""
    org = db.session.get(Organisation, current_user.org_id) if current_user.org_id else None
    if org is None and can(current_user, Action.handle_complaint):
        return redirect(url_for("complaints.index"))  # the office sees every complaint there
    require(current_user, Action.view_complaint_outcome, org)
    if org is None:  # an office user has no body of their own
        abort(404)
    return render_template("complaints/about_us.html", org=org, items=queries.outcomes_about(org.id))
