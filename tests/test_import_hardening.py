"""Imports under load and attack (issue 12, items 1-3): capped error reports stored server-side,
readers that read only the header's columns, previews kept on disk and confirmed exactly once."""

from __future__ import annotations

import csv
import io
import os
import threading
import zipfile

import pytest
import sqlalchemy as sa

from auditbo import upload_store, uploads
from auditbo.extensions import db
from auditbo.filings.imports import COLUMNS, header_label
from auditbo.filings.models import Assessment
from auditbo.jobs import JOBS
from auditbo.orgs.models import Organisation
from auditbo.uploads import RowErrors
from tests.factories import UserFactory
from tests.filing_support import make_registry
from tests.test_confirm_concurrency import pg_app  # noqa: F401 - the fixture: a PostgreSQL database of its own
from tests.test_filing_web import _csv_file


@pytest.fixture
def reg(app):
    return make_registry()


def _post_file(client, path: str, data: bytes, name: str, headers=None):
    # encoded in memory: the test client would otherwise spool a large body to a temp file it never closes
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=name)})
    return client.post(path, data=body, headers=headers or {},
                       content_type=f"multipart/form-data; boundary={boundary}")


BAD_ROW = {"external_ref": "R", "assessment_type": "nope", "enterprise_name": "某企业",
           "enterprise_credit_code": "123", "enterprise_region_code": "99", "enterprise_industry_code": "?",
           "enterprise_size": "huge", "enterprise_employees": "many", "grade": "Z", "capabilities": "",
           "team": "NOBODY:lead", "person_days": "x", "onsite_start": "someday", "onsite_end": "later",
           "decision_date": "never", "certificate_no": ""}


def bad_csv(n: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([header_label(f, zh) for f, zh in COLUMNS])
    cells = [BAD_ROW.get(f, "") for f, _ in COLUMNS]
    for i in range(n):
        cells[0] = f"R{i}"
        w.writerow(cells)
    return buf.getvalue().encode()


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Assessment))


def signed_in(app, user):
    """A second browser, signed in as ``user``."""
    from tests.factories import PASSWORD

    other = app.test_client()
    assert other.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    return other


def report_rows(client, url: str, headers=None) -> list[list[str]]:
    with client.get(url, headers=headers or {}) as resp:  # a file sent from disk: closed with the response
        assert resp.status_code == 200, resp.status_code
        assert resp.mimetype == "text/csv"
        return list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))


# --------------------------------------------------------------------------- 1. capped error reports
def errors_per_bad_row(client, reg) -> int:
    """How many problems one BAD_ROW has (type, size, employees, grade, capabilities, days, dates, team …)."""
    body = _post_file(client, "/api/v1/imports", bad_csv(1), "one.csv", reg.headers()).get_json()
    assert body["error_count"] == len(body["errors"]) > 5
    return body["error_count"]


def test_api_import_of_many_bad_rows_answers_the_first_errors_the_total_and_a_report(app, client, reg):
    n = 5_000  # ~55,000 errors: the cap is reached near row 92 (the bench sends 100,000 rows)
    per_row = errors_per_bad_row(client, reg)
    resp = _post_file(client, "/api/v1/imports", bad_csv(n), "bad.csv", reg.headers())
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert len(body["errors"]) == app.config["IMPORT_MAX_REPORTED_ERRORS"] == 1000
    assert body["errors"][0]["field"] == "row 2: assessment_type"
    assert body["error_count"] == n * per_row and body["invalid_rows"] == n
    assert body["detail"] == f"{n} row(s) are invalid; nothing was filed"
    assert count() == 0  # nothing is filed when a row fails
    rows = report_rows(client, body["error_report"], reg.headers())
    assert rows[0] == ["row", "field", "message"] and len(rows) == 1 + n * per_row
    assert rows[-1][0] == str(n + 1)
    # another body's clerk (and an anonymous caller) cannot read it
    assert client.get(body["error_report"], headers=reg.headers(other=True)).status_code == 404
    assert client.get(body["error_report"]).status_code == 401


def test_the_cap_is_configurable_and_counts_stay_exact(app, client, reg, monkeypatch):
    per_row = errors_per_bad_row(client, reg)
    monkeypatch.setitem(app.config, "IMPORT_MAX_REPORTED_ERRORS", 5)
    body = _post_file(client, "/api/v1/imports", bad_csv(40), "bad.csv", reg.headers()).get_json()
    assert len(body["errors"]) == 5 and body["error_count"] == 40 * per_row
    assert body["invalid_rows"] == 40


