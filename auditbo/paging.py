"""Keyset (cursor) paging for the JSON lists, and the cap on offset paging.

A list is read in a stable order: its sort key, then ``id`` (unique), both in one direction. A page
ends at its last row; the next page is "the rows after that row's (sort key, id)", which an index on
(filters…, sort key, id) answers at the same cost on page 1 and on page 5,000, where ``OFFSET`` would
read and throw away every earlier row.

The cursor handed out in ``next`` is opaque: the last row's key, the page number it leads to, the
total counted on the first page, and a fingerprint of the list and its filters, serialised and signed
with the app's secret key (itsdangerous), so a client cannot forge a position or carry a cursor over to
other filters. Whatever it holds, the query is still scoped by the caller: a body's clerk pages through
their own body's records only. A cursor that is not one of ours, or belongs to another list or other
filters, is a 400 problem, never a 500.

``total`` on a cursor page: counting hundreds of thousands of matches costs more than the page, so it
is counted on the first page and carried in the cursor; a later page recounts only when that carried
total is small (at most :data:`EXACT_TOTAL_CAP`). ``total_is_exact`` says which: true when counted for
this response, false when it is the first page's count (records filed or changed since are not in it).
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, request, url_for
from itsdangerous import BadData, URLSafeSerializer
from marshmallow import Schema, fields, validate

from auditbo.errors import DomainError, FieldError, ValidationFailed
from auditbo.extensions import db

OFFSET_CAP = 10_000  # rows an offset page may skip (page × per_page); deeper lists page by cursor
EXACT_TOTAL_CAP = 10_000  # a carried total at most this large is recounted on every cursor page
_SALT = "auditbo.list-cursor.v1"


class BadCursor(DomainError):
    status = 400
    title = "Bad cursor"


# --- the query string and the list's body (shared by every paged JSON list) --------------------
class CursorArgs(Schema):
    """``cursor``: the opaque value from a previous page's ``next``; with it, ``page`` is ignored."""

    cursor = fields.String(validate=validate.Length(max=2000), metadata={
        "description": "opaque: the value taken from the previous page's `next` link (keyset paging). "
                       "With a cursor, `page` is ignored; the other filters must be the same as on the first page."})


class CursorPageOut(Schema):
    """The fields every paged list adds to ``items``, ``total``, ``page``, ``per_page``."""

    total = fields.Integer(metadata={"description": (
        "matching records: counted for this response when `total_is_exact` is true; on a cursor page of a "
        f"long list (more than {EXACT_TOTAL_CAP:,} matches) the count taken on the first page")})
    total_is_exact = fields.Boolean(metadata={"description": (
        "true when `total` was counted for this response; false when it is the first page's count carried "
        "by the cursor (records filed or changed since are not in it)")})
    page = fields.Integer(metadata={"description": "the page number (on cursor pages: counted from the first page)"})
    per_page = fields.Integer()
    next = fields.String(allow_none=True, metadata={"description": (
        "the URL of the next page (keyset paging: as fast deep in the list as on page 1; "
        "the same filters with `cursor`), or null on the last page")})


def check_offset(page: int, per_page: int) -> None:
    """Offset pages stop at :data:`OFFSET_CAP` skipped rows (422 naming ``page``): deeper, follow ``next``."""
    if (page - 1) * per_page > OFFSET_CAP:
        raise ValidationFailed([FieldError("page", f"offset paging stops at {OFFSET_CAP:,} records; "
                                                   "follow the `next` link (cursor paging) to go deeper")])


# --- the cursor --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cursor:
    after: tuple  # the last served row's sort key and id
    page: int  # the page this cursor leads to
    total: int  # the total counted on the first page


def fingerprint(list_name: str, sort: str, filters: dict) -> str:
    """What a cursor is bound to: the list, its order and its filters (not the page size)."""
    clean = {k: v for k, v in sorted(filters.items()) if v not in (None, "", [], ())}
    raw = json.dumps([list_name, sort, clean], default=_plain, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT)


def _plain(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, date | datetime):
        return v.isoformat()
    return v


def encode(after: tuple, page: int, total: int, fp: str) -> str:
    return _serializer().dumps([fp, page, total, [_plain(v) for v in after]])


