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
    """Before any body is read or validated: every endpoint under /api/v1 answers an anonymous
    caller 401 (not 422 for a body it never had the right to send), unless its blueprint is in
    PUBLIC_BLUEPRINTS or its view class says ``public = True`` (the import template, the public
    ratings and spot-check results). A new endpoint needs a token unless it says otherwise."""
    from flask import current_app

    from auditbo.api import API_PREFIX

    if (request.endpoint is None or request.blueprint in PUBLIC_BLUEPRINTS
            or not request.path.startswith(API_PREFIX + "/")):
        return
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(getattr(view, "view_class", None), "public", False):
        api_user()


PUBLIC_BLUEPRINTS = {"certificates_api", "api-docs"}  # the certificate check; the OpenAPI document


def token_required(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        api_user()
        return fn(*args, **kwargs)

    return wrapper
