"""Headless Chromium: the public directory and the certificate lookup, in Chinese and in English."""

from datetime import date

import pytest

pytestmark = pytest.mark.browser

BODY_NAME = "浏览器测试评定中心有限公司"
CONS_NAME = "浏览器测试咨询有限公司"
ENTERPRISE = "浏览器示例制造有限公司"
CERT = "IIMS-BROWSER-AAA-000001"


def _setup():
    """Committed into the live server's database (its own, shared by the browser tests)."""
    import sqlalchemy as sa

    from auditbo.codes import make_credit_code
    from auditbo.extensions import db
    from auditbo.orgs.models import Organisation
    from tests.factories import CertificateFactory, ConsultingFactory, EnterpriseFactory, OrgFactory

    code = make_credit_code("330106", "MAB0000E1")
    body = db.session.scalar(sa.select(Organisation).where(Organisation.credit_code == code))
    if body is None:
        body = OrgFactory(name=BODY_NAME, region_code="330106", credit_code=code, contact="0571-0000000")
        cons = ConsultingFactory(name=CONS_NAME, credit_code=make_credit_code("310115", "MAB0000E2"))
        ent = EnterpriseFactory(name=ENTERPRISE, credit_code=make_credit_code("350102", "MAB0000E3"))
        CertificateFactory(body=body, consulting_body_id=cons.id, enterprise=ent, grade="AAA",
                           certificate_no=CERT, valid_until=date(2029, 10, 8), external_ref="BROWSER-1")
    return body.credit_code


def test_directory_filter_and_profile_in_chinese_then_english(page, live_server):
    code = live_server.setup(_setup)
    page.goto("/directory")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("#directory-title").inner_text() == "机构名录"
    page.select_option("#filter-kind", "consulting_body")
    page.click("#filter-submit")
    page.wait_for_url("**/directory?*kind=consulting_body*")
    rows = page.locator("#directory tbody tr")
    kinds = {rows.nth(i).get_attribute("data-kind") for i in range(rows.count())}
    assert kinds == {"consulting_body"}
    assert CONS_NAME in page.locator("#directory").inner_text()
    assert BODY_NAME not in page.locator("#directory").inner_text()

    page.select_option("#filter-kind", "assessment_body")
    page.select_option("#filter-province", "33")
    page.click("#filter-submit")
    page.wait_for_url("**/directory?*province=33*")
    page.click(f"text={BODY_NAME}")
    page.wait_for_url(f"**/directory/{code}")
    assert page.locator("#profile-status").inner_text() == "有效"
    assert page.locator('#profile-grades [data-grade="AAA"]').inner_text() == "1"
    assert "0571-0000000" not in page.content()

    page.click("text=English")
    page.wait_for_url(f"**/directory/{code}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#profile-status").inner_text() == "Active"
    assert "not yet published" in page.locator("#profile-rating").inner_text()
    page.goto("/directory")
    assert page.locator("#directory-title").inner_text() == "Directory of bodies"


def test_certificate_lookup_in_chinese_then_english(page, live_server):
    live_server.setup(_setup)
    page.goto("/")
    page.click("#home-verify")
    page.wait_for_url("**/certificates")
    assert page.locator("#lookup-title").inner_text() == "证书查询"
    page.fill("#certificate-no", CERT)
    page.click("#lookup-form [type=submit]")
    page.wait_for_url("**/certificates?no=*")
    assert page.locator("#cert-enterprise").inner_text() == ENTERPRISE
    assert page.locator("#cert-grade").inner_text().startswith("AAA")
    assert page.locator("#cert-status").inner_text() == "有效"
    assert page.locator("#cert-valid-until").inner_text() == "2029-10-08"
    result = page.locator("#certificate-result").inner_text()
    # the issuing body is named (issue 18: a lookup must say who issued the certificate);
    # the body's own reference for the record is not public
    assert BODY_NAME in result and "BROWSER-1" not in result

    page.click("text=English")
    page.wait_for_url("**lang=en")
    assert page.locator("#cert-status").inner_text() == "Standing"
    page.fill("#certificate-no", "IIMS-NO-SUCH-NUMBER")
    page.click("#lookup-form [type=submit]")
    page.wait_for_url("**/certificates?no=IIMS-NO-SUCH-NUMBER")
    assert "No certificate with this number is on record." in page.locator("#certificate-not-found").inner_text()
