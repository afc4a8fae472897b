"""The body comparison (issue 17, item 3): per body the listed figures, hand-counted; sortable,
filterable by period, exportable; drill-downs count the same; the office's page only."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from auditbo import clock
from auditbo.accounts.models import Role
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision
from auditbo.extensions import db
from tests.factories import CertificateFactory, OrgFactory, UserFactory


def _at(days_ago: int) -> datetime:
    day = clock.today() - timedelta(days=days_ago)
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)


@pytest.fixture
def world(app):
    alpha, beta = OrgFactory(name="甲评定机构"), OrgFactory(name="乙评定机构")
    specs = [
        (alpha, True, False, 0),
        (alpha, False, True, 0),
        (alpha, False, False, 0),
        (alpha, True, False, 0),
        (beta, False, False, 0),
        (beta, False, False, 400),
    ]  # beta's second is outside the last 12 months
    made = []
    for body, late, jump, days in specs:
        a = CertificateFactory(body=body, flag_late=late, flag_grade_jump=jump)
        a.filed_at = _at(days)
        made.append(a)
    db.session.flush()
    for a, d in [(made[0], Decision.returned), (made[1], Decision.confirmed), (made[4], Decision.rejected)]:
        db.session.add(
            ConfirmationAudit(
                assessment_id=a.id,
                round=1,
                status=AuditStatus.decided,
                decision=d,
                due_date=clock.today(),
                decided_at=clock.utcnow(),
            )
        )
    db.session.flush()
    return {
        "alpha": alpha,
        "beta": beta,
        "sup": UserFactory(role=Role.supervisor),
        "clerk": UserFactory(role=Role.body_clerk, org=alpha),
    }


def _rows(html: str) -> dict[str, dict[str, str]]:
    out = {}
    for tr in re.findall(r'<tr data-body="\d+">(.*?)</tr>', html, re.S):
        name = re.sub(r"<[^>]+>", "", re.search(r"<th[^>]*>(.*?)</th>", tr, re.S).group(1)).strip()
        out[name] = {k: v for k, v in re.findall(r'data-col="(\w+)" data-value="([^"]*)"', tr)}
    return out


def test_figures_per_body_are_hand_counted(client, login, world):
    login(world["sup"])
    rows = _rows(client.get("/dashboard/bodies").get_data(as_text=True))
    a, b = rows["甲评定机构"], rows["乙评定机构"]
    assert (a["filings"], a["late_share"], a["jump_share"]) == ("4", "0.5", "0.25")
    assert (a["decided"], a["returned_rate"], a["rejected_rate"]) == ("2", "0.5", "0.0")
    assert (b["filings"], b["decided"], b["rejected_rate"]) == ("1", "1", "1.0")
    assert a["complaints"] == "0" and a["rating"] == ""


def test_sorting_and_period(client, login, world):
    login(world["sup"])
    html = client.get("/dashboard/bodies?sort=-filings").get_data(as_text=True)
    names = list(_rows(html))
    assert names.index("甲评定机构") < names.index("乙评定机构")
    names = list(_rows(client.get("/dashboard/bodies?sort=filings").get_data(as_text=True)))
    assert names.index("乙评定机构") < names.index("甲评定机构")
    old = (clock.today() - timedelta(days=400)).strftime("%Y-%m")
    rows = _rows(client.get(f"/dashboard/bodies?from={old}&to={old}").get_data(as_text=True))
    assert rows["乙评定机构"]["filings"] == "1" and rows["甲评定机构"]["filings"] == "0"


def test_drill_downs_count_the_same(client, login, world):
    login(world["sup"])
    html = client.get("/dashboard/bodies").get_data(as_text=True)
    row = re.search(rf'<tr data-body="{world["alpha"].id}">(.*?)</tr>', html, re.S).group(1)
    link = dict(re.findall(r'data-col="(\w+)"[^>]*><a href="([^"]+)"', row))
    filings = client.get(link["filings"].replace("&amp;", "&")).get_data(as_text=True)
    assert 'data-total="4"' in filings
    late = client.get(link["late_share"].replace("&amp;", "&")).get_data(as_text=True)
    assert 'data-total="2"' in late
    returned = client.get(link["returned_rate"].replace("&amp;", "&")).get_data(as_text=True)
    assert 'data-count="decided">1<' in returned


def test_export_round_trips(client, login, world):
    login(world["sup"])
    resp = client.get("/dashboard/bodies/export.xlsx?sort=-filings&lang=en")
    sheet = [
        list(r)
        for r in openpyxl.load_workbook(io.BytesIO(resp.get_data())).worksheets[0].iter_rows(values_only=True)
    ]
    assert sheet[0][:2] == ["Assessment body", "Filings"]
    by_name = {r[0]: r for r in sheet[1:]}
    assert by_name["甲评定机构"][1] == 4 and by_name["甲评定机构"][2] == 0.5
    text = client.get("/dashboard/bodies/export.csv?lang=zh_Hans_CN").get_data().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[0][0] == "评定机构"


def test_only_the_office_compares_bodies(client, login, world):
    login(world["clerk"])
    assert client.get("/dashboard/bodies").status_code == 403
    assert client.get("/dashboard/bodies/export.csv").status_code == 403
