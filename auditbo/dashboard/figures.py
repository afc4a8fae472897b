"""The dashboard's figures: each a small table (aggregated in SQL) that a chart draws, a toggle shows,
a CSV downloads, and whose cells link to the list filtered to exactly what they count.

A :class:`Figure` holds its rows as :class:`Cell` values; the cell's ``href`` is the drill-down
(the tests follow each link and compare the list's count with the cell). Month boundaries are
office dates (:mod:`auditbo.clock`), the same ones the lists' ``*_from``/``*_to`` filters use.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, g, url_for
from flask_babel import lazy_gettext as _l

from auditbo import clock
from auditbo.authz import scope_assessments
from auditbo.codes import INDUSTRY_SECTIONS, PROVINCES
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision
from auditbo.exports import industry_section_name, province_name
from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentStatus, Grade
from auditbo.orgs.models import Organisation

MONTHS = 12
TOP_BODIES = 15


@dataclass
class Cell:
    value: object
    href: str | None = None
    text: str | None = None  # what the table shows, when not the value (a rate with its count)

    def __str__(self) -> str:
        return self.text if self.text is not None else ("" if self.value is None else str(self.value))


@dataclass
class Figure:
    key: str
    title: object
    kind: str  # bar | stacked | line | interval | table (no chart)
    x_label: object
    y_label: object
    columns: list  # the header: the category column, then one per series
    rows: list[list[Cell]] = field(default_factory=list)
    note: object = ""
    series_from: int = 1  # the first column a chart draws (the others are the table's)
    series_to: int | None = None
    skip_rows: int = 0  # leading rows the chart leaves out (a count beside shares)
    percent: bool = False  # the chart's values are shares (0..1), shown as per cent

    def csv_rows(self) -> list[list]:
        return [[str(c) for c in self.columns]] + [[c.value for c in row] for row in self.rows]

    @property
    def empty(self) -> bool:
        return not self.rows


def month_range(today: date, n: int = MONTHS) -> list[tuple[str, date, date]]:
    """The last ``n`` months up to ``today``'s: (``YYYY-MM``, first day, last day), oldest first."""
    out = []
    first = today.replace(day=1)
    for _ in range(n):
        nxt = (first + timedelta(days=32)).replace(day=1)
        out.append((first.strftime("%Y-%m"), first, nxt - timedelta(days=1)))
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def period_of(text: str | None) -> tuple[date, date] | None:
    """``YYYY-MM`` -> its first and last day, or None."""
    try:
        first = date.fromisoformat(f"{text}-01")
    except (TypeError, ValueError):
        return None
    if not 1900 <= first.year <= 2199:  # no office month lies outside; and 9999-12 would overflow
        return None
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _rate(n: int, total: int) -> float | None:
    return round(n / total, 4) if total else None


def _pct(n: int, total: int) -> str:
    return f"{n} ({n / total:.0%})" if total else "0"


# --- filings ---------------------------------------------------------------------------------
def filings_by_month(user, today: date) -> Figure:
    """Assessments filed in each of the last twelve months (office dates of ``filed_at``), by grade."""
    months = month_range(today)
    cols = [
        sa.func.count().filter(
            Assessment.filed_at >= clock.start_of(first), Assessment.filed_at < clock.end_of(last)
        )
        for _label, first, last in months
    ]
    stmt = scope_assessments(
        sa.select(Assessment.grade, *cols)
        .where(_filed_in(months[0][1], months[-1][2]))
        .group_by(Assessment.grade),
        user,
    )
    counts = {row[0].value: row[1:] for row in db.session.execute(stmt)}
    grades = [grade.value for grade in Grade]
    fig = Figure(
        "filings_by_month",
        _l("Filings per month by grade"),
        "stacked",
        _l("Month"),
        _l("Filings"),
        [_l("Month"), *grades, _l("Total")],
        series_to=1 + len(grades),
    )
    for i, (label, first, last) in enumerate(months):
        row = [Cell(label)]
        for grade in grades:
            n = counts.get(grade, [0] * len(months))[i]
            row.append(
                Cell(
                    n,
                    url_for(
                        "filings.index", grade=grade, filed_from=first.isoformat(), filed_to=last.isoformat()
                    ),
                )
            )
        total = sum(counts.get(grade, [0] * len(months))[i] for grade in grades)
        row.append(
            Cell(total, url_for("filings.index", filed_from=first.isoformat(), filed_to=last.isoformat()))
        )
        fig.rows.append(row)
    return fig


