"""The UI shell: login, dashboard by role, languages, error pages."""

from auditbo.accounts.models import Role
from tests.factories import PASSWORD, OrgFactory, UserFactory, clerk


def test_login_page_is_chinese_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert "登录" in html


def test_english_switch_sticks_for_the_session(client):
    html = client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html and "Sign in" in html
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    assert "登录" in client.get("/login?lang=zh_Hans_CN").get_data(as_text=True)


def test_unknown_language_falls_back_to_chinese(client):
    assert 'lang="zh-CN"' in client.get("/login?lang=xx").get_data(as_text=True)


def test_dashboard_needs_login(client):
    resp = client.get("/dashboard")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_supervisor_signs_in_and_sees_office_counts(client, login):
    user = UserFactory(role=Role.supervisor, display_name="张监督")
    login(user)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "张监督" in html
    assert 'data-stat="audits_overdue"' in html
    assert "确认审核" in html  # office navigation


def test_clerk_sees_no_office_counts(client, login):
    user = clerk(OrgFactory())
    login(user)
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'data-stat="audits_overdue"' not in html


def test_wrong_password_is_refused_without_saying_which_part(client):
    user = UserFactory()
    resp = client.post("/login", data={"username": user.username, "password": "nope-nope-nope"})
    assert resp.status_code == 200
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    resp = client.post("/login", data={"username": "nobody", "password": PASSWORD})
    assert "用户名或密码错误" in resp.get_data(as_text=True)


def test_open_redirect_is_refused(client):
    user = UserFactory()
    resp = client.post("/login?next=https://evil.example/", data={"username": user.username, "password": PASSWORD})
    assert resp.headers["Location"].endswith("/dashboard")


def test_logout_is_post_only(client, login):
    login(UserFactory())
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_not_found_page_and_problem_json(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert "404" in resp.get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["status"] == 404


def test_security_headers(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
