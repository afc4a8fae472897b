"""Command-line interface (``flask --app wsgi <group> <command>``): thin wrappers over services.

Every command parses, calls a service, commits once, prints; on bad input it rolls
back and exits non-zero with a one-line reason.
"""

from __future__ import annotations

import functools
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import exc as sa_exc

from auditbo.errors import DomainError
from auditbo.extensions import db


def one_line_errors(fn):
    """Turn domain errors into a one-line reason and exit code 1; commit on success."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except DomainError as exc:
            db.session.rollback()
            errors = getattr(exc, "errors", None)
            if errors:
                reason = "; ".join(f"{e.field}: {e.message}" for e in errors[:10])
                more = f" (+{len(errors) - 10} more)" if len(errors) > 10 else ""
                click.echo(f"Error: {reason}{more}", err=True)
            else:
                click.echo(f"Error: {exc.detail}", err=True)
            sys.exit(1)
        except (sa_exc.OperationalError, sa_exc.ProgrammingError) as exc:  # no database, or not upgraded
            db.session.rollback()
            first = str(exc.orig or exc).strip().splitlines()[0]
            click.echo(f"Error: the database is not ready ({first}); run `flask --app wsgi db upgrade` "
                       "(and check AUDITBO_DATABASE_URL)", err=True)
            sys.exit(1)

    return wrapper


users_cli = AppGroup("users", help="Manage user accounts.")
events_cli = AppGroup("events", help="The event log.")
seed_cli = AppGroup("seed", help="Load demo data.")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, help="admin, supervisor, body_clerk or consulting_user")
@click.option("--org", "org", default=None, help="credit code of the user's body (clerks and consulting users)")
@click.option("--name", "display_name", default="", help="display name")
@one_line_errors
def users_create(username, password, role, org, display_name):
    """Create a user."""
    from auditbo.accounts.services import create_user

    user = create_user(username=username, password=password, role=role, org_credit_code=org,
                       display_name=display_name)
    click.echo(f"created user {user.username} ({user.role.value})")


tokens_cli = AppGroup("tokens", help="API tokens.")


@tokens_cli.command("create")
@click.option("--username", required=True)
@click.option("--name", required=True, help="what the token is for")
@one_line_errors
def tokens_create(username, name):
    """Create an API token for a user; the token is printed alone on the last line (shown once)."""
    import sqlalchemy as sa

    from auditbo.accounts.models import User
    from auditbo.accounts.services import create_token
    from auditbo.errors import NotFound

    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username}")
    token, secret = create_token(user, name)
    click.echo(f"token {token.name!r} for {user.username} ({user.role.value}); store it now, it is not shown again:")
    click.echo(secret)


@events_cli.command("verify")
@one_line_errors
def events_verify():
    """Recompute the event log's hash chain; name the first broken event."""
    from auditbo.events import verify

    result = verify()
    if not result.ok:
        click.echo(f"Error: event {result.broken_id} is broken: {result.problem} "
                   f"({result.checked} events read)", err=True)
        sys.exit(1)
    click.echo(f"ok: {result.checked} events, chain intact")


@seed_cli.command("demo")
@click.option("--seed", "seed", default=20261126, show_default=True, type=int)
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.01, 20),
              help="multiply the demo volumes (1.0: ~12,000 assessments)")
@click.option("--if-empty", is_flag=True, help="do nothing (but print the logins) if the database holds data")
@one_line_errors
def seed_demo(seed, scale, if_empty):
    """Load the demo history into an empty database."""
    import time

    from auditbo.demo import DEMO_PASSWORD, database_is_empty, load_demo

    if if_empty and not database_is_empty():
        click.echo("the database already holds data: demo not loaded again")
    else:
        started = time.perf_counter()
        stats = load_demo(seed=seed, scale=scale, progress=lambda msg: click.echo(msg, err=True))
        click.echo(", ".join(f"{k}: {v}" for k, v in stats.items()))
        click.echo(f"demo loaded in {time.perf_counter() - started:.1f} s")
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}): admin · supervisor1 … supervisor6 · "
               "clerk01 … clerk20 (assessment bodies) · consult01 … consult05 (consulting bodies)")


scheduler_cli = AppGroup("scheduler", help="The office's routine jobs (auditbo/jobs.py).")
jobs_cli = AppGroup("jobs", help="Run one scheduled job by hand.")


@scheduler_cli.command("run")
@click.option("--no-catch-up", is_flag=True, help="do not run jobs missed while the scheduler was down")
def scheduler_run(no_catch_up):
    """Run the scheduler in the foreground (one process; a database lease keeps jobs single)."""
    from flask import current_app

    from auditbo.jobs import JOBS, build_scheduler, catch_up

    app = current_app._get_current_object()
    if not no_catch_up:
        catch_up(app)
    click.echo("scheduler started: " + ", ".join(f"{j.name} {j.cron}" for j in JOBS))
    build_scheduler(app).start()


@jobs_cli.command("run")
@click.argument("name")
@click.option("--date", "day", default=None, help="the day to run for (YYYY-MM-DD); default today")
@click.option("--force", is_flag=True, help="run even if it already ran for that day")
def jobs_run(name, day, force):
    """Run the job NAME once (see `flask jobs list`)."""
    from datetime import date

    from flask import current_app

    from auditbo.jobs import JOBS, run_job

    job = next((j for j in JOBS if j.name == name), None)
    if job is None:
        click.echo(f"Error: no job named {name}; jobs: {', '.join(j.name for j in JOBS)}", err=True)
        sys.exit(1)
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        click.echo("Error: --date must be YYYY-MM-DD", err=True)
        sys.exit(1)
    result = run_job(current_app._get_current_object(), job, when, force=force)
    click.echo(f"{name}: {result if result is not None else 'skipped (already ran for that day, or running elsewhere)'}")


@jobs_cli.command("list")
def jobs_list():
    """The scheduled jobs and when they run."""
    from auditbo.jobs import JOBS

    for j in JOBS:
        click.echo(f"{j.name}\t{j.cron}")


def register(app: Flask) -> None:
    from auditbo.confirmations.cli import confirmations_cli
    from auditbo.dashboard.cli import reports_cli
    from auditbo.orgs.cli import orgs_cli, persons_cli
    from auditbo.ratings.cli import ratings_cli
    from auditbo.spotchecks.cli import sampling_cli

    for group in (users_cli, tokens_cli, events_cli, seed_cli, orgs_cli, persons_cli, confirmations_cli,
                  scheduler_cli, jobs_cli, sampling_cli, ratings_cli, reports_cli):
        app.cli.add_command(group)
