"""CLI: `orgs import FILE`, `persons import FILE` (registry onboarding)."""

from flask.cli import AppGroup

orgs_cli = AppGroup("orgs", help="The registry of assessment and consulting bodies.")
persons_cli = AppGroup("persons", help="The registry of assessors and consultants.")
