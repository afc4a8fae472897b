"""Every page reachable from the navigation, for each role, loads in Chromium with no CSP
violation and no request leaving the machine (the ``page`` fixture fails on either)."""

import pytest

pytestmark = pytest.mark.browser

_loaded = {}


def _demo(live_server):
    if not _loaded:
        from datetime import date

        from auditbo.demo import database_is_empty, load_demo

        def go():
            if database_is_empty():
                load_demo(seed=5, scale=0.03, as_of=date(2026, 11, 26))

        live_server.setup(go)
        _loaded["done"] = True


def _sign_in(page, username):
    from auditbo.demo import DEMO_PASSWORD

    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/dashboard")


@pytest.mark.parametrize("username", ["admin", "supervisor3", "clerk01", "consult01"])
def test_no_csp_violation_on_any_page(page, live_server, username):
    _demo(live_server)
    _sign_in(page, username)
    links = page.eval_on_selector_all("nav a.nav-link", "els => els.map(e => e.getAttribute('href'))")
    visited = 0
    for href in dict.fromkeys(links):
        if not href.startswith("/"):
            continue
        resp = page.goto(href)
        assert resp.status < 400, (href, resp.status)
        visited += 1
    assert visited >= 3


def test_api_docs_work_offline(page, live_server):
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "auditbo" in page.locator(".swagger-ui .info .title").inner_text()
