"""Issue 17, item 4: exports stream, and their memory stays flat however many rows a list holds.

Run (one JSON line per figure on standard output)::

    cd <repository root> && .venv/bin/python bench/export_bench.py                 # 1,000,000 rows, CSV (~1 min)
    cd <repository root> && .venv/bin/python bench/export_bench.py --rows 100000 --xlsx

Rows are made on the fly (an assessment list's columns, Chinese names, a formula-like name every
1,000th row) and fed through ``auditbo.exports`` exactly as a list's query result is; the bytes
are counted and thrown away. For each size it reports rows/s, the time to the first byte, and the
growth of the peak resident memory during the export (VmHWM less the RSS at its start,
in a forked child), beside a same-run bare baseline
(``csv.writer`` over the same rows, no labels, no formula guard): the export's peak must not grow
with the row count (flat), and its speed is quoted as a ratio of the baseline's.
Nothing is asserted: the figures are for the closing note.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
import types
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STATUSES = ["standing", "pending_confirmation", "returned", "expired"]


def rows(n: int):
    day = date(2026, 1, 1)
    for i in range(n):
        yield types.SimpleNamespace(
            certificate_no=f"IIMS-2026-AA-{i:07d}",
            external_ref=f"PJ-{i:07d}",
            enterprise_name=('=HYPERLINK("x")' if i % 1000 == 0 else f"示例机械{i}股份有限公司"),
            body_name=f"评定机构{i % 40}",
            grade="A" * (1 + i % 5),
            status=STATUSES[i % 4],
            decision_date=day + timedelta(days=i % 365),
            region_code="350102",
            person_days=16.0,
        )


def columns():
    from auditbo import exports
    from auditbo.filings.models import AssessmentStatus

    return [
        exports.Column("certificate_no", "证书"),
        exports.Column("external_ref", "机构编号"),
        exports.Column("enterprise_name", "企业"),
        exports.Column("body_name", "评定机构"),
        exports.Column("grade", "等级"),
        exports.Column("decision_date", "评定决定日期"),
        exports.Column("status", "状态", label=lambda s: AssessmentStatus(s).title),
        exports.Column("region_code", "省份", label=exports.province_name),
        exports.Column("person_days", "人日"),
    ]


def bare(n: int):
    buf = io.StringIO()
    w = csv.writer(buf)
    for r in rows(n):
        w.writerow(
            [
                r.certificate_no,
                r.external_ref,
                r.enterprise_name,
                r.body_name,
                r.grade,
                r.decision_date.isoformat(),
                r.status,
                r.region_code,
                r.person_days,
            ]
        )
        if buf.tell() > 65536:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


def measure(name: str, make_chunks, n: int) -> dict:
    """One figure in a forked child, so that its peak RSS (VmHWM) is its own and starts from the same base."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_measure_child, args=(child, name, make_chunks, n))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _measure_child(conn, name: str, make_chunks, n: int) -> None:
    start_rss = _rss_kib("VmRSS")
    t0 = time.perf_counter()
    first = None
    size = 0
    for chunk in make_chunks(n):
        if first is None and chunk:
            first = time.perf_counter() - t0
        size += len(chunk)
    wall = time.perf_counter() - t0
    conn.send(
        {
            "figure": name,
            "rows": n,
            "seconds": round(wall, 3),
            "rows_per_s": round(n / wall),
            "first_byte_s": round(first or 0, 4),
            "rss_growth_mib": round((_rss_kib("VmHWM") - start_rss) / 1024, 1),
            "bytes": size,
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--xlsx", action="store_true", help="also the XLSX writer (openpyxl, much slower)")
    args = ap.parse_args()

    from auditbo import create_app, exports

    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": "sqlite://", "SERVER_NAME": "localhost"})
    cols = columns()
    with app.test_request_context("/?lang=zh_Hans_CN"):
        from flask import g

        g.lang = "zh_Hans_CN"
        sizes = sorted({min(10_000, args.rows), args.rows})
        fmts = ["csv", "xlsx"] if args.xlsx else ["csv"]
        for n in sizes:
            base = measure("bare_csv", bare, n)
            print(json.dumps(base), flush=True)
            for fmt in fmts:
                fig = measure(
                    f"export_{fmt}", lambda k, f=fmt: exports.stream(f, cols, rows(k), sheet="评定"), n
                )
                fig["speed_vs_bare"] = round(fig["rows_per_s"] / base["rows_per_s"], 3)
                print(json.dumps(fig), flush=True)


if __name__ == "__main__":
    main()
