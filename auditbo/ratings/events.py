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

import numpy as np
import pandas as pd
import sqlalchemy as sa

from auditbo.clock import office_zone, start_of
from auditbo.extensions import db
from auditbo.frames import read_frame
from rating import EVENTS, RatingConfig, earliest_month, parse_period

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


# The reads are ``unordered`` (PostgreSQL joins the rows into a few large texts): the frame's order
# is its sort on (day, source, subject type, subject id), unique once duplicates are dropped.
# The outcomes travel as integer codes until the frame is built (a million records hold millions
# of events: strings per row would be hashed, compared and copied at every step).
# An outcome's source: a kind (its text order) and the row's id; as text ("c12", "f3", "q1", ...)
# it orders the events of a day and names one outcome for the duplicate check.
KINDS = ("c", "f", "q", "s", "x")  # confirmation, filing, complaint, spot check, sanction
ROLES = tuple(ROLE_TYPE)
HOLDINGS = tuple(HOLDING)
TYPES = tuple(sorted(set(ROLE_TYPE.values())))  # subject types in text order
EVENT_NAMES = tuple(sorted(EVENTS))
_ALLOWED = np.array([[r in HOLDING[h] for r in ROLES] for h in HOLDINGS])
_ROLE_TYPE = np.array([TYPES.index(ROLE_TYPE[r]) for r in ROLES])
_OUTCOME = ["case", "event", "day", "checker", "holding", "kind", "src"]


def _postgres() -> bool:
    return db.session.connection().dialect.name == "postgresql"


def _office_day(col):
    """A UTC timestamp column as the office day: computed by PostgreSQL (a date), or the
    timestamp itself elsewhere (:func:`_days` converts it)."""
    if _postgres():
        return sa.cast(sa.func.timezone(str(office_zone()), col), sa.Date)
    return _stamp(col)


def _office_dates(values: pd.Series) -> pd.Series:
    """UTC timestamps -> office dates (vectorised)."""
    if values.empty:
        return pd.Series([], dtype=object)
    stamps = pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_convert(str(office_zone()))
    return stamps.dt.date


def _days(values: pd.Series, *, stamps: bool = False) -> np.ndarray:
    """Day numbers (days since 1970-01-01) of dates (text or ``date``), or with ``stamps`` of
    UTC timestamps taken as office days; each distinct value is converted once."""
    if not len(values):
        return np.empty(0, dtype=np.int64)
    codes, uniques = pd.factorize(values)
    u = pd.Series(uniques, dtype=object)
    if stamps and not _postgres():
        u = _office_dates(u)
    days = pd.to_datetime(u.astype(str), format="%Y-%m-%d").to_numpy("datetime64[D]").astype(np.int64)
    return days[codes]


def _text(col):
    """An enum column as its stored text."""
    return sa.type_coerce(col, sa.String())


def _stamp(col):
    """A UTC timestamp column as the driver returns it (aware on PostgreSQL, naive UTC on SQLite)."""
    return sa.type_coerce(col, sa.DateTime(timezone=True))


def _coded(values: pd.Series, names: dict, vocabulary: tuple) -> np.ndarray:
    """Codes (positions in ``vocabulary``) of stored texts mapped through ``names``."""
    codes, uniques = pd.factorize(values.astype(object))
    lut = np.array([vocabulary.index(names[u]) for u in uniques], dtype=np.int64)
    return lut[codes]


def _outcomes(case, event, day, checker, holding: str, kind: str, src) -> pd.DataFrame:
    n = len(case)
    return pd.DataFrame({
        "case": np.asarray(case, dtype=np.int64),
        "event": np.broadcast_to(np.asarray(event, dtype=np.int64), (n,)),
        "day": np.asarray(day, dtype=np.int64),
        "checker": np.broadcast_to(np.asarray(checker, dtype=np.int64), (n,)),
        "holding": np.broadcast_to(np.asarray(holding, dtype=np.int64), (n,)),
        "kind": KINDS.index(kind),
        "src": np.asarray(src, dtype=np.int64),
    })


def _checkers(values: pd.Series) -> np.ndarray:
    """User ids (-1: none)."""
    return pd.to_numeric(values, errors="coerce").fillna(-1).to_numpy(np.int64)


