"""The signed-in home page, by role: the office's figures (charts with their tables, each cell a
drill-down into the list it counts) or a body's own figures against the market median."""

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from auditbo import exports
from auditbo.authz import Action, can
from auditbo.dashboard import figures, services
from auditbo.orgs.models import OrgKind

bp = Blueprint("dashboard", __name__, template_folder="templates")


def _figures() -> list[figures.Figure]:
    if can(current_user, Action.view_office_queues):
        return figures.office_figures(current_user)
    org = current_user.org
    if org is not None and org.kind is OrgKind.assessment_body and can(current_user, Action.view_org, org):
        return figures.body_figures(current_user)  # its own figures and the market's median, no other body
    return []


@bp.route("/dashboard")
@login_required
def index():
    return render_template(
        "dashboard/index.html",
        statuses=services.assessment_counts(current_user),
        grades=services.grade_counts(current_user),
        office=services.office_counts(current_user),
        figures=_figures(),
    )


@bp.route("/dashboard/figures/<key>.csv")
@login_required
def figure_csv(key: str):
    """One figure's table as CSV (what its chart draws), for the caller's scope."""
    fig = next((f for f in _figures() if f.key == key), None)
    if fig is None:
        raise NotFound(_("No such figure."))
    return exports.download("csv", exports.csv_chunks(
        [[exports.safe_cell(v) for v in row] for row in fig.csv_rows()]), name=f"figure-{key}")
