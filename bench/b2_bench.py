"""B2 (spec/performance.md): the logged-in record list page and record page on the 1M history.

Run (one JSON line per figure on standard output; progress on standard error)::

    cd <repository root> && .venv/bin/python bench/b2_bench.py            # 1M history, 10 s per figure at 16 connections
    cd <repository root> && .venv/bin/python bench/b2_bench.py --quick    # 10k history (auditbo_bench_quick), 1 s per figure (~40 s)

Nothing to install (gunicorn and the client, ``http.client`` + threads, come with the virtualenv).

* The project's ``wsgi:app`` in production settings (CSRF on) under gunicorn, 2 sync workers, and
  ``bench/bare_app.py`` (``GET /bare/assessments/<id>``: one Core primary-key lookup) under the same
  settings on another port; loopback only, bounded in time.
* Logged in like a person: ``GET /login``, the form's CSRF token, ``POST /login`` with it, the session
  cookie; as the office (``supervisor03``, sees everything) and as the clerk of the largest body
  (``clerk001``, ~10 % of the records, scoped by body).
* Pages: the list ``/assessments?status=standing&grade=AA&sort=-decision_date`` (50 rows, two filters,
  sorted; ~275,000 matching records for the office) and the record ``/assessments/<id>`` (random ids:
  all of them for the office, the body's own for the clerk).
* Each page: 16 connections for 10 s (throughput, p50/p95/p99, errors) and 2 connections for 5 s (one
  request per worker: the latency without queueing in gunicorn's backlog). The bare lookup is measured
  at the start and at the end of the run (the ratio uses its mean) so machine drift cancels.
* Extra figures: the JSON equivalents ``GET /api/v1/assessments?status=standing&grade=AA`` and
  ``GET /api/v1/assessments/<id>`` (Bearer tokens of the same users), and the HTML size of each page.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import benchlib  # noqa: E402
from benchlib import PASSWORD, app_env, db_url, emit, libpq, log, run_load, start_gunicorn  # noqa: E402

LIST = "/assessments?status=standing&grade=AA&sort=-decision_date"
API_LIST = "/api/v1/assessments?status=standing&grade=AA"
OFFICE, CLERK = "supervisor03", "clerk001"


def login(port: int, username: str) -> str:
    """Sign in through /login with the form's CSRF token; returns the Cookie header to send."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/login")
    r = c.getresponse()
    html = r.read().decode()
    cookies = _cookies(r)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    if not m:
        raise RuntimeError("no CSRF token on /login")
    body = urlencode({"csrf_token": m.group(1), "username": username, "password": PASSWORD})
    c.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                   "Cookie": _cookie_header(cookies)})
    r = c.getresponse()
    r.read()
    cookies.update(_cookies(r))
    c.close()
    if r.status != 302:
        raise RuntimeError(f"login of {username} answered {r.status}")
    return _cookie_header(cookies)


def _cookies(resp) -> dict:
    out = {}
    for k, v in resp.getheaders():
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            out[name.strip()] = rest.split(";", 1)[0]
    return out


