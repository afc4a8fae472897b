"""Two schedulers at 02:00 on the 1st: the month is computed once. PostgreSQL, two threads with their
own app contexts and connections, on committed data in a database of its own."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from auditbo.events import Event
from auditbo.extensions import db
from auditbo.jobs import JOBS, run_job
from auditbo.ratings.models import RatingRun
from tests import pg
from tests import rating_support as rs
from tests.conftest import TEST_DB_URL

pytestmark = pytest.mark.postgres_only
MONTHS = [date(2025, m, 1) for m in range(9, 13)] + [date(2026, m, 1) for m in range(1, 4)]


@pytest.fixture
def pg_app(app):
    if not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (AUDITBO_TEST_DATABASE_URL)")
    from flask_migrate import upgrade

    url = make_url(TEST_DB_URL)
    url = url.set(database=f"{url.database}_sched").render_as_string(hide_password=False)
    pg.recreate_database(url)
    engines = db._app_engines[app]
    saved = engines[None]
    engine = sa.create_engine(url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    engines[None] = engine
    try:
        with app.app_context():
            upgrade()
            db.session.remove()
        yield app
    finally:
        db.session.remove()
        engines[None] = saved
        engine.dispose()
        admin = sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def test_two_schedulers_compute_the_month_once(pg_app):
    with pg_app.app_context():
        rs.history(rs.make_market(2), MONTHS, per_month=2)
        db.session.commit()
        db.session.remove()
    job = next(j for j in JOBS if j.name == "monthly_ratings")
    start = threading.Barrier(2)
    results, errors = [], []

    def scheduler():
        try:
            start.wait(timeout=30)
            results.append(run_job(pg_app, job, date(2026, 4, 1)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with pg_app.app_context():
        runs = db.session.scalars(sa.select(RatingRun)).all()
        computed = db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
            Event.record_type == "rating_run", Event.action.in_(["computed", "recomputed"])))
        db.session.remove()
    assert [r.period for r in runs] == ["2026-03"] and computed == 1
    assert sum(1 for r in results if r and r.get("computed")) == 1
