"""The dashboard's figures (issue 17, items 1-2): hand-counted data, drill-down links whose lists count
the same, a CSV per figure, and a body's clerk who sees the market median but no other body's name."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from auditbo import clock
from auditbo.accounts.models import Role
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision
from auditbo.extensions import db
from tests.factories import CertificateFactory, OrgFactory, UserFactory


def _filed(days_ago: int) -> datetime:
    return datetime.combine(
        clock.today() - timedelta(days=days_ago), datetime.min.time(), tzinfo=UTC
    ) + timedelta(hours=6)


@pytest.fixture
def world(app):
    alpha, beta = OrgFactory(name="甲评定机构"), OrgFactory(name="乙评定机构")
    made = []
    # alpha: 3 this month (AA, AA, AAA; one late), beta: 1 this month (A) and 1 about two months ago (AA)
    for body, grade, days, late, region, industry in [
        (alpha, "AA", 0, True, "350102", "C34"),
        (alpha, "AA", 0, False, "110105", "C13"),
        (alpha, "AAA", 0, False, "350102", "I65"),
        (beta, "A", 0, False, "440300", "F51"),
        (beta, "AA", 62, False, "440300", "C34"),
    ]:
        a = CertificateFactory(
            body=body, grade=grade, flag_late=late, region_code=region, industry_code=industry
        )
        a.filed_at = _filed(days)
        made.append(a)
    # confirmation audits decided this month: alpha one returned, one confirmed; beta one rejected
    for a, decision in [
        (made[2], Decision.returned),
        (made[0], Decision.confirmed),
        (made[3], Decision.rejected),
    ]:
        db.session.add(
            ConfirmationAudit(
                assessment_id=a.id,
                round=1,
                status=AuditStatus.decided,
                decision=decision,
                due_date=clock.today(),
                decided_at=clock.utcnow(),
            )
        )
    db.session.flush()
    sup = UserFactory(role=Role.supervisor)
    clerk = UserFactory(role=Role.body_clerk, org=alpha)
    return {"alpha": alpha, "beta": beta, "sup": sup, "clerk": clerk}


def _figure_table(html: str, key: str) -> list[list[tuple[str, str | None]]]:
    """The rows of figure ``key``'s table as (text, link) per cell."""
    m = re.search(rf'<table[^>]*id="tbl-{key}".*?</table>', html, re.S)
    assert m, f"figure {key} has no table"
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", m.group(0).split("<tbody>")[1], re.S):
        cells = []
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S):
            link = re.search(r'href="([^"]+)"', cell)
            cells.append(
                (unescape(re.sub(r"<[^>]+>", "", cell)).strip(), unescape(link.group(1)) if link else None)
            )
        out.append(cells)
    return out


def _list_total(client, href: str) -> int:
    html = client.get(href).get_data(as_text=True)
    m = re.search(r'data-total="(\d+)"', html)
    assert m, href
    return int(m.group(1))


def test_filings_per_month_by_grade_are_hand_counted_and_drill_down(client, login, world):
    login(world["sup"])
    html = client.get("/dashboard").get_data(as_text=True)
    rows = _figure_table(html, "filings_by_month")
    assert len(rows) == 12
    this_month = rows[-1]
    assert this_month[0][0] == clock.today().strftime("%Y-%m")
    by_grade = dict(
        zip(["A", "AA", "AAA", "AAAA", "AAAAA", "total"], [c[0] for c in this_month[1:]], strict=True)
    )
    assert by_grade == {"A": "1", "AA": "2", "AAA": "1", "AAAA": "0", "AAAAA": "0", "total": "4"}
    assert sum(int(r[-1][0]) for r in rows) == 5
    for text, href in this_month[1:]:
        assert _list_total(client, href) == int(text), href


def test_province_and_industry_tables_drill_down_to_the_same_counts(client, login, world):
    login(world["sup"])
    html = client.get("/dashboard").get_data(as_text=True)
    provinces = {r[0][0]: r for r in _figure_table(html, "by_province")}
    assert {k: v[1][0] for k, v in provinces.items()} == {"福建省": "2", "广东省": "2", "北京市": "1"}
    industries = {r[0][0][:1]: r for r in _figure_table(html, "by_industry")}
    assert industries["C"][1][0] == "3" and industries["I"][1][0] == "1" and industries["F"][1][0] == "1"
    for row in [*provinces.values(), *industries.values()]:
        for text, href in row[1:]:
            assert _list_total(client, href) == int(text), href


