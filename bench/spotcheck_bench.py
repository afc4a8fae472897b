"""Issue 13: the time to draw a spot-check plan over a whole population, as a ratio to the bare engine.

Run (one JSON line per figure on standard output; progress on standard error)::

    cd <repository root> && nice .venv/bin/python bench/spotcheck_bench.py            # demo population + 1M history
    cd <repository root> && nice .venv/bin/python bench/spotcheck_bench.py --quick    # demo at scale 0.1 + 10k history
    cd <repository root> && nice .venv/bin/python bench/spotcheck_bench.py --only history   # or: --only demo

Targets, both on PostgreSQL (127.0.0.1:5432, user postgres):

* ``demo``: the demo population (``seed demo``'s history, loaded through ``auditbo.demo.load_demo`` into
  the throwaway database ``auditbo_bench_spot_demo``, reused when present);
* ``history``: the 1,000,000-assessment bench history (``bench/gen_history.py``, database ``auditbo_bench``;
  generated the first time, ~5 minutes).

For each, a plan over every standing record (no population filter) as of today, of size ``--size`` plus the
frame's mandatory units:

* ``frame``: :func:`auditbo.spotchecks.frame.build_frame` (the frame's rows, features, mandatory units,
  the labelled history): the database work and the feature building;
* ``engine`` (the baseline): the bare engine on that same frame, in memory: ``sampling.RiskModel.fit``
  on the frame's history and ``sampling.draw`` of the frame's units;
* ``draw``: the service, :func:`auditbo.spotchecks.services.draw_plan` of an approved plan: the frame
  again, the engine, freezing every unit (features, risk, π) and opening the selected checks with their
  inspectors; then rolled back, so the database is left as it was. Its ratio to ``engine`` is the figure
  issue 13 asks for (goal: ``draw`` at most 30 s on PostgreSQL).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import benchlib  # noqa: E402
from benchlib import emit, log  # noqa: E402

DEMO_DB = "auditbo_bench_spot_demo"


def ensure_demo(scale: float) -> str:
    return benchlib.ensure_demo(DEMO_DB, scale, "spot_checks")


def measure(target: str, dbname: str, size: int, seed: int) -> None:
    import sqlalchemy as sa

    import sampling
    from auditbo.accounts.models import Role, User
    from auditbo.clock import today
    from auditbo.events import Actor
    from auditbo.extensions import db
    from auditbo.spotchecks import services
    from auditbo.spotchecks.frame import build_frame
    from auditbo.spotchecks.models import PlanStatus, SamplingPlan

    app = benchlib.make_app(dbname)
    with app.app_context():
        cfg = app.config
        day: date = today()
        log(f"{target}: building the frame over every standing record as of {day} …")
        t = time.perf_counter()
        frame = build_frame({}, day, cfg)
        t_frame = time.perf_counter() - t
        labelled = 0 if frame.history is None else len(frame.history)
        log(f"  frame: {frame.size:,} units, {frame.mandatory_count} mandatory, {labelled:,} labelled rows "
            f"({frame.labels}), {t_frame:.1f} s")
        n = min(frame.size, frame.mandatory_count + size)  # every mandatory unit, and ``size`` drawn by risk
        t = time.perf_counter()
        model = None if not labelled else sampling.RiskModel(random_state=seed).fit(frame.history)
        result = sampling.draw(frame.units, n, random_state=seed, model=model,
                               uniform_share=0.2)
        t_engine = time.perf_counter() - t
        log(f"  bare engine: {t_engine:.1f} s ({result.risk_source}, {int(result.units['selected'].sum())} drawn)")
        emit(f"spotcheck.{target}.frame_size", frame.size, unit="units")
        emit(f"spotcheck.{target}.frame", t_frame, t_engine, unit="s")
        emit(f"spotcheck.{target}.engine", t_engine, unit="s")

        author = db.session.scalar(sa.select(User).where(User.role == Role.supervisor).order_by(User.id).limit(1))
        admin = db.session.scalar(sa.select(User).where(User.role == Role.admin).order_by(User.id).limit(1))
        plan = SamplingPlan(title="bench", population={}, size=n, uniform_share=0.2, design="risk_pps",
                            author_id=author.id, approved_by_id=admin.id, plan_date=day, status=PlanStatus.approved,
                            summary={})
        db.session.add(plan)
        db.session.flush()
        log(f"{target}: drawing the plan through the service (frame, engine, frozen units, checks) …")
        t = time.perf_counter()
        services.draw_plan(plan, Actor(admin.id, admin.username), seed=seed)
        db.session.flush()
        t_draw = time.perf_counter() - t
        log(f"  draw_plan: {t_draw:.1f} s; rolled back")
        db.session.rollback()
        emit(f"spotcheck.{target}.draw", t_draw, t_engine, unit="s")
        emit(f"spotcheck.{target}.freeze_and_open", t_draw - t_frame - t_engine, unit="s")  # roughly: draw's rest
        db.engine.dispose()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="demo at scale 0.1 and the 10k history")
    ap.add_argument("--only", choices=("demo", "history"), help="one target only")
    ap.add_argument("--size", type=int, default=200,
                    help="records drawn by risk beyond the mandatory ones (default 200)")
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args(argv)
    if a.only in (None, "demo"):
        measure("demo", ensure_demo(0.1 if a.quick else 1.0), a.size, a.seed)
    if a.only in (None, "history"):
        measure("history", benchlib.ensure_history(a.quick), a.size, a.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
