"""Issue 12 (production hardening): items 1, 3, 6, 7 and 8 reproduced against real servers.

Run (one JSON line per figure on standard output; progress on standard error)::

    cd <repository root> && .venv/bin/python bench/hardening_bench.py            # about a minute
    cd <repository root> && .venv/bin/python bench/hardening_bench.py --quick    # smaller files and bursts

It measures whatever the code does today; nothing is asserted. All on 127.0.0.1, bounded in time:

* a throwaway PostgreSQL database (``auditbo_bench_hardening``, dropped and re-created), migrated,
  with a small world made through the services (an assessment body, a consulting body, their
  people, a clerk, three supervisors, an admin, API tokens), served by gunicorn (2 sync workers,
  production settings: CSRF on, secure cookies off for plain HTTP on loopback);
* item 1: a 100,000-row CSV of invalid rows posted to ``/api/v1/imports``: wall time, status,
  response size, and the peak RSS of the gunicorn workers (``/proc/<pid>/status``: the largest
  VmRSS sampled every 20 ms and each worker's VmHWM). A worker above 2 GB is killed by the bench
  (reported) so that the machine stays usable;
* item 3: 3,000 invalid rows through the web import (signed in through the form, CSRF token from
  the page): the Set-Cookie size of the answer; then a valid 3-row file previewed and its preview
  confirmed twice at once, then once more (a replay): statuses and the filings made (must be 3);
* item 6: 20 concurrent filings sharing one new enterprise credit code, and 20 sharing one
  certificate number: status counts and 5xx;
* item 7: the same world in a SQLite file under gunicorn (2 workers): two concurrent decisions on one
  confirmation audit (same version), several rounds: status counts (one 200 and one 409 each, 0 x 500);
* item 8: a burst of anonymous requests to random ``/api/v1/assessments/{id}`` (8 connections, a few
  seconds, as ``wrk -c8``): requests, their statuses, and the events added to the log (must be 0).
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import benchlib  # noqa: E402
from benchlib import SECRET_KEY, db_url, emit, libpq, log, run_load, start_gunicorn  # noqa: E402
from httpload import RSS_KILL_KB, Browser, RssWatch, count, multipart, post_status, request, together  # noqa: E402,F401

DBNAME = "auditbo_bench_hardening"
PASSWORD = benchlib.PASSWORD


# --- the world ---------------------------------------------------------------------------------
def seed_world(app) -> dict:
    """Bodies, people, users and tokens, made through the services; returns what the clients need."""
    from auditbo import clock
    from auditbo.accounts.models import Role
    from auditbo.accounts.services import create_token, create_user
    from auditbo.codes import make_credit_code
    from auditbo.events import SYSTEM
    from auditbo.extensions import db
    from auditbo.orgs.services import upsert_org, upsert_person

    valid_until = (clock.today() + timedelta(days=3 * 365)).isoformat()
    with app.app_context():
        body = make_credit_code("350102", "H0000001A")
        cons = make_credit_code("310115", "H0000002K")
        upsert_org({"credit_code": body, "name": "压测评定机构有限公司", "kind": "assessment_body",
                    "region_code": "350102", "contact": "0591-1234567"}, actor=SYSTEM)
        upsert_org({"credit_code": cons, "name": "压测咨询机构有限公司", "kind": "consulting_body",
                    "region_code": "310115"}, actor=SYSTEM)
        people = [("H-SL-1", "senior_lead", "assessor", body), ("H-L-1", "lead", "assessor", body),
                  ("H-A-1", "assessor", "assessor", body), ("H-A-2", "assessor", "assessor", body),
                  ("H-C-1", "consultant", "consultant", cons)]
        for pid, qual, kind, org in people:
            upsert_person({"person_id": pid, "name": f"压测{pid}", "kind": kind, "org_credit_code": org,
                           "qualification": qual, "valid_until": valid_until}, actor=SYSTEM)
        clerk = create_user(username="h-clerk", password=PASSWORD, role=Role.body_clerk.value, org_credit_code=body)
        sups = [create_user(username=f"h-sup{i}", password=PASSWORD, role=Role.supervisor.value) for i in range(3)]
        create_user(username="h-admin", password=PASSWORD, role=Role.admin.value)
        tokens = {u.username: create_token(u, "bench")[1] for u in [clerk, *sups]}
        sup_ids = {u.id: u.username for u in sups}
        db.session.commit()
        db.engine.dispose()
    return {"body": body, "consulting": cons, "tokens": tokens, "supervisors": sup_ids}


_N = {"n": 0}


def filing(world: dict, cfg: dict, *, grade: str = "AA", credit_code: str | None = None,
           certificate_no: str | None = None) -> dict:
    """One valid filing in the API's shape (a new enterprise unless a credit code is given)."""
    from auditbo import clock
    from auditbo.codes import make_credit_code
    from auditbo.filings.rules import min_person_days

    _N["n"] += 1
    n = _N["n"]
    run = uuid.uuid4().hex[:6].upper()
    decided = clock.today() - timedelta(days=10)
    lead = "H-SL-1" if len(grade) >= 3 else "H-L-1"
    code = credit_code or make_credit_code("350102", ("N" + f"{abs(hash((run, n))) % 10**8:08d}")[:9])
    return {
        "external_ref": f"H-{run}-{n:06d}", "assessment_type": "initial",
        "enterprise": {"name": f"压测企业{run}{n}有限公司", "credit_code": code, "region_code": "350102",
                       "industry_code": "C34", "size": "large", "employees": 2300},
        "grade": grade, "capabilities": [{"name": "智能生产与现场作业管控能力", "level": f"CL{len(grade)}"}],
        "consulting_body": {"credit_code": world["consulting"], "consultant_ids": ["H-C-1"]},
        "team": [{"person_id": lead, "role": "lead"}, {"person_id": "H-A-1", "role": "member"}],
        "person_days": float(min_person_days(2300, "initial", cfg)),
        "onsite_start": (decided - timedelta(days=20)).isoformat(),
        "onsite_end": (decided - timedelta(days=17)).isoformat(),
        "decision_date": decided.isoformat(),
        "certificate_no": certificate_no or f"IIMS-H-{run}-{n:06d}",
    }


