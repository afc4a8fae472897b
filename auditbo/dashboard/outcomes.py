"""The dashboard's figures of supervision outcomes: closed spot checks, the market estimate per plan
and the published rating grades (each None while there is nothing to show)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from auditbo.dashboard.figure import MONTHS, Cell, Figure
from auditbo.extensions import db


# --- spot checks -----------------------------------------------------------------------------
def spotcheck_findings() -> Figure | None:
    """Closed spot checks by outcome; None when there are none."""
    from auditbo.spotchecks.models import CheckOutcome, CheckStatus, SpotCheck

    rows = dict(
        db.session.execute(
            sa.select(SpotCheck.outcome, sa.func.count())
            .where(SpotCheck.status == CheckStatus.closed)
            .group_by(SpotCheck.outcome)
        ).all()
    )
    if not rows:
        return None
    titles = {
        CheckOutcome.conforming: _l("Conforming"),
        CheckOutcome.minor_findings: _l("Minor findings"),
        CheckOutcome.major_findings: _l("Major findings"),
    }
    fig = Figure(
        "spotcheck_findings",
        _l("Spot-check results"),
        "bar",
        _l("Outcome"),
        _l("Closed checks"),
        [_l("Outcome"), _l("Closed checks")],
    )
    for outcome, title in titles.items():
        fig.rows.append(
            [
                Cell(str(title)),
                Cell(
                    rows.get(outcome, 0),
                    url_for("spotchecks.check_list", tab="closed", outcome=outcome.value),
                ),
            ]
        )
    fig.rows.append(
        [Cell(str(_l("Total"))), Cell(sum(rows.values()), url_for("spotchecks.check_list", tab="closed"))]
    )
    fig.series_to = 2
    return fig


def market_estimate(limit: int = 6) -> Figure | None:
    """The market nonconformity rate estimated from each drawn plan (the engine's, with its interval),
    the last ``limit`` plans oldest first; None when no plan has closed checks."""
    from auditbo.spotchecks.estimate import plan_estimate
    from auditbo.spotchecks.models import PlanStatus, SamplingPlan

    plans = list(
        db.session.scalars(
            sa.select(SamplingPlan)
            .where(SamplingPlan.status.in_([PlanStatus.drawn, PlanStatus.closed]))
            .order_by(SamplingPlan.plan_date.desc(), SamplingPlan.id.desc())
            .limit(limit)
        )
    )
    fig = Figure(
        "market_estimate",
        _l("Market nonconformity rate (estimate and interval)"),
        "interval",
        _l("Sampling plan"),
        _l("Nonconformity rate"),
        [_l("Sampling plan"), _l("Estimate"), _l("Lower bound"), _l("Upper bound"), _l("Closed checks")],
        series_to=4,
        percent=True,
    )
    for plan in reversed(plans):
        est = plan_estimate(plan)
        if est is None:
            continue
        label = f"{plan.plan_date.isoformat() if plan.plan_date else ''} {plan.title}".strip()
        fig.rows.append(
            [
                Cell(label, url_for("spotchecks.plan", plan_id=plan.id)),
                Cell(_round(est["rate"])),
                Cell(_round(est["ci_low"])),
                Cell(_round(est["ci_high"])),
                Cell(f"{est['closed']}/{est['selected']}"),
            ]
        )
    if not fig.rows:
        return None
    fig.note = _l("An empty estimate: the plan's checks are not all closed yet (provisional).")
    return fig


def _round(v):
    return None if v is None else round(float(v), 4)


# --- ratings ---------------------------------------------------------------------------------
def rating_distribution(months: int = MONTHS) -> Figure | None:
    """Assessment bodies per published grade in each published month (current versions); None without any."""
    from auditbo.ratings.models import Rating, RatingRun, RunStatus, SubjectType

    stmt = (
        sa.select(RatingRun.period, RatingRun.id, Rating.grade, sa.func.count())
        .join(Rating, Rating.run_id == RatingRun.id)
        .where(
            RatingRun.status == RunStatus.published,
            Rating.subject_type == SubjectType.assessment_body,
            Rating.superseded_at.is_(None),
        )
        .group_by(RatingRun.period, RatingRun.id, Rating.grade)
    )
    data: dict[tuple[str, int], dict[str, int]] = {}
    for period, run_id, grade, n in db.session.execute(stmt):
        data.setdefault((period, run_id), {})[grade] = n
    if not data:
        return None
    try:
        from rating.config import GRADES, NR

        grades = [*GRADES, NR]
    except ImportError:  # pragma: no cover - the engine names its scale
        grades = sorted({k for d in data.values() for k in d})
    grades = [k for k in grades if any(k in d for d in data.values())]
    fig = Figure(
        "rating_distribution",
        _l("Ratings of assessment bodies per month"),
        "stacked",
        _l("Month"),
        _l("Assessment bodies"),
        [_l("Month"), *grades],
        series_to=1 + len(grades),
    )
    for (period, run_id), counts in sorted(data.items())[-months:]:
        fig.rows.append(
            [
                Cell(period, url_for("ratings.review", run_id=run_id)),
                *[Cell(counts.get(g, 0)) for g in grades],
            ]
        )
    return fig

