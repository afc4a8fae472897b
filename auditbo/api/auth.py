"""Bearer-token authentication for /api/v1. The API never reads the session cookie."""

from __future__ import annotations

import functools

from flask import g, request

from auditbo.errors import DomainError

BEARER_DOC = {"security": [{"bearerAuth": []}]}


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


def api_user():
    """The user behind the request's bearer token, or raise 401."""
    if "api_user" in g:
        return g.api_user
    from auditbo.accounts.services import user_from_token

    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    user = user_from_token(secret.strip(), ip=request.remote_addr or "")
    if user is None:
        raise Unauthorized("the token is unknown, revoked, or its user is inactive")
    g.api_user = user
    return user


def authenticate_first() -> None:
    """Before any body is read or validated: a token endpoint answers an anonymous caller 401
    (not 422 for a body it never had the right to send). A view class with ``public = True``
    (the certificate check, the import template) needs no token."""
    from flask import current_app

    if request.blueprint not in TOKEN_BLUEPRINTS or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(getattr(view, "view_class", None), "public", False):
        api_user()


TOKEN_BLUEPRINTS = {"accounts_api", "filings_api", "confirmations_api", "spotchecks_api"}


def token_required(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        api_user()
        return fn(*args, **kwargs)

    return wrapper
