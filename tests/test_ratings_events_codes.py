"""The rating events travel as integer codes (auditbo/ratings/events.py): the orders and texts they
stand for are the ones the text columns had."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from auditbo.ratings.events import _labelled, _text_order, rating_events
from tests import rating_support as rs


def test_ids_order_as_their_decimal_texts():
    rng = np.random.default_rng(3)
    ids = np.concatenate([rng.integers(0, 10**7, size=2000), [0, 1, 3, 30, 300, 12, 29, 10**6, 999_999]])
    pad, digits = _text_order(ids)
    order = np.lexsort((digits, pad))
    assert [str(v) for v in ids[order]] == sorted(str(v) for v in ids)


def test_missing_ids_stay_missing():
    c = _labelled(np.array([7, -1, 12, 7]), "U")
    assert list(pd.Series(c).astype(object).where(pd.Series(c).notna(), None)) == ["U7", None, "U12", "U7"]


def test_events_are_sorted_by_day_and_unique_per_subject_and_outcome(app):
    m = rs.make_market(1)
    s = m.sides[0]
    records = [rs.record(s, rs.at(date(2026, 3, d))) for d in (2, 3, 4)]
    for a in records:
        rs.decide(a, m.reviewer, rs.at(date(2026, 3, 9)), "confirmed")
    rs.complaint(date(2026, 3, 21), org=s.body, assessment=records[0])  # named and held: counted once
    ev = rating_events("2026-03")
    text = ev.astype(object)
    assert list(text["event_date"]) == sorted(text["event_date"])
    complaints = text[text["event"] == "complaint_substantiated"]
    assert len(complaints[complaints["subject_type"] == "assessment_body"]) == 1
    assert set(text.loc[text["event"] == "confirmation_confirmed", "case_id"]) == {f"A{a.id}" for a in records}
    assert (text.loc[text["event"] == "confirmation_confirmed", "checker_id"] == f"U{m.reviewer.id}").all()


@pytest.mark.postgres_only
def test_unordered_reads_give_the_rows_of_the_copy_reader(app):
    import sqlalchemy as sa

    from auditbo.frames import read_frame

    v = sa.values(sa.column("a", sa.Integer), sa.column("b", sa.String), sa.column("c", sa.Boolean), name="v").data(
        [(1, 'x,"y"', True), (2, None, False), (3, "line\nbreak", None), (4, "", True), (5, "lead", False)]
    )
    stmt = sa.select(v.c.a, v.c.b, v.c.c)
    plain = read_frame(stmt, ["a", "b", "c"], ints=("a",), text=("b",))
    joined = read_frame(stmt, ["a", "b", "c"], ints=("a",), text=("b",), unordered=True)
    assert plain["b"].tolist()[0] == 'x,"y"' and plain["b"].tolist()[2] == "line\nbreak"
    pd.testing.assert_frame_equal(joined.sort_values("a").reset_index(drop=True), plain)
