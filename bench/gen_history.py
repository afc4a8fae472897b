"""Generate the benchmark history (spec/performance.md) on PostgreSQL, loaded with COPY.

Run::

    cd <repository root> && .venv/bin/python bench/gen_history.py                 # 1,000,000 assessments -> auditbo_bench
    cd <repository root> && .venv/bin/python bench/gen_history.py --scale 0.01    # smoke (10,000) -> auditbo_bench_quick
    cd <repository root> && .venv/bin/python bench/gen_history.py --force         # drop and regenerate
    cd <repository root> && .venv/bin/python bench/gen_history.py --db auditbo_bench_x --scale 0.1   # any scale, own db

Timing (2 cores, shared): ~4.5 minutes for the 1,000,000-assessment history (build in numpy ~30 s,
event chain ~10 s, COPY ~2.5 min, indexes ~30 s, VACUUM ANALYZE ~10 s); ~3 s at scale 0.01.

At scale 1: 1,000,000 assessments over 5 years, 200 assessment bodies, 2,000 consulting bodies,
20,000 persons (12,000 assessors, 8,000 consultants), ~330,000 enterprises, team rows (lead + 1-3),
1-3 capabilities each, consultants, status history (filed -> standing / pending_confirmation ->
standing / returned / rejected, -> expired ...), confirmation audits for AAA+, and one chained
"filed" event per assessment (the log verifies). Credit codes are valid (auditbo.codes).

Users (password ``bench-password-2026``): ``admin``, ``supervisor01`` .. ``supervisor10``, and one
clerk per assessment body, ``clerk001`` .. ``clerk200`` (clerk001 belongs to the largest body).
API tokens are issued by the benches themselves (``auditbo.accounts.services.create_token``).

How: a fresh database on 127.0.0.1:5432 (user postgres, trust), the app's migrations
(``flask_migrate.upgrade``), then numpy-vectorised rows written with psycopg 3 ``COPY`` (foreign-key
triggers off with ``session_replication_role = replica`` and secondary indexes dropped during the load
and rebuilt after), sequences set past the explicit ids, ``VACUUM ANALYZE``. A marker table
``bench_history`` records the scale; a database that already holds the history is reused (say
``--force`` to rebuild).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import benchlib  # noqa: E402
from benchlib import PASSWORD, libpq, log  # noqa: E402
from history_rows import BIG_TABLES, SEED, SEQ_TABLES, build, build_events  # noqa: E402


def _admin():
    import psycopg

    return psycopg.connect(libpq("postgres"), autocommit=True)


def database_exists(name: str) -> bool:
    with _admin() as c:
        return c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def marker(name: str) -> dict | None:
    import psycopg

    if not database_exists(name):
        return None
    with psycopg.connect(libpq(name)) as c:
        if c.execute("SELECT to_regclass('bench_history')").fetchone()[0] is None:
            return None
        row = c.execute("SELECT value FROM bench_history WHERE key = 'history'").fetchone()
        return row[0] if row else None


def recreate_database(name: str) -> None:
    assert name.startswith("auditbo_bench"), "only the bench's own databases"
    with _admin() as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


def migrate(name: str) -> None:
    from flask_migrate import upgrade

    app = benchlib.make_app(name)
    with app.app_context():
        upgrade()
        from auditbo.extensions import db

        db.engine.dispose()


def ensure(name: str, scale: float, *, force: bool = False, seed: int = SEED) -> dict:
    """Generate unless the database already holds this history; returns the marker."""
    m = None if force else marker(name)
    if m is not None and abs(m.get("scale", -1) - scale) >= 1e-12:
        raise SystemExit(f"{name} holds a history at scale {m.get('scale')}, not {scale}: "
                         "say --force to replace it, or name another database with --db")
    if m is not None and m.get("complete"):
        log(f"{name}: history already present ({m['counts']['assessments']:,} assessments, scale {scale}, "
            f"generated {m['generated_at']} in {m['seconds']:.0f} s); skipping (--force to rebuild)")
        return m
    return generate(name, scale, seed=seed)


# --- the world ---------------------------------------------------------------------------------
def _copy(cur, table: str, df: pd.DataFrame, chunk: int = 200_000) -> None:
    cols = ", ".join(f'"{c}"' for c in df.columns)
    for c in df.columns:  # UTC timestamps: make sure pandas writes an offset
        if pd.api.types.is_datetime64_any_dtype(df[c]) and getattr(df[c].dt, "tz", None) is None \
                and c not in ("onsite_start", "onsite_end", "decision_date", "valid_until", "due_date"):
            df[c] = df[c].dt.tz_localize("UTC")
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)") as cp:
        for i in range(0, len(df), chunk):
            buf = io.StringIO()
            df.iloc[i:i + chunk].to_csv(buf, header=False, index=False)
            cp.write(buf.getvalue())


def _secondary(cur, tables: list[str]) -> tuple[list[tuple], list[tuple]]:
    """(plain indexes, unique constraints) of the tables, other than primary keys."""
    idx = cur.execute(
        """SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""", (tables,)).fetchall()
    uqs = cur.execute(
        """SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
           JOIN pg_class t ON t.oid = c.conrelid
           WHERE c.contype = 'u' AND t.relname = ANY(%s)""", (tables,)).fetchall()
    return idx, uqs


def generate(name: str, scale: float, *, seed: int = SEED) -> dict:
    import psycopg

    from auditbo.accounts.services import hash_password

    t_all = time.perf_counter()
    log(f"{name}: creating a fresh database and running the migrations …")
    recreate_database(name)
    migrate(name)
    app = benchlib.make_app(name)
    with app.app_context():
        cfg = dict(app.config)
        pw_hash = hash_password(PASSWORD)
    as_of = date.today()
    t = time.perf_counter()
    log(f"{name}: building the history in memory (scale {scale}) …")
    tables = build(scale, seed, as_of, cfg)
    tables["users"] = tables["users"].assign(password_hash=pw_hash, active=True, failed_logins=0,
                                             created_at=datetime.now(UTC))
    log(f"{name}: … {len(tables['assessments']):,} assessments built in {time.perf_counter() - t:.0f} s; "
        "chaining the event log …")
    t = time.perf_counter()
    tables["events"] = build_events(tables)
    log(f"{name}: … {len(tables['events']):,} events in {time.perf_counter() - t:.0f} s; loading with COPY …")
    t = time.perf_counter()
    with psycopg.connect(libpq(name)) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers: the rows are consistent by build
        cur.execute("SET maintenance_work_mem = '1GB'")
        idx, uqs = _secondary(cur, BIG_TABLES)
        for _table, iname, _ in idx:
            cur.execute(f'DROP INDEX "{iname}"')
        for table, cname, _ in uqs:
            cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{cname}"')
        for table in ["organisations", "persons", "users", "affiliations", "enterprises", "assessments",
                      "assessment_team", "assessment_consultants", "assessment_capabilities",
                      "assessment_status_changes", "confirmation_audits", "events"]:
            t1 = time.perf_counter()
            _copy(cur, table, tables[table])
            log(f"   {table}: {len(tables[table]):,} rows in {time.perf_counter() - t1:.1f} s")
        log(f"{name}: rebuilding {len(idx)} indexes and {len(uqs)} unique constraints …")
        t1 = time.perf_counter()
        for table, cname, definition in uqs:
            cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{cname}" {definition}')
        for _, _, definition in idx:
            cur.execute(definition)
        log(f"   … in {time.perf_counter() - t1:.1f} s")
        for table in SEQ_TABLES:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table}), 1))")
        cur.execute("SET session_replication_role = DEFAULT")
        conn.commit()
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    with psycopg.connect(libpq(name), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    log(f"{name}: COPY + indexes {load_s:.0f} s, VACUUM ANALYZE {time.perf_counter() - t:.0f} s")
    counts = {k: len(v) for k, v in tables.items()}
    counts["assessment_bodies"] = int((tables["organisations"]["kind"] == "assessment_body").sum())
    counts["consulting_bodies"] = int((tables["organisations"]["kind"] == "consulting_body").sum())
    seconds = time.perf_counter() - t_all
    m = {"scale": scale, "seed": seed, "as_of": as_of.isoformat(), "counts": counts, "seconds": seconds,
         "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "complete": True}
    with psycopg.connect(libpq(name)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_history (key text PRIMARY KEY, value jsonb NOT NULL)")
        conn.execute("INSERT INTO bench_history VALUES ('history', %s) ON CONFLICT (key) DO UPDATE SET value = "
                     "EXCLUDED.value", (json.dumps(m),))
    log(f"{name}: done in {seconds:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return m


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=None, help="database name (auditbo_bench*); default auditbo_bench at scale 1, "
                    "auditbo_bench_quick at 0.01, auditbo_bench_s<scale> otherwise")
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 assessments; 0.01 for a smoke")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--force", action="store_true", help="drop and regenerate even if the history is there")
    a = ap.parse_args(argv)
    if a.db is None:
        a.db = {1.0: benchlib.FULL_DB, benchlib.QUICK_SCALE: benchlib.QUICK_DB}.get(
            a.scale, f"auditbo_bench_s{str(a.scale).replace('.', '_')}")
    if not a.db.startswith("auditbo_bench"):
        ap.error("the bench only touches its own databases (auditbo_bench*)")
    m = ensure(a.db, a.scale, force=a.force, seed=a.seed)
    print(json.dumps({"bench": "history generation", "value": round(m["seconds"], 1), "baseline": None,
                      "ratio": None, "unit": "s"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