def test_confirmation_outcomes_by_body_with_rates_and_counts(client, login, world):
    login(world["sup"])
    html = client.get("/dashboard").get_data(as_text=True)
    rows = {r[0][0]: r for r in _figure_table(html, "confirmation_outcomes")}
    alpha = rows["甲评定机构"]
    assert [c[0] for c in alpha[1:]] == ["1 (50%)", "0 (0%)", "0 (0%)", "2"]
    assert [c[0] for c in rows["乙评定机构"][1:]] == ["0 (0%)", "0 (0%)", "1 (100%)", "1"]
    assert "decision=returned" in alpha[1][1]
    # the linked queue (decided tab, that body, that outcome, the period) holds exactly that audit
    page = client.get(alpha[1][1]).get_data(as_text=True)
    assert re.search(r'data-count="decided">1<', page)
    assert re.search(r'data-count="decided">2<', client.get(alpha[4][1]).get_data(as_text=True))


def test_each_figure_downloads_as_csv(client, login, world):
    login(world["sup"])
    resp = client.get("/dashboard/figures/by_province.csv")
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][0] == "省份" and {r[0]: r[1] for r in rows[1:]}["福建省"] == "2"
    assert client.get("/dashboard/figures/nothing.csv").status_code == 404


def test_a_clerk_sees_their_body_against_the_median_and_no_other_name(client, login, world):
    login(world["clerk"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert "乙评定机构" not in html
    assert "confirmation_outcomes" not in html and "by_province" not in html
    rows = {r[0][0]: r for r in _figure_table(html, "own_vs_market")}
    filings = next(iter(rows.values()))
    assert filings[1][0] == "3" and filings[2][0] == "2.5"  # ours 3; the median of 3 and 2
    assert _list_total(client, filings[1][1]) == 3
    csv_text = client.get("/dashboard/figures/own_vs_market.csv").get_data(as_text=True)
    assert "乙评定机构" not in csv_text
    assert client.get("/dashboard/figures/confirmation_outcomes.csv").status_code == 404
    months = _figure_table(html, "filings_by_month")
    assert months[-1][-1][0] == "3"  # their own filings only


def test_office_figures_are_kept_for_the_configured_seconds(app, world):
    from auditbo.dashboard import figures
    from tests.conftest import count_queries

    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    try:
        with app.test_request_context("/"):
            first = figures.office_figures(world["sup"])
            with count_queries() as statements:
                again = figures.office_figures(world["sup"])
            assert again is first and statements == []
    finally:
        app.config["DASHBOARD_CACHE_SECONDS"] = 0
        figures._KEPT.clear()


def test_spot_check_results_drill_down_by_outcome(client, login, world):
    from auditbo.spotchecks.models import CheckOutcome, CheckStatus, SpotCheck

    made = [CertificateFactory(body=world["alpha"]) for _ in range(3)]
    db.session.flush()
    for a, outcome in zip(
        made, [CheckOutcome.major_findings, CheckOutcome.conforming, CheckOutcome.conforming], strict=True
    ):
        db.session.add(
            SpotCheck(
                assessment_id=a.id,
                status=CheckStatus.closed,
                outcome=outcome,
                opened_on=clock.today(),
                closed_on=clock.today(),
            )
        )
    db.session.flush()
    login(world["sup"])
    rows = _figure_table(client.get("/dashboard").get_data(as_text=True), "spotcheck_findings")
    counted = [int(r[1][0]) for r in rows]
    assert counted == [2, 0, 1, 3]  # conforming, minor, major, total
    for row in rows:
        assert _list_total(client, row[1][1]) == int(row[1][0]), row


def test_overdue_audits_link_to_the_overdue_queue(client, login, world):
    a = CertificateFactory(body=world["beta"], grade="AAA", status="pending_confirmation")
    db.session.flush()
    db.session.add(
        ConfirmationAudit(
            assessment_id=a.id,
            round=1,
            status=AuditStatus.pending,
            due_date=clock.today() - timedelta(days=1),
        )
    )
    db.session.flush()
    login(world["sup"])
    rows = _figure_table(client.get("/dashboard").get_data(as_text=True), "overdue_work")
    text, href = rows[0][1]
    assert text == "1" and "tab=overdue" in href
    assert re.search(r'data-count="overdue">1<', client.get(href).get_data(as_text=True))


def test_kept_figures_are_kept_per_body(app, client, login, world):
    """With the figures kept across requests, a body's clerk still sees only its own."""
    from auditbo.dashboard import figures

    beta_clerk = UserFactory(role=Role.body_clerk, org=world["beta"])
    db.session.flush()
    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    try:
        login(world["clerk"])
        ours = _figure_table(client.get("/dashboard").get_data(as_text=True), "own_vs_market")
        client.post("/logout")
        login(beta_clerk)
        theirs = _figure_table(client.get("/dashboard").get_data(as_text=True), "own_vs_market")
        assert (ours[0][1][0], theirs[0][1][0]) == ("3", "2")
        assert ours[0][2][0] == theirs[0][2][0] == "2.5"  # the one market median
    finally:
        app.config["DASHBOARD_CACHE_SECONDS"] = 0
        figures._KEPT.clear()
