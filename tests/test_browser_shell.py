"""Headless Chromium: sign in and see the dashboard in Chinese, then in English."""

import pytest

pytestmark = pytest.mark.browser


def _make_supervisor():
    from auditbo.accounts.services import create_user

    create_user(username="browser-sup", password="browser-password-1", role="supervisor", display_name="李监督")


def test_login_and_dashboard_in_chinese_and_english(page, live_server):
    live_server.setup(_make_supervisor)
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.fill("#username", "browser-sup")
    page.fill("#password", "browser-password-1")
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/dashboard")
    assert page.locator("#dashboard-title").inner_text() == "工作台"
    assert "李监督" in page.locator("#whoami").inner_text()
    page.click("text=English")
    page.wait_for_url("**/dashboard?lang=en")
    assert page.locator("#dashboard-title").inner_text() == "Dashboard"
    assert page.locator("html").get_attribute("lang") == "en"
    # the choice sticks, and signing out works from the navigation bar
    page.goto("/dashboard")
    assert page.locator("#dashboard-title").inner_text() == "Dashboard"
    page.click("text=Sign out")
    page.wait_for_url("**/login")


def test_wrong_password_shows_a_message(page, live_server):
    page.goto("/login")
    page.fill("#username", "nobody")
    page.fill("#password", "whatever-password")
    page.click("#login-form [type=submit]")
    assert "用户名或密码错误" in page.locator(".alert").inner_text()
