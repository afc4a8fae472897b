"""Complaints on the office's pages: list, registration with evidence files, handling, the body's view."""

import io
from datetime import timedelta

import pytest

from auditbo.accounts.models import Role
from auditbo.clock import today
from auditbo.complaints import services
from auditbo.complaints.models import Complaint, ComplaintFile
from auditbo.events import Actor
from auditbo.extensions import db
from tests.conftest import count_rows
from tests.factories import CertificateFactory, OrgFactory, UserFactory


def post_multipart(client, path: str, fields: dict, files: list[tuple[bytes, str]]):
    """Encoded in memory: the test client would spool a large body to a temp file it never closes."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    data = MultiDict(fields)
    for content, name in files:
        data.add("files", FileStorage(io.BytesIO(content), filename=name))
    boundary, body = encode_multipart(data)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(app):
    body = OrgFactory()
    return {
        "sup": UserFactory(role=Role.supervisor),
        "body": body,
        "cert": CertificateFactory(body=body),
        "clerk": UserFactory(role=Role.body_clerk, org=body),
    }


def _form(world, **over):
    data = {
        "kind": "assessment_body",
        "party": world["body"].credit_code,
        "certificate_no": world["cert"].certificate_no,
        "source": "phone",
        "complainant": "李四",
        "contact": "li@example.cn",
        "text": "评定人日不足",
    }
    data.update(over)
    return data


def test_register_with_evidence_then_handle(client, login, world):
    login(world["sup"])
    assert client.get("/complaints/new").status_code == 200
    data = _form(world, files=[(io.BytesIO(PDF), "证据.pdf")])
    resp = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    c = db.session.query(Complaint).one()
    assert c.status.value == "received" and c.source == "phone"
    f = db.session.query(ComplaintFile).one()
    assert f.content_type == "application/pdf" and f.filename == "证据.pdf"
    page = client.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "李四" in page and world["cert"].certificate_no in page
    got = client.get(f"/complaints/{c.id}/files/{f.id}")
    assert got.status_code == 200 and got.data == PDF and "attachment" in got.headers["Content-Disposition"]
    assert client.get(f"/complaints/{c.id + 1}/files/{f.id}").status_code == 404
    resp = client.post(
        f"/complaints/{c.id}/transition",
        data={"to": "investigating", "reason": "核查", "version": "1", "assignee_id": ""},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert c.status.value == "investigating" and c.assignee_id == world["sup"].id
    # a stale form (version 1) is refused, nothing changes
    resp = client.post(
        f"/complaints/{c.id}/transition", data={"to": "substantiated", "reason": "x", "version": "1"}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert c.status.value == "investigating"
    resp = client.post(
        f"/complaints/{c.id}/transition", data={"to": "substantiated", "reason": "属实", "version": "2"}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert c.status.value == "substantiated" and c.resolution == "属实"


@pytest.mark.parametrize(
    "name,content,status",
    [
        ("evil.pdf", b"<script>alert(1)</script>", 415),  # a name is not a type
        ("huge.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), 413),
    ],
)
def test_hostile_or_oversized_files_store_nothing(client, login, world, name, content, status):
    login(world["sup"])
    resp = post_multipart(client, "/complaints/new", _form(world), [(content, name)])
    assert resp.status_code == status
    assert count_rows(Complaint) == 0 and count_rows(ComplaintFile) == 0


def test_invalid_form_shows_errors_and_stores_nothing(client, login, world):
    login(world["sup"])
    resp = client.post("/complaints/new", data=_form(world, party="NOT-A-CODE", certificate_no="NOPE"))
    assert resp.status_code == 422
    assert count_rows(Complaint) == 0


def test_list_tabs_and_overdue(client, login, world, app):
    actor = Actor(world["sup"].id, world["sup"].username)
    base = {
        "against": {"kind": "assessment_body", "credit_code": world["body"].credit_code},
        "text": "t",
        "source": "letter",
    }
    old = services.register({**base, "received_on": today() - timedelta(days=90)}, actor=actor)
    services.register(base, actor=actor)
    login(world["sup"])
    page = client.get("/complaints/?tab=overdue").get_data(as_text=True)
    assert f'data-complaint="{old.id}"' in page and page.count("data-complaint=") == 1
    assert client.get("/complaints/").get_data(as_text=True).count("data-complaint=") == 2
    assert client.get("/complaints/?page=99999999999").status_code == 400


def test_who_may_see(client, login, world):
    login(world["clerk"])
    assert client.get("/complaints/").status_code == 403
    assert client.get("/complaints/new").status_code == 403
    assert client.get("/complaints/about-us").status_code == 200


def test_body_sees_substantiated_outcome_never_the_complainant(client, login, world):
    actor = Actor(world["sup"].id, world["sup"].username)
    base = {
        "against": {"kind": "assessment_body", "credit_code": world["body"].credit_code},
        "source": "letter",
        "complainant": "王五",
        "contact": "13900000000",
    }
    shown = services.register({**base, "text": "属实的投诉"}, actor=actor)
    services.transition(shown, "investigating", "查", 1, actor=actor)
    services.transition(shown, "substantiated", "已责令整改", 2, actor=actor)
    hidden = services.register({**base, "text": "不属实的投诉"}, actor=actor)
    services.transition(hidden, "unsubstantiated", "查无实据", 1, actor=actor)
    other = OrgFactory()
    services.register(
        {**base, "against": {"kind": "assessment_body", "credit_code": other.credit_code}, "text": "别家"},
        actor=actor,
    )
    db.session.flush()
    login(world["clerk"])
    page = client.get("/complaints/about-us").get_data(as_text=True)
    assert "属实的投诉" in page and "已责令整改" in page
    assert "不属实的投诉" not in page and "别家" not in page
    assert "王五" not in page and "13900000000" not in page
