"""The first and the last days a calendar knows, in every date filter of every page (review of
issue 12): an answer (a filtered page, or 400) from each, never a 500 (an OverflowError)."""

from __future__ import annotations

import pytest

from auditbo import clock
from tests.confirm_support import file_aaa, make_office

DATE_ARGS = ("filed_from", "filed_to", "decided_from", "decided_to", "due_from", "due_to",
             "received_from", "received_to", "from", "to", "on", "period", "day", "month")
EXTREMES = ("0001-01-01", "9999-12-31", "0001-01", "9999-12")
SKIP = {"static", "bootstrap.static", "api_docs.docs_assets", "accounts.logout", "accounts.logout_everywhere"}


def _plain_get_paths(app) -> list[str]:
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.arguments and rule.endpoint not in SKIP})


@pytest.mark.parametrize("role", ["clerk", "supervisor", "admin"])
def test_extreme_dates_in_any_filter_are_never_a_server_error(app, client, login, role):
    office = make_office(1)
    file_aaa(office)
    user = {"clerk": office.reg.clerk, "supervisor": office.reg.supervisors[0], "admin": office.admin}[role]
    login(user)
    failures = []
    for path in _plain_get_paths(app):
        for value in EXTREMES:
            query = "&".join(f"{name}={value}" for name in DATE_ARGS)
            resp = client.get(f"{path}?{query}", headers=office.h(user) if path.startswith("/api/") else {})
            if resp.status_code >= 500:
                failures.append((path, value, resp.status_code))
    assert failures == []


def test_the_day_bounds_hold_at_the_ends_of_the_calendar():
    from datetime import date

    assert clock.start_of(date(1, 1, 1)) <= clock.end_of(date(1, 1, 1))
    assert clock.end_of(date(9999, 12, 31)) > clock.start_of(date(9999, 12, 30))
    assert clock.end_of(date(2026, 3, 1)) == clock.start_of(date(2026, 3, 2))
