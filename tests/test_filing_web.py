"""Filing in the web UI: the form, the list with filters and export, the record, import with preview."""

import csv
import io

import pytest
import sqlalchemy as sa

from auditbo.extensions import db
from auditbo.filings.imports import COLUMNS, header_label
from auditbo.filings.models import Assessment
from tests.conftest import count_queries
from tests.filing_support import make_registry, payload


@pytest.fixture
def reg(app):
    return make_registry()


def _form_data(p: dict) -> dict:
    data = {
        "external_ref": p["external_ref"], "assessment_type": p["assessment_type"], "grade": p["grade"],
        "enterprise_name": p["enterprise"]["name"], "enterprise_credit_code": p["enterprise"]["credit_code"],
        "enterprise_region_code": p["enterprise"]["region_code"],
        "enterprise_industry_code": p["enterprise"]["industry_code"], "enterprise_size": p["enterprise"]["size"],
        "enterprise_employees": str(p["enterprise"]["employees"]), "person_days": str(p["person_days"]),
        "onsite_start": p["onsite_start"], "onsite_end": p["onsite_end"], "decision_date": p["decision_date"],
        "certificate_no": p["certificate_no"],
        "consulting_body_credit_code": p["consulting_body"]["credit_code"],
        "consultant_ids": ",".join(p["consulting_body"]["consultant_ids"]),
    }
    for i, m in enumerate(p["team"]):
        data[f"team-{i}-person_id"], data[f"team-{i}-role"] = m["person_id"], m["role"]
    for i, c in enumerate(p["capabilities"]):
        data[f"capabilities-{i}-name"], data[f"capabilities-{i}-level"] = c["name"], c["level"]
    return data


def test_clerk_files_through_the_form(client, login, reg):
    login(reg.clerk)
    resp = client.post("/assessments/new", data=_form_data(payload(reg)))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    a = db.session.scalar(sa.select(Assessment))
    assert a.status.value == "pending_confirmation"
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert a.certificate_no in html and "确认审核" in html


def test_form_shows_every_error_and_keeps_what_was_typed(client, login, reg):
    login(reg.clerk)
    p = payload(reg)
    data = _form_data(p)
    data["enterprise_credit_code"] = "91350100M000100Y44"
    data["team-1-person_id"] = "NOBODY"
    data["person_days"] = "1"
    data["onsite_start"] = "not-a-date"
    html = client.post("/assessments/new?lang=en", data=data).get_data(as_text=True)
    assert "check character is 4, expected 3" in html
    assert "NOBODY is not a registered assessor" in html
    assert "below the minimum" in html
    assert "Not a valid date" in html
    assert 'value="NOBODY"' in html and 'value="91350100M000100Y44"' in html  # kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assessment)) == 0


