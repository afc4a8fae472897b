"""B5 of spec/performance.md for the rating engine: the monthly rating path on PostgreSQL
against a bare ``GROUP BY subject, month`` over the same 1,000,000 events, same run.

Run through ``bench/rating_bench.py`` (which also runs this file's child for peak memory).
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import rating
from rating import Rater
from rating.events import format_period

DSN = os.environ.get("RATING_BENCH_DSN", "host=127.0.0.1 user=postgres dbname=test")
TABLE = os.environ.get("RATING_BENCH_TABLE", "bench_rating_events")  # own name: runs side by side
PERIOD = "2024-12"
BENCH = Path(__file__).resolve().parent / "rating_bench.py"


def month_str(offset: int) -> str:
    return str(pd.Period(PERIOD, "M") + offset)


# labels added to every line (the benchmark's scenario), set by rating_bench.py
LABEL: dict = {}


def emit(bench, value, baseline=None, unit="", **extra):
    """Print one figure as a JSON line (the format of spec/performance.md)."""

    def r(v):
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 4)

    ratio = r(value / baseline) if value is not None and baseline not in (None, 0) else None
    line = {
        "bench": bench,
        "value": r(value),
        "baseline": r(baseline),
        "ratio": ratio,
        "unit": unit,
        **LABEL,
        **extra,
    }
    print(json.dumps(line), flush=True)


# -- B5 ------------------------------------------------------------------------------
# body_id: the body of the event's case that a person is rated against (an assessor's
# assessment body, a consultant's consulting body), which lets the engine tell a person's
# own effect from its body's. In auditbo it comes with the assessment the event belongs
# to; the flat bench table stores it on the event row (see load_table), so the timed path
# does not pay for a join. LINKED_SQL measures what deriving it by a self-join would cost.
# The groups' keys are compared bytewise (COLLATE "C"): the sort of the GROUP BY is about a
# quarter faster than with the database's locale-aware comparison, and the rows' order means
# nothing to the engine but the order of float sums. subject_type and event travel as their
# position in the vocabulary's alphabetical order and the month as its index (year * 12 +
# month - 1), as the app's job reads them (integer codes made categorical, auditbo/ratings/
# events.py): narrower keys to sort, fewer bytes to send and parse, and the rows in the same
# order as by their text. Under the bench's C.UTF-8 database that order is the one without
# COLLATE, byte for byte.
CODED = {"subject_type": tuple(sorted(rating.SUBJECT_TYPES)), "event": tuple(sorted(rating.EVENTS))}


def _case(col: str, alias: str = "") -> str:
    """SQL: the position of ``col`` in CODED (-1 if unknown: encode then rejects the row)."""
    whens = " ".join(f"WHEN '{v}' THEN {i}" for i, v in enumerate(CODED[col]))
    return f"CASE {alias}{col} {whens} ELSE -1 END"


def _month(alias: str = "") -> str:
    return f"(date_part('year', {alias}event_date) * 12 + date_part('month', {alias}event_date) - 1)::int"


PROJECT_SQL = (
    f'COPY (SELECT subject_id COLLATE "C" AS subject_id, {_case("subject_type")} AS subject_type, '
    f"{_month()} AS month, "
    f'{_case("event")} AS event, checker_id COLLATE "C" AS checker_id, body_id COLLATE "C" AS body_id, '
    "count(*) AS n FROM {table} {where} GROUP BY 1, 2, 3, 4, 5, 6) TO STDOUT WITH (FORMAT csv, HEADER true)"
)
LINKED_SQL = (
    f"COPY (SELECT e.subject_id, {_case('subject_type', 'e.')} AS subject_type, {_month('e.')} AS month, "
    f"{_case('event', 'e.')} AS event, "
    "e.checker_id, b.subject_id AS body_id, count(*) AS n FROM {table} e LEFT JOIN (SELECT DISTINCT ON "
    "(case_id, subject_type) case_id, subject_type, subject_id FROM {table} WHERE subject_type IN "
    "('assessment_body', 'consulting_body') ORDER BY case_id, subject_type, subject_id) b "
    "ON b.case_id = e.case_id AND b.subject_type = CASE e.subject_type WHEN 'assessor' THEN "
    "'assessment_body' WHEN 'consultant' THEN 'consulting_body' END {where} GROUP BY 1, 2, 3, 4, 5, 6) "
    "TO STDOUT WITH (FORMAT csv, HEADER true)"
)
BASELINE_SQL = (
    "SELECT subject_id, date_trunc('month', event_date) AS month, count(*) FROM {table} {where} GROUP BY 1, 2"
)


def project_path(conn, where: str = "", sql: str = PROJECT_SQL) -> tuple[pd.DataFrame, dict]:
    """B5's model of the monthly job: aggregate in SQL, fetch with COPY, run the engine. (The
    app's job reads the same window but derives raw events from its own tables,
    auditbo/ratings/events.py; bench/ratings_app_bench.py measures that run.)"""
    buf = io.BytesIO()
    with conn.cursor() as cur, cur.copy(sql.format(table=TABLE, where=where)) as cp:
        for block in cp:
            buf.write(block)
    buf.seek(0)
    text = pd.CategoricalDtype()  # repeated strings: categories keep memory down
    dtypes = {
        "subject_id": text,
        "subject_type": np.int8,
        "month": np.int32,
        "event": np.int8,
        "checker_id": text,
        "body_id": text,
        "n": np.int64,
    }
    counts = pd.read_csv(buf, dtype=dtypes, keep_default_na=False)
    for col, names in CODED.items():
        counts[col] = pd.Categorical.from_codes(counts[col], categories=names)
    first = int(counts["month"].min()) if len(counts) else 0
    months = [format_period(m) for m in range(first, int(counts["month"].max()) + 1)] if len(counts) else []
    counts["month"] = pd.Categorical.from_codes(counts["month"] - first, categories=months)
    codes = rating.encode(counts)
    cfg = rating.RatingConfig()
    p = rating.parse_period(PERIOD)
    # last month's ratings are stored in auditbo; here they are computed (a cost the job
    # does not have) and this month keeps to their grades within the hysteresis band
    runs = {
        k: Rater(cfg, explain=False).fit_transform(codes, month_str(-k)) for k in (1, cfg.backtest_months)
    }
    runs[0] = Rater(cfg).fit_transform(codes, PERIOD, runs[1])
    rep = rating.validation_report(
        codes, PERIOD, cfg, current=runs[0], previous=runs[1], past=runs[cfg.backtest_months]
    )
    out = rating.compare(runs[1], runs[0])
    assert p and len(out)
    return out, {"rows_fetched": len(counts), "auroc": rep.auroc}


def baseline_copy(conn, where: str = "") -> int:
    buf = io.BytesIO()
    with conn.cursor() as cur, cur.copy(f"COPY ({BASELINE_SQL.format(table=TABLE, where=where)}) TO STDOUT") as cp:
        for block in cp:
            buf.write(block)
    return buf.getbuffer().nbytes


def baseline_fetchall(conn, where: str = "") -> int:
    with conn.cursor() as cur:
        cur.execute(BASELINE_SQL.format(table=TABLE, where=where))
        return len(cur.fetchall())


def load_table(conn, events: pd.DataFrame) -> None:
    body_of = {}
    for person, body in (("assessor", "assessment_body"), ("consultant", "consulting_body")):
        rows = events.loc[events["subject_type"] == body, ["case_id", "subject_id"]]
        body_of[person] = rows.drop_duplicates("case_id").set_index("case_id")["subject_id"]
    body_id = pd.Series(None, index=events.index, dtype=object)
    for person, m in body_of.items():
        sel = events["subject_type"] == person
        body_id[sel] = events.loc[sel, "case_id"].map(m)
    events = events.assign(body_id=body_id)
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(
            f"CREATE TABLE {TABLE} (subject_id text NOT NULL, subject_type text NOT NULL, event_date date NOT NULL, "
            "event text NOT NULL, checker_id text, case_id text, body_id text)"
        )
        data = events.to_csv(index=False, header=False).encode()
        with cur.copy(f"COPY {TABLE} FROM STDIN WITH (FORMAT csv)") as cp:
            for i in range(0, len(data), 1 << 20):
                cp.write(data[i : i + (1 << 20)])
        cur.execute(f"ANALYZE {TABLE}")
    conn.commit()


def timed(fns: dict, reps: int, raw: dict | None = None) -> dict:
    """Median seconds of each function, the functions taking turns (``raw``, if given,
    receives every repetition's seconds, for paired ratios)."""
    times: dict = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    if raw is not None:
        raw.update(times)
    return {k: float(np.median(v)) for k, v in times.items()}


def b5(events: pd.DataFrame, reps: int) -> None:
    try:
        import psycopg

        conn = psycopg.connect(DSN)
    except Exception as exc:  # noqa: BLE001 - report and go on
        print(
            json.dumps(
                {"bench": "rating.B5", "error": f"PostgreSQL unavailable: {' '.join(str(exc).split())}"}
            ),
            flush=True,
        )
        return
    try:
        t = time.perf_counter()
        load_table(conn, events)
        load_s = time.perf_counter() - t
        project_path(conn)  # warm the cache (both sides then read a warm table)
        # what the monthly job reads (auditbo/ratings/events.py, window()): from the first month
        # any of the run's ratings looks at (rating.earliest_month) to the end of the period
        cutoff = rating.earliest_month(PERIOD)
        where = f"WHERE event_date >= '{cutoff}-01' AND event_date < '{month_str(1)}-01'"
        # interleaved, so that a busy moment on a shared machine hits both sides alike
        t = timed(
            {
                "copy": lambda: baseline_copy(conn),
                "fetchall": lambda: baseline_fetchall(conn),
                "copy_window": lambda: baseline_copy(conn, where),
                "fetchall_window": lambda: baseline_fetchall(conn, where),
                "window": lambda: project_path(conn, where),
                "all": lambda: project_path(conn),
                "joined": lambda: project_path(conn, where, sql=LINKED_SQL),
            },
            reps,
            raw := {},
        )
        # the machine is shared: a busy moment slows both sides of one repetition alike, so
        # the median of the per-repetition ratios is given next to the ratio of the medians
        # "over the same events": the job's read against the bare GROUP BY over the same window,
        # the every-event read against the bare GROUP BY over every event
        paired = float(
            np.median(
                np.array(raw["window"])
                / np.minimum(np.array(raw["copy_window"]), np.array(raw["fetchall_window"]))
            )
        )
        base_copy, base_fetch = t["copy_window"], t["fetchall_window"]
        baseline = min(base_copy, base_fetch)
        baseline_all = min(t["copy"], t["fetchall"])
        _, info = project_path(conn, where)
        child = subprocess.run(
            [sys.executable, str(BENCH), "--b5-child"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "RATING_BENCH_WHERE": where},
        )
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0  # KiB -> MiB on Linux
        emit(
            "rating.B5.seconds",
            t["window"],
            baseline,
            f"s, the job's read: events since {cutoff} (baseline: bare GROUP BY subject, month over the "
            "same events; target ratio <= 3)",
            events=len(events),
            rows_fetched=info["rows_fetched"],
            baseline_copy_s=round(base_copy, 4),
            baseline_fetchall_s=round(base_fetch, 4),
            repetitions=reps,
            median_paired_ratio=round(paired, 4),
            load_s=round(load_s, 2),
        )
        emit(
            "rating.B5.seconds_all_events",
            t["all"],
            baseline_all,
            "s, project reading every event of the table (more than the job needs; baseline over every event)",
        )
        emit(
            "rating.B5.seconds_with_self_join",
            t["joined"],
            baseline,
            f"s, the job's read (since {cutoff}) deriving body_id by a self-join on case_id instead of reading it",
        )
        emit(
            "rating.B5.peak_memory",
            rss,
            1024.0,
            "MiB (baseline: the 1 GiB target)",
            child_ok=child.returncode == 0,
            child_stderr=child.stderr.strip()[-200:] or None,
        )
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.commit()
        conn.close()


def b5_child() -> int:
    import psycopg

    with psycopg.connect(DSN) as conn:
        project_path(conn, os.environ.get("RATING_BENCH_WHERE", ""))
    return 0
