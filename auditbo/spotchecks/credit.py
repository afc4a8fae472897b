"""How credit ratings and staff sanctions steer sampling (issue 15, item 7).

- **The body's grade as a feature.** ``body_rating_level`` is the grade (AAA = 5 … C = 1) of the
  assessment body's latest published rating in force before the row's as-of day (the plan's date for
  the frame, the record's decision date for a training row): never a draft, never a grade published
  on or after that day; a corrected version (an upheld objection) counts from its correction. No
  published grade (or NR) is unknown (NaN), not average: the engine imputes it.
- **A minimum sampling share per grade.** A plan stratified by ``rating`` puts each record in the
  stratum of its body's grade (``body_rating``; ``NR`` when none). Each grade stratum gets at least
  ``ceil(share × size)`` of its records (``SAMPLING_MIN_SHARE_BY_GRADE``, the lower the grade the
  higher the share, as SAMR's credit classes do) and at least its mandatory records plus one; the rest
  of the sample goes to the strata in proportion to their remaining records. The engine draws within
  those budgets (``sampling.draw(strata=…, budgets=…)``): nothing here computes a probability.
- **Staff sanctioned for misconduct.** A person of a body (assessor or consultant) warned, suspended or
  revoked in the look-back window makes every record of their body mandatory in the next plan: until a
  record of that body has been spot-checked since the sanction started.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from auditbo.clock import to_local
from auditbo.errors import FieldError, ValidationFailed
from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.orgs.models import Person
from auditbo.ratings.queries import published_body_grades
from auditbo.sanctions.models import Sanction, SanctionKind, SanctionStatus
from auditbo.spotchecks.models import SpotCheck

LEVELS = {"AAA": 5.0, "AA": 4.0, "A": 3.0, "B": 2.0, "C": 1.0}
NO_GRADE = "NR"
STRATUM = "body_rating"


# --- the grade as of a day -----------------------------------------------------------------------
def _in_force() -> pd.DataFrame:
    """(party, day, grade): each published version of a body's rating from the office day it came in."""
    rows = published_body_grades()
    if not rows:
        return pd.DataFrame({"party": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[ns]"),
                             "grade": pd.Series(dtype=object)})
    df = pd.DataFrame(rows, columns=["org_id", "period", "published_at", "version", "superseded_at", "grade"])
    df = df.sort_values(["org_id", "period", "version"], kind="stable")
    before = df.groupby(["org_id", "period"])["superseded_at"].shift(1)  # v2 comes in as v1 is superseded
    since = df["published_at"].where(df["version"] == 1, before)
    df = df.assign(since=since).dropna(subset=["since"])
    return pd.DataFrame({"party": df["org_id"].astype("int64").astype(str).to_numpy(),
                         "day": pd.to_datetime([to_local(t).date() for t in df["since"]]).astype("datetime64[ns]"),
                         "grade": df["grade"].to_numpy()})


def grades_as_of(body_ids: pd.Series, as_of: pd.Series) -> pd.Series:
    """Each row's body grade in force before its as-of day (``NR`` when none), in the rows' order."""
    n = len(body_ids)
    grades = _in_force()
    if n == 0 or len(grades) == 0:
        return pd.Series([NO_GRADE] * n, index=body_ids.index, dtype=object)
    ids = pd.to_numeric(body_ids, errors="coerce")
    q = pd.DataFrame({"party": ids.fillna(0).astype("int64").astype(str).where(ids.notna(), "").to_numpy(),
                      "day": pd.to_datetime(as_of).to_numpy().astype("datetime64[ns]"), "row": np.arange(n)})
    m = pd.merge_asof(q.sort_values("day", kind="stable"),
                      grades.sort_values(["day"], kind="stable"),
                      on="day", by="party", allow_exact_matches=False, direction="backward").sort_values("row")
    return pd.Series(m["grade"].fillna(NO_GRADE).to_numpy(), index=body_ids.index, dtype=object)


def levels(grades: pd.Series) -> np.ndarray:
    return grades.map(lambda g: LEVELS.get(g, np.nan)).to_numpy(dtype=float)


# --- minimum share per grade ---------------------------------------------------------------------
def grade_budgets(strata: pd.Series, mandatory: pd.Series, n: int, shares: dict) -> dict[str, int] | None:
    """Budgets per grade stratum for a sample of ``n``: each at least ``ceil(share × size)`` and its
    mandatory records plus one (at most its size); the rest in proportion to the records left, by
    largest remainders. ``None`` (the engine's proportional allocation) when no share is set."""
    if not any(float(v) > 0 for v in (shares or {}).values()):
        return None
    labels = strata.astype(str)
    sizes = labels.value_counts().sort_index()
    mand = labels[mandatory.to_numpy() > 0].value_counts().reindex(sizes.index, fill_value=0)
    floor = {}
    for g, size in sizes.items():
        want = max(math.ceil(float(shares.get(g, 0.0)) * size), int(mand[g]) + 1)
        floor[g] = min(int(size), want)
    need = sum(floor.values())
    if need > n:
        detail = ", ".join(f"{g} {floor[g]}" for g in sizes.index)
        raise ValidationFailed([FieldError("size", f"the minimum shares per grade need {need} records ({detail}): "
                                                   f"raise the size to at least {need}")])
    spare = {g: int(sizes[g]) - floor[g] for g in sizes.index}
    budgets = dict(floor)
    rest = n - need
    while rest > 0:
        room = {g: s for g, s in spare.items() if s > 0}
        total = sum(room.values())
        share = {g: rest * s / total for g, s in room.items()}
        add = {g: min(room[g], math.floor(x)) for g, x in share.items()}
        left = rest - sum(add.values())
        for g in sorted(room, key=lambda g: (-(share[g] - math.floor(share[g])), g)):
            if left == 0:
                break
            if add[g] < room[g]:
                add[g] += 1
                left -= 1
        for g, a in add.items():
            budgets[g] += a
            spare[g] -= a
        rest = n - sum(budgets.values())
    return {str(g): int(b) for g, b in budgets.items()}


# --- staff sanctioned for misconduct -------------------------------------------------------------
def sanctioned_staff_bodies(plan_date: date, since: date) -> set[int]:
    """Bodies with a person sanctioned (warning, suspension, revocation) from ``since`` to the plan's date
    and none of whose records was spot-checked since the sanction started: the next plan checks them."""
    started = db.session.execute(
        sa.select(Person.org_id, sa.func.max(Sanction.starts_on).label("started"))
        .join(Person, Person.id == Sanction.person_id)
        .where(Sanction.status.in_([SanctionStatus.in_force, SanctionStatus.ended]),
               Sanction.kind.in_([SanctionKind.warning, SanctionKind.suspension, SanctionKind.revocation]),
               Sanction.starts_on <= plan_date, Sanction.starts_on >= since)
        .group_by(Person.org_id)).all()
    out = set()
    for org_id, start in started:
        checked = db.session.scalar(
            sa.select(sa.func.max(SpotCheck.opened_on)).join(Assessment, Assessment.id == SpotCheck.assessment_id)
            .where(sa.or_(Assessment.body_id == org_id, Assessment.consulting_body_id == org_id),
                   SpotCheck.opened_on >= start, SpotCheck.opened_on <= plan_date))
        if checked is None:
            out.add(int(org_id))
    return out