def test_list_filters_scope_and_export(client, login, reg):
    for grade in ["AA", "AAA"]:
        lead = reg.lead if grade == "AA" else reg.senior
        assert client.post("/api/v1/assessments", json=payload(reg, grade=grade, team=[
            {"person_id": lead.person_id, "role": "lead"}]), headers=reg.headers()).status_code == 201
    login(reg.other_clerk)
    assert 'data-total="0"' in client.get("/assessments").get_data(as_text=True)
    exported = client.get("/assessments/export.csv").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))) == 1  # header only: nothing of others
    client.post("/logout")
    login(reg.clerk)
    assert 'data-total="2"' in client.get("/assessments").get_data(as_text=True)
    assert 'data-total="1"' in client.get("/assessments?grade=AA&status=standing").get_data(as_text=True)
    assert 'data-total="0"' in client.get("/assessments?grade=AA&status=rejected").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(client.get("/assessments/export.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3
    xlsx = client.get("/assessments/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_list_page_has_no_n_plus_one(client, login, reg, app):
    login(reg.supervisors[0])
    for n in (2, 12):
        while db.session.scalar(sa.select(sa.func.count()).select_from(Assessment)) < n:
            client.post("/api/v1/assessments", json=payload(reg, grade="AA", team=[
                {"person_id": reg.lead.person_id, "role": "lead"}]), headers=reg.headers())
        with count_queries() as statements:
            assert client.get("/assessments").status_code == 200
        if n == 2:
            few = len(statements)
        else:
            assert len(statements) == few  # the same number of queries for 2 and 12 rows


def test_another_bodys_record_page_is_404(client, login, reg):
    rec = client.post("/api/v1/assessments", json=payload(reg), headers=reg.headers()).get_json()
    login(reg.other_clerk)
    assert client.get(f"/assessments/{rec['id']}").status_code == 404
    assert client.get(f"/assessments/{rec['id']}/amend").status_code == 404
    assert client.post(f"/assessments/{rec['id']}/withdraw", data={"reason": "x y"}).status_code == 404


def test_withdraw_from_the_record_page(client, login, reg):
    rec = client.post("/api/v1/assessments", json=payload(reg), headers=reg.headers()).get_json()
    login(reg.clerk)
    resp = client.post(f"/assessments/{rec['id']}/withdraw", data={"reason": "误报撤回"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Assessment, rec["id"]).status.value == "withdrawn"


def _csv_file(reg, n: int, bad_row: int | None = None) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([header_label(f, zh) for f, zh in COLUMNS])
    for i in range(n):
        p = payload(reg, grade="AA", team=[{"person_id": reg.lead.person_id, "role": "lead"}])
        e = p["enterprise"]
        row = {"external_ref": p["external_ref"], "assessment_type": "initial", "enterprise_name": e["name"],
               "enterprise_credit_code": e["credit_code"], "enterprise_region_code": e["region_code"],
               "enterprise_industry_code": e["industry_code"], "enterprise_size": e["size"],
               "enterprise_employees": e["employees"], "grade": "AA", "capabilities": "智能生产:CL2",
               "consulting_body_credit_code": reg.consulting.credit_code, "consultant_ids": reg.consultant.person_id,
               "team": f"{reg.lead.person_id}:lead", "person_days": 16, "reduction_reason": "",
               "onsite_start": p["onsite_start"], "onsite_end": p["onsite_end"], "decision_date": p["decision_date"],
               "certificate_no": p["certificate_no"], "valid_until": ""}
        if i == bad_row:
            row["enterprise_credit_code"] = "91350100M000100Y44"
        w.writerow([row[f] for f, _ in COLUMNS])
    return buf.getvalue().encode()


def test_import_preview_then_confirm(client, login, reg):
    login(reg.clerk)
    html = client.post("/assessments/import", data={"file": (io.BytesIO(_csv_file(reg, 3)), "a.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert 'id="import-ok"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assessment)) == 0  # a preview files nothing
    token = html.split('name="token" value="')[1].split('"')[0]
    assert client.post("/assessments/import/confirm", data={"token": token}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assessment)) == 3


def test_import_with_a_bad_row_lists_it_and_files_nothing(client, login, reg):
    login(reg.clerk)
    html = client.post("/assessments/import", data={"file": (io.BytesIO(_csv_file(reg, 5, bad_row=3)), "a.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "row 5: enterprise.credit_code" in html
    link = html.split('id="import-report" href="')[1].split('"')[0]
    with client.get(link) as resp:  # a file sent from disk: closed with the response
        report = resp.get_data(as_text=True)
    assert "5,enterprise.credit_code," in report  # row, field, message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assessment)) == 0


def test_the_form_speaks_chinese_by_default_and_english_on_request(client, login, reg):
    login(reg.clerk)
    data = _form_data(payload(reg))
    data["enterprise_credit_code"] = "91350100M000100Y44"
    data["team-1-person_id"] = "NOBODY"
    html = client.post("/assessments/new", data=data).get_data(as_text=True)
    assert "校验码为 4,应为 3" in html and "NOBODY 不是已登记的评定人员" in html
    html = client.post("/assessments/new?lang=en", data=data).get_data(as_text=True)
    assert "check character is 4, expected 3" in html


def test_every_message_pattern_has_a_chinese_wording():
    from auditbo.messages import PATTERNS

    for pattern, zh in PATTERNS:
        assert zh and not zh.isascii(), pattern.pattern


def test_list_labels_follow_the_language_of_each_request(client, login, reg):
    assert client.post("/api/v1/assessments", json=payload(reg, grade="AA", team=[
        {"person_id": reg.lead.person_id, "role": "lead"}]), headers=reg.headers()).status_code == 201
    login(reg.clerk)
    for lang, words, not_words in (("zh_Hans_CN", ["有效", "证书"], ["Standing", "Certificate"]),
                                   ("en", ["Standing", "Certificate"], ["有效"]),
                                   ("zh_Hans_CN", ["有效", "证书"], ["Standing", "Certificate"])):
        html = client.get(f"/assessments?lang={lang}").get_data(as_text=True)
        assert all(w in html for w in words) and not any(w in html for w in not_words), lang
