"""Sampling plans: create (with the frame's preview), approve (four eyes), draw, verify (the
estimate from a drawn plan's checks is in :mod:`auditbo.spotchecks.estimate`).

The statistics are the engine's (:mod:`sampling`): this module builds its inputs from the
database (:mod:`auditbo.spotchecks.frame`), calls it, and freezes what it returns. Services
validate (every error at once), move the plan through its guarded transitions, append the
event and flush; the request, command or job commits.

Reproducibility: a draw freezes every unit's features, mandatory flag, risk and π, the seed
(drawn at the draw, so nobody knows it before approval), the frame hash and the model's
version and figures. :func:`verify_plan` rebuilds the frame from the frozen features, checks
its hash, and redraws with the frozen risks, the effective uniform share and the seed: the
same π and the same sample, bit for bit, or it names what differs.
"""

from __future__ import annotations

import secrets
from datetime import date

import numpy as np
import sqlalchemy as sa
from flask import current_app

import sampling
from auditbo import events
from auditbo.clock import today as _today
from auditbo.database import bulk_insert, utcnow
from auditbo.errors import Conflict, ErrorCollector, FieldError, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings.models import AssessmentType, Grade
from auditbo.orgs.models import Organisation, OrgKind
from auditbo.spotchecks import assignment, credit
from auditbo.spotchecks.frame import (
    STRATA,
    Frame,
    build_frame,
    frame_from_frozen,
    frozen_features,
)
from auditbo.spotchecks.models import (
    PLAN_TRANSITIONS,
    PlanStatus,
    PlanUnit,
    SamplingPlan,
    SpotCheck,
)

MAX_NAME = 200
SEED_BITS = 62


# --- input ---------------------------------------------------------------------------------------
def _date(errors: ErrorCollector, field: str, value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, "a date YYYY-MM-DD")
        return None


def _list(errors: ErrorCollector, field: str, value) -> list[str]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(field, "a list of texts")
        return []
    if len(value) > 500:
        errors.add(field, "at most 500 values")
        return []
    return [v.strip() for v in value if v.strip()]


def clean_population(raw, errors: ErrorCollector) -> dict:
    """The population filter as stored: dates ISO, lists checked; body credit codes resolved to ids."""
    if not isinstance(raw, dict):
        errors.add("population", "an object with decided_from, decided_to and optional filters")
        return {}
    frm = _date(errors, "population.decided_from", raw.get("decided_from"))
    to = _date(errors, "population.decided_to", raw.get("decided_to"))
    if frm is None and "population.decided_from" not in {e.field for e in errors.errors}:
        errors.add("population.decided_from", "give the first decision day of the population")
    if to is None and "population.decided_to" not in {e.field for e in errors.errors}:
        errors.add("population.decided_to", "give the last decision day of the population")
    if frm and to and frm > to:
        errors.add("population.decided_to", "must not be before decided_from")
    grades = _list(errors, "population.grades", raw.get("grades"))
    bad = [g for g in grades if g not in {x.value for x in Grade}]
    if bad:
        errors.add("population.grades", f"unknown grade(s): {', '.join(bad[:5])}")
    types = _list(errors, "population.assessment_types", raw.get("assessment_types"))
    bad = [t for t in types if t not in {x.value for x in AssessmentType}]
    if bad:
        errors.add("population.assessment_types", f"unknown type(s): {', '.join(bad[:5])}")
    regions = _list(errors, "population.region_codes", raw.get("region_codes"))
    bad = [r for r in regions if not (r.isdigit() and len(r) in (2, 4, 6))]
    if bad:
        errors.add("population.region_codes", f"region codes are 2, 4 or 6 digits: {', '.join(bad[:5])}")
    codes = [c.upper() for c in _list(errors, "population.body_credit_codes", raw.get("body_credit_codes"))]
    body_ids: list[int] = []
    if codes:
        found = dict(db.session.execute(sa.select(Organisation.credit_code, Organisation.id).where(
            Organisation.credit_code.in_(codes), Organisation.kind == OrgKind.assessment_body)).all())
        missing = [c for c in codes if c not in found]
        if missing:
            errors.add("population.body_credit_codes", f"no assessment body with credit code {', '.join(missing[:5])}")
        body_ids = sorted(found.values())
    return {"decided_from": frm.isoformat() if frm else None, "decided_to": to.isoformat() if to else None,
            "grades": grades, "assessment_types": types, "region_codes": regions, "body_credit_codes": codes,
            "body_ids": body_ids}


