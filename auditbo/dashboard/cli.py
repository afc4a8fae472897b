"""``flask --app wsgi reports monthly --period YYYY-MM``: generate (or regenerate) a month's report."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from auditbo.cli import one_line_errors

reports_cli = AppGroup("reports", help="The monthly supervision report.")


@reports_cli.command("monthly")
@click.option("--period", required=True, help="the month, YYYY-MM")
@one_line_errors
def monthly(period: str) -> None:
    """Generate the month's workbook and printable page (replacing any earlier ones)."""
    from auditbo.dashboard import reports

    report = reports.generate(period)
    for fmt in ("xlsx", "html"):
        click.echo(f"{fmt}: {reports.path_of(report.period, fmt)}")
