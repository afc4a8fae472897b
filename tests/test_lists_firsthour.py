"""Lists page and sort as a user expects: past the end is the last page, a dead step is no link, columns sort."""

import re

from auditbo.accounts.models import Role
from tests.factories import UserFactory
from tests.filing_support import make_registry, payload


def _file(client, reg, n):
    for _ in range(n):
        assert client.post("/api/v1/assessments", json=payload(reg, grade="AA"), headers=reg.headers()).status_code == 201


def test_a_page_past_the_end_is_the_last_page_and_next_is_no_link(client, login, monkeypatch):
    from auditbo.filings import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    reg = make_registry()
    _file(client, reg, 3)
    login(reg.clerk)
    resp = client.get("/assessments?page=99999&grade=AA")
    assert resp.status_code == 302 and "page=2" in resp.headers["Location"] and "grade=AA" in resp.headers["Location"]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="next-disabled"' in html and 'rel="next"' not in html and 'rel="prev"' in html
    assert "第 2 页,共 2 页" in html or "Page 2 of 2" in html


def test_a_capped_count_says_so_and_an_empty_page_offers_the_first(client, login, monkeypatch):
    from auditbo.filings import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    monkeypatch.setattr(views, "COUNT_CAP", 2)
    reg = make_registry()
    _file(client, reg, 3)
    login(reg.clerk)
    html = client.get("/assessments").get_data(as_text=True)
    assert 'rel="next"' in html and "data-total=\"3\"" in html
    html = client.get("/assessments?page=50").get_data(as_text=True)
    assert 'id="beyond-the-end"' in html and 'id="next-disabled"' in html


def test_every_column_of_the_assessments_list_sorts(client, login):
    reg = make_registry()
    _file(client, reg, 3)
    login(UserFactory(role=Role.supervisor))
    html = client.get("/assessments").get_data(as_text=True)
    keys = set(re.findall(r"sort=-?(\w+)", html))
    assert {"certificate_no", "enterprise", "body", "grade", "assessment_type", "decision_date", "status"} <= keys
    for key in keys:
        for s in (key, "-" + key):
            page = client.get(f"/assessments?sort={s}").get_data(as_text=True)
            certs = re.findall(r"IIMS-T-AA-\d+", page)
            assert len(certs) >= 3, s
    asc = re.findall(r"IIMS-T-AA-\d+", client.get("/assessments?sort=certificate_no").get_data(as_text=True))
    assert asc == sorted(asc)


def _sort_keys(html: str) -> set[str]:
    return set(re.findall(r'data-sort="(\w+)"', html))


def test_the_queue_the_registry_and_the_directory_sort_by_their_headers(client, login):
    from tests.confirm_support import file_aaa, make_office

    office = make_office(2)
    file_aaa(office)
    file_aaa(office)
    login(UserFactory(role=Role.admin))
    for url, wanted in (("/confirmations/?tab=all", {"id", "enterprise", "body", "grade", "due_date", "status"}),
                        ("/registry/", {"name", "credit_code", "kind", "staff", "status"}),
                        ("/registry/persons/", {"person_id", "name", "qualification", "valid_until"}),
                        ("/registry/enterprises/", {"name", "certificates", "last", "level"}),
                        ("/directory", {"name", "kind", "province", "standing", "rating"})):
        html = client.get(url).get_data(as_text=True)
        keys = _sort_keys(html)
        assert wanted <= keys, (url, keys)
        sep = "&" if "?" in url else "?"
        for key in keys:
            for s in (key, "-" + key):
                resp = client.get(f"{url}{sep}sort={s}")
                assert resp.status_code == 200, (url, s)
                assert ("▲" if s == key else "▼") in resp.get_data(as_text=True), (url, s)
    names = [n for n in re.findall(r'data-audit="\d+">\s*<td><a[^>]*>#(\d+)', client.get(
        "/confirmations/?tab=all&sort=-id").get_data(as_text=True))]
    assert names == sorted(names, key=int, reverse=True) and len(names) >= 2


def test_date_filters_are_labelled_date_inputs(client, login):
    login(UserFactory(role=Role.supervisor))
    for url in ("/assessments", "/confirmations/"):
        html = client.get(url).get_data(as_text=True)
        for m in re.finditer(r'<input[^>]*type="date"[^>]*>', html):
            ident = re.search(r'id="([^"]+)"', m.group(0))
            assert ident and f'for="{ident.group(1)}"' in html, (url, m.group(0))


def test_a_registry_page_past_the_end_says_so_and_links_the_last(client, login):
    login(UserFactory(role=Role.admin))
    html = client.get("/registry/?page=9999").get_data(as_text=True)
    assert 'id="past-the-last-page"' in html and 'rel="next"' not in html
    html = client.get("/directory?page=9999").get_data(as_text=True)
    assert 'id="past-the-last-page"' in html
