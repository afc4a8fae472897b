"""The sampling frame and its features, built from the app's own history as of the plan's date.

One unit per standing assessment in the plan's population (``unit_id`` = the assessment's id).
Every feature is computed from what the office knew on the plan's date, never later:

- only records filed by the end of the plan's day count (a unit's lead workload, its body's
  history), and only confirmation decisions and spot-check closings dated before the row's
  *as-of* day (the plan's date for frame units, the record's decision date for training rows);
- the training labels are spot checks closed by the plan's date (nonconforming = major findings
  or a consequence); where they are thin (< 200 rows or < 20 nonconforming, the engine's own
  thresholds), the confirmation decisions of comparable records (AAA+: grade adjusted,
  returned or rejected = nonconforming) are added, and the frame says which labels it used.

Mandatory units (π = 1): a complaint about the record substantiated in the look-back window
and not followed by a spot check since, and records whose body or lead has a sanction
(warning, suspension, revocation) that started in ``SAMPLING_SANCTION_LOOKBACK_MONTHS``, and every
record of a body one of whose persons was so sanctioned and not checked since (auditbo/spotchecks/credit.py,
with the body's published grade as a feature and the minimum sampling share per grade).
A record spot-checked in the last ``SPOTCHECK_REPEAT_MONTHS`` is left out unless mandatory.

The statistics are the engine's (:mod:`sampling`): this module only reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from auditbo.clock import start_of
from auditbo.complaints.models import Complaint, ComplaintStatus
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision
from auditbo.extensions import db
from auditbo.filings.lifecycle import add_months
from auditbo.filings.models import Assessment, AssessmentStatus, TeamMember, TeamRole
from auditbo.orgs.models import Enterprise
from auditbo.sanctions.models import Sanction, SanctionKind, SanctionStatus
from auditbo.spotchecks import credit
from auditbo.spotchecks.models import CheckOutcome, CheckStatus, Consequence, SpotCheck

NUMERIC = (
    "grade_level", "grade_jump", "person_days_ratio", "decision_lag_days", "filing_delay_days", "team_size",
    "lead_workload_30d", "body_prior_nc", "lead_prior_nc", "consulting_prior_nc",
    "flag_late", "flag_tie", "flag_low_days", "flag_reduced_days", "body_rating_level",
)
CATEGORICAL = ("assessment_type", "enterprise_size", "industry_section", "province")
FEATURES = NUMERIC + CATEGORICAL
STRATA = {"province": "province", "body": "body_id", "rating": credit.STRATUM}  # a plan's strata -> the frame column
MIN_LABELS, MIN_POSITIVES = 200, 20  # the engine's cold-start thresholds (sampling.RiskModel)
NC_DECISIONS = (Decision.grade_adjusted, Decision.returned, Decision.rejected)


@dataclass
class Frame:
    plan_date: date
    units: pd.DataFrame  # unit_id, FEATURES, mandatory (0/1)[, body_id]: what the engine draws from
    parties: pd.DataFrame  # unit_id, body_id, consulting_body_id, enterprise_id: for the inspectors' draw
    mandatory_why: dict[int, list[str]] = field(default_factory=dict)
    excluded_recent: int = 0
    history: pd.DataFrame | None = None  # labelled rows for the risk model
    labels: str = "none"  # spot_checks | spot_checks+confirmations | confirmations | none

    @property
    def size(self) -> int:
        return len(self.units)

    @property
    def mandatory_count(self) -> int:
        return int(self.units["mandatory"].sum()) if len(self.units) else 0

    def mandatory_reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for why in self.mandatory_why.values():
            for w in why:
                counts[w] = counts.get(w, 0) + 1
        return counts


def normalise(df: pd.DataFrame, columns=FEATURES) -> pd.DataFrame:
    """The one dtype recipe for frame columns (numbers as float64, categories as text or None), applied
    when drawing and again when the verify rebuilds the frame from the frozen features."""
    out = df.copy()
    for c in columns:
        if c not in out.columns:
            continue
        if c in NUMERIC or c == "mandatory":
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
        else:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


# --- raw records ---------------------------------------------------------------------------------
def _filed_by(plan_date: date):
    return Assessment.filed_at < start_of(plan_date + timedelta(days=1))


def _records(where) -> pd.DataFrame:
    lead = (sa.select(TeamMember.person_id).where(TeamMember.assessment_id == Assessment.id,
                                                   TeamMember.role == TeamRole.lead)
            .correlate(Assessment).limit(1).scalar_subquery())
    team = (sa.select(sa.func.count()).where(TeamMember.assessment_id == Assessment.id)
            .correlate(Assessment).scalar_subquery())
    stmt = (sa.select(Assessment.id.label("unit_id"), Assessment.body_id, Assessment.consulting_body_id,
                      Assessment.enterprise_id, Assessment.grade, Assessment.previous_grade,
                      Assessment.assessment_type, Assessment.person_days, Assessment.person_days_min,
                      Assessment.onsite_end, Assessment.decision_date, Assessment.filed_at, Assessment.region_code,
                      Assessment.industry_code, Assessment.flag_late, Assessment.flag_tie, Assessment.flag_low_days,
                      Assessment.flag_reduced_days, Enterprise.size.label("enterprise_size"),
                      lead.label("lead_id"), team.label("team_size"))
            .join(Enterprise, Enterprise.id == Assessment.enterprise_id).where(*where).order_by(Assessment.id))
    rows = db.session.execute(stmt).all()
    cols = ["unit_id", "body_id", "consulting_body_id", "enterprise_id", "grade", "previous_grade",
            "assessment_type", "person_days", "person_days_min", "onsite_end", "decision_date", "filed_at",
            "region_code", "industry_code", "flag_late", "flag_tie", "flag_low_days", "flag_reduced_days",
            "enterprise_size", "lead_id", "team_size"]
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


def _office_day(ts) -> date:
    from auditbo.clock import to_local

    return to_local(ts).date()


# --- prior nonconformity, as of a day ------------------------------------------------------------
def _party_events(plan_date: date) -> pd.DataFrame:
    """(party, day, nc) for every confirmation decision and spot-check closing dated by the plan's date;
    a party is ``b<id>`` (assessment body), ``l<id>`` (lead) or ``c<id>`` (consulting body)."""
    lead = (sa.select(TeamMember.person_id).where(TeamMember.assessment_id == Assessment.id,
                                                   TeamMember.role == TeamRole.lead)
            .correlate(Assessment).limit(1).scalar_subquery())
    out = []
    conf = db.session.execute(
        sa.select(ConfirmationAudit.decided_at, ConfirmationAudit.decision, Assessment.body_id,
                  Assessment.consulting_body_id, lead)
        .join(Assessment, Assessment.id == ConfirmationAudit.assessment_id)
        .where(ConfirmationAudit.status == AuditStatus.decided,
               ConfirmationAudit.decided_at < start_of(plan_date + timedelta(days=1)))).all()
    for at, decision, body, consulting, lead_id in conf:
        out.append((_office_day(at), int(decision in NC_DECISIONS), body, consulting, lead_id))
    checks = db.session.execute(
        sa.select(SpotCheck.closed_on, SpotCheck.outcome, SpotCheck.consequence, Assessment.body_id,
                  Assessment.consulting_body_id, lead)
        .join(Assessment, Assessment.id == SpotCheck.assessment_id)
        .where(SpotCheck.status == CheckStatus.closed, SpotCheck.closed_on <= plan_date)).all()
    for closed, outcome, consequence, body, consulting, lead_id in checks:
        out.append((closed, int(is_nonconforming(outcome, consequence)), body, consulting, lead_id))
    if not out:
        return pd.DataFrame({"party": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[ns]"),
                             "nc": pd.Series(dtype="float64")})
    ev = pd.DataFrame(out, columns=["day", "nc", "body", "consulting", "lead"])
    ev["day"] = pd.to_datetime(ev["day"])
    parts = []
    for col, prefix in (("body", "b"), ("lead", "l"), ("consulting", "c")):
        part = ev.loc[ev[col].notna(), ["day", "nc", col]]
        parts.append(pd.DataFrame({"party": prefix + part[col].astype("int64").astype(str),
                                   "day": part["day"], "nc": part["nc"].astype("float64")}))
    return pd.concat(parts, ignore_index=True)


def is_nonconforming(outcome, consequence) -> bool:
    """A checked record's label: major findings, or a consequence (downgrade, suspension, revocation)."""
    return outcome == CheckOutcome.major_findings or (consequence is not None and consequence != Consequence.none)


