"""The demo history: valid, varied, deterministic, and loadable only into an empty database."""

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa

from auditbo import events
from auditbo.codes import is_credit_code, is_industry_code, is_region_code
from auditbo.demo import load_demo
from auditbo.errors import Conflict
from auditbo.extensions import db
from auditbo.models import Assessment, ConfirmationAudit, Enterprise, Organisation, SpotCheck, User

AS_OF = date(2026, 11, 26)


def _fingerprint() -> str:
    rows = db.session.execute(
        sa.select(Assessment.id, Assessment.grade, Assessment.status, Assessment.decision_date,
                  Assessment.person_days).order_by(Assessment.id)
    ).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_demo_is_valid_and_varied(app):
    stats = load_demo(seed=7, scale=0.1, as_of=AS_OF)
    assert stats["assessments"] > 500
    codes = db.session.scalars(sa.select(Organisation.credit_code)).all()
    codes += db.session.scalars(sa.select(Enterprise.credit_code)).all()
    assert all(is_credit_code(c) for c in codes)
    ents = db.session.execute(sa.select(Enterprise.region_code, Enterprise.industry_code)).all()
    assert all(is_region_code(r) and is_industry_code(i) for r, i in ents)
    statuses = set(db.session.scalars(sa.select(Assessment.status).distinct()))
    assert {"standing", "pending_confirmation", "rejected", "expired"} <= {s.value for s in statuses}
    grades = {g.value for g in db.session.scalars(sa.select(Assessment.grade).distinct())}
    assert grades == {"A", "AA", "AAA", "AAAA", "AAAAA"}
    # every AAA+ filing has a confirmation audit
    top_without_audit = db.session.scalar(
        sa.select(sa.func.count()).select_from(Assessment)
        .where(Assessment.filed_grade.in_(["AAA", "AAAA", "AAAAA"]))
        .where(~sa.exists().where(ConfirmationAudit.assessment_id == Assessment.id))
    )
    assert top_without_audit == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SpotCheck)) > 0
    assert db.session.scalar(sa.select(User.id).where(User.username == "admin"))
    assert events.verify().ok


def test_demo_has_signal_lax_bodies_fare_worse(app):
    """Hidden laxity drives outcomes: bodies with more rejected/returned audits also cut days."""
    load_demo(seed=11, scale=0.3, as_of=AS_OF)
    per_body = db.session.execute(
        sa.select(
            Assessment.body_id,
            sa.func.avg(Assessment.person_days / Assessment.person_days_min),
            sa.func.avg(sa.case((ConfirmationAudit.decision.in_(["rejected", "grade_adjusted", "returned"]), 1.0),
                                else_=0.0)),
        )
        .join(ConfirmationAudit, ConfirmationAudit.assessment_id == Assessment.id)
        .where(ConfirmationAudit.decision.is_not(None))
        .group_by(Assessment.body_id)
    ).all()
    ratios = [r[1] for r in per_body]
    bad = [r[2] for r in per_body]
    n = len(per_body)
    mr, mb = sum(ratios) / n, sum(bad) / n
    cov = sum((a - mr) * (b - mb) for a, b in zip(ratios, bad, strict=True))
    assert cov < 0  # fewer person-days go with worse confirmation outcomes


def test_demo_is_deterministic_for_a_seed(app):
    load_demo(seed=3, scale=0.05, as_of=AS_OF)
    first = _fingerprint()
    with pytest.raises(Conflict):
        load_demo(seed=3, scale=0.05, as_of=AS_OF)
    db.session.rollback()
    # empty the tables (inside the test transaction) and load again
    conn = db.session.connection()
    for table in reversed(db.metadata.sorted_tables):
        if table.name == "events":
            continue
        conn.execute(table.delete())
    load_demo(seed=3, scale=0.05, as_of=AS_OF)
    assert _fingerprint() == first


def test_demo_holds_the_certificate_the_readme_names(app, client):
    """README, the lookup page's placeholder and the import template name one certificate: the demo has it,
    filed and confirmed through the services, and the public lookup finds it."""
    from pathlib import Path

    from auditbo.demo.showcase import CERTIFICATE_NO
    from auditbo.filings.imports import EXAMPLE

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert CERTIFICATE_NO in readme and CERTIFICATE_NO in EXAMPLE
    load_demo(seed=5, scale=0.05, as_of=AS_OF)
    a = db.session.scalar(sa.select(Assessment).where(Assessment.certificate_no == CERTIFICATE_NO))
    assert a is not None and a.status.value == "standing"
    assert db.session.scalar(sa.select(ConfirmationAudit.decision).where(
        ConfirmationAudit.assessment_id == a.id)).value == "confirmed"
    assert events.verify().ok
    page = client.get(f"/certificates?no={CERTIFICATE_NO}").get_data(as_text=True)
    assert "示例机械股份有限公司" in page and CERTIFICATE_NO in client.get("/certificates").get_data(as_text=True)
    assert client.get(f"/api/v1/certificates/{CERTIFICATE_NO}").status_code == 200
