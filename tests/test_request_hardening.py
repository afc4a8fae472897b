"""What a hostile caller sends to any route (issue 12, items 5 and 11): huge numbers, anonymous
bodies, another body's records, CR/LF in a redirect target, LIKE wildcards, oversized JSON;
and one transaction per request, committed in one place."""

from __future__ import annotations

import pathlib
import re

import pytest
import sqlalchemy as sa
from werkzeug.routing import AnyConverter, IntegerConverter

from auditbo.filings.models import Assessment
from tests.confirm_support import file_aaa, make_office
from tests.factories import CertificateFactory, OrgFactory, PersonFactory, clerk

HUGE = ("2147483648", "99999999999999999999")
NUMERIC_ARGS = ("page", "per_page", "body", "org")
SKIP = {"static", "api_docs.docs_assets", "accounts.logout", "accounts.logout_everywhere", "bootstrap.static"}


def _paths(rule, value: str) -> str:
    """The rule's path with ``value`` in every int argument (a valid word elsewhere)."""
    out = []
    for dynamic, data in rule._trace:
        if not dynamic:
            out.append(data)
            continue
        conv = rule._converters[data]
        if isinstance(conv, IntegerConverter):
            out.append(value)
        elif isinstance(conv, AnyConverter):
            out.append(conv.regex.strip("()").split("|")[0].replace("\\", "").lstrip("?:"))
        else:
            out.append("x")
    return "".join(out).split("|", 1)[-1]


@pytest.fixture
def office(app):
    o = make_office(1)
    file_aaa(o)
    return o


@pytest.mark.parametrize("role", ["anonymous", "clerk", "supervisor", "admin"])
def test_huge_numbers_anywhere_are_never_a_server_error(app, client, login, office, role):
    """Every route, with the largest ids and page numbers a caller can type: 404 for an id in the
    path, 400/422 or an ordinary answer for the query, never 5xx."""
    headers = {}
    if role != "anonymous":
        user = {"clerk": office.reg.clerk, "supervisor": office.reg.supervisors[0], "admin": office.admin}[role]
        login(user)
        headers = office.h(user)
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        has_int = any(isinstance(c, IntegerConverter) for c in rule._converters.values())
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for value in HUGE:
                path = _paths(rule, value)
                query = "&".join(f"{name}={value}" for name in NUMERIC_ARGS) if method == "GET" else ""
                resp = client.open(f"{path}?{query}", method=method, headers=headers, data={})
                if resp.status_code >= 500 or (has_int and resp.status_code != 404):
                    failures.append(f"{method} {path}?{query} -> {resp.status_code}")
                if not has_int:
                    break  # the huge value only went into the query string
    assert failures == []


def test_an_out_of_range_page_or_filter_is_refused_with_a_message(client, login, office):
    resp = client.get("/directory?page=99999999999999999999&lang=en")
    assert resp.status_code == 400 and "page must be a whole number from 1 to 2147483647" in resp.get_data(
        as_text=True)
    assert client.get("/directory?page=2").status_code == 200
    assert client.get("/api/v1/assessments?page=99999999999999999999", headers=office.reg.headers()).status_code == 422
    login(office.reg.supervisors[0])
    for url in ("/assessments?body=99999999999999999999", "/registry/?org=2147483648", "/confirmations/?page=0",
                "/registry/persons/?page=abc"):
        assert client.get(url).status_code == 400, url
    assert client.get(f"/assessments?body={office.reg.body.id}").status_code == 200


# --- authorize before parsing (item 11) ----------------------------------------------------------
def test_an_anonymous_api_write_is_401_before_its_body_is_read(client, office):
    audit_id = file_aaa(office)[1].id
    for path, body in ((f"/api/v1/confirmations/{audit_id}/decision", {}),
                       (f"/api/v1/confirmations/{audit_id}/findings", {"severity": "nonsense"}),
                       ("/api/v1/assessments", {"external_ref": "\x00"}),
                       ("/api/v1/assessments/1/amendments", [])):
        resp = client.post(path, json=body)
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json", (path, resp.status_code)
    resp = client.post("/api/v1/assessments", data="{not json", content_type="application/json")
    assert resp.status_code == 401


PUBLIC_API = {"api-docs.openapi_json", "filings_api.ImportTemplate", "certificates_api.Certificate",
              "spotchecks_api.PublicResults", "ratings_api.PublicRatings"}


def test_every_api_endpoint_but_the_public_ones_wants_a_token_before_anything_else(app, client):
    """A hand-kept list of what answers without a token: a new endpoint is not public by accident,
    and none parses an anonymous body (401, never 422 or 415)."""
    answered = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = client.open(_paths(rule, "1"), method=method, data="{not json", content_type="application/json")
            answered[rule.endpoint] = answered.get(rule.endpoint, set()) | {resp.status_code}
    assert {e for e, statuses in answered.items() if statuses != {401}} == PUBLIC_API


