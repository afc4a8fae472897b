"""The frame from the database: features as of the plan date (no leakage), mandatory units, exclusions,
and inspectors never recused (a property over random registries)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import sqlalchemy as sa
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditbo.clock import start_of
from auditbo.complaints.models import Complaint
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision
from auditbo.extensions import db
from auditbo.spotchecks.frame import FEATURES, build_frame
from auditbo.spotchecks.models import SpotCheck
from tests.filing_support import TODAY
from tests.spot_support import make_market, population


def _frame(day=TODAY, **pop):
    return build_frame({**population(), **pop}, day, current_app.config)


def _decided_audit(aid, on, decision=Decision.rejected):
    db.session.add(ConfirmationAudit(assessment_id=aid, round=9, status=AuditStatus.decided, due_date=on,
                                     decision=decision, decided_at=start_of(on) + timedelta(hours=10)))
    db.session.flush()


def test_no_feature_uses_information_dated_after_the_plan_date(session):
    m = make_market(6)
    plan_day = TODAY - timedelta(days=3)
    before = _frame(plan_day).units.set_index("unit_id")[list(FEATURES)]
    _decided_audit(m.records[0], TODAY - timedelta(days=1))  # a rejection after the plan date
    db.session.add(SpotCheck(assessment_id=m.records[1], status="closed", outcome="major_findings",
                             consequence="revoke", opened_on=TODAY - timedelta(days=2), closed_on=TODAY))
    db.session.flush()
    after = _frame(plan_day).units.set_index("unit_id")[list(FEATURES)]
    pd.testing.assert_frame_equal(before, after)
    # the same event dated before the plan date does move the body's prior nonconformity
    _decided_audit(m.records[2], plan_day - timedelta(days=5))
    moved = _frame(plan_day).units.set_index("unit_id")
    assert (moved["body_prior_nc"] != before["body_prior_nc"]).all()


def test_features_are_the_specs_list():
    assert {"grade_jump", "assessment_type", "person_days_ratio", "filing_delay_days", "team_size",
            "lead_workload_30d", "body_prior_nc", "lead_prior_nc", "consulting_prior_nc", "flag_tie",
            "enterprise_size", "industry_section", "province"} <= set(FEATURES)


def test_a_substantiated_complaint_makes_the_record_mandatory(session):
    m = make_market(5)
    db.session.add(Complaint(against_org_id=m.reg.body.id, assessment_id=m.records[3], received_on=TODAY,
                             summary="能力与等级不符", status="substantiated", closed_on=TODAY))
    db.session.flush()
    f = _frame()
    assert f.mandatory_count == 1 and f.mandatory_why == {m.records[3]: ["substantiated_complaint"]}
    assert f.units.set_index("unit_id").loc[m.records[3], "mandatory"] == 1.0


def test_a_sanctioned_body_makes_its_records_mandatory(session):
    from auditbo.sanctions.models import Sanction

    m = make_market(3)
    db.session.add(Sanction(org_id=m.reg.body.id, kind="warning", status="in_force", reason="违规",
                            legal_basis="办法第十条", starts_on=TODAY - timedelta(days=30)))
    db.session.flush()
    f = _frame()
    assert f.mandatory_count == 3 and f.mandatory_reasons() == {"sanctioned_body": 3}


def test_a_record_checked_in_the_last_12_months_is_left_out(session):
    m = make_market(4)
    db.session.add(SpotCheck(assessment_id=m.records[0], status="open", opened_on=TODAY - timedelta(days=5)))
    db.session.flush()
    f = _frame()
    assert f.size == 3 and f.excluded_recent == 1 and m.records[0] not in set(f.units["unit_id"])


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(n_insp=st.integers(3, 8), n_checks=st.integers(1, 12), ties=st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 5)), max_size=12), seed=st.integers(0, 2**31))
def test_inspectors_two_distinct_never_recused(session, n_insp, n_checks, ties, seed):
    from auditbo.confirmations.assignment import ReviewerPool
    from auditbo.spotchecks.assignment import draw_inspectors

    pool = ReviewerPool(TODAY, 3, reviewers=list(range(100, 100 + n_insp)))
    for i, body in ties:
        if i < n_insp:
            pool._tie(100 + i, body, None)
    checks = [{"check_id": c, "body_id": c % 6, "consulting_body_id": None, "enterprise_id": 1000 + c}
              for c in range(n_checks)]
    drawn, failed = draw_inspectors(checks, 2, seed, pool=pool)
    for c in checks:
        tied = {u for u, t in pool.ties.items() if ("org", c["body_id"]) in t}
        if c["check_id"] in failed:
            assert n_insp - len(tied) < 2 and c["check_id"] not in drawn
            continue
        users = drawn[c["check_id"]]
        assert len(users) == 2 and len(set(users)) == 2 and not (set(users) & tied)
    assert sa  # sqlalchemy kept for the helpers above
