"""Running a month: stored as a draft from the database (CLI and API), re-run replaces the draft,
nothing after the month changes it, odd data is a failed run, bad periods are refused."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.ratings import services
from auditbo.ratings.models import Rating, RatingRun
from tests import rating_support as rs
from tests.factories import UserFactory, clerk

MONTHS = [date(2025, m, 1) for m in range(4, 13)] + [date(2026, m, 1) for m in range(1, 4)]


def _market():
    m = rs.make_market(3)
    rs.history(m, MONTHS, per_month=2)
    return m


def _h(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, 't')[1]}"}


def _snapshot(run_id: int) -> dict:
    rows = db.session.execute(sa.select(Rating.subject_type, Rating.org_id, Rating.person_id, Rating.grade,
                                        Rating.score).where(Rating.run_id == run_id)).all()
    return {(t, o, p): (g, s) for t, o, p, g, s in rows}


def test_cli_stores_a_draft_and_prints_its_id(app):
    _market()
    result = app.test_cli_runner().invoke(args=["ratings", "run", "--period", "2026-03"])
    assert result.exit_code == 0, result.output
    run_id = int(result.stdout.strip().splitlines()[-1])
    run = db.session.get(RatingRun, run_id)
    assert (run.period, run.status.value, run.error) == ("2026-03", "draft", None)
    assert run.config["engine_version"].startswith("rating@")
    assert {"auroc", "psi", "transitions", "grade_distribution", "grade_counts"} <= set(run.validation)
    ratings = list(db.session.scalars(sa.select(Rating).where(Rating.run_id == run_id)))
    types = {r.subject_type.value for r in ratings}
    assert types == {"assessment_body", "consulting_body", "assessor"} | ({"consultant"} & types)
    graded = [r for r in ratings if r.grade != "NR"]
    assert graded
    for r in graded:  # contributions add up to the score, the interval holds it, reasons in both languages
        assert abs(r.change["base"] + sum(r.contributions.values()) - r.score) < 0.01
        assert r.score_low <= r.score <= r.score_high
        assert r.reasons["zh"] and r.reasons["en"]
        assert r.change["zh"] and r.change["en"]

    again = app.test_cli_runner().invoke(args=["ratings", "run", "--period", "2026-03"])
    assert again.exit_code == 0, again.output
    assert int(again.stdout.strip().splitlines()[-1]) == run_id  # the draft is replaced, not duplicated
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RatingRun)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(Rating.run_id == run_id)) == len(ratings)


def test_cli_refuses_bad_periods_in_one_line(app):
    for period in ("2026-13", "march", "2999-01"):
        result = app.test_cli_runner().invoke(args=["ratings", "run", "--period", period])
        assert result.exit_code == 1
        assert len(result.stderr.strip().splitlines()) == 2  # the progress line and the one-line reason
        assert result.stderr.strip().splitlines()[-1].startswith("Error: period:")


def test_nothing_after_the_month_changes_its_run(app):
    m = _market()
    first = services.run_period("2026-03", actor=Actor(None, "system"))
    before = _snapshot(first.id)
    s = m.sides[1]
    for k in range(4):  # April brings news about March's records
        late = rs.record(s, rs.at(date(2026, 4, 2 + k)), late=True)
        rs.decide(late, m.reviewer, rs.at(date(2026, 4, 8 + k)), "rejected")
        rs.spot_check(m.records[k], m.inspector, date(2026, 4, 9), "major_findings")
    rs.sanction(date(2026, 4, 10), org=s.body)
    again = services.run_period("2026-03", actor=Actor(None, "system"))
    assert again.id == first.id and _snapshot(again.id) == before
    april = services.run_period("2026-04", actor=Actor(None, "system"))
    assert _snapshot(april.id) != {k: v for k, v in before.items()}


def test_an_empty_history_is_a_failed_run_with_its_reason(app):
    run = services.run_period("2026-03", actor=Actor(None, "system"))
    assert run.state == "failed" and "no events" in run.error
    assert db.session.scalar(sa.select(sa.func.count()).where(Rating.run_id == run.id)) == 0


def test_api_runs_and_lists(client, app):
    _market()
    sup, admin = UserFactory(role=Role.supervisor), UserFactory(role=Role.admin)
    assert client.post("/api/v1/rating-runs", json={"period": "2026-03"}).status_code == 401
    assert client.post("/api/v1/rating-runs", json={"period": "2026-03"}, headers=_h(clerk())).status_code == 403
    assert client.post("/api/v1/rating-runs", json={"period": "2026-03"}, headers=_h(admin)).status_code == 403
    bad = client.post("/api/v1/rating-runs", json={"period": "2999-01"}, headers=_h(sup))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "period"
    resp = client.post("/api/v1/rating-runs", json={"period": "2026-03"}, headers=_h(sup))
    assert resp.status_code == 201, resp.get_json()
    run = resp.get_json()
    assert run["status"] == "draft" and run["run_by"] == sup.username and run["period"] == "2026-03"
    assert set(run["validation"]) >= {"auroc", "psi", "grade_changes"} and sum(run["counts"].values()) > 0
    got = client.get(f"/api/v1/rating-runs/{run['id']}", headers=_h(sup)).get_json()
    assert got["id"] == run["id"]
    listed = client.get("/api/v1/rating-runs", headers=_h(sup)).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == run["id"]
    page = client.get(f"/api/v1/rating-runs/{run['id']}/ratings?subject_type=assessment_body",
                      headers=_h(sup)).get_json()
    assert page["total"] == 3
    item = page["items"][0]
    assert {"id", "subject_type", "subject_id", "grade", "score", "effective_n", "contributions", "reasons",
            "version"} <= set(item)
    assert client.get(f"/api/v1/rating-runs/{run['id']}/ratings", headers=_h(clerk())).status_code == 403
    assert client.get("/api/v1/rating-runs/999999", headers=_h(sup)).status_code == 404
