"""The whole spot-check journey in headless Chromium: a supervisor creates a plan (with its preview),
an admin approves and draws it, an inspector records a major finding and revokes, and the public
certificate lookup shows the certificate revoked."""

from datetime import timedelta

import pytest

pytestmark = pytest.mark.browser


def _setup():
    from auditbo.accounts.models import Role
    from tests.factories import UserFactory
    from tests.spot_support import make_market

    m = make_market(3, n_supervisors=2)
    admin = UserFactory(role=Role.admin)
    return {"author": m.author.username, "admin": admin.username, "body": m.reg.body.credit_code}


def _inspector_of_the_check(body_code):
    def read():
        import sqlalchemy as sa

        from auditbo.accounts.models import User
        from auditbo.extensions import db
        from auditbo.filings.models import Assessment
        from auditbo.orgs.models import Organisation
        from auditbo.spotchecks.models import SpotCheck, SpotCheckInspector

        row = db.session.execute(
            sa.select(SpotCheck.id, Assessment.certificate_no).join(Assessment, Assessment.id == SpotCheck.assessment_id)
            .join(Organisation, Organisation.id == Assessment.body_id).where(Organisation.credit_code == body_code)
            .order_by(SpotCheck.id.desc()).limit(1)).one()
        uid = db.session.scalar(sa.select(SpotCheckInspector.user_id).where(SpotCheckInspector.spot_check_id == row[0])
                                .order_by(SpotCheckInspector.user_id).limit(1))
        return {"check_id": row[0], "certificate_no": row[1], "inspector": db.session.get(User, uid).username}

    return read


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


def test_the_spot_check_journey_in_the_browser(page, live_server):
    from tests.filing_support import TODAY

    data = live_server.setup(_setup)
    _login(page, data["author"])
    page.goto("/spotchecks/plans/new")
    page.fill("#name", "浏览器抽查计划")
    page.fill("#decided_from", (TODAY - timedelta(days=365)).isoformat())
    page.fill("#decided_to", TODAY.isoformat())
    page.fill("#body_credit_codes", data["body"])
    page.fill("#size", "1")
    page.click("#preview-button")
    assert page.locator('#preview [data-figure="frame_size"]').inner_text().strip() == "3"
    page.click("#create-button")
    page.wait_for_url("**/spotchecks/plans/*")
    plan_url = page.url
    assert page.locator("#approve-button").count() == 0  # the author cannot approve
    _logout(page)

    _login(page, data["admin"])
    page.goto(plan_url)
    page.click("#approve-button")
    page.wait_for_selector('[data-plan-status="approved"]')
    page.click("#draw-button")
    page.wait_for_selector('[data-plan-status="drawn"]')
    page.click("#verify-button")
    assert page.locator("#verification").get_attribute("data-matches") == "true"
    _logout(page)

    check = live_server.setup(_inspector_of_the_check(data["body"]))
    _login(page, check["inspector"])
    page.goto("/spotchecks/checks?tab=mine")
    page.click(f'tr[data-check="{check["check_id"]}"] a')
    page.wait_for_url(f"**/spotchecks/{check['check_id']}")
    page.select_option("#finding-severity", "major")
    page.select_option("#finding-against", "body")
    page.fill("#finding-text", "现场证据不支持所评等级")
    page.click("#finding-button")
    page.wait_for_selector('#findings [data-severity="major"]')
    page.select_option("#outcome-select", "major_findings")
    page.select_option("#consequence-select", "revoke")
    page.fill("#outcome-reason", "严重不符合,撤销证书")
    page.click("#outcome-button")
    page.wait_for_selector('#outcome[data-outcome="major_findings"]')
    assert page.locator("#assessment-status").get_attribute("data-status") == "revoked"

    # the public lookup (no login): the certificate is revoked at once
    public = page.context.request.get(f"/api/v1/certificates/{check['certificate_no']}",
                                      headers={"Cookie": ""})
    assert public.status == 200 and public.json()["status"] == "revoked"
