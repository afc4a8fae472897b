"""Registry pages (office): bodies, staff, imports, enterprises (read-only); a body's own profile.

Thin: every permission question goes through ``authz.require``; the domain is in
``services`` (changes) and ``queries`` (lists); each request commits once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from auditbo import authz, exports, upload_store
from auditbo.authz import Action, can
from auditbo.codes import PROVINCES
from auditbo.errors import DomainError, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.inputs import int_arg
from auditbo.labels import value_title
from auditbo.orgs import imports, queries, services
from auditbo.orgs.forms import (
    PERSON_KIND_TITLES,
    QUALIFICATION_TITLES,
    ImportForm,
    OrgForm,
    PersonForm,
    StatusForm,
    choices,
)
from auditbo.orgs.models import Enterprise, Organisation, OrgKind, Person, RegistryStatus
from auditbo.transaction import discard
from auditbo.uploads import ImportRefused

bp = Blueprint("orgs", __name__, url_prefix="/registry", template_folder="templates")

ACTION_TITLES = {"created": _l("Registered"), "updated": _l("Changed"), "status_changed": _l("Status changed")}
FIELD_TITLES = {
    "credit_code": _l("Credit code"), "name": _l("Name"), "kind": _l("Kind"), "region_code": _l("Region code"),
    "scope": _l("Scope"), "contact": _l("Contact"), "status": _l("Status"), "status_reason": _l("Reason"),
    "status_changed_on": _l("Since"), "person_id": _l("Person id"), "org_id": _l("Employer"),
    "qualification": _l("Qualification"), "valid_until": _l("Valid until"), "id_number": _l("Identity number"),
}
OFFICE_ONLY_FIELDS = {"contact", "id_number"}


@bp.app_context_processor
def _registry_helpers() -> dict:
    return {
        "registry_status_title": lambda s: RegistryStatus(s).title,
        "org_kind_title": lambda k: OrgKind(k).title,
        "qualification_title": lambda q: QUALIFICATION_TITLES.get(getattr(q, "value", q), q),
        "person_kind_title": lambda k: PERSON_KIND_TITLES.get(getattr(k, "value", k), k),
        "province_name": _province_name,
    }


def _province_name(region_code: str) -> str:
    from flask import g

    names = PROVINCES.get((region_code or "")[:2])
    if not names:
        return region_code
    return names[0] if g.get("lang", "zh_Hans_CN").startswith("zh") else names[1]


def _history_rows(evs, *, office: bool) -> list[dict]:
    """Events as table rows; a body's own users see neither office-only fields nor who in the office acted."""
    rows = []
    for ev in evs:
        before, after = ev.before or {}, ev.after or {}
        changes = []
        for key in after:
            if key in OFFICE_ONLY_FIELDS and not office:
                continue
            if ev.action == "created" and after[key] in (None, ""):
                continue
            was = before.get(key)
            changes.append((FIELD_TITLES.get(key, key), None if was is None else value_title(key, was),
                            None if after[key] is None else value_title(key, after[key])))
        actor = ev.actor if office or ev.actor == "system" else _("Supervision office")
        rows.append({"at": ev.occurred_at, "actor": actor, "action": ACTION_TITLES.get(ev.action, ev.action),
                     "reason": ev.reason, "changes": changes})
    return list(reversed(rows))


def _paginated_rows(stmt):
    """One page of a select (50 rows) and the total: two queries, whatever the page holds."""
    page = int_arg("page", 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(queries.PER_PAGE).offset((page - 1) * queries.PER_PAGE)).all()
    return rows, total, page


def _actor() -> Actor:
    return Actor.of(current_user)


def _get(model, ident: int):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _status_form(obj) -> StatusForm | None:
    if not can(current_user, Action.manage_registry):
        return None
    form = StatusForm(prefix="st")
    form.status.choices = choices((s.value, s.title) for s in services.allowed_statuses(obj))
    return form if form.status.choices else None


