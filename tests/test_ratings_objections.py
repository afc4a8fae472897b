"""Objections (异议) and credit repair: the rated body objects within the period; a supervisor who did
not run the rating decides; upheld publishes a new version, the old one kept and marked superseded."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
import time_machine

from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from auditbo.clock import start_of, today
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.ratings import services
from auditbo.ratings.models import Rating
from tests import rating_support as rs
from tests.factories import UserFactory, clerk

MONTHS = [date(2025, m, 1) for m in range(6, 13)] + [date(2026, m, 1) for m in range(1, 4)]


def _h(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, 't')[1]}"}


def _published():
    m = rs.make_market(2)
    rs.history(m, MONTHS, per_month=2)
    runner, admin = UserFactory(role=Role.supervisor), UserFactory(role=Role.admin)
    run = services.run_period("2026-03", actor=Actor(runner.id, runner.username))
    services.publish(run, actor=Actor(admin.id, admin.username))
    body = m.sides[0].body
    rating = db.session.scalar(sa.select(Rating).where(Rating.run_id == run.id, Rating.org_id == body.id))
    return m, run, runner, rating


def test_the_body_objects_and_an_upheld_objection_publishes_a_new_version(client, app):
    m, run, runner, rating = _published()
    body = m.sides[0].body
    own, other = clerk(body), clerk(m.sides[1].body)
    url = f"/api/v1/ratings/{rating.id}/objections"
    assert client.post(url, json={"reason": "x"}).status_code == 401
    assert client.post(url, json={"reason": "数据有误"}, headers=_h(other)).status_code == 404  # not theirs
    assert client.post(url, json={"reason": "数据有误"}, headers=_h(UserFactory(role=Role.supervisor))).status_code == 403
    assert client.post(url, json={}, headers=_h(own)).status_code == 422
    resp = client.post(url, json={"reason": "三月份逾期报送系系统故障所致"}, headers=_h(own))
    assert resp.status_code == 201, resp.get_json()
    obj = resp.get_json()
    assert obj["status"] == "open" and obj["deadline"]
    assert client.post(url, json={"reason": "again"}, headers=_h(own)).status_code == 409  # one open at a time

    decide = f"/api/v1/objections/{obj['id']}/decision"
    body_json = {"decision": "upheld", "grade": "AAA", "reason": "系统故障属实，更正等级"}
    assert client.post(decide, json=body_json, headers=_h(runner)).status_code == 403  # ran it: not theirs
    assert client.post(decide, json=body_json, headers=_h(UserFactory(role=Role.admin))).status_code == 403
    assert client.post(decide, json={"decision": "upheld", "reason": "x"},
                       headers=_h(UserFactory(role=Role.supervisor))).status_code == 422  # no grade
    judge = UserFactory(role=Role.supervisor)
    done = client.post(decide, json=body_json, headers=_h(judge))
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "upheld"
    new_id = done.get_json()["corrected_rating_id"]
    assert client.post(decide, json=body_json, headers=_h(judge)).status_code == 409  # decided already

    db.session.expire_all()
    old, new = db.session.get(Rating, rating.id), db.session.get(Rating, new_id)
    assert old.superseded_at is not None and old.grade == rating.grade  # kept, marked superseded
    assert (new.grade, new.version, new.correction_reason) == ("AAA", 2, "系统故障属实，更正等级")
    public = client.get("/api/v1/ratings?period=2026-03").get_json()["items"]
    mine = [i for i in public if i["subject_id"] == body.credit_code]
    assert [(i["grade"], i["version"]) for i in mine] == [("AAA", 2)]
    assert "AAA (2026-03)" in client.get(f"/directory/{body.credit_code}").get_data(as_text=True)
    staff = client.get(f"/api/v1/rating-runs/{run.id}/ratings?subject_type=assessment_body",
                       headers=_h(judge)).get_json()["items"]
    assert sorted((i["version"], i["superseded"]) for i in staff if i["subject_id"] == body.credit_code) == [
        (1, True), (2, False)]


def test_too_late_is_422_and_a_dismissal_changes_nothing(client, app):
    m, run, runner, rating = _published()
    own = clerk(m.sides[0].body)
    url = f"/api/v1/ratings/{rating.id}/objections"
    last = today() + timedelta(days=app.config["OBJECTION_DAYS"])
    with time_machine.travel(start_of(last + timedelta(days=1)) + timedelta(hours=9), tick=False):
        late = client.post(url, json={"reason": "晚了"}, headers=_h(own))
    assert late.status_code == 422 and late.get_json()["errors"][0]["field"] == "rating_id"
    with time_machine.travel(start_of(last) + timedelta(hours=23), tick=False):
        on_time = client.post(url, json={"reason": "最后一天"}, headers=_h(own))
    assert on_time.status_code == 201  # the last day counts (calendar days)
    decided = client.post(f"/api/v1/objections/{on_time.get_json()['id']}/decision",
                          json={"decision": "dismissed", "reason": "依据充分"},
                          headers=_h(UserFactory(role=Role.supervisor)))
    assert decided.status_code == 200 and decided.get_json()["corrected_rating_id"] is None
    db.session.expire_all()
    assert db.session.get(Rating, rating.id).superseded_at is None


def test_a_draft_is_not_open_to_objections(client, app):
    m = rs.make_market(2)
    rs.history(m, MONTHS, per_month=2)
    run = services.run_period("2026-03", actor=Actor(None, "system"))
    r = db.session.scalar(sa.select(Rating).where(Rating.run_id == run.id, Rating.org_id == m.sides[0].body.id))
    resp = client.post(f"/api/v1/ratings/{r.id}/objections", json={"reason": "x"},
                       headers=_h(clerk(m.sides[0].body)))
    assert resp.status_code == 404
