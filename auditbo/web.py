"""Shared web plumbing: error pages (HTML or problem+json), template globals, navigation."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from flask import Flask, current_app, g, jsonify, render_template, request, session, url_for
from flask_babel import get_translations, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from auditbo import labels
from auditbo.authz import Action, can
from auditbo.errors import DomainError, Forbidden, HiddenNotFound, flatten_messages
from auditbo.filings.models import FLAG_TITLES, AssessmentStatus, AssessmentType, Grade
from auditbo.messages import localise, translated
from auditbo.orgs.models import EnterpriseSize

LANGUAGE_NAMES = {"zh_Hans_CN": "中文", "en": "English"}

def _may(action: Action):
    return lambda user: can(user, action)


# (endpoint, title, who sees it: a predicate on the user, asked through the policy)
NAVIGATION = [
    ("dashboard.index", _l("Dashboard"), lambda user: True),
    ("filings.index", _l("Assessments"), lambda user: True),  # the list is scoped to what the user may see
    ("confirmations.index", _l("Confirmation audits"), _may(Action.view_office_queues)),
    ("spotchecks.index", _l("Spot checks"), _may(Action.view_office_queues)),
    ("complaints.index", _l("Complaints"), _may(Action.register_complaint)),
    ("sanctions.index", _l("Sanctions"), _may(Action.view_sanctions)),
    ("complaints.about_us", _l("Complaints about us"),
     lambda user: user.org is not None and not can(user, Action.handle_complaint)
     and can(user, Action.view_complaint_outcome, user.org)),
    ("ratings.index", _l("Ratings"), _may(Action.view_office_queues)),
    ("ratings.mine", _l("Our ratings"), lambda user: user.org_id is not None),
    ("orgs.index", _l("Registry"), _may(Action.view_registry)),
    ("orgs.index", _l("My body"), lambda user: user.org is not None and can(user, Action.view_org, user.org)),
    ("accounts.users", _l("Users"), _may(Action.manage_users)),
]


# endpoint (or its blueprint) -> Bootstrap icon name (vendored in static/vendor/bootstrap-icons)
NAV_ICONS = {
    "dashboard": "speedometer2", "filings": "file-earmark-text", "confirmations": "patch-check",
    "spotchecks": "binoculars", "complaints": "chat-left-dots", "sanctions": "exclamation-octagon",
    "ratings": "bar-chart-line", "orgs": "building", "accounts.users": "people", "accounts.account": "person-circle",
}

# endpoint -> count_select(user, today): a SELECT of one count (or None: no badge for this user) for a small
# badge beside the navigation link (features register their own). A page reads all its badges in one
# statement, at most once per request, and a process keeps a user's counts NAV_BADGE_SECONDS (0: never).
NAV_BADGES: dict = {}
_BADGES_LOCK = threading.Lock()
_BADGES_KEPT_MAX = 10_000  # users; a process seldom sees that many within the kept seconds


def nav_icon(endpoint: str) -> str:
    return NAV_ICONS.get(endpoint) or NAV_ICONS.get(endpoint.split(".")[0], "circle")


def nav_active(endpoint: str) -> bool:
    """The link of the section the page belongs to: its own endpoint, else the same blueprint."""
    here = request.endpoint or ""
    if here == endpoint:
        return True
    if here in {e for e, _t, _v in NAVIGATION}:
        return False  # another navigation link is this very page
    return here.split(".")[0] == endpoint.split(".")[0] and endpoint.split(".")[0] != "accounts"


def section() -> tuple[str, str] | None:
    """(endpoint, title) of the current page's section, when the page is not the section's own list."""
    for endpoint, title in _nav_items():
        if nav_active(endpoint) and request.endpoint != endpoint:
            return endpoint, title
    return None


def nav_badge(endpoint: str) -> int | None:
    """The badge count of a navigation link, or None (no badge, or the session cannot be read)."""
    return nav_badges().get(endpoint) or None


def nav_badges() -> dict[str, int]:
    """The current user's badge counts of the navigation links they see (endpoint -> count), once per request."""
    if "nav_badges" not in g:
        g.nav_badges = _read_badges()
    return g.nav_badges


def _read_badges() -> dict[str, int]:
    from auditbo import clock
    from auditbo.extensions import db

    if not current_user.is_authenticated or not db.session.is_active:
        return {}
    user, today = current_user, clock.today()
    wanted = [e for e, _t in _nav_items() if e in NAV_BADGES]
    ttl = float(current_app.config.get("NAV_BADGE_SECONDS") or 0)
    # never across users: the key holds the user (and what their counts depend on)
    key = (user.id, user.role, user.org_id, today, tuple(wanted))
    kept = _kept_badges()
    now = time.monotonic()
    if ttl > 0:
        with _BADGES_LOCK:
            hit = kept.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
    selects = {e: s for e in wanted if (s := NAV_BADGES[e](user, today)) is not None}
    counts = {}
    if selects:
        row = db.session.execute(sa.select(*(s.scalar_subquery().label(f"nav_badge_{i}")
                                             for i, s in enumerate(selects.values())))).one()
        counts = {e: int(n or 0) for e, n in zip(selects, row, strict=True)}
    if ttl > 0:
        with _BADGES_LOCK:
            if len(kept) >= _BADGES_KEPT_MAX:
                for k in [k for k, (at, _c) in kept.items() if now - at >= ttl]:
                    del kept[k]
                if len(kept) >= _BADGES_KEPT_MAX:
                    kept.clear()
            kept[key] = (now, counts)
    return counts


def _kept_badges() -> dict[tuple, tuple[float, dict]]:
    return current_app.extensions.setdefault("auditbo_nav_badges", {})  # per app (tests run several)