def _counts_before(keys: pd.Series, as_of: pd.Series, events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each (party key, day): how many events that party had strictly before the day, and how many nc."""
    n = len(keys)
    if n == 0 or len(events) == 0:
        return np.zeros(n), np.zeros(n)
    ev = events.sort_values(["party", "day"], kind="stable").copy()
    ev["cum_n"] = ev.groupby("party").cumcount() + 1.0
    ev["cum_nc"] = ev.groupby("party")["nc"].cumsum()
    ev["day"] = pd.to_datetime(ev["day"]).astype("datetime64[ns]")
    q = pd.DataFrame({"party": keys.fillna("").astype(str).to_numpy(),
                      "day": pd.to_datetime(as_of).to_numpy().astype("datetime64[ns]"), "row": np.arange(n)})
    q = q.sort_values("day", kind="stable")
    m = pd.merge_asof(q, ev[["party", "day", "cum_n", "cum_nc"]].sort_values("day", kind="stable"),
                      on="day", by="party", allow_exact_matches=False, direction="backward")
    m = m.sort_values("row")
    return m["cum_n"].fillna(0.0).to_numpy(), m["cum_nc"].fillna(0.0).to_numpy()


def _workload(recs: pd.DataFrame, led: pd.DataFrame) -> np.ndarray:
    """Assessments the unit's lead decided in the 30 days before the unit's decision (records known by then)."""
    if len(recs) == 0 or len(led) == 0:
        return np.zeros(len(recs))
    ev = pd.DataFrame({"party": led["lead_id"].astype("int64").astype(str), "day": pd.to_datetime(led["decision_date"]),
                       "nc": 0.0})
    keys = recs["lead_id"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    day = pd.to_datetime(recs["decision_date"])
    before, _ = _counts_before(keys, day, ev)
    before_window, _ = _counts_before(keys, day - pd.Timedelta(days=30), ev)
    return before - before_window


def features(recs: pd.DataFrame, as_of: pd.Series, events: pd.DataFrame, led: pd.DataFrame,
             prior_weight: float) -> pd.DataFrame:
    """The engine's feature columns for these records, each as of its own day."""
    out = pd.DataFrame({"unit_id": recs["unit_id"].to_numpy()})
    if len(recs) == 0:
        for c in FEATURES:
            out[c] = pd.Series(dtype="float64" if c in NUMERIC else object)
        return out
    level = recs["grade"].map(lambda g: len(str(g.value if hasattr(g, "value") else g)))
    prev = recs["previous_grade"].map(lambda g: np.nan if g is None or pd.isna(g) else
                                      len(str(g.value if hasattr(g, "value") else g)))
    out["grade_level"] = level.to_numpy(dtype=float)
    out["grade_jump"] = np.where(prev.isna(), 0.0, np.maximum(level - prev.fillna(0), 0)).astype(float)
    out["person_days_ratio"] = (recs["person_days"] / recs["person_days_min"].where(recs["person_days_min"] > 0)).to_numpy()
    decided = pd.to_datetime(recs["decision_date"])
    out["decision_lag_days"] = (decided - pd.to_datetime(recs["onsite_end"])).dt.days.to_numpy(dtype=float)
    filed_day = pd.to_datetime(recs["filed_at"].map(_office_day))
    out["filing_delay_days"] = (filed_day - decided).dt.days.to_numpy(dtype=float)
    out["team_size"] = recs["team_size"].to_numpy(dtype=float)
    out["lead_workload_30d"] = _workload(recs, led)
    base = float(events["nc"].mean()) if len(events) else 0.1
    for col, prefix, name in (("body_id", "b", "body_prior_nc"), ("lead_id", "l", "lead_prior_nc"),
                              ("consulting_body_id", "c", "consulting_prior_nc")):
        keys = recs[col].map(lambda v, p=prefix: "" if v is None or pd.isna(v) else f"{p}{int(v)}")
        n, nc = _counts_before(keys, as_of, events)
        out[name] = (nc + prior_weight * base) / (n + prior_weight)
        if col == "consulting_body_id":
            out.loc[keys.eq("").to_numpy(), name] = np.nan  # no consulting body: unknown, not average
    for flag in ("flag_late", "flag_tie", "flag_low_days", "flag_reduced_days"):
        out[flag] = recs[flag].astype(float).to_numpy()
    out["body_rating_level"] = credit.levels(credit.grades_as_of(recs["body_id"], as_of))  # auditbo/spotchecks/credit
    out["assessment_type"] = recs["assessment_type"].map(lambda v: getattr(v, "value", v)).to_numpy()
    out["enterprise_size"] = recs["enterprise_size"].map(lambda v: getattr(v, "value", v)).to_numpy()
    out["industry_section"] = recs["industry_code"].str[:1].to_numpy()
    out["province"] = recs["region_code"].str[:2].to_numpy()
    return normalise(out)


def _led_records(plan_date: date) -> pd.DataFrame:
    rows = db.session.execute(
        sa.select(TeamMember.person_id, Assessment.decision_date)
        .join(Assessment, Assessment.id == TeamMember.assessment_id)
        .where(TeamMember.role == TeamRole.lead, _filed_by(plan_date),
               Assessment.status.not_in([AssessmentStatus.withdrawn]))).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["lead_id", "decision_date"])