def _flash_errors(exc: DomainError) -> None:
    for err in getattr(exc, "errors", []) or [None]:
        flash(f"{err.field}: {err.message}" if err else exc.detail, "danger")


def _save(change, done: str, *, refused: type[DomainError] = ValidationFailed):
    """Run ``change()`` (the request commits it) with the flash ``done``; when it is ``refused``, discard
    it and flash every error. Returns what ``change()`` returned, or None when it was refused."""
    try:
        result = change()
    except refused as exc:
        discard()
        _flash_errors(exc)
        return None
    flash(done, "success")
    return result


# --------------------------------------------------------------------------- bodies
@bp.route("/")
@login_required
def index():
    if not can(current_user, Action.view_registry) and getattr(current_user, "org_id", None):
        return redirect(url_for("orgs.org_detail", org_id=current_user.org_id))
    authz.require(current_user, Action.view_registry)
    f = queries.Filters.from_args(request.args)
    rows, total, page = _paginated_rows(queries.orgs_select(f))
    return render_template("orgs/index.html", rows=rows, total=total, page=page, per_page=queries.PER_PAGE,
                           f=f, provinces=sorted(PROVINCES.items()))


@bp.route("/orgs/<int:org_id>")
@login_required
def org_detail(org_id: int):
    org = db.session.get(Organisation, org_id)
    authz.require(current_user, Action.view_org, org, hide=True)
    if org is None:
        abort(404)
    office = can(current_user, Action.view_registry)
    decisions = [dict(_history_rows([ev], office=office)[0], person_id=pid, person_name=name)
                 for ev, pid, name in services.staff_decisions(org)]
    return render_template(
        "orgs/org_detail.html", org=org, office=office, staff=queries.staff_of(org),
        history=_history_rows(services.history(org), office=office), decisions=decisions,
        standing=queries.standing_by_grade(org), status_form=_status_form(org),
    )


@bp.route("/orgs/new", methods=["GET", "POST"])
@login_required
def org_new():
    authz.require(current_user, Action.manage_registry)
    form = OrgForm()
    if form.validate_on_submit():
        existing = services.org_by_code(form.credit_code.data.strip().upper())
        if existing is not None:
            flash(_("A body with this credit code is already registered."), "danger")
            return redirect(url_for("orgs.org_detail", org_id=existing.id))
        result = _save(lambda: services.upsert_org(form.data, actor=_actor()), _("Registered."))
        if result is not None:
            return redirect(url_for("orgs.org_detail", org_id=result.obj.id))
    return render_template("orgs/form.html", form=form, title=_("Register a body"))


