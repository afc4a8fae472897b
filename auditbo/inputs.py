"""What a caller puts in the path and the query string, held to the database's ranges.

Every id column is an INTEGER (PostgreSQL's int4): a larger number in the path is a 404
(the ``int`` URL converter refuses it, as it refuses letters), and a page number or a
numeric filter out of range is a 400 naming the argument, never a database error.
A JSON body is held to ``MAX_JSON_LENGTH`` (uploads keep ``MAX_CONTENT_LENGTH``).
"""

from __future__ import annotations

import ipaddress
import re

from flask import Flask, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER; SQLite stores more, but the two must answer alike
_WHOLE = re.compile(r"-?\d{1,20}")


class IdConverter(IntegerConverter):
    """Flask's ``int`` converter with a default maximum of the id columns' range: ``/x/2147483648``
    matches no route (404) instead of reaching the database."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=INT_MAX if max is None else max,
                         signed=signed)


def int_arg(name: str, default: int | None = None, *, minimum: int = 1, maximum: int = INT_MAX,
            args=None) -> int | None:
    """The whole number in query argument ``name`` (``default`` when it is absent or empty);
    anything else, or a number outside ``minimum``..``maximum``, is a 400 saying so."""
    raw = (request.args if args is None else args).get(name)
    if raw is None or not raw.strip():
        return default
    raw = raw.strip()
    value = int(raw) if _WHOLE.fullmatch(raw) else None
    if value is None or not minimum <= value <= maximum:
        raise BadRequest(_("%(name)s must be a whole number from %(min)d to %(max)d.",
                           name=name, min=minimum, max=maximum))
    return value


def client_address(ip: str) -> str:
    """The address a throttle counts by: an IPv4 address, or the /64 network of an IPv6 one
    (a single host usually holds a whole /64)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return (ip or "-")[:64]
    if addr.version == 6:
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


def limiter_key() -> str:
    """What Flask-Limiter counts by: the client's address as the throttles count it (an IPv6
    client's whole /64), so that a host cannot dodge a limit by walking its own network."""
    return client_address(request.remote_addr or "")


def body_limit(limit):
    """Decorate a view whose bodies must stay smaller than the app's upload limit: ``limit`` is a
    function of the app's config giving the most bytes it reads (413 above, before any hook
    parses the form: e.g. the public complaint form, which anyone may post)."""
    def mark(view):
        view.body_limit = limit
        return view

    return mark


def _lower_limit(limit: int) -> None:
    current = request.max_content_length
    request.max_content_length = limit if current is None else min(limit, current)


def _limit_body() -> None:
    """A JSON body larger than MAX_JSON_LENGTH, or a body past its view's :func:`body_limit`, is a
    413 when it is read (before any parsing)."""
    if request.is_json:
        _lower_limit(current_app.config["MAX_JSON_LENGTH"])
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "body_limit", None)
    if limit is not None:
        _lower_limit(int(limit(current_app.config)))


def init_app(app: Flask) -> None:
    """Before any blueprint registers its routes (the converter) and before other hooks read a body."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_limit_body)
