"""CLI: ``flask --app wsgi sampling draw --plan ID`` and ``sampling verify --plan ID`` (spec/api.md)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from auditbo.cli import one_line_errors
from auditbo.events import SYSTEM

sampling_cli = AppGroup("sampling", help="Sampling plans and their draws (抽查).")


@sampling_cli.command("draw")
@click.option("--plan", "plan_id", type=int, required=True, help="the approved plan's id")
@one_line_errors
def draw(plan_id):
    """Draw an approved plan (as the API's draw): freeze its frame, open its spot checks."""
    from auditbo.spotchecks import queries, services

    click.echo(f"drawing plan {plan_id} …", err=True)
    plan = services.draw_plan(queries.get_plan(plan_id), SYSTEM)
    s = plan.summary or {}
    click.echo(json.dumps({"plan": plan.id, "status": plan.status.value, "seed": plan.seed,
                           "frame_hash": plan.frame_hash, "frame_size": s.get("frame_size"),
                           "size": plan.size, "model": (s.get("model") or {}).get("kind"),
                           "expected_yield": (s.get("draw") or {}).get("expected_yield")}, ensure_ascii=False))


@sampling_cli.command("verify")
@click.option("--plan", "plan_id", type=int, required=True, help="the drawn plan's id")
@one_line_errors
def verify(plan_id):
    """Redraw from the frozen frame and seed; exit 0 when it matches, 1 with what differs."""
    from auditbo.spotchecks import queries, services

    result = services.verify_plan(queries.get_plan(plan_id))
    click.echo(json.dumps(result, ensure_ascii=False, default=str))
    if not result["matches"]:
        sys.exit(1)