@bp.route("/orgs/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def org_edit(org_id: int):
    authz.require(current_user, Action.manage_registry)
    org = _get(Organisation, org_id)
    form = OrgForm(obj=org)
    del form.credit_code
    del form.kind
    if form.validate_on_submit():
        data = dict(form.data, credit_code=org.credit_code, kind=org.kind.value)
        if _save(lambda: services.upsert_org(data, actor=_actor(), clear=("scope", "contact")),
                 _("Saved.")) is not None:
            return redirect(url_for("orgs.org_detail", org_id=org.id))
    return render_template("orgs/form.html", form=form, title=org.name)


def _change_status(obj, back: str):
    authz.require(current_user, Action.manage_registry)
    form = _status_form(obj)
    if form is not None and form.validate_on_submit():
        _save(lambda: services.change_status(obj, form.status.data, form.reason.data, actor=_actor()),
              _("Status changed."), refused=DomainError)
    elif form is not None:
        flash(_("Choose a status and give a reason."), "danger")
    return redirect(back)


@bp.route("/orgs/<int:org_id>/status", methods=["POST"])
@login_required
def org_status(org_id: int):
    authz.require(current_user, Action.manage_registry)  # before the lookup: 403 whether it exists or not
    org = _get(Organisation, org_id)
    return _change_status(org, url_for("orgs.org_detail", org_id=org.id))


# --------------------------------------------------------------------------- staff
@bp.route("/persons/")
@login_required
def persons():
    authz.require(current_user, Action.view_registry)
    f = queries.Filters.from_args(request.args)
    rows, total, page = _paginated_rows(queries.persons_select(f))
    return render_template("orgs/persons.html", rows=rows, total=total, page=page, per_page=queries.PER_PAGE, f=f,
                           qualifications=list(QUALIFICATION_TITLES.items()),
                           kinds=list(PERSON_KIND_TITLES.items()))


@bp.route("/persons/<int:pk>")
@login_required
def person_detail(pk: int):
    person = db.session.get(Person, pk)
    authz.require(current_user, Action.view_org, person.org if person else None, hide=True)
    if person is None:
        abort(404)
    office = can(current_user, Action.view_registry)
    return render_template("orgs/person_detail.html", person=person, office=office,
                           since=services.status_since(person),
                           history=_history_rows(services.history(person), office=office),
                           status_form=_status_form(person))


@bp.route("/persons/new", methods=["GET", "POST"])
@login_required
def person_new():
    authz.require(current_user, Action.manage_registry)
    form = PersonForm()
    if request.method == "GET" and int_arg("org"):
        org = db.session.get(Organisation, int_arg("org"))
        if org is not None:
            form.org_credit_code.data = org.credit_code
            form.kind.data = "assessor" if org.kind is OrgKind.assessment_body else "consultant"
    if form.validate_on_submit():
        if services.person_by_ref(form.person_id.data.strip()) is not None:
            flash(_("A person with this id is already registered."), "danger")
        else:
            result = _save(lambda: services.upsert_person(form.data, actor=_actor()), _("Registered."))
            if result is not None:
                return redirect(url_for("orgs.person_detail", pk=result.obj.id))
    return render_template("orgs/form.html", form=form, title=_("Register a person"))


@bp.route("/persons/<int:pk>/edit", methods=["GET", "POST"])
@login_required
def person_edit(pk: int):
    authz.require(current_user, Action.manage_registry)
    person = _get(Person, pk)
    form = PersonForm(obj=person, org_credit_code=person.org.credit_code)
    del form.person_id
    del form.kind
    if request.method == "GET":
        form.id_number.data = ""
    if form.validate_on_submit():
        data = dict(form.data, person_id=person.person_id, kind=person.kind.value)
        if _save(lambda: services.upsert_person(data, actor=_actor()), _("Saved.")) is not None:
            return redirect(url_for("orgs.person_detail", pk=person.id))
    return render_template("orgs/form.html", form=form, title=f"{person.person_id} {person.name}")


@bp.route("/persons/<int:pk>/status", methods=["POST"])
@login_required
def person_status(pk: int):
    authz.require(current_user, Action.manage_registry)  # before the lookup: 403 whether it exists or not
    person = _get(Person, pk)
    return _change_status(person, url_for("orgs.person_detail", pk=person.id))


# --------------------------------------------------------------------------- imports
@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file():
    authz.require(current_user, Action.manage_registry)
    form = ImportForm()
    report = problems = report_url = None
    if form.validate_on_submit():
        upload = form.file.data
        with upload_store.ReportWriter() as written:  # every row error on disk; the page shows the first ones
            try:
                report = imports.run_import(form.which.data, upload.filename or "", upload.read(), actor=_actor(),
                                            errors=imports.row_errors(sink=written.write))
            except ValidationFailed as exc:
                discard()
                problems = exc
                if isinstance(exc, ImportRefused):
                    report_url = url_for("orgs.import_report", report_id=written.keep(user=current_user))
        if problems is None:
            flash(_("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
                    created=report.created, updated=report.updated, unchanged=report.unchanged), "success")
    status = 422 if problems is not None else 200
    return render_template("orgs/import.html", form=form, report=report, problems=problems, report_url=report_url,
                           error_count=getattr(problems, "error_count", len(getattr(problems, "errors", []))),
                           max_rows=imports.MAX_ROWS), status


@bp.route("/import/reports/<report_id>.csv")
@login_required
def import_report(report_id: str):
    """A refused import's full error report, for the user who uploaded it only."""
    authz.require(current_user, Action.manage_registry)
    return upload_store.report_response(report_id, user=current_user)


@bp.route("/import/template-<which>.<fmt>")
@login_required
def import_template(which: str, fmt: str):
    authz.require(current_user, Action.manage_registry)
    if which not in imports.KINDS or fmt not in ("csv", "xlsx"):
        abort(404)
    lang = request.args.get("headers", "en")
    if fmt == "csv":
        body, mime = imports.template_csv(which, lang), "text/csv; charset=utf-8"
    else:
        body = imports.template_xlsx(which, lang)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime,
                    headers={"Content-Disposition": f"attachment; filename={which}-template.{fmt}"})


