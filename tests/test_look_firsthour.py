"""The look: icons served from our own static files, a navigation that shows where one is, one badge colour per meaning."""

import re

from auditbo.labels import BADGE_COLOURS, badge_colour
from tests.filing_support import make_registry, payload


def test_icons_are_vendored_and_served_locally(client):
    html = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="([^"]*bootstrap-icons[^"]*\.css)"', html).group(1)
    assert css.startswith("/static/vendor/bootstrap-icons/")
    sheet = client.get(css)
    assert sheet.status_code == 200 and b"bootstrap-icons.woff2" in sheet.get_data()
    sheet.close()
    font = client.get("/static/vendor/bootstrap-icons/fonts/bootstrap-icons.woff2")
    assert font.status_code == 200
    font.close()
    assert "cdn" not in html.lower()


def test_the_navigation_names_my_account_marks_the_section_and_gives_a_breadcrumb(client, login):
    reg = make_registry()
    rec = client.post("/api/v1/assessments", json=payload(reg, grade="AA"), headers=reg.headers()).get_json()
    login(reg.clerk)
    html = client.get(f"/assessments/{rec['id']}").get_data(as_text=True)
    assert 'id="nav-account"' in html and "我的账号" in html
    active = re.findall(r'<a class="nav-link active" aria-current="page"\s+href="([^"]+)"', html)
    assert active == ["/assessments"], active
    crumbs = html[html.index('id="breadcrumbs"'):]
    assert 'href="/assessments"' in crumbs[:600] and rec["certificate_no"] in crumbs[:800]
    assert 'class="bi bi-file-earmark-text' in html


def test_one_colour_per_meaning():
    seen = {}
    for colour, values in BADGE_COLOURS.items():
        for v in values:
            assert v not in seen, f"{v} is both {seen[v]} and {colour}"
            seen[v] = colour
    assert badge_colour("standing") == badge_colour("active") == badge_colour("confirmed") == "success"
    assert badge_colour("rejected") == badge_colour("revoked") == badge_colour("overdue") == "danger"


def test_a_status_has_the_same_badge_on_the_record_and_on_the_public_lookup(client, login):
    reg = make_registry()
    rec = client.post("/api/v1/assessments", json=payload(reg, grade="AA"), headers=reg.headers()).get_json()
    public = client.get(f"/certificates?no={rec['certificate_no']}").get_data(as_text=True)
    assert reg.body.name in public  # the issuing body is named on the lookup
    login(reg.clerk)
    record = client.get(f"/assessments/{rec['id']}").get_data(as_text=True)
    badge = 'class="badge text-bg-success" data-badge="standing"'
    assert badge in public and badge in record


def test_the_api_docs_sections_have_names_not_blueprint_names(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    names = [t["name"] for t in spec["tags"]]
    assert names and not [n for n in names if n.endswith("_api")], names
    used = {t for ops in spec["paths"].values() for op in ops.values() if isinstance(op, dict)
            for t in op.get("tags", [])}
    assert used <= set(names), used - set(names)
