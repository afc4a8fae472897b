"""Two schedulers at 02:00 on the 1st: the month is computed once. PostgreSQL, on committed data in a
database of its own: two threads with their own app contexts and connections, and two scheduler
processes (the real CLI) released at the same instant."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from auditbo.events import Event
from auditbo.extensions import db
from auditbo.jobs import JOBS, run_job
from auditbo.locks import JobLock
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


ROOT = Path(__file__).resolve().parent.parent


def _scheduler_process(url: str, upload_dir: str) -> subprocess.Popen:
    """A scheduler process of its own (``flask jobs run``: the job runner the scheduler calls) on ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITBO_")}
    env.update({"AUDITBO_DATABASE_URL": url, "AUDITBO_UPLOAD_DIR": upload_dir, "PYTHONWARNINGS": "ignore",
                "AUDITBO_SECRET_KEY": secrets.token_hex(32)})
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run", "monthly_ratings",
                             "--date", "2026-04-01"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("lease", ["none yet", "expired last month"])
def test_two_scheduler_processes_compute_the_month_once(pg_app, tmp_path, lease):
    """Both processes are held at the lease table (the test locks it) until both wait there, then
    released together: one computes the month, the other is told it runs elsewhere or already ran."""
    with pg_app.app_context():
        rs.history(rs.make_market(2), MONTHS, per_month=2)
        if lease == "expired last month":
            db.session.add(JobLock(name="monthly_ratings", holder="old-host:1",
                                   expires_at=rs.at(date(2026, 3, 1), 3), last_run_key="2026-03-01"))
        db.session.commit()
        url = db.engine.url.render_as_string(hide_password=False)
        db.session.remove()
    gate = sa.create_engine(url)
    procs = []
    try:
        with gate.connect() as conn:
            conn.execute(sa.text("LOCK TABLE job_locks IN EXCLUSIVE MODE"))  # reads pass, the lease waits
            procs = [_scheduler_process(url, str(tmp_path / "uploads")) for _ in range(2)]
            deadline = time.monotonic() + 120  # a bound on waiting, not an assertion about speed
            waiting = 0
            while waiting < 2:
                for p in procs:
                    if p.poll() is not None:
                        pytest.fail(f"a scheduler ended before the lease: {p.communicate()}")
                assert time.monotonic() < deadline, "the schedulers never reached the lease"
                time.sleep(0.05)
                waiting = _waiting(gate)
            conn.rollback()  # both go at once
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()  # reaped, its pipes closed
        gate.dispose()
    assert [p.returncode for p in procs] == [0, 0], outs
    said = sorted(out.strip().split(": ", 1)[1][:8] for out, _err in outs)
    assert said == ["skipped ", "{'period"], outs
    with pg_app.app_context():
        runs = db.session.scalars(sa.select(RatingRun)).all()
        computed = db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
            Event.record_type == "rating_run", Event.action.in_(["computed", "recomputed"])))
        lock = db.session.get(JobLock, "monthly_ratings")
        db.session.remove()
    assert [(r.period, r.error) for r in runs] == [("2026-03", None)] and computed == 1
    assert lock.last_run_key == "2026-04-01" and lock.holder != "old-host:1"


def _waiting(engine) -> int:
    with engine.connect() as c:
        return c.execute(sa.text("SELECT count(*) FROM pg_locks WHERE relation = 'job_locks'::regclass "
                                 "AND NOT granted")).scalar_one()