def _filed_in(first: date, last: date):
    return sa.and_(Assessment.filed_at >= clock.start_of(first), Assessment.filed_at < clock.end_of(last))


def _regional_counts(user, period: tuple[date, date]) -> dict[tuple[str, str], tuple[int, int]]:
    """Filings in ``period`` and how many stand, per (province, industry section): one scan for both tables."""
    standing = Assessment.status == AssessmentStatus.standing
    province = sa.func.substr(Assessment.region_code, 1, 2)
    section = sa.func.substr(Assessment.industry_code, 1, 1)
    stmt = scope_assessments(
        sa.select(province, section, sa.func.count(), sa.func.count().filter(standing))
        .where(_filed_in(*period))
        .group_by(province, section),
        user,
    )
    return {(p, i): (n, s) for p, i, n, s in db.session.execute(stmt)}


def _breakdown(
    counts: dict[tuple[str, str], tuple[int, int]],
    side: int,
    key: str,
    groups: dict[str, str],
    endpoint_arg: str,
    title,
    x_label,
    period: tuple[date, date],
) -> Figure:
    totals: dict[str, list[int]] = {}
    for codes, (n, s) in counts.items():
        t = totals.setdefault(codes[side], [0, 0])
        t[0] += n
        t[1] += s
    args = {"filed_from": period[0].isoformat(), "filed_to": period[1].isoformat()}
    fig = Figure(
        key, title, "bar", x_label, _l("Assessments"), [x_label, _l("Filings"), _l("Of which standing")]
    )
    for code, name in groups.items():
        n, s = totals.get(code, (0, 0))
        if not n:
            continue
        fig.rows.append(
            [
                Cell(name),
                Cell(n, url_for("filings.index", **{endpoint_arg: code}, **args)),
                Cell(s, url_for("filings.index", **{endpoint_arg: code, "status": "standing"}, **args)),
            ]
        )
    fig.rows.sort(key=lambda r: -r[1].value)
    return fig


def regional(user, period: tuple[date, date] | None = None) -> tuple[Figure, Figure]:
    """The province table and the industry sections of ``period`` (default: the last twelve months)."""
    period = period or last_year()
    counts = _regional_counts(user, period)
    return by_province(user, period, counts), by_industry(user, period, counts)


def last_year(today: date | None = None) -> tuple[date, date]:
    """The twelve months up to today (the dashboard's period)."""
    today = today or clock.today()
    return month_range(today)[0][1], today


def by_province(user, period: tuple[date, date] | None = None, counts: dict | None = None) -> Figure:
    """Filings in ``period`` (default: the last twelve months) and how many of them stand, per province
    (the region code's first two digits): a table."""
    period = period or last_year()
    groups = {code: province_name(code + "0000") for code in PROVINCES}
    title = _l("Filings by province (last 12 months)") if period == last_year() else _l("Filings by province")
    counts = _regional_counts(user, period) if counts is None else counts
    fig = _breakdown(counts, 0, "by_province", groups, "region", title, _l("Province"), period)
    fig.kind = "table"
    return fig


