"""The ratings journey in headless Chromium: a supervisor computes a month as a draft and reviews it, an
admin (another user) publishes it, the public directory shows the body's grade, the body's clerk objects
with a reason and an attachment, a supervisor who did not run it upholds the objection, and the body's
public page shows the corrected grade (the new version)."""

from datetime import date

import pytest

pytestmark = pytest.mark.browser

PERIOD = "2026-03"
MONTHS = [date(2025, m, 1) for m in range(6, 13)] + [date(2026, m, 1) for m in range(1, 4)]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _setup():
    from auditbo.accounts.models import Role
    from tests import rating_support as rs
    from tests.factories import UserFactory, clerk

    m = rs.make_market(3)
    rs.history(m, MONTHS, per_month=2)
    body = m.sides[0].body
    body.name = "一号浏览器评级测试机构有限公司"  # sorts first in the directory, whatever else the session made
    return {"runner": UserFactory(role=Role.supervisor).username, "admin": UserFactory(role=Role.admin).username,
            "judge": UserFactory(role=Role.supervisor).username, "clerk": clerk(body).username,
            "body": body.credit_code}


def _login(page, username):
    from tests.factories import PASSWORD

    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/dashboard")


def _logout(page):
    page.click("form[action$='/logout'] button")
    page.wait_for_url("**/login**")


def _directory_grade(page, code) -> str:
    page.goto("/directory")
    row = page.locator(f"#directory tr:has(a[href$='/directory/{code}'])")
    return row.locator("td").nth(4).inner_text().strip()


def test_the_ratings_journey_in_the_browser(page, live_server):
    data = live_server.setup(_setup)
    code = data["body"]

    _login(page, data["runner"])
    page.goto("/ratings/")
    page.fill("#period", PERIOD)
    page.click("#run-button")
    page.wait_for_url("**/ratings/runs/*")
    review_url = page.url
    assert page.locator("#run-status").get_attribute("data-status") == "draft"
    assert page.locator("#distribution").count() == 1 and page.locator("#movers").count() == 1
    assert page.locator("#publish-button").count() == 0  # a supervisor reviews; an admin publishes
    page.click(f"#subjects tr[data-subject='{code}'] a")
    page.wait_for_url("**/ratings/r/*")
    assert page.locator("#contributions meter").count() >= 1  # the contributions as bars
    _logout(page)

    assert _directory_grade(page, code) == "—"  # nothing public before publication

    _login(page, data["admin"])
    page.goto(review_url)
    page.click("#publish-button")
    page.wait_for_selector("#run-status[data-status='published']")
    _logout(page)

    grade = _directory_grade(page, code)
    assert grade in ("AAA", "AA", "A", "B", "C")
    corrected = "C" if grade != "C" else "B"
    page.goto(f"/directory/{code}")
    assert page.locator("#profile-rating").inner_text().startswith(f"{grade} ({PERIOD})")

    _login(page, data["clerk"])
    page.goto("/ratings/mine")
    page.click(f"#my-ratings tr[data-subject='{code}'] a")
    page.wait_for_url("**/ratings/r/*")
    subject_url = page.url
    page.fill("#reason", "三月份逾期系系统故障，附停电证明")
    page.set_input_files("#files", files=[{"name": "停电证明.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.click("#object-button")
    page.wait_for_selector("#objections [data-status='lodged']")
    assert "停电证明.pdf" in page.locator("#objections").inner_text()
    _logout(page)

    _login(page, data["judge"])
    page.goto("/ratings/objections")
    page.click(f"#objection-list tr:has-text('{code}') a")
    page.wait_for_url(subject_url)
    oid = page.locator("#objections [data-status='lodged']").get_attribute("data-objection")
    page.select_option(f"#decision-{oid}", "upheld")
    page.select_option(f"#grade-{oid}", corrected)
    page.fill(f"#decision-reason-{oid}", "停电属实，更正等级")
    page.click(f"#decide-{oid}")
    page.wait_for_selector("#correction")
    assert page.locator("#subject-grade").inner_text().startswith(corrected)
    assert "停电属实" in page.locator("#correction").inner_text()
    _logout(page)

    assert _directory_grade(page, code) == corrected
    page.goto(f"/directory/{code}")
    assert page.locator("#profile-rating").inner_text().startswith(f"{corrected} ({PERIOD})")
