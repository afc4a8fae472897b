"""B3 (spec/performance.md): import of a 100,000-row CSV in the published template, full validation.

Run (one JSON line per figure on standard output; the profile goes to standard error)::

    cd <repository root> && .venv/bin/python bench/b3_bench.py            # 100,000 rows on the 1M history
    cd <repository root> && .venv/bin/python bench/b3_bench.py --quick    # 1,000 rows on the 10k history (~20 s)
    cd <repository root> && .venv/bin/python bench/b3_bench.py --no-profile
    cd <repository root> && .venv/bin/python bench/b3_bench.py --keep-csv   # keep the CSV, reuse it next time

Nothing to install (pandas and psycopg 3 come with the project's virtualenv).

* The CSV: the template's header (``auditbo.filings.imports.COLUMNS``, "中文名 field"), 100,000 distinct
  valid rows for the largest body (clerk001): teams of its assessors (a senior lead for AAA+), grades
  mixed like the market, half surveillance of the body's existing enterprises, half new enterprises,
  80 % with a consulting body and consultant.
* Project, in a fresh subprocess (app in production settings, bench database): ``imports.read_upload``
  then ``services.file_many(body, payloads, actor=…)`` (the real service path: every rule, the bulk
  inserts, confirmation audits, events) and a flush, timed with ``perf_counter``, then the transaction is
  ROLLED BACK so the 1M history stays as it was. On PostgreSQL a checked batch is written in a thread
  while the next is checked (``auditbo.filings.bulk``); ``--serial`` (child option) writes in the loop.
  CPU: the child's ``process_time`` (both threads; the server's work is in its own process). Peak
  memory: the child's ``ru_maxrss``, also as the parent sees it (``RUSAGE_CHILDREN``).
* Baseline, in another fresh subprocess, same run, same file: ``pandas.read_csv`` + one Core
  ``executemany`` INSERT of the same rows into the scratch table ``bench_b3_scratch`` (rolled back).
* Profile: the project child again under cProfile on the first 10,000 rows (per-row costs are the same;
  the service files in batches of 2,000), top 15 by cumulative and by own time; written in the loop
  (cProfile follows one thread), so the profile shows the checks and the writes together.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import benchlib  # noqa: E402
from benchlib import emit, libpq, log  # noqa: E402

CLERK = "clerk001"


def to_row(p: dict) -> list[str]:
    e = p["enterprise"]
    cb = p.get("consulting_body") or {}
    return [
        p["external_ref"], p["assessment_type"], e["name"], e["credit_code"], e["region_code"], e["industry_code"],
        e["size"], str(e["employees"]), p["grade"], ";".join(f"{c['name']}:{c['level']}" for c in p["capabilities"]),
        cb.get("credit_code", ""), ";".join(cb.get("consultant_ids", [])),
        ";".join(f"{m['person_id']}:{m['role']}" for m in p["team"]), f"{p['person_days']:g}", "",
        p["onsite_start"], p["onsite_end"], p["decision_date"], p["certificate_no"], "",
    ]


def write_csv(dbname: str, rows: int, path: Path) -> None:
    import b1_bench

    from auditbo.filings.imports import COLUMNS, header_label

    reg = b1_bench.registry_for(dbname, CLERK, enterprises=rows // 2)
    cons = b1_bench.consulting_for(dbname)
    cfg = dict(benchlib.make_app(dbname).config)
    run = time.strftime("%m%d%H%M%S")
    payloads = b1_bench.payload_dicts(reg, cons, rows, run, 42, cfg, prefix="B3", existing_share=0.5)
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow([header_label(fld, zh) for fld, zh in COLUMNS])
        for p in payloads:
            w.writerow(to_row(p))


# --- children ----------------------------------------------------------------------------------
def vm(key: str) -> float:
    """VmHWM (peak) or VmRSS (now) of this process in MiB; unlike ru_maxrss, VmHWM starts afresh at exec."""
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_project(dbname: str, path: str, profile: bool, serial: bool = False) -> dict:
    import sqlalchemy as sa

    from auditbo.filings import bulk

    bulk.OVERLAP = not (serial or profile)  # cProfile sees one thread: the profiled run writes in the loop

    from auditbo.accounts.models import User
    from auditbo.events import Actor
    from auditbo.extensions import db
    from auditbo.filings import imports, services
    from auditbo.orgs.models import Organisation

    app = benchlib.make_app(dbname)
    out = {}
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == CLERK))
        body = db.session.get(Organisation, user.org_id)
        actor = Actor(user.id, user.username)
        out["rss_before_mib"] = vm("VmRSS")
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        c0, t0 = time.process_time(), time.perf_counter()
        with open(path, "rb") as f:
            payloads = imports.read_upload(Path(path).name, f)
        t1 = time.perf_counter()
        result = services.file_many(body, payloads, actor=actor)
        db.session.flush()
        t2 = time.perf_counter()
        if prof is not None:
            prof.disable()
        db.session.rollback()  # the 1M history stays as it was
        out.update(rows=result["rows"], read_s=t1 - t0, file_s=t2 - t1, seconds=t2 - t0, result=result,
                   cpu_s=time.process_time() - c0)
        if prof is not None:
            import io
            import pstats

            for key, restrict in (("cumulative", ""), ("cumulative", r"auditbo/"), ("tottime", "")):
                buf = io.StringIO()
                st = pstats.Stats(prof, stream=buf).sort_stats(key)
                st.print_stats(restrict, 15) if restrict else st.print_stats(15)
                log(f"--- B3 profile of the import ({result['rows']:,} rows), top 15 "
                    f"{'auditbo functions ' if restrict else ''}by {key}")
                log(buf.getvalue())
        db.engine.dispose()
    out["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["hwm_mib"] = vm("VmHWM")
    return out


def child_baseline(dbname: str, path: str) -> dict:
    import pandas as pd
    import sqlalchemy as sa

    from auditbo.filings.imports import COLUMNS

    engine = sa.create_engine(benchlib.db_url(dbname))
    meta = sa.MetaData()
    table = sa.Table("bench_b3_scratch", meta, *[sa.Column(f, sa.Text) for f, _ in COLUMNS])
    meta.create_all(engine)
    out = {"rss_before_mib": vm("VmRSS")}
    c0, t0 = time.process_time(), time.perf_counter()
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [f for f, _ in COLUMNS]
    t1 = time.perf_counter()
    with engine.connect() as conn:
        trans = conn.begin()
        conn.execute(sa.insert(table), df.to_dict("records"))
        t2 = time.perf_counter()
        cpu = time.process_time() - c0
        trans.rollback()
    engine.dispose()
    out.update(rows=len(df), read_s=t1 - t0, file_s=t2 - t1, seconds=t2 - t0, cpu_s=cpu,
               maxrss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, hwm_mib=vm("VmHWM"))
    return out


def run_child(kind: str, dbname: str, path: Path, profile: bool = False, rows: int = 0) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--db", dbname, "--csv", str(path), "--rows", str(rows)]
    if profile:
        cmd.append("--profile")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 rows on the 10k history")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--keep-csv", action="store_true",
                    help="keep the generated CSV in the temp directory and reuse it on the next run")
    ap.add_argument("--profile-rows", type=int, default=None,
                    help="rows of the profiled import (default: 10,000; the whole file with --quick)")
    ap.add_argument("--child", choices=("project", "baseline", "csv"), help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--serial", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child == "project":
        print(json.dumps(child_project(a.db, a.csv, a.profile, a.serial), default=str))
        return 0
    if a.child == "baseline":
        print(json.dumps(child_baseline(a.db, a.csv)))
        return 0
    if a.child == "csv":  # in a child, so that the parent stays small (ru_maxrss is inherited across fork)
        write_csv(a.db, a.rows, Path(a.csv))
        print(json.dumps({"rows": a.rows}))
        return 0

    rows = a.rows or (1_000 if a.quick else 100_000)
    dbname = benchlib.ensure_history(a.quick)
    path = Path(tempfile.gettempdir()) / f"auditbo_b3_{dbname}_{rows}.csv"
    t = time.perf_counter()
    if a.keep_csv and path.exists():
        log(f"B3: reusing {path} (--keep-csv)")
    else:
        run_child("csv", dbname, path, rows=rows)
    log(f"B3: wrote {rows:,} rows ({path.stat().st_size / 2**20:.1f} MiB) to {path} in {time.perf_counter() - t:.0f} s")
    prof_rows = a.profile_rows or (rows if a.quick else min(rows, 10_000))
    prof_path = path if prof_rows >= rows else Path(tempfile.gettempdir()) / f"auditbo_b3_{dbname}_{rows}_head{prof_rows}.csv"
    if prof_path != path:
        with open(path, encoding="utf-8-sig") as src, open(prof_path, "w", encoding="utf-8-sig") as dst:
            for i, line in enumerate(src):
                if i > prof_rows:
                    break
                dst.write(line)
    try:
        log("B3: project import (read_upload + file_many, rolled back) …")
        proj = run_child("project", dbname, path)
        peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        log(f"B3: project {proj}")
        log("B3: baseline (pandas.read_csv + Core executemany, rolled back) …")
        base = run_child("baseline", dbname, path)
        log(f"B3: baseline {base}")
        tag = f"B3 import of a {rows:,}-row CSV ({dbname})"
        r, rb = proj["rows"] / proj["seconds"], base["rows"] / base["seconds"]
        emit(f"{tag}: throughput, read + validate + file (target >= 5,000 rows/s) vs pandas + Core executemany",
             r, rb, r / rb, "rows/s")
        emit(f"{tag}: wall, read + validate + file vs baseline", proj["seconds"], base["seconds"],
             proj["seconds"] / base["seconds"], "s")
        emit(f"{tag}: CPU of the importing process (both threads; the server's is not counted) per 1,000 rows vs "
             "baseline process", 1000 * proj["cpu_s"] / proj["rows"], 1000 * base["cpu_s"] / base["rows"],
             proj["cpu_s"] / base["cpu_s"], "s")
        emit(f"{tag}: peak memory (VmHWM) of the importing process (target <= 1024 MiB) vs baseline process",
             proj["hwm_mib"], base["hwm_mib"], proj["hwm_mib"] / base["hwm_mib"], "MiB")
        emit(f"{tag}: peak memory (ru_maxrss) of the importing process vs baseline process",
             proj["maxrss_mib"], base["maxrss_mib"], proj["maxrss_mib"] / base["maxrss_mib"], "MiB")
        emit(f"{tag}: resident memory before the import (app loaded) vs baseline process (pandas loaded)",
             proj["rss_before_mib"], base["rss_before_mib"], None, "MiB")
        emit(f"{tag}: peak memory as the parent sees its child (RUSAGE_CHILDREN)", peak_children, None, None, "MiB")
        emit(f"{tag}: rows filed (all valid, rolled back)", proj["result"]["filed"], rows, None, "count")
        if not a.no_profile:
            log(f"B3: profiling the project import of the first {prof_rows:,} rows (cProfile, batches written in the "
                "loop so that one profile sees the writes too; slower than the timed run) …")
            prof = run_child("project", dbname, prof_path, profile=True)
            emit(f"B3 import of the first {prof_rows:,} rows under cProfile (for the profile only): rows/s",
                 prof["rows"] / prof["seconds"], None, None, "rows/s")
    finally:
        import psycopg

        with psycopg.connect(libpq(dbname)) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_b3_scratch")
        if not a.keep_csv:
            path.unlink(missing_ok=True)
            prof_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
