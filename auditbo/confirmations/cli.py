"""CLI: ``flask --app wsgi confirmations remind [--date YYYY-MM-DD]`` (the daily reminder job)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from auditbo.cli import one_line_errors
from auditbo.clock import today

confirmations_cli = AppGroup("confirmations", help="Confirmation audits (确认审核).")


@confirmations_cli.command("remind")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day to remind for (default: today)")
@one_line_errors
def remind(day):
    """Remind reviewers of open audits due within CONFIRMATION_REMINDER_WORKING_DAYS working days.

    Safe to re-run: at most one reminder per audit per day.
    """
    from auditbo.confirmations.reminders import send_reminders

    n = send_reminders(day.date() if day else today())
    click.echo(f"{n} reminder(s) sent")
