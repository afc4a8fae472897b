"""Issue 17's speed figures on the bench history (PostgreSQL), each beside a same-run bare baseline.

Run (one JSON line per figure on standard output, benchlib.emit; progress on standard error)::

    cd <repository root> && .venv/bin/python bench/analytics_bench.py            # 1M history, ~2 minutes
    cd <repository root> && .venv/bin/python bench/analytics_bench.py --quick    # 10k history

What it measures (nothing is asserted):

* ``figure_<key>_ms``: each office figure computed in-process with the cache off (cold SQL), the
  best of two; baseline ``SELECT count(*)`` over the filings of the same twelve months;
* ``dashboard_cold_max_ms``: the slowest of the first six requests (each worker computes and keeps the
  figures once per DASHBOARD_CACHE_SECONDS);
* ``dashboard_p95_ms`` (and p50, rps): ``GET /dashboard`` as a supervisor, 2 connections for
  ``--seconds`` against gunicorn (2 sync workers, production settings), after those; baseline: ``GET /bare/assessments/<id>`` of bench/bare_app.py under the
  same load (a one-row Core lookup: the floor of a request on this machine);
* ``dashboard_clerk_p95_ms``: the same for the clerk of the largest body (its figures against the
  market median), after its first requests;
* ``export_first_byte_s`` and ``export_rows_per_s``: ``GET /assessments/export.csv`` filtered to
  about 100,000 rows (decided in a window of the history), read as it streams; baseline: the same
  rows read with a psycopg server-side cursor and written with ``csv.writer`` in this process.

The bench database is upgraded to the app's head first (migration 0010 adds two indexes).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import sys
import time
from datetime import date
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import benchlib  # noqa: E402
from b2_bench import login  # noqa: E402
from benchlib import app_env, db_url, emit, libpq, log, run_load, start_gunicorn  # noqa: E402

OFFICE, CLERK = "supervisor01", "clerk001"
TARGET_ROWS = 100_000


def upgrade(dbname: str) -> None:
    from flask_migrate import upgrade as alembic_upgrade

    app = benchlib.make_app(dbname)
    with app.app_context():
        alembic_upgrade()
        from auditbo.extensions import db

        db.engine.dispose()


def figures_in_process(dbname: str) -> None:
    import sqlalchemy as sa

    from auditbo import clock
    from auditbo.accounts.models import User
    from auditbo.dashboard import figures
    from auditbo.extensions import db

    app = benchlib.make_app(dbname)
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    with app.test_request_context("/"):
        user = db.session.scalar(sa.select(User).where(User.username == OFFICE))
        today = clock.today()
        first, last = figures.last_year(today)
        t = time.perf_counter()
        db.session.scalar(
            sa.text("SELECT count(*) FROM assessments WHERE filed_at >= :a"), {"a": clock.start_of(first)}
        )
        bare = (time.perf_counter() - t) * 1000
        total = 0.0
        for key, fn in [
            ("filings_by_month", lambda: figures.filings_by_month(user, today)),
            ("confirmation_outcomes", lambda: figures.confirmation_outcomes(today)),
            ("overdue_work", lambda: figures.overdue_work(today)),
            ("spotcheck_findings", figures.spotcheck_findings),
            ("market_estimate", figures.market_estimate),
            ("rating_distribution", figures.rating_distribution),
            ("provinces_and_industries", lambda: figures.regional(user)),
        ]:
            best = None
            for _ in range(2):
                t = time.perf_counter()
                fn()
                ms = (time.perf_counter() - t) * 1000
                best = ms if best is None else min(best, ms)
            total += best
            emit(f"figure_{key}_ms", best, bare, unit="ms")
        emit("figures_cold_total_ms", total, bare, unit="ms")
        db.session.rollback()
    with app.app_context():
        db.engine.dispose()


def export_window(dbname: str) -> tuple[str, str, int]:
    """Decision dates [a, b] holding about TARGET_ROWS assessments."""
    import psycopg

    with psycopg.connect(libpq(dbname)) as conn:
        days = conn.execute(
            "SELECT decision_date, count(*) FROM assessments GROUP BY 1 ORDER BY 1 DESC"
        ).fetchall()
    n, start = 0, days[0][0]
    for day, k in days:
        n += k
        start = day
        if n >= TARGET_ROWS:
            break
    return start.isoformat(), days[0][0].isoformat(), n


def bare_export(dbname: str, a: str, b: str) -> tuple[float, float, int]:
    import psycopg

    sql = (
        "SELECT a.certificate_no, a.external_ref, e.name, e.credit_code, o.name, a.grade, a.assessment_type, "
        "a.decision_date, a.status, a.region_code, a.industry_code, a.person_days "
        "FROM assessments a JOIN enterprises e ON e.id = a.enterprise_id JOIN organisations o ON o.id = a.body_id "
        "WHERE a.decision_date >= %s AND a.decision_date <= %s ORDER BY a.decision_date DESC, a.id DESC"
    )
    t0 = time.perf_counter()
    first = None
    rows = 0
    buf = io.StringIO()
    w = csv.writer(buf)
    with psycopg.connect(libpq(dbname)) as conn, conn.cursor(name="bare_export") as cur:
        cur.itersize = 1000
        cur.execute(sql, (date.fromisoformat(a), date.fromisoformat(b)))
        for r in cur:
            w.writerow(r)
            rows += 1
            if first is None:
                first = time.perf_counter() - t0
            if buf.tell() > 65536:
                buf.seek(0)
                buf.truncate()
    return first or 0.0, time.perf_counter() - t0, rows


def http_export(port: int, cookie: str, a: str, b: str) -> tuple[float, float, int]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    t0 = time.perf_counter()
    c.request("GET", f"/assessments/export.csv?decided_from={a}&decided_to={b}", headers={"Cookie": cookie})
    r = c.getresponse()
    first = None
    lines = 0
    while True:
        chunk = r.read1(65536)
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - t0
        lines += chunk.count(b"\n")
    c.close()
    return first or 0.0, time.perf_counter() - t0, lines - 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args(argv)
    dbname = benchlib.ensure_history(args.quick)
    log(f"upgrading {dbname} to the app's head")
    upgrade(dbname)
    log("figures in process (cache off)")
    figures_in_process(dbname)

    env = app_env(dbname)
    project = start_gunicorn("wsgi:app", env, "project", probe="/login")
    bare_env = dict(env, BENCH_DATABASE_URL=db_url(dbname), PYTHONPATH=str(Path(__file__).resolve().parent))
    bare = start_gunicorn("bare_app:app", bare_env, "bare", probe="/health")
    try:
        cookie = login(project.port, OFFICE)
        import psycopg

        with psycopg.connect(libpq(dbname)) as conn:
            some_id = conn.execute("SELECT min(id) FROM assessments").fetchone()[0]
        log("dashboard: the first requests of each worker (the figures computed, then kept)")
        cold = run_load(
            project.port,
            lambda _t, _n: ("GET", "/dashboard", None, {"Cookie": cookie}),
            connections=2,
            seconds=60,
            max_requests=6,
            warmup=0,
            label="cold",
        )
        emit("dashboard_cold_max_ms", max(cold.latencies) * 1000 if cold.latencies else None, unit="ms")
        log("dashboard under 2 connections (steady state)")
        dash = run_load(
            project.port,
            lambda _t, _n: ("GET", "/dashboard", None, {"Cookie": cookie}),
            connections=2,
            seconds=args.seconds,
            label="dashboard",
        )
        floor = run_load(
            bare.port,
            lambda _t, _n: ("GET", f"/bare/assessments/{some_id}", None, {}),
            connections=2,
            seconds=args.seconds,
            label="bare",
        )
        emit("dashboard_p95_ms", dash.pct(95), floor.pct(95), unit="ms")
        emit("dashboard_p50_ms", dash.pct(50), floor.pct(50), unit="ms")
        emit("dashboard_rps", dash.rps, floor.rps, unit="req/s")
        emit("dashboard_errors", dash.errors, None)
        clerk = login(project.port, CLERK)
        log(f"a body's dashboard ({CLERK}, the largest body) under 2 connections, after its first requests")
        run_load(
            project.port,
            lambda _t, _n: ("GET", "/dashboard", None, {"Cookie": clerk}),
            connections=2,
            seconds=60,
            max_requests=4,
            warmup=0,
            label="clerk cold",
        )
        body = run_load(
            project.port,
            lambda _t, _n: ("GET", "/dashboard", None, {"Cookie": clerk}),
            connections=2,
            seconds=args.seconds,
            label="clerk",
        )
        emit("dashboard_clerk_p95_ms", body.pct(95), floor.pct(95), unit="ms")
        a, b, expected = export_window(dbname)
        log(f"export of {expected} rows decided {a}..{b}")
        bf, bt, brows = bare_export(dbname, a, b)
        pf, pt, prows = http_export(project.port, cookie, a, b)
        emit("export_rows", prows, brows, unit="rows")
        emit("export_first_byte_s", pf, bf, unit="s")
        emit("export_rows_per_s", prows / pt, brows / bt, unit="rows/s")
    finally:
        project.stop()
        bare.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