def _case_events(first: date, last: date) -> pd.DataFrame:
    """Outcomes of assessments: case, event, day, checker, holding, kind, src (all codes)."""
    from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, FindingAgainst
    from auditbo.confirmations.models import Finding as ConfirmationFinding
    from auditbo.filings.models import Assessment
    from auditbo.spotchecks.models import CheckStatus, SpotCheck, SpotCheckInspector

    since, until = start_of(first), start_of(date.fromordinal(last.toordinal() + 1))
    parts = []
    filed = read_frame(
        sa.select(Assessment.id, _office_day(Assessment.filed_at), Assessment.flag_late).where(
            Assessment.filed_at >= since, Assessment.filed_at < until
        ),
        ["case", "at", "late"],
        ints=("case",),
        unordered=True,
    )
    if len(filed):
        late = filed["late"].astype(bool).to_numpy()
        event = np.where(late, EVENT_NAMES.index("filing_late"), EVENT_NAMES.index("filing_on_time"))
        parts.append(_outcomes(filed["case"], event, _days(filed["at"], stamps=True), -1,
                               HOLDINGS.index("filing"), "f", filed["case"]))

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
            _office_day(ConfirmationAudit.decided_at),
            sa.func.coalesce(ConfirmationAudit.decided_by_id, ConfirmationAudit.assignee_id),
            consultant_finding,
        ).where(
            ConfirmationAudit.status == AuditStatus.decided,
            ConfirmationAudit.decision.is_not(None),
            ConfirmationAudit.decided_at >= since,
            ConfirmationAudit.decided_at < until,
        ),
        ["id", "case", "decision", "at", "checker", "about_consultant"],
        categories=("decision",),
        ints=("id", "case"),
        unordered=True,
    )
    if len(audits):
        event = _coded(audits["decision"], CONFIRMATION_EVENT, EVENT_NAMES)
        own_side = (event == EVENT_NAMES.index("confirmation_returned")) & ~audits["about_consultant"].astype(
            bool).to_numpy()
        holding = np.where(own_side, HOLDINGS.index("check_own_side"), HOLDINGS.index("check"))
        parts.append(_outcomes(audits["case"], event, _days(audits["at"], stamps=True),
                               _checkers(audits["checker"]), holding, "c", audits["id"]))

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
        categories=("outcome",),
        ints=("id", "case"),
        unordered=True,
    )
    if len(checks):
        parts.append(_outcomes(checks["case"], _coded(checks["outcome"], SPOTCHECK_EVENT, EVENT_NAMES),
                               _days(checks["on"]), _checkers(checks["checker"]), HOLDINGS.index("check"), "s",
                               checks["id"]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {c: np.empty(0, dtype=np.int64) for c in _OUTCOME})


def _complaints(first: date, last: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Substantiated complaints: (named subjects, cases to hold against their record's parties)."""
    from auditbo.complaints.models import Complaint, ComplaintStatus
    from auditbo.orgs.models import Organisation, Person

    rows = pd.DataFrame(
        list(db.session.execute(
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
        )),
        columns=["id", "on", "case", "org_code", "org_kind", "person_code", "person_kind"],
    )
    complaint = EVENT_NAMES.index("complaint_substantiated")
    named = []
    for r in rows.itertuples(index=False):
        code, kind = (r.org_code, r.org_kind) if r.org_code else (r.person_code, r.person_kind)
        if code:
            case = -1 if pd.isna(r.case) else int(r.case)
            named.append((code, TYPES.index(str(kind)), r.on, complaint, -1, case, KINDS.index("q"), int(r.id)))
    about = rows[rows["case"].notna()]
    cases = _outcomes(about["case"].astype("int64"), complaint, _days(about["on"]), -1,
                      HOLDINGS.index("complaint"), "q", about["id"].astype("int64"))
    return _named(named), cases


def _named(rows: list) -> pd.DataFrame:
    """Outcomes held against the subject they name: subject (text), type, day, event, checker, case, kind, src."""
    frame = pd.DataFrame(rows, columns=["subject", "type", "on", "event", "checker", "case", "kind", "src"])
    frame["day"] = _days(frame["on"])
    return frame.drop(columns="on")


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
        out.append((code, TYPES.index(str(kind)), day, EVENT_NAMES.index("sanction"), -1, -1, KINDS.index("x"), sid))
    return _named(out)


def _parties(cases: sa.Select) -> pd.DataFrame:
    """Every party of the assessments selected by ``cases`` (a select of ids): case, role (code) and
    the party's row id (organisation or person), read as integers."""
    from auditbo.filings.models import Assessment, AssessmentConsultant, TeamMember

    ids = cases.subquery()
    bodies = read_frame(
        sa.select(Assessment.id, Assessment.body_id, Assessment.consulting_body_id)
        .where(Assessment.id.in_(sa.select(ids.c.id))),
        ["case", "body", "consulting_body"],
        ints=("case", "body"),
        unordered=True,
    )
    team = read_frame(
        sa.select(TeamMember.assessment_id, _text(TeamMember.role), TeamMember.person_id)
        .where(TeamMember.assessment_id.in_(sa.select(ids.c.id))),
        ["case", "role", "party"],
        categories=("role",),
        ints=("case", "party"),
        unordered=True,
    )
    consultants = read_frame(
        sa.select(AssessmentConsultant.assessment_id, AssessmentConsultant.person_id)
        .where(AssessmentConsultant.assessment_id.in_(sa.select(ids.c.id))),
        ["case", "party"],
        ints=("case", "party"),
        unordered=True,
    )
    consulting = pd.to_numeric(bodies["consulting_body"], errors="coerce")
    with_consulting = consulting.notna().to_numpy()

    def part(case, role, party):
        n = len(case)
        return pd.DataFrame({"case": np.asarray(case, dtype=np.int64),
                             "role": np.broadcast_to(np.asarray(role, dtype=np.int64), (n,)),
                             "party": np.asarray(party, dtype=np.int64)})

    return pd.concat(
        [
            part(bodies["case"], ROLES.index("body"), bodies["body"]),
            part(bodies["case"].to_numpy()[with_consulting], ROLES.index("consulting_body"),
                 consulting.to_numpy()[with_consulting]),
            part(team["case"], _coded(team["role"], {r: r for r in ROLES}, ROLES), team["party"]),
            part(consultants["case"], ROLES.index("consultant"), consultants["party"]),
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


def _codes_of(model, code_col) -> pd.Series:
    """Row id -> subject id (credit code or registry person id) of every organisation or person."""
    rows = db.session.execute(sa.select(model.id, code_col)).all()
    return pd.Series([r[1] for r in rows], index=pd.Index([r[0] for r in rows], dtype="int64"), dtype=object)


def _from_codes(codes: np.ndarray, names) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, pd.Index(np.asarray(names, dtype=object), dtype=object))


def _labelled(values: np.ndarray, prefix: str) -> pd.Categorical:
    """Ids as text codes ("U12", "A7"); -1 is missing."""
    has = values >= 0
    uniques, inverse = np.unique(values[has], return_inverse=True)
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[has] = inverse
    return _from_codes(codes, [f"{prefix}{v}" for v in uniques.tolist()])


def _text_order(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys that order non-negative integers as their decimal texts do ("12" < "3" < "30")."""
    digits = np.searchsorted(10 ** np.arange(1, 19, dtype=np.int64), ids, side="right") + 1
    width = int(digits.max()) if len(ids) else 1
    return ids * 10 ** (width - digits), digits


def rating_events(period: str, config: RatingConfig | None = None) -> pd.DataFrame:
    """The engine's raw events for a run of ``period`` (sorted, one row per subject and outcome).

    The columns are categorical (texts as categories; a missing checker or case is NaN)."""
    from auditbo.orgs.models import Organisation, Person

    first, last = window(period, config)
    outcomes = _case_events(first, last)
    named, complaint_cases = _complaints(first, last)
    outcomes = pd.concat([outcomes, complaint_cases], ignore_index=True) if len(complaint_cases) else outcomes
    named = pd.concat([named, _sanctions(first, last)], ignore_index=True)
    held = outcomes.iloc[:0].assign(role=np.empty(0, dtype=np.int64), party=np.empty(0, dtype=np.int64))
    if len(outcomes):
        held = outcomes.merge(_parties(_case_ids(first, last)), on="case", how="inner")
        held = held[_ALLOWED[held["holding"].to_numpy(), held["role"].to_numpy()]]
    if not len(held) and not len(named):
        return pd.DataFrame(columns=COLUMNS)
    orgs, persons = _codes_of(Organisation, Organisation.credit_code), _codes_of(Person, Person.person_id)
    vocabulary = pd.Index(np.unique(np.concatenate([orgs.to_numpy(), persons.to_numpy(),
                                                     named["subject"].to_numpy(dtype=object)])))
    role, party = held["role"].to_numpy(), held["party"].to_numpy()
    is_org = np.isin(role, [ROLES.index("body"), ROLES.index("consulting_body")])
    subject = np.empty(len(held), dtype=np.int64)
    for sel, table in ((is_org, orgs), (~is_org, persons)):
        subject[sel] = vocabulary.get_indexer(table.to_numpy()[table.index.get_indexer(party[sel])])

    def column(name: str, held_values) -> np.ndarray:
        return np.concatenate([np.asarray(held_values, dtype=np.int64), named[name].to_numpy(np.int64)])

    sid = np.concatenate([subject, vocabulary.get_indexer(named["subject"].to_numpy(dtype=object))])
    stype = column("type", _ROLE_TYPE[role])
    kind, src = column("kind", held["kind"]), column("src", held["src"])
    # one outcome counts once per subject (a complaint naming a body about that body's record)
    keep = ~pd.DataFrame({"k": kind, "s": src, "t": stype, "i": sid}).duplicated().to_numpy()
    day, event = column("day", held["day"])[keep], column("event", held["event"])[keep]
    checker, case = column("checker", held["checker"])[keep], column("case", held["case"])[keep]
    sid, stype, kind, src = sid[keep], stype[keep], kind[keep], src[keep]
    # the order of the texts: day, source ("c12" < "c3"), subject type, subject id
    pad, digits = _text_order(src)
    order = np.lexsort((sid, stype, digits, pad, kind, day))
    days, day_codes = np.unique(day[order], return_inverse=True)
    return pd.DataFrame({
        "subject_id": _from_codes(sid[order], vocabulary),
        "subject_type": _from_codes(stype[order], TYPES),
        "event_date": _from_codes(day_codes, np.datetime_as_string(days.astype("datetime64[D]")).tolist()),
        "event": _from_codes(event[order], EVENT_NAMES),
        "checker_id": _labelled(checker[order], "U"),
        "case_id": _labelled(case[order], "A"),
    })
