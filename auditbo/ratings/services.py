"""Monthly credit ratings: run a month from the database, publish it (four eyes), objections.

The app calls the pure engine (``rating/``) and stores what comes back; it never computes a
score itself (STYLE habit 15). Plain functions: validate, change state through the guarded
transitions (:data:`~auditbo.ratings.models.RUN_TRANSITIONS`), append the event, flush. They
never commit; the request, the CLI command or the job does.

- :func:`run_period` stores a month as a draft: every subject's grade, score, interval,
  effective evidence, contributions, reasons, change since last month with the events behind
  it, the engine's configuration and version, and the validation report. Re-running a month
  whose run is still a draft replaces that draft (same run, new ratings); a published month is
  never overwritten. When the engine refuses the data the run is stored as failed, with the
  reason and no ratings.
- :func:`publish` by an admin who did not run it (authz); a draft being re-run by someone else
  at that moment is 409.
- objections: :mod:`auditbo.ratings.objections`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

import rating
from auditbo import events
from auditbo.clock import today, utcnow
from auditbo.database import bulk_insert
from auditbo.errors import Conflict, FieldError, NotFound, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.orgs.models import Organisation, Person
from auditbo.ratings.events import rating_events
from auditbo.ratings.models import RUN_TRANSITIONS, Rating, RatingRun, RunStatus, SubjectType
from rating import INDICATORS, NR, Rater, RatingConfig, RatingError

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_CASES_BEHIND = 10  # events listed behind a change, per subject
BODY_TYPES = (SubjectType.assessment_body, SubjectType.consulting_body)


def _engine_version() -> str:
    """The engine's identity: a digest of rating/'s sources (the package has no version number)."""
    h = hashlib.sha256()
    for path in sorted(Path(rating.__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return "rating@" + h.hexdigest()[:12]


ENGINE_VERSION = _engine_version()


def period_of(day) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(period: str) -> str:
    year, month = map(int, period.split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def check_period(period) -> str:
    """A finished month as YYYY-MM, or 422 naming ``period``."""
    text = str(period or "").strip()
    if not PERIOD_RE.match(text) or int(text[:4]) < 2000:
        raise ValidationFailed([FieldError("period", "must be a month as YYYY-MM")])
    if text >= period_of(today()):
        raise ValidationFailed([FieldError("period", "must be a finished month (before the current one)")])
    return text


def get_run(run_id: int) -> RatingRun:
    run = db.session.get(RatingRun, run_id)
    if run is None:
        raise NotFound("no such rating run")
    return run


def _lock(run: RatingRun) -> None:
    """Hold the run's row for this transaction; another transaction holding it is a 409, not a wait."""
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite: writers queue on the database lock (BEGIN IMMEDIATE) already
    try:
        db.session.execute(
            sa.select(RatingRun.id).where(RatingRun.id == run.id).with_for_update(nowait=True)
        )
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise Conflict("this rating run is being computed or published by someone else; try again") from None
        raise


def config() -> RatingConfig:
    return RatingConfig()


# --- run ------------------------------------------------------------------------------------
def run_period(period, *, actor: Actor) -> RatingRun:
    """Compute ``period`` from the database and store it as a draft (replacing a draft of it)."""
    period = check_period(period)
    runs = list(db.session.scalars(sa.select(RatingRun).where(RatingRun.period == period)
                                   .order_by(RatingRun.version)))
    if any(r.status is not RunStatus.draft for r in runs):
        raise Conflict(f"the ratings of {period} are published; a published month is never overwritten")
    run = runs[0] if runs else None
    action = "recomputed" if run else "computed"
    if run is None:
        RUN_TRANSITIONS.check(None, RunStatus.draft)
        run = RatingRun(period=period, version=1, status=RunStatus.draft, config={})
        db.session.add(run)
        db.session.flush()
    else:
        _lock(run)
        db.session.execute(sa.delete(Rating).where(Rating.run_id == run.id))
    cfg = config()
    run.run_by_id = actor.id
    run.computed_at = utcnow()
    run.config = {"engine_version": ENGINE_VERSION, "parameters": _plain({f.name: getattr(cfg, f.name) for f in fields(cfg)})}
    try:
        table, report, entered = _compute(period, cfg)
    except (RatingError, ValueError) as exc:
        run.error = " ".join(str(exc).split())[:2000]
        run.validation = None
        db.session.flush()
        events.record(actor, "rating_run", run.id, "failed", after={"period": period}, reason=run.error)
        return run
    run.error = None
    rows = _rating_rows(run.id, table, entered)
    bulk_insert(Rating, rows)
    counts = _grade_counts(table)
    run.validation = {**report, "grade_counts": counts, "subjects": len(rows)}
    db.session.flush()
    events.record(actor, "rating_run", run.id, action,
                  after={"period": period, "grade_counts": counts, "engine_version": ENGINE_VERSION})
    return run


