"""Every scheduled job, listed in one place, and the scheduler that runs them.

Jobs are plain idempotent functions of a day. ``flask --app wsgi scheduler run`` starts
APScheduler (3.x) with this list; each run takes a lease in the database
(auditbo.locks), so that with several scheduler processes exactly one runs a job, and
records the day it last completed, so that a day missed while the service was down is
caught up at start.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask

from auditbo import clock, locks
from auditbo.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    cron: dict  # APScheduler cron fields, in the scheduler's time zone
    run: Callable[[date], object]
    catch_up: bool = True  # run at start if the last run is older than today


def _expire(day: date):
    from auditbo.filings.lifecycle import expire_certificates

    return {"expired": expire_certificates(day)}


def _surveillance(day: date):
    from auditbo.filings.lifecycle import check_surveillance

    return check_surveillance(day)


def _end_sanctions(day: date):
    from auditbo.sanctions.services import end_due_sanctions

    return {"ended": end_due_sanctions(day)}


def _reminders(day: date):
    from auditbo.confirmations.reminders import send_reminders

    return {"reminders": send_reminders(day)}


def _upload_cleanup(_day: date):
    from auditbo.upload_store import cleanup

    return cleanup()  # by the files' age: previews never confirmed, old error reports


def _monthly_ratings(day: date):
    from auditbo.ratings.services import run_previous_month

    return run_previous_month(day)  # the month before, as a draft, once (catch-up: any later day)


def _monthly_report(day: date):
    from auditbo.dashboard.reports import run_monthly

    return run_monthly(day)  # the month before, once; after the ratings draft (02:00)


JOBS: list[Job] = [
    Job("expire_certificates", {"hour": 1, "minute": 0}, _expire),
    Job("surveillance_overdue", {"hour": 1, "minute": 15}, _surveillance),
    Job("end_sanctions", {"hour": 0, "minute": 30}, _end_sanctions),
    Job("confirmation_reminders", {"hour": 8, "minute": 0}, _reminders),
    Job("upload_cleanup", {"hour": 3, "minute": 30}, _upload_cleanup),
    Job("monthly_ratings", {"day": 1, "hour": 2, "minute": 0}, _monthly_ratings),
    Job("monthly_report", {"day": 1, "hour": 3, "minute": 0}, _monthly_report),
]


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(app: Flask, job: Job, day: date | None = None, *, force: bool = False) -> object | None:
    """Run ``job`` for ``day`` unless another process holds it or it already ran that day."""
    with app.app_context():
        day = day or clock.today()
        me = holder()
        if not locks.acquire(job.name, me, timedelta(hours=1)):
            db.session.rollback()
            log.info("job %s is running elsewhere", job.name)
            return None
        db.session.commit()
        lock = db.session.get(locks.JobLock, job.name)
        if not force and lock.last_run_key and lock.last_run_key >= day.isoformat():
            locks.release(job.name, me)
            db.session.commit()
            return None
        try:
            result = job.run(day)
            lock = db.session.get(locks.JobLock, job.name)
            lock.last_run_key = day.isoformat()
            db.session.commit()
            log.info("job %s for %s: %s", job.name, day, result)
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.name)
            raise
        finally:
            locks.release(job.name, me)
            db.session.commit()


def build_scheduler(app: Flask, *, blocking: bool = True):
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    with app.app_context():
        zone = clock.office_zone()  # the office's zone: a job runs at 01:00 office time, for the office's day
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=zone)
    for job in JOBS:
        scheduler.add_job(run_job, "cron", args=[app, job], id=job.name, replace_existing=True,
                          coalesce=True, max_instances=1, misfire_grace_time=3600, **job.cron)
    return scheduler


def catch_up(app: Flask) -> None:
    for job in JOBS:
        if job.catch_up:
            run_job(app, job)
