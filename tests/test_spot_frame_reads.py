"""The frame's set-based reads: on PostgreSQL by COPY, equal to the row-by-row reads feature for feature;
office days from UTC timestamps in the office's zone (a filing at 01:30 in Shanghai is that day's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from flask import current_app

from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision
from auditbo.extensions import db
from auditbo.spotchecks import frame as frames
from tests.filing_support import TODAY
from tests.spot_support import make_market, population


def _build():
    f = frames.build_frame(population(), TODAY, current_app.config)
    return f.units.sort_values("unit_id").reset_index(drop=True), f.history


def test_copy_reads_equal_row_reads(session, monkeypatch):
    m = make_market(8)
    db.session.add(ConfirmationAudit(assessment_id=m.records[0], round=9, status=AuditStatus.decided,
                                     due_date=TODAY, decision=Decision.rejected,
                                     decided_at=datetime.now(UTC) - timedelta(days=2)))
    db.session.flush()
    fast, fast_hist = _build()
    monkeypatch.setattr(frames, "COPY_READS", False)
    slow, slow_hist = _build()
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
    pd.testing.assert_frame_equal(fast_hist.reset_index(drop=True), slow_hist.reset_index(drop=True),
                                  check_dtype=False)
    assert fast["body_prior_nc"].notna().all() and (fast["team_size"] > 0).all()


def test_office_days_are_the_offices_calendar_days(app):
    stamps = [datetime(2026, 11, 29, 17, 30, tzinfo=UTC), datetime(2026, 11, 29, 15, 59, tzinfo=UTC), None]
    days = frames._office_days(stamps)  # Asia/Shanghai, UTC+8
    assert list(days[:2]) == [pd.Timestamp("2026-11-30"), pd.Timestamp("2026-11-29")] and pd.isna(days[2])
    assert frames._days(["2026-01-02", None]).dtype == np.dtype("datetime64[ns]")
