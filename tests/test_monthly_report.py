"""The monthly supervision report (issue 17, item 5): CLI, button and job generate a month's workbook
(one sheet per topic, read back here) and printable page; stored, listed, downloadable by the office;
regenerating replaces it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from auditbo import clock
from auditbo.accounts.models import Role
from auditbo.dashboard import reports
from auditbo.extensions import db
from tests.factories import CertificateFactory, OrgFactory, UserFactory


@pytest.fixture
def month(app):
    """Last month, with two filings of one body in it and one this month."""
    last_month = reports.previous_month(clock.today())
    first, _last = reports.check_period(last_month)
    body = OrgFactory(name="报告评定机构")
    for days in (0, 3):
        a = CertificateFactory(body=body, grade="AA")
        a.filed_at = datetime.combine(
            first + timedelta(days=days), datetime.min.time(), tzinfo=UTC
        ) + timedelta(hours=6)
    CertificateFactory(body=body, grade="AAA")  # filed now: not last month's
    db.session.flush()
    return last_month


def _sheets(data: bytes) -> dict[str, list[list]]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_cli_generates_the_workbook_and_page(app, month):
    result = app.test_cli_runner().invoke(args=["reports", "monthly", "--period", month])
    assert result.exit_code == 0, result.output
    sheets = _sheets(reports.path_of(month, "xlsx").read_bytes())
    assert len(sheets) >= 7
    summary = next(iter(sheets.values()))  # the month in figures comes first
    assert summary[1][1] == 2  # assessments filed in the month
    comparison = sheets[list(sheets)[-1]]
    row = next(r for r in comparison[1:] if r[0] == "报告评定机构")
    assert row[1] == 2
    months = next(rows for rows in sheets.values() if rows[-1][0] == month)
    assert months[-1][2] == 2 and months[-1][-1] == 2  # AA column and the total of the month
    html = reports.path_of(month, "html").read_text("utf-8")
    assert f'data-period="{month}"' in html and 'data-chart="stacked"' in html and "<script>" not in html


def test_a_bad_or_future_month_is_refused(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["reports", "monthly", "--period", "2026-13"]).exit_code == 1
    future = (clock.today().replace(day=1) + timedelta(days=40)).strftime("%Y-%m")
    out = runner.invoke(args=["reports", "monthly", "--period", future])
    assert out.exit_code == 1 and "period" in out.output


def test_the_office_generates_lists_and_downloads_and_regenerating_replaces(client, login, month):
    sup = UserFactory(role=Role.supervisor)
    login(sup)
    resp = client.post("/dashboard/reports", data={"period": month})
    assert resp.status_code == 302
    listing = client.get("/dashboard/reports").get_data(as_text=True)
    assert f'data-period="{month}"' in listing
    page = client.get(f"/dashboard/reports/{month}.html")
    assert (
        page.status_code == 200
        and page.mimetype == "text/html"
        and "报告评定机构" in page.get_data(as_text=True)
    )
    first = client.get(f"/dashboard/reports/{month}.xlsx")
    assert first.headers["Content-Disposition"].startswith("attachment")
    # another filing in that month, then the month again: the stored report is replaced
    first_day, _ = reports.check_period(month)
    a = CertificateFactory(body=OrgFactory(name="新评定机构"), grade="A")
    a.filed_at = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    db.session.flush()
    assert client.post("/dashboard/reports", data={"period": month}).status_code == 302
    again = _sheets(client.get(f"/dashboard/reports/{month}.xlsx").get_data())
    summary = next(iter(again.values()))
    assert summary[1][1] == 3
    assert len([r for r in reports.stored() if r["period"] == month]) == 1


def test_a_clerk_sees_no_reports(client, login, month):
    body = OrgFactory()
    login(UserFactory(role=Role.body_clerk, org=body))
    assert client.get("/dashboard/reports").status_code == 403
    assert client.post("/dashboard/reports", data={"period": month}).status_code == 403
    assert client.get(f"/dashboard/reports/{month}.xlsx").status_code == 403


def test_the_job_makes_last_months_report_once(app, month):
    day = clock.today()
    for fmt in ("xlsx", "html"):
        path = reports.path_of(month, fmt)
        if path:
            path.unlink()
    assert reports.run_monthly(day) == {"period": month, "generated": True}
    assert reports.run_monthly(day) == {"period": month, "generated": False}
