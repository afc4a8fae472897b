"""A full confirmation review in headless Chromium: queue → review → declaration → checklist →
finding → grade adjustment; the record stands at the lower grade. The ``page`` fixture fails
the test on any CSP violation or request leaving the machine."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _setup():
    import sqlalchemy as sa

    from auditbo.confirmations.models import AuditStatus, ConfirmationAudit
    from auditbo.extensions import db
    from tests.confirm_support import file_aaa, make_office

    office = make_office(1)
    a, audit = file_aaa(office, grade="AAAA")
    sup = office.reg.supervisors[0]
    # the live database may hold other supervisors (the demo): give this audit to ours
    db.session.execute(sa.update(ConfirmationAudit).where(ConfirmationAudit.id == audit.id)
                       .values(assignee_id=sup.id, status=AuditStatus.assigned))
    sup.display_name = "王审核"
    return {"username": sup.username, "audit_id": audit.id, "assessment_id": a.id,
            "member": office.reg.member.person_id}


def _result(assessment_id, audit_id):
    def read():
        import sqlalchemy as sa

        from auditbo.confirmations.models import ConfirmationAudit, Finding
        from auditbo.extensions import db
        from auditbo.filings.models import Assessment

        a = db.session.get(Assessment, assessment_id)
        audit = db.session.get(ConfirmationAudit, audit_id)
        findings = db.session.scalar(sa.select(sa.func.count()).where(Finding.audit_id == audit_id))
        return a.status.value, a.grade.value, audit.decision.value, findings, dict(audit.checklist)

    return read


def test_a_full_review_in_the_browser(page, live_server):
    from tests.factories import PASSWORD

    data = live_server.setup(_setup)
    page.goto("/login")
    page.fill("#username", data["username"])
    page.fill("#password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/dashboard")

    # the navigation shows the count of my open audits; the queue starts on "assigned to me"
    badge = page.locator('[data-nav-badge="confirmations.index"]')
    assert int(badge.inner_text()) >= 1
    page.click("text=确认审核")
    page.wait_for_url("**/confirmations/")
    row = page.locator(f'tr[data-audit="{data["audit_id"]}"]')
    assert row.count() == 1
    row.locator("a").first.click()
    page.wait_for_url(f"**/confirmations/{data['audit_id']}")

    # the declaration comes first; the conflict details only show for a declared tie (JS)
    expect(page.locator("#declaration")).to_be_visible()
    assert page.locator("#decision-form").count() == 0
    expect(page.locator("#conflict-details")).to_be_hidden()
    page.check("#decl-conflict-1")
    expect(page.locator("#conflict-details")).to_be_visible()
    page.check("#decl-conflict-0")
    page.click("#decl-submit")
    assert "声明已签署" in page.locator(".alert-success").inner_text()

    # checklist
    page.check("#cl-item_scope-0")
    page.check("#cl-item_evidence-1")
    page.fill("#cl-note", "第三项能力证据不足")
    page.click("#cl-submit")
    assert "核查表已保存" in page.locator(".alert-success").inner_text()
    assert page.is_checked("#cl-item_evidence-1")

    # a finding against a team member
    page.select_option("#fd-severity", "major")
    page.select_option("#fd-against", "member")
    page.select_option("#fd-person_id", data["member"])
    page.fill("#fd-text", "组员未参加现场评定")
    page.click("#fd-submit")
    assert "组员未参加现场评定" in page.locator("#findings-list").inner_text()

    # the decision: the lower grade appears only for a grade adjustment
    expect(page.locator("#dc-grade")).to_be_hidden()
    page.select_option("#dc-decision", "grade_adjusted")
    expect(page.locator("#dc-grade")).to_be_visible()
    options = page.eval_on_selector_all("#dc-grade option", "els => els.map(e => e.value)")
    assert options == ["", "A", "AA", "AAA"]  # only grades below the filed AAAA
    page.select_option("#dc-grade", "AAA")
    page.fill("#dc-reason", "网络级能力证据不足,调整为流程级")
    page.click("#dc-submit")
    assert "审核结论已记录" in page.locator(".alert-success").inner_text()
    expect(page.locator("#decision-shown [data-decision=grade_adjusted]")).to_be_visible()
    assert page.locator("#decision-form").count() == 0
    assert page.locator('#timeline [data-action="decided"]').count() == 1

    status, grade, decision, findings, checklist = live_server.setup(
        _result(data["assessment_id"], data["audit_id"]))
    assert (status, grade, decision, findings) == ("standing", "AAA", "grade_adjusted", 1)
    assert checklist == {"scope": "yes", "evidence": "no", "note": "第三项能力证据不足"}

    # the decided audit shows in the "decided" tab, in English too
    page.goto("/confirmations/?tab=decided&lang=en")
    assert page.locator(f'tr[data-audit="{data["audit_id"]}"] [data-decision]').inner_text() == "Grade adjusted → AAA"