# --------------------------------------------------------------------------- enterprises (read-only)
@bp.route("/enterprises/")
@login_required
def enterprises():
    authz.require(current_user, Action.view_registry)
    f = queries.Filters.from_args(request.args)
    rows, total, page = _paginated_rows(queries.enterprises_select(f))
    return render_template("orgs/enterprises.html", rows=rows, total=total, page=page,
                           per_page=queries.PER_PAGE, f=f, provinces=sorted(PROVINCES.items()))


@bp.route("/enterprises/<int:pk>")
@login_required
def enterprise_detail(pk: int):
    authz.require(current_user, Action.view_registry)
    enterprise = _get(Enterprise, pk)
    return render_template("orgs/enterprise_detail.html", e=enterprise,
                           history=queries.enterprise_history(enterprise))


# --------------------------------------------------------------------------- exports
ORG_EXPORT = [
    exports.Column("name", _l("Name"), get=lambda r: r[0].name),
    exports.Column("credit_code", _l("Credit code"), get=lambda r: r[0].credit_code),
    exports.Column("kind", _l("Kind"), get=lambda r: r[0].kind, label=lambda k: OrgKind(k).title),
    exports.Column("region_code", _l("Province"), get=lambda r: r[0].region_code, label=exports.province_name),
    exports.Column("staff", _l("Staff"), get=lambda r: r.staff),
    exports.Column("status", _l("Status"), get=lambda r: r[0].status, label=lambda s: RegistryStatus(s).title),
    exports.Column("status_changed_on", _l("Since"), get=lambda r: r[0].status_changed_on),
]
PERSON_EXPORT = [
    exports.Column("person_id", _l("Person id")),
    exports.Column("name", _l("Name")),
    exports.Column("kind", _l("Kind"), label=lambda k: PERSON_KIND_TITLES.get(k, k)),
    exports.Column("org", _l("Employer"), get=lambda p: p.org.name),
    exports.Column("qualification", _l("Qualification"), label=lambda q: QUALIFICATION_TITLES.get(q, q)),
    exports.Column("valid_until", _l("Valid until")),
    exports.Column("status", _l("Status"), label=lambda s: RegistryStatus(s).title),
]


@bp.route("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    """The bodies' list under its filters, streamed as CSV or XLSX (office)."""
    authz.require(current_user, Action.view_registry)
    f = queries.Filters.from_args(request.args)
    return exports.response(fmt, queries.orgs_select(f), ORG_EXPORT, name="registry-bodies", sheet=_("Registry"))


@bp.route("/persons/export.<any(csv, xlsx):fmt>")
@login_required
def persons_export(fmt: str):
    """The staff list under its filters, streamed as CSV or XLSX (office)."""
    authz.require(current_user, Action.view_registry)
    f = queries.Filters.from_args(request.args)
    rows = (p for (p,) in exports.rows_of(queries.persons_select(f)))
    return exports.response(fmt, rows, PERSON_EXPORT, name="registry-persons", sheet=_("Staff"))
