"""The monthly ratings job: the previous month as a draft on the 1st, once; a missed month is caught up."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from auditbo.extensions import db
from auditbo.jobs import JOBS, run_job
from auditbo.ratings.models import RatingRun
from auditbo.ratings.services import run_previous_month
from tests import rating_support as rs

MONTHS = [date(2025, m, 1) for m in range(6, 13)] + [date(2026, m, 1) for m in range(1, 4)]


def test_the_job_is_listed_for_the_1st_at_2():
    job = next(j for j in JOBS if j.name == "monthly_ratings")
    assert job.cron == {"day": 1, "hour": 2, "minute": 0} and job.catch_up


def test_the_previous_month_once(app):
    rs.history(rs.make_market(2), MONTHS, per_month=2)
    first = run_previous_month(date(2026, 4, 1))
    assert first["period"] == "2026-03" and first["computed"] and first["status"] == "draft"
    run = db.session.get(RatingRun, first["run"])
    stamp = run.computed_at
    again = run_previous_month(date(2026, 4, 1))
    caught_up = run_previous_month(date(2026, 4, 17))  # a start later in the month: nothing to catch up
    assert not again["computed"] and not caught_up["computed"]
    assert db.session.get(RatingRun, first["run"]).computed_at == stamp
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RatingRun)) == 1


def test_a_failed_month_is_tried_again(app):
    failed = run_previous_month(date(2026, 4, 1))
    assert failed["status"] == "failed"
    rs.history(rs.make_market(2), MONTHS, per_month=2)
    retried = run_previous_month(date(2026, 4, 2))
    assert retried["computed"] and retried["status"] == "draft" and retried["run"] == failed["run"]


def test_run_job_holds_the_lease_and_the_day(app):
    rs.history(rs.make_market(2), MONTHS, per_month=2)
    job = next(j for j in JOBS if j.name == "monthly_ratings")
    assert run_job(app, job, date(2026, 4, 1))["computed"]
    assert run_job(app, job, date(2026, 4, 1)) is None  # already ran for that day
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RatingRun)) == 1
