from datetime import date

from auditbo.workdays import WorkCalendar


def test_spring_festival_2026_and_makeup_saturday():
    cal = WorkCalendar()
    assert not cal.is_working_day(date(2026, 2, 17))  # Spring Festival
    assert not cal.is_working_day(date(2026, 2, 23))  # day off in lieu (Monday)
    assert cal.is_working_day(date(2026, 2, 14))  # make-up Saturday
    assert cal.is_working_day(date(2026, 2, 28))  # make-up Saturday
    # filed Friday 13 Feb: working days after it are Sat 14 (make-up), then the holiday
    # runs 15-23 Feb; 24, 25, 26, 27, Sat 28 (make-up), Mar 2, 3, 4, 5 -> the 10th is 5 Mar
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 13), 10) == date(2026, 3, 5)


def test_working_days_between_is_inverse_of_add():
    cal = WorkCalendar()
    start = date(2026, 9, 25)
    end = cal.add_working_days(start, 10)  # across the National Day week
    assert end > date(2026, 10, 8)
    assert cal.working_days_between(start, end) == 10
    assert cal.working_days_between(end, start) == -10


def test_configured_overrides():
    cal = WorkCalendar(extra_holidays=["2026-03-02"], extra_workdays=["2026-03-07"])
    assert not cal.is_working_day(date(2026, 3, 2))
    assert cal.is_working_day(date(2026, 3, 7))
