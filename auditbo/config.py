"""Configuration: defaults in code, overrides from ``AUDITBO_*`` environment variables.

This is the only module that reads ``os.environ``.  ``load_config()`` returns a plain
dict that ``create_app`` hands to Flask; a test or a script passes its own dict of
overrides to ``create_app(config)``.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX = "AUDITBO_"

# Person-days minimum for an initial assessment by employee count (IAF MD 5, QMS).
# Each pair is (largest employee count in the band, person-days).
IAF_MD5_TABLE: list[tuple[int, float]] = [
    (5, 1.5), (10, 2), (15, 2.5), (25, 3), (45, 4), (65, 5), (85, 6), (125, 7),
    (175, 8), (275, 9), (425, 10), (625, 11), (875, 12), (1175, 13), (1550, 14),
    (2025, 15), (2675, 16), (3450, 17), (4350, 18), (5450, 19), (6800, 20),
    (8500, 21), (10700, 22),
]

DEFAULTS: dict[str, object] = {
    # --- runtime
    "ENV_NAME": "production",  # production | demo | development | testing
    "SECRET_KEY": None,  # required outside demo/development/testing
    "DATABASE_URL": None,  # default: sqlite in the instance folder
    "SQLALCHEMY_ECHO": False,
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,  # uploads (a 100,000-row CSV is ~28 MiB): 413 above this
    "MAX_JSON_LENGTH": 1024 * 1024,  # a JSON body (one filing is a few KiB): 413 above this
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    # memory:// counts per worker; several workers or hosts share limits through redis://host:6379/0
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,  # the shared storage down: per-worker limits, not 500s
    "RATELIMIT_ENABLED": True,
    "LOGIN_RATE_LIMIT": "20 per minute",
    # refused sign-ins for one username from one address (IPv6: its /64) before that pair must wait;
    # the wait starts at LOGIN_THROTTLE_SECONDS and doubles with each further failure, up to the max;
    # a pair is forgotten this many hours after its last failure. No account is ever locked.
    "LOGIN_THROTTLE_AFTER": 5,
    "LOGIN_THROTTLE_SECONDS": 60,
    "LOGIN_THROTTLE_MAX_SECONDS": 3600,
    "LOGIN_THROTTLE_FORGET_HOURS": 24,
    "DENIAL_LOG_LINES_PER_MINUTE": 60,  # anonymous 401/403/404 denials: application-log lines per process
    "DENIAL_EVENT_EVERY_SECONDS": 60,  # a signed-in user's same denial (path, status) is one event this long
    "FORCE_HTTPS": False,
    # proxies in front that set X-Forwarded-For/-Proto (1 behind one TLS proxy): without it every client
    # has the proxy's address, and per-address limits and sign-in waits would count them all as one
    "TRUSTED_PROXIES": 0,
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,  # KiB  # put a TLS-terminating proxy in front; set true behind it
    "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
    "LANGUAGES": ["zh_Hans_CN", "en"],
    # the office's zone: "today", deadlines, the scheduler and every time shown (auditbo.clock);
    # BABEL_DEFAULT_TIMEZONE and SCHEDULER_TIMEZONE are derived from it
    "TIMEZONE": "Asia/Shanghai",
    "BOOTSTRAP_SERVE_LOCAL": True,
    "WTF_CSRF_TIME_LIMIT": None,
    # --- domain rules (spec/domain.md), all configurable
    "LATE_FILING_DAYS": 30,
    "CERTIFICATE_VALID_YEARS": 3,
    "PERSON_DAYS_TABLE": IAF_MD5_TABLE,
    "PERSON_DAYS_ABOVE_TABLE": 22,
    "PERSON_DAYS_FACTORS": {"initial": 1.0, "upgrade": 1.0, "surveillance": 1 / 3, "reassessment": 2 / 3},
    "PERSON_DAYS_MAX_REDUCTION": 0.30,
    "PERSON_DAYS_RED_FLAG": 0.5,
    # employees per size band (GB/T industrial classification); [low, high], high null = no limit
    "ENTERPRISE_SIZE_BANDS": {"large": [1000, None], "medium": [300, 999], "small": [20, 299], "micro": [1, 19]},
    # a consulting body that sends at least this share of its clients (with at least N clients) to one
    # assessment body is flagged as a tie
    "TIE_SHARE": 0.6,
    "TIE_MIN_CLIENTS": 10,
    # lowest grade level (1=A .. 5=AAAAA) a qualification may lead
    "LEAD_QUALIFICATION_MAX_LEVEL": {"lead": 2, "senior_lead": 5},
    "CONFIRMATION_MIN_LEVEL": 3,  # AAA and above need a confirmation audit
    "CONFIRMATION_DUE_WORKING_DAYS": 10,
    "COMPLAINT_DUE_WORKING_DAYS": 30,  # a complaint is handled within this many working days of receipt
    "COMPLAINT_MAX_FILES": 5,  # evidence files per complaint (PDF, PNG, JPEG)
    "COMPLAINT_MAX_FILE_BYTES": 5 * 1024 * 1024,
    "PUBLIC_COMPLAINT_RATE_LIMIT": "10 per hour",  # public complaint submissions per address
    "CONFIRMATION_REVIEWER_TO_BODY": "after_decision",  # when a body sees who reviewed: always | never
    "CONFIRMATION_REMINDER_WORKING_DAYS": 2,  # remind the reviewer this many working days before the due date
    "CONFIRMATION_LOAD_CACHE_SECONDS": 10.0,  # a process reuses its count of reviewers' open audits this long
    "CONFIRMATION_TRACK_RECORD_MONTHS": 24,  # the body's and the lead's recent results shown on a review
    "WORKDAY_EXTRA_HOLIDAYS": [],
    "WORKDAY_EXTRA_WORKDAYS": [],
    "RECUSAL_LOOKBACK_YEARS": 3,
    "SURVEILLANCE_INTERVAL_MONTHS": 12,
    "SURVEILLANCE_SUSPEND_AFTER_MONTHS": 3,
    "SPOTCHECK_INSPECTORS": 2,
    "SPOTCHECK_REPEAT_MONTHS": 12,
    "SPOTCHECK_MAX_FILES": 20,  # evidence files on one spot check (PDF, PNG, JPEG)
    "SPOTCHECK_MAX_FILE_BYTES": 10 * 1024 * 1024,
    "DISCLOSURE_WORKING_DAYS": 20,
    "SAMPLING_SANCTION_LOOKBACK_MONTHS": 24,  # a body or lead sanctioned this recently: its records are mandatory
    "SAMPLING_PRIOR_WEIGHT": 5.0,  # prior nonconformity rates are shrunk towards the market's by this many events
    # a plan stratified by the body's credit grade samples at least this share of each grade's records
    "SAMPLING_MIN_SHARE_BY_GRADE": {"C": 0.3, "B": 0.15, "A": 0.05, "AA": 0.0, "AAA": 0.0, "NR": 0.05},
    "OBJECTION_DAYS": 15,
    "OBJECTION_MAX_FILES": 5,  # attachments of one objection to a rating (PDF, PNG, JPEG)
    "OBJECTION_MAX_FILE_BYTES": 5 * 1024 * 1024,
    "API_MAX_PER_PAGE": 500,
    "IMPORT_MAX_ROWS": 100_000,
    "IMPORT_MAX_REPORTED_ERRORS": 1000,  # row errors shown in an answer; the rest are counted and in the report file
    # server-side upload state (import previews, error reports): default instance/uploads; point every
    # host at one shared directory when several serve the site
    "UPLOAD_DIR": None,
    "UPLOAD_PREVIEW_TTL_HOURS": 24,  # an unconfirmed preview is deleted by the upload_cleanup job after this
    "IMPORT_REPORT_TTL_HOURS": 72,  # an error report can be downloaded this long
    "DASHBOARD_CACHE_SECONDS": 120.0,  # the office's dashboard figures are kept this long per process (0: never)
    "NAV_BADGE_SECONDS": 30.0,  # a user's navigation badge counts are kept this long per process (0: never)
    # database connections: check each one with a round trip when a request takes it from the pool (true), or
    # not (false: a connection dropped by a database restart fails one request, then the pool is refreshed);
    # connections older than DB_POOL_RECYCLE seconds are replaced (-1: never)
    "DB_POOL_PRE_PING": True,
    "DB_POOL_RECYCLE": 1800,
}

_DEV_ENVS = {"demo", "development", "testing"}


class ConfigError(RuntimeError):
    """A setting is missing or wrong: ``wsgi`` (and so every CLI command) says it in one line."""

_OLD_ZONE_KEYS = ("SCHEDULER_TIMEZONE", "BABEL_DEFAULT_TIMEZONE")  # replaced by TIMEZONE, still read


def _one_time_zone(overrides: dict) -> str:
    """The office's zone: TIMEZONE, or one of the older keys it replaces; never two different zones."""
    given: dict[str, str] = {}
    for key in ("TIMEZONE", *_OLD_ZONE_KEYS):
        if key in overrides:
            given[key] = overrides[key]
        elif os.environ.get(PREFIX + key):
            given[key] = os.environ[PREFIX + key]
    if len(set(given.values())) > 1:
        named = ", ".join(f"{PREFIX}{k}={v}" for k, v in given.items())
        raise ConfigError(f"time zones disagree ({named}): set {PREFIX}TIMEZONE only")
    key, name = next(iter(given.items()), ("TIMEZONE", DEFAULTS["TIMEZONE"]))
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{PREFIX}{key}: unknown time zone {name!r} (e.g. Asia/Shanghai)") from None
    return name


