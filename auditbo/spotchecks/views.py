"""Spot checks in the web UI: plans (create with preview, approve, draw, verify, estimate), the checks'
queues (mine, open, unassigned, disclosure due), one check (findings, visit, outcome, reassignment,
disclosure), and the checklists per grade.

Thin: every permission question goes through ``authz``; the services change things; the request
commits once (a refused change answers 4xx, so nothing of it is kept).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from auditbo import evidence, exports
from auditbo.accounts.models import Role
from auditbo.authz import Action, can, require
from auditbo.clock import today as _today
from auditbo.errors import Conflict, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentType, Grade, StatusChange
from auditbo.inputs import int_arg
from auditbo.orgs.models import Organisation
from auditbo.spotchecks import assignment, checklists, checks, estimate, queries, services
from auditbo.spotchecks.forms import CsrfForm, plan_data
from auditbo.spotchecks.models import CheckStatus, PlanStatus, PlanUnit, SamplingPlan, SpotCheck
from auditbo.transaction import discard
from auditbo.uploads import FileTooLarge, UnsupportedFile

bp = Blueprint("spotchecks", __name__, url_prefix="/spotchecks", template_folder="templates")

PER_PAGE = 50
PLAN_STATUS_TITLES = {"draft": _l("Draft"), "approved": _l("Approved"), "drawn": _l("Drawn"), "closed": _l("Closed")}
OUTCOME_TITLES = {"conforming": _l("Conforming"), "minor_findings": _l("Minor findings"),
                  "major_findings": _l("Major findings")}
CONSEQUENCE_TITLES = {"none": _l("None"), "downgrade": _l("Downgrade"), "suspend": _l("Suspend the certificate"),
                      "revoke": _l("Revoke the certificate")}
CHECK_TABS = {"mine": _l("My spot checks"), "open": _l("Open"), "unassigned": _l("Unassigned"),
              "disclosure": _l("Disclosure due"), "closed": _l("Closed")}
REASON_TITLES = {"substantiated_complaint": _l("a substantiated complaint about the record"),
                 "sanctioned_body": _l("the assessment body was sanctioned"),
                 "sanctioned_lead": _l("the lead assessor was sanctioned"),
                 "sanctioned_staff": _l("a person of the body was sanctioned; not checked since")}
LABEL_TITLES = {"spot_checks": _l("closed spot checks"), "confirmations": _l("confirmation decisions"),
                "spot_checks+confirmations": _l("closed spot checks and confirmation decisions"),
                "none": _l("none yet")}


@bp.record_once
def _register_badge(state) -> None:
    from auditbo.web import NAV_BADGES

    NAV_BADGES["spotchecks.index"] = queries.nav_count_select


@bp.app_context_processor
def _helpers() -> dict:
    return {"plan_status_title": lambda s: PLAN_STATUS_TITLES.get(getattr(s, "value", s), s),
            "outcome_title": lambda s: OUTCOME_TITLES.get(getattr(s, "value", s), s) if s else "",
            "consequence_title": lambda s: CONSEQUENCE_TITLES.get(getattr(s, "value", s), s) if s else "",
            "mandatory_reason_title": lambda s: REASON_TITLES.get(s, s),
            "label_title": lambda s: LABEL_TITLES.get(s, s)}


def _actor() -> Actor:
    return Actor.of(current_user)


# --- plans ---------------------------------------------------------------------------------------
@bp.route("/")
@login_required
def index():
    require(current_user, Action.view_office_queues)
    page = int_arg("page", 1)
    plans, total = queries.plans_page(page, PER_PAGE)
    mine = queries.checks_page(1, 10, status="open", inspector_id=current_user.id)[0] \
        if current_user.role is Role.supervisor else []
    return render_template("spotchecks/index.html", plans=[queries.plan_to_dict(p) for p in plans], total=total,
                           page=page, per_page=PER_PAGE, mine=mine, tabs=CHECK_TABS)


def _plan_form_page(status: int = 200, *, data=None, preview=None, errors=None):
    return render_template("spotchecks/plan_new.html", form=CsrfForm(), data=data or {}, preview=preview,
                           errors=errors or {}, grades=[g.value for g in Grade],
                           types=[(t.value, t.title) for t in AssessmentType]), status


@bp.route("/plans/new", methods=["GET", "POST"])
@login_required
def plan_new():
    require(current_user, Action.create_plan)
    if request.method == "GET":
        return _plan_form_page()
    form = CsrfForm()
    if not form.validate_on_submit():
        return _plan_form_page(400, errors={"_form": [_("The form expired; send it again.")]})
    data = plan_data(request.form)
    try:
        if request.form.get("action") == "preview":
            return _plan_form_page(data=request.form, preview=services.preview(data))
        plan = services.create_plan(data, _actor())
    except ValidationFailed as exc:
        errors: dict[str, list[str]] = {}
        for e in exc.errors:  # a stratum's budget is shown at the budgets field, named
            field, stratum = (e.field.split(".", 1) + [""])[:2] if e.field.startswith("budgets.") else (e.field, "")
            errors.setdefault(field, []).append(f"{stratum}: {e.message}" if stratum else e.message)
        return _plan_form_page(422, data=request.form, errors=errors)
    flash(_("Plan created as a draft: an administrator other than you approves it."), "success")
    return redirect(url_for("spotchecks.plan", plan_id=plan.id), 303)


@bp.route("/plans/<int:plan_id>")
@login_required
def plan(plan_id: int):
    require(current_user, Action.view_office_queues)
    p = queries.get_plan(plan_id)
    page = int_arg("page", 1)
    items, total = queries.checks_page(page, PER_PAGE, plan_id=p.id)
    verification = services.verify_plan(p) if request.args.get("verify") and p.status is PlanStatus.drawn else None
    return render_template("spotchecks/plan.html", plan=p, d=queries.plan_to_dict(p, estimate=estimate.plan_estimate(p)),
                           checks=items, total=total, page=page, per_page=PER_PAGE, form=CsrfForm(),
                           verification=verification,
                           may_approve=p.status is PlanStatus.draft and can(current_user, Action.approve_plan, p),
                           may_draw=p.status is PlanStatus.approved and can(current_user, Action.draw_plan, p))


def _plan_action(plan_id: int, action: Action, fn, done: str):
    require(current_user, Action.view_office_queues)  # before the lookup: 403 whether it exists or not
    p = queries.get_plan(plan_id)
    require(current_user, action, p)
    if not CsrfForm().validate_on_submit():
        return redirect(url_for("spotchecks.plan", plan_id=plan_id), 303)
    try:
        fn(p, _actor())
    except (Conflict, ValidationFailed) as exc:
        discard()
        flash(exc.detail or "; ".join(e.message for e in getattr(exc, "errors", [])), "danger")
        return redirect(url_for("spotchecks.plan", plan_id=plan_id), 303)
    flash(done, "success")
    return redirect(url_for("spotchecks.plan", plan_id=plan_id), 303)


@bp.route("/plans/<int:plan_id>/approve", methods=["POST"])
@login_required
def plan_approve(plan_id: int):
    return _plan_action(plan_id, Action.approve_plan, services.approve_plan, _("Plan approved."))


@bp.route("/plans/<int:plan_id>/draw", methods=["POST"])
@login_required
def plan_draw(plan_id: int):
    return _plan_action(plan_id, Action.draw_plan, services.draw_plan,
                        _("Plan drawn: the frame is frozen and the spot checks are open."))


# --- spot checks ---------------------------------------------------------------------------------
@bp.route("/checks")
@login_required
def check_list():
    require(current_user, Action.view_office_queues)
    tab = request.args.get("tab") if request.args.get("tab") in CHECK_TABS else "mine"
    page = int_arg("page", 1)
    items, total = queries.checks_page(page, PER_PAGE, **_queue_filters(tab))
    return render_template("spotchecks/checks.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           tab=tab, tabs=CHECK_TABS, today=_today().isoformat(), outcome=_outcome_arg())


def _check_page(check_id: int, status: int = 200, errors: dict | None = None):
    require(current_user, Action.view_office_queues)
    check = queries.get_check(check_id)
    d = queries.check_to_dict(check)
    is_inspector = check.status is CheckStatus.open and current_user.id in {i["id"] for i in d["inspectors"]} \
        and can(current_user, Action.record_spotcheck, _with_inspectors(check, d))
    history = db.session.scalars(sa.select(StatusChange).where(StatusChange.assessment_id == check.assessment_id)
                                 .order_by(StatusChange.id)).all()
    recent = queries.body_recent_results(check)
    checklist = checklists.for_check(check)
    return render_template(
        "spotchecks/check.html", check=check, d=d, form=CsrfForm(), is_inspector=is_inspector, errors=errors or {},
        history=history, recent=recent, checklist=checklist,
        grades=[g.value for g in Grade if g.level < len(d["assessment"]["grade"])],
        may_reassign=check.status is CheckStatus.open and can(current_user, Action.reassign_spotcheck),
        may_disclose=check.status is CheckStatus.closed and check.disclosed_on is None
        and can(current_user, Action.disclose_spotcheck), outcomes=OUTCOME_TITLES, consequences=CONSEQUENCE_TITLES,
    ), status


def _with_inspectors(check: SpotCheck, d: dict):
    from types import SimpleNamespace

    return SimpleNamespace(inspectors=[SimpleNamespace(user_id=i["id"]) for i in d["inspectors"]])


@bp.route("/<int:check_id>")
@login_required
def check(check_id: int):
    return _check_page(check_id)


def _check_action(check_id: int, fn, done: str, *, inspector: bool = True, action: Action | None = None):
    if not inspector:
        require(current_user, Action.view_office_queues)  # before the lookup: 403 whether it exists or not
    c = queries.get_check(check_id)
    if inspector:
        queries.require_inspector(c, current_user)
    if action is not None:
        require(current_user, action, c)
    if not CsrfForm().validate_on_submit():
        return redirect(url_for("spotchecks.check", check_id=check_id), 303)
    try:
        fn(c)
    except ValidationFailed as exc:
        errors: dict[str, list[str]] = {}
        for e in exc.errors:
            errors.setdefault(e.field, []).append(e.message)
        return _check_page(check_id, 422, errors)
    except Conflict as exc:
        discard()
        flash(exc.detail, "danger")
        return redirect(url_for("spotchecks.check", check_id=check_id), 303)
    flash(done, "success")
    return redirect(url_for("spotchecks.check", check_id=check_id), 303)


def _version() -> int | None:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return None


@bp.route("/<int:check_id>/findings", methods=["POST"])
@login_required
def check_finding(check_id: int):
    f = request.form
    return _check_action(check_id, lambda c: checks.add_finding(c, f.get("severity", ""), f.get("text", ""),
                                                                f.get("against", ""), f.get("person_id"), _actor()),
                         _("Finding recorded."))


@bp.route("/<int:check_id>/visit", methods=["POST"])
@login_required
def check_visit(check_id: int):
    return _check_action(check_id, lambda c: checks.schedule_visit(c, request.form.get("visit_on", ""), _version(),
                                                                   _actor()), _("Visit scheduled."))


@bp.route("/<int:check_id>/files", methods=["POST"])
@login_required
def check_files(check_id: int):
    """Evidence files (an assigned inspector): a refused file is shown on the page with its 4xx, nothing kept."""
    c = queries.get_check(check_id)
    queries.require_inspector(c, current_user)  # before the body is parsed
    if not CsrfForm().validate_on_submit():
        return redirect(url_for("spotchecks.check", check_id=check_id), 303)
    cfg = current_app.config
    try:
        checks.add_files(c, checks.read_evidence(request.files.getlist("files")), _actor())
    except FileTooLarge:
        return _check_page(check_id, 413, {"files": [_("A file is larger than %(n)d KiB.",
                                                       n=cfg["SPOTCHECK_MAX_FILE_BYTES"] // 1024)]})
    except UnsupportedFile:
        return _check_page(check_id, 415, {"files": [_("Only PDF, PNG and JPEG files are accepted.")]})
    except ValidationFailed:
        return _check_page(check_id, 422, {"files": [_("Choose 1 to %(n)d PDF, PNG or JPEG files in all.",
                                                       n=cfg["SPOTCHECK_MAX_FILES"])]})
    except Conflict as exc:
        discard()
        flash(exc.detail, "danger")
        return redirect(url_for("spotchecks.check", check_id=check_id), 303)
    flash(_("Evidence attached."), "success")
    return redirect(url_for("spotchecks.check", check_id=check_id), 303)


@bp.route("/<int:check_id>/files/<int:file_id>")
@login_required
def check_file(check_id: int, file_id: int):
    require(current_user, Action.view_office_queues)
    return evidence.send(checks.get_file(queries.get_check(check_id), file_id))


@bp.route("/<int:check_id>/checklist", methods=["POST"])
@login_required
def check_checklist(check_id: int):
    answers = {k[5:]: v for k, v in request.form.items() if k.startswith("item_")}
    return _check_action(check_id, lambda c: checklists.save_answers(c, answers, _version(), _actor()),
                         _("Checklist saved."))


@bp.route("/<int:check_id>/outcome", methods=["POST"])
@login_required
def check_outcome(check_id: int):
    f = request.form
    return _check_action(check_id, lambda c: checks.close(c, f.get("outcome", ""), f.get("consequence") or "none",
                                                          f.get("grade") or None, f.get("reason"), _version(),
                                                          _actor()),
                         _("Spot check closed; the certificate follows its consequence."))


@bp.route("/<int:check_id>/conflict", methods=["POST"])
@login_required
def check_conflict(check_id: int):
    f = request.form
    return _check_action(check_id, lambda c: assignment.declare_conflict(c, f.getlist("parties"), f.get("reason", ""),
                                                                         _actor()),
                         _("Tie declared: you are recused from this record's parties and replaced on this check."))


@bp.route("/<int:check_id>/reassign", methods=["POST"])
@login_required
def check_reassign(check_id: int):
    return _check_action(check_id, lambda c: assignment.reassign(c, request.form.get("reason", ""), _actor()),
                         _("Inspectors drawn afresh."), inspector=False, action=Action.reassign_spotcheck)


@bp.route("/<int:check_id>/disclose", methods=["POST"])
@login_required
def check_disclose(check_id: int):
    return _check_action(check_id, lambda c: checks.disclose(c, _actor()), _("Result disclosed."),
                         inspector=False, action=Action.disclose_spotcheck)


# --- public --------------------------------------------------------------------------------------
@bp.route("/public/<credit_code>")
def public_results(credit_code: str):
    """A body's disclosed spot-check results per year, for anyone (信息公开)."""
    from auditbo.errors import NotFound

    results = queries.public_results(credit_code.strip().upper()[:18])
    if results is None:
        raise NotFound("no such assessment body")
    return render_template("spotchecks/public.html", r=results)


