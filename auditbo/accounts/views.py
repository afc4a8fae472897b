from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from auditbo.accounts.forms import LoginForm
from auditbo.accounts.services import authenticate
from auditbo.extensions import db, limiter

bp = Blueprint("accounts", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user, reason = authenticate(form.username.data, form.password.data, ip=request.remote_addr or "")
        db.session.commit()
        if user is not None:
            login_user(user, remember=False)
            return redirect(_safe_next(request.args.get("next")))
        if reason == "locked":
            flash(_("This account is locked for a while after repeated failed sign-ins."), "danger")
        else:
            flash(_("Wrong username or password."), "danger")
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))
