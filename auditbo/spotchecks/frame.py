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
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from auditbo.clock import end_of, office_zone
from auditbo.complaints.models import Complaint, ComplaintStatus
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision
from auditbo.extensions import db
from auditbo.filings.lifecycle import add_months
from auditbo.filings.models import Assessment, AssessmentStatus, TeamMember, TeamRole
from auditbo.frames import read_frame
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


def normalise(df: pd.DataFrame, columns=FEATURES, *, copy: bool = True) -> pd.DataFrame:
    """The one dtype recipe for frame columns (numbers as float64, categories as text or None), applied
    when drawing and again when the verify rebuilds the frame from the frozen features."""
    out = df.copy() if copy else df
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
    return Assessment.filed_at < end_of(plan_date)


def _team():
    """Per assessment: its team's size and its lead (one grouped pass, not a subquery per row)."""
    return (sa.select(TeamMember.assessment_id.label("aid"), sa.func.count().label("team_size"),
                      sa.func.max(sa.case((TeamMember.role == TeamRole.lead, TeamMember.person_id))).label("lead_id"))
            .group_by(TeamMember.assessment_id).subquery("team"))


def _raw(col, name: str | None = None):
    """An enum column as its stored text (no Python enum per row)."""
    return sa.type_coerce(col, sa.String).label(name or col.key)


COPY_READS = True  # PostgreSQL: read frames by COPY (a test compares with the row-by-row path)


def _epoch(col):
    """A timestamp as seconds since 1970 UTC (a number on every database: no per-row parsing)."""
    return sa.cast(sa.extract("epoch", col), sa.Float).label(col.key)


def _rows(stmt, cols: list[str], text: tuple[str, ...] = ()) -> pd.DataFrame:
    """A query's rows as a DataFrame (``text``: columns kept as strings). On PostgreSQL by COPY into pandas'
    C parser (:func:`auditbo.frames.read_frame`): a million rows without a million Python row objects.
    Dates come back as text there and as ``date`` objects elsewhere: :func:`_days` takes either."""
    if db.session.connection().dialect.name != "postgresql" or not COPY_READS:
        return pd.DataFrame(db.session.execute(stmt).all(), columns=cols)
    return read_frame(stmt, cols, text=text)


TEXT_COLUMNS = ("grade", "previous_grade", "assessment_type", "region_code", "industry_code", "enterprise_size")
RECORD_COLUMNS = ["unit_id", "body_id", "consulting_body_id", "enterprise_id", "grade", "previous_grade",
                  "assessment_type", "person_days", "person_days_min", "onsite_end", "decision_date", "filed_at",
                  "region_code", "industry_code", "flag_late", "flag_tie", "flag_low_days", "flag_reduced_days",
                  "enterprise_size", "lead_id", "team_size"]


def _days(values) -> pd.Series:
    """Dates (Python ``date`` objects from the driver) as datetime64, converted once, without a cache probe."""
    values = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    return pd.to_datetime(values, cache=False, format="%Y-%m-%d" if _text(values) else None).astype("datetime64[ns]")


def _text(values: pd.Series) -> bool:
    """Whether a column came as text (COPY) rather than as Python dates and datetimes."""
    first = values.first_valid_index()
    return first is not None and isinstance(values[first], str)


def _records(where, extra=()) -> pd.DataFrame:
    """The records matching ``where`` with the columns the features need (and ``extra`` labelled columns)."""
    team = _team()
    stmt = (sa.select(Assessment.id.label("unit_id"), Assessment.body_id, Assessment.consulting_body_id,
                      Assessment.enterprise_id, _raw(Assessment.grade), _raw(Assessment.previous_grade),
                      _raw(Assessment.assessment_type), Assessment.person_days, Assessment.person_days_min,
                      Assessment.onsite_end, Assessment.decision_date, _epoch(Assessment.filed_at), Assessment.region_code,
                      Assessment.industry_code, Assessment.flag_late, Assessment.flag_tie, Assessment.flag_low_days,
                      Assessment.flag_reduced_days, _raw(Enterprise.size, "enterprise_size"),
                      team.c.lead_id, sa.func.coalesce(team.c.team_size, 0), *extra)
            .join(Enterprise, Enterprise.id == Assessment.enterprise_id)
            .outerjoin(team, team.c.aid == Assessment.id).where(*where).order_by(Assessment.id))
    recs = _rows(stmt, RECORD_COLUMNS + [e.name for e in extra], TEXT_COLUMNS)
    return recs.assign(decision_date=_days(recs["decision_date"]), onsite_end=_days(recs["onsite_end"]))


