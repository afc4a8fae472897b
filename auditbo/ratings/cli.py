"""CLI: ``flask --app wsgi ratings run --period YYYY-MM`` (spec/api.md): a thin wrapper over the service."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from auditbo.cli import one_line_errors
from auditbo.events import SYSTEM

ratings_cli = AppGroup("ratings", help="Monthly credit ratings (信用评级).")


@ratings_cli.command("run")
@click.option("--period", required=True, help="the finished month to rate, YYYY-MM")
@one_line_errors
def run(period):
    """Compute PERIOD's draft run from the database (replacing a draft of it); prints the run id last."""
    from auditbo.extensions import db
    from auditbo.ratings import services

    click.echo(f"rating {period} from the database …", err=True)
    r = services.run_period(period, actor=SYSTEM)
    if r.error:
        db.session.commit()  # the failed run is recorded, with its reason
        click.echo(f"Error: the engine refused {period}: {r.error} (run {r.id} recorded as failed)", err=True)
        sys.exit(1)
    click.echo(json.dumps({"period": r.period, "status": r.state, "grade_counts": r.validation["grade_counts"],
                           "auroc": r.validation.get("auroc"), "psi": r.validation.get("psi")},
                          ensure_ascii=False), err=True)
    click.echo(r.id)