def by_industry(user, period: tuple[date, date] | None = None, counts: dict | None = None) -> Figure:
    """Filings in ``period`` (default: the last twelve months) and how many of them stand, per GB/T 4754
    section (the industry code's letter)."""
    period = period or last_year()
    groups = {code: industry_section_name(code) for code in INDUSTRY_SECTIONS}
    counts = _regional_counts(user, period) if counts is None else counts
    return _breakdown(
        counts,
        1,
        "by_industry",
        groups,
        "industry",
        _l("Filings by industry (GB/T 4754 section, last 12 months)")
        if period == last_year()
        else _l("Filings by industry (GB/T 4754 section)"),
        _l("Industry"),
        period,
    )


# --- confirmations ---------------------------------------------------------------------------
OUTCOMES = (Decision.returned, Decision.grade_adjusted, Decision.rejected)
OUTCOME_TITLES = {
    Decision.returned: _l("Returned"),
    Decision.grade_adjusted: _l("Adjusted"),
    Decision.rejected: _l("Rejected"),
    Decision.confirmed: _l("Confirmed"),
}


def decided_between(first: date, last: date):
    A = ConfirmationAudit
    return sa.and_(
        A.status == AuditStatus.decided,
        A.decided_at >= clock.start_of(first),
        A.decided_at < clock.end_of(last),
    )


def confirmation_outcomes(today: date, period: tuple[date, date] | None = None) -> Figure:
    """Per assessment body (the fifteen with most decisions in the last twelve months, or in ``period``):
    decided confirmation audits and the returned / adjusted / rejected rates, each with its count."""
    first, last = period or (month_range(today)[0][1], today)
    A = ConfirmationAudit
    stmt = (
        sa.select(
            Organisation.name,
            Organisation.credit_code,
            sa.func.count(),
            *[sa.func.count().filter(A.decision == d) for d in OUTCOMES],
        )
        .select_from(A)
        .join(Assessment, Assessment.id == A.assessment_id)
        .join(Organisation, Organisation.id == Assessment.body_id)
        .where(decided_between(first, last))
        .group_by(Organisation.name, Organisation.credit_code)
        .order_by(sa.func.count().desc(), Organisation.name)
        .limit(TOP_BODIES)
    )
    title = (
        _l("Confirmation outcomes by body (last 12 months)")
        if period is None
        else _l("Confirmation outcomes by body")
    )
    fig = Figure(
        "confirmation_outcomes",
        title,
        "bar",
        _l("Assessment body"),
        _l("Share of decisions"),
        [_l("Assessment body"), *[OUTCOME_TITLES[d] for d in OUTCOMES], _l("Decided")],
        series_to=1 + len(OUTCOMES),
        percent=True,
    )
    args = {"tab": "decided", "decided_from": first.isoformat(), "decided_to": last.isoformat()}
    for name, credit_code, total, *ns in db.session.execute(stmt):
        row = [Cell(name)]
        for d, n in zip(OUTCOMES, ns, strict=True):
            row.append(
                Cell(
                    _rate(n, total),
                    url_for("confirmations.index", body=credit_code, decision=d.value, **args),
                    _pct(n, total),
                )
            )
        row.append(Cell(total, url_for("confirmations.index", body=credit_code, **args)))
        fig.rows.append(row)
    return fig


