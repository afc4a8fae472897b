"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi …``."""

from auditbo import create_app
from auditbo.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a missing or wrong setting: one line, no traceback (the CLI and gunicorn alike)
    raise SystemExit(f"Error: {exc}") from None