# --- the population ------------------------------------------------------------------------------
def population_where(population: dict, plan_date: date) -> list:
    where = [Assessment.status == AssessmentStatus.standing, _filed_by(plan_date),
             Assessment.decision_date <= plan_date]
    if population.get("decided_from"):
        where.append(Assessment.decision_date >= date.fromisoformat(population["decided_from"]))
    if population.get("decided_to"):
        where.append(Assessment.decision_date <= date.fromisoformat(population["decided_to"]))
    if population.get("grades"):
        where.append(Assessment.grade.in_(population["grades"]))
    if population.get("assessment_types"):
        where.append(Assessment.assessment_type.in_(population["assessment_types"]))
    if population.get("region_codes"):
        where.append(sa.or_(*[Assessment.region_code.startswith(c) for c in population["region_codes"]]))
    if population.get("body_ids"):
        where.append(Assessment.body_id.in_(population["body_ids"]))
    return where


def _mandatory(recs: pd.DataFrame, plan_date: date, cfg) -> dict[int, list[str]]:
    why: dict[int, list[str]] = {}
    if len(recs) == 0:
        return why
    ids = set(int(x) for x in recs["unit_id"])
    since = add_months(plan_date, -cfg["SPOTCHECK_REPEAT_MONTHS"])
    last_check = (sa.select(sa.func.max(SpotCheck.opened_on)).where(SpotCheck.assessment_id == Complaint.assessment_id)
                  .correlate(Complaint).scalar_subquery())
    for aid, closed, checked in db.session.execute(
        sa.select(Complaint.assessment_id, Complaint.closed_on, last_check)
        .where(Complaint.status == ComplaintStatus.substantiated, Complaint.assessment_id.is_not(None),
               Complaint.closed_on.is_not(None), Complaint.closed_on <= plan_date, Complaint.closed_on >= since)):
        if aid in ids and (checked is None or checked < closed or checked > plan_date):
            why.setdefault(aid, []).append("substantiated_complaint")
    sanction_since = add_months(plan_date, -cfg["SAMPLING_SANCTION_LOOKBACK_MONTHS"])
    sanctioned = db.session.execute(
        sa.select(Sanction.org_id, Sanction.person_id)
        .where(Sanction.status.in_([SanctionStatus.in_force, SanctionStatus.ended]),
               Sanction.kind.in_([SanctionKind.warning, SanctionKind.suspension, SanctionKind.revocation]),
               sa.or_(Sanction.org_id.is_not(None), Sanction.person_id.is_not(None)),
               Sanction.starts_on <= plan_date, Sanction.starts_on >= sanction_since)).all()
    bodies = {o for o, _p in sanctioned if o is not None}
    persons = {p for _o, p in sanctioned if p is not None}
    staff = credit.sanctioned_staff_bodies(plan_date, sanction_since)  # their body's records, in the next plan
    if staff:
        for uid, body, consulting in zip(recs["unit_id"], recs["body_id"], recs["consulting_body_id"], strict=True):
            if body in staff or (consulting is not None and not pd.isna(consulting) and int(consulting) in staff):
                why.setdefault(int(uid), []).append("sanctioned_staff")
    if bodies or persons:
        for uid, body, lead in zip(recs["unit_id"], recs["body_id"], recs["lead_id"], strict=True):
            if body in bodies:
                why.setdefault(int(uid), []).append("sanctioned_body")
            if lead is not None and not pd.isna(lead) and int(lead) in persons:
                why.setdefault(int(uid), []).append("sanctioned_lead")
    return why