# --- overdue work ----------------------------------------------------------------------------
def overdue_work(today: date) -> Figure:
    """What is past its date (or waiting to be disclosed), each linking to the queue that lists it."""
    from auditbo.complaints.models import Complaint
    from auditbo.complaints.queries import OPEN as COMPLAINT_OPEN
    from auditbo.spotchecks.models import CheckStatus, SpotCheck

    A = ConfirmationAudit
    audits = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(A)
        .where(A.status.in_([AuditStatus.pending, AuditStatus.assigned]), A.due_date < today)
    )
    checks_open = db.session.scalar(
        sa.select(sa.func.count()).select_from(SpotCheck).where(SpotCheck.status == CheckStatus.open)
    )
    disclosures = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SpotCheck)
        .where(SpotCheck.status == CheckStatus.closed, SpotCheck.disclosed_on.is_(None))
    )
    complaints = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Complaint)
        .where(Complaint.status.in_(COMPLAINT_OPEN), Complaint.due_date < today)
    )
    fig = Figure(
        "overdue_work",
        _l("Overdue and waiting work"),
        "bar",
        _l("Work"),
        _l("Items"),
        [_l("Work"), _l("Items")],
    )
    fig.rows = [
        [
            Cell(str(_l("Confirmation audits past their due date"))),
            Cell(audits, url_for("confirmations.index", tab="overdue")),
        ],
        [
            Cell(str(_l("Complaints past their due date"))),
            Cell(complaints, url_for("complaints.index", tab="overdue")),
        ],
        [Cell(str(_l("Open spot checks"))), Cell(checks_open, url_for("spotchecks.check_list", tab="open"))],
        [
            Cell(str(_l("Spot-check results waiting for disclosure"))),
            Cell(disclosures, url_for("spotchecks.check_list", tab="disclosure")),
        ],
    ]
    return fig


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
    from auditbo.spotchecks.models import PlanStatus, SamplingPlan
    from auditbo.spotchecks.services import plan_estimate

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


# --- a body's own figures against the market -------------------------------------------------
BODY_MEASURES = (
    ("filings", _l("Filings (last 12 months)")),
    ("late_share", _l("Filed late")),
    ("reduced_share", _l("Reduced person-days")),
    ("jump_share", _l("Grade jumps")),
    ("tie_share", _l("Ties")),
    ("returned_rate", _l("Returned by the office")),
    ("rejected_rate", _l("Rejected by the office")),
)


def body_measures(first: date, last: date, body_id: int | None = None) -> dict[int, dict]:
    """Per assessment body (or one): its filings in the period (office dates of ``filed_at``), the shares
    flagged late / reduced / grade jump / tie, and the returned and rejected rates of its decided audits."""
    in_period = sa.and_(
        Assessment.filed_at >= clock.start_of(first), Assessment.filed_at < clock.end_of(last)
    )
    stmt = (
        sa.select(
            Assessment.body_id,
            sa.func.count(),
            sa.func.count().filter(Assessment.flag_late.is_(True)),
            sa.func.count().filter(
                sa.or_(Assessment.flag_reduced_days.is_(True), Assessment.flag_low_days.is_(True))
            ),
            sa.func.count().filter(Assessment.flag_grade_jump.is_(True)),
            sa.func.count().filter(Assessment.flag_tie.is_(True)),
        )
        .where(in_period)
        .group_by(Assessment.body_id)
    )
    A = ConfirmationAudit
    audits = (
        sa.select(
            Assessment.body_id,
            sa.func.count(),
            sa.func.count().filter(A.decision == Decision.returned),
            sa.func.count().filter(A.decision == Decision.rejected),
            sa.func.count().filter(A.decision == Decision.grade_adjusted),
        )
        .select_from(A)
        .join(Assessment, Assessment.id == A.assessment_id)
        .where(decided_between(first, last))
        .group_by(Assessment.body_id)
    )
    if body_id is not None:
        stmt, audits = stmt.where(Assessment.body_id == body_id), audits.where(Assessment.body_id == body_id)
    out: dict[int, dict] = {}
    for bid, n, late, reduced, jump, tie in db.session.execute(stmt):
        out[bid] = {
            "filings": n,
            "late": late,
            "reduced": reduced,
            "jump": jump,
            "tie": tie,
            "late_share": _rate(late, n),
            "reduced_share": _rate(reduced, n),
            "jump_share": _rate(jump, n),
            "tie_share": _rate(tie, n),
            "decided": 0,
            "returned": 0,
            "rejected": 0,
            "adjusted": 0,
            "returned_rate": None,
            "rejected_rate": None,
            "adjusted_rate": None,
        }
    for bid, decided, returned, rejected, adjusted in db.session.execute(audits):
        m = out.setdefault(
            bid,
            {
                "filings": 0,
                "late": 0,
                "reduced": 0,
                "jump": 0,
                "tie": 0,
                "late_share": None,
                "reduced_share": None,
                "jump_share": None,
                "tie_share": None,
            },
        )
        m.update(
            decided=decided,
            returned=returned,
            rejected=rejected,
            adjusted=adjusted,
            returned_rate=_rate(returned, decided),
            rejected_rate=_rate(rejected, decided),
            adjusted_rate=_rate(adjusted, decided),
        )
    return out


