"""The market's nonconformity rate from a drawn plan's closed checks, through the engine.

The statistics are :func:`sampling.estimate_rate`'s: this module reads its inputs (the
checked units as CHECKED rows, the plan's frozen frame of π and model risks) and passes them
on, so the office's figure is the one ``python -m sampling estimate --frame`` gives.
"""

from __future__ import annotations

import threading

import pandas as pd
import sqlalchemy as sa
from flask import current_app

import sampling
from auditbo.extensions import db
from auditbo.spotchecks.frame import STRATA, is_nonconforming
from auditbo.spotchecks.models import CheckStatus, PlanStatus, PlanUnit, SamplingPlan, SpotCheck


def estimate_rows(plan: SamplingPlan) -> pd.DataFrame:
    """The closed checks of a plan as the engine's CHECKED rows: unit_id, inclusion_probability,
    nonconforming, the frozen model risk (and the stratum column of a stratified draw)."""
    rows = db.session.execute(
        sa.select(SpotCheck.assessment_id, SpotCheck.inclusion_probability, SpotCheck.outcome,
                  SpotCheck.consequence, PlanUnit.features, PlanUnit.risk)
        .join(PlanUnit, sa.and_(PlanUnit.plan_id == SpotCheck.plan_id,
                                PlanUnit.assessment_id == SpotCheck.assessment_id))
        .where(SpotCheck.plan_id == plan.id, SpotCheck.status == CheckStatus.closed)
        .order_by(SpotCheck.assessment_id)).all()
    data = {"unit_id": [r[0] for r in rows], "inclusion_probability": [float(r[1]) for r in rows],
            "nonconforming": [int(is_nonconforming(r[2], r[3])) for r in rows],
            "risk": [float(r[5]) for r in rows]}
    if plan.strata_column:
        col = STRATA[plan.strata_column]
        data[col] = [str((r[4] or {}).get(col)) for r in rows]
    return pd.DataFrame(data)


_RISK_FRAMES_KEPT = 16  # per app (worker process): prepared frames of recently estimated plans
_RISK_FRAMES_LOCK = threading.Lock()


def _risk_frame(plan: SamplingPlan) -> sampling.RiskFrame:
    """The engine's prepared frame of a drawn plan (``sampling.RiskFrame``: a few thousand bins,
    however large the frame), kept per app: a frozen frame never changes after the draw, so the
    dashboard and the monthly report, which estimate several plans a page, read it once."""
    kept = current_app.extensions.setdefault("auditbo_risk_frames", {})
    key = (plan.id, plan.seed, plan.frame_hash, plan.drawn_at)
    with _RISK_FRAMES_LOCK:
        frame = kept.pop(key, None)
    if frame is None:
        frame = sampling.RiskFrame.from_frame(frozen_frame(plan))
    with _RISK_FRAMES_LOCK:
        kept[key] = frame  # the newest last: the oldest goes first
        while len(kept) > _RISK_FRAMES_KEPT:
            kept.pop(next(iter(kept)))
    return frame


def frozen_frame(plan: SamplingPlan) -> pd.DataFrame:
    """Every unit of the plan's frozen frame as the engine's FRAME (the draw's output): unit_id,
    inclusion_probability, risk; one query, columns only (a frame over the whole history is large)."""
    rows = db.session.execute(
        sa.select(PlanUnit.assessment_id, PlanUnit.inclusion_probability, PlanUnit.risk)
        .where(PlanUnit.plan_id == plan.id).order_by(PlanUnit.assessment_id)).all()
    return pd.DataFrame(rows, columns=["unit_id", "inclusion_probability", "risk"])


def plan_estimate(plan: SamplingPlan) -> dict | None:
    """The engine's HT/Hájek estimate of the market's nonconformity rate from the plan's closed checks,
    with how many are closed; a partly closed plan says that its figure is provisional.  Once every
    check is closed the interval is the frame-aware one (the engine given the frozen frame's π and
    risk, as ``python -m sampling estimate --frame``); a partly closed plan reports no interval, so
    its frame is not read."""
    if plan.status not in (PlanStatus.drawn, PlanStatus.closed):
        return None
    selected = db.session.scalar(sa.select(sa.func.count()).where(SpotCheck.plan_id == plan.id)) or 0
    checked = estimate_rows(plan)
    if len(checked) == 0:
        return None
    N = int((plan.summary or {}).get("draw", {}).get("population") or (plan.summary or {}).get("frame_size"))
    complete = len(checked) == selected
    est = sampling.estimate_rate(checked, population=N,
                                 strata=STRATA[plan.strata_column] if plan.strata_column else None,
                                 frame=_risk_frame(plan) if complete else None)
    found = int(checked["nonconforming"].sum())
    out = {"closed": len(checked), "selected": selected, "complete": complete, "population": N,
           "nonconforming_found": found, "method": est.method, "confidence": est.confidence,
           "rate": None, "ci_low": None, "ci_high": None, "model_slope": None, "hajek_rate": est.hajek_rate,
           # a uniform draw of the same size finds, on average, the market's rate times the checks
           "uniform_expected_found": est.rate * len(checked) if complete else None}
    if complete:
        # model_slope: the slope the frame's model risks were taken at on the far side (0: flat frame)
        out.update(rate=est.rate, ci_low=est.ci_low, ci_high=est.ci_high, model_slope=est.model_slope)
    return out
