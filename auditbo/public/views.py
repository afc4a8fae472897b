"""Pages anyone may see without signing in: start page, certificate lookup, directory of bodies."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from auditbo.codes import PROVINCES
from auditbo.extensions import limiter
from auditbo.inputs import body_limit, int_arg
from auditbo.public import services

bp = Blueprint("public", __name__, template_folder="templates")


@bp.context_processor
def _public_helpers() -> dict:
    from flask import g

    from auditbo.orgs.models import OrgKind, RegistryStatus

    def province(code: str) -> str:
        names = PROVINCES.get((code or "")[:2])
        if not names:
            return code
        return names[0] if g.get("lang", "zh_Hans_CN").startswith("zh") else names[1]

    return {
        "public_status_title": lambda s: RegistryStatus(s).title,
        "public_kind_title": lambda k: OrgKind(k).title,
        "public_province": province,
    }


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return render_template("public/home.html")


@bp.route("/healthz")
def healthz():
    from auditbo.extensions import db

    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}


@bp.route("/certificates")
@limiter.limit("60 per minute")
def certificate_lookup():
    """Verify a certificate by its number: enterprise name, grade, status, valid until — nothing more."""
    number = (request.args.get("no") or "").strip()[:64]
    found = services.certificate(number) if number else None
    status = 404 if number and found is None else 200
    return render_template("public/certificate.html", number=number, cert=found), status


@bp.route("/directory")
def directory():
    f = services.DirectoryFilter.from_args(request.args)
    page = int_arg("page", 1)
    bodies, total = services.directory(f, page)
    return render_template("public/directory.html", bodies=bodies, total=total, page=page,
                           per_page=services.PER_PAGE, f=f, provinces=sorted(PROVINCES))


@bp.route("/directory/<credit_code>")
def body_profile(credit_code: str):
    body = services.profile(credit_code)
    if body is None:
        abort(404)
    return render_template("public/profile.html", body=body)


# --- public complaints (社会化监督): no account, throttled per address, a tracking code as receipt ---
@bp.route("/complain", methods=["GET", "POST"])
@body_limit(lambda cfg: cfg["COMPLAINT_MAX_FILES"] * cfg["COMPLAINT_MAX_FILE_BYTES"] + 256 * 1024)
@limiter.limit(lambda: current_app.config["PUBLIC_COMPLAINT_RATE_LIMIT"], methods=["POST"])
def complain():
    from auditbo.complaints import evidence
    from auditbo.complaints import services as complaints
    from auditbo.complaints.forms import PublicComplaintForm
    from auditbo.errors import DomainError, ValidationFailed

    form = PublicComplaintForm()
    if not form.is_submitted():
        return render_template("public/complain.html", form=form)
    if not form.validate():
        return render_template("public/complain.html", form=form), 422
    data = {k: getattr(form, k).data for k in ("name", "contact", "certificate_no", "body", "text")}
    try:
        files = evidence.read_files(request.files.getlist(form.files.name))
        c = complaints.submit_public(data, files)
    except ValidationFailed as exc:
        for err in exc.errors:
            field = getattr(form, err.field, None)
            if field is not None:
                field.errors = list(field.errors) + [err.message]
        return render_template("public/complain.html", form=form), 422
    except DomainError as exc:  # a refused file: nothing is stored
        form.files.errors = list(form.files.errors) + [exc.detail]
        return render_template("public/complain.html", form=form), exc.status
    return render_template("public/complaint_receipt.html", code=c.tracking_code, received_on=c.received_on), 201


@bp.route("/complain/track")
@limiter.limit("60 per minute")
def complaint_status():
    """What a tracking code shows: the complaint's status and dates, nothing else."""
    from auditbo.complaints import services as complaints

    code = (request.args.get("code") or "").strip()[:24]
    c = complaints.by_tracking_code(code) if code else None
    status = 404 if code and c is None else 200
    found = {"status": c.status.value, "received_on": c.received_on, "closed_on": c.closed_on} if c else None
    return render_template("public/complaint_status.html", code=code, found=found), status