def _plain(value):
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _compute(period: str, cfg: RatingConfig) -> tuple[pd.DataFrame, dict, dict]:
    """The engine's ratings of ``period`` (with the change since last month), its validation
    report, and the events behind each subject's change."""
    raw = rating_events(period, cfg)
    if raw.empty:
        raise RatingError(f"no events up to the end of {period}: nothing to rate")
    codes = rating.encode(raw)
    p = rating.parse_period(period)
    previous = stored_ratings(previous_period(period))
    if previous is None:  # nothing published last month: rate it afresh, as the file CLI does
        previous = Rater(cfg, explain=False).fit_transform(codes, previous_period(period))
    past = Rater(cfg, explain=False).fit_transform(codes, _shift(p, -int(cfg.backtest_months)))
    current = Rater(cfg, explain=True).fit_transform(codes, period, previous)
    report = rating.validation_report(codes, period, cfg, current=current, previous=previous, past=past)
    table = rating.compare(previous, current)
    return table, report.to_dict(), _behind(raw, period, cfg, codes)


def _shift(p: int, months: int) -> str:
    q = p + months
    return f"{q // 12:04d}-{q % 12 + 1:02d}"


def _behind(raw: pd.DataFrame, period: str, cfg: RatingConfig, codes: rating.EventCounts | None = None) -> dict:
    """(subject_type, subject_id) -> the events that entered or left the window this month."""
    rows = rating.events_behind_change(raw, period, cfg, codes=codes)
    first = rows.groupby(["subject_type", "subject_id"], sort=False, observed=True).head(MAX_CASES_BEHIND)
    out: dict = {}  # in their order
    for stype, sid, e, d, c, f in first[["subject_type", "subject_id", "event", "event_date", "case_id",
                                         "effect"]].astype(object).itertuples(index=False):
        out.setdefault((stype, sid), []).append({"event": e, "date": d, "case": None if pd.isna(c) else c,
                                                 "effect": f})
    return out


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) else round(float(v), 4)


def _rating_rows(run_id: int, table: pd.DataFrame, entered: dict) -> list[dict]:
    orgs = dict(db.session.execute(sa.select(Organisation.credit_code, Organisation.id).where(
        Organisation.credit_code.in_(table.loc[table["subject_type"].isin(["assessment_body", "consulting_body"]),
                                               "subject_id"].tolist()))).all())
    persons = dict(db.session.execute(sa.select(Person.person_id, Person.id).where(
        Person.person_id.in_(table.loc[table["subject_type"].isin(["assessor", "consultant"]),
                                       "subject_id"].tolist()))).all())
    rows = []
    for r in table.to_dict("records"):
        stype, sid = r["subject_type"], r["subject_id"]
        body = stype in ("assessment_body", "consulting_body")
        steps = r.get("grade_steps")
        rows.append({
            "run_id": run_id,
            "subject_type": SubjectType(stype),
            "org_id": orgs[sid] if body else None,
            "person_id": None if body else persons[sid],
            "score": _num(r["score"]),
            "score_low": _num(r["score_low"]),
            "score_high": _num(r["score_high"]),
            "grade": r["grade"],
            "effective_n": _num(r["effective_n"]) or 0.0,
            "contributions": {k: round(v, 4) for k, v in (r.get("contributions") or {}).items()},
            "reasons": {"zh": list(r.get("reasons_zh") or []), "en": list(r.get("reasons_en") or [])},
            "change": {
                "grade_previous": r.get("grade_previous") if isinstance(r.get("grade_previous"), str) else None,
                "score_previous": _num(r.get("score_previous")),
                "score_change": _num(r.get("score_change")),
                "grade_steps": None if steps is None or pd.isna(steps) else int(steps),
                "indicator_changes": {k: _num(v) for k, v in (r.get("indicator_changes") or {}).items()},
                "counts": _plain(r.get("change_events") or {}),
                "events": entered.get((stype, sid), []),
                "zh": r.get("change_zh"),
                "en": r.get("change_en"),
                "base": _num(r.get("base")),
                "sanctioned": bool(r.get("sanctioned")),
                "grade_held": bool(r.get("grade_held")),
            },
            "version": 1,
        })
    return rows