def office_timezone() -> str:
    """The office's zone where no app is configured (a script, a job's helper): env or default."""
    return _one_time_zone({})


def _coerce(raw: str, default: object) -> object:
    """Turn an environment string into the type of the default it overrides."""
    if isinstance(default, bool):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"expected a boolean, got {raw!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, (list, dict)):
        return json.loads(raw)
    if isinstance(default, timedelta):
        return timedelta(seconds=int(raw))
    return raw


def _check_grade_shares(shares) -> None:
    """Grades (AAA, AA, A, B, C, NR) to shares in [0, 1]; a lower grade never gets a smaller share."""
    if not isinstance(shares, dict):
        raise ValueError('a mapping of grades to shares, e.g. {"C": 0.3, "B": 0.1}')
    ladder = ["C", "B", "A", "AA", "AAA"]
    unknown = sorted(set(shares) - {*ladder, "NR"})
    if unknown:
        raise ValueError(f"unknown grade {unknown[0]!r} (AAA, AA, A, B, C, NR)")
    for grade, share in shares.items():
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise ValueError(f"{grade}: a share between 0 and 1, got {share!r}")
    for lower, higher in zip(ladder, ladder[1:], strict=False):
        if shares.get(higher, 0) > shares.get(lower, 0):
            raise ValueError(f"{higher} ({shares[higher]}) would be sampled more than the lower grade {lower}")


