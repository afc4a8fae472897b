"""Review and publication (four eyes), on the API and the pages; a published month is never overwritten;
the public directory and GET /api/v1/ratings show bodies' published grades only."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.ratings import services
from auditbo.ratings.models import Rating
from tests import rating_support as rs
from tests.factories import UserFactory, clerk

MONTHS = [date(2025, m, 1) for m in range(6, 13)] + [date(2026, m, 1) for m in range(1, 4)]


def _h(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, 't')[1]}"}


def _drafted(runner=None):
    m = rs.make_market(3)
    rs.history(m, MONTHS, per_month=2)
    runner = runner or UserFactory(role=Role.supervisor)
    run = services.run_period("2026-03", actor=Actor(runner.id, runner.username))
    return m, run


def test_api_publish_is_four_eyes_and_final(client, app):
    admin, other_admin = UserFactory(role=Role.admin), UserFactory(role=Role.admin)
    m, run = _drafted(runner=admin)  # an admin's own run (e.g. run by hand): not theirs to publish
    url = f"/api/v1/rating-runs/{run.id}/publication"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=_h(UserFactory(role=Role.supervisor))).status_code == 403
    assert client.post(url, headers=_h(clerk())).status_code == 403
    assert client.post(url, headers=_h(admin)).status_code == 403
    assert client.get("/api/v1/ratings").get_json()["items"] == []  # nothing public before publication
    resp = client.post(url, headers=_h(other_admin))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "published" and resp.get_json()["published_by"] == other_admin.username
    assert client.post(url, headers=_h(other_admin)).status_code == 409  # already published
    sup = UserFactory(role=Role.supervisor)
    again = client.post("/api/v1/rating-runs", json={"period": "2026-03"}, headers=_h(sup))
    assert again.status_code == 409  # a published month is never overwritten

    public = client.get("/api/v1/ratings?period=2026-03").get_json()
    assert public["period"] == "2026-03" and public["total"] == 6  # 3 assessment + 3 consulting bodies
    assert {i["subject_type"] for i in public["items"]} == {"assessment_body", "consulting_body"}
    assert set(public["items"][0]) >= {"subject_id", "grade", "name", "period"}
    assert "reasons" not in public["items"][0]
    persons = client.get("/api/v1/ratings?subject_type=assessor")
    assert persons.status_code == 422  # persons' ratings are never public
    latest = client.get("/api/v1/ratings").get_json()
    assert latest["period"] == "2026-03"

    # the body's own clerk sees its own and its staff's ratings with reasons
    body = m.sides[0].body
    mine = client.get("/api/v1/ratings/mine", headers=_h(clerk(body))).get_json()
    subjects = {i["subject_id"] for i in mine["items"]}
    assert body.credit_code in subjects and m.sides[0].lead.person_id in subjects
    assert m.sides[1].body.credit_code not in subjects
    assert all(i["reasons"]["zh"] for i in mine["items"])
    assert client.get("/api/v1/ratings/mine", headers=_h(sup)).status_code == 403


def test_pages_review_and_publish(client, login, app):
    sup, admin = UserFactory(role=Role.supervisor), UserFactory(role=Role.admin)
    m, run = _drafted(runner=sup)
    login(sup)
    page = client.get(f"/ratings/runs/{run.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="distribution"' in html and 'id="movers"' in html
    assert 'id="publish-form"' not in html  # a supervisor does not publish
    one = db.session.scalar(sa.select(Rating).where(Rating.run_id == run.id, Rating.grade != "NR").limit(1))
    subject = client.get(f"/ratings/r/{one.id}").get_data(as_text=True)
    assert 'id="contributions"' in subject and "<meter" in subject and "style=" not in subject
    assert client.post(f"/ratings/runs/{run.id}/publish").status_code == 403
    client.post("/logout")

    login(admin)
    html = client.get(f"/ratings/runs/{run.id}").get_data(as_text=True)
    assert 'id="publish-form"' in html
    resp = client.post(f"/ratings/runs/{run.id}/publish")
    assert resp.status_code == 302
    assert 'data-status="published"' in client.get(f"/ratings/runs/{run.id}").get_data(as_text=True)
    # the public directory shows the body's grade
    body = m.sides[0].body
    grade = db.session.scalar(sa.select(Rating.grade).where(Rating.run_id == run.id, Rating.org_id == body.id))
    profile = client.get(f"/directory/{body.credit_code}").get_data(as_text=True)
    assert f"{grade} (2026-03)" in profile


def test_pages_are_the_office_s(client, login, app):
    _, run = _drafted()
    login(clerk())
    assert client.get("/ratings/").status_code == 403
    assert client.get(f"/ratings/runs/{run.id}").status_code == 403
    one = db.session.scalar(sa.select(Rating.id).where(Rating.run_id == run.id).limit(1))
    assert client.get(f"/ratings/r/{one}").status_code == 404  # a draft, and not theirs