def _number(errors, field, value, *, lo, hi, integer=False, lo_open=False):
    if isinstance(value, bool) or value is None or value == "":
        errors.add(field, "required")
        return None
    try:
        x = int(value) if integer else float(value)
    except (TypeError, ValueError):
        errors.add(field, "an integer" if integer else "a number")
        return None
    if integer and isinstance(value, float) and value != int(value):
        errors.add(field, "an integer")
        return None
    if x < lo or x > hi or (lo_open and x == lo):
        errors.add(field, f"between {lo} and {hi}")
        return None
    return x


def clean_plan_input(data: dict) -> tuple[dict, ErrorCollector]:
    errors = ErrorCollector()
    name = (data.get("name") or "").strip()
    if not name:
        errors.add("name", "give the plan a name")
    elif len(name) > MAX_NAME:
        errors.add("name", f"at most {MAX_NAME} characters")
    population = clean_population(data.get("population"), errors)
    size = precision = attribute = None
    given = [k for k in ("size", "precision", "attribute") if data.get(k) not in (None, "", {})]
    if len(given) != 1:
        errors.add("size", "give either a size, or a precision (half_width, expected_rate, confidence), "
                           "or an attribute test (materiality, confidence, expected)")
    elif given[0] == "size":
        size = _number(errors, "size", data["size"], lo=1, hi=1_000_000, integer=True)
    elif given[0] == "precision":
        p = data["precision"] if isinstance(data["precision"], dict) else {}
        precision = {
            "half_width": _number(errors, "precision.half_width", p.get("half_width"), lo=0, hi=0.5, lo_open=True),
            "expected_rate": _number(errors, "precision.expected_rate", p.get("expected_rate"), lo=0, hi=1,
                                     lo_open=True),
            "confidence": _number(errors, "precision.confidence", p.get("confidence", 0.95), lo=0.5, hi=0.999),
        }
    else:
        p = data["attribute"] if isinstance(data["attribute"], dict) else {}
        attribute = {
            "materiality": _number(errors, "attribute.materiality", p.get("materiality"), lo=0, hi=0.5, lo_open=True),
            "confidence": _number(errors, "attribute.confidence", p.get("confidence", 0.95), lo=0.5, hi=0.999),
            "expected": _number(errors, "attribute.expected", p.get("expected", 0) or 0, lo=0, hi=0.5),
        }
    share = data.get("uniform_share")
    share = 0.2 if share in (None, "") else _number(errors, "uniform_share", share, lo=0, hi=1, lo_open=True)
    strata = data.get("strata") or None
    if strata is not None and strata not in STRATA:
        errors.add("strata", "province, body or rating")
    budgets, given = _clean_budgets(data.get("budgets"), strata, errors)
    return {"name": name, "population": population, "size": size, "precision": precision, "attribute": attribute,
            "uniform_share": share, "strata": strata, "budgets": budgets, "budgets_given": given}, errors


MAX_BUDGETS = 500


def _clean_budgets(raw, strata: str | None, errors: ErrorCollector) -> tuple[dict | None, dict | None]:
    """Budgets per stratum given with the plan (province: its 2-digit code; body: its credit code):
    ``{stratum: n}``, as the frame's stratum labels and as given. The engine checks the rest (each
    stratum known, at least its mandatory units plus one, at most its size, the sum the plan's size)."""
    if raw in (None, "", {}):
        return None, None
    if strata not in ("province", "body"):
        errors.add("budgets", "budgets go with strata: province or body")
        return None, None
    if not isinstance(raw, dict) or len(raw) > MAX_BUDGETS:
        errors.add("budgets", f"an object of at most {MAX_BUDGETS} strata, each with its number of records")
        return None, None
    given = {}
    for key, value in raw.items():
        key = str(key).strip().upper()
        n = _number(errors, f"budgets.{key}", value, lo=1, hi=1_000_000, integer=True)
        if n is not None:
            given[key] = int(n)
    if strata == "province":
        for key in given:
            if len(key) != 2 or not key.isdigit():
                errors.add(f"budgets.{key}", "a province is named by its 2-digit code")
        return dict(given), given
    ids = dict(db.session.execute(sa.select(Organisation.credit_code, Organisation.id).where(
        Organisation.credit_code.in_(list(given)), Organisation.kind == OrgKind.assessment_body)).all())
    for key in given:
        if key not in ids:
            errors.add(f"budgets.{key}", "no assessment body with this credit code")
    return {str(ids[k]): n for k, n in given.items() if k in ids}, given