def load_config(overrides: dict | None = None, instance_path: str | None = None) -> dict:
    """Defaults, then ``AUDITBO_*`` environment variables, then explicit overrides."""
    cfg = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = os.environ.get(PREFIX + key)
        if raw is not None:
            try:
                cfg[key] = _coerce(raw, default)
            except ValueError as exc:
                raise ConfigError(f"{PREFIX}{key}: {exc}") from None
    cfg.update(overrides or {})
    cfg["TIMEZONE"] = _one_time_zone(overrides or {})
    cfg["BABEL_DEFAULT_TIMEZONE"] = cfg["SCHEDULER_TIMEZONE"] = cfg["TIMEZONE"]

    env = cfg["ENV_NAME"]
    if env in _DEV_ENVS:
        cfg.setdefault("SECRET_KEY", None)
        if not cfg["SECRET_KEY"]:
            cfg["SECRET_KEY"] = "dev-only-" + env  # never used in production: see below
        if "SESSION_COOKIE_SECURE" not in (overrides or {}) and not os.environ.get(PREFIX + "SESSION_COOKIE_SECURE"):
            cfg["SESSION_COOKIE_SECURE"] = False
            cfg["REMEMBER_COOKIE_SECURE"] = False
    elif not cfg["SECRET_KEY"]:
        raise ConfigError(
            "AUDITBO_SECRET_KEY is required in production "
            "(or set AUDITBO_ENV_NAME=demo for a local demo)"
        )
    if env == "testing":
        cfg["TESTING"] = True
        cfg.setdefault("ARGON2_TIME_COST", 1)
        if not os.environ.get(PREFIX + "ARGON2_MEMORY_COST") and "ARGON2_MEMORY_COST" not in (overrides or {}):
            cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"] = 1, 1024  # fast hashes in tests only
        if not os.environ.get(PREFIX + "CONFIRMATION_LOAD_CACHE_SECONDS") and \
                "CONFIRMATION_LOAD_CACHE_SECONDS" not in (overrides or {}):
            cfg["CONFIRMATION_LOAD_CACHE_SECONDS"] = 0.0  # tests roll back: a count kept across them would drift
        if not os.environ.get(PREFIX + "DASHBOARD_CACHE_SECONDS") and "DASHBOARD_CACHE_SECONDS" not in (overrides or {}):
            cfg["DASHBOARD_CACHE_SECONDS"] = 0.0  # the same: each test's figures are its own
        if not os.environ.get(PREFIX + "NAV_BADGE_SECONDS") and "NAV_BADGE_SECONDS" not in (overrides or {}):
            cfg["NAV_BADGE_SECONDS"] = 0.0  # the same: each test's badges are its own

    try:
        _check_grade_shares(cfg["SAMPLING_MIN_SHARE_BY_GRADE"])
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}SAMPLING_MIN_SHARE_BY_GRADE: {exc}") from None

    if not cfg["DATABASE_URL"]:
        folder = Path(instance_path or "instance")
        cfg["DATABASE_URL"] = f"sqlite:///{(folder / 'auditbo.sqlite').resolve()}"
    cfg["SQLALCHEMY_DATABASE_URI"] = cfg["DATABASE_URL"]
    if not cfg["UPLOAD_DIR"]:
        cfg["UPLOAD_DIR"] = str((Path(instance_path or "instance") / "uploads").resolve())
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": bool(cfg["DB_POOL_PRE_PING"]),
                                        "pool_recycle": int(cfg["DB_POOL_RECYCLE"])}
    return cfg
