"""The demo's ratings, through the services: the months before the last published (run by a
supervisor, published by the admin), the last finished month left as a draft to review, and one
open objection of a rated body, so that every ratings page has something real to show."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from auditbo.accounts.models import Role, User
from auditbo.events import Actor
from auditbo.evidence import Evidence
from auditbo.extensions import db
from auditbo.ratings import objections, services
from auditbo.ratings.models import Rating, RatingRun, SubjectType

OBJECTION_TEXT = "本机构3月份两份逾期报送系省级平台故障所致，附平台运维证明，请求复核时效性指标。"
# the attachment the text speaks of: a one-page PDF
PROOF_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
             b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _first(role: Role) -> User:
    return db.session.scalar(sa.select(User).where(User.role == role, User.active.is_(True)).order_by(User.id))


def run_ratings(as_of: date, *, published_months: int = 2) -> dict:
    """Rate the ``published_months`` months before last month and publish them; rate last month as a
    draft; lodge one objection. Returns what was made."""
    runner, admin = _first(Role.supervisor), _first(Role.admin)
    last = services.previous_period(services.period_of(as_of))
    periods = [last]
    for _ in range(published_months):
        periods.insert(0, services.previous_period(periods[0]))
    made = {"published": [], "draft": None, "objection": None}
    for period in periods:
        run = services.run_period(period, actor=Actor(runner.id, runner.username))
        if run.error:
            return made  # too little history (a tiny scale): nothing to publish
        if period != last:
            services.publish(run, actor=Actor(admin.id, admin.username))
            made["published"].append(period)
        else:
            made["draft"] = period
    if made["published"]:
        made["objection"] = _one_objection(made["published"][-1])
    return made


def _one_objection(period: str) -> int | None:
    """An assessment body rated B or C (else the lowest rated) objects to its grade through its clerk."""
    run = db.session.scalar(sa.select(RatingRun).where(RatingRun.period == period))
    order = sa.case({"C": 0, "B": 1, "A": 2, "AA": 3, "AAA": 4}, value=Rating.grade, else_=5)
    row = db.session.execute(
        sa.select(Rating.id, User).join(User, User.org_id == Rating.org_id)
        .where(Rating.run_id == run.id, Rating.subject_type == SubjectType.assessment_body,
               Rating.grade != "NR", User.role == Role.body_clerk, User.active.is_(True))
        .order_by(order, Rating.id, User.id).limit(1)).first()
    if row is None:
        return None
    rating_id, clerk = row
    proof = Evidence("平台运维证明.pdf", "application/pdf", PROOF_PDF)
    return objections.lodge(rating_id, OBJECTION_TEXT, user=clerk, files=[proof]).id