def decode(token: str, fp: str, columns: list) -> Cursor:
    """The cursor's position as values of ``columns`` (sort key…, id); :class:`BadCursor` for anything else."""
    try:
        got_fp, page, total, values = _serializer().loads(token)
    except (BadData, ValueError, TypeError):
        raise BadCursor("the cursor is not one this list handed out; start again from the first page") from None
    if got_fp != fp:
        raise BadCursor("the cursor belongs to another list or to other filters; send the same filters "
                        "as on the first page, or start again without a cursor")
    if not (isinstance(page, int) and isinstance(total, int) and isinstance(values, list)
            and len(values) == len(columns)):
        raise BadCursor("the cursor is damaged; start again from the first page")
    try:
        return Cursor(tuple(_coerce(c, v) for c, v in zip(columns, values, strict=True)), page, total)
    except (ValueError, TypeError, KeyError, NotImplementedError):
        raise BadCursor("the cursor is damaged; start again from the first page") from None


def _coerce(column, value):
    if value is None:
        raise ValueError("no null keys")
    t = column.type
    enum_class = getattr(t, "enum_class", None)
    if enum_class is not None:
        return enum_class(value)
    py = getattr(getattr(t, "impl", None), "python_type", None) if isinstance(t, sa.TypeDecorator) else t.python_type
    if py is datetime:
        v = datetime.fromisoformat(value)
        if v.tzinfo is None:
            raise ValueError("naive timestamp")
        return v
    if py is date:
        return date.fromisoformat(value)
    if py is int and not isinstance(value, bool):
        return int(value)
    if py is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if py is str and isinstance(value, str):
        return value
    raise TypeError(f"{value!r} is no {py}")


def after(columns: list, values: tuple, descending: bool):
    """Rows strictly after (sort key, id) in the list's order: one row-value comparison (indexable)."""
    right = sa.tuple_(*[sa.literal(v, type_=c.type) for c, v in zip(columns, values, strict=True)])
    left = sa.tuple_(*columns)
    return left < right if descending else left > right


# --- one page ----------------------------------------------------------------------------------
@dataclass
class KeysetList:
    """A list to page: its rows (filtered, scoped, no order), the ids that match (for the count), the
    ordering columns (sort key…, a unique id last) and their direction, and what a cursor binds to."""

    rows: sa.Select
    matching: sa.Select
    order: list
    descending: bool
    fingerprint: str


def page_of(lst: KeysetList, *, page: int, per_page: int, cursor: str | None, endpoint_args: dict,
            to_item=lambda r: r) -> dict:
    """``{"items", "total", "total_is_exact", "page", "per_page", "next"}`` for an offset page
    (no cursor, at most :data:`OFFSET_CAP` rows deep) or a cursor page."""
    order_by = [c.desc() if lst.descending else c.asc() for c in lst.order]
    keys = [c.label(f"_key{i}") for i, c in enumerate(lst.order)]
    stmt = lst.rows.add_columns(*keys).order_by(*order_by).limit(per_page + 1)
    if cursor:
        cur = decode(cursor, lst.fingerprint, lst.order)
        page = cur.page
        stmt = stmt.where(after(lst.order, cur.after, lst.descending))
        total, exact = cur.total, False
        if cur.total <= EXACT_TOTAL_CAP:
            total, exact = count(lst.matching), True
    else:
        check_offset(page, per_page)
        stmt = stmt.offset((page - 1) * per_page)
        total, exact = count(lst.matching), True
    rows = db.session.execute(stmt).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    nxt = None
    if more:
        last = rows[-1]._mapping
        token = encode(tuple(last[k.name] for k in keys), page + 1, total, lst.fingerprint)
        nxt = next_url(token, endpoint_args)
    return {"items": [to_item(r) for r in rows], "total": total, "total_is_exact": exact, "page": page,
            "per_page": per_page, "next": nxt}


def count(matching: sa.Select) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(matching.order_by(None).subquery())) or 0)


def next_url(token: str, endpoint_args: dict) -> str:
    """This request's URL with ``cursor`` set (and ``page`` dropped): the same filters, one page on."""
    args = {k: v for k, v in request.args.lists() if k not in ("cursor", "page")}
    return url_for(request.endpoint, **endpoint_args, **args, cursor=token)
