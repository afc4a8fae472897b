"""The web UI: the queue (tabs, filters, counts, navigation badge), the review page (declaration
first, checklist, findings, decision with the version, re-review, side-by-side track records
with a constant number of queries), the admin's reassignment and the recusal list."""

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Recusal
from auditbo.extensions import db
from tests.confirm_support import actor, file_aaa, make_office


@pytest.fixture
def office(app):
    return make_office(2)


@contextmanager
def count_queries():
    seen = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    conn = db.engine  # the test's connection (see conftest)
    sa.event.listen(conn, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(conn, "before_cursor_execute", before)


def test_the_queue_has_tabs_filters_counts_and_a_badge(client, login, office):
    audits = [file_aaa(office, grade=g)[1] for g in ("AAA", "AAAA", "AAA")]
    sup = office.user(audits[0].assignee_id)
    mine = sum(1 for a in audits if a.assignee_id == sup.id)
    login(sup)
    page = client.get("/confirmations/?lang=en").get_data(as_text=True)
    assert f'data-nav-badge="confirmations.index">{mine}<' in page
    assert f'data-count="mine">{mine}<' in page and 'data-count="open">3<' in page
    assert 'data-count="decided">0<' in page and 'data-count="pending">0<' in page
    assert page.count("data-audit=") == mine  # a supervisor starts on "assigned to me"
    grade = client.get("/confirmations/?tab=open&grade=AAAA&lang=en").get_data(as_text=True)
    assert grade.count("data-audit=") == 1 and 'data-count="open">1<' in grade
    body = client.get(f"/confirmations/?tab=open&body={office.reg.body.credit_code}").get_data(as_text=True)
    assert body.count("data-audit=") == 3
    region = client.get("/confirmations/?tab=open&region=11").get_data(as_text=True)
    assert region.count("data-audit=") == 0
    due = audits[0].due_date.isoformat()
    dated = client.get(f"/confirmations/?tab=open&due_from={due}&due_to={due}").get_data(as_text=True)
    assert dated.count("data-audit=") == 3
    junk = client.get("/confirmations/?tab=nope&grade=Z&due_from=yesterday")
    assert junk.status_code == 200
    assert client.get("/confirmations/?page=-3").status_code == 400  # a page number out of range says so


def test_the_queue_is_for_the_office_only(client, login, office):
    login(office.reg.clerk)
    assert client.get("/confirmations/").status_code == 403
    _, audit = file_aaa(office)
    assert client.get(f"/confirmations/{audit.id}").status_code == 403
    assert client.post(f"/confirmations/{audit.id}/decision", data={"dc-decision": "confirmed",
                                                                     "dc-version": 1}).status_code == 403


def test_the_admin_badge_counts_unassigned_audits(client, login, app):
    from auditbo.accounts.models import Affiliation

    office = make_office(1)
    db.session.add(Affiliation(user_id=office.reg.supervisors[0].id, org_id=office.reg.body.id))
    db.session.flush()
    file_aaa(office)
    login(office.admin)
    page = client.get("/confirmations/?lang=en").get_data(as_text=True)
    assert 'data-nav-badge="confirmations.index">1<' in page and 'data-count="pending">1<' in page


def test_the_reviewer_signs_the_declaration_before_anything_else(client, login, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    login(sup)
    first = client.get(f"/confirmations/{audit.id}?lang=en").get_data(as_text=True)
    assert 'id="declaration"' in first
    assert 'id="decision-form"' not in first and 'id="finding-form"' not in first
    # work before the declaration is refused
    refused = client.post(f"/confirmations/{audit.id}/checklist", data={"cl-item_scope": "yes"})
    assert refused.status_code == 303
    db.session.expire_all()
    assert db.session.get(ConfirmationAudit, audit.id).checklist == {}
    client.post(f"/confirmations/{audit.id}/declaration", data={"decl-conflict": "no"})
    after = client.get(f"/confirmations/{audit.id}?lang=en").get_data(as_text=True)
    assert 'id="declaration"' not in after and 'id="decision-form"' in after and 'id="finding-form"' in after
    assert f'name="dc-version" type="hidden" value="{audit.version + 1}"' in after


def test_declaring_a_conflict_in_the_ui_hands_the_audit_over(client, login, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    login(sup)
    missing = client.post(f"/confirmations/{audit.id}/declaration", data={"decl-conflict": "yes"})
    assert missing.status_code == 422 and "describe the tie" in missing.get_data(as_text=True)
    resp = client.post(f"/confirmations/{audit.id}/declaration",
                       data={"decl-conflict": "yes", "decl-parties": ["enterprise"],
                             "decl-reason": "本人持有该企业股份"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/confirmations/")
    db.session.expire_all()
    audit = db.session.get(ConfirmationAudit, audit.id)
    assert audit.assignee_id != sup.id and audit.status is AuditStatus.assigned
    assert db.session.scalar(sa.select(Recusal.reason).where(Recusal.user_id == sup.id)) == "本人持有该企业股份"


def test_a_stale_form_is_a_clear_conflict(client, login, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    login(sup)
    client.post(f"/confirmations/{audit.id}/declaration", data={"decl-conflict": "no"})
    stale = client.post(f"/confirmations/{audit.id}/decision", data={"dc-decision": "confirmed", "dc-version": 1},
                        follow_redirects=True)
    text = stale.get_data(as_text=True)
    assert "未保存" in text and "version 1" in text
    db.session.expire_all()
    assert db.session.get(ConfirmationAudit, audit.id).status is AuditStatus.assigned


def test_form_errors_are_shown_on_the_page(client, login, office):
    _, audit = file_aaa(office)
    sup = office.user(audit.assignee_id)
    login(sup)
    client.post(f"/confirmations/{audit.id}/declaration", data={"decl-conflict": "no"})
    version = db.session.scalar(sa.select(ConfirmationAudit.version).where(ConfirmationAudit.id == audit.id))
    resp = client.post(f"/confirmations/{audit.id}/decision?lang=en",
                       data={"dc-decision": "grade_adjusted", "dc-version": version})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "name the lower grade" in text and "this decision needs a reason" in text
    member = client.post(f"/confirmations/{audit.id}/findings?lang=en",
                         data={"fd-severity": "minor", "fd-against": "member", "fd-text": "未指明人员"})
    assert member.status_code == 422 and "name the team member" in member.get_data(as_text=True)


def test_the_review_page_shows_the_track_records_side_by_side_without_n_plus_1(client, login, office):
    def review_queries(audit):
        from auditbo.events import chain_pending

        chain_pending(db.session)  # the test's own events are chained first: only the page's statements count
        with count_queries() as seen:
            resp = client.get(f"/confirmations/{audit.id}?lang=en")
        assert resp.status_code == 200
        return resp.get_data(as_text=True), len(seen)

    first_a, first = file_aaa(office)
    login(office.admin)
    _, few = review_queries(first)
    for _ in range(6):
        _, audit = file_aaa(office)
        from auditbo.confirmations import services

        services.decide(audit, "returned", None, "补充材料", audit.version,
                        actor(office.user(audit.assignee_id)), via="api")
    text, many = review_queries(first)
    assert many == few
    assert 'data-tr="body-filed">6<' in text and 'data-tr="lead-filed">6<' in text
    assert 'data-tr="body-returned">6<' in text and 'data-tr="lead-returned">6<' in text
    assert office.reg.senior.name in text  # the lead's column
    assert 'id="reassign"' in text  # admins see the reassignment form, and no decision form
    assert 'id="decision-form"' not in text


def test_the_admin_reassigns_from_the_review_page(client, login, office):
    _, audit = file_aaa(office)
    before = audit.assignee_id
    login(office.admin)
    empty = client.post(f"/confirmations/{audit.id}/reassignment", data={"ra-reason": ""})
    assert empty.status_code == 422
    resp = client.post(f"/confirmations/{audit.id}/reassignment", data={"ra-reason": "原审核人员出差"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(ConfirmationAudit, audit.id).assignee_id not in (before, None)
    # a supervisor cannot
    client.post("/logout")
    login(office.user(before))
    assert client.post(f"/confirmations/{audit.id}/reassignment", data={"ra-reason": "想换"}).status_code == 403


def test_the_recusal_list(client, login, office):
    sup = office.reg.supervisors[0]
    login(office.admin)
    assert client.get("/confirmations/recusals").status_code == 200
    bad = client.post("/confirmations/recusals?lang=en", data={"user_id": sup.id, "party": "org",
                                                               "credit_code": "9" * 18, "reason": "x y"})
    assert bad.status_code == 200 and "no body with this credit code" in bad.get_data(as_text=True)
    ok = client.post("/confirmations/recusals", data={"user_id": sup.id, "party": "org",
                                                      "credit_code": office.reg.body.credit_code,
                                                      "reason": "曾任该机构顾问"})
    assert ok.status_code == 303
    rec = db.session.scalar(sa.select(Recusal).where(Recusal.user_id == sup.id))
    assert rec.org_id == office.reg.body.id
    for _ in range(4):
        assert file_aaa(office)[1].assignee_id != sup.id
    removed = client.post(f"/confirmations/recusals/{rec.id}/remove", data={"reason": "顾问关系已满三年"})
    assert removed.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Recusal)) == 0
    client.post("/logout")
    login(sup)
    assert client.get("/confirmations/recusals").status_code == 403


def test_the_pages_are_in_chinese_by_default(client, login, office):
    _, audit = file_aaa(office)
    login(office.user(audit.assignee_id))
    queue = client.get("/confirmations/").get_data(as_text=True)
    assert "确认审核" in queue and "分配给我" in queue and "已逾期" in queue
    review = client.get(f"/confirmations/{audit.id}").get_data(as_text=True)
    assert "审核前的自我声明" in review and "近期结果" in review and "全流程记录" in review


def test_a_stale_row_anywhere_is_a_409_not_a_500(app):
    from sqlalchemy.orm.exc import StaleDataError

    from auditbo.confirmations.views import _stale

    with app.test_request_context("/api/v1/confirmations/1/decision", method="POST"):
        resp = app.make_response(_stale(StaleDataError("UPDATE matched 0 rows")))
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    with app.test_request_context("/confirmations/1/decision", method="POST"):
        resp = app.make_response(_stale(StaleDataError("UPDATE matched 0 rows")))
    assert resp.status_code == 409 and "reload it" in resp.get_data(as_text=True)