def _cookie_header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def fetch(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def sample_ids(dbname: str, n: int) -> tuple[list[int], list[int]]:
    import psycopg

    with psycopg.connect(libpq(dbname)) as conn:
        # existing ids only (rolled-back imports leave gaps in the sequence)
        everyone = [r[0] for r in conn.execute(
            "SELECT id FROM assessments TABLESAMPLE BERNOULLI (%s) REPEATABLE (7)",
            (min(100.0, 300.0 * n / max(1, conn.execute("SELECT reltuples FROM pg_class WHERE relname = "
                                                         "'assessments'").fetchone()[0])),))]
        body = conn.execute("SELECT org_id FROM users WHERE username = %s", (CLERK,)).fetchone()[0]
        own = [r[0] for r in conn.execute(
            "SELECT id FROM assessments WHERE body_id = %s ORDER BY random() LIMIT %s", (body, n))]
    rng = np.random.default_rng(7)
    return [int(x) for x in rng.choice(everyone, size=min(n, len(everyone)), replace=False)], own


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k history, 1 s per figure")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--no-profile", action="store_true")
    a = ap.parse_args(argv)
    seconds = a.seconds or (1.0 if a.quick else 10.0)
    short = max(0.5, seconds / 2)
    warm = 0.3 if a.quick else 1.0
    conns = a.connections
    dbname = benchlib.ensure_history(a.quick)
    all_ids, own_ids = sample_ids(dbname, 5000)
    tokens = benchlib.create_tokens(dbname, [OFFICE, CLERK], name=f"bench-b2-{time.strftime('%m%d%H%M%S')}")
    log(f"B2: load average {os.getloadavg()}")

    env = app_env(dbname)
    bare_env = dict(env, BENCH_DATABASE_URL=db_url(dbname), PYTHONPATH=str(benchlib.BENCH))
    bare = start_gunicorn("bare_app:app", bare_env, "bare", probe="/health")
    proj = start_gunicorn("wsgi:app", env, "project", probe="/login")
    try:
        cookie = {OFFICE: login(proj.port, OFFICE), CLERK: login(proj.port, CLERK)}

        def bare_req(tid, n):
            return ("GET", f"/bare/assessments/{all_ids[n % len(all_ids)]}", None, {})

        def page(path_of, headers):
            return lambda tid, n: ("GET", path_of(n), None, headers)

        def detail(ids, prefix="/assessments/"):
            return lambda n: f"{prefix}{ids[n % len(ids)]}"

        html = lambda who: {"Cookie": cookie[who], "Accept": "text/html"}  # noqa: E731
        bearer = lambda who: {"Authorization": f"Bearer {tokens[who]}", "Accept": "application/json"}  # noqa: E731
        cases = [
            ("HTML list page, office (supervisor)", proj.port, page(lambda n: LIST, html(OFFICE))),
            ("HTML list page, body clerk (largest body)", proj.port, page(lambda n: LIST, html(CLERK))),
            ("HTML record page, office (supervisor)", proj.port, page(detail(all_ids), html(OFFICE))),
            ("HTML record page, body clerk (own records)", proj.port, page(detail(own_ids), html(CLERK))),
            ("JSON list GET /api/v1/assessments?status=standing&grade=AA, office", proj.port,
             page(lambda n: API_LIST, bearer(OFFICE))),
            ("JSON list GET /api/v1/assessments?status=standing&grade=AA, body clerk", proj.port,
             page(lambda n: API_LIST, bearer(CLERK))),
            ("JSON record GET /api/v1/assessments/<id>, office", proj.port,
             page(detail(all_ids, "/api/v1/assessments/"), bearer(OFFICE))),
            ("JSON record GET /api/v1/assessments/<id>, body clerk", proj.port,
             page(detail(own_ids, "/api/v1/assessments/"), bearer(CLERK))),
        ]
        # sanity: every page answers 200 before we time it (a 302 would mean the login did not hold)
        for label, port, make in cases:
            _, path, _, headers = make(0, 0)
            status, data = fetch(port, path, headers)
            if status != 200:
                raise RuntimeError(f"{label}: {path} answered {status}: {data[:200]!r}")
            emit(f"B2 size of one response: {label}", len(data) / 1024, 300, len(data) / 1024 / 300, "KiB")

        log(f"B2: bare GET (one Core PK lookup), {conns} connections x {seconds / 2:g} s (first half) …")
        bare_runs = [run_load(bare.port, bare_req, connections=conns, seconds=seconds / 2, label="bare")]
        bare_c2 = [run_load(bare.port, bare_req, connections=2, seconds=short / 2, label="bare c2")]
        results = []
        for label, port, make in cases:
            log(f"B2: {label}: {conns} connections x {seconds:g} s, then 2 connections x {short:g} s …")
            r16 = run_load(port, make, connections=conns, seconds=seconds, label=label, warmup=warm)
            r2 = run_load(port, make, connections=2, seconds=short, label=label, warmup=warm)
            results.append((label, r16, r2))
        log(f"B2: bare GET, {conns} connections x {seconds / 2:g} s (second half) …")
        bare_runs.append(run_load(bare.port, bare_req, connections=conns, seconds=seconds / 2, label="bare"))
        bare_c2.append(run_load(bare.port, bare_req, connections=2, seconds=short / 2, label="bare c2"))
    finally:
        proj.stop()
        bare.stop()

    b_rps = sum(r.count for r in bare_runs) / sum(r.seconds for r in bare_runs)
    b16 = _merge(bare_runs)
    b2 = _merge(bare_c2)
    tag = f"B2 ({dbname}, gunicorn 2 sync workers)"
    emit(f"{tag} bare GET one Core PK lookup: throughput at {conns} conns (start, end)", bare_runs[0].rps,
         bare_runs[1].rps, bare_runs[0].rps / bare_runs[1].rps, "req/s")
    for label, r16, r2 in results:
        t = f"{tag} {label}"
        emit(f"{t}: throughput at {conns} conns vs bare PK lookup (target ratio >= 0.40)", r16.rps, b_rps,
             r16.rps / b_rps, "req/s")
        emit(f"{t}: p95 latency at {conns} conns (target <= 50 ms) vs bare", r16.pct(95), b16.pct(95),
             r16.pct(95) / b16.pct(95), "ms")
        emit(f"{t}: p50 latency at {conns} conns vs bare", r16.pct(50), b16.pct(50), r16.pct(50) / b16.pct(50), "ms")
        emit(f"{t}: p99 latency at {conns} conns vs bare", r16.pct(99), b16.pct(99), r16.pct(99) / b16.pct(99), "ms")
        emit(f"{t}: p95 latency at 2 conns, no queueing (target <= 50 ms) vs bare", r2.pct(95), b2.pct(95),
             r2.pct(95) / b2.pct(95), "ms")
        emit(f"{t}: p50 latency at 2 conns vs bare", r2.pct(50), b2.pct(50), r2.pct(50) / b2.pct(50), "ms")
        emit(f"{t}: errors (non-200) / requests", r16.errors + r2.errors, r16.count + r2.count, None, "count")
        if r16.errors or r2.errors:
            log(f"{t}: statuses {r16.statuses} {r2.statuses}; samples {r16.samples + r2.samples}")
    if not a.no_profile:
        profile_pages(dbname, all_ids, 10 if a.quick else 40)
    return 0