def csv_rows(filings: list[dict]) -> list[list[str]]:
    """Filings as rows of the published import template (same column order)."""
    rows = []
    for p in filings:
        e = p["enterprise"]
        rows.append([p["external_ref"], p["assessment_type"], e["name"], e["credit_code"], e["region_code"],
                     e["industry_code"], e["size"], str(e["employees"]), p["grade"],
                     ";".join(f"{c['name']}:{c['level']}" for c in p["capabilities"]),
                     p["consulting_body"]["credit_code"], ";".join(p["consulting_body"]["consultant_ids"]),
                     ";".join(f"{t['person_id']}:{t['role']}" for t in p["team"]), str(p["person_days"]), "",
                     p["onsite_start"], p["onsite_end"], p["decision_date"], p["certificate_no"], ""])
    return rows


def csv_bytes(header: list[str], rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def bad_rows(n: int) -> list[list[str]]:
    """Rows that break several fields each (credit code, grade, dates, team, person-days)."""
    return [[f"BAD-{i:07d}", "initial", f"坏企业{i}", "NOT-A-CODE", "999999", "C34", "huge", "-5", "Z",
             "能力:CL9", "", "", "X-0000:boss", "-1", "", "2026-13-40", "yesterday", "soon", "", ""]
            for i in range(n)]


# --- HTTP ----------------------------------------------------------------------------------------
def item1(server, world: dict, header: list[str], rows: int) -> None:
    body, ctype = multipart({}, {"file": ("bad.csv", csv_bytes(header, bad_rows(rows)))})
    log(f"item 1: posting {rows:,} invalid rows ({len(body) / 1e6:.1f} MB) to /api/v1/imports")
    with RssWatch(server.proc.pid) as watch:
        t = time.perf_counter()
        status, _, data = request(server.port, "POST", "/api/v1/imports", body,
                                  {"Authorization": f"Bearer {world['tokens']['h-clerk']}", "Content-Type": ctype})
        wall = time.perf_counter() - t
    prefix = f"item 1: import of {rows:,} invalid rows via the API"
    emit(f"{prefix}: wall time", wall, unit="s")
    emit(f"{prefix}: status", status, unit="http")
    emit(f"{prefix}: response size", len(data), unit="bytes")
    emit(f"{prefix}: peak worker RSS sampled (target < 300 MB)", watch.peak_kb / 1024, unit="MB")
    emit(f"{prefix}: peak worker RSS (VmHWM, largest worker)", max(watch.hwm.values() or [0]) / 1024, unit="MB")
    emit(f"{prefix}: workers killed by the bench above 2 GB", len(watch.killed), unit="count")
    if status != 422:
        log(f"item 1: answer {status}: {data[:300]!r}")


def item3(server, world: dict, header: list[str], rows: int, cfg: dict) -> None:
    import psycopg

    b = Browser(server.port)
    log(f"item 3: login as h-clerk -> {b.login('h-clerk')}")
    _, _, page = b.get("/assessments/import")
    body, ctype = multipart({"csrf_token": Browser.field(page, "csrf_token")},
                            {"file": ("bad.csv", csv_bytes(header, bad_rows(rows)))})
    status, headers, data = b.post("/assessments/import", body, ctype, keep=False)
    cookie = sum(len(c) for c in headers.get("set-cookie", []))
    emit(f"item 3: web import of {rows:,} invalid rows: status", status, unit="http")
    emit(f"item 3: web import of {rows:,} invalid rows: Set-Cookie size (a browser drops > 4096)", cookie,
         unit="bytes")
    emit(f"item 3: web import of {rows:,} invalid rows: page size", len(data), unit="bytes")
    b._keep(headers)
    emit(f"item 3: web import of {rows:,} invalid rows: the browser's cookies for the site afterwards",
         sum(len(k) + len(v) + 1 for k, v in b.cookies.items()), unit="bytes")

    good = [filing(world, cfg) for _ in range(3)]
    _, _, page = b.get("/assessments/import")
    body, ctype = multipart({"csrf_token": Browser.field(page, "csrf_token")},
                            {"file": ("good.csv", csv_bytes(header, csv_rows(good)))})
    status, _, page = b.post("/assessments/import", body, ctype)
    token, csrf = Browser.field(page, "token"), Browser.field(page, "csrf_token")
    if status != 200 or not token:
        log(f"item 3: the preview of a valid file did not come back ({status}): {page[:300]!r}")
    form = urlencode({"csrf_token": csrf, "token": token}).encode()

    def confirm() -> int:
        return b.post("/assessments/import/confirm", form, "application/x-www-form-urlencoded", keep=False)[0]

    results = together([confirm, confirm])
    replay = b.post("/assessments/import/confirm", form, "application/x-www-form-urlencoded", keep=False)[0]
    with psycopg.connect(libpq(DBNAME)) as conn:
        filed = conn.execute("SELECT count(*) FROM assessments WHERE external_ref = ANY(%s)",
                             ([p["external_ref"] for p in good],)).fetchone()[0]
    statuses = sorted(results)
    emit(f"item 3: one 3-row preview confirmed twice at once: statuses {statuses}", sum(s >= 500 for s in statuses),
         unit="5xx")
    emit("item 3: ... then replayed once more: status", replay, unit="http")
    emit("item 3: filings made by the double confirmation and the replay (target 3)", filed, unit="count")


def burst(port: int, bodies: list[bytes], token: str) -> dict[int, int]:
    """Post the bodies all at once; status -> count."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return count(together([lambda b=b: request(port, "POST", "/api/v1/assessments", b, headers)[0]
                           for b in bodies]))


def item6(server, world: dict, cfg: dict, n: int = 20) -> None:
    from auditbo.codes import make_credit_code

    code = make_credit_code("350102", "R" + uuid.uuid4().hex[:8].upper())  # hex: all in the credit alphabet
    shared_code = [json.dumps(filing(world, cfg, credit_code=code)).encode() for _ in range(n)]
    cert = f"IIMS-H-SHARED-{uuid.uuid4().hex[:8].upper()}"
    shared_cert = [json.dumps(filing(world, cfg, certificate_no=cert)).encode() for _ in range(n)]
    for label, bodies in (("one new enterprise credit code", shared_code), ("one certificate number", shared_cert)):
        counts = burst(server.port, bodies, world["tokens"]["h-clerk"])
        fives = sum(v for k, v in counts.items() if k >= 500 or k < 0)
        emit(f"item 6: {n} concurrent filings sharing {label}: statuses {counts}; 5xx (target 0)", fives,
             unit="count")


def item7(quick: bool) -> None:
    """SQLite under gunicorn: two decisions at once on one audit, several rounds."""
    from flask_migrate import upgrade

    from auditbo import create_app
    from auditbo.extensions import db

    rounds = 3 if quick else 6
    with tempfile.TemporaryDirectory(prefix="auditbo-bench-sqlite-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app({"ENV_NAME": "production", "SECRET_KEY": SECRET_KEY, "DATABASE_URL": url})
        with app.app_context():
            upgrade()
            db.engine.dispose()
        world = seed_world(app)
        cfg = dict(app.config)
        env = dict(os.environ, AUDITBO_ENV_NAME="production", AUDITBO_SECRET_KEY=SECRET_KEY,
                   AUDITBO_DATABASE_URL=url, PYTHONPATH=str(benchlib.ROOT))
        server = start_gunicorn("wsgi:app", env, "sqlite", probe="/login")
        statuses: list[int] = []
        try:
            for _ in range(rounds):
                status, _, data = request(server.port, "POST", "/api/v1/assessments",
                                          json.dumps(filing(world, cfg, grade="AAA")).encode(),
                                          {"Authorization": f"Bearer {world['tokens']['h-clerk']}",
                                           "Content-Type": "application/json"})
                if status not in (200, 201):
                    log(f"item 7: filing answered {status}: {data[:300]!r}")
                    continue
                audit_id, assignee = audit_of(url, json.loads(data)["id"])
                token = world["tokens"][world["supervisors"][assignee]]
                auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                version = json.loads(request(server.port, "GET", f"/api/v1/confirmations/{audit_id}",
                                             headers=auth)[2])["version"]
                decision = json.dumps({"decision": "confirmed", "reason": "bench", "version": version}).encode()
                path = f"/api/v1/confirmations/{audit_id}/decision"
                statuses += together([functools.partial(post_status, server.port, path, decision, auth)] * 2)
        finally:
            server.stop()
        counts = count(statuses)
        fives = sum(v for k, v in counts.items() if k >= 500 or k < 0)
        emit(f"item 7: SQLite, two decisions at once on one audit x {rounds}: statuses {counts} "
             f"(target {rounds} x 200 + {rounds} x 409); 5xx (target 0)", fives, unit="count")


def audit_of(url: str, assessment_id: int) -> tuple[int, int]:
    import sqlite3

    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path, timeout=10) as conn:
        return conn.execute("SELECT id, assignee_id FROM confirmation_audits WHERE assessment_id = ? "
                            "ORDER BY round DESC LIMIT 1", (assessment_id,)).fetchone()


def item8(server, seconds: float) -> None:
    import psycopg

    def events() -> int:
        with psycopg.connect(libpq(DBNAME)) as conn:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]

    before = events()
    res = run_load(server.port, lambda tid, n: ("GET", f"/api/v1/assessments/{random.randint(1, 10**6)}", None, {}),
                   connections=8, seconds=seconds, expect=(401,), warmup=0.0, label="anonymous")
    added = events() - before
    emit(f"item 8: anonymous burst (8 connections, {seconds:g} s): requests, statuses {dict(res.statuses)}",
         res.count, unit="count")
    emit("item 8: anonymous burst: events added to the log (target 0)", added, unit="count")
    emit("item 8: anonymous burst: throughput", res.rps, unit="req/s")


# --- main ----------------------------------------------------------------------------------------
def prepare_pg() -> dict:
    from flask_migrate import upgrade

    from auditbo.extensions import db
    from tests.pg import recreate_database

    recreate_database(db_url(DBNAME))
    app = benchlib.make_app(DBNAME)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    world = seed_world(app)
    world["cfg"] = dict(app.config)
    return world


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 bad rows, shorter bursts")
    ap.add_argument("--only", default="1,3,6,7,8", help="which items (comma-separated)")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    logging_quiet()
    world = prepare_pg() if only & {"1", "3", "6", "8"} else None
    if world:
        env = benchlib.app_env(DBNAME)
        server = start_gunicorn("wsgi:app", env, "postgresql", probe="/login")
        try:
            header = next(csv.reader(io.StringIO(request(server.port, "GET", "/api/v1/imports/template.csv")[2]
                                                 .decode("utf-8-sig"))))
            if "8" in only:
                item8(server, 2.0 if args.quick else 5.0)
            if "6" in only:
                item6(server, world, world["cfg"])
            if "3" in only:
                item3(server, world, header, 3000, world["cfg"])
            if "1" in only:
                item1(server, world, header, 10_000 if args.quick else 100_000)
        finally:
            server.stop()
    if "7" in only:
        item7(args.quick)
    return 0


def logging_quiet() -> None:
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
