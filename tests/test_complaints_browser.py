"""Headless Chromium: the public complaint form with its CSP intact (the ``page`` fixture fails on a
violation): a complaint filed, its tracking code looked up, and the 11th submission throttled."""

import pytest

pytestmark = pytest.mark.browser

CERT = "IIMS-BROWSER-CPL-000001"


def _setup():
    import sqlalchemy as sa

    from auditbo.extensions import db
    from auditbo.filings.models import Assessment
    from tests.factories import CertificateFactory

    if db.session.scalar(sa.select(Assessment.id).where(Assessment.certificate_no == CERT)) is None:
        CertificateFactory(certificate_no=CERT, external_ref="BROWSER-CPL-1")


def _submit(page, text: str):
    page.goto("/complain")
    page.fill("#certificate_no", CERT)
    page.fill("#text", text)
    page.fill("#contact", "13600000000")
    with page.expect_navigation():
        page.click("#complain-submit")


def test_public_complaint_receipt_tracking_and_throttle(page, live_server):
    live_server.setup(_setup)
    _submit(page, "第1次投诉:评定组只来了半天")
    code = page.locator("#tracking-code").inner_text()
    assert code.startswith("TS-")
    page.click(f"a[href*='code={code}']")
    assert page.locator("#complaint-status [data-status]").get_attribute("data-status") == "received"
    assert page.locator("#complaint-status [data-status]").inner_text() == "已受理"
    assert "13600000000" not in page.content()
    for i in range(2, 11):
        _submit(page, f"第{i}次投诉")
        assert page.locator("#tracking-code").count() == 1, i
    page.goto("/complain")
    page.fill("#certificate_no", CERT)
    page.fill("#text", "第11次投诉")
    page.fill("#contact", "13600000000")
    with page.expect_navigation() as nav:
        page.click("#complain-submit")
    assert nav.value.status == 429
    assert page.locator("#tracking-code").count() == 0
