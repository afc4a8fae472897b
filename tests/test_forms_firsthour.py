"""Forms that help: every error at once, pickers from the registry, required fields marked, empty files refused."""

import io

from tests.filing_support import make_registry, payload


def test_an_error_in_the_enterprise_block_does_not_hide_its_code_checks(client):
    reg = make_registry()
    p = payload(reg)
    p["enterprise"].update(name="", credit_code="91350100M000100Y44", region_code="999999", industry_code="Z9")
    resp = client.post("/api/v1/assessments", json=p, headers=reg.headers())
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert {"enterprise.name", "enterprise.credit_code", "enterprise.region_code",
            "enterprise.industry_code"} <= fields, fields


def test_the_filing_form_offers_the_registry_and_marks_required_fields(client, login):
    reg = make_registry()
    login(reg.clerk)
    html = client.get("/assessments/new").get_data(as_text=True)
    assert 'list="assessors"' in html and f'value="{reg.senior.person_id}"' in html
    assert reg.other_assessor.person_id not in html  # another body's staff are not offered
    assert 'list="capability-names"' in html and "智能生产与现场作业管控能力" in html
    assert 'list="consulting-bodies"' in html and f'value="{reg.consulting.credit_code}"' in html
    assert f'value="{reg.consultant.person_id}"' in html
    assert 'list="region-codes"' in html and 'value="350000"' in html
    assert 'list="industry-codes"' in html and 'value="C"' in html
    assert html.count(' required') >= 12 and 'id="required-legend"' in html


def test_a_header_only_csv_is_refused_with_a_message(client, login):
    from auditbo.filings.imports import COLUMNS, header_label

    reg = make_registry()
    login(reg.clerk)
    header = ",".join(header_label(f, zh) for f, zh in COLUMNS) + "\n"
    resp = client.post("/assessments/import", data={"file": (io.BytesIO(header.encode()), "empty.csv")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "没有数据行" in html or "no data rows" in html, html[:3000]
    api = client.post("/api/v1/imports", data={"file": (io.BytesIO(header.encode()), "empty.csv")},
                      headers=reg.headers(), content_type="multipart/form-data")
    assert api.status_code in (400, 422) and "no data rows" in api.get_data(as_text=True)


def test_form_errors_are_chinese_field_names_and_messages(client, login):
    reg = make_registry()
    login(reg.clerk)
    data = {"external_ref": "X" * 80, "assessment_type": "initial", "grade": "AAA", "enterprise_size": "large",
            "team-0-person_id": reg.member.person_id, "team-0-role": "member",
            "capabilities-0-name": "智能生产与现场作业管控能力", "capabilities-0-level": "CL3"}
    html = client.post("/assessments/new", data=data).get_data(as_text=True)
    problems = html[html.index('id="filing-form"') - 2000:]
    assert "评定组" in problems and "team:" not in problems
    assert "Length must be" not in html and "is required" not in html