def _office_days(stamps) -> pd.Series:
    """Stored UTC timestamps (or their epoch seconds) → the office's calendar days (midnight, naive), at once."""
    stamps = pd.Series(stamps)
    if pd.api.types.is_numeric_dtype(stamps):  # seconds since 1970 (:func:`_epoch`)
        utc = pd.to_datetime(stamps.astype("float64"), unit="s", utc=True)
    else:
        utc = pd.to_datetime(stamps, utc=True, cache=False, format="ISO8601" if _text(stamps) else None)
    return utc.dt.tz_convert(office_zone().key).dt.tz_localize(None).dt.normalize()


# --- prior nonconformity, as of a day ------------------------------------------------------------
def _decisions(plan_date: date) -> pd.DataFrame:
    """Every confirmation decision dated by the plan's date: aid, round, day (the office's), decision, nc."""
    conf = _rows(sa.select(ConfirmationAudit.assessment_id, ConfirmationAudit.round,
                           _epoch(ConfirmationAudit.decided_at), _raw(ConfirmationAudit.decision))
                 .where(ConfirmationAudit.status == AuditStatus.decided,
                        ConfirmationAudit.decided_at < end_of(plan_date)),
                 ["aid", "round", "day", "decision"], ("decision",))
    return conf.assign(day=_office_days(conf["day"]) if len(conf) else pd.Series(dtype="datetime64[ns]"),
                       nc=conf["decision"].isin([d.value for d in NC_DECISIONS]).astype("float64"))


