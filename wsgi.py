"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi …``."""

from auditbo import create_app

app = create_app()