def test_a_caller_without_the_right_is_refused_before_the_body_is_validated(client, office):
    audit_id = file_aaa(office)[1].id
    resp = client.post(f"/api/v1/confirmations/{audit_id}/decision", json={}, headers=office.reg.headers())
    assert resp.status_code == 403  # a clerk: not 422 for the empty body
    resp = client.post(f"/api/v1/confirmations/{audit_id}/reassignment", json={},
                       headers=office.h(office.reg.supervisors[0]))
    assert resp.status_code == 403  # reassigning is the admin's
    missing = client.post("/api/v1/confirmations/2147483647/decision", json={}, headers=office.h(office.admin))
    assert missing.status_code == 404
    theirs = client.post(f"/api/v1/assessments/{file_aaa(office)[0].id}/amendments", json=[],
                         headers=office.reg.headers(other=True))
    assert theirs.status_code == 404


def test_registry_status_changes_do_not_reveal_what_exists(client, login):
    org = OrgFactory()
    person = PersonFactory(org=org)
    login(clerk(org))
    for url in (f"/registry/orgs/{org.id}/status", "/registry/orgs/2147483000/status",
                f"/registry/persons/{person.id}/status", "/registry/persons/2147483000/status"):
        assert client.post(url, data={"st-status": "suspended", "st-reason": "x"}).status_code == 403, url


def test_a_line_break_in_the_login_target_is_a_safe_redirect(client, office):
    from tests.factories import PASSWORD

    for target in ("/dashboard%0d%0aSet-Cookie:%20x=1", "/x%0aLocation:%20https://evil.example", "/%5cevil.example"):
        resp = client.post(f"/login?next={target}", data={"username": office.admin.username, "password": PASSWORD})
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard"), target
        client.post("/logout")


def test_wildcards_in_the_search_are_taken_literally(client, login, office):
    body = office.reg.body
    CertificateFactory(body=body, certificate_no="IIMS-100%-1")
    CertificateFactory(body=body, certificate_no="IIMS-A_B-2")
    CertificateFactory(body=body, certificate_no="IIMS-PLAIN-3")
    login(office.admin)

    def found(q):
        page = client.get(f"/assessments?q={q}").get_data(as_text=True)
        return sorted(set(re.findall(r"IIMS-(?:100%-1|A_B-2|PLAIN-3)", page)))

    assert found("%25") == ["IIMS-100%-1"]
    assert found("_") == ["IIMS-A_B-2"]
    assert found("PLAIN") == ["IIMS-PLAIN-3"]


def test_a_too_large_json_body_is_413(app, client, office):
    big = '{"external_ref": "' + "x" * (app.config["MAX_JSON_LENGTH"] + 1) + '"}'
    resp = client.post("/api/v1/assessments", data=big, content_type="application/json",
                       headers=office.reg.headers())
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"
    assert "not valid JSON" not in resp.get_data(as_text=True)


# --- one transaction per request ------------------------------------------------------------------
def test_views_and_api_handlers_never_commit():
    root = pathlib.Path(__file__).resolve().parent.parent / "auditbo"
    offenders = [f"{p.relative_to(root)}:{n}" for p in sorted(root.glob("*/views.py")) + sorted(root.glob("*/api.py"))
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\.commit\(\)", line)]
    assert offenders == []


def test_a_request_commits_its_work_and_a_refused_one_leaves_nothing(client, session, office):
    from tests.filing_support import payload

    p = payload(office.reg)
    assert client.post("/api/v1/assessments", json=p, headers=office.reg.headers()).status_code == 201
    session.expire_all()  # read what the request left behind, not this session's memory
    assert session.scalar(sa.select(sa.func.count()).select_from(Assessment)
                          .where(Assessment.external_ref == p["external_ref"])) == 1
    bad = payload(office.reg, person_days=-1)
    assert client.post("/api/v1/assessments", json=bad, headers=office.reg.headers()).status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(Assessment)
                          .where(Assessment.external_ref == bad["external_ref"])) == 0


def test_a_race_lost_on_a_unique_certificate_number_is_422_naming_the_field(client, office, monkeypatch):
    """The request validated the number before the other request's commit (simulated: the check
    sees no owner); the database refuses the second row; the caller learns which field."""
    from auditbo.filings.context import FilingContext
    from tests.filing_support import payload

    first = payload(office.reg)
    assert client.post("/api/v1/assessments", json=first, headers=office.reg.headers()).status_code == 201
    monkeypatch.setattr(FilingContext, "certificate_owner", lambda self, no: None)
    second = payload(office.reg, certificate_no=first["certificate_no"])
    resp = client.post("/api/v1/assessments", json=second, headers=office.reg.headers())
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert [e["field"] for e in resp.get_json()["errors"]] == ["certificate_no"]


def test_a_race_on_a_new_enterprise_uses_the_row_the_other_request_created(client, session, office, monkeypatch):
    from auditbo.filings.context import FilingContext
    from auditbo.orgs.models import Enterprise
    from tests.filing_support import payload

    first = payload(office.reg, grade="AA")
    assert client.post("/api/v1/assessments", json=first, headers=office.reg.headers()).status_code == 201
    monkeypatch.setattr(FilingContext, "enterprise_id", lambda self, code: None)  # "not there when we looked"
    second = payload(office.reg, grade="AA", enterprise=first["enterprise"])
    resp = client.post("/api/v1/assessments", json=second, headers=office.reg.headers())
    assert resp.status_code == 201, resp.get_json()
    code = first["enterprise"]["credit_code"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise).where(Enterprise.credit_code == code)) == 1
