"""The rating engine's events from the database (auditbo/ratings/events.py): who each outcome is
held against, and that nothing dated after the rated month changes what a run reads."""

from __future__ import annotations

from datetime import date

import pandas as pd

from auditbo.ratings.events import COLUMNS, rating_events, window
from rating import RatingConfig, encode
from tests import rating_support as rs


def _rows(frame: pd.DataFrame, event: str) -> set[tuple[str, str]]:
    sel = frame[frame["event"] == event]
    return set(zip(sel["subject_type"], sel["subject_id"], strict=True))


def test_window_covers_the_backtest_and_ends_with_the_month():
    first, last = window("2026-03")
    assert last == date(2026, 3, 31)
    # the backtest month (2025-09) rates on a scale fitted to the December before it (2024-12),
    # whose 36 months of memory start in December 2021
    assert first == date(2021, 12, 1)


def test_with_a_stored_scale_the_window_is_memory_and_backtest_only():
    cfg = RatingConfig(scale={}, scale_period="2025-12")
    first, _ = window("2026-03", cfg)
    assert first == date(2022, 9, 1)  # 36 months of memory + 6 months of backtest before March 2026


def test_each_outcome_is_held_against_every_subject_it_concerns(app):
    m = rs.make_market(1)
    s = m.sides[0]
    a = rs.record(s, rs.at(date(2026, 3, 2)), late=True)
    rs.decide(a, m.reviewer, rs.at(date(2026, 3, 9)), "grade_adjusted")
    b = rs.record(s, rs.at(date(2026, 3, 3)))
    rs.decide(b, m.reviewer, rs.at(date(2026, 3, 10)), "returned")
    c = rs.record(s, rs.at(date(2026, 3, 4)))
    rs.decide(c, m.reviewer, rs.at(date(2026, 3, 11)), "returned", consultant_finding=True)
    rs.spot_check(a, m.inspector, date(2026, 3, 20), "major_findings")
    rs.complaint(date(2026, 3, 21), org=s.body, assessment=a)
    rs.complaint(date(2026, 3, 22), person=s.member)
    rs.complaint(date(2026, 3, 22), person=s.lead, status="unsubstantiated")
    rs.sanction(date(2026, 3, 25), person=s.member)
    rs.sanction(date(2026, 3, 25), org=s.body, kind="warning")  # not a sanction to the engine
    rs.sanction(date(2026, 3, 25), org=s.consulting, status="proposed")  # not yet in force

    ev = rating_events("2026-03")
    assert list(ev.columns) == COLUMNS
    body, lead, member = ("assessment_body", s.body.credit_code), ("assessor", s.lead.person_id), \
        ("assessor", s.member.person_id)
    cons, consultant = ("consulting_body", s.consulting.credit_code), ("consultant", s.consultant.person_id)
    # filing: the body's job, held against the body and the lead
    assert _rows(ev, "filing_late") == {body, lead}
    assert _rows(ev, "filing_on_time") == {body, lead}
    # a decision on the grade: the assessing and the consulting side, the reviewer as checker
    assert _rows(ev, "confirmation_grade_adjusted") == {body, lead, member, cons, consultant}
    adj = ev[ev["event"] == "confirmation_grade_adjusted"]
    assert set(adj["checker_id"]) == {f"U{m.reviewer.id}"} and set(adj["case_id"]) == {f"A{a.id}"}
    # a return for correction is the body's paperwork ... unless a finding names a consultant
    returned = ev[ev["event"] == "confirmation_returned"]
    assert set(zip(returned["case_id"], returned["subject_type"], strict=True)) >= {
        (f"A{b.id}", "assessment_body"), (f"A{c.id}", "consultant"), (f"A{c.id}", "consulting_body")}
    assert (f"A{b.id}", "consultant") not in set(zip(returned["case_id"], returned["subject_type"], strict=True))
    # a spot check: everyone, the inspector as checker
    assert _rows(ev, "spotcheck_major") == {body, lead, member, cons, consultant}
    assert set(ev.loc[ev["event"] == "spotcheck_major", "checker_id"]) == {f"U{m.inspector.id}"}
    # complaints: the named party (once, though the record is also the body's) plus the record's side
    comp = ev[ev["event"] == "complaint_substantiated"]
    assert _rows(ev, "complaint_substantiated") == {body, lead, cons, member}
    assert len(comp[(comp["subject_type"] == "assessment_body")]) == 1
    # sanctions: only in-force suspensions and revocations of the registry
    assert _rows(ev, "sanction") == {member}
    encode(ev)  # the engine accepts it as it is


def test_nothing_dated_after_the_month_changes_its_events(app):
    m = rs.make_market(2)
    rs.history(m, [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)], per_month=2)
    s = m.sides[0]
    edge = rs.record(s, rs.at(date(2026, 3, 31), hour=23))  # 23:00 office time: still March
    before = rating_events("2026-03")
    assert f"A{edge.id}" in set(before["case_id"])

    # the next office day, though still 31 March in UTC; decisions, checks, complaints and
    # sanctions of April, also about March's records
    late = rs.record(s, rs.at(date(2026, 4, 1), hour=1))
    rs.decide(late, m.reviewer, rs.at(date(2026, 4, 2)), "rejected")
    rs.decide(edge, m.reviewer, rs.at(date(2026, 4, 1), hour=0), "rejected")
    rs.spot_check(m.records[0], m.inspector, date(2026, 4, 1), "major_findings")
    rs.complaint(date(2026, 4, 3), org=s.body, assessment=m.records[0])
    rs.sanction(date(2026, 4, 5), org=s.body)
    after = rating_events("2026-03")
    pd.testing.assert_frame_equal(before, after)
    assert len(rating_events("2026-04")) > len(after)  # and April's run does see them
