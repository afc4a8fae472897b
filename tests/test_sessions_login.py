"""Sign-in and sessions as an attacker tries them: a copied cookie after sign-out, a lockout
triggered on someone else's account, telling names apart by the answer or its cost."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from argon2 import PasswordHasher

from auditbo.accounts.models import LoginThrottle, Role, User, UserSession
from auditbo.accounts.services import client_address, create_token
from auditbo.clock import utcnow
from auditbo.events import Event
from auditbo.extensions import db
from tests.factories import PASSWORD, UserFactory

A, B = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "203.0.113.9"}


def _post_login(client, username, password, env=A, lang=None):
    return client.post("/login" + (f"?lang={lang}" if lang else ""), data={"username": username,
                       "password": password}, environ_base=env)


def _alerts(resp) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip()
            for m in re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', resp.get_data(as_text=True), re.S)]


def _copy_session(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    return other


def _events(action: str) -> list[Event]:
    return db.session.scalars(sa.select(Event).where(Event.action == action).order_by(Event.id)).all()


# --- sessions ------------------------------------------------------------------------
def test_a_copied_cookie_opens_nothing_after_logout(app, client, login):
    user = UserFactory()
    _, secret = create_token(user, "erp")
    login(user)
    thief = _copy_session(app, client)
    assert thief.get("/dashboard").status_code == 200  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    resp = thief.get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/dashboard").status_code == 302
    # API tokens are not sessions: they keep working
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert _events("logged_out")[-1].record_id == str(user.id)


def test_logout_ends_only_this_session(app, login):
    user = UserFactory()
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        assert _post_login(c, user.username, PASSWORD, env={}).status_code == 302
    laptop.post("/logout")
    assert phone.get("/dashboard").status_code == 200


def test_sign_out_everywhere_ends_every_session(app, login):
    user = UserFactory()
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        assert _post_login(c, user.username, PASSWORD, env={}).status_code == 302
    assert "2" in laptop.get("/account").get_data(as_text=True).split('id="session-count">')[1].split("<")[0]
    assert laptop.post("/logout/everywhere").status_code == 302
    assert phone.get("/dashboard").status_code == 302
    assert laptop.get("/dashboard").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                             .where(UserSession.user_id == user.id)) == 0


def test_a_session_ends_at_its_lifetime_and_expired_rows_go(app, client, login):
    user = UserFactory()
    login(user)
    thief = _copy_session(app, client)
    later = utcnow() + app.permanent_session_lifetime + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        # the signed cookie is too old as well; a cookie re-signed later would still find no session
        assert thief.get("/dashboard").status_code == 302
        assert _post_login(app.test_client(), user.username, PASSWORD, env={}).status_code == 302
    live = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(live) == 1 and live[0].expires_at > later  # the expired row was deleted at the next sign-in


def test_a_role_change_ends_the_users_sessions(app, client, login):
    admin, user = UserFactory(role=Role.admin), UserFactory(role=Role.supervisor)
    theirs = app.test_client()
    assert _post_login(theirs, user.username, PASSWORD, env={}).status_code == 302
    login(admin)
    resp = client.post(f"/users/{user.id}", data={"display_name": "x", "role": "admin", "active": "y", "submit": "1"})
    assert resp.status_code == 302
    assert theirs.get("/dashboard").status_code == 302


def test_a_forged_session_id_is_refused(app, client, login):
    user = UserFactory()
    login(user)
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user.id}:not-a-session"
    assert client.get("/dashboard").status_code == 302


# --- throttling instead of a lock ---------------------------------------------------------
def test_failures_from_one_address_do_not_block_the_user_elsewhere(client):
    user = UserFactory(role=Role.admin)
    for _ in range(6):
        _post_login(client, user.username, "wrong-password!", env=A)
    assert _post_login(client, user.username, PASSWORD, env=B).status_code == 302


def test_the_address_that_failed_waits_with_a_growing_delay(app, client):
    user = UserFactory()
    t0 = utcnow()
    wait = timedelta(seconds=app.config["LOGIN_THROTTLE_SECONDS"])
    with time_machine.travel(t0, tick=False):
        for _ in range(5):
            assert _post_login(client, user.username, "wrong-password!").status_code == 200
        # throttled: even the right password is refused from there, for LOGIN_THROTTLE_SECONDS
        assert _post_login(client, user.username, PASSWORD).status_code == 200
    row = db.session.get(LoginThrottle, (user.username, A["REMOTE_ADDR"]))
    assert row.blocked_until == t0 + wait
    assert row.failures == 5  # refusals while waiting do not count as tries
    with time_machine.travel(t0 + wait, tick=False):  # the wait is over: one more try, which fails
        _post_login(client, user.username, "wrong-password!")
        db.session.expire_all()
        assert db.session.get(LoginThrottle, (user.username, A["REMOTE_ADDR"])).blocked_until == t0 + 3 * wait
    with time_machine.travel(t0 + 3 * wait, tick=False):  # waited twice as long: the right password works
        assert _post_login(client, user.username, PASSWORD).status_code == 302
    assert not db.session.scalars(sa.select(LoginThrottle.failures)).all()  # success forgets the pair


def test_unknown_names_are_throttled_alike(client):
    for _ in range(5):
        _post_login(client, "nobody-here", "whatever-password")
    row = db.session.get(LoginThrottle, ("nobody-here", A["REMOTE_ADDR"]))
    assert row.failures == 5 and row.blocked_until is not None


def test_unknown_wrong_throttled_and_inactive_answer_alike(client):
    user, gone = UserFactory(), UserFactory(active=False)
    for _ in range(5):
        _post_login(client, user.username, "wrong-password!", env=B)
    answers = [
        _post_login(client, "nobody-here", "wrong-password!"),
        _post_login(client, user.username, "wrong-password!"),
        _post_login(client, user.username, PASSWORD, env=B),  # throttled from B, right password
        _post_login(client, gone.username, PASSWORD),  # deactivated, right password
    ]
    assert {r.status_code for r in answers} == {200}
    texts = {tuple(_alerts(r)) for r in answers}
    assert len(texts) == 1 and len(next(iter(texts))) == 1


def test_every_refusal_costs_one_argon2_verification(client, monkeypatch):
    user, gone = UserFactory(), UserFactory(active=False)
    for _ in range(5):
        _post_login(client, user.username, "wrong-password!", env=B)
    calls = []
    real = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, h, p: calls.append(h) or real(self, h, p))
    for username, password, env in [("nobody-here", "x" * 12, A), (user.username, "wrong-password!", A),
                                    (user.username, PASSWORD, B), (gone.username, PASSWORD, A)]:
        calls.clear()
        _post_login(client, username, password, env)
        assert len(calls) == 1, username


def test_the_user_is_told_of_failed_attempts_at_the_next_sign_in(client):
    user = UserFactory()
    for _ in range(3):
        _post_login(client, user.username, "wrong-password!", env=A)
    events = _events("login_failed")
    assert [e.after["ip"] for e in events[-3:]] == [A["REMOTE_ADDR"]] * 3
    resp = _post_login(client, user.username, PASSWORD, env=B, lang="en")
    assert resp.status_code == 302
    page = client.get("/dashboard", environ_base=B).get_data(as_text=True)
    assert "3 failed sign-in attempts" in page and A["REMOTE_ADDR"] in page
    client.post("/logout", environ_base=B)
    _post_login(client, user.username, PASSWORD, env=B, lang="en")
    assert "failed sign-in attempts" not in client.get("/dashboard", environ_base=B).get_data(as_text=True)


def test_throttling_is_logged_once_not_per_refused_attempt(client):
    user = UserFactory()
    for _ in range(9):
        _post_login(client, user.username, "wrong-password!")
    assert len(_events("login_failed")) == 4
    throttled = _events("login_throttled")
    assert len(throttled) == 1 and throttled[0].after["wait_seconds"] > 0
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 9  # all nine are in the user's notice


def test_forgotten_pairs_are_pruned(app, client):
    for _ in range(2):
        _post_login(client, "someone", "wrong-password!")
    later = utcnow() + timedelta(hours=app.config["LOGIN_THROTTLE_FORGET_HOURS"], minutes=1)
    with time_machine.travel(later, tick=False):
        _post_login(client, "someone-else", "wrong-password!")
    assert db.session.get(LoginThrottle, ("someone", A["REMOTE_ADDR"])) is None


@pytest.mark.parametrize(("ip", "key"), [
    ("198.51.100.7", "198.51.100.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    ("", "-"),
])
def test_an_ipv6_host_counts_as_its_64(ip, key):
    assert client_address(ip) == key


@pytest.mark.parametrize(("proxies", "seen"), [(0, "10.0.0.1"), (1, "203.0.113.9")])
def test_the_client_address_behind_a_trusted_proxy(db_url, proxies, seen):
    """Behind the TLS proxy every request comes from the proxy: without TRUSTED_PROXIES the throttle
    would count every client as one address. Without it, a forged X-Forwarded-For is ignored."""
    from flask import request

    from tests.conftest import make_app

    app = make_app(db_url, TRUSTED_PROXIES=proxies)
    app.add_url_rule("/_addr", "addr", lambda: request.remote_addr or "")
    resp = app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.9"},
                                 environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert resp.get_data(as_text=True) == seen