def _party_events(plan_date: date, records: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """(kind, pid, day, nc) for every confirmation decision and spot-check closing dated by the plan's date,
    once per party: kind ``b`` (assessment body), ``l`` (lead) or ``c`` (consulting body), pid its id.
    ``records``: every record filed by the plan's day (their parties, joined here rather than per query)."""
    parties = records[["unit_id", "body_id", "consulting_body_id", "lead_id"]].rename(
        columns={"unit_id": "aid", "body_id": "body", "consulting_body_id": "consulting", "lead_id": "lead"})
    conf = decisions[["aid", "day", "nc"]]
    checks = _rows(sa.select(SpotCheck.assessment_id, SpotCheck.closed_on, _raw(SpotCheck.outcome),
                             _raw(SpotCheck.consequence))
                   .where(SpotCheck.status == CheckStatus.closed, SpotCheck.closed_on <= plan_date),
                   ["aid", "day", "outcome", "consequence"], ("outcome", "consequence"))
    checks = checks.assign(day=_days(checks["day"]),
                           nc=nonconforming(checks["outcome"], checks["consequence"]).astype("float64"))
    conf, checks = (f.merge(parties, on="aid", how="inner") if len(f) else f.assign(body=None, consulting=None,
                                                                                     lead=None)
                    for f in (conf, checks))
    cols = ["day", "nc", "body", "consulting", "lead"]
    ev = pd.concat([f[cols].astype({"nc": "float64"}) for f in (conf, checks) if len(f)] or [conf[cols]],
                   ignore_index=True)
    parts = []
    for col, kind in (("body", "b"), ("lead", "l"), ("consulting", "c")):
        ids = pd.to_numeric(ev[col], errors="coerce")
        keep = ids.notna().to_numpy()
        parts.append(pd.DataFrame({"kind": kind, "pid": ids[keep].astype("int64").to_numpy(),
                                   "day": ev["day"].to_numpy()[keep].astype("datetime64[ns]"),
                                   "nc": ev["nc"].to_numpy()[keep].astype("float64")}))
    return pd.concat(parts, ignore_index=True)


def nonconforming(outcome: pd.Series, consequence: pd.Series) -> pd.Series:
    """:func:`is_nonconforming` for columns of stored values."""
    return outcome.eq(CheckOutcome.major_findings.value) | (consequence.notna() & consequence.ne(Consequence.none.value))


def is_nonconforming(outcome, consequence) -> bool:
    """A checked record's label: major findings, or a consequence (downgrade, suspension, revocation)."""
    return outcome == CheckOutcome.major_findings or (consequence is not None and consequence != Consequence.none)


@dataclass
class Histories:
    """The parties' past, prepared once per frame (units and training rows both look into it): per kind of
    party the cumulative count of events and of nonconforming ones by day; the leads' decided records."""

    parties: dict[str, pd.DataFrame]
    base: float  # the market's nonconformity rate, which priors shrink towards
    led: pd.DataFrame

    @classmethod
    def of(cls, events: pd.DataFrame, led: pd.DataFrame) -> Histories:
        lead = pd.to_numeric(led["lead_id"], errors="coerce")
        led_ev = pd.DataFrame({"pid": lead, "day": _days(led["decision_date"]), "nc": 0.0})[lead.notna().to_numpy()]
        return cls({k: _cumulative(events[events["kind"] == k]) for k in ("b", "l", "c")},
                   float(events["nc"].mean()) if len(events) else 0.1,
                   _cumulative(led_ev.astype({"pid": "int64"})))


def _cumulative(events: pd.DataFrame) -> pd.DataFrame:
    """pid, day, cum_n, cum_nc: after each event, how many that party had and how many nc (sorted by day)."""
    ev = events[["pid", "day", "nc"]].sort_values(["pid", "day"], kind="stable")
    ev = ev.assign(cum_n=ev.groupby("pid").cumcount() + 1.0, cum_nc=ev.groupby("pid")["nc"].cumsum())
    return ev[["pid", "day", "cum_n", "cum_nc"]].sort_values("day", kind="stable")


def _counts_before(ids, as_of, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each (party id, day): how many events that party had strictly before the day, and how many nc.
    ``ids``: party ids (NaN for none); ``table``: :func:`_cumulative` of one kind of party. One as-of join."""
    n = len(ids)
    if n == 0 or len(table) == 0:
        return np.zeros(n), np.zeros(n)
    pid = pd.to_numeric(pd.Series(np.asarray(ids)), errors="coerce").fillna(-1).astype("int64").to_numpy()
    q = pd.DataFrame({"pid": pid, "day": _days(as_of).to_numpy(), "row": np.arange(n)}).sort_values("day",
                                                                                                    kind="stable")
    m = pd.merge_asof(q, table, on="day", by="pid", allow_exact_matches=False,
                      direction="backward").sort_values("row")
    return m["cum_n"].fillna(0.0).to_numpy(), m["cum_nc"].fillna(0.0).to_numpy()


def _workload(recs: pd.DataFrame, led: pd.DataFrame) -> np.ndarray:
    """Assessments the unit's lead decided in the 30 days before the unit's decision (records known by then)."""
    if len(recs) == 0 or len(led) == 0:
        return np.zeros(len(recs))
    day = _days(recs["decision_date"])
    before, _ = _counts_before(recs["lead_id"], day, led)
    before_window, _ = _counts_before(recs["lead_id"], day - pd.Timedelta(days=30), led)
    return before - before_window


def features(recs: pd.DataFrame, as_of: pd.Series, past: Histories, prior_weight: float) -> pd.DataFrame:
    """The engine's feature columns for these records, each as of its own day."""
    if len(recs) == 0:
        out = pd.DataFrame({"unit_id": recs["unit_id"].to_numpy()})
        for c in FEATURES:
            out[c] = pd.Series(dtype="float64" if c in NUMERIC else object)
        return out
    out: dict[str, np.ndarray] = {"unit_id": recs["unit_id"].to_numpy()}  # one DataFrame at the end
    level = recs["grade"].astype("string").str.len().to_numpy(dtype="float64", na_value=np.nan)
    prev = recs["previous_grade"].astype("string").str.len().to_numpy(dtype="float64", na_value=np.nan)
    out["grade_level"] = level
    out["grade_jump"] = np.where(np.isnan(prev), 0.0, np.maximum(level - np.nan_to_num(prev), 0)).astype(float)
    out["person_days_ratio"] = (recs["person_days"] / recs["person_days_min"].where(recs["person_days_min"] > 0)).to_numpy()
    decided = _days(recs["decision_date"])
    out["decision_lag_days"] = (decided - _days(recs["onsite_end"])).dt.days.to_numpy(dtype=float)
    filed_day = _office_days(recs["filed_at"])
    out["filing_delay_days"] = (filed_day - decided).dt.days.to_numpy(dtype=float)
    out["team_size"] = recs["team_size"].to_numpy(dtype=float)
    out["lead_workload_30d"] = _workload(recs, past.led)
    base = past.base
    for col, prefix, name in (("body_id", "b", "body_prior_nc"), ("lead_id", "l", "lead_prior_nc"),
                              ("consulting_body_id", "c", "consulting_prior_nc")):
        n, nc = _counts_before(recs[col], as_of, past.parties[prefix])
        out[name] = (nc + prior_weight * base) / (n + prior_weight)
        if col == "consulting_body_id":
            out[name][recs[col].isna().to_numpy()] = np.nan  # no consulting body: unknown, not average
    for flag in ("flag_late", "flag_tie", "flag_low_days", "flag_reduced_days"):
        out[flag] = recs[flag].astype(float).to_numpy()
    out["body_rating_level"] = credit.levels(credit.grades_as_of(recs["body_id"], as_of))  # auditbo/spotchecks/credit
    out["assessment_type"] = recs["assessment_type"].to_numpy()
    out["enterprise_size"] = recs["enterprise_size"].to_numpy()
    out["industry_section"] = recs["industry_code"].str[:1].to_numpy()
    out["province"] = recs["region_code"].str[:2].to_numpy()
    return normalise(pd.DataFrame(out), copy=False)


def _led(records: pd.DataFrame) -> pd.DataFrame:
    """(lead, decision day) of every record filed by the plan's day and not withdrawn: the leads' workload."""
    keep = (records["withdrawn"].astype(int) == 0) & records["lead_id"].notna()
    return records.loc[keep, ["lead_id", "decision_date"]].reset_index(drop=True)


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
    units = recs["unit_id"].astype("int64").to_numpy()
    consulting = pd.to_numeric(recs["consulting_body_id"], errors="coerce")
    lead = pd.to_numeric(recs["lead_id"], errors="coerce")
    for reason, hit in (
        ("sanctioned_staff", recs["body_id"].isin(staff) | consulting.isin(staff)),
        ("sanctioned_body", recs["body_id"].isin(bodies)),
        ("sanctioned_lead", lead.isin(persons)),
    ):
        for uid in units[hit.to_numpy(dtype=bool)]:
            why.setdefault(int(uid), []).append(reason)
    return why


def _recently_checked(plan_date: date, months: int) -> set[int]:
    since = add_months(plan_date, -months)
    return set(db.session.scalars(sa.select(SpotCheck.assessment_id).where(
        SpotCheck.opened_on > since, SpotCheck.opened_on <= plan_date)))


# --- training history ----------------------------------------------------------------------------
def _history(plan_date: date, past: Histories, prior_weight, records: pd.DataFrame, decisions: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    checked = (sa.select(SpotCheck.assessment_id)
               .where(SpotCheck.status == CheckStatus.closed, SpotCheck.closed_on <= plan_date))
    checks = _rows(sa.select(SpotCheck.assessment_id, SpotCheck.inclusion_probability, _raw(SpotCheck.outcome),
                             _raw(SpotCheck.consequence))
                   .where(SpotCheck.id.in_(checked.with_only_columns(SpotCheck.id))).order_by(SpotCheck.id),
                   ["aid", "pi", "outcome", "consequence"], ("outcome", "consequence"))
    checks = checks.drop_duplicates("aid", keep="last")  # a later check's label replaces an earlier one's
    labels = pd.DataFrame({"nc": nonconforming(checks["outcome"], checks["consequence"]).astype("int64").to_numpy(),
                           "pi": checks["pi"].fillna(1.0).astype("float64").to_numpy()},
                          index=checks["aid"].astype("int64").to_numpy())
    source = "spot_checks" if len(labels) else "none"
    if len(labels) < MIN_LABELS or int(labels["nc"].sum()) < MIN_POSITIVES:
        audits = decisions.sort_values(["aid", "round"], kind="stable")[["aid", "decision"]]
        audits = audits.drop_duplicates("aid", keep="last")  # a later round's decision replaces an earlier one's
        audits = audits[~audits["aid"].isin(labels.index)]  # a spot check's label wins over the confirmation's
        if len(audits):
            labels = pd.concat([labels, pd.DataFrame(
                {"nc": audits["decision"].isin([d.value for d in NC_DECISIONS]).astype("int64").to_numpy(),
                 "pi": 1.0}, index=audits["aid"].astype("int64").to_numpy())])
            source = "confirmations" if source == "none" else "spot_checks+confirmations"
    if not len(labels):
        return None, "none"
    recs = records[records["unit_id"].isin(labels.index)].reset_index(drop=True)
    as_of = _days(recs["decision_date"])
    hist = features(recs, as_of, past, prior_weight)
    mine = labels.loc[recs["unit_id"].astype("int64").to_numpy()]
    hist["nonconforming"] = mine["nc"].to_numpy()
    hist["inclusion_probability"] = mine["pi"].to_numpy()
    hist["decided_on"] = as_of.dt.strftime("%Y-%m-%d").to_numpy()
    # a feature no training row knows (no grade published yet) tells the model nothing, and the engine's
    # binning refuses an all-missing column: it is left out of the history (the units keep it)
    unknown = [c for c in NUMERIC if c in hist.columns and hist[c].isna().all()]
    return hist.drop(columns=["unit_id", *unknown]), source


# --- the frame -----------------------------------------------------------------------------------
def build_frame(population: dict, plan_date: date, cfg, *, strata: str | None = None,
                with_history: bool = True) -> Frame:
    """The plan's frame as of ``plan_date``: units with features, mandatory flags, and labelled history."""
    # one read of every record filed by the plan's day: the population's units, the labelled history, the
    # parties of past decisions and the leads' workload all come from it
    everything = _records([_filed_by(plan_date)], extra=(
        sa.case((sa.and_(*population_where(population, plan_date)), 1), else_=0).label("in_population"),
        sa.case((Assessment.status == AssessmentStatus.withdrawn, 1), else_=0).label("withdrawn")))
    recs = everything[everything["in_population"].astype(int) == 1].reset_index(drop=True)
    why = _mandatory(recs, plan_date, cfg)
    recent = _recently_checked(plan_date, cfg["SPOTCHECK_REPEAT_MONTHS"])
    drop = (recs["unit_id"].isin(recent) & ~recs["unit_id"].isin(why)).to_numpy(dtype=bool)
    excluded = int(drop.sum())
    recs = recs.loc[~drop].reset_index(drop=True)
    decisions = _decisions(plan_date)
    past = Histories.of(_party_events(plan_date, everything, decisions), _led(everything))
    prior_weight = float(cfg["SAMPLING_PRIOR_WEIGHT"])
    units_as_of = pd.Series(pd.Timestamp(plan_date), index=recs.index)
    units = features(recs, units_as_of, past, prior_weight)
    units["mandatory"] = units["unit_id"].isin(why).astype("float64").to_numpy()
    if strata == "body":
        units["body_id"] = recs["body_id"].astype("int64").astype(str).to_numpy()
    if strata == "rating":
        units[credit.STRATUM] = credit.grades_as_of(recs["body_id"], units_as_of).to_numpy()
    parties = recs[["unit_id", "body_id", "consulting_body_id", "enterprise_id"]].copy()
    history, labels = (_history(plan_date, past, prior_weight, everything, decisions) if with_history
                       else (None, "none"))
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
