"""The body comparison (issue 17, item 3; IAF MD 28-style compliance view): per assessment body, over a
period of months, its filings and their flags, the office's confirmation outcomes, spot-check results,
complaints and its current published rating. Aggregated in SQL: a handful of queries whatever the
number of bodies; each figure links to the list filtered to what it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from auditbo import clock, exports
from auditbo.dashboard.figures import body_measures, month_range, period_of
from auditbo.extensions import db
from auditbo.orgs.models import Organisation, OrgKind


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def label(self) -> str:
        a, b = self.first.strftime("%Y-%m"), self.last.strftime("%Y-%m")
        return a if a == b else f"{a} – {b}"

    def args(self) -> dict:
        return {"from": self.first.strftime("%Y-%m"), "to": self.last.strftime("%Y-%m")}


def period_from_args(args, today: date | None = None) -> Period:
    """``from=YYYY-MM&to=YYYY-MM`` (either may be missing): default the last twelve months to today."""
    today = today or clock.today()
    first = period_of(args.get("from"))
    last = period_of(args.get("to"))
    start = first[0] if first else month_range(today)[0][1]
    end = min(last[1], today) if last else today
    if end < start:
        start, end = end.replace(day=1), (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period(start, end)


# (key, title, kind): kind "n" a count, "share" a rate in 0..1, "text"
COLUMNS = [
    ("name", _l("Assessment body"), "text"),
    ("filings", _l("Filings"), "n"),
    ("late_share", _l("Filed late"), "share"),
    ("reduced_share", _l("Person-day cuts"), "share"),
    ("jump_share", _l("Grade jumps"), "share"),
    ("tie_share", _l("Ties"), "share"),
    ("decided", _l("Confirmations decided"), "n"),
    ("returned_rate", _l("Returned"), "share"),
    ("adjusted_rate", _l("Adjusted"), "share"),
    ("rejected_rate", _l("Rejected"), "share"),
    ("checks", _l("Spot checks closed"), "n"),
    ("major_findings", _l("Major findings"), "n"),
    ("complaints", _l("Complaints received"), "n"),
    ("substantiated", _l("Complaints substantiated"), "n"),
    ("rating", _l("Current rating"), "text"),
]
SORTS = {key for key, _t, _k in COLUMNS}


def rows(period: Period, sort: str = "name") -> list[dict]:
    """One dict per assessment body (every registered one, active in the period or not)."""
    from auditbo.complaints.models import Complaint, ComplaintStatus
    from auditbo.filings.models import Assessment
    from auditbo.spotchecks.models import CheckOutcome, CheckStatus, SpotCheck

    bodies = db.session.execute(
        sa.select(Organisation.id, Organisation.name, Organisation.credit_code).where(
            Organisation.kind == OrgKind.assessment_body
        )
    ).all()
    measures = body_measures(period.first, period.last)
    checks = {
        bid: (n, major)
        for bid, n, major in db.session.execute(
            sa.select(
                Assessment.body_id,
                sa.func.count(),
                sa.func.count().filter(SpotCheck.outcome == CheckOutcome.major_findings),
            )
            .select_from(SpotCheck)
            .join(Assessment, Assessment.id == SpotCheck.assessment_id)
            .where(
                SpotCheck.status == CheckStatus.closed,
                SpotCheck.closed_on >= period.first,
                SpotCheck.closed_on <= period.last,
            )
            .group_by(Assessment.body_id)
        )
    }
    complaints = {
        oid: (n, s)
        for oid, n, s in db.session.execute(
            sa.select(
                Complaint.against_org_id,
                sa.func.count(),
                sa.func.count().filter(Complaint.status == ComplaintStatus.substantiated),
            )
            .where(
                Complaint.against_org_id.is_not(None),
                Complaint.received_on >= period.first,
                Complaint.received_on <= period.last,
            )
            .group_by(Complaint.against_org_id)
        )
    }
    ratings = current_ratings()
    out = []
    for bid, name, credit_code in bodies:
        m = measures.get(bid, {})
        n_checks, major = checks.get(bid, (0, 0))
        n_complaints, substantiated = complaints.get(bid, (0, 0))
        out.append(
            {
                "id": bid,
                "name": name,
                "credit_code": credit_code,
                "filings": m.get("filings", 0),
                "late_share": m.get("late_share"),
                "reduced_share": m.get("reduced_share"),
                "jump_share": m.get("jump_share"),
                "tie_share": m.get("tie_share"),
                "decided": m.get("decided", 0),
                "returned_rate": m.get("returned_rate"),
                "adjusted_rate": m.get("adjusted_rate"),
                "rejected_rate": m.get("rejected_rate"),
                "checks": n_checks,
                "major_findings": major,
                "complaints": n_complaints,
                "substantiated": substantiated,
                "rating": ratings.get(bid),
            }
        )
    return sort_rows(out, sort)


def sort_rows(items: list[dict], sort: str) -> list[dict]:
    key = sort.lstrip("-")
    if key not in SORTS:
        key, sort = "name", "name"
    desc = sort.startswith("-")
    present = [r for r in items if r[key] is not None]
    missing = [r for r in items if r[key] is None]  # no value: last, whichever the direction
    present.sort(key=lambda r: (r[key], r["name"]), reverse=desc)
    return present + sorted(missing, key=lambda r: r["name"])


def current_ratings() -> dict[int, str]:
    """Each assessment body's grade in the latest published month (its current version)."""
    from auditbo.ratings.models import Rating, RatingRun, RunStatus, SubjectType

    latest = (
        sa.select(sa.func.max(RatingRun.period))
        .where(RatingRun.status == RunStatus.published)
        .scalar_subquery()
    )
    return dict(
        db.session.execute(
            sa.select(Rating.org_id, Rating.grade)
            .join(RatingRun, RatingRun.id == Rating.run_id)
            .where(
                RatingRun.status == RunStatus.published,
                RatingRun.period == latest,
                Rating.subject_type == SubjectType.assessment_body,
                Rating.superseded_at.is_(None),
            )
        ).all()
    )


def links(row: dict, period: Period) -> dict[str, str]:
    """The drill-downs of one body's row: the lists filtered to what each figure counts."""
    filed = {"body": row["id"], "filed_from": period.first.isoformat(), "filed_to": period.last.isoformat()}
    decided = {
        "tab": "decided",
        "body": row["credit_code"],
        "decided_from": period.first.isoformat(),
        "decided_to": period.last.isoformat(),
    }
    return {
        "filings": url_for("filings.index", **filed),
        "late_share": url_for("filings.index", flag="late", **filed),
        "jump_share": url_for("filings.index", flag="grade_jump", **filed),
        "tie_share": url_for("filings.index", flag="tie", **filed),
        "decided": url_for("confirmations.index", **decided),
        "returned_rate": url_for("confirmations.index", decision="returned", **decided),
        "adjusted_rate": url_for("confirmations.index", decision="grade_adjusted", **decided),
        "rejected_rate": url_for("confirmations.index", decision="rejected", **decided),
    }


def export_columns() -> list[exports.Column]:
    return [exports.Column(key, title) for key, title, _kind in COLUMNS]
