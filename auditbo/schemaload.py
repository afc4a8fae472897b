"""A fast loader compiled from a marshmallow schema, for the values that are plainly clean.

Marshmallow stays the one definition of the input and the one source of error messages;
it costs ~0.3 ms per filing, which is most of a bulk import's time. ``compile_loader(schema)``
reads the schema's fields once and returns a function that, for a value whose every field
is of the exact plain type (``str``, ``int``, ``float``, ISO date string, ``dict``, ``list``)
and passes the field's own validators, returns what ``schema.load`` would return; for
anything else (a wrong type, a missing or unknown key, a failing validator) it returns
``None`` and the caller asks marshmallow, which then names the problem. The tests hold the
two to the same answer (tests/test_schemaload.py).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from datetime import date

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields
from marshmallow.utils import missing

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Unclean(Exception):
    """The value is not plainly clean: let marshmallow decide."""


def _string(value):
    if type(value) is not str:
        raise _Unclean
    return value


def _integer(value):
    if type(value) is not int:
        raise _Unclean
    return value


def _float(value):
    if type(value) not in (int, float):
        raise _Unclean
    try:
        value = float(value)
    except OverflowError:
        raise _Unclean from None
    if not math.isfinite(value):
        raise _Unclean
    return value


def _date(value):
    if type(value) is not str or not _ISO_DATE.fullmatch(value):
        raise _Unclean
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Unclean from None


def _converter(field: fields.Field) -> Callable:
    """The plain-type check and conversion of one field, then its validators."""
    if type(field) is fields.Nested and not field.many:
        convert = _schema_converter(field.schema)
    elif type(field) is fields.List:
        inner = _field_converter(field.inner)

        def convert(value):
            if type(value) is not list:
                raise _Unclean
            return [inner(v) for v in value]
    elif type(field) is fields.String:
        convert = _string
    elif type(field) is fields.Integer:
        convert = _integer
    elif type(field) is fields.Float:
        convert = _float
    elif type(field) is fields.Date and field.format in (None, "iso"):
        convert = _date
    else:
        raise TypeError(f"compile_loader: no plain form for {type(field).__name__}")
    return convert


def _field_converter(field: fields.Field) -> Callable:
    convert = _converter(field)
    validators = list(field.validators)
    allow_none = field.allow_none

    def load(value):
        if value is None:
            if allow_none:
                return None
            raise _Unclean
        value = convert(value)
        for validator in validators:
            try:
                validator(value)
            except ValidationError:
                raise _Unclean from None
        return value

    return load


def _schema_converter(schema: Schema) -> Callable:
    if any(schema._hooks.values()) or schema.unknown not in (EXCLUDE, RAISE) or schema.many:
        raise TypeError("compile_loader: schemas with hooks, INCLUDE or many are not supported")
    plan = []
    for name, field in schema.load_fields.items():
        default = field.load_default
        plan.append((field.data_key or name, field.attribute or name, field.required, default,
                     callable(default), _field_converter(field)))
    known = {key for key, *_ in plan}
    strict_keys = schema.unknown == RAISE

    def load(value):
        if type(value) is not dict:
            raise _Unclean
        if strict_keys and not value.keys() <= known:
            raise _Unclean
        out = {}
        for key, attr, required, default, call_default, convert in plan:
            if key in value:
                out[attr] = convert(value[key])
            elif required:
                raise _Unclean
            elif default is not missing:
                out[attr] = default() if call_default else default
        return out

    return load


def compile_loader(schema: Schema) -> Callable[[object], dict | None]:
    """``load(value)``: what ``schema.load(value)`` returns when the value is plainly clean, else None."""
    convert = _schema_converter(schema)

    def load(value):
        try:
            return convert(value)
        except _Unclean:
            return None

    return load


def compile_field_loader(schema: Schema, *, memo: int = 4096, finish: Callable | None = None) -> Callable:
    """``load(value) -> (valid_data, messages)``: what ``schema.load`` gives for a dict, field by field.

    For a value that is not plainly clean (so :func:`compile_loader` said None), each top-level
    field is converted by its compiled plain form when it can be, and only the others are given
    to marshmallow, one field at a time: the same valid data and the same messages as one
    ``schema.load`` (the schema has no schema-level hooks and ignores unknown keys, so a field's
    messages depend on its value alone), at the cost of the bad fields only. Marshmallow's answer
    for a field's value is remembered (up to ``memo`` values per field), so that a file that
    repeats a bad value in every row pays for it once. With ``finish(key, value, messages)``, what
    it returns for each bad field (remembered with the answer) is collected into a list, which
    ``load`` returns instead of the messages.
    """
    if any(schema._hooks.values()) or schema.unknown != EXCLUDE or schema.many:
        raise TypeError("compile_field_loader: only EXCLUDE schemas without hooks are supported")
    names = list(schema.load_fields)
    plan = []
    for name, field in schema.load_fields.items():
        others = tuple(n for n in names if n != name)
        plan.append((field.data_key or name, field.attribute or name, field.required, field.load_default,
                     _field_converter(field), others, _nested_loader(field, memo)))
    remembered: dict[str, dict] = {key: {} for key, *_ in plan}

    def slow(key, value, others):
        try:
            return schema.load({} if value is missing else {key: value}, partial=others), {}
        except ValidationError as exc:
            messages = exc.messages
            return exc.valid_data or {}, (messages if finish is None else finish(key, value, messages))

    def load(value: dict) -> tuple[dict, dict | list]:
        data: dict = {}
        messages: dict | list = {} if finish is None else []
        for key, attr, required, default, convert, others, nested in plan:
            raw = value.get(key, missing)
            cache = remembered[key]
            token = _token(raw) if cache else None  # a value this field refused before is not tried again
            answer = cache.get(token) if token is not None else None
            if answer is None:
                if raw is not missing:
                    try:
                        data[attr] = convert(raw)
                        continue
                    except _Unclean:
                        pass
                elif not required and default is missing:
                    continue
                if nested is not None and type(raw) is dict:  # a nested object: field by field, as above
                    part, errs = nested(key, attr, raw)
                    answer = part, (errs if finish is None or not errs else finish(key, raw, errs))
                else:  # (a nested object's parts are remembered; the whole rarely comes back)
                    answer = slow(key, raw, others)
                    if token is None:
                        token = _token(raw)
                    if token is not None and len(cache) < memo:
                        cache[token] = answer
            part, errs = answer
            if attr in part:
                kept = part[attr]  # shared with the memo when the field has errors: a caller drops such parts
                data[attr] = copy.deepcopy(kept) if not errs and isinstance(kept, dict | list) else kept
            if errs and finish is None:
                messages.update(errs)
            elif errs:
                messages.extend(errs)
        return data, messages

    return load


def _nested_loader(field: fields.Field, memo: int) -> Callable | None:
    """For a nested object field (one object, EXCLUDE, no hooks or validators of its own): its
    answer from its own fields' answers, as marshmallow gives it: the valid part (absent when
    empty) and ``{key: messages}``, so that an object with one bad field costs that field only."""
    if type(field) is not fields.Nested or field.many or field.validators:
        return None
    try:
        inner = compile_field_loader(field.schema, memo=memo)
    except TypeError:
        return None

    def load(key, attr, raw: dict):
        part, messages = inner(raw)
        if not messages:
            return {attr: part}, {}
        return ({attr: part} if part else {}), {key: messages}  # marshmallow keeps a bad object's valid part

    return load


def _token(value):
    """A hashable stand-in for a JSON-like value (None when it cannot be made)."""
    kind = type(value)
    if value is missing or value is None or kind in (str, int, float, bool):
        return kind, value
    if kind in (dict, list) and _plain_json(value):
        return kind, repr(value)  # plain JSON values: equal reprs are equal values (key order may differ: a miss)
    return None


def _plain_json(value, depth: int = 0) -> bool:
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return True
    if depth > 4:
        return False
    if kind is dict:
        return all(type(k) is str and _plain_json(v, depth + 1) for k, v in value.items())
    if kind is list:
        return all(_plain_json(v, depth + 1) for v in value)
    return False