def own_body_vs_market(user, today: date) -> Figure:
    """A body's own figures beside the market's median over the bodies active in the period:
    never another body's name or figure, only the median."""
    first, last = month_range(today)[0][1], today
    every = remembered(("body_measures", first, last), lambda: body_measures(first, last))
    mine = every.get(user.org_id, {})
    fig = Figure(
        "own_vs_market",
        _l("Our body against the market median (last 12 months)"),
        "bar",
        _l("Indicator"),
        _l("Share"),
        [_l("Indicator"), _l("Our body"), _l("Market median")],
        percent=True,
    )
    args = {"filed_from": first.isoformat(), "filed_to": last.isoformat()}
    links = {
        "filings": {},
        "late_share": {"flag": "late"},
        "reduced_share": {"flag": "reduced_person_days"},
        "jump_share": {"flag": "grade_jump"},
        "tie_share": {"flag": "tie"},
    }
    for key, title in BODY_MEASURES:
        values = [m[key] for m in every.values() if m.get(key) is not None]
        median = round(statistics.median(values), 4) if values else None
        own = mine.get(key)
        href = url_for("filings.index", **links[key], **args) if key in links else None
        fig.rows.append([Cell(str(title)), Cell(own, href), Cell(median)])
    fig.skip_rows = 1  # the chart draws the shares; the filings count is the table's
    fig.note = _l(
        "The median is taken over the assessment bodies with filings or decisions in the period; "
        "no other body is named."
    )
    return fig


# --- remembered across requests -------------------------------------------------------------------
# The office's figures are the same for every office user: on a million records they cost seconds of
# SQL, so each process keeps them for DASHBOARD_CACHE_SECONDS (0: never, as in tests), per language
# and office day. A body's own figures are kept per body (the key holds its id: never shown to
# another), and the market's per-body measures behind its median once for all.
_KEPT: dict[tuple, tuple[float, object]] = {}
_KEPT_LOCK = threading.Lock()


def remembered(key: tuple, compute):
    ttl = float(current_app.config.get("DASHBOARD_CACHE_SECONDS") or 0)
    if ttl <= 0:
        return compute()
    full = (*key, str(g.get("lang")), clock.today().isoformat())
    now = time.monotonic()
    with _KEPT_LOCK:
        hit = _KEPT.get(full)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    value = compute()
    with _KEPT_LOCK:
        for k in [k for k, (at, _v) in _KEPT.items() if now - at >= ttl]:
            del _KEPT[k]  # bounded: the keys of the last ttl seconds only
        _KEPT[full] = (now, value)
    return value


def office_figures(user, today: date | None = None) -> list[Figure]:
    today = today or clock.today()

    def compute() -> list[Figure]:
        figs = [filings_by_month(user, today), confirmation_outcomes(today), overdue_work(today)]
        for optional in (spotcheck_findings(), market_estimate(), rating_distribution()):
            if optional is not None:
                figs.append(optional)
        return figs + list(regional(user))

    return remembered(("office_figures",), compute)


def body_figures(user, today: date | None = None) -> list[Figure]:
    """A body's own figures (kept per body: a large body's year is tens of thousands of filings)."""
    today = today or clock.today()
    return remembered(
        ("body_figures", user.org_id),
        lambda: [own_body_vs_market(user, today), filings_by_month(user, today), by_industry(user)],
    )
