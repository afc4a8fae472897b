"""Bulk onboarding: `orgs import`, `persons import` (CSV/XLSX), all-or-nothing, re-runnable, refusing unsafe files."""

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from auditbo import clock
from auditbo.codes import make_credit_code
from auditbo.errors import ValidationFailed
from auditbo.events import SYSTEM, Event
from auditbo.extensions import db
from auditbo.orgs import imports
from auditbo.orgs.models import Organisation, Person, RegistryStatus
from tests.conftest import count_rows
from tests.factories import OrgFactory

BODY = make_credit_code("330106", "MA7000001")
CONS = make_credit_code("320505", "MA7000002")
BODY2 = make_credit_code("440304", "MA7000003")
BAD_CHECK = BODY2[:-1] + ("0" if BODY2[-1] != "0" else "1")

ORGS_CSV = (
    "credit_code,name,kind,region_code,status\n"
    f"{BODY},杭州示范评定中心有限公司,assessment_body,330106,active\n"
    f"{CONS},苏州示范咨询有限公司,consulting_body,320505,active\n"
    f"{BODY2},深圳示范评定有限公司,assessment_body,440304,suspended\n"
)
PERSONS_CSV = (
    "person_id,name,kind,org_credit_code,qualification,valid_until\n"
    f"A-5001,陈静,assessor,{BODY},senior_lead,2028-12-31\n"
    f"A-5002,赵强,assessor,{BODY},lead,2027-06-30\n"
    f"C-5001,周敏,consultant,{CONS},consultant,2027-03-31\n"
)


def run(which, text_or_bytes, filename=None, **kw):
    data = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    return imports.run_import(which, filename or f"{which}.csv", data, actor=SYSTEM, **kw)


def failure(which, data, filename=None) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as exc:
        run(which, data, filename)
    return exc.value


def messages(exc: ValidationFailed) -> list[str]:
    return [f"{e.field}: {e.message}" for e in exc.errors]


def events_count() -> int:
    return count_rows(Event)


def xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- good files
def test_good_orgs_file_registers_every_body_with_an_event_each(app):
    report = run("orgs", ORGS_CSV)
    assert (report.rows, report.created, report.updated, report.unchanged) == (3, 3, 0, 0)
    orgs = {o.credit_code: o for o in db.session.scalars(sa.select(Organisation))}
    assert orgs[CONS].name == "苏州示范咨询有限公司" and orgs[CONS].kind.value == "consulting_body"
    suspended = orgs[BODY2]
    assert suspended.status is RegistryStatus.suspended
    assert suspended.status_reason == "registry import" and suspended.status_changed_on == clock.today()
    assert events_count() == 3


def test_good_persons_file_after_the_bodies(app):
    run("orgs", ORGS_CSV)
    report = run("persons", PERSONS_CSV)
    assert report.created == 3
    lead = db.session.scalar(sa.select(Person).where(Person.person_id == "A-5002"))
    assert lead.qualification.value == "lead" and lead.valid_until == date(2027, 6, 30)
    assert lead.org.credit_code == BODY


def test_rerun_is_idempotent_and_logs_nothing(app):
    run("orgs", ORGS_CSV)
    run("persons", PERSONS_CSV)
    before = events_count()
    again = run("orgs", ORGS_CSV)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert run("persons", PERSONS_CSV).unchanged == 3
    assert events_count() == before
    assert count_rows(Organisation) == 3 and count_rows(Person) == 3


