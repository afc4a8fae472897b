"""Pages anyone may see without signing in: start page, certificate lookup, directory of bodies."""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from auditbo.codes import PROVINCES
from auditbo.extensions import limiter
from auditbo.inputs import int_arg
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
