from flask import Blueprint, render_template
from flask_login import current_user, login_required

from auditbo.dashboard import services

bp = Blueprint("dashboard", __name__, template_folder="templates")


@bp.route("/dashboard")
@login_required
def index():
    return render_template(
        "dashboard/index.html",
        statuses=services.assessment_counts(current_user),
        grades=services.grade_counts(current_user),
        office=services.office_counts(current_user),
    )
