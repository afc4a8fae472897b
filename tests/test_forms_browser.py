"""A clerk files through the filing form in headless Chromium, taking each code from the registry's pickers.

A datalist's popup is the browser's own; the test reads the option a user would pick (the
input's list) and enters that value, so the filing uses only what the pickers offer."""

from datetime import timedelta

import pytest

from auditbo import clock

pytestmark = pytest.mark.browser


def _setup():
    from tests.filing_support import make_registry

    reg = make_registry()
    return {"username": reg.clerk.username, "lead": reg.lead.person_id, "member": reg.member.person_id,
            "consulting": reg.consulting.credit_code, "consultant": reg.consultant.person_id}


def _pick(page, selector: str, contains: str) -> str:
    """The value of the first option of the input's datalist whose value or label holds ``contains``."""
    listed = page.locator(selector).get_attribute("list")
    assert listed, f"{selector} offers no picker"
    options = page.locator(f"datalist#{listed} option")
    for i in range(options.count()):
        opt = options.nth(i)
        if contains in (opt.get_attribute("value") or "") or contains in (opt.inner_text() or ""):
            value = opt.get_attribute("value")
            page.fill(selector, value)
            return value
    raise AssertionError(f"no option with {contains!r} for {selector}")


def test_a_clerk_files_through_the_pickers(page, live_server):
    from tests.factories import PASSWORD

    data = live_server.setup(_setup)
    page.goto("/login")
    page.fill("#username", data["username"])
    page.fill("#password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/dashboard")
    page.click("#nav-account")  # 我的账号 is in the navigation
    page.wait_for_url("**/account")
    page.goto("/assessments/new")

    assert page.locator(".required label, label.required, .required > .form-label").count() >= 8
    decided = clock.today() - timedelta(days=5)
    page.fill("#external_ref", "PJ-BROWSER-0001")
    page.select_option("#assessment_type", "initial")
    page.select_option("#grade", "AA")
    page.fill("#certificate_no", "IIMS-BROWSER-AA-000001")
    page.fill("#onsite_start", (decided - timedelta(days=10)).isoformat())
    page.fill("#onsite_end", (decided - timedelta(days=8)).isoformat())
    page.fill("#decision_date", decided.isoformat())
    page.fill("#person_days", "16")
    page.fill("#enterprise_name", "浏览器示例机械股份有限公司")
    page.fill("#enterprise_credit_code", "91350100M000100Y43")
    _pick(page, "#enterprise_region_code", "福建省")
    page.fill("#enterprise_region_code", "350100")  # a city under the province picked
    _pick(page, "#enterprise_industry_code", "制造业")
    page.fill("#enterprise_industry_code", "C34")
    page.select_option("#enterprise_size", "large")
    page.fill("#enterprise_employees", "2300")
    assert _pick(page, "#team-0-person_id", data["lead"]) == data["lead"]
    page.select_option("#team-0-role", "lead")
    assert _pick(page, "#team-1-person_id", data["member"]) == data["member"]
    page.select_option("#team-1-role", "member")
    _pick(page, "#capabilities-0-name", "智能生产与现场作业管控能力")
    page.select_option("#capabilities-0-level", "CL2")
    assert _pick(page, "#consulting_body_credit_code", data["consulting"]) == data["consulting"]
    assert _pick(page, "#consultant_ids", data["consultant"]) == data["consultant"]
    page.click("#submit-filing")
    page.wait_for_url("**/assessments/*")
    assert "IIMS-BROWSER-AA-000001" in page.locator("#certificate-no").inner_text()
    assert page.locator("#breadcrumbs").count() == 1
    page.screenshot(path=str(live_server.app.config["UPLOAD_DIR"]) + "/filed-through-pickers.png", full_page=True)