def test_reimport_updates_changed_rows_only_and_never_deletes(app):
    run("orgs", ORGS_CSV)
    changed = (
        "credit_code,name,kind,region_code,status\n"
        f"{BODY},杭州示范评定中心(更名)有限公司,assessment_body,330106,active\n"
    )
    report = run("orgs", changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    assert count_rows(Organisation) == 3  # rows not in the file stay
    ev = db.session.scalars(sa.select(Event).order_by(Event.id.desc())).first()
    assert ev.action == "updated" and ev.after == {"name": "杭州示范评定中心(更名)有限公司"}


def test_xlsx_with_chinese_headers_dates_and_numbers(app):
    run("orgs", ORGS_CSV)
    data = xlsx([
        ["人员编号", "姓名", "人员类型", "所属机构统一社会信用代码", "资格", "资格有效期至"],
        [5003, "孙丽", "评定人员", BODY, "高级组长", datetime(2029, 1, 31)],
        ["C-5009", "吴杰", "咨询师", CONS, "咨询师", "2028/2/29"],
    ])
    report = run("persons", data, "staff.xlsx")
    assert report.created == 2
    p = db.session.scalar(sa.select(Person).where(Person.person_id == "5003"))
    assert p.qualification.value == "senior_lead" and p.valid_until == date(2029, 1, 31)


def test_gbk_csv_from_chinese_excel_is_accepted(app):
    report = run("orgs", ORGS_CSV.encode("gbk"))
    assert report.created == 3
    assert db.session.scalar(sa.select(Organisation.name).where(Organisation.credit_code == CONS)) == "苏州示范咨询有限公司"


def test_utf8_bom_csv_is_accepted(app):
    assert run("orgs", "\ufeff" + ORGS_CSV).created == 3


# --------------------------------------------------------------------------- one bad row: nothing changes
def test_one_bad_row_changes_nothing_and_every_bad_field_is_reported(app):
    existing = OrgFactory(credit_code=BODY, name="旧名称有限公司", region_code="330106")
    before_events = events_count()
    bad = (
        "credit_code,name,kind,region_code,status\n"
        f"{BODY},新名称有限公司,assessment_body,330106,active\n"
        f"{CONS},苏州示范咨询有限公司,consulting_body,320505,active\n"
        f"{BAD_CHECK},深圳示范评定有限公司,assessment_bod,440304,paused\n"
    )
    exc = failure("orgs", bad)
    expected_check = BAD_CHECK[-1]
    assert messages(exc) == [
        f"row 4, credit_code: check character is {expected_check}, expected {BODY2[-1]}",
        "row 4, kind: must be one of assessment_body, consulting_body, got 'assessment_bod'",
        "row 4, status: must be one of active, suspended, revoked, got 'paused'",
    ]
    assert exc.detail == "1 of 3 rows are invalid; nothing was imported"
    db.session.refresh(existing)
    assert existing.name == "旧名称有限公司"
    assert count_rows(Organisation) == 1
    assert events_count() == before_events


def test_bad_persons_rows_reported_against_the_registry(app):
    run("orgs", ORGS_CSV)
    bad = (
        "person_id,name,kind,org_credit_code,qualification,valid_until\n"
        f"A-5001,陈静,assessor,{BODY},senior_lead,2028-12-31\n"
        f"A-5002,赵强,assessor,{CONS},lead,2027-02-30\n"
        f"A-5001,重复,assessor,{BODY},assessor,2027-01-01\n"
        f"C-1,无机构,consultant,{make_credit_code('110105', 'MA7000099')},consultant,2027-01-01\n"
    )
    exc = failure("persons", bad)
    assert messages(exc) == [
        "row 3, valid_until: 2027-02-30 is not a calendar date",
        "row 3, org_credit_code: an assessor works for an assessment_body, not a consulting_body",
        "row 4, person_id: A-5001 repeats row 2",
        f"row 5, org_credit_code: no registered body with credit code {make_credit_code('110105', 'MA7000099')}",
    ]
    assert count_rows(Person) == 0


# --------------------------------------------------------------------------- refused files
def test_formula_cells_are_refused_in_csv_and_xlsx(app):
    exc = failure("orgs", ORGS_CSV + f'{make_credit_code("110105", "MA7000010")},"=HYPERLINK(""http://x"")",'
                                     "assessment_body,110105,active\n")
    assert messages(exc) == ["row 5, name: starts with =: cells that start with = + - @ are refused as "
                             "formula injection"]
    for bad in ("+1", "-1", "@SUM(A1)"):
        data = xlsx([["credit_code", "name", "kind", "region_code"], [BODY, bad, "assessment_body", "330106"]])
        assert failure("orgs", data, "o.xlsx").errors[0].field == "row 2, name"
    data = xlsx([["credit_code", "name", "kind", "region_code"], [BODY, "=1+1", "assessment_body", "330106"]])
    assert failure("orgs", data, "o.xlsx").errors[0].message.startswith("starts with =")
    assert count_rows(Organisation) == 0


def test_text_that_is_neither_utf8_nor_gbk_is_refused(app):
    exc = failure("orgs", b"credit_code,name\n\x80\xff\xfe\x81\n")
    assert exc.errors[0].message == "the file is neither UTF-8 nor GBK/GB18030 text"
    assert "UTF-16" in failure("orgs", ORGS_CSV.encode("utf-16")).errors[0].message


def test_more_than_50000_rows_are_refused(app):
    line = f"{BODY},某某有限公司,assessment_body,330106,active\n"
    data = "credit_code,name,kind,region_code,status\n" + line * (imports.MAX_ROWS + 1)
    exc = failure("orgs", data)
    assert exc.errors[0].message == "the file has more than 50000 rows: split it"


def test_zip_bomb_is_refused_before_openpyxl_opens_it(app, monkeypatch):
    good = xlsx([["credit_code", "name", "kind", "region_code"]])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/media/padding.bin", b"\0" * (8 * 1024 * 1024))
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1))
    exc = failure("orgs", buf.getvalue(), "bomb.xlsx")
    assert "zip bomb" in exc.errors[0].message
    assert opened == []
    monkeypatch.setattr(imports, "MAX_UNCOMPRESSED", 1000)
    assert "inflates to" in failure("orgs", good, "x.xlsx").errors[0].message


