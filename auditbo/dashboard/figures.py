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
from datetime import date

import sqlalchemy as sa
from flask import current_app, g, url_for
from flask_babel import lazy_gettext as _l

from auditbo import clock
from auditbo.authz import scope_assessments
from auditbo.codes import INDUSTRY_SECTIONS, PROVINCES
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision
from auditbo.dashboard.figure import MONTHS, TOP_BODIES, Cell, Figure, _pct, _rate, month_range, period_of  # noqa: F401
from auditbo.dashboard.outcomes import market_estimate, rating_distribution, spotcheck_findings  # noqa: F401
from auditbo.exports import industry_section_name, province_name
from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentStatus, Grade
from auditbo.orgs.models import Organisation


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
