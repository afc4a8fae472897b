"""Encode once: the engine gives the same frames whether it is handed text columns, categorical
columns or the already encoded events (auditbo's monthly run encodes once and passes the codes on).

These compare two paths of the same engine, not stored grades, so they hold whatever the model is."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rating
from rating import Rater, RatingConfig, compare, encode, events_behind_change, validation_report

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from rating_sim import simulate  # noqa: E402

PERIOD = "2024-12"


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    events, *_ = simulate(None, n_cases=2500, seed=7, with_cases=True)
    return events.astype({c: object for c in events.columns if c != "event_date"}).assign(
        event_date=pd.to_datetime(events["event_date"]).dt.strftime("%Y-%m-%d")
    )


def _arrays_equal(a: rating.EventCounts, b: rating.EventCounts) -> None:
    pd.testing.assert_frame_equal(a.subjects, b.subjects)
    np.testing.assert_array_equal(a.checkers, b.checkers)
    for name in ("subject", "month", "event", "checker", "n", "day", "case", "link"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=name)


def _run(events, previous=None):
    cfg = RatingConfig()
    prev = Rater(cfg, explain=False).fit_transform(events, "2024-11")
    cur = Rater(cfg).fit_transform(events, PERIOD, prev)
    report = validation_report(events, PERIOD, cfg, current=cur, previous=prev)
    return compare(prev, cur), report.to_dict()


def test_categorical_columns_encode_as_text_columns(raw):
    assert raw["case_id"].notna().any() and raw["checker_id"].notna().any()
    cat = raw.astype("category")
    _arrays_equal(encode(raw), encode(cat))


def test_codes_text_and_categorical_frames_rate_the_same(raw):
    codes = encode(raw)
    by_codes, rep_codes = _run(codes)
    by_text, rep_text = _run(raw)
    by_cat, rep_cat = _run(raw.astype("category"))
    assert len(by_codes) > 100 and (by_codes["grade"] != rating.NR).any()
    pd.testing.assert_frame_equal(by_codes, by_text)
    pd.testing.assert_frame_equal(by_codes, by_cat)
    assert rep_codes == rep_text == rep_cat


def test_events_behind_a_change_from_the_codes_as_from_the_frame(raw):
    cfg = RatingConfig()
    plain = events_behind_change(raw, PERIOD, cfg)
    assert set(plain["effect"]) == {"entered", "left"}
    pd.testing.assert_frame_equal(events_behind_change(raw, PERIOD, cfg, codes=encode(raw)), plain)
    # codes of other events are not taken for these
    other = encode(raw.iloc[: len(raw) // 2])
    pd.testing.assert_frame_equal(events_behind_change(raw, PERIOD, cfg, codes=other), plain)
