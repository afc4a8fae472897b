"""An objection's attachments: the rated body objects with a reason and evidence files (PDF, PNG, JPEG,
checked by the shared auditbo.evidence); a hostile or oversized file is a 4xx and nothing is stored
(not the objection either); the body's users and the office download them, nobody else."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from auditbo.events import Actor, timeline
from auditbo.extensions import db
from auditbo.ratings import services
from auditbo.ratings.models import Objection, ObjectionFile, Rating
from tests import rating_support as rs
from tests.conftest import count_rows
from tests.factories import UserFactory, clerk
from tests.spot_support import PDF, PNG, post_files, zip_bomb

MONTHS = [date(2025, m, 1) for m in range(6, 13)] + [date(2026, m, 1) for m in range(1, 4)]


def _h(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, 't')[1]}"}


def _published():
    m = rs.make_market(2)
    rs.history(m, MONTHS, per_month=2)
    runner, admin = UserFactory(role=Role.supervisor), UserFactory(role=Role.admin)
    run = services.run_period("2026-03", actor=Actor(runner.id, runner.username))
    services.publish(run, actor=Actor(admin.id, admin.username))
    rating = db.session.scalar(sa.select(Rating).where(Rating.run_id == run.id, Rating.org_id == m.sides[0].body.id))
    return m, rating


def test_the_body_objects_with_files_on_the_page_and_the_office_downloads_them(client, app, login):
    m, rating = _published()
    own = clerk(m.sides[0].body)
    login(own)
    page = f"/ratings/r/{rating.id}"
    resp = post_files(client, f"{page}/objections", [(PDF, "停电证明.pdf"), (PNG, "screenshot")],
                      fields={"reason": "三月份逾期系系统故障"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    o = db.session.scalar(sa.select(Objection).where(Objection.rating_id == rating.id))
    files = list(db.session.scalars(sa.select(ObjectionFile).where(ObjectionFile.objection_id == o.id)
                                    .order_by(ObjectionFile.id)))
    assert [(f.filename, f.content_type) for f in files] == [("停电证明.pdf", "application/pdf"),
                                                             ("screenshot.png", "image/png")]
    lodged = [e for e in timeline("rating_objection", o.id) if e.action == "lodged"]
    assert [f["sha256"] for f in lodged[0].after["files"]] == [f.sha256 for f in files]
    html = client.get(page).get_data(as_text=True)
    assert "停电证明.pdf" in html
    got = client.get(f"/ratings/objections/{o.id}/files/{files[0].id}")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["X-Content-Type-Options"] == "nosniff"

    api = f"/api/v1/objections/{o.id}/files"
    assert client.get(f"{api}/{files[0].id}", headers=_h(UserFactory(role=Role.supervisor))).data == PDF
    assert client.get(f"{api}/{files[0].id}", headers=_h(own)).status_code == 200
    assert client.get(f"{api}/{files[0].id}", headers=_h(clerk(m.sides[1].body))).status_code == 404
    assert client.get(f"{api}/{files[0].id}").status_code == 401
    assert client.get(f"/api/v1/objections/{o.id + 99}/files/{files[0].id}",
                      headers=_h(own)).status_code == 404


def test_the_api_attaches_files_to_an_open_objection_of_ones_own_body(client):
    m, rating = _published()
    own, other = clerk(m.sides[0].body), clerk(m.sides[1].body)
    lodged = client.post(f"/api/v1/ratings/{rating.id}/objections", json={"reason": "数据有误"}, headers=_h(own))
    assert lodged.status_code == 201 and lodged.get_json()["files"] == []
    url = f"/api/v1/objections/{lodged.get_json()['id']}/files"
    assert post_files(client, url, [(PDF, "a.pdf")]).status_code == 401
    assert post_files(client, url, [(PDF, "a.pdf")], headers=_h(other)).status_code == 404
    assert post_files(client, url, [(PDF, "a.pdf")], headers=_h(UserFactory(role=Role.supervisor))).status_code == 403
    assert post_files(client, url, [], headers=_h(own)).status_code == 422
    resp = post_files(client, url, [(PDF, "证明.pdf"), (PNG, "b.png")], headers=_h(own))
    assert resp.status_code == 201, resp.get_json()
    assert [f["filename"] for f in resp.get_json()["files"]] == ["证明.pdf", "b.png"]
    assert count_rows(ObjectionFile) == 2
    decided = client.post(f"/api/v1/objections/{lodged.get_json()['id']}/decision",
                          json={"decision": "dismissed", "reason": "依据充分"},
                          headers=_h(UserFactory(role=Role.supervisor)))
    assert decided.status_code == 200 and len(decided.get_json()["files"]) == 2
    assert post_files(client, url, [(PDF, "late.pdf")], headers=_h(own)).status_code == 409  # decided: closed
    assert count_rows(ObjectionFile) == 2


@pytest.mark.parametrize("name,content,status", [
    ("evil.pdf", b"<script>alert(1)</script>", 415),  # a name is not a type
    ("bomb.pdf", zip_bomb(), 415),  # an archive is never opened
    ("huge.pdf", b"%PDF-" + b"0" * (2 * 1024 * 1024), 413),  # above OBJECTION_MAX_FILE_BYTES (1 MiB below)
    ("empty.pdf", b"", 415),
])
def test_a_hostile_file_refuses_the_objection_and_nothing_is_stored(client, app, login, monkeypatch,
                                                                     name, content, status):
    monkeypatch.setitem(app.config, "OBJECTION_MAX_FILE_BYTES", 1024 * 1024)
    m, rating = _published()
    own = clerk(m.sides[0].body)
    login(own)
    resp = post_files(client, f"/ratings/r/{rating.id}/objections", [(PDF, "good.pdf"), (content, name)],
                      fields={"reason": "附件有问题"})
    assert resp.status_code == status
    assert count_rows(Objection) == 0 and count_rows(ObjectionFile) == 0
    lodged = client.post(f"/api/v1/ratings/{rating.id}/objections", json={"reason": "x"}, headers=_h(own))
    api = post_files(client, f"/api/v1/objections/{lodged.get_json()['id']}/files", [(PDF, "ok.pdf"), (content, name)],
                     headers=_h(own))
    assert api.status_code == status
    assert count_rows(ObjectionFile) == 0


def test_too_many_files_is_422_and_nothing_is_stored(client, app, login, monkeypatch):
    monkeypatch.setitem(app.config, "OBJECTION_MAX_FILES", 2)
    m, rating = _published()
    login(clerk(m.sides[0].body))
    resp = post_files(client, f"/ratings/r/{rating.id}/objections", [(PDF, "1.pdf"), (PDF, "2.pdf"), (PDF, "3.pdf")],
                      fields={"reason": "太多"})
    assert resp.status_code == 422
    assert count_rows(Objection) == 0 and count_rows(ObjectionFile) == 0
