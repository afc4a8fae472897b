"""Demo history: bodies, staff, enterprises and ~12,000 assessments over 3+ years.

Bodies, leads and consulting bodies carry a hidden *laxity* that drives what they do
(cut person-days, file late, push grade jumps) and how their results fare (returned
or rejected in confirmation, nonconforming in spot checks), so that sampling and
rating have real signal to find. Deterministic for a seed and an as-of date. Rows go
in with bulk Core inserts; the event log gets one chained event per step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import sqlalchemy as sa
from flask import current_app

from auditbo import clock, events
from auditbo.accounts.services import hash_password
from auditbo.database import bulk_insert
from auditbo.demo import builders
from auditbo.demo.showcase import file_showcase
from auditbo.errors import Conflict
from auditbo.extensions import db
from auditbo.models import (
    Affiliation,
    Assessment,
    AssessmentConsultant,
    Capability,
    ConfirmationAudit,
    Enterprise,
    Finding,
    Organisation,
    Person,
    SamplingPlan,
    SpotCheck,
    SpotCheckInspector,
    StatusChange,
    TeamMember,
    User,
)

DEMO_PASSWORD = "demo-password-2026"


def _fix_sequences(tables: list[str]) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for t in tables:
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 1))"
        ))


def _insert(model, rows: list[dict]) -> None:
    bulk_insert(model, rows)


def database_is_empty() -> bool:
    return not db.session.scalar(sa.select(sa.func.count()).select_from(Organisation))


def load_demo(*, seed: int = 20261126, scale: float = 1.0, as_of: date | None = None,
              progress: Callable[[str], None] = lambda _m: None) -> dict[str, int]:
    if not database_is_empty():
        raise Conflict("the database already holds data: demo data goes into an empty database only")
    as_of = as_of or clock.today()
    rng = np.random.default_rng(seed)
    cfg = current_app.config

    progress("registry: bodies, staff, users …")
    world = builders.build_registry(rng, scale)
    pw_hash = hash_password(DEMO_PASSWORD)
    users = builders.build_users(world, pw_hash)
    _insert(Organisation, world.orgs)
    _insert(Person, world.persons)
    _insert(User, users)
    _insert(Affiliation, builders.build_affiliations(world, users, rng))

    progress("enterprises and assessment history …")
    hist = builders.build_history(rng, world, cfg, as_of, scale)
    _insert(Enterprise, hist.enterprises)
    _insert(Assessment, hist.assessments)
    _insert(TeamMember, hist.team)
    _insert(AssessmentConsultant, hist.consultants)
    _insert(Capability, hist.capabilities)
    _insert(StatusChange, hist.status_changes)
    _insert(ConfirmationAudit, hist.audits)
    _insert(Finding, hist.findings)
    _insert(SamplingPlan, hist.plans)
    _insert(SpotCheck, hist.spot_checks)
    _insert(SpotCheckInspector, hist.inspectors)

    progress(f"event log ({len(hist.events)} events) …")
    hist.events.sort(key=lambda e: e[7])
    events.record_many(hist.events)
    _fix_sequences([
        "organisations", "persons", "users", "affiliations", "enterprises", "assessments", "assessment_team",
        "assessment_consultants", "assessment_capabilities", "assessment_status_changes", "confirmation_audits",
        "confirmation_findings", "sampling_plans", "complaints", "spot_checks",
    ])
    progress("the showcase record (filed and confirmed through the services) …")
    file_showcase(as_of)
    progress("spot-check plans: created, approved, drawn and worked through the services …")
    from auditbo.spotchecks.demo import run_plans

    spot = run_plans(as_of, hist.nonconforming, seed=seed)
    progress("monthly ratings: computed, published and one objected to through the services …")
    from auditbo.ratings.demo import run_ratings

    rated = run_ratings(as_of)
    progress("complaints and sanctions: registered, handled and imposed through the services …")
    from auditbo.demo.complaints import run_complaints

    made = run_complaints(hist.complaints, as_of)  # last: a body it suspends files nothing more
    return {
        "assessment bodies": world.n_bodies,
        "consulting bodies": world.n_consulting,
        "persons": len(world.persons),
        "users": len(users),
        "enterprises": len(hist.enterprises),
        "assessments": len(hist.assessments),
        "confirmation audits": len(hist.audits),
        "sampling plans": spot["plans"],
        "spot checks": spot["spot checks"],
        "complaints": made["complaints"],
        "events": len(hist.events),
        "published rating months": len(rated["published"]),
    }

