"""Times on pages: the office's zone, with the zone named, through one filter; the API keeps ISO 8601.

The suite runs with the process in UTC and the office in Shanghai (conftest), so a time shown
from the stored UTC value (or from the host's zone) is visibly eight hours off.
"""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine

from auditbo import clock
from tests.confirm_support import file_aaa, make_office

FILED = datetime(2026, 11, 29, 18, 54, tzinfo=UTC)  # Monday 30 November 2026, 02:54 in Shanghai
SHOWN = "2026-11-30 02:54 (UTC+8)"
PACKAGE = Path(clock.__file__).resolve().parent


@pytest.fixture
def filed(app):
    office = make_office(2)
    d = date(2026, 11, 20)
    with time_machine.travel(FILED, tick=False):
        rec, audit = file_aaa(
            office,
            decision_date=d.isoformat(),
            onsite_end=date(2026, 11, 15).isoformat(),
            onsite_start=date(2026, 11, 12).isoformat(),
        )
    return office, rec, audit


def _times(page: str) -> list[str]:
    return re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d(?: \([^)]*\))?", page)


def test_the_record_page_shows_office_time_with_the_zone(client, login, filed):
    office, rec, _ = filed
    login(office.reg.clerk)
    page = client.get(f"/assessments/{rec.id}").get_data(as_text=True)
    times = _times(page)
    assert SHOWN in times  # filed, its status history and its events: all one instant, all one way
    assert all(t == SHOWN for t in times), times
    assert "18:54" not in page  # never the stored UTC hour


def test_the_review_page_shows_office_time_with_the_zone(client, login, filed):
    office, rec, audit = filed
    login(office.user(audit.assignee_id))
    page = client.get(f"/confirmations/{audit.id}").get_data(as_text=True)
    times = _times(page)
    assert SHOWN in times and all(t == SHOWN for t in times), times
    assert "18:54" not in page


def test_the_api_keeps_iso_8601_with_the_offset(client, filed):
    office, rec, _ = filed
    body = client.get(f"/api/v1/assessments/{rec.id}", headers=office.h(office.reg.clerk)).get_json()
    assert datetime.fromisoformat(body["filed_at"]) == FILED
    assert body["filed_at"].endswith("+00:00")


def test_templates_show_timestamps_only_through_the_filter():
    """A template that formats a datetime itself would show UTC: every time goes through |localtime."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.html")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "strftime(" in line or re.search(r"_at\.(?:isoformat|date)\(|(?:_at|\.at)\s*\}\}", line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}")
    assert not offenders, "show times with |localtime (or |localdate):\n" + "\n".join(offenders)


def test_the_demo_history_keeps_each_records_steps_in_order():
    """Filed, then pending, then the reviewer drawn, then decided: never a reviewer before the record was pending."""
    import numpy as np

    from auditbo.config import load_config
    from auditbo.demo import builders

    rng = np.random.default_rng(7)
    world = builders.build_registry(rng, 0.05)
    builders.build_users(world, "not-a-hash")
    hist = builders.build_history(rng, world, load_config({"ENV_NAME": "testing"}), date(2026, 11, 26), 0.05)
    filed_at = {a["id"]: a["filed_at"] for a in hist.assessments}
    pending: dict[int, list] = {}
    for sc in hist.status_changes:
        assert sc["at"] >= filed_at[sc["assessment_id"]], sc
        if sc["to_status"] == "pending_confirmation":
            pending.setdefault(sc["assessment_id"], []).append(sc["at"])
    assert hist.audits
    for audit in hist.audits:
        opened = pending[audit["assessment_id"]][audit["round"] - 1]
        assert opened <= audit["created_at"] <= audit["assigned_at"], audit
        if audit["decided_at"]:
            assert audit["assigned_at"] < audit["decided_at"], audit