def _grade_counts(table: pd.DataFrame) -> dict:
    vc = table["grade"].value_counts()
    return {g: int(vc.get(g, 0)) for g in (*rating.GRADES, NR)}


def stored_ratings(period: str) -> pd.DataFrame | None:
    """The current versions of a published month's ratings, as the engine's ``previous`` frame."""
    run = db.session.scalar(sa.select(RatingRun).where(RatingRun.period == period,
                                                       RatingRun.status == RunStatus.published)
                            .order_by(RatingRun.version.desc()).limit(1))
    if run is None:
        return None
    rows = db.session.execute(
        sa.select(Rating.subject_type, sa.func.coalesce(Organisation.credit_code, Person.person_id),
                  Rating.grade, Rating.score, Rating.contributions, Rating.change)
        .outerjoin(Organisation, Organisation.id == Rating.org_id)
        .outerjoin(Person, Person.id == Rating.person_id)
        .where(Rating.run_id == run.id, Rating.superseded_at.is_(None))
    ).all()
    frame = pd.DataFrame({
        "subject_id": [r[1] for r in rows],
        "subject_type": [r[0].value for r in rows],
        "grade": [r[2] for r in rows],
        "score": pd.to_numeric(pd.Series([r[3] for r in rows], dtype=object), errors="coerce"),
        "sanctioned": [bool((r[5] or {}).get("sanctioned")) for r in rows],
    })
    for ind in INDICATORS:
        frame[f"contrib_{ind}"] = [((r[4] or {}).get(ind) if r[4] else np.nan) for r in rows]
        frame[f"contrib_{ind}"] = pd.to_numeric(frame[f"contrib_{ind}"], errors="coerce")
    return frame


# --- publish ------------------------------------------------------------------------------------
def publish(run: RatingRun, *, actor: Actor) -> RatingRun:
    """Publish a draft: its bodies' grades become public. The caller has checked four eyes (authz)."""
    _lock(run)
    db.session.refresh(run)
    if run.error:
        raise Conflict("a failed run cannot be published; run the month again")
    if run.status is not RunStatus.draft and run.status is not RunStatus.reviewed:
        raise Conflict(f"this run is {run.status.value}; only a draft can be published")
    RUN_TRANSITIONS.check(run.status, RunStatus.published)
    before = run.status.value
    run.status = RunStatus.published
    run.published_by_id = actor.id
    run.published_at = utcnow()
    db.session.flush()
    events.record(actor, "rating_run", run.id, "published", before={"status": before},
                  after={"status": run.status.value, "period": run.period})
    return run


# --- the monthly job ------------------------------------------------------------------------------
def run_previous_month(day, *, actor: Actor = events.SYSTEM) -> dict:
    """The scheduler's monthly step: the month before ``day`` as a draft, once. Idempotent: a month
    that already has a run (draft, published) is left alone, a failed run is tried again; so the
    catch-up at start (any day of the month) computes a month missed while the service was down."""
    period = previous_period(period_of(day))
    existing = db.session.scalar(sa.select(RatingRun).where(RatingRun.period == period)
                                 .order_by(RatingRun.version.desc()).limit(1))
    if existing is not None and not existing.error:
        return {"period": period, "run": existing.id, "computed": False}
    try:
        with db.session.begin_nested():
            r = run_period(period, actor=actor)
    except sa.exc.IntegrityError:
        # another scheduler stored this month at the same moment (unique period and version): theirs stands
        winner = db.session.scalar(sa.select(RatingRun.id).where(RatingRun.period == period)
                                   .order_by(RatingRun.version.desc()).limit(1))
        return {"period": period, "run": winner, "computed": False}
    return {"period": period, "run": r.id, "computed": True, "status": r.state}