# --- exports (issue 17): the queues, the plans and a plan's units, streamed -----------------------
def _outcome_arg() -> str | None:
    return request.args.get("outcome") if request.args.get("outcome") in OUTCOME_TITLES else None


def _queue_filters(tab: str) -> dict:
    """A queue tab's filters, and the outcome asked for (``?outcome=``: the dashboard's drill-down)."""
    f = {"mine": {"inspector_id": current_user.id, "status": "open"}, "open": {"status": "open"},
         "unassigned": {"unassigned": True}, "disclosure": {"disclosure": "due", "today": _today()},
         "closed": {"status": "closed"}}[tab]
    return {**f, "outcome": _outcome_arg()}


@bp.route("/checks/export.<any(csv, xlsx):fmt>")
@login_required
def checks_export(fmt: str):
    require(current_user, Action.view_office_queues)
    tab = request.args.get("tab") if request.args.get("tab") in CHECK_TABS else "mine"
    f = _queue_filters(tab)
    C = SpotCheck
    order = (C.disclose_by, C.id) if f.get("disclosure") else (C.id.desc(),)
    columns = [
        exports.Column("id", _l("Spot check")), exports.Column("plan_id", _l("Sampling plan")),
        exports.Column("status", _l("Status"), label=lambda s: _l("Open") if s == "open" else _l("Closed")),
        exports.Column("certificate_no", _l("Certificate")), exports.Column("enterprise_name", _l("Enterprise")),
        exports.Column("body_name", _l("Assessment body")), exports.Column("grade", _l("Grade")),
        exports.Column("opened_on", _l("Opened on")), exports.Column("visit_on", _l("Visit on")),
        exports.Column("closed_on", _l("Closed on")),
        exports.Column("outcome", _l("Outcome"), label=lambda s: OUTCOME_TITLES.get(s, s)),
        exports.Column("consequence", _l("Consequence"), label=lambda s: CONSEQUENCE_TITLES.get(s, s)),
        exports.Column("disclose_by", _l("Disclose by")), exports.Column("disclosed_on", _l("Disclosed on")),
    ]
    return exports.response(fmt, queries.checks_select(**f).order_by(*order), columns, name=f"spot-checks-{tab}",
                            sheet=_("Spot checks"))


