"""Issue 15: a monthly ratings run from the database, as a ratio to B5's bare SQL ``GROUP BY``.

Run (one JSON line per figure on standard output; progress on standard error)::

    cd <repository root> && nice .venv/bin/python bench/ratings_app_bench.py              # demo + 1M history
    cd <repository root> && nice .venv/bin/python bench/ratings_app_bench.py --quick      # demo at 0.1 + 10k history
    cd <repository root> && nice .venv/bin/python bench/ratings_app_bench.py --only demo  # or: --only history

Targets, both on PostgreSQL (127.0.0.1:5432, user postgres):

* ``demo``: the demo population (``seed demo``'s history and its ratings, loaded once through
  ``auditbo.demo.load_demo`` into the throwaway database ``auditbo_bench_ratings_demo``, reused when present);
* ``history``: the 1,000,000-assessment bench history (``bench/gen_history.py``, database
  ``auditbo_bench``; generated the first time, ~5 minutes).

For each, the month before today (what the scheduler runs on the 1st):

* ``run``: :func:`auditbo.ratings.services.run_period`: the engine's events derived from the app's
  tables (:mod:`auditbo.ratings.events`), the engine (ratings, last month's, the backtest month's,
  the validation report) and every rating stored as a draft; then rolled back, the database is left
  as it was. ``derive`` is the event derivation alone (a part of ``run``);
* ``baseline``: B5's bare SQL ``GROUP BY subject, month`` (bench/rating_b5.py) over the same data:
  the outcomes the run reads in its window (filings, confirmation decisions, closed spot checks),
  each held against the parties of its record (body, team, consulting body, consultants), counted
  per subject and month and fetched. The goal: ``run`` at most 5 x ``baseline``.

The functions take turns (a busy moment of the shared machine hits both sides alike); the median
of ``--reps`` repetitions is given. The demo's grade distribution (its latest published month) is
printed as one more line, for the issue's closing note.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import benchlib  # noqa: E402
from benchlib import log  # noqa: E402

BASELINE_SQL = """
WITH outcomes AS (
    SELECT id AS case_id, filed_at AS at FROM assessments WHERE filed_at >= %(since)s AND filed_at < %(until)s
    UNION ALL
    SELECT assessment_id, decided_at FROM confirmation_audits
     WHERE status = 'decided' AND decided_at >= %(since)s AND decided_at < %(until)s
    UNION ALL
    SELECT assessment_id, closed_on::timestamptz FROM spot_checks
     WHERE status = 'closed' AND closed_on >= %(first)s AND closed_on <= %(last)s
), parties AS (
    SELECT id AS case_id, 'o' || body_id AS subject FROM assessments
    UNION ALL
    SELECT id, 'o' || consulting_body_id FROM assessments WHERE consulting_body_id IS NOT NULL
    UNION ALL
    SELECT assessment_id, 'p' || person_id FROM assessment_team
    UNION ALL
    SELECT assessment_id, 'p' || person_id FROM assessment_consultants
)
SELECT p.subject, date_trunc('month', o.at) AS month, count(*) FROM outcomes o JOIN parties p USING (case_id)
GROUP BY 1, 2
"""


DEMO_DB = "auditbo_bench_ratings_demo"


def ensure_demo(scale: float) -> str:
    return benchlib.ensure_demo(DEMO_DB, scale, "rating_runs")


def _median(values: list[float]) -> float:
    s = sorted(values)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def emit(bench: str, value, baseline=None, unit: str = "", **extra) -> None:
    import json

    def r(x):
        return None if x is None else round(float(x), 4)

    ratio = value / baseline if value is not None and baseline else None
    print(json.dumps({"bench": bench, "value": r(value), "baseline": r(baseline), "ratio": r(ratio), "unit": unit,
                      **extra}, ensure_ascii=False), flush=True)


def measure(target: str, dbname: str, reps: int) -> None:
    from auditbo.clock import start_of, today
    from auditbo.events import Actor
    from auditbo.extensions import db
    from auditbo.ratings import events as rating_events
    from auditbo.ratings import services

    app = benchlib.make_app(dbname)
    with app.app_context():
        period = services.previous_period(services.period_of(today()))
        first, last = rating_events.window(period)
        args = {"since": start_of(first), "until": start_of(last + timedelta(days=1)), "first": first, "last": last}
        raw = db.engine.raw_connection()
        facts = {}

        def baseline():
            cur = raw.cursor()
            cur.execute(BASELINE_SQL, args)
            facts["groups"] = len(cur.fetchall())
            cur.close()
            raw.rollback()

        def derive():
            facts["events"] = len(rating_events.rating_events(period))
            db.session.rollback()

        def run():
            r = services.run_period(period, actor=Actor(None, "bench"))
            facts["state"], facts["subjects"] = r.state, (r.validation or {}).get("subjects")
            db.session.rollback()  # the month's draft is not kept

        log(f"{target}: {dbname}, period {period} (window {first} .. {last}), {reps} repetition(s) …")
        times: dict[str, list[float]] = {"baseline": [], "derive": [], "run": []}
        for i in range(reps):
            for name, fn in (("baseline", baseline), ("derive", derive), ("run", run)):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
            log(f"  repetition {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
        raw.close()
        base = _median(times["baseline"])
        assessments = db.session.scalar(db.text("SELECT count(*) FROM assessments"))
        emit(f"ratings_app.{target}.run_seconds", _median(times["run"]), base,
             "s (baseline: bare SQL GROUP BY subject, month over the same window; goal ratio <= 5)",
             period=period, assessments=assessments, events=facts.get("events"), subjects=facts.get("subjects"),
             state=facts.get("state"), baseline_groups=facts.get("groups"), repetitions=reps)
        emit(f"ratings_app.{target}.derive_seconds", _median(times["derive"]), base,
             "s, the event derivation alone (part of run)")
        if target == "demo":
            distribution(period)
        db.session.remove()
        db.engine.dispose()


def distribution(period: str) -> None:
    """The grade distribution of the demo's latest published month (what the public sees)."""
    import sqlalchemy as sa

    from auditbo.extensions import db
    from auditbo.ratings.models import Rating, RatingRun, RunStatus, SubjectType

    run = db.session.scalar(sa.select(RatingRun).where(RatingRun.status == RunStatus.published)
                            .order_by(RatingRun.period.desc(), RatingRun.version.desc()).limit(1))
    if run is None:
        emit("ratings_app.demo.published_distribution", None, unit="no published month")
        return
    rows = db.session.execute(
        sa.select(Rating.subject_type, Rating.grade, sa.func.count())
        .where(Rating.run_id == run.id, Rating.superseded_at.is_(None)).group_by(Rating.subject_type, Rating.grade)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for stype, grade, n in rows:
        counts.setdefault(SubjectType(stype).value, {})[grade] = int(n)
    emit("ratings_app.demo.published_distribution", sum(sum(c.values()) for c in counts.values()),
         unit="subjects rated in the latest published month", period=run.period, by_type=counts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the demo at scale 0.1 and the 10,000-record history")
    ap.add_argument("--only", choices=["demo", "history"])
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 3 on the demo, 1 on the history)")
    a = ap.parse_args(argv)
    if a.only in (None, "demo"):
        measure("demo", ensure_demo(0.1 if a.quick else 1.0), a.reps or 3)
    if a.only in (None, "history"):
        measure("history", benchlib.ensure_history(a.quick), a.reps or 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