def test_row_errors_keep_the_cap_and_stream_the_rest():
    seen = []
    errors = RowErrors(3, sink=lambda *e: seen.append(e))
    for row in range(2, 12):
        errors.add(row, "grade", "bad")
        errors.add(row, "team", "bad")
    assert [e.field for e in errors.kept] == ["row 2: grade", "row 2: team", "row 3: grade"]
    assert (errors.total, errors.rows, len(seen)) == (20, 10, 20)
    refused = errors.refuse("no")
    assert refused.truncated and refused.problem_extra() == {"error_count": 20, "invalid_rows": 10}


def test_field_loader_answers_as_marshmallow_does():
    from marshmallow import ValidationError

    from auditbo.errors import flatten_messages
    from auditbo.filings.imports import _payload
    from auditbo.filings.validation import _FIELD_LOAD, _SCHEMA, _plain, _value_at
    from auditbo.schemaload import compile_field_loader

    field_load = compile_field_loader(_SCHEMA)

    good = {f: v for f, v in zip([f for f, _ in COLUMNS], _csv_row_values(), strict=True)}
    variants = [dict(good), dict(good, grade="Z"), dict(good, person_days="x", onsite_start="2026-02-30"),
                dict(good, enterprise_size="huge", team="NOBODY"), dict(good, capabilities=""),
                {k: "" for k in good}, dict(good, enterprise_employees="12.5", consultant_ids="")]
    for rec in variants:
        payload = _payload(rec)
        for attempt in range(2):  # the second answer comes from what was remembered
            data, messages = field_load(payload)
            try:
                expected, expected_messages = _SCHEMA.load(payload), {}
            except ValidationError as exc:
                expected, expected_messages = exc.valid_data, exc.messages
            assert (data, messages) == (expected, expected_messages), (rec, attempt)
            # as validate_filing reads them: flattened, "is required" for an empty value
            assert _FIELD_LOAD(payload) == (expected, [
                (i["field"], _plain(i["message"], _value_at(payload, i["field"])))
                for i in flatten_messages(expected_messages)]), (rec, attempt)
    payload = _payload(dict(good, grade="Z"))
    payload["extra"] = {"ignored": [1, 2]}
    assert field_load(payload)[1] == {"grade": ["Must be one of: A, AA, AAA, AAAA, AAAAA."]}


def _csv_row_values() -> list[str]:
    return ["PJ-1", "initial", "某企业", "91350100M000100Y43", "350100", "C34", "large", "2300", "AA",
            "智能生产:CL2", "91110108MA01C0QX26", "C-1", "A-1:lead", "16", "", "2026-01-05", "2026-01-07",
            "2026-01-20", "CERT-1", ""]


def test_web_import_of_bad_rows_shows_the_first_links_the_report_and_keeps_the_cookie_small(app, client, login,
                                                                                              reg):
    login(reg.clerk)
    per_row = errors_per_bad_row(client, reg)
    resp = _post_file(client, "/assessments/import?lang=en", bad_csv(3000), "bad.csv")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="import-errors"' in page
    assert page.count("<li>row ") == 200  # the page lists the first ones
    assert f"200 of {3000 * per_row} problems shown" in page
    cookies = resp.headers.getlist("Set-Cookie")
    assert sum(len(c) for c in cookies) < 4096, [len(c) for c in cookies]  # was 3,000 errors in the session
    link = page.split('id="import-report" href="')[1].split('"')[0]
    assert len(report_rows(client, link)) == 1 + 3000 * per_row
    assert count() == 0
    with signed_in(app, reg.other_clerk).get(link) as other:
        assert other.status_code == 404


