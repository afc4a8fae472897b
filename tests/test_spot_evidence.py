"""Evidence files on a spot check: an assigned inspector attaches PDF, PNG or JPEG files (kept in the
database like a complaint's); a hostile file (wrong type, zip bomb, oversized, a 100 MB body) is a
4xx and nothing is stored; anyone but an assigned inspector gets 404 on the upload."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from auditbo.events import timeline
from auditbo.extensions import db
from auditbo.spotchecks import checks as work
from auditbo.spotchecks.models import SpotCheckFile
from tests.conftest import count_rows
from tests.spot_support import (
    PDF,
    PNG,
    actor,
    checks_of,
    drawn_plan,
    inspectors_of,
    make_market,
    post_files,
    zip_bomb,
)

CHECKS = "/api/v1/spot-checks"


def _one_check(n=3):
    m = make_market(n)
    check = checks_of(drawn_plan(m, size=1))[0]
    return m, check, inspectors_of(check)[0]


def test_an_inspector_attaches_evidence_and_the_office_downloads_it(client):
    m, check, insp = _one_check()
    resp = post_files(
        client, f"{CHECKS}/{check.id}/files", [(PDF, "现场记录.pdf"), (PNG, "photo")], headers=m.h(insp)
    )
    assert resp.status_code == 201, resp.get_json()
    files = resp.get_json()["files"]
    assert [f["filename"] for f in files] == ["现场记录.pdf", "photo.png"]
    assert files[0]["content_type"] == "application/pdf" and files[0]["size"] == len(PDF)
    got = client.get(f"{CHECKS}/{check.id}/files/{files[0]['id']}", headers=m.h(m.admin))
    assert got.status_code == 200 and got.data == PDF
    assert (
        got.headers["Content-Disposition"].startswith("attachment")
        and got.headers["X-Content-Type-Options"] == "nosniff"
    )
    assert (
        client.get(f"{CHECKS}/{check.id + 1000}/files/{files[0]['id']}", headers=m.h(m.admin)).status_code
        == 404
    )
    assert (
        client.get(f"{CHECKS}/{check.id}/files/{files[0]['id']}", headers=m.h(m.reg.clerk)).status_code == 403
    )
    assert count_rows(SpotCheckFile) == 2
    added = [e for e in timeline("spot_check", check.id) if e.action == "evidence_added"]
    assert len(added) == 1 and [f["sha256"] for f in added[0].after["files"]] == [f["sha256"] for f in files]


def test_anyone_but_an_assigned_inspector_cannot_attach(client):
    m, check, insp = _one_check()
    outsider = next(s for s in m.reg.supervisors if s.id not in {u.id for u in inspectors_of(check)})
    for user in (outsider, m.admin, m.reg.clerk):
        assert (
            post_files(client, f"{CHECKS}/{check.id}/files", [(PDF, "a.pdf")], headers=m.h(user)).status_code
            == 404
        )
    assert post_files(client, f"{CHECKS}/{check.id}/files", [(PDF, "a.pdf")]).status_code == 401
    assert count_rows(SpotCheckFile) == 0


@pytest.mark.parametrize(
    "name,content,status",
    [
        ("evil.pdf", b"<script>alert(1)</script>", 415),  # a name is not a type
        ("bomb.zip", zip_bomb(), 415),  # an archive is never opened: refused by its first bytes
        ("bomb.pdf", zip_bomb(), 415),
        (
            "huge.pdf",
            b"%PDF-" + b"0" * (2 * 1024 * 1024),
            413,
        ),  # above SPOTCHECK_MAX_FILE_BYTES (set to 1 MiB below)
        ("empty.pdf", b"", 415),
    ],
)
def test_a_hostile_file_is_refused_and_nothing_is_stored(client, app, monkeypatch, name, content, status):
    monkeypatch.setitem(app.config, "SPOTCHECK_MAX_FILE_BYTES", 1024 * 1024)
    m, check, insp = _one_check()
    version = check.version
    resp = post_files(
        client, f"{CHECKS}/{check.id}/files", [(PDF, "good.pdf"), (content, name)], headers=m.h(insp)
    )
    assert resp.status_code == status, resp.get_json()
    assert count_rows(SpotCheckFile) == 0
    assert client.get(f"{CHECKS}/{check.id}", headers=m.h(insp)).get_json()["version"] == version


def test_a_100_mb_body_is_413_before_anything_is_read(client):
    m, check, insp = _one_check()
    declared = 100 * 1024 * 1024
    resp = client.post(
        f"{CHECKS}/{check.id}/files",
        input_stream=io.BytesIO(b"--x\r\n"),
        content_type="multipart/form-data; boundary=x",
        headers=m.h(insp),
        environ_overrides={"CONTENT_LENGTH": str(declared)},
    )
    assert resp.status_code == 413
    assert count_rows(SpotCheckFile) == 0


def test_too_many_files_and_a_closed_check_are_refused(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SPOTCHECK_MAX_FILES", 2)
    m, check, insp = _one_check()
    assert (
        post_files(client, f"{CHECKS}/{check.id}/files", [(PDF, "a.pdf")], headers=m.h(insp)).status_code
        == 201
    )
    resp = post_files(
        client, f"{CHECKS}/{check.id}/files", [(PDF, "b.pdf"), (PNG, "c.png")], headers=m.h(insp)
    )
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "files"
    assert post_files(client, f"{CHECKS}/{check.id}/files", [], headers=m.h(insp)).status_code == 422
    assert count_rows(SpotCheckFile) == 1
    db.session.refresh(check)
    work.close(check, "conforming", "none", None, None, check.version, actor(insp))
    assert (
        post_files(client, f"{CHECKS}/{check.id}/files", [(PDF, "d.pdf")], headers=m.h(insp)).status_code
        == 409
    )
    assert count_rows(SpotCheckFile) == 1


def test_the_inspector_attaches_on_the_page(client, login):
    m, check, insp = _one_check()
    login(insp)
    assert 'id="evidence-form"' in client.get(f"/spotchecks/{check.id}").get_data(as_text=True)
    bad = post_files(client, f"/spotchecks/{check.id}/files", [(b"MZ\x90\x00", "tool.pdf")])
    assert bad.status_code == 415 and 'data-error="files"' in bad.get_data(as_text=True)
    assert count_rows(SpotCheckFile) == 0
    ok = post_files(client, f"/spotchecks/{check.id}/files", [(PDF, "记录.pdf")])
    assert ok.status_code == 303
    page = client.get(f"/spotchecks/{check.id}").get_data(as_text=True)
    stored = db.session.scalars(sa.select(SpotCheckFile)).one()
    assert f'data-file="{stored.id}"' in page and "记录.pdf" in page
    assert client.get(f"/spotchecks/{check.id}/files/{stored.id}").data == PDF