def profile_pages(dbname: str, ids: list[int], n: int) -> None:
    """In-process cProfile (Flask test client, logged in through /login) of the list and record pages,
    with the SQL statements per page."""
    import cProfile
    import io
    import pstats

    import sqlalchemy as sa

    from auditbo.extensions import db

    app = benchlib.make_app(dbname)
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    r = client.post("/login", data={"csrf_token": token, "username": OFFICE, "password": PASSWORD})
    assert r.status_code == 302, r.status_code
    count = {"n": 0}
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *a, **k: count.__setitem__("n", count["n"] + 1))
    for label, paths in (("list page " + LIST, [LIST] * n), ("record page /assessments/<id>",
                                                              [f"/assessments/{i}" for i in ids[:n]])):
        client.get(paths[0])
        count["n"] = 0
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        for p in paths:
            assert client.get(p).status_code == 200
        prof.disable()
        ms = 1000 * (time.perf_counter() - t) / len(paths)
        emit(f"B2 in-process (test client, profiled), office: {label}", ms, None, None, "ms")
        emit(f"B2 SQL statements per request, office: {label}", count["n"] / len(paths), None, None, "count")
        for key, restrict in (("cumulative", r"auditbo/|jinja2/environment|flask_babel|babel/"), ("tottime", "")):
            buf = io.StringIO()
            st = pstats.Stats(prof, stream=buf).sort_stats(key)
            st.print_stats(restrict, 15) if restrict else st.print_stats(15)
            log(f"--- B2 profile, office, {label}: {len(paths)} requests, top 15 by {key}")
            log(buf.getvalue())
    with app.app_context():
        db.engine.dispose()


def _merge(runs):
    out = benchlib.LoadResult("merged", sum(r.seconds for r in runs))
    for r in runs:
        out.latencies += r.latencies
        out.errors += r.errors
    return out


if __name__ == "__main__":
    sys.exit(main())
