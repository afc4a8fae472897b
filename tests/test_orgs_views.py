"""Registry pages: who sees what, list filters, edits, suspend/reinstate, import upload, enterprises."""

import io
import re
from datetime import date

import pytest

from auditbo import clock
from auditbo.accounts.models import Role
from auditbo.codes import make_credit_code
from auditbo.events import Event
from auditbo.extensions import db
from auditbo.orgs import services
from auditbo.orgs.models import Organisation, Person, RegistryStatus
from tests.conftest import count_queries, count_rows
from tests.factories import (
    CertificateFactory,
    ConsultingFactory,
    EnterpriseFactory,
    OrgFactory,
    PersonFactory,
    UserFactory,
    clerk,
    consulting_user,
)


def html(resp) -> str:
    return resp.get_data(as_text=True)


def assert_csp_clean(text: str) -> None:
    assert 'style="' not in text
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)


@pytest.fixture
def admin(login):
    user = UserFactory(role=Role.admin, username="reg-admin")
    login(user)
    return user


@pytest.fixture
def supervisor(login):
    user = UserFactory(role=Role.supervisor)
    login(user)
    return user


# --------------------------------------------------------------------------- access
def test_registry_needs_login(client):
    assert client.get("/registry/").status_code == 302


def test_supervisor_reads_but_cannot_change(client, supervisor):
    org = OrgFactory(contact="0571-1234567")
    person = PersonFactory(org=org)
    assert client.get("/registry/?lang=en").status_code == 200
    page = html(client.get(f"/registry/orgs/{org.id}"))
    assert org.name in page and "0571-1234567" in page and person.person_id in page
    assert 'id="status-form"' not in page
    assert client.get("/registry/orgs/new").status_code == 403
    assert client.get(f"/registry/orgs/{org.id}/edit").status_code == 403
    assert client.post(f"/registry/orgs/{org.id}/status", data={"st-status": "suspended",
                                                                "st-reason": "x"}).status_code == 403
    assert client.get("/registry/import").status_code == 403
    assert db.session.get(Organisation, org.id).status is RegistryStatus.active


def test_clerk_sees_own_body_read_only_without_contact(client, login):
    org = OrgFactory(contact="0571-7654321", scope="两化融合管理体系评定")
    mine = PersonFactory(org=org, qualification="senior_lead")
    services.change_status(mine, "suspended", "资格复核中", actor=services.events.SYSTEM)
    other = OrgFactory()
    theirs = PersonFactory(org=other)
    user = clerk(org)
    login(user)
    resp = client.get("/registry/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/registry/orgs/{org.id}")
    page = html(client.get(f"/registry/orgs/{org.id}"))
    assert org.name in page and mine.person_id in page
    assert "0571-7654321" not in page  # contact details: office only
    assert "资格复核中" in page  # the office's decision about their staff
    assert 'id="status-form"' not in page and "/edit" not in page
    assert client.get(f"/registry/persons/{mine.id}").status_code == 200
    assert client.get(f"/registry/orgs/{other.id}").status_code == 404
    assert client.get(f"/registry/persons/{theirs.id}").status_code == 404
    assert client.get("/registry/orgs/999999").status_code == 404
    assert client.get("/registry/persons/").status_code == 403
    assert client.get("/registry/enterprises/").status_code == 403


def test_consulting_user_sees_own_body(client, login):
    org = ConsultingFactory()
    login(consulting_user(org))
    assert client.get(f"/registry/orgs/{org.id}").status_code == 200
    assert client.get(f"/registry/orgs/{OrgFactory().id}").status_code == 404


# --------------------------------------------------------------------------- lists
def test_list_filters_by_kind_province_status_and_text(client, supervisor):
    a = OrgFactory(name="杭州甲评定有限公司", region_code="330106",
                   credit_code=make_credit_code("330106", "MA8000001"))
    b = ConsultingFactory(name="上海乙咨询有限公司")
    c = OrgFactory(name="北京丙评定有限公司")
    services.change_status(c, "suspended", "test", actor=services.events.SYSTEM)

    def names(query):
        return set(re.findall(r'/registry/orgs/\d+">([^<]+)<', html(client.get(f"/registry/?{query}"))))

    assert names("kind=consulting_body") == {b.name}
    assert names("province=33") == {a.name}
    assert names("status=suspended") == {c.name}
    assert names("q=乙咨询") == {b.name}
    assert names(f"q={a.credit_code}") == {a.name}
    assert names("kind=assessment_body&status=active") >= {a.name}
    assert c.name not in names("kind=assessment_body&status=active")


def test_lists_take_a_fixed_number_of_queries(client, supervisor):
    def queries_for(url):
        client.get(url)  # warm-up (session load)
        with count_queries() as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    OrgFactory()
    PersonFactory()
    few = [queries_for(u) for u in ("/registry/", "/registry/persons/", "/registry/enterprises/")]
    for _ in range(12):
        org = OrgFactory()
        PersonFactory(org=org)
        CertificateFactory(body=org)
    assert [queries_for(u) for u in ("/registry/", "/registry/persons/", "/registry/enterprises/")] == few


