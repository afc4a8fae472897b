"""B1 (spec/performance.md): ``POST /api/v1/assessments`` under load vs a bare Core INSERT + commit.

Run (one JSON line per figure on standard output; progress and profiles on standard error)::

    cd <repository root> && .venv/bin/python bench/b1_bench.py            # 1M-assessment history, 16 connections x 10 s
    cd <repository root> && .venv/bin/python bench/b1_bench.py --quick    # 10k history (auditbo_bench_quick), 3 s (~25 s)

Nothing to install: gunicorn, psycopg 3 and the client (``http.client`` + threads) come with the
project's virtualenv (``make setup``). The first run generates the history (bench/gen_history.py).

What it does, all on 127.0.0.1 and bounded in time:

* the project's ``wsgi:app`` (AUDITBO_ENV_NAME=production, a secret key, the bench database) under
  gunicorn with 2 sync workers, and ``bench/bare_app.py`` under the same settings on another port;
* pre-built, distinct, valid filings for 8 clerks of bodies large and small (Bearer tokens issued by
  ``accounts.services.create_token``): unique external_ref / certificate_no per run, a team of that
  body's registered assessors (a senior lead for AAA+), grades A..AAAAA mixed like the market
  (8/37/40/12/3 %, so ~55 % go to a confirmation audit), 60 % surveillance of the body's existing
  enterprises and 40 % initial filings of new ones, 80 % with a consulting body and consultant;
* a closed-loop client, 16 connections, in legs of half the time each, A B C A B C so that drift of the
  shared machine cancels: the bare one-INSERT POST (A), the bare *same writes* POST (B: the rows a
  filing writes, its events chained, one transaction, Core only, no validation; other filings of the
  same kind) and the project (C); throughput, p50/p95/p99 and errors (anything but 201) of each, and
  the project's ratio to both baselines; then the same at 2 connections (one per worker);
* during the project's legs, pg_stat_activity sampled every ~5 ms: the share of the busy backends'
  time spent waiting for the event chain's advisory lock (issue 19: what the chain costs under load);
* an in-process profile (cProfile, top 15 by cumulative time) of 200 filings through the Flask test
  client, and the number of SQL statements per filing.

``--hosts 2`` adds the scale-out figure (issue 19): the project on two gunicorn masters (two ports,
2 workers each: two hosts' worth of workers on one machine), the client's connections spread over both,
rate limits in the shared Redis (``AUDITBO_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/15``; sessions
are in the database already), against one such master, legs A B A B.

The filings stay in the bench database (a few thousand rows on top of 1,000,000; the same-writes rows
too, with their events in the one chain, so ``flask events verify`` stays exact); the one-INSERT rows
go to the scratch table ``bench_bare_rows``, emptied at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import zlib
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import benchlib  # noqa: E402
from benchlib import app_env, db_url, emit, libpq, log, report_load, run_load, start_gunicorn  # noqa: E402

GRADE_P = [0.08, 0.37, 0.40, 0.12, 0.03]
SIZE_OF = [(1000, "large"), (300, "medium"), (20, "small"), (1, "micro")]


def pick_clerks(conn, n: int = 8) -> list[str]:
    names = [r[0] for r in conn.execute("SELECT username FROM users WHERE role = 'body_clerk' ORDER BY username")]
    if len(names) <= n:
        return names
    idx = sorted({0, 1, 2, 3, len(names) // 10, len(names) // 4, len(names) // 2, len(names) - 1})
    return [names[i] for i in idx][:n]


def registry(conn, username: str, enterprises: int = 3000) -> dict:
    body_id, body_code = conn.execute(
        "SELECT o.id, o.credit_code FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.username = %s",
        (username,)).fetchone()
    staff = conn.execute("SELECT person_id, qualification FROM persons WHERE org_id = %s AND kind = 'assessor' "
                         "AND status = 'active' ORDER BY id", (body_id,)).fetchall()
    ents = conn.execute(
        "SELECT e.credit_code, e.name, e.region_code, e.industry_code, e.size, e.employees FROM enterprises e "
        "WHERE e.id IN (SELECT enterprise_id FROM assessments WHERE body_id = %s ORDER BY id DESC LIMIT %s)",
        (body_id, enterprises)).fetchall()
    return {"body_id": body_id, "body_code": body_code, "staff": staff, "enterprises": ents}


def consulting(conn) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT o.credit_code, min(p.person_id) FROM organisations o JOIN persons p ON p.org_id = o.id "
        "WHERE o.kind = 'consulting_body' AND o.status = 'active' GROUP BY o.credit_code ORDER BY 1").fetchall()


def build_payloads(reg: dict, cons: list, n: int, run: str, salt: int, cfg) -> list[bytes]:
    """n distinct, valid filings for one body, as JSON request bodies."""
    return [json.dumps(p, ensure_ascii=False).encode() for p in payload_dicts(reg, cons, n, run, salt, cfg)]


def payload_dicts(reg: dict, cons: list, n: int, run: str, salt: int, cfg, *, prefix: str = "B1",
                  existing_share: float = 0.6) -> list[dict]:
    """n distinct, valid filings for one body (dicts in the API's shape)."""
    from auditbo.codes import CREDIT_ALPHABET, make_credit_code
    from auditbo.demo.names import CAPABILITIES, CITIES
    from auditbo.filings.rules import min_person_days

    rng = np.random.default_rng(salt)
    today = date.today()
    seniors = [p for p, q in reg["staff"] if q == "senior_lead"]
    leads = [p for p, q in reg["staff"] if q in ("lead", "senior_lead")]
    everyone = [p for p, _ in reg["staff"]]
    out = []
    for i in range(n):
        level = int(rng.choice(5, p=GRADE_P)) + 1
        grade = "A" * level
        if reg["enterprises"] and rng.random() < existing_share:
            code, name, region, industry, size, employees = reg["enterprises"][int(rng.integers(len(reg["enterprises"])))]
            atype = "surveillance"
        else:
            region = CITIES[int(rng.integers(len(CITIES)))][0]
            v = ((zlib.crc32(f"{prefix}{run}".encode()) % 80_000) * 100 + salt % 100) * 100_000 + i % 100_000
            chars = []
            for _ in range(8):
                v, r = divmod(v, 31)
                chars.append(CREDIT_ALPHABET[r])
            code = make_credit_code(region, "N" + "".join(reversed(chars)))
            employees = int(min(20000, max(8, rng.lognormal(5.3, 1.2))))
            size = next(s for low, s in SIZE_OF if employees >= low)
            name, industry, atype = f"压测新企业{prefix}{run}{salt}{i}有限公司", "C34", "initial"
        lead = seniors[int(rng.integers(len(seniors)))] if level >= 3 else leads[int(rng.integers(len(leads)))]
        others = [p for p in everyone if p != lead]
        members = [others[j] for j in rng.choice(len(others), size=int(rng.integers(1, 3)), replace=False)]
        pd_min = min_person_days(employees, atype, cfg)
        decided = today - timedelta(days=int(rng.integers(5, 25)))
        end = decided - timedelta(days=int(rng.integers(3, 10)))
        caps = [{"name": CAPABILITIES[int(rng.integers(len(CAPABILITIES)))], "level": f"CL{level}"}]
        p = {
            "external_ref": f"{prefix}-{run}-{salt}-{i:06d}", "assessment_type": atype,
            "enterprise": {"name": name, "credit_code": code, "region_code": region, "industry_code": industry,
                           "size": size, "employees": int(employees)},
            "grade": grade, "capabilities": caps,
            "team": [{"person_id": lead, "role": "lead"}] + [{"person_id": m, "role": "member"} for m in members],
            "person_days": float(np.ceil(pd_min * 1.1 * 2) / 2),
            "onsite_start": (end - timedelta(days=2)).isoformat(), "onsite_end": end.isoformat(),
            "decision_date": decided.isoformat(), "certificate_no": f"IIMS-{prefix}-{run}-{salt}-{i:06d}",
        }
        if rng.random() < 0.8:
            cc, consultant = cons[int(rng.integers(len(cons)))]
            p["consulting_body"] = {"credit_code": cc, "consultant_ids": [consultant]}
        out.append(p)
    return out


def prepare(dbname: str, per_clerk: int, run: str):
    import psycopg

    app = benchlib.make_app(dbname)
    cfg = dict(app.config)
    with psycopg.connect(libpq(dbname)) as conn:
        clerks = pick_clerks(conn)
        cons = consulting(conn)
        regs = {c: registry(conn, c) for c in clerks}
        conn.execute("CREATE TABLE IF NOT EXISTS bench_bare_rows (id bigserial PRIMARY KEY, external_ref varchar(64), "
                     "certificate_no varchar(64), payload text)")
        conn.execute("TRUNCATE bench_bare_rows")
    tokens = benchlib.create_tokens(dbname, clerks, name=f"bench-b1-{run}")
    payloads = {c: build_payloads(regs[c], cons, per_clerk, run, k + 1, cfg) for k, c in enumerate(clerks)}
    same = {c: [json.dumps(p, ensure_ascii=False).encode()
                for p in payload_dicts(regs[c], cons, per_clerk, run, k + 51, cfg, prefix="BW")]
            for k, c in enumerate(clerks)}
    return clerks, tokens, payloads, same


def profile_filings(dbname: str, clerk: str, token: str, payloads: list[bytes], top: int = 15) -> dict:
    """cProfile of filings through the Flask test client, and SQL statements per filing."""
    import sqlalchemy as sa

    from auditbo.extensions import db

    app = benchlib.make_app(dbname)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    statements = {"n": 0}
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.__setitem__(
            "n", statements["n"] + 1))
    for body in payloads[:5]:  # warm caches (schemas, mappers, statement cache)
        client.post("/api/v1/assessments", data=body, headers=headers)
    statements["n"] = 0
    prof = cProfile.Profile()
    statuses = {}
    t = time.perf_counter()
    prof.enable()
    for body in payloads[5:]:
        r = client.post("/api/v1/assessments", data=body, headers=headers)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    prof.disable()
    wall = time.perf_counter() - t
    n = len(payloads) - 5
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(r"auditbo/", top)
    log(f"--- B1 profile: {n} filings in-process as {clerk} (statuses {statuses}), top {top} auditbo functions "
        "by cumulative time")
    log(buf.getvalue())
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    log(f"--- B1 profile: top {top} by own time")
    log(buf.getvalue())
    with app.app_context():
        db.engine.dispose()
    return {"per_request_ms": 1000 * wall / n, "statements": statements["n"] / n, "statuses": statuses}


