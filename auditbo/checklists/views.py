"""The audit criteria's page: every grade's checklist in force and its versions; an administrator
publishes a new version (one item per line). Thin: the policy in ``authz``, the change in ``services``."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auditbo.authz import Action, can, require
from auditbo.checklists import services
from auditbo.clock import today as _today
from auditbo.errors import ValidationFailed
from auditbo.events import Actor
from auditbo.filings.models import AssessmentType, Grade
from auditbo.spotchecks.forms import CsrfForm

bp = Blueprint("checklists", __name__, url_prefix="/checklists", template_folder="templates")


def _page(status: int = 200, *, data=None, errors=None):
    today = _today()
    in_force = {g.value: services.describe(services.in_force(g.value, None, today)) for g in Grade}
    return render_template(
        "checklists/index.html",
        form=CsrfForm(),
        in_force=in_force,
        versions=services.versions(),
        grades=[g.value for g in Grade],
        types=[(t.value, t.title) for t in AssessmentType],
        may_publish=can(current_user, Action.manage_checklists),
        data=data or {},
        errors=errors or {},
        today=today.isoformat(),
    ), status


@bp.route("/", methods=["GET"])
@login_required
def index():
    require(current_user, Action.view_office_queues)
    return _page()


@bp.route("/", methods=["POST"])
@login_required
def publish():
    require(current_user, Action.manage_checklists)  # before the form is read
    if not CsrfForm().validate_on_submit():
        return _page(400, errors={"_form": [_("The form expired; send it again.")]})
    f = request.form
    try:
        cl = services.publish(
            f.get("grade", ""),
            f.get("assessment_type") or None,
            f.get("items", ""),
            f.get("effective_from") or None,
            Actor.of(current_user),
        )
    except ValidationFailed as exc:
        errors: dict[str, list[str]] = {}
        for e in exc.errors:
            errors.setdefault(e.field, []).append(e.message)
        return _page(422, data=f, errors=errors)
    flash(
        _(
            "Checklist version %(v)d for grade %(g)s published, in force from %(d)s.",
            v=cl.version,
            g=cl.grade,
            d=cl.effective_from.isoformat(),
        ),
        "success",
    )
    return redirect(url_for("checklists.index"), 303)