def test_headers_unknown_missing_and_not_a_workbook(app):
    exc = failure("orgs", "credit code,name,kind\nx,y,z\n")
    assert messages(exc) == [
        "header: unknown column 'credit code' (column 1); expected credit_code, name, kind, region_code, "
        "status, status_reason, scope, contact",
        "header: missing column(s): credit_code, region_code",
    ]
    assert failure("orgs", b"PK\x03\x04garbage", "x.xlsx").errors[0].message == "the file is not a valid XLSX workbook"
    assert failure("orgs", "").errors[0].message == "the file is empty"


def test_templates_round_trip(app):
    for which in ("orgs", "persons"):
        for lang in ("en", "zh"):
            table = imports.read_table("t.xlsx", imports.template_xlsx(which, lang), imports.KINDS[which][0])
            assert table.rows == [] and table.columns == list(imports.KINDS[which][0])
            assert imports.read_table("t.csv", imports.template_csv(which, lang), imports.KINDS[which][0]).rows == []


# --------------------------------------------------------------------------- the CLI (spec/api.md)
@pytest.fixture
def cli(app):
    return app.test_cli_runner()  # click >= 8.2: stdout and stderr apart


def test_cli_imports_and_reruns(app, cli, tmp_path):
    orgs_file = tmp_path / "orgs.csv"
    orgs_file.write_text(ORGS_CSV, encoding="utf-8")
    persons_file = tmp_path / "persons.xlsx"
    persons_file.write_bytes(xlsx([list(PERSONS_CSV.splitlines()[0].split(","))]
                                  + [line.split(",") for line in PERSONS_CSV.splitlines()[1:]]))
    result = cli.invoke(args=["orgs", "import", str(orgs_file)])
    assert result.exit_code == 0, result.output
    assert "imported orgs.csv: 3 rows: 3 created, 0 updated, 0 unchanged" in result.stdout
    result = cli.invoke(args=["persons", "import", str(persons_file)])
    assert result.exit_code == 0, result.output
    assert "3 created" in result.stdout
    result = cli.invoke(args=["orgs", "import", str(orgs_file)])
    assert "0 created, 0 updated, 3 unchanged" in result.stdout


def test_cli_reports_every_bad_row_then_one_line_and_exits_1(app, cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(ORGS_CSV.replace(BODY2, BAD_CHECK).replace("consulting_body,", "consulting,"), encoding="utf-8")
    result = cli.invoke(args=["orgs", "import", str(bad)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert "row 3, kind: must be one of assessment_body, consulting_body, got 'consulting'" in lines
    assert any(line.startswith("row 4, credit_code: check character is") for line in lines)
    assert lines[-1] == "Error: bad.csv: 2 of 3 rows are invalid; nothing was imported"
    assert count_rows(Organisation) == 0


def test_cli_dry_run_saves_nothing(app, cli, tmp_path):
    f = tmp_path / "orgs.csv"
    f.write_text(ORGS_CSV, encoding="utf-8")
    result = cli.invoke(args=["orgs", "import", "--dry-run", str(f)])
    assert result.exit_code == 0 and "dry run, nothing saved: 3 rows: 3 created" in result.stdout
    assert count_rows(Organisation) == 0