class LockWatch:
    """Samples pg_stat_activity every ~5 ms while the project is loaded: how many of the database's
    backends wait for the event chain's advisory lock, and how many are busy (in a statement or a
    transaction). waiting / busy is the share of the workers' request time spent queueing for the chain."""

    def __init__(self, dbname: str):
        import threading

        self.dbname, self.samples, self.waiting, self.busy = dbname, 0, 0, 0
        self._on = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(libpq(self.dbname), autocommit=True) as c:
            while not self._stop.is_set():
                if self._on.wait(0.05):
                    w, b = c.execute(
                        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'), "
                        "count(*) FILTER (WHERE state IN ('active', 'idle in transaction')) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (self.dbname,)).fetchone()
                    self.samples, self.waiting, self.busy = self.samples + 1, self.waiting + w, self.busy + b
                    time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    @property
    def share(self) -> float:
        return self.waiting / self.busy if self.busy else float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k history, 3 s per side, small profile")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--hosts", type=int, choices=(1, 2), default=1,
                    help="2: also the project on two gunicorn masters (2 workers each) vs one")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--db", default=None, help="a bench database of your own (auditbo_bench*, generated at first "
                    "use at the --quick or full scale), e.g. to keep other benches' writers off the event chain")
    a = ap.parse_args(argv)
    seconds = a.seconds or (3.0 if a.quick else 10.0)
    dbname = benchlib.ensure_history(a.quick, a.db)
    run = time.strftime("%m%d%H%M%S")
    per_clerk = 1500 if a.quick else 4000
    log(f"B1: preparing {per_clerk} filings (and as many for the same-writes baseline) for each of 8 clerks "
        f"on {dbname} …")
    clerks, tokens, payloads, same = prepare(dbname, per_clerk, run)

    env = app_env(dbname)
    if a.hosts == 2:
        env["AUDITBO_RATELIMIT_STORAGE_URI"] = REDIS_LIMITS
    bare_env = dict(env, BENCH_DATABASE_URL=db_url(dbname),
                    PYTHONPATH=os.pathsep.join([str(benchlib.ROOT), str(benchlib.BENCH)]))
    servers = [start_gunicorn("bare_app:app", bare_env, "bare", probe="/health"),
               start_gunicorn("wsgi:app", env, "project", probe="/api/v1/openapi.json")]
    bare, proj = servers
    if a.hosts == 2:
        servers.append(start_gunicorn("wsgi:app", env, "project host 2", probe="/api/v1/openapi.json"))
    k = len(clerks)
    total = per_clerk * k
    served = {"n": 0, "same": 0}

    def bare_req(tid, n):
        c = clerks[n % k]
        return ("POST", "/bare/assessments", payloads[c][(n // k) % per_clerk], {"Content-Type": "application/json"})

    def same_req(tid, n):
        c = clerks[n % k]
        return ("POST", "/bare/filings", same[c][n // k], {"Content-Type": "application/json"})

    def proj_req(tid, n):
        c = clerks[n % k]
        return ("POST", "/api/v1/assessments", payloads[c][n // k],
                {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[c]}"})

    def leg(side: str, connections: int, secs: float, ports=None):
        if side == "bare":
            return run_load(bare.port, bare_req, connections=connections, seconds=secs, expect=(201,), label=side)
        key = "same" if side == "same" else "n"
        r = run_load(ports or (bare.port if side == "same" else proj.port), same_req if side == "same" else proj_req,
                     connections=connections, seconds=secs, expect=(201,), label=side, max_requests=total,
                     start_at=served[key])
        served[key] = r.next_index
        return r

    try:
        half = seconds / 2
        log(f"B1: load average {os.getloadavg()}; A B C A B C (bare, same writes, project), {a.connections} "
            f"connections, {half:g} s per leg …")
        with LockWatch(dbname) as watch:
            legs = []
            for side in ("bare", "same", "project") * 2:
                (watch._on.set if side == "project" else watch._on.clear)()
                legs.append((side, leg(side, a.connections, half)))
            watch._on.clear()
        log(f"B1: 2 connections (one request per worker, no queueing), {half:g} s each side …")
        c2 = {side: leg(side, 2, half) for side in ("bare", "same", "project")}
        scale = []
        if a.hosts == 2:
            ports = [s.port for s in servers[1:]]
            log(f"B1: scale-out, one master vs two (ports {ports}), {a.connections} connections, A B A B …")
            scale = [(h, leg("project", a.connections, half, ports=ports[:h])) for h in (1, 2, 1, 2)]
        if served["n"] >= total or served["same"] >= total:
            log("B1: WARNING: the pre-built filings ran out before the time was up")
    finally:
        for srv in servers:
            srv.stop()
    merged = {side: benchlib.merge([r for s_, r in legs if s_ == side]) for side in ("bare", "same", "project")}
    rb, rs, rp = merged["bare"], merged["same"], merged["project"]
    tag = f"B1 POST /api/v1/assessments ({dbname}, gunicorn 2 sync workers, {a.connections} conns, {seconds:g} s)"
    report_load(tag, rp, rb, thr_target="ratio >= 0.25")
    emit(f"{tag}: throughput vs same-writes baseline (ratio >= 0.6)", rp.rps, rs.rps, None, "req/s")
    for q in (50, 95, 99):
        emit(f"{tag}: p{q} latency vs same-writes baseline", rp.pct(q), rs.pct(q), None, "ms")
    emit(f"{tag}: same-writes baseline vs bare one-INSERT", rs.rps, rb.rps, None, "req/s")
    emit(f"{tag}: errors of the same-writes baseline / requests", rs.errors, rs.count, None, "count")
    emit(f"{tag}: requests completed, project vs bare", rp.count, rb.count, None, "count")
    for side in ("project", "same", "bare"):
        per = [r.rps for s_, r in legs if s_ == side]
        emit(f"{tag}: throughput per leg (A B C A B C), {side} 1st vs 2nd", per[0], per[1], None, "req/s")
    emit(f"{tag}: share of the workers' request time spent waiting for the event chain's advisory lock "
         f"({watch.samples} samples of pg_stat_activity)", watch.share, None, None, "share")
    tag2 = f"B1 POST /api/v1/assessments ({dbname}, 2 conns = one per worker, no queueing, {half:g} s)"
    emit(f"{tag2}: throughput vs bare", c2["project"].rps, c2["bare"].rps, None, "req/s")
    emit(f"{tag2}: throughput vs same-writes baseline", c2["project"].rps, c2["same"].rps, None, "req/s")
    for q in (50, 95, 99):
        emit(f"{tag2}: p{q} latency vs bare", c2["project"].pct(q), c2["bare"].pct(q), None, "ms")
        emit(f"{tag2}: p{q} latency vs same-writes baseline", c2["project"].pct(q), c2["same"].pct(q), None, "ms")
    emit(f"{tag2}: errors / requests", c2["project"].errors, c2["project"].count, None, "count")
    log(f"B1: statuses project={rp.statuses} {c2['project'].statuses} same={rs.statuses} {c2['same'].statuses} "
        f"bare={rb.statuses} {c2['bare'].statuses}")
    for r in (rp, rs, c2["project"], c2["same"]):
        if r.errors:
            log(f"B1: samples {r.label}: {r.samples}")
    if scale:
        one = benchlib.merge([r for h, r in scale if h == 1])
        two = benchlib.merge([r for h, r in scale if h == 2])
        tag3 = (f"B1 scale-out ({dbname}, {a.connections} conns, Redis limiter): 2 gunicorn masters x 2 workers "
                "vs 1 x 2")
        emit(f"{tag3}: throughput", two.rps, one.rps, None, "req/s")
        for q in (50, 95, 99):
            emit(f"{tag3}: p{q} latency", two.pct(q), one.pct(q), None, "ms")
        emit(f"{tag3}: errors / requests (2 masters)", two.errors, two.count, None, "count")
        if two.errors or one.errors:
            log(f"B1: scale-out statuses 2 masters={two.statuses} 1 master={one.statuses}; {two.samples}")

    if not a.no_profile:
        c = clerks[0]
        extra = build_payloads(registry_for(dbname, c), consulting_for(dbname), 30 if a.quick else 205,
                               run + "p", 99, dict(benchlib.make_app(dbname).config))
        token = benchlib.create_tokens(dbname, [c], name=f"bench-b1-profile-{run}")[c]
        prof = profile_filings(dbname, c, token, extra)
        emit("B1 in-process (Flask test client, no server): one filing, profiled", prof["per_request_ms"], None,
             None, "ms")
        emit("B1 SQL statements per filing (Bearer auth + validate + insert + 201 body)", prof["statements"], None,
             None, "count")
    import psycopg

    with psycopg.connect(libpq(dbname)) as conn:
        conn.execute("TRUNCATE bench_bare_rows")
    return 0


REDIS_LIMITS = "redis://127.0.0.1:6379/15"  # the --hosts 2 run's shared rate limits (a database of its own)


def registry_for(dbname: str, clerk: str, enterprises: int = 3000) -> dict:
    import psycopg

    with psycopg.connect(libpq(dbname)) as conn:
        return registry(conn, clerk, enterprises)


def consulting_for(dbname: str) -> list:
    import psycopg

    with psycopg.connect(libpq(dbname)) as conn:
        return consulting(conn)


if __name__ == "__main__":
    sys.exit(main())
