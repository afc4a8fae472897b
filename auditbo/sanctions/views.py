"""Sanctions in the web UI: the 失信名单 and certificate sanctions, imposing one, the second pair of
eyes on a revocation, lifting a suspension; the certificates whose surveillance falls due soon.

Thin: permissions through ``authz.require``, the domain in ``services``; the request commits once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from auditbo import transaction
from auditbo.accounts.views import form_errors
from auditbo.authz import Action, can, require
from auditbo.clock import today as _today
from auditbo.errors import DomainError, ValidationFailed
from auditbo.events import Actor, timeline
from auditbo.extensions import db
from auditbo.filings import lifecycle
from auditbo.filings.models import Assessment
from auditbo.inputs import int_arg
from auditbo.orgs.models import Organisation, Person
from auditbo.sanctions import queries, services
from auditbo.sanctions.forms import SUBJECT_TITLES, DecideForm, SanctionForm
from auditbo.sanctions.models import KIND_TITLES, SANCTION_STATUS_TITLES

bp = Blueprint("sanctions", __name__, url_prefix="/sanctions", template_folder="templates")
TAB_TITLES = {
    "registry": _l("List of sanctioned bodies and persons"),
    "certificates": _l("Certificates"),
    "proposed": _l("Awaiting confirmation"),
    "all": _l("All"),
}


@bp.app_context_processor
def _helpers() -> dict:
    return {
        "sanction_kind_title": lambda k: KIND_TITLES.get(k, k),
        "sanction_status_title": lambda s: SANCTION_STATUS_TITLES.get(s, s),
        "sanction_subject_title": lambda s: SUBJECT_TITLES.get(s, s),
    }


@bp.route("/")
@login_required
def index():
    require(current_user, Action.view_sanctions)
    tab = request.args.get("tab") if request.args.get("tab") in queries.TABS else "registry"
    current_only = request.args.get("current") == "1"
    page = int_arg("page", 1, maximum=1_000_000)
    items, total = queries.page(tab, current_only, page)
    return render_template(
        "sanctions/index.html",
        items=items,
        total=total,
        tab=tab,
        current_only=current_only,
        page=page,
        per_page=queries.PER_PAGE,
        tabs=list(TAB_TITLES.items()),
    )


def _subject(kind: str, ref: str):
    ref = (ref or "").strip()
    if kind == "certificate":
        return db.session.scalar(sa.select(Assessment).where(Assessment.certificate_no == ref))
    if kind == "organisation":
        return db.session.scalar(sa.select(Organisation).where(Organisation.credit_code == ref.upper()))
    return db.session.scalar(sa.select(Person).where(Person.person_id == ref))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not (can(current_user, Action.sanction_certificate) or can(current_user, Action.propose_revocation)):
        require(current_user, Action.sanction_certificate)
    form = SanctionForm(subject=request.args.get("subject"), ref=request.args.get("ref"))
    if not form.is_submitted():
        return render_template("sanctions/new.html", form=form)
    if not form.validate():
        return render_template("sanctions/new.html", form=form), 422
    kind, subject = form.kind.data, form.subject.data
    require(
        current_user,
        Action.propose_revocation
        if kind == "revocation"
        else Action.sanction_certificate
        if subject == "certificate"
        else Action.sanction_registry,
    )
    target = _subject(subject, form.ref.data)
    if target is None:
        form.ref.errors = list(form.ref.errors) + [_("Nothing is registered under this number.")]
        return render_template("sanctions/new.html", form=form), 422
    actor = Actor.of(current_user)
    try:
        if subject == "certificate" and kind == "reinstatement":
            services.reinstate_certificate(target, form.reason.data, actor=actor)
            flash(_("The certificate stands again."), "success")
            return redirect(url_for("sanctions.index", tab="certificates"))
        if subject == "certificate":
            s = services.sanction_certificate(
                target,
                kind,
                form.reason.data,
                form.legal_basis.data,
                actor=actor,
                grade=form.grade.data or None,
                ends_on=form.ends_on.data,
            )
        else:
            s = services.sanction_party(
                target, kind, form.reason.data, form.legal_basis.data, actor=actor, ends_on=form.ends_on.data
            )
    except ValidationFailed as exc:
        transaction.discard()
        form_errors(form, exc)
        return render_template("sanctions/new.html", form=form), 422
    except DomainError as exc:
        transaction.discard()
        flash(exc.detail, "danger")
        return render_template("sanctions/new.html", form=form), exc.status
    flash(_("Recorded: %(what)s.", what=KIND_TITLES[s.kind.value]), "success")
    return redirect(url_for("sanctions.detail", sanction_id=s.id))


@bp.route("/<int:sanction_id>", methods=["GET", "POST"])
@login_required
def detail(sanction_id: int):
    require(current_user, Action.view_sanctions)
    s = services.get(sanction_id)
    form = DecideForm(version=str(s.version))
    if form.is_submitted():
        try:
            version = int(form.version.data or "")
        except ValueError:
            version = None
        actor = Actor.of(current_user)
        try:
            if form.confirm.data:
                require(current_user, Action.confirm_revocation, s)
                services.confirm(s, actor=actor, version=version)
            elif form.decline.data:
                require(current_user, Action.confirm_revocation, s)
                services.decline(s, form.reason.data, actor=actor, version=version)
            elif form.lift.data:
                require(
                    current_user, Action.sanction_certificate if s.assessment_id else Action.sanction_registry
                )
                services.end(s, form.reason.data, actor=actor, version=version)
        except DomainError as exc:
            transaction.discard()
            flash(
                exc.detail
                if not isinstance(exc, ValidationFailed)
                else "; ".join(f"{e.field}: {e.message}" for e in exc.errors),
                "danger",
            )
            return redirect(url_for("sanctions.detail", sanction_id=sanction_id))
        return redirect(url_for("sanctions.detail", sanction_id=sanction_id))
    item = queries.to_dicts([s])[0]
    return render_template(
        "sanctions/detail.html",
        s=item,
        obj=s,
        form=form,
        history=timeline("sanction", s.id),
        may_confirm=s.status.value == "proposed" and can(current_user, Action.confirm_revocation, s),
        may_lift=s.status.value == "in_force"
        and s.kind.value in ("suspension", "warning")
        and can(current_user, Action.sanction_certificate if s.assessment_id else Action.sanction_registry),
    )


@bp.route("/surveillance")
@login_required
def surveillance():
    require(current_user, Action.view_sanctions)
    days = int_arg("days", 60, minimum=1, maximum=366)
    return render_template(
        "sanctions/surveillance.html", rows=lifecycle.surveillance_due(_today(), days), days=days
    )
