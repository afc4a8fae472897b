"""One clock: "now" and "today" in the office's zone, whatever the host's zone is.

The suite runs with the process in UTC (tests/conftest.py) and the office in Shanghai, so
that a date taken from the host instead of the clock is visibly a day off between 16:00
and 24:00 UTC.
"""

import re
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask

from auditbo import clock
from auditbo.config import load_config

# Monday 30 November 2026, 02:54 in Shanghai, is still Sunday 29 November in UTC.
MONDAY_0254_SHANGHAI = datetime(2026, 11, 29, 18, 54, tzinfo=UTC)
PACKAGE = Path(clock.__file__).resolve().parent


def test_the_suite_runs_with_the_process_in_utc():
    assert time.strftime("%z") == "+0000"


def test_today_is_the_office_day_not_the_host_day():
    with time_machine.travel(MONDAY_0254_SHANGHAI, tick=False):
        assert date.today() == date(2026, 11, 29)  # the host (UTC) is still on Sunday
        assert clock.today() == date(2026, 11, 30)  # the office is on Monday
        now = clock.now()
        assert now == MONDAY_0254_SHANGHAI
        assert (now.hour, now.minute) == (2, 54) and now.utcoffset() == timedelta(hours=8)
        assert clock.utcnow() == MONDAY_0254_SHANGHAI and clock.utcnow().utcoffset() == timedelta(0)


def test_outside_an_app_the_zone_is_the_configured_default(monkeypatch):
    monkeypatch.delenv("AUDITBO_TIMEZONE", raising=False)
    assert clock.office_zone() == ZoneInfo("Asia/Shanghai")
    monkeypatch.setenv("AUDITBO_TIMEZONE", "Europe/Berlin")  # a job or a CLI without an app
    assert clock.office_zone() == ZoneInfo("Europe/Berlin")


def test_inside_an_app_the_zone_is_the_apps():
    app = Flask(__name__)
    app.config["TIMEZONE"] = "America/New_York"
    with app.app_context(), time_machine.travel(MONDAY_0254_SHANGHAI, tick=False):
        assert clock.office_zone() == ZoneInfo("America/New_York")
        assert clock.today() == date(2026, 11, 29)
        assert clock.now().hour == 13


def test_display_is_in_the_office_zone_with_the_zone_named():
    assert clock.format_local(MONDAY_0254_SHANGHAI) == "2026-11-30 02:54 (UTC+8)"
    assert clock.format_local(MONDAY_0254_SHANGHAI, date_only=True) == "2026-11-30"
    assert clock.format_local(None) == "—"
    local = clock.to_local(MONDAY_0254_SHANGHAI)
    assert local.tzinfo == ZoneInfo("Asia/Shanghai") and local.hour == 2
    # a naive value (SQLite without the column type) is a UTC timestamp, as stored
    assert clock.to_local(MONDAY_0254_SHANGHAI.replace(tzinfo=None)) == MONDAY_0254_SHANGHAI
    assert clock.to_local(MONDAY_0254_SHANGHAI.astimezone(timezone(timedelta(hours=-5)))).hour == 2


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Asia/Shanghai", "UTC+8"),
        ("UTC", "UTC"),
        ("Asia/Kolkata", "UTC+5:30"),
        ("America/New_York", "UTC-5"),
    ],
)
def test_the_zone_label_is_the_offset_at_that_instant(zone, label):
    app = Flask(__name__)
    app.config["TIMEZONE"] = zone
    with app.app_context():
        assert clock.zone_label(MONDAY_0254_SHANGHAI) == label


def test_start_of_an_office_day_is_midnight_in_the_office():
    start = clock.start_of(date(2026, 11, 30))
    assert start == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


# --- configuration: one key, the others derived --------------------------------------------
def test_one_time_zone_key_drives_babel_and_the_scheduler(monkeypatch):
    for key in ("TIMEZONE", "SCHEDULER_TIMEZONE", "BABEL_DEFAULT_TIMEZONE"):
        monkeypatch.delenv("AUDITBO_" + key, raising=False)
    cfg = load_config({"ENV_NAME": "testing"})
    assert cfg["TIMEZONE"] == cfg["SCHEDULER_TIMEZONE"] == cfg["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"
    monkeypatch.setenv("AUDITBO_TIMEZONE", "Asia/Urumqi")
    cfg = load_config({"ENV_NAME": "testing"})
    assert cfg["TIMEZONE"] == cfg["SCHEDULER_TIMEZONE"] == cfg["BABEL_DEFAULT_TIMEZONE"] == "Asia/Urumqi"


def test_the_old_keys_still_set_the_zone_but_cannot_disagree(monkeypatch):
    monkeypatch.delenv("AUDITBO_TIMEZONE", raising=False)
    monkeypatch.setenv("AUDITBO_SCHEDULER_TIMEZONE", "Asia/Urumqi")
    cfg = load_config({"ENV_NAME": "testing"})
    assert cfg["TIMEZONE"] == cfg["BABEL_DEFAULT_TIMEZONE"] == "Asia/Urumqi"
    monkeypatch.setenv("AUDITBO_TIMEZONE", "Asia/Shanghai")
    with pytest.raises(RuntimeError, match="AUDITBO_SCHEDULER_TIMEZONE"):
        load_config({"ENV_NAME": "testing"})


def test_an_unknown_zone_is_refused_with_its_variable(monkeypatch):
    monkeypatch.setenv("AUDITBO_TIMEZONE", "Mars/Olympus")
    with pytest.raises(RuntimeError, match="AUDITBO_TIMEZONE"):
        load_config({"ENV_NAME": "testing"})


# --- the rule holds: nothing else reads the host's clock ----------------------------------------
FORBIDDEN = re.compile(
    r"\b(?:date|datetime)\.today\(|\bdatetime\.now\(|\bdatetime\.utcnow\(|\btime\.(?:time|localtime|gmtime|strftime)\("
)
OWN_CLOCKS = re.compile(r"^\s*def (?:_?utcnow|_?now|_?today)\(", re.MULTILINE)


def test_only_the_clock_reads_the_time():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "clock.py" and path.parent == PACKAGE:
            continue
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if FORBIDDEN.search(line.split("#", 1)[0]):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}")
        for m in OWN_CLOCKS.finditer(text):
            offenders.append(
                f"{path.relative_to(PACKAGE.parent)}: defines its own clock {m.group(0).strip()}"
            )
    assert not offenders, "use auditbo.clock (now, today, utcnow):\n" + "\n".join(offenders)


def test_the_scheduler_runs_in_the_office_zone(app, monkeypatch):
    from auditbo.jobs import build_scheduler

    monkeypatch.setitem(app.config, "TIMEZONE", "Asia/Urumqi")
    assert str(build_scheduler(app, blocking=False).timezone) == "Asia/Urumqi"
