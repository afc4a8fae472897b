"""The demo rates through the services: the months before last published, last month a draft to review,
one open objection; the public directory and API show the published grades."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from auditbo.demo import load_demo
from auditbo.extensions import db
from auditbo.ratings.models import Objection, ObjectionFile, Rating, RatingRun

AS_OF = date(2026, 11, 26)


def test_demo_ratings(app, client):
    stats = load_demo(seed=7, scale=0.1, as_of=AS_OF)
    assert stats["published rating months"] == 2
    runs = {r.period: r for r in db.session.scalars(sa.select(RatingRun))}
    assert {p: r.state for p, r in runs.items()} == {"2026-08": "published", "2026-09": "published",
                                                    "2026-10": "draft"}
    assert runs["2026-09"].published_by_id != runs["2026-09"].run_by_id  # four eyes
    graded = db.session.execute(sa.select(Rating.grade, sa.func.count()).where(Rating.run_id == runs["2026-09"].id)
                                .group_by(Rating.grade)).all()
    assert len([g for g, _ in graded if g != "NR"]) >= 3  # a spread of grades, not one
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Objection)
                             .where(Objection.status == "lodged")) == 1
    assert db.session.scalars(sa.select(ObjectionFile.filename)).all() == ["平台运维证明.pdf"]  # with its attachment
    public = client.get("/api/v1/ratings").get_json()
    assert public["period"] == "2026-09" and public["total"] > 0
