"""Keyset (cursor) paging of the JSON lists (auditbo.paging): a walk by `next` links serves every
matching record once, in the list's order (ties in the sort key broken by id), keeps to the caller's
scope and filters, carries the first page's total on long lists, and answers a bad cursor with a 400
problem; offset pages stop at paging.OFFSET_CAP rows."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from auditbo import paging
from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from tests.factories import CertificateFactory, OrgFactory, UserFactory

DAY = date(2026, 3, 20)


@pytest.fixture
def world(app):
    """Two bodies; body A has 11 records on 4 decision dates (ties), mixed grades and statuses;
    body B has 4 records interleaved on the same dates."""
    a, b = OrgFactory(), OrgFactory()
    recs = []
    plan = [(0, "AA", "standing"), (0, "AA", "standing"), (0, "A", "standing"), (1, "AA", "standing"),
            (1, "AA", "suspended"), (1, "AA", "standing"), (2, "AA", "standing"), (2, "A", "standing"),
            (2, "AA", "standing"), (3, "AA", "standing"), (3, "AA", "standing")]
    for days, grade, status in plan:
        recs.append(CertificateFactory(body=a, grade=grade, status=status, decision_date=DAY - timedelta(days=days)))
    for days in (0, 1, 2, 3):
        recs.append(CertificateFactory(body=b, grade="AA", status="standing",
                                       decision_date=DAY - timedelta(days=days)))
    sup = UserFactory(role=Role.supervisor)
    clerk_a = UserFactory(role=Role.body_clerk, org=a)
    tokens = {u: create_token(u, "t")[1] for u in (sup, clerk_a)}
    return {"a": a, "b": b, "recs": recs, "sup": sup, "clerk_a": clerk_a,
            "h": {u: {"Authorization": f"Bearer {t}"} for u, t in tokens.items()}}


def v(x):
    return getattr(x, "value", x)


def expected(recs, pred=lambda r: True) -> list[int]:
    return [r.id for r in sorted((r for r in recs if pred(r)), key=lambda r: (r.decision_date, r.id), reverse=True)]


def walk(client, url, headers) -> tuple[list[int], list[dict]]:
    ids, pages = [], []
    while url:
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        pages.append(body)
        ids += [it["id"] for it in body["items"] if "id" in it]
        url = body["next"]
        assert len(pages) < 50
    return ids, pages


def test_a_walk_serves_every_record_once_in_order_with_ties_broken_by_id(client, world):
    ids, pages = walk(client, "/api/v1/assessments?per_page=3", world["h"][world["sup"]])
    assert ids == expected(world["recs"])  # 15 records, ties on every date: no gap, no duplicate
    assert [p["page"] for p in pages] == [1, 2, 3, 4, 5]
    assert pages[-1]["next"] is None and len(pages[-1]["items"]) == 3  # no next link to an empty page
    assert all(p["total"] == 15 and p["total_is_exact"] for p in pages)  # small: recounted on every page
    assert all({"cursor", "per_page"} == set(parse_qs(urlsplit(p["next"]).query)) for p in pages[:-1])


def test_filters_travel_with_the_cursor(client, world):
    ids, pages = walk(client, "/api/v1/assessments?grade=AA&status=standing&per_page=2", world["h"][world["sup"]])
    assert ids == expected(world["recs"], lambda r: str(v(r.grade)) == "AA" and str(v(r.status)) == "standing")
    q = parse_qs(urlsplit(pages[0]["next"]).query)
    assert q["grade"] == ["AA"] and q["status"] == ["standing"] and q["per_page"] == ["2"]
    # the same cursor under other filters is refused (it would skip or repeat records)
    token = q["cursor"][0]
    resp = client.get(f"/api/v1/assessments?grade=A&status=standing&cursor={token}", headers=world["h"][world["sup"]])
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert "filters" in resp.get_json()["detail"]
    # a changed page size is fine: the walk continues from the same record
    resp = client.get(f"/api/v1/assessments?grade=AA&status=standing&per_page=5&cursor={token}",
                      headers=world["h"][world["sup"]])
    assert [it["id"] for it in resp.get_json()["items"]] == ids[2:7]


def test_a_clerk_never_pages_into_another_body(client, world):
    own = expected(world["recs"], lambda r: r.body_id == world["a"].id)
    ids, _ = walk(client, "/api/v1/assessments?per_page=4", world["h"][world["clerk_a"]])
    assert ids == own
    # the office's cursor, replayed by the clerk (same filters): still only the clerk's body, after that point
    office = client.get("/api/v1/assessments?per_page=2", headers=world["h"][world["sup"]]).get_json()
    last = office["items"][-1]
    resp = client.get(office["next"], headers=world["h"][world["clerk_a"]])
    assert resp.status_code == 200
    got = [it["id"] for it in resp.get_json()["items"]]
    body_b = {r.id for r in world["recs"] if r.body_id == world["b"].id}
    assert got and not (set(got) & body_b)
    by_id = {r.id: r for r in world["recs"]}
    mark = (date.fromisoformat(last["decision_date"]), last["id"])
    assert got == [i for i in own if (by_id[i].decision_date, i) < mark][:2]


@pytest.mark.parametrize("cursor", ["garbage", "", "eyJhIjoxfQ", "W10.bad-signature", "%00", "x" * 1999])
def test_bad_cursors_are_400_problems(client, world, cursor):
    resp = client.get(f"/api/v1/assessments?per_page=3&cursor={cursor}", headers=world["h"][world["sup"]])
    if cursor == "":  # an empty cursor is no cursor: the first page
        assert resp.status_code == 200 and resp.get_json()["page"] == 1
        return
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json" and resp.get_json()["status"] == 400


def test_a_cursor_signed_with_another_key_or_of_another_list_is_refused(client, world, app):
    first = client.get("/api/v1/assessments?per_page=3", headers=world["h"][world["sup"]]).get_json()
    token = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    # a forged position (the payload rewritten, the signature kept) fails the signature check
    payload, _, sig = token.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + sig
    assert client.get(f"/api/v1/assessments?per_page=3&cursor={forged}",
                      headers=world["h"][world["sup"]]).status_code == 400
    # a real cursor of another list (other order) is refused rather than misread
    with app.test_request_context():
        other = paging.encode((DAY, 1), 2, 15, paging.fingerprint("assessments", "-filed_at", {}))
    assert client.get(f"/api/v1/assessments?cursor={other}", headers=world["h"][world["sup"]]).status_code == 400
    # a cursor of this list whose key does not fit its columns is refused too (never a 500)
    with app.test_request_context():
        odd = paging.encode(("not a date", "x"), 2, 15, paging.fingerprint("assessments", "-decision_date", {}))
    resp = client.get(f"/api/v1/assessments?cursor={odd}", headers=world["h"][world["sup"]])
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"


def test_long_lists_carry_the_first_pages_total(client, world, monkeypatch):
    monkeypatch.setattr(paging, "EXACT_TOTAL_CAP", 5)  # "long" = more than 5 matches here
    h = world["h"][world["sup"]]
    first = client.get("/api/v1/assessments?per_page=4", headers=h).get_json()
    assert first["total"] == 15 and first["total_is_exact"] is True
    CertificateFactory(body=world["a"], decision_date=DAY + timedelta(days=5))  # filed meanwhile, sorts first
    second = client.get(first["next"], headers=h).get_json()
    assert second["total"] == 15 and second["total_is_exact"] is False  # the first page's count, carried
    assert [it["id"] for it in second["items"]] == expected(world["recs"])[4:8]  # the walk goes on unshaken
    assert client.get("/api/v1/assessments?per_page=4", headers=h).get_json()["total"] == 16


def test_offset_pages_stop_at_the_cap(client, world):
    h = world["h"][world["sup"]]
    deepest = paging.OFFSET_CAP // 500 + 1
    assert client.get(f"/api/v1/assessments?per_page=500&page={deepest}", headers=h).status_code == 200
    resp = client.get(f"/api/v1/assessments?per_page=500&page={deepest + 1}", headers=h)
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "page"
    # an offset page hands out a cursor to go on from where it ends
    p2 = client.get("/api/v1/assessments?per_page=3&page=2", headers=h).get_json()
    p3 = client.get(p2["next"], headers=h).get_json()
    assert p3["page"] == 3 and [it["id"] for it in p3["items"]] == expected(world["recs"])[6:9]


def test_the_openapi_document_describes_cursor_paging(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/assessments"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert "cursor" in params and "next" in params["cursor"]["description"]
    assert "400" in op["responses"]
    schema_name = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    props = spec["components"]["schemas"][schema_name]["properties"]
    assert {"items", "total", "page", "per_page", "next", "total_is_exact"} <= set(props)
    assert "first page" in props["total_is_exact"]["description"]


def test_the_web_list_stops_its_offset_pages_at_the_cap(client, login, world, monkeypatch):
    from auditbo.filings import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    monkeypatch.setattr(views, "COUNT_CAP", 4)  # 15 records: "over 4 match", the page count unknown
    monkeypatch.setattr(views, "MAX_PAGE", 3)  # as if OFFSET_CAP were 4 rows
    login(world["sup"])
    resp = client.get("/assessments?page=4&grade=AA")
    assert resp.status_code == 302 and "page=3" in resp.headers["Location"] and "grade=AA" in resp.headers["Location"]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="pages-stop"' in html and 'id="next-disabled"' in html and 'rel="next"' not in html
    html = client.get("/assessments?page=2&grade=AA").get_data(as_text=True)
    assert 'rel="next"' in html and 'id="pages-stop"' not in html
    # a short list past the cap still lands on its own last page
    resp = client.get("/assessments?page=9&grade=A")
    assert resp.status_code == 302 and "page=1" in resp.headers["Location"]


def test_the_list_sends_what_its_schema_would_dump(client, world):
    """The list's items are built JSON-ready (records.summary_json) instead of dumped by the schema
    each time: the same fields and values as AssessmentSummaryOut's dump of records.summary."""
    import sqlalchemy as sa

    from auditbo.extensions import db
    from auditbo.filings import records
    from auditbo.filings.api import AssessmentListOut
    from auditbo.filings.models import Assessment
    from auditbo.filings.schemas import AssessmentSummaryOut

    db.session.execute(sa.update(Assessment).where(Assessment.id == world["recs"][1].id)
                       .values(flag_late=True, flag_tie=True))
    body = client.get("/api/v1/assessments?per_page=20", headers=world["h"][world["sup"]]).get_json()
    rows = db.session.execute(records.rows_select(world["sup"], {}).limit(20)).all()
    assert body["items"] == [AssessmentSummaryOut().dump(records.summary(r)) for r in rows]
    assert any(it["flags"]["late"] and it["flags"]["tie"] for it in body["items"])
    assert set(body) == set(AssessmentListOut().fields)


