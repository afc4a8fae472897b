from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

bp = Blueprint("public", __name__, template_folder="templates")


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
