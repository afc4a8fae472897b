"""Several hosts: Flask-Limiter's storage shared through Redis (AUDITBO_RATELIMIT_STORAGE_URI).

Two app instances (as two workers or hosts would run) on one database and one Redis see
one limit. Needs Redis at 127.0.0.1:6379 (or AUDITBO_TEST_REDIS_URL): skipped with a
message where none runs, a failure where AUDITBO_REQUIRE_REDIS=1 (.ci/run).
"""

from __future__ import annotations

import os
import random

import flask
import pytest

from auditbo import create_app
from auditbo.extensions import db, limiter

REDIS_URL = os.environ.get("AUDITBO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"no Redis at {REDIS_URL} ({exc}): the shared rate-limit storage is not tested"
        if os.environ.get("AUDITBO_REQUIRE_REDIS") == "1":
            pytest.fail(f"AUDITBO_REQUIRE_REDIS=1 but {message}")
        pytest.skip(message)
    return client


@pytest.fixture
def fresh_limiter():
    """The limiter is one object for the process: give it back an in-memory storage afterwards."""
    yield
    bare = flask.Flask("restore-limiter")
    bare.config["RATELIMIT_STORAGE_URI"] = "memory://"
    limiter.init_app(bare)


def _instance(db_url: str, storage: str):
    return create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": db_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": storage,
        }
    )


def _migrated_url(tmp_path) -> str:
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path / 'hosts.sqlite'}"
    first = _instance(url, "memory://")
    with first.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _logins(app, ip: str, n: int) -> list[int]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    codes = []
    for _ in range(n):
        with app.app_context():
            codes.append(client.post("/login", data={"username": "nobody", "password": "wrong"}).status_code)
    return codes


def test_two_instances_share_one_login_limit_through_redis(tmp_path, fresh_limiter):
    redis_client = _redis_or_skip()
    ip = "10.{}.{}.{}".format(*(random.randrange(1, 255) for _ in range(3)))  # a run of its own
    url = _migrated_url(tmp_path)
    try:
        first = _instance(url, REDIS_URL)
        codes = _logins(first, ip, 10)
        second = _instance(url, REDIS_URL)  # a new storage object, as another worker's would be
        codes += _logins(second, ip, 10) + _logins(first, ip, 1)
        assert codes[:20] == [200] * 20
        assert codes[20] == 429
    finally:
        for key in redis_client.scan_iter(match=f"*{ip}*"):
            redis_client.delete(key)
        for app in ("first", "second"):
            if app in locals():
                with locals()[app].app_context():
                    db.engine.dispose()


def test_without_redis_each_instance_counts_alone_and_the_default_is_memory(tmp_path, fresh_limiter):
    url = _migrated_url(tmp_path)
    first = _instance(url, "memory://")
    codes = _logins(first, "10.0.0.1", 10)
    second = _instance(url, "memory://")
    codes += _logins(second, "10.0.0.1", 11)
    assert codes == [200] * 21
    with first.app_context():
        assert flask.current_app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_redis_that_is_down_does_not_take_logins_down(tmp_path, fresh_limiter):
    """An unreachable storage falls back to per-process memory limits instead of answering 500."""
    url = _migrated_url(tmp_path)
    app = _instance(url, "redis://127.0.0.1:1/0")
    assert _logins(app, "10.0.0.2", 2) == [200, 200]
