"""Accounts: passwords, tokens, CSRF, XSS, limits, denials in the event log."""

import pytest
import sqlalchemy as sa

from auditbo.accounts.models import ApiToken, Role, User
from auditbo.accounts.services import create_token
from auditbo.events import Event
from auditbo.extensions import db
from tests.factories import PASSWORD, OrgFactory, UserFactory, clerk


def _events(action: str) -> list[Event]:
    return db.session.scalars(sa.select(Event).where(Event.action == action).order_by(Event.id)).all()


def test_admin_reset_ends_the_users_sessions_and_lifts_waits(app, client, login):
    admin = UserFactory(role=Role.admin)
    user = UserFactory()
    theirs = app.test_client()
    assert theirs.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    for _ in range(5):  # the same address the admin and the user sign in from (an office behind one NAT)
        client.post("/login", data={"username": user.username, "password": "wrong-password!"})
    login(admin)
    resp = client.post(f"/users/{user.id}/password", data={"reset-new_password": "brand-new-password"})
    assert resp.status_code == 302
    assert theirs.get("/dashboard").status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"username": user.username, "password": "brand-new-password"}).status_code == 302


def test_password_change_signs_out_other_sessions(app, login):
    user = UserFactory()
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        assert c.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    resp = first.post("/account", data={"pw-current_password": PASSWORD, "pw-new_password": "another-long-password",
                                        "pw-submit": "1"})
    assert resp.status_code == 302
    assert first.get("/dashboard").status_code == 200  # this session stays
    assert second.get("/dashboard").status_code == 302  # the other one is signed out


def test_password_change_shows_every_error_on_the_form(client, login):
    login(UserFactory())
    html = client.post("/account", data={"pw-current_password": "not-it", "pw-new_password": "short",
                                          "pw-submit": "1"}).get_data(as_text=True)
    assert "is not your current password" in html and "at least 10 characters" in html


def test_token_shown_once_stored_hashed_and_revocable(client, login):
    user = clerk(OrgFactory())
    login(user)
    html = client.post("/account", data={"tok-name": "ERP 集成", "tok-submit": "1"}).get_data(as_text=True)
    secret = html.split('id="new-token" class="user-select-all">')[1].split("<")[0]
    assert secret.startswith("abo_")
    assert secret not in client.get("/account").get_data(as_text=True)  # shown once
    stored = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert secret not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.get_json()["role"] == "body_clerk"
    assert me.get_json()["org_credit_code"] == user.org.credit_code

    client.post(f"/account/tokens/{stored.id}/revoke")
    denied = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert denied.status_code == 401
    assert denied.mimetype == "application/problem+json"


def test_api_ignores_the_session_cookie(client, login):
    login(UserFactory())
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer abo_not-a-token"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401


def test_token_of_deactivated_user_stops_working(client):
    user = UserFactory()
    _, secret = create_token(user, "t")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    user.active = False
    db.session.flush()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_cli_tokens_create_prints_the_token_last(app):
    user = UserFactory()
    result = app.test_cli_runner().invoke(args=["tokens", "create", "--username", user.username, "--name", "ci"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("abo_")
    from auditbo.accounts.services import user_from_token

    assert user_from_token(secret).id == user.id


def test_cli_users_create_errors_are_one_line(app):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["users", "create", "--username", "x", "--password", "short", "--role", "clerk"])
    assert bad.exit_code == 1
    lines = [ln for ln in bad.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "password" in lines[0] and "role" in lines[0]
    ok = runner.invoke(args=["users", "create", "--username", "boss", "--password", "long-enough-pw",
                             "--role", "admin"])
    assert ok.exit_code == 0, ok.output


def test_admin_creates_a_clerk_in_the_ui(client, login):
    admin = UserFactory(role=Role.admin)
    body = OrgFactory()
    login(admin)
    resp = client.post("/users/new", data={"username": "newclerk", "display_name": "新填报员", "role": "body_clerk",
                                           "org": body.credit_code, "password": "initial-password-1"})
    assert resp.status_code == 302
    created = db.session.scalar(sa.select(User).where(User.username == "newclerk"))
    assert created.org_id == body.id and created.role is Role.body_clerk
    # a clerk without a body is refused with the reason on the form
    html = client.post("/users/new", data={"username": "orphan", "role": "body_clerk",
                                           "password": "initial-password-1"}).get_data(as_text=True)
    assert "needs the credit code" in html


def test_csrf_is_enforced_on_forms(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = UserFactory()
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)


def test_stored_xss_in_a_name_is_rendered_harmlessly(client, login):
    admin = UserFactory(role=Role.admin)
    UserFactory(display_name='<script>alert("x")</script>')
    login(admin)
    html = client.get("/users").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(" in html


def test_body_over_the_limit_is_413(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    resp = client.post("/login", data={"username": "x" * 5000, "password": "y"})
    assert resp.status_code == 413
    assert "上传文件过大" in resp.get_data(as_text=True)


def test_login_is_rate_limited_per_ip(app, client):
    codes = [client.post("/login", data={"username": "x", "password": "y"}).status_code for _ in range(22)]
    assert codes[:20] == [200] * 20
    assert codes[-1] == 429


def test_every_denial_is_logged(client, login):
    login(clerk(OrgFactory()))
    assert client.get("/users").status_code == 403
    denied = _events("denied")
    assert denied and denied[-1].record_id == "/users" and denied[-1].after["status"] == 403


@pytest.mark.parametrize("path", ["/users", "/account", "/dashboard"])
def test_pages_need_login(client, path):
    assert client.get(path).status_code == 302