def _planned_size(clean: dict, N: int, errors: ErrorCollector) -> tuple[int | None, dict | None]:
    """The size given, or the engine's planner's (with its formula inputs)."""
    try:
        if clean["precision"]:
            p = clean["precision"]
            plan = sampling.plan_precision(p["half_width"], expected_rate=p["expected_rate"],
                                           confidence=p["confidence"], population=N)
            return plan.n, {"method": "precision", **plan.to_dict()}
        if clean["attribute"]:
            p = clean["attribute"]
            plan = sampling.plan_attribute(p["materiality"], confidence=p["confidence"], expected=p["expected"],
                                           population=N)
            return plan.n, {"method": "attribute", **plan.to_dict()}
    except sampling.SamplingError as exc:
        errors.add("precision" if clean["precision"] else "attribute", str(exc))
        return None, None
    return clean["size"], None


# --- the frame's preview -------------------------------------------------------------------------
def _model(frame: Frame, seed: int):
    if frame.history is None or len(frame.history) == 0:
        return None
    return sampling.RiskModel(random_state=seed % (2**32)).fit(frame.history)


def _model_summary(result: sampling.DrawResult, frame: Frame) -> dict:
    metrics = result.metrics or {}
    return {"kind": "learned" if result.risk_source == "model" else "rule", "version": result.model_version,
            "labels": frame.labels, "labelled_rows": 0 if frame.history is None else len(frame.history),
            "auroc": metrics.get("auroc"), "average_precision": metrics.get("average_precision"),
            "brier": metrics.get("brier"), "note": metrics.get("note"),
            "n_test": metrics.get("n_test"), "positives": metrics.get("positives")}


def _frame_facts(frame: Frame) -> dict:
    return {"frame_size": frame.size, "mandatory": frame.mandatory_count, "mandatory_reasons": frame.mandatory_reasons(),
            "excluded_recently_checked": frame.excluded_recent, "plan_date": frame.plan_date.isoformat()}


def _run_draw(frame: Frame, n: int, seed: int, uniform_share: float, strata: str | None,
              budgets: dict | None = None) -> sampling.DrawResult:
    if strata == "rating":  # each grade at least its minimum share (auditbo/spotchecks/credit.py)
        budgets = credit.grade_budgets(frame.units[STRATA[strata]], frame.units["mandatory"], n,
                                       current_app.config["SAMPLING_MIN_SHARE_BY_GRADE"])
    return sampling.draw(frame.units, n, random_state=seed, model=_model(frame, seed), uniform_share=uniform_share,
                         strata=STRATA[strata] if strata else None, budgets=budgets)


def preview(data: dict, *, plan_date: date | None = None) -> dict:
    """What the plan would draw: the frame's size, its mandatory units and why, the model that would
    score it (with its time-split validation) and the expected yield. Raises ValidationFailed (422)."""
    clean, errors = clean_plan_input(data)
    errors.raise_if_any()
    return _preview(clean, plan_date or _today())


def _preview(clean: dict, plan_date: date) -> dict:
    cfg = current_app.config
    frame = build_frame(clean["population"], plan_date, cfg, strata=clean["strata"])
    facts = _frame_facts(frame)
    errors = ErrorCollector()
    if frame.size == 0:
        errors.add("population", "no standing assessment matches this population: the frame is empty")
        errors.raise_if_any()
    n, planner = _planned_size(clean, frame.size, errors)
    if n is not None:
        if n > frame.size:
            errors.add("size", f"the frame holds {frame.size} assessments, fewer than the size {n}")
        elif frame.mandatory_count >= n and n < frame.size:
            errors.add("size", f"{frame.mandatory_count} records are mandatory: the size must exceed that "
                               "so that every other record keeps a chance")
    errors.raise_if_any()
    try:
        result = _run_draw(frame, n, 0, clean["uniform_share"], clean["strata"], clean.get("budgets"))
    except sampling.SamplingError as exc:
        raise ValidationFailed([FieldError("budgets" if clean.get("budgets") else "size", str(exc))]) from None
    uniform = n / frame.size * float(result.units["risk"].sum())
    return {**facts, "size": n, "planner": planner, "model": _model_summary(result, frame),
            "expected_yield": result.expected_yield, "uniform_expected_yield": uniform,
            "effective_uniform_share": result.parameters["effective_uniform_share"]}


