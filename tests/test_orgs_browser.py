"""Headless Chromium: the registry pages (list, filter, profile, suspend with a reason; a clerk's own body)."""

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "registry-browser-pw1"
NAME = "注册表浏览器评定有限公司"


def _setup():
    import sqlalchemy as sa

    from auditbo.accounts.models import User
    from auditbo.accounts.services import create_user
    from auditbo.codes import make_credit_code
    from auditbo.extensions import db
    from tests.factories import OrgFactory, PersonFactory

    if db.session.scalar(sa.select(User.id).where(User.username == "reg-browser-admin")) is None:
        org = OrgFactory(name=NAME, region_code="510107", credit_code=make_credit_code("510107", "MAR000001"),
                         contact="028-0000001")
        PersonFactory(org=org, person_id="RB-0001", name="浏览器员工", qualification="senior_lead")
        create_user(username="reg-browser-admin", password=PASSWORD, role="admin")
        create_user(username="reg-browser-clerk", password=PASSWORD, role="body_clerk",
                    org_credit_code=org.credit_code)


def _sign_in(page, username):
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/dashboard")


def test_admin_filters_opens_and_suspends_a_body(page, live_server):
    live_server.setup(_setup)
    _sign_in(page, "reg-browser-admin")
    page.click("nav >> text=机构与人员名录")
    page.wait_for_url("**/registry/")
    page.fill("#org-filter [name=q]", "注册表浏览器")
    page.click("#org-filter [type=submit]")
    page.click(f"#org-list >> text={NAME}")
    assert "028-0000001" in page.locator("#org-profile").inner_text()
    page.select_option("#st-status", "suspended")
    page.fill("#st-reason", "浏览器测试:暂停原因")
    page.click("#status-form [type=submit]")
    assert page.locator("#org-name [data-status]").get_attribute("data-status") == "suspended"
    assert "浏览器测试:暂停原因" in page.locator("#history").inner_text()
    page.click("text=English")
    assert "Status changed" in page.locator("#history").inner_text()
    page.goto("/registry/persons/?lang=en")
    assert "RB-0001" in page.locator("#person-list").inner_text()
    for href in ("/registry/enterprises/", "/registry/import"):
        assert page.goto(href).status == 200


def test_clerk_sees_own_body_without_contact(page, live_server):
    live_server.setup(_setup)
    _sign_in(page, "reg-browser-clerk")
    page.goto("/registry/")
    assert NAME in page.locator("#org-name").inner_text()
    assert "RB-0001" in page.locator("#staff").inner_text()
    assert "028-0000001" not in page.content()
