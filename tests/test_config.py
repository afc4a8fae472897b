import pytest

from auditbo.config import load_config


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.delenv("AUDITBO_SECRET_KEY", raising=False)
    monkeypatch.delenv("AUDITBO_ENV_NAME", raising=False)
    with pytest.raises(RuntimeError, match="AUDITBO_SECRET_KEY"):
        load_config()


def test_env_overrides_are_typed(monkeypatch, tmp_path):
    monkeypatch.setenv("AUDITBO_ENV_NAME", "production")
    monkeypatch.setenv("AUDITBO_SECRET_KEY", "s3cret")
    monkeypatch.setenv("AUDITBO_LATE_FILING_DAYS", "45")
    monkeypatch.setenv("AUDITBO_FORCE_HTTPS", "true")
    monkeypatch.setenv("AUDITBO_LANGUAGES", '["en", "zh_Hans_CN"]')
    cfg = load_config(instance_path=str(tmp_path))
    assert cfg["LATE_FILING_DAYS"] == 45
    assert cfg["FORCE_HTTPS"] is True
    assert cfg["LANGUAGES"] == ["en", "zh_Hans_CN"]
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'auditbo.sqlite'}"


def test_bad_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("AUDITBO_LATE_FILING_DAYS", "soon")
    with pytest.raises(RuntimeError, match="AUDITBO_LATE_FILING_DAYS"):
        load_config({"ENV_NAME": "testing"})


def test_database_url_from_env(monkeypatch):
    monkeypatch.setenv("AUDITBO_DATABASE_URL", "postgresql+psycopg://u@h/db")
    cfg = load_config({"ENV_NAME": "testing"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
