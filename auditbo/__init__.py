"""auditbo: the back office of the IIMS assessment supervision office."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g, request, session
from flask_babel import lazy_gettext as _l

from auditbo.config import load_config
from auditbo.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate, talisman

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")

CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(config, instance_path=app.instance_path))
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    return app


def select_locale() -> str:
    langs = current_languages()
    wanted = request.args.get("lang") or session.get("lang")
    if wanted in langs:
        return wanted
    return langs[0]


def current_languages() -> list[str]:
    from flask import current_app

    return current_app.config["LANGUAGES"]


def _sqlite_pragmas(engine: sa.Engine) -> None:
    """SQLite: foreign keys on, and real transactions (so SAVEPOINTs isolate)."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        from auditbo.transaction import begin_sql

        conn.exec_driver_sql(begin_sql())  # BEGIN IMMEDIATE in a writing request


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_pragmas(db.engine)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "strong"
    from auditbo import inputs

    # first the body limits and the int converter: before the blueprints and any hook that reads
    # a body (CSRF reads the form)
    inputs.init_app(app)
    limiter.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    from auditbo.web import install_template_gettext

    install_template_gettext(app)
    bootstrap.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="same-origin",
    )
    from auditbo import transaction

    transaction.init_app(app)  # after Talisman: its headers go on the answer to a failed commit too
    from auditbo.accounts.services import load_user_from_session

    login_manager.user_loader(load_user_from_session)
    # import every model so that metadata (and Alembic) sees the whole domain
    import auditbo.models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from auditbo.accounts.views import bp as accounts_bp
    from auditbo.checklists.views import bp as checklists_bp
    from auditbo.complaints.views import bp as complaints_bp
    from auditbo.confirmations.views import bp as confirmations_bp
    from auditbo.dashboard.views import bp as dashboard_bp
    from auditbo.filings.views import bp as filings_bp
    from auditbo.orgs.views import bp as orgs_bp
    from auditbo.public.views import bp as public_bp
    from auditbo.ratings.views import bp as ratings_bp
    from auditbo.spotchecks.views import bp as spotchecks_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(confirmations_bp)
    app.register_blueprint(complaints_bp)
    from auditbo.sanctions.views import bp as sanctions_bp

    app.register_blueprint(sanctions_bp)
    app.register_blueprint(filings_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(spotchecks_bp)
    app.register_blueprint(checklists_bp)
    app.register_blueprint(ratings_bp)

    from auditbo.api import register_api

    register_api(app)


def register_errorhandlers(app: Flask) -> None:
    from auditbo.web import register_error_pages

    register_error_pages(app)


def register_commands(app: Flask) -> None:
    from auditbo.cli import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from auditbo.clock import format_local
    from auditbo.web import forget_badges_on_write, inject_globals

    app.context_processor(inject_globals)
    app.before_request(forget_badges_on_write)  # a user's own change shows at once in their badges
    # every time on a page: office time with the zone named ("2026-11-30 02:54 (UTC+8)"); a day: "2026-11-30"
    app.add_template_filter(format_local, "localtime")
    app.add_template_filter(lambda value: format_local(value, date_only=True), "localdate")

    @app.before_request
    def _refuse_nul():
        """PostgreSQL text cannot hold NUL: refuse it in the path, the query and form fields (400) and in
        JSON bodies (422 naming each field), before any view sees it."""
        from werkzeug.exceptions import BadRequest

        from auditbo.errors import FieldError, ValidationFailed, nul_paths

        if request.is_json:
            bad = nul_paths(request.get_json(silent=True))
            if bad:
                raise ValidationFailed([FieldError(p or "_body", "must not contain NUL characters") for p in bad])

        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
            raise BadRequest("NUL characters are not accepted")
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and any(
                "\x00" in v for v in request.form.values()):
            raise BadRequest("NUL characters are not accepted")

    @app.before_request
    def _remember_lang():
        lang = request.args.get("lang")
        if lang in app.config["LANGUAGES"]:
            session["lang"] = lang
        g.lang = select_locale()
