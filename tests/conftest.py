"""One conftest: the app and its database, built once per session from the migrations.

Each test that uses ``app``/``client``/``session`` runs inside a transaction that is
rolled back afterwards. Flask-SQLAlchemy 3 ignores ``Session(bind=conn)``, so the
engine in ``db.engines`` is swapped for a connection with an open transaction; the
session joins it with ``join_transaction_mode="create_savepoint"`` (see extensions.py),
so a service's or a request's commit only releases a savepoint.

The database is SQLite (a temp file) unless ``AUDITBO_TEST_DATABASE_URL`` names a
PostgreSQL database, which the suite drops and re-creates at the start.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient

# The process runs in UTC and the office in Asia/Shanghai (the default TIMEZONE): a date taken
# from the host instead of auditbo.clock is then a day off between 16:00 and 24:00 UTC.
os.environ["TZ"] = "UTC"
time.tzset()
os.environ.pop("AUDITBO_TIMEZONE", None)

from auditbo import create_app, events  # noqa: E402 - after the process zone is set
from auditbo.extensions import db, limiter  # noqa: E402
from tests import pg  # noqa: E402

TEST_DB_URL = os.environ.get("AUDITBO_TEST_DATABASE_URL")
DB_FIXTURES = {"app", "client", "session", "db_url"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def pytest_report_header(config):
    return f"auditbo test database: {'PostgreSQL ' + TEST_DB_URL if TEST_DB_URL else 'SQLite (temp file)'}"


@pytest.fixture(scope="session")
def db_url(tmp_path_factory) -> str:
    if TEST_DB_URL:
        pg.recreate_database(TEST_DB_URL)
        return TEST_DB_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


def make_app(url: str, **extra):
    config = {
        "ENV_NAME": "testing",
        "DATABASE_URL": url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
    }
    config.update(extra)
    return create_app(config)


@pytest.fixture(scope="session")
def app(db_url, tmp_path_factory):
    from flask_migrate import upgrade

    application = make_app(db_url, UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")))  # previews, reports
    with application.app_context():
        upgrade()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _transaction(request):
    """Wrap every database test in a transaction that is rolled back."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        limiter.reset()  # rate limits are real in tests, but start afresh in each
        engines = db._app_engines[application]
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        try:
            yield
        finally:
            db.session.remove()
            if outer.is_active:
                outer.rollback()
            connection.close()
            engines[None] = engine


@pytest.fixture
def session(app):
    return db.session


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (fresh ``g``, own session), as in production.

    The test body holds an app context of its own; without this, Flask would reuse it
    for every request and cache the logged-in user and the locale across requests.
    """

    def open(self, *args, **kwargs):
        if has_app_context() and db.session.registry.has():
            # the test body's events are chained at its session's commit, which never comes: chain
            # them now, so that they come before the request's, as its other writes do
            events.chain_pending(db.session())
        with self.application.app_context():
            resp = super().open(*args, **kwargs)
            resp.was_streamed = resp.is_streamed
            if resp.is_streamed:
                # a streamed answer (an export) is read here, inside its own context, and closed,
                # as a WSGI server would: a test that only looks at the status leaves no generator
                # to be finished later in another test's context
                resp.make_sequence()
                resp.close()
            return resp


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def login(client):
    """login(user, password=factories.PASSWORD): sign in through the real form."""
    from tests.factories import PASSWORD

    def _login(user, password: str = PASSWORD):
        resp = client.post("/login", data={"username": user.username, "password": password})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return resp

    return _login


@contextmanager
def count_queries():
    """The SQL statements run inside the block (transaction control left out): for N+1 tests."""
    seen = []

    def _count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", _count)


def count_rows(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- browser tests: a real server on loopback, driven by Debian's Chromium -------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app on a free loopback port, with its own committed SQLite database (one per test
    module, so that one journey's published runs, sign-in waits or records never meet another's).

    It does not share the per-test transaction (another thread serves the pages), so
    browser tests create what they need through ``live_server.setup(fn)``.
    """
    import threading

    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.sqlite'}"
    application = make_app(url, WTF_CSRF_ENABLED=True, SERVER_NAME=None,
                           UPLOAD_DIR=str(tmp_path_factory.mktemp("live-uploads")))
    with application.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Live:
        app = application
        base = f"http://127.0.0.1:{server.server_port}"

        def setup(self, fn):
            with application.app_context():
                result = fn()
                db.session.commit()
                return result

    yield Live()
    server.shutdown()
    thread.join(timeout=5)
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    import pathlib

    from playwright.sync_api import sync_playwright

    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context; fails the test on any CSP violation or external request."""
    context = browser.new_context(base_url=live_server.base)
    pg_ = context.new_page()
    problems: list[str] = []
    pg_.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    pg_.on("request", lambda req: problems.append(f"external request {req.url}")
           if not req.url.startswith(live_server.base) and not req.url.startswith("data:") else None)
    yield pg_
    context.close()
    assert problems == []