def test_registry_import_of_many_bad_rows_is_capped_and_reported(app, client, login, monkeypatch):
    from auditbo.accounts.models import Role

    admin = UserFactory(role=Role.admin)
    login(admin)
    monkeypatch.setitem(app.config, "IMPORT_MAX_REPORTED_ERRORS", 50)
    lines = ["credit_code,name,kind,region_code"] + [f"X{i},某机构,bogus,99" for i in range(600)]
    resp = client.post("/registry/import", data={"which": "orgs", "file": (io.BytesIO(("\n".join(lines) + "\n")
                                                                                     .encode()), "orgs.csv")},
                       content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "共 600 行,其中 600 行有误,未导入任何内容" in page  # a page in Chinese
    assert "应为 18 位,实为 2 位" in page  # the rows' problems too
    assert page.count('<td class="text-nowrap">row ') == 50
    link = page.split('id="import-report-link" href="')[1].split('"')[0]
    rows = report_rows(client, link)
    assert len(rows) == 1 + 600 * 3 and rows[1][:2] == ["2", "credit_code"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


# --------------------------------------------------------------------------- 2. only the header's columns
def _hostile_xlsx(header: list[str]) -> bytes:
    """1-2 KB: declares A1:XFD1048576, a header, and cells in row 60,000 (column A) and row 59,999 (column XFD)."""
    return hostile([(1, list(enumerate(header, start=1))), (59_999, [(16384, "x")]), (60_000, [(1, "y")])])


def test_readers_read_only_the_header_columns_and_skip_blank_rows():
    data = _hostile_xlsx(["credit_code", "name"])
    assert len(data) < 2500
    with uploads.read_sheet("h.xlsx", data, max_columns=60) as sheet:
        assert sheet.header == ["credit_code", "name"]
        assert list(sheet.rows) == [(60_000, ["y", ""])]
    text = "credit_code,name\n,,,,,,\n\n" + "a,b," + "," * 5000 + "z\n"
    with uploads.read_sheet("h.csv", text.encode(), max_columns=60) as sheet:
        assert list(sheet.rows) == [(4, ["a", "b"])]


def test_registry_import_of_a_sheet_declaring_every_cell_answers_with_the_row(app, client, login):
    from auditbo.accounts.models import Role

    login(UserFactory(role=Role.admin))
    data = _hostile_xlsx(["credit_code", "name", "kind", "region_code"])
    resp = client.post("/registry/import?lang=en", data={"which": "orgs", "file": (io.BytesIO(data), "o.xlsx")},
                       content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "1 of 1 rows are invalid" in page
    assert "row 60000, credit_code" in page and "16384" not in page


def test_filing_import_of_a_sheet_declaring_every_cell_answers_with_the_row(client, reg):
    data = _hostile_xlsx([header_label(f, zh) for f, zh in COLUMNS])
    resp = _post_file(client, "/api/v1/imports", data, "a.xlsx", reg.headers())
    assert resp.status_code == 422
    fields = {e["field"].split(":")[0] for e in resp.get_json()["errors"]}
    assert fields == {"row 60000"}


# --------------------------------------------------------------------------- 3. previews on disk, confirmed once
def _preview(client, reg, n: int = 3) -> str:
    resp = _post_file(client, "/assessments/import", _csv_file(reg, n), "a.csv")
    page = resp.get_data(as_text=True)
    assert 'id="import-ok"' in page, page[:2000]
    return page.split('name="token" value="')[1].split('"')[0]


def test_preview_state_lives_on_disk_keyed_by_an_id_in_the_session(app, client, login, reg):
    login(reg.clerk)
    token = _preview(client, reg)
    folder = upload_store.root() / "previews" / token
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "upload.csv"]
    with client.session_transaction() as sess:
        assert sess["import_preview"] == token and "import_errors" not in sess


def test_confirming_twice_files_once_and_says_why(app, client, login, reg):
    login(reg.clerk)
    token = _preview(client, reg)
    first = client.post("/assessments/import/confirm", data={"token": token})
    assert first.status_code == 302 and first.headers["Location"].endswith("/assessments")
    assert count() == 3
    with client.session_transaction() as sess:
        sess["import_preview"] = token  # a replayed cookie (or a second tab) still names the preview
    again = client.post("/assessments/import/confirm?lang=en", data={"token": token}, follow_redirects=True)
    assert again.status_code == 200
    assert "already confirmed or has expired" in again.get_data(as_text=True)
    assert count() == 3
    assert not (upload_store.root() / "previews" / token).exists()


def test_an_expired_or_foreign_preview_is_refused_clearly(app, client, login, reg):
    login(reg.clerk)
    token = _preview(client, reg)
    upload_store.discard_preview(token)  # the cleanup job got there first
    resp = client.post("/assessments/import/confirm?lang=en", data={"token": token}, follow_redirects=True)
    assert "already confirmed or has expired" in resp.get_data(as_text=True) and count() == 0
    token = _preview(client, reg)
    long_ago = (upload_store.root() / "previews" / token / "manifest.json").stat().st_mtime - 25 * 3600
    os.utime(upload_store.root() / "previews" / token / "manifest.json", (long_ago, long_ago))
    resp = client.post("/assessments/import/confirm?lang=en", data={"token": token}, follow_redirects=True)
    assert "already confirmed or has expired" in resp.get_data(as_text=True) and count() == 0  # older than its TTL
    token = _preview(client, reg)
    other = signed_in(app, reg.other_clerk)
    with other.session_transaction() as sess:
        sess["import_preview"] = token
    resp = other.post("/assessments/import/confirm?lang=en", data={"token": token}, follow_redirects=True)
    assert "already confirmed or has expired" in resp.get_data(as_text=True) and count() == 0
    assert (upload_store.root() / "previews" / token / "manifest.json").exists()  # still its owner's


def test_two_claims_at_once_give_the_preview_to_one(app, reg):
    token = upload_store.save_preview(b"a,b\n", "a.csv", user=reg.clerk)
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def claim():
        with app.app_context():
            barrier.wait()
            try:
                with upload_store.claimed_preview(token, user=reg.clerk) as path:
                    outcome.append(path.read_text())
            except upload_store.PreviewGone:
                outcome.append("gone")

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome) == ["a,b\n", "gone"]


@pytest.mark.postgres_only
def test_two_confirmations_at_once_on_postgresql_file_once(pg_app):  # noqa: F811 - the imported fixture
    """Two requests with the same session confirm the same preview at the same moment (a double
    click): one files, the other is sent back with the message; committed data, two threads."""
    from tests.factories import PASSWORD

    with pg_app.app_context():
        reg = make_registry()
        data, username = _csv_file(reg, 3), reg.clerk.username
        db.session.commit()
        db.session.remove()
    first = pg_app.test_client()
    assert first.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    page = _post_file(first, "/assessments/import", data, "a.csv").get_data(as_text=True)
    token = page.split('name="token" value="')[1].split('"')[0]
    second = pg_app.test_client()
    second.set_cookie("session", first.get_cookie("session").value)  # the same browser, two tabs
    barrier = threading.Barrier(2, timeout=20)
    answers: list[str] = []

    def confirm(client):
        barrier.wait()
        resp = client.post("/assessments/import/confirm", data={"token": token})
        answers.append(f"{resp.status_code} {resp.headers.get('Location')}")

    threads = [threading.Thread(target=confirm, args=(c,)) for c in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(answers) == ["302 /assessments", "302 /assessments/import"], answers
    with pg_app.app_context():
        assert count() == 3
        db.session.remove()


def test_the_cleanup_job_deletes_old_previews_and_reports_only(app, reg):
    job = next(j for j in JOBS if j.name == "upload_cleanup")
    old = upload_store.save_preview(b"x", "a.csv", user=reg.clerk)
    fresh = upload_store.save_preview(b"y", "a.xlsx", user=reg.clerk)
    with upload_store.ReportWriter() as report:
        report.write(2, "grade", "bad")
        old_report = report.keep(user=reg.clerk)
    legacy = upload_store.root() / "Gq3YH0sA0kzWl1Ug3Ufdyw.csv"  # a preview as earlier versions kept it
    legacy.write_bytes(b"z")
    unrelated = upload_store.root() / "notes.csv"  # UPLOAD_DIR may be shared: what is not ours stays
    unrelated.write_bytes(b"keep")
    day = 3600 * 24
    import time

    long_ago = time.time() - 4 * day
    for path in [upload_store.root() / "previews" / old, legacy, unrelated,
                 *(upload_store.root() / "reports").glob(f"{old_report}.*")]:
        os.utime(path, (long_ago, long_ago))
    assert job.run(None) == {"previews": 2, "reports": 1}
    assert job.run(None) == {"previews": 0, "reports": 0}  # idempotent
    assert (upload_store.root() / "previews" / fresh / "manifest.json").exists()
    assert not (upload_store.root() / "previews" / old).exists() and not legacy.exists()
    assert unrelated.exists()
    assert not list((upload_store.root() / "reports").glob(f"{old_report}.*"))


def test_a_report_id_is_never_a_path(app, client, reg):
    for bad in ("..%2F..%2Fetc%2Fpasswd", "short", "a" * 65):
        assert client.get(f"/api/v1/imports/reports/{bad}", headers=reg.headers()).status_code == 404


# --------------------------------------------------------------------------- a hand-made workbook

CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
      '</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>')
WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
      '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
      '<sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>')
WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
           '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
           '</Relationships>')

def col(n):
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s

def sheet(rows):
    out = []
    for r, cells in rows:
        cs = "".join(f'<c r="{col(c)}{r}" t="inlineStr"><is><t>{v}</t></is></c>' for c, v in cells)
        out.append(f'<row r="{r}">{cs}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<dimension ref="A1:XFD1048576"/><sheetData>' + "".join(out) + '</sheetData></worksheet>')

def hostile(rows):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("[Content_Types].xml", CT), ("_rels/.rels", RELS), ("xl/workbook.xml", WB),
                           ("xl/_rels/workbook.xml.rels", WB_RELS), ("xl/worksheets/sheet1.xml", sheet(rows))):
            z.writestr(name, text)
    return buf.getvalue()

