"""B2 (spec/performance.md): the logged-in record list page and record page on the 1M history.

Run (one JSON line per figure on standard output; progress on standard error)::

    cd <repository root> && .venv/bin/python bench/b2_bench.py            # 1M history, 10 s per figure at 16 connections
    cd <repository root> && .venv/bin/python bench/b2_bench.py --quick    # 10k history (auditbo_bench_quick), 1 s per figure (~40 s)
    # before/after in one run (A B A B): an older commit's app beside this one
    cd <repository root> && git archive <commit> | tar -x -C <dir> && ln -s "$PWD/.venv" <dir>/.venv \
        && .venv/bin/python bench/b2_bench.py --compare <dir> [--only "deep"]

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
* Deep JSON list (issue 19): ``GET /api/v1/assessments?status=standing&grade=AA&cursor=…`` at random
  positions all through the ~275,000 matches (cursors made for 2,000 random matching rows, the same
  signed cursors the list hands out in ``next``; the office's and the clerk's), at 2 connections (the
  goal: p95 <= 30 ms) and at 16. A version of the app without cursors (no ``next`` in the list) is
  measured on the equivalent deep offset pages (``page=`` at the same depths) instead, so the bench
  also runs against an older checkout for a "before".
* Every timed figure is printed with the bare lookup as its baseline and the ratio to it.
"""

from __future__ import annotations

import argparse
import http.client
import json
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


def deep_positions(dbname: str, n: int) -> dict[str, tuple[list[tuple], int]]:
    """Random matching rows of API_LIST (office: all; clerk: the clerk's body) as (decision_date, id)
    positions all through the list, with the number of matches (the first page's count)."""
    import psycopg

    out = {}
    with psycopg.connect(libpq(dbname)) as conn:
        body = conn.execute("SELECT org_id FROM users WHERE username = %s", (CLERK,)).fetchone()[0]
        for who, extra, args in ((OFFICE, "", ()), (CLERK, " AND body_id = %s", (body,))):
            where = f"status = 'standing' AND grade = 'AA'{extra}"
            total = conn.execute(f"SELECT count(*) FROM assessments WHERE {where}", args).fetchone()[0]
            rows = conn.execute(f"SELECT decision_date, id FROM assessments WHERE {where} ORDER BY random() LIMIT %s",
                                (*args, n)).fetchall()
            out[who] = ([(r[0], r[1]) for r in rows], total)
    return out


def deep_paths(dbname: str, positions: dict, per_page: int = 50) -> dict[str, list[str]]:
    """The deep pages' paths: cursors at the positions, signed by the app as its ``next`` links are."""
    from auditbo import paging
    from auditbo.extensions import db

    app = benchlib.make_app(dbname)
    fp = paging.fingerprint("assessments", "-decision_date", {"status": "standing", "grade": "AA"})
    with app.app_context():
        out = {who: [f"{API_LIST}&per_page={per_page}&" + urlencode(
            {"cursor": paging.encode((d, i), 2 + k % 1000, total, fp)}) for k, (d, i) in enumerate(pos)]
            for who, (pos, total) in positions.items()}
        db.engine.dispose()
    return out


def start_checkout(checkout: Path, env: dict, name: str) -> benchlib.Server:
    """The ``wsgi:app`` of another checkout (its own code, the same database and settings) under gunicorn."""
    return benchlib.start_gunicorn("wsgi:app", dict(env, PYTHONPATH=str(checkout)), name, probe="/login",
                                   checkout=checkout)


