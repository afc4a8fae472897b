"""The public complaint form: no account, a tracking code that shows only the status, hostile files
refused with nothing stored, and the 11th submission from one address in the window refused."""

import io

import pytest

from auditbo.complaints.models import Complaint, ComplaintFile
from auditbo.extensions import db
from tests.conftest import count_rows
from tests.factories import CertificateFactory, OrgFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def cert(app):
    return CertificateFactory(body=OrgFactory(name="某评定机构有限公司"))


def _data(cert, **over):
    d = {
        "certificate_no": cert.certificate_no,
        "body": "",
        "text": "评定组只来了半天",
        "name": "",
        "contact": "13700000000",
    }
    d.update(over)
    return d


def test_file_a_complaint_and_track_it(client, cert):
    assert client.get("/complain").status_code == 200
    resp = client.post(
        "/complain",
        data={**_data(cert), "files": [(io.BytesIO(PNG), "photo.png")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)[:1500]
    c = db.session.query(Complaint).one()
    assert c.source == "public" and c.against_org_id == cert.body_id and c.assessment_id == cert.id
    assert c.contact == "13700000000" and c.status.value == "received" and count_rows(ComplaintFile) == 1
    assert c.tracking_code in resp.get_data(as_text=True)
    page = client.get(f"/complain/track?code={c.tracking_code}&lang=en")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-status="received"' in text
    for private in ("13700000000", "评定组只来了半天", cert.certificate_no, "某评定机构"):
        assert private not in text  # the status only
    assert client.get("/complain/track?code=TS-NOPE-NOPE-NOPE").status_code == 404


def test_by_body_name_and_every_error(client, cert):
    assert (
        client.post("/complain", data=_data(cert, certificate_no="", body="某评定机构有限公司")).status_code
        == 201
    )
    resp = client.post("/complain", data=_data(cert, certificate_no="", body="", contact="", text=""))
    assert resp.status_code == 422
    resp = client.post("/complain", data=_data(cert, certificate_no="NO-SUCH"))
    assert resp.status_code == 422
    assert count_rows(Complaint) == 1


def test_a_hostile_file_stores_nothing(client, cert):
    resp = client.post(
        "/complain",
        data={**_data(cert), "files": [(io.BytesIO(b"MZ\x90\x00evil"), "cv.pdf")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 415
    assert count_rows(Complaint) == 0 and count_rows(ComplaintFile) == 0


def test_the_eleventh_submission_is_refused(client, cert):
    for i in range(10):
        assert client.post("/complain", data=_data(cert, text=f"第{i}次")).status_code == 201
    resp = client.post("/complain", data=_data(cert, text="第11次"))
    assert resp.status_code == 429
    assert count_rows(Complaint) == 10
    # another address is not held up
    other = client.post("/complain", data=_data(cert, text="别处"), environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 201
