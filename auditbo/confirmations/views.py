"""Confirmation audits in the web UI: the office's queue, the review page and its actions,
and the manual recusal list.

Thin: every permission question goes through ``authz.require``; the domain is in
``services`` (changes) and ``queries`` (reading); each request commits once.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from auditbo import exports
from auditbo.accounts.models import Role, User
from auditbo.accounts.views import form_errors
from auditbo.authz import Action, can, require
from auditbo.clock import today as _today
from auditbo.codes import PROVINCES
from auditbo.confirmations import queries, services
from auditbo.confirmations import recusals as recusal_list
from auditbo.confirmations.forms import (
    AGAINST_TITLES,
    ANSWER_TITLES,
    DECISION_TITLES,
    PARTY_TITLES,
    SEVERITY_TITLES,
    DecisionForm,
    DeclarationForm,
    FindingForm,
    ReassignForm,
    RecusalForm,
    RemoveRecusalForm,
    choices,
)
from auditbo.confirmations.forms import checklist_form as checklist_form_for
from auditbo.confirmations.models import AuditStatus, Recusal
from auditbo.confirmations.queries import TABS, QueueFilter
from auditbo.errors import Conflict, NotFound, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings import records
from auditbo.filings.models import Grade
from auditbo.inputs import int_arg
from auditbo.orgs.models import Enterprise, Organisation, OrgKind
from auditbo.transaction import discard

bp = Blueprint("confirmations", __name__, url_prefix="/confirmations", template_folder="templates")

PER_PAGE = 50
TAB_TITLES = {"open": _l("Open"), "mine": _l("Assigned to me"), "pending": _l("Unassigned"),
              "overdue": _l("Overdue"), "decided": _l("Decided"), "all": _l("All")}
AUDIT_STATUS_TITLES = {"pending": _l("Unassigned"), "assigned": _l("Under review"), "decided": _l("Decided"),
                       "cancelled": _l("Cancelled")}
EVENT_TITLES = {
    "filed": _l("Filed"), "status_changed": _l("Status changed"), "amended": _l("Amended by the body"),
    "withdrawn": _l("Withdrawn"), "grade_adjusted": _l("Grade adjusted"),
    "assigned": _l("Reviewer drawn"), "assignment_failed": _l("No eligible reviewer"),
    "reassigned": _l("Reassigned"), "declaration_signed": _l("Declaration signed"),
    "conflict_declared": _l("Conflict of interest declared"), "checklist_saved": _l("Checklist saved"),
    "finding_added": _l("Finding added"), "decided": _l("Decided"), "cancelled": _l("Cancelled"),
    "reminder_sent": _l("Reminder sent"),
}


@bp.record_once
def _register_badge(state) -> None:
    from auditbo.web import NAV_BADGES

    NAV_BADGES["confirmations.index"] = queries.nav_count_select


@bp.app_errorhandler(StaleDataError)
def _stale(exc: StaleDataError):
    """Safety net: a versioned row (an audit, an assessment) changed by someone else at the same
    moment is a clear 409 Conflict, never a 500 and never a silent overwrite."""
    db.session.rollback()
    return current_app.handle_user_exception(
        Conflict("someone else changed this record at the same moment; reload it and try again"))


@bp.app_context_processor
def _helpers() -> dict:
    return {
        "audit_status_title": lambda s: AUDIT_STATUS_TITLES.get(getattr(s, "value", s), s),
        "decision_title": lambda d: DECISION_TITLES.get(getattr(d, "value", d), d) if d else "",
        "severity_title": lambda s: SEVERITY_TITLES.get(getattr(s, "value", s), s),
        "against_title": lambda s: AGAINST_TITLES.get(getattr(s, "value", s), s),
    }


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


# --- the queue -----------------------------------------------------------------------------
def _queue_filter() -> QueueFilter:
    default_tab = "mine" if current_user.role is Role.supervisor else "open"
    tab = request.args.get("tab") if request.args.get("tab") in TABS else default_tab
    grade = request.args.get("grade") if request.args.get("grade") in {g.value for g in Grade} else None
    decision = request.args.get("decision") if request.args.get("decision") in DECISION_TITLES else None
    region = (request.args.get("region") or "").strip()
    return QueueFilter(tab=tab, body=(request.args.get("body") or "").strip() or None, grade=grade,
                       region=region if region.isdigit() and 2 <= len(region) <= 6 else None,
                       due_from=_date_arg("due_from"), due_to=_date_arg("due_to"), decision=decision,
                       decided_from=_date_arg("decided_from"), decided_to=_date_arg("decided_to"),
                       sort=request.args.get("sort") if (request.args.get("sort") or "").lstrip("-") in queries.SORTS
                       else None)


@bp.route("/")
@login_required
def index():
    require(current_user, Action.view_office_queues)
    f = _queue_filter()
    page = int_arg("page", 1)
    today = _today()
    items, total = queries.queue_page(f, current_user, today, page, PER_PAGE)
    bodies = db.session.execute(sa.select(Organisation.credit_code, Organisation.name)
                                .where(Organisation.kind == OrgKind.assessment_body)
                                .order_by(Organisation.name)).all()
    return render_template(
        "confirmations/index.html", f=f, items=items, total=total, page=page, per_page=PER_PAGE,
        counts=queries.tab_counts(f, current_user, today), tabs=[(t, TAB_TITLES[t]) for t in TABS],
        bodies=bodies, grades=[g.value for g in Grade], provinces=sorted(PROVINCES.items()),
        reminders=queries.reminders_for(current_user, today), today=today,
    )


@bp.route("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    """The queue under its tab and filters, streamed as CSV or XLSX."""
    require(current_user, Action.view_office_queues)
    f = _queue_filter()
    return exports.response(fmt, queries.rows_select(f, current_user, _today()), EXPORT_COLUMNS,
                            name="confirmation-audits", sheet=_("Confirmation audits"))


EXPORT_COLUMNS = [
    exports.Column("id", _l("Audit")),
    exports.Column("round", _l("Round")),
    exports.Column("status", _l("Status"), label=lambda s: AUDIT_STATUS_TITLES.get(s, s)),
    exports.Column("due_date", _l("Due")),
    exports.Column("certificate_no", _l("Certificate")),
    exports.Column("enterprise_name", _l("Enterprise")),
    exports.Column("body_name", _l("Assessment body")),
    exports.Column("filed_grade", _l("Filed grade")),
    exports.Column("region_code", _l("Province"), label=exports.province_name),
    exports.Column("assignee_name", _l("Reviewer")),
    exports.Column("decision", _l("Outcome"), label=lambda d: DECISION_TITLES.get(d, d)),
    exports.Column("adjusted_grade", _l("Adjusted grade")),
    exports.Column("decided_at", _l("Decided at")),
]


# --- the review page -------------------------------------------------------------------------
def _audit_or_404(audit_id: int):
    return queries.get_audit(audit_id)


def _person_choices(a) -> list[tuple[str, str]]:
    out = [("", _("— none (the body, or the lead) —"))]
    out += [(m.person.person_id, f"{m.person.person_id} {m.person.name} ({_('lead') if m.role.value == 'lead' else _('member')})")
            for m in a.team]
    out += [(c.person.person_id, f"{c.person.person_id} {c.person.name} ({_('consultant')})") for c in a.consultants]
    return out


def _render_review(audit_id: int, status: int = 200, **forms):
    require(current_user, Action.view_office_queues)
    audit = _audit_or_404(audit_id)
    a = records.get_visible(audit.assessment_id, current_user)
    today = _today()
    audits = queries.audits_of(a.id)
    previous = next((x for x in audits if x.round == audit.round - 1), None)
    evs = queries.timeline(a.id, [x.id for x in audits])
    is_reviewer = audit.status is AuditStatus.assigned and can(current_user, Action.decide_confirmation, audit)
    recused = is_reviewer and services.reviewer_is_recused(audit, current_user.id, today)
    needs_declaration = is_reviewer and not recused and audit.declaration_signed_at is None
    can_work = is_reviewer and not recused and not needs_declaration
    can_reassign = (audit.status in (AuditStatus.pending, AuditStatus.assigned)
                    and can(current_user, Action.reassign_confirmation, audit))
    used = queries.checklist_of(audit)
    checklist_form = forms.get("checklist_form")
    if checklist_form is None and can_work:
        checklist_form = checklist_form_for(used["items"], formdata=None, note=(audit.checklist or {}).get("note"))
        for item in used["items"]:
            getattr(checklist_form, f"item_{item['key']}").data = (audit.checklist or {}).get(item["key"])
    finding_form = forms.get("finding_form") or (FindingForm(formdata=None) if can_work else None)
    if finding_form is not None:
        finding_form.person_id.choices = choices(_person_choices(a))
    decision_form = forms.get("decision_form") or (DecisionForm(formdata=None) if can_work else None)
    if decision_form is not None:
        decision_form.grade.choices = choices([("", "—")] + [(g.value, g.title) for g in Grade
                                                             if g.level < a.grade.level])
        decision_form.version.data = audit.version
    body_tr, lead_tr, lead = queries.track_records(a, today)
    users = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_({x.assignee_id for x in audits if x.assignee_id} | {x.decided_by_id for x in audits
                                                                          if x.decided_by_id}))).all())
    cal_left = queries.working_days_left(audit, today)
    filing_url = (url_for("filings.detail", assessment_id=a.id)
                  if "filings.detail" in current_app.view_functions else None)
    return make_response(render_template(
        "confirmations/review.html", audit=audit, a=a, payload=records.payload_of(a), flags=records.flags_of(a),
        history=records.history_of(a, office=True), audits=audits, previous=previous, events=evs,
        changes=queries.rereview_changes(evs, previous, audit), findings=queries.findings_of(audit),
        previous_findings=queries.findings_of(previous) if previous else [], users=users,
        body_tr=body_tr, lead_tr=lead_tr, lead=lead, answer_titles=ANSWER_TITLES,
        checklist=[(i["key"], i["text"]) for i in used["items"]], checklist_version=used,
        is_reviewer=is_reviewer, recused=recused, needs_declaration=needs_declaration, can_work=can_work,
        declaration_form=forms.get("declaration_form") or (DeclarationForm(formdata=None)
                                                            if needs_declaration else None),
        checklist_form=checklist_form, finding_form=finding_form, decision_form=decision_form,
        reassign_form=forms.get("reassign_form") or (ReassignForm(formdata=None) if can_reassign else None),
        party_titles=PARTY_TITLES, event_titles=EVENT_TITLES, today=today, working_days_left=cal_left,
        overdue=audit.status in queries.OPEN and audit.due_date < today, filing_url=filing_url,
    ), status)


@bp.route("/<int:audit_id>")
@login_required
def review(audit_id: int):
    return _render_review(audit_id)


def _back(audit_id: int, anchor: str = ""):
    return redirect(url_for("confirmations.review", audit_id=audit_id) + (f"#{anchor}" if anchor else ""), 303)


def _act(audit_id: int, form, form_name: str, action: Action, fn, done: str, anchor: str):
    """Validate the form, run the service (the request commits); errors go back to the page, conflicts are
    flashed."""
    require(current_user, Action.view_office_queues)
    audit = _audit_or_404(audit_id)
    require(current_user, action, audit)
    if not form.validate_on_submit():
        return _render_review(audit_id, 422, **{form_name: form})
    try:
        fn(audit)
    except ValidationFailed as exc:
        discard()
        form_errors(form, exc)
        return _render_review(audit_id, 422, **{form_name: form})
    except Conflict as exc:
        discard()
        flash(_("Not saved: %(detail)s", detail=exc.detail), "danger")
        return _back(audit_id, anchor)
    flash(done, "success")
    return _back(audit_id, anchor)


@bp.route("/<int:audit_id>/declaration", methods=["POST"])
@login_required
def declaration(audit_id: int):
    form = DeclarationForm()
    conflict = form.conflict.data == "yes"
    done = _("You declared a conflict of interest; another reviewer has been drawn.") if conflict else _(
        "Declaration signed.")
    response = _act(audit_id, form, "declaration_form", Action.decide_confirmation,
                    lambda audit: services.declare(audit, Actor.of(current_user), conflict=conflict,
                                                   parties=form.parties.data, reason=form.reason.data or ""),
                    done, "declaration")
    if conflict and response.status_code == 303:
        return redirect(url_for("confirmations.index"), 303)  # no longer theirs to see as the reviewer
    return response


@bp.route("/<int:audit_id>/checklist", methods=["POST"])
@login_required
def checklist(audit_id: int):
    require(current_user, Action.view_office_queues)  # before the form is read
    audit = _audit_or_404(audit_id)
    require(current_user, Action.decide_confirmation, audit)
    items = queries.checklist_of(audit)["items"]
    form = checklist_form_for(items)
    answers = {i["key"]: getattr(form, f"item_{i['key']}").data for i in items}
    return _act(audit_id, form, "checklist_form", Action.decide_confirmation,
                lambda audit: services.save_checklist(audit, answers, Actor.of(current_user), note=form.note.data),
                _("Checklist saved."), "checklist")


@bp.route("/<int:audit_id>/findings", methods=["POST"])
@login_required
def findings(audit_id: int):
    form = FindingForm()
    return _act(audit_id, form, "finding_form", Action.decide_confirmation,
                lambda audit: services.add_finding(audit, form.severity.data, form.text.data, form.against.data,
                                                   form.person_id.data or None, Actor.of(current_user)),
                _("Finding added."), "findings")


@bp.route("/<int:audit_id>/decision", methods=["POST"])
@login_required
def decision(audit_id: int):
    form = DecisionForm()
    return _act(audit_id, form, "decision_form", Action.decide_confirmation,
                lambda audit: services.decide(audit, form.decision.data, form.grade.data or None, form.reason.data,
                                              form.version.data, Actor.of(current_user)),
                _("Decision recorded."), "decision-form")


@bp.route("/<int:audit_id>/reassignment", methods=["POST"])
@login_required
def reassignment(audit_id: int):
    form = ReassignForm()
    return _act(audit_id, form, "reassign_form", Action.reassign_confirmation,
                lambda audit: services.reassign(audit, form.reason.data, Actor.of(current_user)),
                _("Another reviewer has been drawn."), "reassign")


# --- the manual recusal list (admin) -----------------------------------------------------------
@bp.route("/recusals", methods=["GET", "POST"])
@login_required
def recusals():
    require(current_user, Action.reassign_confirmation)
    form = RecusalForm()
    form.user_id.choices = choices((u.id, f"{u.display_name} ({u.username})") for u in db.session.scalars(
        sa.select(User).where(User.role == Role.supervisor).order_by(User.username)))
    if form.validate_on_submit():
        try:
            recusal_list.add_recusal(form.user_id.data, form.party.data, form.credit_code.data, form.reason.data,
                                 Actor.of(current_user))
            flash(_("Recusal listed."), "success")
            return redirect(url_for("confirmations.recusals"), 303)
        except ValidationFailed as exc:
            discard()
            form_errors(form, exc)
    rows = db.session.execute(
        sa.select(Recusal, User.display_name, User.username, Organisation.name, Organisation.credit_code,
                  Enterprise.name, Enterprise.credit_code)
        .join(User, User.id == Recusal.user_id)
        .outerjoin(Organisation, Organisation.id == Recusal.org_id)
        .outerjoin(Enterprise, Enterprise.id == Recusal.enterprise_id)
        .order_by(Recusal.id.desc())).all()
    return render_template("confirmations/recusals.html", form=form, rows=rows, remove_form=RemoveRecusalForm())


@bp.route("/recusals/<int:recusal_id>/remove", methods=["POST"])
@login_required
def remove_recusal(recusal_id: int):
    require(current_user, Action.reassign_confirmation)
    rec = db.session.get(Recusal, recusal_id)
    if rec is None:
        raise NotFound("no such recusal")
    form = RemoveRecusalForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for removing it."), "danger")
        return redirect(url_for("confirmations.recusals"), 303)
    recusal_list.remove_recusal(rec, form.reason.data, Actor.of(current_user))
    flash(_("Recusal removed."), "info")
    return redirect(url_for("confirmations.recusals"), 303)
