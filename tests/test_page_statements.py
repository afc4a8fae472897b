"""An office page's per-request cost in statements (issue 19: fewer round trips): the session user with its
session check is one statement, the navigation badges one more (all counts in one SELECT, at most once per
request), and none when a process keeps the user's counts (NAV_BADGE_SECONDS). The API reads no badges."""

from __future__ import annotations

import pytest

from auditbo.extensions import db
from auditbo.spotchecks import queries as spot_queries
from tests.confirm_support import file_aaa, make_office
from tests.conftest import count_queries
from tests.factories import PASSWORD
from tests.spot_support import drawn_plan, make_market

# the page's own statements (list: count, rows, bodies for the filter; record: 7, see
# test_record_page_statements) plus the session user (1) and the badges (1): fails if either grows
LIST_BUDGET, RECORD_BUDGET = 5, 9


def _shown(seen) -> str:
    return "\n".join(" ".join(s.split())[:140] for s in seen)


def _session_user(seen) -> list[str]:
    return [s for s in seen if "user_sessions" in s]


def _badges(seen) -> list[str]:
    return [s for s in seen if "nav_badge_" in s]


@pytest.fixture
def kept_badges(app, monkeypatch):
    """NAV_BADGE_SECONDS on (tests default to 0), with an empty store before and after."""
    monkeypatch.setitem(app.config, "NAV_BADGE_SECONDS", 30.0)
    app.extensions.pop("auditbo_nav_badges", None)
    yield
    app.extensions.pop("auditbo_nav_badges", None)


def test_an_office_list_and_record_page_cost_one_statement_for_the_user_and_one_for_the_badges(client, login):
    office = make_office(2)
    a, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    db.session.commit()
    login(sup)
    for url, budget in (("/assessments?lang=en", LIST_BUDGET), (f"/assessments/{a.id}?lang=en", RECORD_BUDGET)):
        with count_queries() as seen:
            page = client.get(url).get_data(as_text=True)
        assert len(_session_user(seen)) == 1, _shown(seen)  # the user, its live session and its body: one
        assert len(_badges(seen)) == 1, _shown(seen)  # the confirmations, spot checks and complaints badges
        assert len(seen) <= budget, f"{url}: {len(seen)} statements > {budget}\n{_shown(seen)}"
        assert 'data-nav-badge="confirmations.index">1<' in page  # the counts are still right
        assert 'data-nav-badge="spotchecks.index"' not in page and 'data-nav-badge="complaints.index"' not in page


def test_kept_badges_cost_no_statement_and_are_never_another_users(app, client, login, kept_badges):
    office = make_office(2)
    _a, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    other = next(u for u in office.reg.supervisors if u.id != sup.id)
    db.session.commit()
    login(sup)
    with count_queries() as first:
        assert 'data-nav-badge="confirmations.index">1<' in client.get("/assessments").get_data(as_text=True)
    with count_queries() as again:
        page = client.get("/assessments").get_data(as_text=True)
    assert len(_badges(first)) == 1 and _badges(again) == [], _shown(again)
    assert len(_session_user(again)) == 1  # the session is still checked on every request
    assert 'data-nav-badge="confirmations.index">1<' in page

    browser = app.test_client()  # the other supervisor in a browser of their own (sup's counts stay kept)
    assert browser.post("/login", data={"username": other.username, "password": PASSWORD}).status_code == 302
    with count_queries() as theirs:
        page = browser.get("/assessments").get_data(as_text=True)
    assert len(_badges(theirs)) == 1 and 'data-nav-badge="confirmations.index"' not in page  # theirs: none

    _a2, audit2 = file_aaa(office)
    audit2.assignee_id = sup.id  # a second open audit of sup's (whoever the draw chose)
    db.session.commit()
    # someone else's change shows when the kept count expires (NAV_BADGE_SECONDS); until then the kept one
    assert 'data-nav-badge="confirmations.index">1<' in client.get("/assessments").get_data(as_text=True)
    with count_queries() as fresh:
        client.post("/account", data={})  # any form the user sends drops their kept counts (counted afresh once)
        page = client.get("/assessments").get_data(as_text=True)
    assert len(_badges(fresh)) == 1 and 'data-nav-badge="confirmations.index">2<' in page


def test_the_api_reads_no_badges_and_no_browser_session(client):
    office = make_office(1)
    file_aaa(office)
    db.session.commit()
    sup = office.reg.supervisors[0]
    with count_queries() as seen:
        resp = client.get("/api/v1/assessments?per_page=5", headers=office.h(sup))
    assert resp.status_code == 200 and resp.get_json()["items"]
    assert _badges(seen) == [] and _session_user(seen) == [], _shown(seen)


def test_the_spot_check_badge_counts_what_the_my_open_checks_list_counts(app):
    m = make_market(n=12, n_supervisors=3)
    drawn_plan(m, size=6)
    counts = []
    for sup in m.reg.supervisors:
        badge = db.session.scalar(spot_queries.nav_count_select(sup, None))
        assert badge == spot_queries.checks_page(1, 1, status="open", inspector_id=sup.id)[1]
        counts.append(badge)
    assert sum(counts) > 0  # the plan's checks have inspectors among them
    assert spot_queries.nav_count_select(m.admin, None) is None  # an admin has no spot-check badge
