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


def test_a_record_that_is_no_certificate_answers_as_an_unknown_number(client, cert):
    """The form must not tell the public that a withdrawn or pending record exists."""
    from auditbo.filings.models import AssessmentStatus

    for status in (AssessmentStatus.withdrawn, AssessmentStatus.pending_confirmation, AssessmentStatus.rejected):
        cert.status = status
        db.session.flush()
        hidden = client.post("/complain", data=_data(cert))
        unknown = client.post("/complain", data=_data(cert, certificate_no="NO-SUCH-1"))
        assert hidden.status_code == unknown.status_code == 422
    assert count_rows(Complaint) == 0


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


def test_the_throttle_counts_a_whole_ipv6_network(app, cert):
    """One host holds a /64: walking its addresses does not reset the limit."""
    client = app.test_client()
    codes = [client.post("/complain", data=_data(cert), environ_base={"REMOTE_ADDR": f"2001:db8::{i + 1:x}"}).status_code
             for i in range(12)]
    assert codes[:10] == [201] * 10 and codes[10:] == [429, 429]
    other = client.post("/complain", data=_data(cert), environ_base={"REMOTE_ADDR": "2001:db8:0:1::1"})
    assert other.status_code == 201  # another /64 is another client


def test_a_body_past_the_forms_limit_is_413_before_it_is_read(app, client, cert):
    limit = app.config["COMPLAINT_MAX_FILES"] * app.config["COMPLAINT_MAX_FILE_BYTES"] + 256 * 1024
    body = b"--b\r\n" + b"0" * limit  # declared longer than the limit: refused before a byte is parsed
    resp = client.post("/complain", input_stream=io.BytesIO(body), content_length=len(body),
                       content_type="multipart/form-data; boundary=b")
    assert resp.status_code == 413
    assert count_rows(Complaint) == 0
