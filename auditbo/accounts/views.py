from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from auditbo.accounts import services
from auditbo.accounts.forms import (
    ChangePasswordForm,
    EditUserForm,
    EmptyForm,
    LoginForm,
    NewTokenForm,
    NewUserForm,
    ResetPasswordForm,
)
from auditbo.accounts.models import ApiToken, User
from auditbo.authz import Action, require
from auditbo.clock import format_local
from auditbo.errors import NotFound, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db, limiter
from auditbo.transaction import discard

bp = Blueprint("accounts", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith(("//", "/\\"))
                and target.isprintable()):  # no CR/LF (a header cannot hold them) nor other control characters
            return target
    return url_for("dashboard.index")


def form_errors(form, exc: ValidationFailed) -> None:
    """Show a service's field errors on the form fields (all of them), others as a flash."""
    for err in exc.errors:
        field = getattr(form, err.field, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [err.message]
        else:
            flash(f"{err.field}: {err.message}", "danger")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        ip = request.remote_addr or ""
        result = services.authenticate(form.username.data, form.password.data, ip=ip)
        if result.user is not None:
            services.start_session(result.user, ip=ip)
            login_user(result.user, remember=False)
            if result.missed:
                flash(_("%(count)d failed sign-in attempts since your last sign-in; the last at %(time)s "
                        "from %(ip)s. If that was not you, change your password.", count=result.missed,
                        time=format_local(result.last_missed_at), ip=result.last_missed_ip or "—"), "warning")
            return redirect(_safe_next(request.args.get("next")))
        # one answer for an unknown name, a wrong password, a throttled address and an inactive account
        flash(_("Wrong username or password."), "danger")
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.end_session(current_user)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    services.sign_out_everywhere(current_user)
    logout_user()
    flash(_("You have signed out on every device."), "info")
    return redirect(url_for("accounts.login"))


# --- my account: password and API tokens ---------------------------------------------
@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    pw_form = ChangePasswordForm(prefix="pw")
    token_form = NewTokenForm(prefix="tok")
    new_secret = None
    if pw_form.submit.data and pw_form.validate_on_submit():
        try:
            services.change_own_password(current_user, pw_form.current_password.data, pw_form.new_password.data)
            flash(_("Your password has been changed. Other sessions have been signed out."), "success")
            return redirect(url_for("accounts.account"))
        except ValidationFailed as exc:
            discard()
            form_errors(pw_form, exc)
    elif token_form.submit.data and token_form.validate_on_submit():
        require(current_user, Action.manage_own_tokens)
        token, new_secret = services.create_token(current_user, token_form.name.data)
        token_form = NewTokenForm(prefix="tok", formdata=None)
    return render_template("accounts/account.html", pw_form=pw_form, token_form=token_form, new_secret=new_secret,
                           tokens=services.tokens_of(current_user), revoke_form=EmptyForm(),
                           sessions=services.session_count(current_user))


@bp.route("/account/tokens/<int(min=1, max=2147483647):token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    form = EmptyForm()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id or not form.validate_on_submit():
        raise NotFound("no such token")
    services.revoke_token(token, actor=Actor.of(current_user))
    flash(_("The token has been revoked."), "info")
    return redirect(url_for("accounts.account"))


# --- user administration (admin) -----------------------------------------------------
@bp.route("/users")
@login_required
def users():
    require(current_user, Action.manage_users)
    rows = db.session.scalars(sa.select(User).order_by(User.role, User.username)).all()
    return render_template("accounts/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    require(current_user, Action.manage_users)
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                username=form.username.data, password=form.password.data, role=form.role.data,
                org_credit_code=(form.org.data or "").strip() or None, display_name=form.display_name.data or "",
                actor=Actor.of(current_user),
            )
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("accounts.users"))
        except ValidationFailed as exc:
            discard()
            form_errors(form, exc)
    return render_template("accounts/user_form.html", form=form, user=None)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


@bp.route("/users/<int(min=1, max=2147483647):user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    require(current_user, Action.manage_users)
    user = _user_or_404(user_id)
    form = EditUserForm(obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.role.data = user.role.value
        form.org.data = user.org.credit_code if user.org else ""
    reset_form = ResetPasswordForm(prefix="reset")
    if form.submit.data and form.validate_on_submit():
        try:
            services.update_user(user, role=form.role.data, org_credit_code=(form.org.data or "").strip() or None,
                                 active=form.active.data, display_name=form.display_name.data or "",
                                 actor=Actor.of(current_user))
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.users"))
        except ValidationFailed as exc:
            discard()
            form_errors(form, exc)
    return render_template("accounts/user_form.html", form=form, user=user, reset_form=reset_form)


@bp.route("/users/<int(min=1, max=2147483647):user_id>/password", methods=["POST"])
@login_required
def reset_user_password(user_id: int):
    require(current_user, Action.manage_users)
    user = _user_or_404(user_id)
    form = ResetPasswordForm(prefix="reset")
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.new_password.data, actor=Actor.of(current_user))
            flash(_("The password of %(name)s has been reset; their sessions have ended.", name=user.username),
                  "success")
        except ValidationFailed as exc:
            discard()
            for err in exc.errors:
                flash(err.message, "danger")
    return redirect(url_for("accounts.edit_user", user_id=user.id))