def _recently_checked(plan_date: date, months: int) -> set[int]:
    since = add_months(plan_date, -months)
    return set(db.session.scalars(sa.select(SpotCheck.assessment_id).where(
        SpotCheck.opened_on > since, SpotCheck.opened_on <= plan_date)))


# --- training history ----------------------------------------------------------------------------
def _history(plan_date: date, events, led, prior_weight) -> tuple[pd.DataFrame | None, str]:
    checks = db.session.execute(
        sa.select(SpotCheck.assessment_id, SpotCheck.inclusion_probability, SpotCheck.outcome, SpotCheck.consequence)
        .where(SpotCheck.status == CheckStatus.closed, SpotCheck.closed_on <= plan_date)
        .order_by(SpotCheck.id)).all()
    labels: dict[int, tuple[int, float]] = {}
    for aid, pi, outcome, consequence in checks:
        labels[aid] = (int(is_nonconforming(outcome, consequence)), float(pi or 1.0))
    source = "spot_checks" if labels else "none"
    positives = sum(v[0] for v in labels.values())
    if len(labels) < MIN_LABELS or positives < MIN_POSITIVES:
        audits = db.session.execute(
            sa.select(ConfirmationAudit.assessment_id, ConfirmationAudit.decision)
            .where(ConfirmationAudit.status == AuditStatus.decided,
                   ConfirmationAudit.decided_at < start_of(plan_date + timedelta(days=1)))
            .order_by(ConfirmationAudit.assessment_id, ConfirmationAudit.round)).all()
        confirmed: dict[int, int] = {}
        for aid, decision in audits:  # a later round's decision replaces an earlier one's
            confirmed[aid] = int(decision in NC_DECISIONS)
        added = 0
        for aid, nc in confirmed.items():
            if aid not in labels:  # a spot check's label wins over the confirmation's
                labels[aid] = (nc, 1.0)
                added += 1
        if added:
            source = "confirmations" if source == "none" else "spot_checks+confirmations"
    if not labels:
        return None, "none"
    recs = _records([Assessment.id.in_(list(labels)), _filed_by(plan_date)]) if len(labels) < 30000 else \
        _records([_filed_by(plan_date)])
    recs = recs[recs["unit_id"].isin(list(labels))].reset_index(drop=True)
    as_of = pd.to_datetime(recs["decision_date"])
    hist = features(recs, as_of, events, led, prior_weight)
    hist["nonconforming"] = [labels[int(u)][0] for u in recs["unit_id"]]
    hist["inclusion_probability"] = [labels[int(u)][1] for u in recs["unit_id"]]
    hist["decided_on"] = recs["decision_date"].map(lambda d: d.isoformat()).to_numpy()
    # a feature no training row knows (no grade published yet) tells the model nothing, and the engine's
    # binning refuses an all-missing column: it is left out of the history (the units keep it)
    unknown = [c for c in NUMERIC if c in hist.columns and hist[c].isna().all()]
    return hist.drop(columns=["unit_id", *unknown]), source


