"""Due dates in Chinese working days (across the Spring Festival and its make-up Saturdays),
configurable; overdue shown and counted; reminders before the due date, once a day."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from auditbo import clock
from auditbo.confirmations import reminders, services
from auditbo.dashboard.services import office_counts
from auditbo.events import Event
from auditbo.extensions import db
from auditbo.workdays import WorkCalendar
from tests.confirm_support import actor, file_aaa, make_office

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRI_BEFORE_FESTIVAL = date(2026, 2, 13)  # the 2026 Spring Festival: off 15–23 Feb; Sat 14 and Sat 28 Feb are worked


def at(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def dated(day: date) -> dict:
    decided = day - timedelta(days=10)
    return {"decision_date": decided.isoformat(), "onsite_end": (decided - timedelta(days=5)).isoformat(),
            "onsite_start": (decided - timedelta(days=8)).isoformat()}


@pytest.fixture
def office(app):
    return make_office(2)


def test_the_calendar_knows_the_festival_and_the_make_up_saturdays():
    cal = WorkCalendar()
    assert cal.is_working_day(date(2026, 2, 14))  # a Saturday, worked
    assert not cal.is_working_day(date(2026, 2, 17))  # Spring Festival, a Tuesday
    assert not cal.is_working_day(date(2026, 2, 23))  # a Monday, off (substituted)
    assert cal.is_working_day(date(2026, 2, 28))  # a Saturday, worked
    assert cal.add_working_days(FRI_BEFORE_FESTIVAL, 1) == date(2026, 2, 14)
    assert cal.add_working_days(FRI_BEFORE_FESTIVAL, 2) == date(2026, 2, 24)


def test_a_filing_before_the_spring_festival_is_due_ten_working_days_later(office):
    with at(FRI_BEFORE_FESTIVAL):
        _, audit = file_aaa(office, **dated(FRI_BEFORE_FESTIVAL))
    # Sat 14 Feb (make-up), 24, 25, 26, 27, Sat 28 Feb (make-up), 2, 3, 4, 5 March
    assert audit.due_date == date(2026, 3, 5)
    plain_weekdays = date(2026, 2, 27)  # what ten Monday-to-Friday days would give
    assert audit.due_date != plain_weekdays


def test_a_filing_early_on_a_monday_in_china_counts_from_monday_on_a_utc_host(office):
    monday_0254 = datetime(2026, 11, 29, 18, 54, tzinfo=UTC)  # Mon 30 Nov 02:54 in Shanghai, Sun in UTC
    with time_machine.travel(monday_0254, tick=False):
        assert date.today() == date(2026, 11, 29)  # the host's day (the suite runs in UTC)
        rec, audit = file_aaa(office, **dated(date(2026, 11, 30)))
    # Dec 1, 2, 3, 4, 7, 8, 9, 10, 11, 14: ten working days after Monday (from Sunday it would be the 11th)
    assert audit.due_date == date(2026, 12, 14)
    assert rec.filed_at == monday_0254


def test_the_deadline_and_the_calendar_are_configurable(office, app, monkeypatch):
    monkeypatch.setitem(app.config, "CONFIRMATION_DUE_WORKING_DAYS", 3)
    with at(FRI_BEFORE_FESTIVAL):
        assert file_aaa(office, **dated(FRI_BEFORE_FESTIVAL))[1].due_date == date(2026, 2, 25)
    monkeypatch.setitem(app.config, "WORKDAY_EXTRA_HOLIDAYS", ["2026-02-24"])
    with at(FRI_BEFORE_FESTIVAL):
        assert file_aaa(office, **dated(FRI_BEFORE_FESTIVAL))[1].due_date == date(2026, 2, 26)


def test_overdue_is_shown_and_counted(office, client, login):
    with at(FRI_BEFORE_FESTIVAL):
        _, audit = file_aaa(office, **dated(FRI_BEFORE_FESTIVAL))
    sup = office.user(audit.assignee_id)
    with at(date(2026, 3, 5)):  # the due date itself: not yet overdue
        item = client.get(f"/api/v1/confirmations/{audit.id}", headers=office.h(sup)).get_json()
        assert item["overdue"] is False and item["working_days_left"] == 0
        assert client.get("/api/v1/confirmations?status=overdue", headers=office.h(sup)).get_json()["total"] == 0
    with at(date(2026, 3, 6)):
        item = client.get(f"/api/v1/confirmations/{audit.id}", headers=office.h(sup)).get_json()
        assert item["overdue"] is True and item["working_days_left"] == -1
        listed = client.get("/api/v1/confirmations?status=overdue", headers=office.h(sup)).get_json()
        assert [i["id"] for i in listed["items"]] == [audit.id]
        assert office_counts(sup, clock.today())["audits_overdue"] == 1
        login(sup)
        page = client.get("/confirmations/?tab=overdue&lang=en").get_data(as_text=True)
        assert 'data-count="overdue">1<' in page and f'data-audit="{audit.id}"' in page and "data-overdue" in page


def _reminders(audit_id=None):
    stmt = sa.select(Event).where(Event.action == "reminder_sent")
    if audit_id:
        stmt = stmt.where(Event.record_id == str(audit_id))
    return db.session.scalars(stmt.order_by(Event.id)).all()


def test_reminders_go_out_before_the_due_date_once_a_day(office, client, login):
    with at(FRI_BEFORE_FESTIVAL):
        _, audit = file_aaa(office, **dated(FRI_BEFORE_FESTIVAL))
        _, decided = file_aaa(office, **dated(FRI_BEFORE_FESTIVAL))
        services.decide(decided, "confirmed", None, "", decided.version,
                        actor(office.user(decided.assignee_id)), via="api")
    with at(date(2026, 3, 2)):  # three working days left: too early
        assert reminders.send_reminders(clock.today()) == 0
    with at(date(2026, 3, 3)):  # two working days left
        assert reminders.send_reminders(clock.today()) == 1
        assert reminders.send_reminders(clock.today()) == 0  # idempotent per audit per day
        (ev,) = _reminders(audit.id)
        assert ev.after == {"to": audit.assignee_id, "for_date": "2026-03-03", "due_date": "2026-03-05",
                            "working_days_left": 2}
        login(office.user(audit.assignee_id))
        page = client.get("/confirmations/?lang=en").get_data(as_text=True)
        assert 'id="reminders"' in page and "2026-03-05" in page
    with at(date(2026, 3, 4)):
        assert reminders.send_reminders(clock.today()) == 1
    with at(date(2026, 3, 6)):  # overdue: shown as overdue, no more "before it falls due" reminders
        assert reminders.send_reminders(clock.today()) == 0
    assert not _reminders(decided.id)


def test_the_reminder_command(office, app):
    with at(FRI_BEFORE_FESTIVAL):
        file_aaa(office, **dated(FRI_BEFORE_FESTIVAL))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["confirmations", "remind", "--date", "2026-03-04"])
    assert result.exit_code == 0 and "1 reminder(s) sent" in result.output
    again = runner.invoke(args=["confirmations", "remind", "--date", "2026-03-04"])
    assert "0 reminder(s) sent" in again.output
    bad = runner.invoke(args=["confirmations", "remind", "--date", "04/03/2026"])
    assert bad.exit_code != 0