def offset_paths(positions: dict, per_page: int = 50) -> dict[str, list[str]]:
    """Deep pages by ``page=`` at random depths (an app without cursors), as many as there are positions."""
    rng = np.random.default_rng(11)
    return {who: [f"{API_LIST}&per_page={per_page}&page={int(p)}"
                  for p in rng.integers(2, max(3, total // per_page), size=len(pos))]
            for who, (pos, total) in positions.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k history, 1 s per figure")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--compare", type=Path, default=None, metavar="CHECKOUT",
                    help="also run another checkout's app (e.g. an older commit from `git archive`) in the same "
                         "run, each figure A B A B, and print after/before ratios")
    ap.add_argument("--only", default="", help="run only the cases whose label contains this text")
    a = ap.parse_args(argv)
    seconds = a.seconds or (1.0 if a.quick else 10.0)
    short = max(0.5, seconds / 2)
    warm = 0.3 if a.quick else 1.0
    conns = a.connections
    dbname = benchlib.ensure_history(a.quick)
    all_ids, own_ids = sample_ids(dbname, 5000)
    tokens = benchlib.create_tokens(dbname, [OFFICE, CLERK], name=f"bench-b2-{time.strftime('%m%d%H%M%S')}")
    positions = deep_positions(dbname, 2000)
    deep_of = {"after": deep_paths(dbname, positions)}
    log(f"B2: load average {os.getloadavg()}")

    env = app_env(dbname)
    bare_env = dict(env, BENCH_DATABASE_URL=db_url(dbname), PYTHONPATH=str(benchlib.BENCH))
    bare = start_gunicorn("bare_app:app", bare_env, "bare", probe="/health")
    servers = {"after": start_gunicorn("wsgi:app", env, "project", probe="/login")}
    try:
        if a.compare:
            servers["before"] = start_checkout(a.compare.resolve(), env, "before")
        cookies = {v: {who: login(srv.port, who) for who in (OFFICE, CLERK)} for v, srv in servers.items()}
        html = lambda v, who: {"Cookie": cookies[v][who], "Accept": "text/html"}  # noqa: E731
        bearer = lambda who: {"Authorization": f"Bearer {tokens[who]}", "Accept": "application/json"}  # noqa: E731
        for v, srv in servers.items():  # an app without cursors (no `next`) goes deep by offset pages
            status, data = fetch(srv.port, f"{API_LIST}&per_page=50", bearer(OFFICE))
            first = json.loads(data)
            if status != 200 or "next" not in first:
                deep_of[v] = offset_paths(positions)
            elif v != "after":
                deep_of[v] = deep_of["after"]
            if "next" in first:  # the cursors made here are the ones the list hands out: `next` answers too
                st, d = fetch(srv.port, first["next"], bearer(OFFICE))
                assert st == 200 and json.loads(d)["items"], (st, d[:200])
        kinds = {v: "cursor" if "cursor=" in deep_of[v][OFFICE][0] else "offset page=" for v in servers}

        def page(path_of, headers):
            return lambda tid, n: ("GET", path_of(n), None, headers)

        def cycle(paths):
            return lambda n: paths[n % len(paths)]

        def detail(ids, prefix="/assessments/"):
            return lambda n: f"{prefix}{ids[n % len(ids)]}"

        deep_label = (f"JSON deep list (cursor pages at random depths of the {positions[OFFICE][1]:,} / "
                      f"{positions[CLERK][1]:,} matches)")

        def cases_of(v):
            deep = deep_of[v]
            return [
                ("HTML list page, office (supervisor)", page(lambda n: LIST, html(v, OFFICE)), 50),
                ("HTML list page, body clerk (largest body)", page(lambda n: LIST, html(v, CLERK)), 50),
                ("HTML record page, office (supervisor)", page(detail(all_ids), html(v, OFFICE)), 50),
                ("HTML record page, body clerk (own records)", page(detail(own_ids), html(v, CLERK)), 50),
                ("JSON list GET /api/v1/assessments?status=standing&grade=AA (first page, exact total), office",
                 page(lambda n: API_LIST, bearer(OFFICE)), 50),
                ("JSON list GET /api/v1/assessments?status=standing&grade=AA (first page, exact total), body clerk",
                 page(lambda n: API_LIST, bearer(CLERK)), 50),
                (f"{deep_label}, office", page(cycle(deep[OFFICE]), bearer(OFFICE)), 30),
                (f"{deep_label}, body clerk", page(cycle(deep[CLERK]), bearer(CLERK)), 30),
                ("JSON record GET /api/v1/assessments/<id>, office",
                 page(detail(all_ids, "/api/v1/assessments/"), bearer(OFFICE)), 50),
                ("JSON record GET /api/v1/assessments/<id>, body clerk",
                 page(detail(own_ids, "/api/v1/assessments/"), bearer(CLERK)), 50),
            ]

        cases = {v: [c for c in cases_of(v) if a.only in c[0]] for v in servers}
        # sanity: every page answers 200 before we time it (a 302 would mean the login did not hold)
        for v, srv in servers.items():
            for label, make, _target in cases[v]:
                _, path, _, headers = make(0, 0)
                status, data = fetch(srv.port, path, headers)
                if status != 200:
                    raise RuntimeError(f"{v}: {label}: {path} answered {status}: {data[:200]!r}")
                emit(f"B2 size of one response ({v}): {label}", len(data) / 1024, None, None, "KiB")

        log(f"B2: bare GET (one Core PK lookup), {conns} connections x {seconds / 2:g} s (first half) …")
        bare_runs = [run_load(bare.port, bare_req(all_ids), connections=conns, seconds=seconds / 2, label="bare")]
        bare_c2 = [run_load(bare.port, bare_req(all_ids), connections=2, seconds=short / 2, label="bare c2")]
        results = {v: [] for v in servers}
        for i, (label, _make, target) in enumerate(cases["after"]):
            runs = {}
            for c, secs in ((conns, seconds), (2, short)):  # A B at 16 connections, then A B at 2
                for v, srv in servers.items():
                    log(f"B2 [{v}]: {label}: {c} connections x {secs:g} s …")
                    runs[v, c] = run_load(srv.port, cases[v][i][1], connections=c, seconds=secs, label=label,
                                          warmup=warm)
            for v in servers:
                results[v].append((label, runs[v, conns], runs[v, 2], target))
        log(f"B2: bare GET, {conns} connections x {seconds / 2:g} s (second half) …")
        bare_runs.append(run_load(bare.port, bare_req(all_ids), connections=conns, seconds=seconds / 2, label="bare"))
        bare_c2.append(run_load(bare.port, bare_req(all_ids), connections=2, seconds=short / 2, label="bare c2"))
    finally:
        for srv in servers.values():
            srv.stop()
        bare.stop()

    b_rps = sum(r.count for r in bare_runs) / sum(r.seconds for r in bare_runs)
    b16 = _merge(bare_runs)
    b2 = _merge(bare_c2)
    tag = f"B2 ({dbname}, gunicorn 2 sync workers)"
    emit(f"{tag} bare GET one Core PK lookup: throughput at {conns} conns (start, end)", bare_runs[0].rps,
         bare_runs[1].rps, bare_runs[0].rps / bare_runs[1].rps, "req/s")
    b2_rps = sum(r.count for r in bare_c2) / sum(r.seconds for r in bare_c2)
    emit(f"{tag} bare GET one Core PK lookup: throughput at 2 conns", b2_rps, None, None, "req/s")
    for v, rows in results.items():
        for label, r16, r2, target in rows:
            t = f"{tag} [{v}] {label.replace('cursor pages', kinds[v] + ' pages') if v != 'after' else label}"
            goal16 = "spec >= 0.40, issue 19 goal >= 0.30" if target == 50 else "no goal"
            emit(f"{t}: throughput at {conns} conns vs bare PK lookup ({goal16})", r16.rps, b_rps,
                 r16.rps / b_rps, "req/s")
            emit(f"{t}: throughput at 2 conns vs bare PK lookup at 2 conns", r2.rps, b2_rps, r2.rps / b2_rps, "req/s")
            emit(f"{t}: p95 latency at {conns} conns ({'target <= 50 ms' if target == 50 else 'no goal'}) vs bare",
                 r16.pct(95), b16.pct(95), r16.pct(95) / b16.pct(95), "ms")
            emit(f"{t}: p50 latency at {conns} conns vs bare", r16.pct(50), b16.pct(50), r16.pct(50) / b16.pct(50),
                 "ms")
            emit(f"{t}: p99 latency at {conns} conns vs bare", r16.pct(99), b16.pct(99), r16.pct(99) / b16.pct(99),
                 "ms")
            emit(f"{t}: p95 latency at 2 conns, no queueing (target <= {target} ms) vs bare", r2.pct(95), b2.pct(95),
                 r2.pct(95) / b2.pct(95), "ms")
            emit(f"{t}: p50 latency at 2 conns vs bare", r2.pct(50), b2.pct(50), r2.pct(50) / b2.pct(50), "ms")
            emit(f"{t}: errors (non-200) / requests", r16.errors + r2.errors, r16.count + r2.count, None, "count")
            if r16.errors or r2.errors:
                log(f"{t}: statuses {r16.statuses} {r2.statuses}; samples {r16.samples + r2.samples}")
    if "before" in results:
        for (label, a16, a2, _t), (_l, o16, o2, _t2) in zip(results["after"], results["before"], strict=True):
            emit(f"{tag} after vs before (same run): {label}: throughput at {conns} conns", a16.rps, o16.rps,
                 a16.rps / o16.rps, "req/s")
            emit(f"{tag} after vs before (same run): {label}: p95 at 2 conns", a2.pct(95), o2.pct(95),
                 a2.pct(95) / o2.pct(95), "ms")
    if not a.no_profile:
        profile_pages(dbname, all_ids, 10 if a.quick else 40, tokens[OFFICE], deep_of["after"][OFFICE])
    return 0


def bare_req(ids):
    return lambda tid, n: ("GET", f"/bare/assessments/{ids[n % len(ids)]}", None, {})


def profile_pages(dbname: str, ids: list[int], n: int, token: str, deep: list[str]) -> None:
    """In-process cProfile (Flask test client, logged in through /login) of the list and record pages and
    of deep JSON list pages (Bearer token), with the SQL statements per page."""
    import cProfile
    import io
    import pstats

    import sqlalchemy as sa

    from auditbo.extensions import db

    app = benchlib.make_app(dbname)
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    r = client.post("/login", data={"csrf_token": csrf, "username": OFFICE, "password": PASSWORD})
    assert r.status_code == 302, r.status_code
    count = {"n": 0}
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *a, **k: count.__setitem__("n", count["n"] + 1))
    api = {"Authorization": f"Bearer {token}"}
    api_client = app.test_client()  # no session cookie: as an integration calls the API
    for label, paths, headers in (("deep JSON list page (cursor)", deep[:n], api),
                                  ("list page " + LIST, [LIST] * n, {}),
                                  ("record page /assessments/<id>", [f"/assessments/{i}" for i in ids[:n]], {})):
        (api_client if headers else client).get(paths[0], headers=headers)
        count["n"] = 0
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        for p in paths:
            r = (api_client if headers else client).get(p, headers=headers)
            assert r.status_code == 200, (p, r.status_code, r.get_data()[:300])
        prof.disable()
        ms = 1000 * (time.perf_counter() - t) / len(paths)
        emit(f"B2 in-process (test client, profiled), office: {label}", ms, None, None, "ms")
        emit(f"B2 SQL statements per request, office: {label}", count["n"] / len(paths), None, None, "count")
        for key, restrict in (("cumulative", r"auditbo/|jinja2/environment|flask_babel|babel/|sqlalchemy/orm/session"),
                              ("tottime", "")):
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
