"""The one query module that turns the app's history into the rating engine's events.

``rating_events(period)`` returns the raw events of ``rating/`` (spec/rating.md, "File-based
CLI": subject_id, subject_type, event_date, event, checker_id, case_id) as of the end of
``period``: only what is dated inside the window (from the oldest month any of the run's
ratings looks at, up to the last office day of ``period``) counts, so that nothing done after
the month changes its run.

Each outcome is held against every subject it concerns, as the engine's simulator does
(bench/rating_sim.py):

- filing on time / late: the assessment body and the lead (filing is the body's job);
- a confirmation decision and a spot-check outcome: the body, the lead and the members
  (with the reviewer / the inspector who closed the check as ``checker_id``) and the
  consulting body and its consultants where it is about the enterprise's real capability:
  every spot-check outcome and every confirmation decision but a return for correction,
  unless a finding of that return is held against a consultant;
- a substantiated complaint: the body or person it names and, when it is about an
  assessment, that assessment's body, lead and consulting body;
- a sanction: registry suspensions and revocations (in force or ended, never proposals
  or declined ones) of a body or a person, from the day they start.

``case_id`` is the assessment (``A<id>``), so the engine links a person to the body of
the same case; ``checker_id`` is a user (``U<id>``). Subjects are named by credit code
(bodies) and registry person id (assessors, consultants).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from auditbo.clock import office_zone, start_of
from auditbo.extensions import db
from auditbo.frames import read_frame
from rating import RatingConfig, earliest_month, parse_period

COLUMNS = ["subject_id", "subject_type", "event_date", "event", "checker_id", "case_id"]

# holding -> the roles on a record an outcome is held against
HOLDING = {
    "filing": ("body", "lead"),
    "check": ("body", "lead", "member", "consulting_body", "consultant"),
    "check_own_side": ("body", "lead", "member"),
    "complaint": ("body", "lead", "consulting_body"),
}
ROLE_TYPE = {
    "body": "assessment_body",
    "lead": "assessor",
    "member": "assessor",
    "consulting_body": "consulting_body",
    "consultant": "consultant",
}
CONFIRMATION_EVENT = {
    "confirmed": "confirmation_confirmed",
    "returned": "confirmation_returned",
    "grade_adjusted": "confirmation_grade_adjusted",
    "rejected": "confirmation_rejected",
}
SPOTCHECK_EVENT = {
    "conforming": "spotcheck_conforming",
    "minor_findings": "spotcheck_minor",
    "major_findings": "spotcheck_major",
}
SANCTION_KINDS = ("suspension", "revocation")


def month_bounds(month_index: int) -> tuple[date, date]:
    """First and last day of a month given as the engine's index (year * 12 + month - 1)."""
    first = date(month_index // 12, month_index % 12 + 1, 1)
    nxt = month_index + 1
    after = date(nxt // 12, nxt % 12 + 1, 1)
    return first, date.fromordinal(after.toordinal() - 1)


def window(period: str, config: RatingConfig | None = None) -> tuple[date, date]:
    """The office days whose events a run of ``period`` reads: its own window, the previous
    month's (change and hysteresis), the backtest month's (validation) and the score scale's
    reference month (:func:`rating.earliest_month`), up to the period's end."""
    cfg = config or RatingConfig()
    p = parse_period(period)
    # the engine says how far back it reads (the backtest month's window, and the reference
    # month its score scale is fitted on when the configuration stores no scale)
    first, _ = month_bounds(parse_period(earliest_month(period, cfg)))
    _, last = month_bounds(p)
    return first, last


def _office_dates(values: pd.Series) -> pd.Series:
    """UTC timestamps -> office dates (vectorised)."""
    if values.empty:
        return pd.Series([], dtype=object)
    stamps = pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_convert(str(office_zone()))
    return stamps.dt.date


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns)


def _text(col):
    """An enum column as its stored text."""
    return sa.type_coerce(col, sa.String())


def _stamp(col):
    """A UTC timestamp column as the driver returns it (aware on PostgreSQL, naive UTC on SQLite)."""
    return sa.type_coerce(col, sa.DateTime(timezone=True))


def _case_events(first: date, last: date) -> pd.DataFrame:
    """Outcomes of assessments: case, event, date, checker, holding, source."""
    from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, FindingAgainst
    from auditbo.confirmations.models import Finding as ConfirmationFinding
    from auditbo.filings.models import Assessment
    from auditbo.spotchecks.models import CheckStatus, SpotCheck, SpotCheckInspector

    since, until = start_of(first), start_of(date.fromordinal(last.toordinal() + 1))
    parts = []

    filed = read_frame(
        sa.select(Assessment.id, _stamp(Assessment.filed_at), Assessment.flag_late).where(
            Assessment.filed_at >= since, Assessment.filed_at < until
        ),
        ["case", "at", "late"],
        ints=("case",),
    )
    if len(filed):
        parts.append(
            pd.DataFrame(
                {
                    "case": filed["case"],
                    "event": filed["late"].astype(bool).map({True: "filing_late", False: "filing_on_time"}),
                    "date": _office_dates(filed["at"]),
                    "checker": None,
                    "holding": "filing",
                    "source": "f" + filed["case"].astype(str),
                }
            )
        )

    consultant_finding = (
        sa.select(ConfirmationFinding.id)
        .where(
            ConfirmationFinding.audit_id == ConfirmationAudit.id,
            ConfirmationFinding.against == FindingAgainst.consultant,
        )
        .exists()
    )
    audits = read_frame(
        sa.select(
            ConfirmationAudit.id,
            ConfirmationAudit.assessment_id,
            _text(ConfirmationAudit.decision),
            _stamp(ConfirmationAudit.decided_at),
            sa.func.coalesce(ConfirmationAudit.decided_by_id, ConfirmationAudit.assignee_id),
            consultant_finding,
        ).where(
            ConfirmationAudit.status == AuditStatus.decided,
            ConfirmationAudit.decision.is_not(None),
            ConfirmationAudit.decided_at >= since,
            ConfirmationAudit.decided_at < until,
        ),
        ["id", "case", "decision", "at", "checker", "about_consultant"],
        text=("decision",),
        ints=("id", "case"),
    )
    if len(audits):
        decision = audits["decision"].map(CONFIRMATION_EVENT)
        own_side = (decision == "confirmation_returned") & ~audits["about_consultant"].astype(bool)
        parts.append(
            pd.DataFrame(
                {
                    "case": audits["case"],
                    "event": decision,
                    "date": _office_dates(audits["at"]),
                    "checker": _user_ids(audits["checker"]),
                    "holding": own_side.map({True: "check_own_side", False: "check"}),
                    "source": "c" + audits["id"].astype(str),
                }
            )
        )

    first_inspector = (
        sa.select(sa.func.min(SpotCheckInspector.user_id))
        .where(SpotCheckInspector.spot_check_id == SpotCheck.id)
        .scalar_subquery()
    )
    checks = read_frame(
        sa.select(
            SpotCheck.id,
            SpotCheck.assessment_id,
            _text(SpotCheck.outcome),
            SpotCheck.closed_on,
            sa.func.coalesce(SpotCheck.closed_by_id, first_inspector),
        ).where(
            SpotCheck.status == CheckStatus.closed,
            SpotCheck.outcome.is_not(None),
            SpotCheck.closed_on >= first,
            SpotCheck.closed_on <= last,
        ),
        ["id", "case", "outcome", "on", "checker"],
        text=("outcome",),
        ints=("id", "case"),
    )
    if len(checks):
        parts.append(
            pd.DataFrame(
                {
                    "case": checks["case"],
                    "event": checks["outcome"].map(SPOTCHECK_EVENT),
                    "date": pd.to_datetime(checks["on"]).dt.date,  # text (COPY) or dates
                    "checker": _user_ids(checks["checker"]),
                    "holding": "check",
                    "source": "s" + checks["id"].astype(str),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["case", "event", "date", "checker", "holding", "source"]
    )


def _user_ids(values: pd.Series) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    ids = "U" + num.fillna(0).astype("int64").astype(str)
    return ids.astype(object).where(num.notna(), None)


def _complaints(first: date, last: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Substantiated complaints: (named subjects, cases to hold against their record's parties)."""
    from auditbo.complaints.models import Complaint, ComplaintStatus
    from auditbo.orgs.models import Organisation, Person

    rows = _frame(
        db.session.execute(
            sa.select(
                Complaint.id,
                Complaint.closed_on,
                Complaint.assessment_id,
                Organisation.credit_code,
                Organisation.kind,
                Person.person_id,
                Person.kind,
            )
            .outerjoin(Organisation, Organisation.id == Complaint.against_org_id)
            .outerjoin(Person, Person.id == Complaint.against_person_id)
            .where(
                Complaint.status == ComplaintStatus.substantiated,
                Complaint.closed_on.is_not(None),
                Complaint.closed_on >= first,
                Complaint.closed_on <= last,
            )
        ),
        ["id", "on", "case", "org_code", "org_kind", "person_code", "person_kind"],
    )
    named = []
    for _, r in rows.iterrows():
        code, kind = (r["org_code"], r["org_kind"]) if r["org_code"] else (r["person_code"], r["person_kind"])
        if code:
            named.append(
                {
                    "subject_id": code,
                    "subject_type": str(kind),
                    "event_date": r["on"],
                    "event": "complaint_substantiated",
                    "checker_id": None,
                    "case_id": None if pd.isna(r["case"]) else f"A{int(r['case'])}",
                    "source": f"q{r['id']}",
                }
            )
    about = rows[rows["case"].notna()]
    cases = pd.DataFrame(
        {
            "case": about["case"].astype("int64"),
            "event": "complaint_substantiated",
            "date": about["on"],
            "checker": None,
            "holding": "complaint",
            "source": "q" + about["id"].astype(str),
        }
    )
    return pd.DataFrame(named, columns=COLUMNS + ["source"]), cases


def _sanctions(first: date, last: date) -> pd.DataFrame:
    from auditbo.orgs.models import Organisation, Person
    from auditbo.sanctions.models import Sanction, SanctionKind, SanctionStatus

    rows = db.session.execute(
        sa.select(
            Sanction.id,
            Sanction.starts_on,
            Sanction.created_at,
            Organisation.credit_code,
            Organisation.kind,
            Person.person_id,
            Person.kind,
        )
        .outerjoin(Organisation, Organisation.id == Sanction.org_id)
        .outerjoin(Person, Person.id == Sanction.person_id)
        .where(
            Sanction.kind.in_([SanctionKind(k) for k in SANCTION_KINDS]),
            Sanction.status.in_([SanctionStatus.in_force, SanctionStatus.ended]),
            sa.or_(Sanction.org_id.is_not(None), Sanction.person_id.is_not(None)),
        )
    ).all()
    out = []
    for sid, starts_on, created_at, org_code, org_kind, person_code, person_kind in rows:
        day = starts_on or _office_dates(pd.Series([created_at])).iloc[0]
        if not first <= day <= last:
            continue
        code, kind = (org_code, org_kind) if org_code else (person_code, person_kind)
        out.append(
            {
                "subject_id": code,
                "subject_type": str(kind),
                "event_date": day,
                "event": "sanction",
                "checker_id": None,
                "case_id": None,
                "source": f"x{sid}",
            }
        )
    return pd.DataFrame(out, columns=COLUMNS + ["source"])


def _parties(cases: sa.Select) -> pd.DataFrame:
    """Every party of the assessments selected by ``cases`` (a select of ids): case, role, subject."""
    from auditbo.filings.models import Assessment, AssessmentConsultant, TeamMember
    from auditbo.orgs.models import Organisation, Person

    consulting = sa.orm.aliased(Organisation)
    ids = cases.subquery()
    bodies = read_frame(
        sa.select(Assessment.id, Organisation.credit_code, consulting.credit_code)
        .join(Organisation, Organisation.id == Assessment.body_id)
        .outerjoin(consulting, consulting.id == Assessment.consulting_body_id)
        .where(Assessment.id.in_(sa.select(ids.c.id))),
        ["case", "body", "consulting_body"],
        text=("body", "consulting_body"),
        ints=("case",),
    )
    team = read_frame(
        sa.select(TeamMember.assessment_id, _text(TeamMember.role), Person.person_id)
        .join(Person, Person.id == TeamMember.person_id)
        .where(TeamMember.assessment_id.in_(sa.select(ids.c.id))),
        ["case", "role", "subject_id"],
        text=("role", "subject_id"),
        ints=("case",),
    )
    consultants = read_frame(
        sa.select(AssessmentConsultant.assessment_id, Person.person_id)
        .join(Person, Person.id == AssessmentConsultant.person_id)
        .where(AssessmentConsultant.assessment_id.in_(sa.select(ids.c.id))),
        ["case", "subject_id"],
        text=("subject_id",),
        ints=("case",),
    )
    with_consulting = bodies[bodies["consulting_body"].notna()]
    return pd.concat(
        [
            pd.DataFrame({"case": bodies["case"], "role": "body", "subject_id": bodies["body"]}),
            pd.DataFrame({"case": with_consulting["case"], "role": "consulting_body",
                          "subject_id": with_consulting["consulting_body"]}),
            team,
            consultants.assign(role="consultant")[["case", "role", "subject_id"]],
        ],
        ignore_index=True,
    )


def _case_ids(first: date, last: date) -> sa.Select:
    """The assessments whose outcomes fall inside the window (for their parties)."""
    from auditbo.complaints.models import Complaint, ComplaintStatus
    from auditbo.confirmations.models import AuditStatus, ConfirmationAudit
    from auditbo.filings.models import Assessment
    from auditbo.spotchecks.models import CheckStatus, SpotCheck

    since, until = start_of(first), start_of(date.fromordinal(last.toordinal() + 1))
    return sa.union(
        sa.select(Assessment.id.label("id")).where(Assessment.filed_at >= since, Assessment.filed_at < until),
        sa.select(ConfirmationAudit.assessment_id).where(
            ConfirmationAudit.status == AuditStatus.decided,
            ConfirmationAudit.decided_at >= since,
            ConfirmationAudit.decided_at < until,
        ),
        sa.select(SpotCheck.assessment_id).where(
            SpotCheck.status == CheckStatus.closed, SpotCheck.closed_on >= first, SpotCheck.closed_on <= last
        ),
        sa.select(Complaint.assessment_id).where(
            Complaint.status == ComplaintStatus.substantiated,
            Complaint.assessment_id.is_not(None),
            Complaint.closed_on >= first,
            Complaint.closed_on <= last,
        ),
    )


def rating_events(period: str, config: RatingConfig | None = None) -> pd.DataFrame:
    """The engine's raw events for a run of ``period`` (sorted, one row per subject and outcome)."""
    first, last = window(period, config)
    outcomes = _case_events(first, last)
    named, complaint_cases = _complaints(first, last)
    outcomes = pd.concat([outcomes, complaint_cases], ignore_index=True) if len(complaint_cases) else outcomes
    held = pd.DataFrame(columns=COLUMNS + ["source"])
    if len(outcomes):
        parties = _parties(_case_ids(first, last))
        held = outcomes.merge(parties, on="case", how="inner")
        allowed = pd.MultiIndex.from_tuples([(h, r) for h, roles in HOLDING.items() for r in roles])
        held = held[pd.MultiIndex.from_arrays([held["holding"], held["role"]]).isin(allowed)]
        held = pd.DataFrame(
            {
                "subject_id": held["subject_id"],
                "subject_type": held["role"].map(ROLE_TYPE),
                "event_date": held["date"],
                "event": held["event"],
                "checker_id": held["checker"],
                "case_id": "A" + held["case"].astype("int64").astype(str),
                "source": held["source"],
            }
        )
    frames = [f for f in (held, named, _sanctions(first, last)) if len(f)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    # one outcome counts once per subject (a complaint naming a body about that body's record)
    out = out.drop_duplicates(subset=["source", "subject_type", "subject_id"])
    out["event_date"] = pd.to_datetime(out["event_date"]).dt.strftime("%Y-%m-%d")
    out = out.sort_values(["event_date", "source", "subject_type", "subject_id"], kind="stable")
    return out[COLUMNS].reset_index(drop=True)