# --- create, approve -----------------------------------------------------------------------------
def create_plan(data: dict, actor: Actor, *, plan_date: date | None = None) -> SamplingPlan:
    clean, errors = clean_plan_input(data)
    errors.raise_if_any()
    day = plan_date or _today()
    facts = _preview(clean, day)
    plan = SamplingPlan(title=clean["name"], population=clean["population"], size=facts["size"],
                        uniform_share=clean["uniform_share"], strata_column=clean["strata"], design="risk_pps",
                        seed=None, author_id=actor.id, plan_date=day,
                        summary={"preview": facts, "precision": clean["precision"], "attribute": clean["attribute"],
                                 "budgets": clean["budgets"], "budgets_given": clean["budgets_given"]})
    PLAN_TRANSITIONS.check(None, PlanStatus.draft)
    plan.status = PlanStatus.draft
    db.session.add(plan)
    db.session.flush()
    events.record(actor, "sampling_plan", plan.id, "created",
                  after={"name": plan.title, "population": clean["population"], "size": plan.size,
                         "uniform_share": plan.uniform_share, "strata": plan.strata_column,
                         "plan_date": day.isoformat(), "frame_size": facts["frame_size"]})
    return plan


def _move(plan: SamplingPlan, to: PlanStatus, **values) -> None:
    """Guarded, and atomic against a concurrent move: the UPDATE names the status it expects."""
    PLAN_TRANSITIONS.check(plan.status, to)
    before = plan.status
    done = db.session.execute(
        sa.update(SamplingPlan).where(SamplingPlan.id == plan.id, SamplingPlan.status == before)
        .values(status=to, **values).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise Conflict(f"this plan was {to.value} by someone else at the same moment; reload it")
    db.session.refresh(plan)


def approve_plan(plan: SamplingPlan, actor: Actor) -> SamplingPlan:
    """Four eyes: an admin who is not the plan's author (the policy answers 403 before this)."""
    from auditbo.errors import Forbidden

    if actor.id == plan.author_id:
        raise Forbidden("the plan's author cannot approve it: another person must")
    _move(plan, PlanStatus.approved, approved_by_id=actor.id, approved_at=utcnow())
    events.record(actor, "sampling_plan", plan.id, "approved", before={"status": "draft"},
                  after={"status": "approved"})
    return plan


# --- draw ----------------------------------------------------------------------------------------
def draw_plan(plan: SamplingPlan, actor: Actor, *, seed: int | None = None, on: date | None = None) -> SamplingPlan:
    """Freeze the frame and draw: every unit's features, risk and π; the seed; the frame hash; the
    model. Each selected record becomes an open spot check with its inspectors. Once only (409)."""
    if plan.status is not PlanStatus.approved:
        raise Conflict(f"only an approved plan can be drawn; this one is {plan.status.value}")
    cfg = current_app.config
    day = plan.plan_date or _today()
    frame = build_frame(plan.population, day, cfg, strata=plan.strata_column)
    if frame.size == 0:
        raise ValidationFailed([FieldError("population", "the frame is empty now: nothing to draw")])
    if plan.size > frame.size:
        raise ValidationFailed([FieldError("size", f"the frame now holds {frame.size} assessments, fewer than "
                                                   f"the size {plan.size}")])
    seed = secrets.randbits(SEED_BITS) if seed is None else seed
    try:
        budgets = (plan.summary or {}).get("budgets")
        result = _run_draw(frame, plan.size, seed, plan.uniform_share, plan.strata_column, budgets)
    except sampling.SamplingError as exc:
        raise ValidationFailed([FieldError("budgets" if budgets else "size", str(exc))]) from None
    summary = {**(plan.summary or {}), **_frame_facts(frame), "draw": result.summary(),
               "model": _model_summary(result, frame), "uniform_expected_yield":
               plan.size / frame.size * float(result.units["risk"].sum())}
    _move(plan, PlanStatus.drawn, seed=seed, frame_hash=result.frame_hash, model_version=result.model_version,
          drawn_at=utcnow(), summary=summary)
    units = result.units
    feats = frozen_features(frame.units)
    mand = frame.units["mandatory"].to_numpy() > 0
    rows = [{"plan_id": plan.id, "assessment_id": int(u), "risk": float(r), "inclusion_probability": float(p),
             "mandatory": bool(m), "selected": bool(s), "reasons": reasons or None, "features": f}
            for u, r, p, m, s, reasons, f in zip(units["unit_id"], units["risk"], units["inclusion_probability"],
                                                  mand, units["selected"], units["reasons"], feats, strict=True)]
    bulk_insert(PlanUnit, rows)
    events.record(actor, "sampling_plan", plan.id, "drawn", before={"status": "approved"},
                  after={"status": "drawn", "seed": seed, "frame_hash": result.frame_hash,
                         "model_version": result.model_version, "frame_size": frame.size,
                         "selected": int(units["selected"].sum()), "expected_yield": result.expected_yield})
    selected = units.loc[units["selected"] == 1, ["unit_id", "inclusion_probability"]]
    assignment.open_checks(plan, selected, frame.parties, actor, seed=seed, on=on)
    return plan


# --- verify --------------------------------------------------------------------------------------
def verify_plan(plan: SamplingPlan) -> dict:
    """Redraw from the frozen frame and seed: ``{"matches": True}``, or False with what differs."""
    if plan.status not in (PlanStatus.drawn, PlanStatus.closed):
        raise Conflict(f"only a drawn plan can be verified; this one is {plan.status.value}")
    rows = db.session.execute(
        sa.select(PlanUnit.assessment_id, PlanUnit.mandatory, PlanUnit.features, PlanUnit.risk,
                  PlanUnit.inclusion_probability, PlanUnit.selected)
        .where(PlanUnit.plan_id == plan.id).order_by(PlanUnit.assessment_id)).all()
    differs: dict = {}
    frame = frame_from_frozen([(r[0], r[1], r[2]) for r in rows])
    recomputed_hash = sampling.frame_hash(frame)
    if recomputed_hash != plan.frame_hash:
        differs["frame_hash"] = {"frozen": plan.frame_hash, "recomputed": recomputed_hash}
    draw = (plan.summary or {}).get("draw", {})
    params = draw.get("parameters", {})
    frozen_pi = np.array([r[4] for r in rows], dtype=float)
    frozen_sel = np.array([bool(r[5]) for r in rows])
    try:
        redo = sampling.draw(frame.assign(risk=[r[3] for r in rows]), plan.size, random_state=int(plan.seed),
                             uniform_share=params.get("effective_uniform_share", plan.uniform_share),
                             risk_exponent=params.get("risk_exponent", 1.0),
                             strata=STRATA[plan.strata_column] if plan.strata_column else None,
                             budgets=params.get("allocation") if plan.strata_column == "rating"
                             or (plan.summary or {}).get("budgets") else None)
    except sampling.SamplingError as exc:
        differs["redraw"] = str(exc)
        return {"matches": False, "differs": differs}
    pi = redo.units["inclusion_probability"].to_numpy()
    sel = redo.units["selected"].to_numpy().astype(bool)
    ids = [r[0] for r in rows]
    bad_pi = [ids[i] for i in np.flatnonzero(pi != frozen_pi)]
    if bad_pi:
        differs["inclusion_probability"] = {"units": bad_pi[:20], "count": len(bad_pi)}
    bad_sel = [ids[i] for i in np.flatnonzero(sel != frozen_sel)]
    if bad_sel:
        differs["selected"] = {"units": bad_sel[:20], "count": len(bad_sel)}
    checks = set(db.session.scalars(sa.select(SpotCheck.assessment_id).where(SpotCheck.plan_id == plan.id)))
    drawn = {ids[i] for i in np.flatnonzero(sel)}
    if checks != drawn:
        differs["spot_checks"] = {"missing": sorted(drawn - checks)[:20], "extra": sorted(checks - drawn)[:20]}
    out = {"matches": not differs, "seed": plan.seed, "frame_hash": plan.frame_hash, "units": len(rows),
           "selected": int(sel.sum())}
    if differs:
        out["differs"] = differs
    return out