# --------------------------------------------------------------------------- changes
def test_admin_registers_edits_suspends_and_reinstates_a_body(client, admin):
    code = make_credit_code("350102", "MA8000009")
    resp = client.post("/registry/orgs/new", data={"credit_code": code, "name": "福州示例评定有限公司",
                                                   "kind": "assessment_body", "region_code": "350102",
                                                   "scope": "评定", "contact": "0591-1"})
    assert resp.status_code == 302
    org = services.org_by_code(code)
    resp = client.post(f"/registry/orgs/{org.id}/edit", data={"name": "福州示例评定有限公司", "region_code": "350102",
                                                              "scope": "", "contact": "0591-2"})
    assert resp.status_code == 302
    db.session.refresh(org)
    assert org.contact == "0591-2" and org.scope is None
    client.post(f"/registry/orgs/{org.id}/status", data={"st-status": "suspended", "st-reason": "逾期未监督评定"})
    db.session.refresh(org)
    assert org.status is RegistryStatus.suspended and org.status_changed_on == clock.today()
    page = html(client.get(f"/registry/orgs/{org.id}?lang=en"))
    assert "逾期未监督评定" in page and "reg-admin" in page
    assert_csp_clean(page)
    client.post(f"/registry/orgs/{org.id}/status", data={"st-status": "active", "st-reason": "整改完成"})
    db.session.refresh(org)
    assert org.status is RegistryStatus.active
    actions = [e.action for e in services.history(org)]
    assert actions == ["created", "updated", "status_changed", "status_changed"]


def test_status_change_without_reason_is_refused(client, admin):
    org = OrgFactory()
    client.post(f"/registry/orgs/{org.id}/status", data={"st-status": "suspended", "st-reason": ""})
    assert db.session.get(Organisation, org.id).status is RegistryStatus.active
    assert services.history(org) == []


def test_admin_edits_and_suspends_a_person(client, admin):
    person = PersonFactory(qualification="lead")
    resp = client.post(f"/registry/persons/{person.id}/edit", data={
        "name": person.name, "org_credit_code": person.org.credit_code, "qualification": "senior_lead",
        "valid_until": "2031-01-31", "id_number": ""})
    assert resp.status_code == 302, html(resp)
    client.post(f"/registry/persons/{person.id}/status", data={"st-status": "suspended", "st-reason": "投诉核查"})
    db.session.refresh(person)
    assert person.qualification.value == "senior_lead" and person.valid_until == date(2031, 1, 31)
    assert person.status is RegistryStatus.suspended
    page = html(client.get(f"/registry/persons/{person.id}"))
    assert "投诉核查" in page and clock.today().isoformat() in page


def test_import_upload_good_then_bad(client, admin):
    code = make_credit_code("110105", "MA8000020")
    good = f"credit_code,name,kind,region_code,status\n{code},北京上传评定有限公司,assessment_body,110105,active\n"
    resp = client.post("/registry/import", data={"which": "orgs", "file": (io.BytesIO(good.encode()), "o.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and 'id="import-report"' in html(resp)
    assert services.org_by_code(code) is not None
    n_events = count_rows(Event)
    bad = good.replace("北京上传评定有限公司", "北京改名有限公司") + f"{code[:-1]}Z,x,assessment_body,110105,active\n"
    resp = client.post("/registry/import?lang=en",
                       data={"which": "orgs", "file": (io.BytesIO(bad.encode()), "o.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    page = html(resp)
    assert "row 3, credit_code" in page and "Nothing was imported." in page
    assert services.org_by_code(code).name == "北京上传评定有限公司"
    assert count_rows(Event) == n_events


def test_import_templates_download(client, admin):
    resp = client.get("/registry/import/template-persons.csv")
    assert resp.status_code == 200
    assert resp.get_data().decode("utf-8-sig").startswith("person_id,name,kind,org_credit_code")
    assert client.get("/registry/import/template-orgs.xlsx?headers=zh").status_code == 200
    assert client.get("/registry/import/template-users.csv").status_code == 404


# --------------------------------------------------------------------------- enterprises (read-only)
def test_enterprise_history_across_bodies(client, supervisor):
    ent = EnterpriseFactory(name="示例历史制造有限公司")
    first, second = OrgFactory(name="甲评定机构"), OrgFactory(name="乙评定机构")
    CertificateFactory(enterprise=ent, body=first, grade="A", status="expired", decision_date=date(2020, 5, 1),
                       onsite_start=date(2020, 4, 1), onsite_end=date(2020, 4, 2), certificate_no="IIMS-H-1")
    CertificateFactory(enterprise=ent, body=second, grade="AAA", filed_grade="AAAA", certificate_no="IIMS-H-2")
    listing = html(client.get("/registry/enterprises/?q=历史制造"))
    assert ent.name in listing and "AAA" in listing
    page = html(client.get(f"/registry/enterprises/{ent.id}?lang=en"))
    assert page.index("IIMS-H-2") < page.index("IIMS-H-1")  # newest first
    assert "甲评定机构" in page and "乙评定机构" in page and "filed AAAA" in page
    assert "Read-only" in page
    assert client.post(f"/registry/enterprises/{ent.id}").status_code == 405


def test_registry_pages_are_chinese_by_default(client, supervisor):
    page = html(client.get("/registry/"))
    assert "机构与人员名录" in page and "统一社会信用代码" in page
    assert_csp_clean(page)


def test_person_count_unchanged_by_page_views(client, supervisor):
    PersonFactory()
    client.get("/registry/persons/")
    assert count_rows(Person) == 1
