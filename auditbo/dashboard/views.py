"""The signed-in home page, by role: the office's figures (charts with their tables, each cell a
drill-down into the list it counts) or a body's own figures against the market median."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.exceptions import NotFound

from auditbo import clock, exports
from auditbo.accounts.forms import EmptyForm
from auditbo.authz import Action, can, require
from auditbo.dashboard import comparison, figures, reports, services
from auditbo.errors import ValidationFailed
from auditbo.orgs.models import OrgKind

bp = Blueprint("dashboard", __name__, template_folder="templates")


def _figures() -> list[figures.Figure]:
    if can(current_user, Action.view_office_queues):
        return figures.office_figures(current_user)
    org = current_user.org
    if org is not None and org.kind is OrgKind.assessment_body and can(current_user, Action.view_org, org):
        return figures.body_figures(current_user)  # its own figures and the market's median, no other body
    return []


def _figures_html() -> Markup:
    """The figures' block: for the office the same for everyone, so kept rendered (DASHBOARD_CACHE_SECONDS)."""

    def render() -> Markup:
        figs = _figures()
        return Markup(render_template("dashboard/_figures.html", figures=figs)) if figs else Markup("")

    if can(current_user, Action.view_office_queues):
        return figures.remembered(("office_html",), render)
    return render()


@bp.route("/dashboard")
@login_required
def index():
    if can(current_user, Action.view_office_queues):  # every body: the same counts for every office user
        statuses, grades = figures.remembered(
            ("counts",), lambda: services.status_and_grade_counts(current_user)
        )
    elif current_user.org_id is not None:  # a body's or a consulting body's own counts, kept per body
        key = ("counts", current_user.role.value, current_user.org_id)
        statuses, grades = figures.remembered(key, lambda: services.status_and_grade_counts(current_user))
    else:
        statuses, grades = services.status_and_grade_counts(current_user)
    return render_template(
        "dashboard/index.html",
        statuses=statuses,
        grades=grades,
        office=services.office_counts(current_user),
        figures_html=_figures_html(),
    )


@bp.route("/dashboard/figures/<key>.csv")
@login_required
def figure_csv(key: str):
    """One figure's table as CSV (what its chart draws), for the caller's scope."""
    fig = next((f for f in _figures() if f.key == key), None)
    if fig is None:
        raise NotFound(_("No such figure."))
    return exports.download(
        "csv",
        exports.csv_chunks([[exports.safe_cell(v) for v in row] for row in fig.csv_rows()]),
        name=f"figure-{key}",
    )


# --- the body comparison (item 3) --------------------------------------------------------------
def _comparison_args():
    require(current_user, Action.view_office_queues)
    period = comparison.period_from_args(request.args)
    sort = request.args.get("sort", "name")
    return period, sort if sort.lstrip("-") in comparison.SORTS else "name"


@bp.route("/dashboard/bodies")
@login_required
def bodies():
    period, sort = _comparison_args()
    rows = comparison.rows(period, sort)
    return render_template(
        "dashboard/bodies.html",
        rows=rows,
        period=period,
        sort=sort,
        columns=comparison.COLUMNS,
        links={r["id"]: comparison.links(r, period) for r in rows},
    )


@bp.route("/dashboard/bodies/export.<any(csv, xlsx):fmt>")
@login_required
def bodies_export(fmt: str):
    period, sort = _comparison_args()
    return exports.response(
        fmt,
        comparison.rows(period, sort),
        comparison.export_columns(),
        name=f"body-comparison-{period.args()['from']}-{period.args()['to']}",
        sheet=_("Body comparison"),
    )


# --- the monthly supervision report (item 5) ---------------------------------------------------
@bp.route("/dashboard/reports", methods=["GET", "POST"])
@login_required
def reports_index():
    require(current_user, Action.view_office_queues)
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, "CSRF token missing or invalid")
        period = (request.form.get("period") or "").strip()
        try:
            reports.generate(period)
        except ValidationFailed as exc:
            flash("; ".join(e.message for e in exc.errors), "danger")
            return redirect(url_for("dashboard.reports_index"))
        flash(_("The report for %(period)s was generated.", period=period), "success")
        return redirect(url_for("dashboard.reports_index"))
    last_month = reports.previous_month(clock.today())
    return render_template(
        "dashboard/reports.html", reports=reports.stored(), form=form, default_period=last_month
    )


@bp.route("/dashboard/reports/<period>.<any(html, xlsx):fmt>")
@login_required
def report_file(period: str, fmt: str):
    """A stored report: the printable page, or the workbook as a download."""
    require(current_user, Action.view_office_queues)
    path = reports.path_of(period, fmt)
    if path is None:
        raise NotFound(_("No report is stored for this month."))
    resp = Response(path.read_bytes(), mimetype="text/html" if fmt == "html" else exports.MIMETYPES["xlsx"])
    if fmt == "xlsx":  # a report is small (figures and one row per body): read whole
        resp.headers["Content-Disposition"] = f"attachment; filename=monthly-report-{period}.xlsx"
    resp.headers["Cache-Control"] = "no-store"
    return resp