def test_a_plans_frame_units_page_by_cursor(client):
    from tests.spot_support import drawn_plan, make_market

    m = make_market(9)
    plan = drawn_plan(m, size=3)
    api = f"/api/v1/sampling-plans/{plan.id}/units"
    everything = client.get(f"{api}?per_page=500", headers=m.h(m.author)).get_json()
    assert everything["total"] == 9 and everything["next"] is None
    ids, pages = walk(client, f"{api}?per_page=2", m.h(m.author))
    assert ids == [] and len(pages) == 5  # units carry assessment_id, not id
    got = [u["assessment_id"] for p in pages for u in p["items"]]
    assert got == sorted(u["assessment_id"] for u in everything["items"])
    assert f"/sampling-plans/{plan.id}/units?" in pages[0]["next"]
    chosen = client.get(f"{api}?per_page=2&selected=true", headers=m.h(m.author)).get_json()
    assert chosen["total"] == 3 and len(chosen["items"]) == 2 and chosen["next"]
    # the cursor of the selected units is refused on all units (other filters)
    token = parse_qs(urlsplit(chosen["next"]).query)["cursor"][0]
    assert client.get(f"{api}?per_page=2&cursor={token}", headers=m.h(m.author)).status_code == 400


def test_the_confirmation_queue_pages_by_cursor_in_its_own_orders(client):
    from tests.confirm_support import file_aaa, make_office

    office = make_office(2)
    audits = [file_aaa(office)[1] for _ in range(5)]
    h = office.h(office.admin)
    ids, pages = walk(client, "/api/v1/confirmations?per_page=2", h)
    assert ids == sorted(a.id for a in audits) and len(pages) == 3  # the same due date: by id
    assert all(p["total"] == 5 and p["total_is_exact"] for p in pages)
    for audit in audits[:3]:  # decided newest first: the last decided comes first
        sup = office.user(audit.assignee_id)
        v = client.get(f"/api/v1/confirmations/{audit.id}", headers=office.h(sup)).get_json()["version"]
        assert client.post(f"/api/v1/confirmations/{audit.id}/decision", headers=office.h(sup),
                           json={"decision": "confirmed", "version": v}).status_code == 200
    decided, _ = walk(client, "/api/v1/confirmations?status=decided&per_page=2", h)
    assert decided == [a.id for a in reversed(audits[:3])]
    first = client.get("/api/v1/confirmations?status=decided&per_page=2", headers=h).get_json()
    token = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    assert client.get(f"/api/v1/confirmations?status=assigned&cursor={token}", headers=h).status_code == 400