def forget_badges_on_write() -> None:
    """before_request: a signed-in user's writing request (a form sent) drops their kept counts, so the page
    they land on counts afresh; others' changes show within NAV_BADGE_SECONDS. Reads the cookie's user id
    (no statement); the API keeps no counts."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.path.startswith("/api/"):
        return
    uid = str(session.get("_user_id") or "").split(":", 1)[0]
    kept = current_app.extensions.get("auditbo_nav_badges")
    if kept and uid.isdigit():
        with _BADGES_LOCK:
            for k in [k for k in kept if k[0] == int(uid)]:
                del kept[k]


def _nav_items():
    if not current_user.is_authenticated:
        return []
    if "nav_items" not in g:  # once per request (each render_template asks)
        g.nav_items = [(endpoint, title) for endpoint, title, visible in NAVIGATION
                       if endpoint in current_app.view_functions and visible(current_user)]
    return g.nav_items


def lang_url(lang: str) -> str:
    args = dict(request.view_args or {})
    args.update(request.args.to_dict())
    args["lang"] = lang
    try:
        return url_for(request.endpoint, **args) if request.endpoint else f"?lang={lang}"
    except Exception:  # noqa: BLE001 - a page without a routable endpoint (404): stay put
        return f"?lang={lang}"


def inject_globals() -> dict:
    return {
        "nav_items": _nav_items(),
        "nav_badge": nav_badge, "nav_icon": nav_icon, "nav_active": nav_active, "section": section,
        "localise": localise,
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]],
        "lang_url": lang_url,
        "can": can,
        "Action": Action,
        "status_title": _remembered("status", lambda s: AssessmentStatus(s).title),
        "grade_title": _remembered("grade", lambda g: Grade(g).title),
        "type_title": _remembered("type", lambda t: AssessmentType(t).title),
        "size_title": _remembered("size", lambda z: EnterpriseSize(z).title),
        "flag_title": _remembered("flag", lambda f: FLAG_TITLES.get(f, f)),
        **labels.template_globals(),
    }


# --- translations for pages, remembered per language ------------------------------------------
# A list page asks for a few hundred translations (a label per row and cell); Flask-Babel finds
# the catalogue through the request context on each call (~15 us). The catalogues do not change
# while the process runs, so a page's translations are remembered by (language, text): the set
# is bounded by the msgids in the code and templates and by the enums' values.
_TRANSLATED: dict[tuple, str] = {}


def _remembered(kind: str, translate):
    def lookup(value):
        key = (g.get("lang"), kind, value)
        try:
            return _TRANSLATED[key]
        except KeyError:
            text = _TRANSLATED[key] = str(translate(value))
            return text

    return lookup


def install_template_gettext(app: Flask) -> None:
    """The templates' ``_()`` and ``ngettext()``, remembered per language (after Babel's init_app)."""
    remembered = _remembered("msgid", gettext)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: remembered(s) if g.get("lang") else gettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n), newstyle=True)


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, title: str, detail: str = "", **extra):
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail or title}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("You may not see this page"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("The upload is too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid content"),
    429: _l("Too many requests"),
    500: _l("Something went wrong on our side"),
    503: _l("The service is busy; try again in a moment"),
}


def _render_error(status: int, detail: str = ""):
    if wants_problem_json():
        return problem(status, str(ERROR_TITLES.get(status, "Error")), detail)
    # the services' English detail in Chinese where we have its wording; a refusal (401/403/404) without one
    # shows its title alone (it says it all), anything else keeps the detail, which tells what to do
    shown = (translated(detail) or ("" if status in (401, 403, 404) else detail)) if detail else ""
    return render_template("errors/error.html", status=status, title=ERROR_TITLES.get(status, ""),
                           detail=shown), status


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        messages = (getattr(exc, "data", None) or {}).get("messages")
        if messages and wants_problem_json():  # webargs/marshmallow validation (flask-smorest)
            return problem(exc.code or 422, str(ERROR_TITLES.get(exc.code, "Invalid content")),
                           "the request does not match the schema", errors=flatten_messages(messages))
        if exc.code == 403:
            _log_denial(exc.code, exc.description or "")
        resp = _render_error(exc.code or 500, exc.description if exc.code not in (404, 500) else "")
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            resp = app.make_response(resp)
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        from auditbo.extensions import db

        db.session.rollback()  # a refused request changes nothing
        if isinstance(exc, (Forbidden, HiddenNotFound)) or exc.status == 401:
            _log_denial(exc.status, exc.detail)
        if wants_problem_json():
            extra = {}
            if hasattr(exc, "errors"):
                extra["errors"] = [{"field": e.field, "message": e.message} for e in exc.errors]
            if hasattr(exc, "problem_extra"):
                extra.update(exc.problem_extra())  # e.g. an import's error_count and error_report
            return problem(exc.status, exc.title, exc.detail, **extra)
        return _render_error(exc.status, exc.detail)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        from auditbo.extensions import db
        from auditbo.transaction import refusal_for

        db.session.rollback()
        refusal = refusal_for(exc)  # a concurrent request's unique value, SQLite busy: not a fault of ours
        if refusal is not None:
            return _domain(refusal)
        app.logger.exception("unhandled error")
        return _render_error(500)


def _log_denial(status: int, detail: str) -> None:
    """An anonymous denial goes to the application log (rate-limited); a signed-in user's to the event
    log (throttled), in its own transaction (the request's is discarded)."""
    from auditbo.accounts import denials
    from auditbo.extensions import db

    user = current_user if not request.path.startswith("/api/") else g.get("api_user")
    if denials.is_anonymous(user):
        denials.log_anonymous(request.path, request.method, status, request.remote_addr or "")
        return
    db.session.rollback()
    if denials.record_for_user(user, request.path, request.method, status, detail):
        db.session.commit()
