"""CLI: `orgs import FILE`, `persons import FILE` (registry onboarding, spec/api.md).

All-or-nothing: on any bad row every bad row and field is listed on stderr, one per
line, followed by a one-line reason; nothing is changed and the exit code is 1.
Re-running the same file changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from auditbo.cli import one_line_errors
from auditbo.errors import DomainError, ValidationFailed

orgs_cli = AppGroup("orgs", help="The registry of assessment and consulting bodies.")
persons_cli = AppGroup("persons", help="The registry of assessors and consultants.")


def _run(which: str, file: Path, dry_run: bool) -> None:
    from auditbo.events import SYSTEM
    from auditbo.extensions import db
    from auditbo.orgs.imports import MAX_BYTES, row_errors, run_import
    from auditbo.uploads import ImportRefused

    if file.stat().st_size > MAX_BYTES:
        raise DomainError(f"{file.name} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    data = file.read_bytes()
    errors = row_errors(sink=lambda row, field, message: click.echo(f"row {row}, {field}: {message}", err=True))
    try:
        report = run_import(which, file.name, data, actor=SYSTEM,
                            progress=lambda msg: click.echo(msg, err=True), errors=errors)
    except ValidationFailed as exc:
        if not isinstance(exc, ImportRefused):  # a refused row was printed as it was found, every one
            for err in exc.errors:
                click.echo(f"{err.field}: {err.message}", err=True)
        raise DomainError(f"{file.name}: {exc.detail}") from None
    if dry_run:
        db.session.rollback()
        click.echo(f"dry run, nothing saved: {report.summary()}")
    else:
        click.echo(f"imported {file.name}: {report.summary()}")


@orgs_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check and report, save nothing")
@one_line_errors
def orgs_import(file: Path, dry_run: bool):
    """Upsert assessment and consulting bodies from a CSV or XLSX FILE.

    Columns: credit_code, name, kind (assessment_body | consulting_body), region_code,
    status (active | suspended | revoked); optional status_reason, scope, contact.
    Headers may be the English names or the Chinese template's.
    """
    _run("orgs", file, dry_run)


@persons_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check and report, save nothing")
@one_line_errors
def persons_import(file: Path, dry_run: bool):
    """Upsert assessors and consultants from a CSV or XLSX FILE.

    Columns: person_id, name, kind (assessor | consultant), org_credit_code, qualification
    (assessor | lead | senior_lead | consultant), valid_until (YYYY-MM-DD); optional status,
    status_reason, id_number (stored only as a keyed hash). The bodies must be registered first.
    """
    _run("persons", file, dry_run)
