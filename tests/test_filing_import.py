"""Bulk import through the API: all or nothing, every bad row reported, hostile files refused."""

import io
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

from auditbo.extensions import db
from auditbo.filings.models import Assessment
from tests.filing_support import make_registry
from tests.test_filing_web import _csv_file


@pytest.fixture
def reg(app):
    return make_registry()


def upload(client, reg, data: bytes, name: str = "batch.csv"):
    # encoded in memory: the test client would otherwise spool a large body to a temp file it never closes
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=name)})
    return client.post("/api/v1/imports", data=body, headers=reg.headers(),
                       content_type=f"multipart/form-data; boundary={boundary}")


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Assessment))


def test_good_csv_files_every_row_and_rerun_is_idempotent(client, reg):
    data = _csv_file(reg, 25)
    resp = upload(client, reg, data)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json() == {"rows": 25, "filed": 25, "unchanged": 0, "pending_confirmation": 0}
    again = upload(client, reg, data)
    assert again.status_code == 201 and again.get_json()["unchanged"] == 25 and again.get_json()["filed"] == 0
    assert count() == 25


def test_one_bad_row_among_ten_thousand_files_nothing(client, reg):
    resp = upload(client, reg, _csv_file(reg, 10_000, bad_row=7_777))
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["errors"] == [{"field": "row 7779: enterprise.credit_code",
                               "message": "check character is 4, expected 3"}]
    assert count() == 0


def test_duplicates_inside_the_file_are_reported(client, reg):
    text = _csv_file(reg, 2).decode().splitlines()
    resp = upload(client, reg, ("\n".join([text[0], text[1], text[1]]) + "\n").encode())
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "row 3: external_ref"


def test_gbk_file_from_chinese_excel_is_read(client, reg):
    resp = upload(client, reg, _csv_file(reg, 3).decode().encode("gb18030"))
    assert resp.status_code == 201, resp.get_json()


def test_undecodable_file_is_refused(client, reg):
    resp = upload(client, reg, b"\xff\xfe\xfa" * 100)
    assert resp.status_code == 400 and "UTF-8" in resp.get_json()["detail"]
    assert count() == 0


def test_formulas_are_refused(client, reg):
    text = _csv_file(reg, 2).decode().replace("示例机械", "=HYPERLINK(\"http://x\")", 1)
    resp = upload(client, reg, text.encode())
    assert resp.status_code == 422
    assert "formula" in resp.get_json()["errors"][0]["message"]


def test_wrong_file_type_and_missing_file(client, reg):
    assert upload(client, reg, b"hello", "notes.txt").status_code == 415
    resp = client.post("/api/v1/imports", data={}, headers=reg.headers(), content_type="multipart/form-data")
    assert resp.status_code == 415


def test_missing_columns_are_named(client, reg):
    resp = upload(client, reg, b"external_ref,grade\nX,AA\n")
    assert resp.status_code == 422
    fields = {e["message"] for e in resp.get_json()["errors"]}
    assert "missing column certificate_no" in fields


def _xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_in_the_template(client, reg):
    import csv as csvmod

    rows = list(csvmod.reader(io.StringIO(_csv_file(reg, 4).decode())))
    resp = upload(client, reg, _xlsx(rows), "batch.xlsx")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["filed"] == 4


def test_xlsx_formula_cell_is_refused(client, reg):
    import csv as csvmod

    rows = list(csvmod.reader(io.StringIO(_csv_file(reg, 1).decode())))
    rows[1][2] = "=1+1"
    resp = upload(client, reg, _xlsx(rows), "batch.xlsx")
    assert resp.status_code == 422


def test_zip_bomb_is_refused(client, reg):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
    resp = upload(client, reg, buf.getvalue(), "bomb.xlsx")
    assert resp.status_code == 413


def test_not_a_workbook(client, reg):
    assert upload(client, reg, b"PK\x03\x04garbage", "x.xlsx").status_code == 400


def test_too_many_rows(app, client, reg, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 10)
    assert upload(client, reg, _csv_file(reg, 11)).status_code == 413


def test_upload_over_the_size_limit_is_413(app, client, reg, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    resp = upload(client, reg, _csv_file(reg, 30))
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"


def test_templates_download(client):
    csv_t = client.get("/api/v1/imports/template.csv")
    assert csv_t.status_code == 200 and "评定编号 external_ref" in csv_t.get_data(as_text=True)
    xlsx_t = client.get("/api/v1/imports/template.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_t.data))
    assert wb.active.cell(1, 1).value == "评定编号 external_ref"


def test_exported_cells_never_run_as_formulas():
    from auditbo.uploads import safe_cell

    assert safe_cell("=1+2") == "'=1+2"
    assert safe_cell("+CMD") == "'+CMD" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2+3") == "'-2+3" and safe_cell("-5") == "-5" and safe_cell("-5.5") == "-5.5"
    assert safe_cell("示例") == "示例" and safe_cell(42) == 42
