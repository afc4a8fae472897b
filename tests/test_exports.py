"""Exports (issue 17, item 4): every list streams as CSV and XLSX in the UI's language, with the
list's filters and the caller's scope applied, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import types

import openpyxl
import pytest

from auditbo import exports
from auditbo.accounts.models import Role
from auditbo.extensions import db
from tests.factories import CertificateFactory, EnterpriseFactory, OrgFactory, UserFactory


def read_csv(resp) -> list[list[str]]:
    raw = resp.get_data()
    assert raw.startswith("\ufeff".encode()), "CSV starts with a BOM so that Excel reads Chinese"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def read_xlsx(resp) -> list[list]:
    wb = openpyxl.load_workbook(io.BytesIO(resp.get_data()), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


# --- the module -----------------------------------------------------------------------------
def test_csv_is_written_as_rows_are_read_never_all_at_once(app):
    """The first chunk leaves after one batch: a million-row list is never held at once."""
    seen = {"n": 0}

    def rows():
        for i in range(10 * exports.BATCH):
            seen["n"] += 1
            yield types.SimpleNamespace(n=i, name=f"企业{i}")

    with app.test_request_context("/"):
        chunks = exports.stream(
            "csv", [exports.Column("n", "n"), exports.Column("name", "名称")], rows(), sheet="x"
        )
        assert isinstance(chunks, types.GeneratorType)
        assert next(chunks) == "\ufeff".encode()  # the BOM
        first = next(chunks)
        assert seen["n"] <= exports.BATCH + 1
        assert first.decode().splitlines()[0] == "n,名称"
        rest = b"".join(chunks)
    assert seen["n"] == 10 * exports.BATCH
    assert rest.decode().count("\n") + first.decode().count("\n") == 10 * exports.BATCH + 1


@pytest.mark.parametrize(
    "value, shown",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("-12.5", "-12.5"),
        ("\t=1", "'\t=1"),
        ("正常", "正常"),
    ],
)
def test_cells_never_run_as_formulas(value, shown):
    assert exports.safe_cell(value) == shown


def test_small_writers_are_the_same_writers():
    data = exports.csv_bytes([["a", "=1"]])
    assert data == "\ufeffa,'=1\r\n".encode()
    wb = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes([["名称"], ["=cmd"]], "t")))
    assert [c.value for c in wb["t"]["A"]] == ["名称", "'=cmd"]


# --- the assessments list -------------------------------------------------------------------
@pytest.fixture
def two_bodies(app):
    body, other = OrgFactory(name="甲评定机构"), OrgFactory(name="乙评定机构")
    hostile = EnterpriseFactory(name='=HYPERLINK("http://evil","点我")')
    CertificateFactory(body=body, grade="AA", enterprise=hostile)
    CertificateFactory(body=body, grade="AAA", industry_code="I65", region_code="110105")
    CertificateFactory(body=other, grade="AA")
    clerk = UserFactory(role=Role.body_clerk, org=body)
    sup = UserFactory(role=Role.supervisor)
    return types.SimpleNamespace(body=body, other=other, clerk=clerk, sup=sup)


def test_assessment_export_has_chinese_headers_filters_and_safe_cells(client, login, two_bodies):
    login(two_bodies.sup)
    rows = read_csv(client.get("/assessments/export.csv"))
    assert rows[0][0] == "证书" and rows[0][2] == "企业" and "评定机构" in rows[0]
    assert len(rows) == 4
    assert any(r[2] == '\'=HYPERLINK("http://evil","点我")' for r in rows[1:])
    assert {r[rows[0].index("省份")] for r in rows[1:]} == {"福建省", "北京市"}
    assert "I 信息传输、软件和信息技术服务业" in {r[rows[0].index("行业")] for r in rows[1:]}
    only_aa = read_csv(client.get("/assessments/export.csv?grade=AA"))
    assert len(only_aa) == 3 and {r[only_aa[0].index("等级")] for r in only_aa[1:]} == {"AA"}
    by_body = read_csv(client.get(f"/assessments/export.csv?body={two_bodies.other.id}"))
    assert [r[by_body[0].index("评定机构")] for r in by_body[1:]] == ["乙评定机构"]


def test_assessment_export_xlsx_round_trips_in_english(client, login, two_bodies):
    login(two_bodies.sup)
    resp = client.get("/assessments/export.xlsx?lang=en&sort=grade")
    assert resp.status_code == 200 and resp.was_streamed
    assert resp.headers["Content-Disposition"] == "attachment; filename=assessments.xlsx"
    rows = read_xlsx(resp)
    assert rows[0][:3] == ["Certificate", "Reference", "Enterprise"]
    status = rows[0].index("Status")
    assert {r[status] for r in rows[1:]} == {"Standing"}
    assert [r[rows[0].index("Grade")] for r in rows[1:]] == ["AA", "AA", "AAA"]  # the list's order
    assert any(str(r[2]).startswith("'=HYPERLINK") for r in rows[1:])


def test_a_clerk_exports_only_their_body_and_no_body_column(client, login, two_bodies):
    login(two_bodies.clerk)
    rows = read_csv(client.get("/assessments/export.csv"))
    assert len(rows) == 3 and "评定机构" not in rows[0]
    assert "乙评定机构" not in client.get("/assessments/export.csv").get_data(as_text=True)


# --- the other lists ------------------------------------------------------------------------
def test_confirmation_export_keeps_the_tab_and_filters(client, login, app):
    from auditbo import clock
    from auditbo.confirmations.models import AuditStatus, Decision
    from tests.confirm_support import file_aaa, make_office

    office = make_office()
    _a1, returned = file_aaa(office)
    _a2, _open = file_aaa(office)
    returned.status, returned.decision, returned.decided_at = (
        AuditStatus.decided,
        Decision.returned,
        clock.utcnow(),
    )
    db.session.flush()
    login(office.admin)
    rows = read_csv(client.get("/confirmations/export.csv?tab=all"))
    assert len(rows) == 3 and "评定机构" in rows[0]
    rows = read_csv(
        client.get(f"/confirmations/export.csv?tab=decided&decision=returned&decided_from={clock.today()}")
    )
    assert [r[0] for r in rows[1:]] == [str(returned.id)]
    en = read_xlsx(client.get("/confirmations/export.xlsx?tab=decided&lang=en"))
    assert en[1][en[0].index("Outcome")] == "Returned for correction"
    assert len(read_csv(client.get("/confirmations/export.csv?tab=decided&decision=rejected"))) == 1


def test_a_clerk_cannot_export_the_office_queue(client, login, two_bodies):
    login(two_bodies.clerk)
    assert client.get("/confirmations/export.csv").status_code == 403


def test_registry_exports_bodies_and_staff_with_filters(client, login, two_bodies):
    from tests.factories import PersonFactory

    PersonFactory(org=two_bodies.body, name="张三")
    PersonFactory(org=two_bodies.other, name="=李四")
    db.session.flush()
    login(two_bodies.sup)
    rows = read_csv(client.get("/registry/export.csv?q=甲评定"))
    assert rows[0][:2] == ["名称", "统一社会信用代码"] and [r[0] for r in rows[1:]] == ["甲评定机构"]
    staff = read_xlsx(client.get(f"/registry/persons/export.xlsx?org={two_bodies.other.id}&lang=en"))
    assert staff[0][:2] == ["Person id", "Name"]
    assert [(r[1], r[3]) for r in staff[1:]] == [("'=李四", "乙评定机构")]
    client.post("/logout")
    login(two_bodies.clerk)
    assert client.get("/registry/export.csv").status_code == 403
    assert client.get("/registry/persons/export.xlsx").status_code == 403


def test_complaint_export_keeps_the_tab_and_leaves_out_the_complainant(client, login, two_bodies):
    from auditbo.complaints import services as complaints
    from auditbo.events import Actor

    for text in ("评定人日不足", "=1+1"):
        complaints.register(
            {
                "against": {"kind": "assessment_body", "credit_code": two_bodies.body.credit_code},
                "text": text,
                "source": "phone",
                "complainant": "李四",
                "contact": "li@example.cn",
            },
            actor=Actor.of(two_bodies.sup),
        )
    db.session.flush()
    login(two_bodies.sup)
    rows = read_csv(client.get("/complaints/export.csv?tab=open"))
    assert len(rows) == 3 and "评定机构" in rows[0]
    body_col = rows[0].index("评定机构")
    assert {r[body_col] for r in rows[1:]} == {"甲评定机构"}
    text = "\n".join(",".join(r) for r in rows)
    assert "李四" not in text and "li@example.cn" not in text and "'=1+1" in text
    assert len(read_csv(client.get("/complaints/export.csv?tab=closed"))) == 1
    client.post("/logout")
    login(two_bodies.clerk)
    assert client.get("/complaints/export.csv").status_code == 403


def test_spot_check_exports_plans_units_and_queues(client, login, app):
    from tests.spot_support import checks_of, drawn_plan, make_market

    m = make_market(n=12)
    plan = drawn_plan(m, size=4)
    n_checks = len(checks_of(plan))
    login(m.admin)
    plans = read_csv(client.get("/spotchecks/plans/export.csv"))
    assert [r[0] for r in plans[1:]] == [str(plan.id)]
    units = read_xlsx(client.get(f"/spotchecks/plans/{plan.id}/units.xlsx?lang=en"))
    assert units[0][:3] == ["Certificate", "Assessment body", "Grade"]
    assert len(units) == 13 and sum(1 for r in units[1:] if r[units[0].index("Drawn")] == "Yes") == n_checks
    opened = read_csv(client.get("/spotchecks/checks/export.csv?tab=open&lang=zh_Hans_CN"))
    assert len(opened) == n_checks + 1
    assert len(read_csv(client.get("/spotchecks/checks/export.csv?tab=closed"))) == 1
    client.post("/logout")
    login(m.reg.clerk)
    assert client.get("/spotchecks/plans/export.csv").status_code == 403
    assert client.get(f"/spotchecks/plans/{plan.id}/units.csv").status_code == 403


def test_a_months_ratings_export_with_reasons_in_the_ui_language(client, login, app):
    from datetime import date

    from auditbo.events import Actor
    from auditbo.ratings import services as ratings
    from tests import rating_support as rs

    m = rs.make_market(3)
    rs.history(m, [date(2026, k, 1) for k in (1, 2, 3)], per_month=2)
    sup = UserFactory(role=Role.supervisor)
    run = ratings.run_period("2026-03", actor=Actor(sup.id, sup.username))
    db.session.flush()
    login(sup)
    rows = read_xlsx(client.get(f"/ratings/runs/{run.id}/export.xlsx?type=assessment_body&lang=en"))
    assert rows[0][:4] == ["Subject", "Credit code or person id", "Name", "Grade"]
    assert len(rows) > 1 and {r[0] for r in rows[1:]} == {"Assessment bodies"}
    everyone = read_csv(client.get(f"/ratings/runs/{run.id}/export.csv?lang=zh_Hans_CN"))
    assert len(everyone) > len(rows)
    client.post("/logout")
    login(UserFactory(role=Role.body_clerk, org=OrgFactory()))
    assert client.get(f"/ratings/runs/{run.id}/export.csv").status_code == 403
