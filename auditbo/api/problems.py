"""The error responses of every API operation, in the OpenAPI document as the API gives them.

Every error of the API is ``application/problem+json`` (auditbo.web). Which statuses an
operation can answer is mostly mechanical and derived here, once, for all operations:

- 401 when the operation needs a token (it declares the bearer security scheme);
- 404 when the path names a record (it has a path parameter);
- 400 for every operation (a NUL character anywhere in the URL, a body that is not JSON);
- 413, 415 and 422 when it takes a body (too large, wrong media type, invalid);
- 422 when it takes query arguments (flask-smorest adds that one itself).

What depends on the domain (403 for a role that may not, 409 for a state that forbids it,
429 for a rate limit) is declared on the view with :func:`problems`. There is no catch-all
``default`` response: a status not listed here is a bug that the schemathesis test finds.
"""

from __future__ import annotations

from http import HTTPStatus

from apispec import BasePlugin
from flask import Flask

PROBLEM_JSON = "application/problem+json"
_ATTR = "_auditbo_problems"


def problems(*statuses: int):
    """Declare the domain's error statuses of a view method, e.g. ``@problems(403, 409)``."""

    def mark(fn):
        setattr(fn, _ATTR, tuple(getattr(fn, _ATTR, ())) + tuple(statuses))
        return fn

    return mark


class ProblemResponses(BasePlugin):
    """apispec plugin: adds the problem+json responses above to each operation of a path."""

    def __init__(self, app: Flask):
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view_class = getattr(self.app.view_functions.get(rule.endpoint if rule else ""), "view_class", None)
        for method, operation in (operations or {}).items():
            statuses = {400, *getattr(getattr(view_class, method, None), _ATTR, ())}
            if operation.get("security"):
                statuses.add(401)
            if rule is not None and rule.arguments:
                statuses.add(404)
            body = operation.get("requestBody")
            if body:
                statuses |= {413, 415, 422}
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(str(status), HTTPStatus(status).name)