@bp.route("/plans/export.<any(csv, xlsx):fmt>")
@login_required
def plans_export(fmt: str):
    require(current_user, Action.view_office_queues)
    P = SamplingPlan
    columns = [
        exports.Column("id", _l("Sampling plan")), exports.Column("title", _l("Title")),
        exports.Column("status", _l("Status"), label=lambda s: PLAN_STATUS_TITLES.get(s, s)),
        exports.Column("size", _l("Sample size")), exports.Column("design", _l("Design")),
        exports.Column("plan_date", _l("Plan date")), exports.Column("approved_at", _l("Approved at")),
        exports.Column("drawn_at", _l("Drawn at")),
    ]
    stmt = sa.select(P.id, P.title, P.status, P.size, P.design, P.plan_date, P.approved_at, P.drawn_at)
    return exports.response(fmt, stmt.order_by(P.id.desc()), columns, name="sampling-plans",
                            sheet=_("Sampling plans"))


@bp.route("/plans/<int:plan_id>/units.<any(csv, xlsx):fmt>")
@login_required
def plan_units_export(plan_id: int, fmt: str):
    """A plan's frame: every unit with its risk, inclusion probability and whether it was drawn."""
    require(current_user, Action.view_office_queues)
    p = queries.get_plan(plan_id)
    stmt = (sa.select(PlanUnit.assessment_id, Assessment.certificate_no, Organisation.name.label("body_name"),
                      Assessment.grade, PlanUnit.risk, PlanUnit.inclusion_probability, PlanUnit.mandatory,
                      PlanUnit.selected, PlanUnit.reasons)
            .join(Assessment, Assessment.id == PlanUnit.assessment_id)
            .join(Organisation, Organisation.id == Assessment.body_id)
            .where(PlanUnit.plan_id == p.id).order_by(PlanUnit.assessment_id))
    columns = [
        exports.Column("certificate_no", _l("Certificate")), exports.Column("body_name", _l("Assessment body")),
        exports.Column("grade", _l("Grade")), exports.Column("risk", _l("Risk")),
        exports.Column("inclusion_probability", _l("Inclusion probability")),
        exports.Column("mandatory", _l("Mandatory")), exports.Column("selected", _l("Drawn")),
        exports.Column("reasons", _l("Reasons")),
    ]
    return exports.response(fmt, stmt, columns, name=f"plan-{p.id}-units", sheet=_("Units"))
