"""Ratings steer sampling (issue 15, item 7): a body's latest published grade is a feature of the risk
model (as of each row's day: never a grade published later, never a draft); a plan stratified by grade
gives each grade at least its configured share (the lower the grade, the higher the share) through the
engine's strata budgets, and verifies bit for bit; a person sanctioned for misconduct makes their body's
records mandatory in the next plan (until a record of the body has been checked since)."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from flask import current_app

from auditbo.clock import start_of
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision
from auditbo.errors import ValidationFailed
from auditbo.extensions import db
from auditbo.ratings.models import Rating, RatingRun, RunStatus, SubjectType
from auditbo.sanctions.models import Sanction
from auditbo.spotchecks import services
from auditbo.spotchecks.frame import FEATURES, build_frame
from auditbo.spotchecks.models import PlanUnit, SpotCheck
from tests.filing_support import TODAY
from tests.spot_support import checks_of, drawn_plan, make_market, plan_body, population

SHARES = {"C": 0.5, "B": 0.25, "A": 0.0, "AA": 0.0, "AAA": 0.0, "NR": 0.0}


def _publish(body, grade: str, published: object, period: str = "2026-01", status=RunStatus.published,
             superseded=None, version: int = 1, run=None) -> Rating:
    if run is None:
        run = RatingRun(period=period, version=1, status=status, config={},
                        published_at=start_of(published) + timedelta(hours=10) if status is RunStatus.published
                        else None)
        db.session.add(run)
        db.session.flush()
    r = Rating(run_id=run.id, subject_type=SubjectType.assessment_body, org_id=body.id, grade=grade,
               version=version, superseded_at=superseded, effective_n=3.0, contributions={}, reasons={})
    db.session.add(r)
    db.session.flush()
    return r


def _frame(day=TODAY, **kw):
    return build_frame(population(), day, current_app.config, **kw)


def _levels(frame, records) -> list:
    units = frame.units.set_index("unit_id")
    return [None if np.isnan(v) else v for v in units.loc[records, "body_rating_level"]]


def test_the_bodys_latest_published_grade_is_a_feature_as_of_the_plan_date(session):
    m = make_market(2)
    assert "body_rating_level" in FEATURES
    assert _levels(_frame(), m.records) == [None, None]  # not rated yet: unknown, not average
    _publish(m.reg.body, "AA", TODAY - timedelta(days=40), period="2025-12")
    _publish(m.reg.body, "C", TODAY - timedelta(days=5), period="2026-02", status=RunStatus.draft)  # a draft never counts
    assert _levels(_frame(), m.records) == [4.0, 4.0]
    old = _publish(m.reg.body, "B", TODAY, period="2026-01")  # published on the plan's day: not yet known
    assert _levels(_frame(), m.records) == [4.0, 4.0]
    assert _levels(_frame(TODAY + timedelta(days=1)), m.records) == [2.0, 2.0]  # the latest month, a day later
    # an upheld objection: version 2 in force from the correction, version 1 kept, superseded
    old.superseded_at = start_of(TODAY + timedelta(days=3)) + timedelta(hours=9)
    _publish(m.reg.body, "A", None, version=2, run=db.session.get(RatingRun, old.run_id))
    assert _levels(_frame(TODAY + timedelta(days=4)), m.records) == [3.0, 3.0]
    assert _levels(_frame(TODAY + timedelta(days=3)), m.records) == [2.0, 2.0]


def test_a_training_row_sees_the_grade_as_of_its_own_day(session):
    m = make_market(3)
    for aid in m.records:  # labelled rows: confirmation decisions of the records (decided 10 days ago)
        db.session.add(ConfirmationAudit(assessment_id=aid, round=9, status=AuditStatus.decided,
                                         due_date=TODAY, decision=Decision.rejected,
                                         decided_at=start_of(TODAY - timedelta(days=8)) + timedelta(hours=10)))
    assert "body_rating_level" not in _frame().history.columns  # known for no row: left out (the engine's
    # binning refuses an all-missing column); the units keep it
    _publish(m.reg.body, "C", TODAY - timedelta(days=400), period="2025-01")
    _publish(m.reg.body, "AAA", TODAY - timedelta(days=5), period="2026-01")  # after the records' decisions
    f = _frame()
    assert f.history is not None and list(f.history["body_rating_level"]) == [1.0, 1.0, 1.0]
    assert _levels(f, m.records) == [5.0, 5.0, 5.0]


def _two_bodies(n_low: int, n_high: int):
    low, high = make_market(n_low), make_market(n_high)
    _publish(low.reg.body, "C", TODAY - timedelta(days=30))
    run = db.session.scalar(sa.select(RatingRun).order_by(RatingRun.id.desc()).limit(1))
    _publish(high.reg.body, "AAA", None, run=run)
    return low, high


def test_a_plan_stratified_by_grade_gives_the_low_grades_their_minimum_share(session, app, monkeypatch):
    monkeypatch.setitem(app.config, "SAMPLING_MIN_SHARE_BY_GRADE", SHARES)
    low, high = _two_bodies(4, 16)
    plan = drawn_plan(high, size=4, seed=11, strata="rating")
    allocation = plan.summary["draw"]["parameters"]["allocation"]
    assert allocation == {"C": 2, "AAA": 2}  # proportional would be 1 and 3: C gets its 50 % of 4
    drawn = {c.assessment_id for c in checks_of(plan)}
    assert len(drawn & set(low.records)) == math.ceil(0.5 * 4)
    assert services.verify_plan(plan)["matches"] is True
    units = db.session.scalars(sa.select(PlanUnit).where(PlanUnit.plan_id == plan.id)).all()
    assert {u.features["body_rating"] for u in units} == {"C", "AAA"}


def test_without_minimum_shares_the_grade_strata_are_proportional(session, app, monkeypatch):
    monkeypatch.setitem(app.config, "SAMPLING_MIN_SHARE_BY_GRADE", {})
    low, high = _two_bodies(4, 16)
    plan = drawn_plan(high, size=4, seed=11, strata="rating")
    assert plan.summary["draw"]["parameters"]["allocation"] == {"C": 1, "AAA": 3}
    assert services.verify_plan(plan)["matches"] is True


def test_a_size_too_small_for_the_minimum_shares_is_refused(session, app, monkeypatch):
    monkeypatch.setitem(app.config, "SAMPLING_MIN_SHARE_BY_GRADE", {**SHARES, "C": 1.0})
    low, high = _two_bodies(4, 16)
    with pytest.raises(ValidationFailed) as exc:
        services.preview(plan_body(4, strata="rating"))
    assert exc.value.errors[0].field == "size" and "C" in exc.value.errors[0].message


def test_the_grade_minimum_shares_are_checked_at_start():
    from auditbo.config import ConfigError, load_config

    for bad in ({"C": 0.1, "B": 0.2}, {"D": 0.1}, {"C": 1.5}):
        with pytest.raises(ConfigError):
            load_config({"ENV_NAME": "testing", "SAMPLING_MIN_SHARE_BY_GRADE": bad})


def test_a_person_sanctioned_for_misconduct_makes_their_bodys_records_mandatory_in_the_next_plan(session):
    m = make_market(3)
    other = make_market(2)
    db.session.add(Sanction(person_id=m.reg.member.id, kind="warning", status="in_force", reason="现场评定弄虚作假",
                            legal_basis="办法第十二条", starts_on=TODAY - timedelta(days=30)))
    db.session.flush()
    f = _frame()
    assert {u: why for u, why in f.mandatory_why.items()} == {r: ["sanctioned_staff"] for r in m.records}
    assert not set(other.records) & set(f.mandatory_why)
    # the next plan checks the body: the obligation is met, later plans draw as usual
    db.session.add(SpotCheck(assessment_id=m.records[0], status="open", opened_on=TODAY - timedelta(days=2)))
    db.session.flush()
    assert not _frame().mandatory_why


def test_a_sanctioned_consultant_makes_the_consulting_bodys_records_mandatory(session):
    m = make_market(2)
    db.session.add(Sanction(person_id=m.reg.consultant.id, kind="suspension", status="in_force", reason="违规咨询",
                            legal_basis="办法第十四条", starts_on=TODAY - timedelta(days=10)))
    db.session.flush()
    assert _frame().mandatory_reasons() == {"sanctioned_staff": 2}


def test_a_proposed_sanction_or_one_checked_since_changes_nothing(session):
    m = make_market(2)
    db.session.add(Sanction(person_id=m.reg.member.id, kind="revocation", status="proposed", reason="待定",
                            legal_basis="办法", starts_on=TODAY - timedelta(days=3)))
    db.session.add(Sanction(person_id=m.reg.lead.id, kind="warning", status="ended", reason="旧事",
                            legal_basis="办法", starts_on=TODAY - timedelta(days=90)))
    db.session.add(SpotCheck(assessment_id=m.records[0], status="closed", outcome="conforming",
                             consequence="none", opened_on=TODAY - timedelta(days=60),
                             closed_on=TODAY - timedelta(days=40)))
    db.session.flush()
    assert "sanctioned_staff" not in _frame().mandatory_reasons()