# --- the frame -----------------------------------------------------------------------------------
def build_frame(population: dict, plan_date: date, cfg, *, strata: str | None = None,
                with_history: bool = True) -> Frame:
    """The plan's frame as of ``plan_date``: units with features, mandatory flags, and labelled history."""
    recs = _records(population_where(population, plan_date))
    why = _mandatory(recs, plan_date, cfg)
    recent = _recently_checked(plan_date, cfg["SPOTCHECK_REPEAT_MONTHS"])
    drop = np.array([int(u) in recent and int(u) not in why for u in recs["unit_id"]], dtype=bool)
    excluded = int(drop.sum())
    recs = recs.loc[~drop].reset_index(drop=True)
    events = _party_events(plan_date)
    led = _led_records(plan_date)
    prior_weight = float(cfg["SAMPLING_PRIOR_WEIGHT"])
    units_as_of = pd.Series(pd.Timestamp(plan_date), index=recs.index)
    units = features(recs, units_as_of, events, led, prior_weight)
    units["mandatory"] = [1.0 if int(u) in why else 0.0 for u in units["unit_id"]]
    if strata == "body":
        units["body_id"] = recs["body_id"].astype("int64").astype(str).to_numpy()
    if strata == "rating":
        units[credit.STRATUM] = credit.grades_as_of(recs["body_id"], units_as_of).to_numpy()
    parties = recs[["unit_id", "body_id", "consulting_body_id", "enterprise_id"]].copy()
    history, labels = _history(plan_date, events, led, prior_weight) if with_history else (None, "none")
    return Frame(plan_date, units, parties, why, excluded, history, labels)


def frozen_features(units: pd.DataFrame) -> list[dict]:
    """Each unit's frame row as JSON (NaN as null): what PlanUnit.features keeps."""
    cols = [c for c in units.columns if c not in ("unit_id", "mandatory")]
    out = []
    records = units[cols].astype(object).where(units[cols].notna(), None).to_dict("records")
    for r in records:
        out.append({k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in r.items()})
    return out


def frame_from_frozen(rows: list[tuple[int, bool, dict]]) -> pd.DataFrame:
    """The frame the draw saw, rebuilt from PlanUnit rows (assessment id, mandatory, features)."""
    data = [{"unit_id": uid, **(feats or {}), "mandatory": 1.0 if mand else 0.0} for uid, mand, feats in rows]
    df = pd.DataFrame(data)
    return normalise(df, list(FEATURES) + ["mandatory"])
