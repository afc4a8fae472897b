"""The compiled loader gives marshmallow's answer for clean values and steps aside for the rest."""

import copy
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from auditbo.filings.schemas import AssessmentIn
from auditbo.schemaload import compile_loader

SCHEMA = AssessmentIn()
LOAD = compile_loader(SCHEMA)
BASE = {
    "external_ref": "PJ-1", "assessment_type": "initial",
    "enterprise": {"name": "示例机械", "credit_code": "91350100M000100Y43", "region_code": "350100",
                   "industry_code": "C34", "size": "large", "employees": 2300},
    "grade": "AAA", "capabilities": [{"name": "智能生产", "level": "CL3"}, {"name": "数据", "level": "CL2"}],
    "consulting_body": {"credit_code": "91110108MA01C0QX26", "consultant_ids": ["C-1"]},
    "team": [{"person_id": "A-1", "role": "lead"}, {"person_id": "A-2", "role": "member"}],
    "person_days": 12, "onsite_start": "2026-09-14", "onsite_end": "2026-09-17", "decision_date": "2026-10-09",
    "certificate_no": "IIMS-1",
}
ODD = [None, "", " ", "x" * 300, 0, -1, 7, 1.5, float("nan"), float("inf"), 10**400, True, False, [], {}, [1],
       {"a": 1}, "2026-02-30", "2026-1-05", "2026-09-14T00:00", "CL9", "lead", "AAAAA", "small", "2026-09-14",
       b"bytes", ("tuple",), "٢٠٢٦-٠٩-١٤"]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


PATHS = [p for p in _paths(BASE) if p]


def _mutate(payload, path, how, odd):
    out = copy.deepcopy(payload)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if how == "delete":
        del parent[path[-1]]
    elif how == "extra" and isinstance(parent, dict):
        parent["unexpected"] = odd
    else:
        parent[path[-1]] = odd
    return out


def _marshmallow(payload):
    try:
        return SCHEMA.load(payload)
    except ValidationError:
        return None


def _same_answer(payload):
    fast = LOAD(payload)
    slow = _marshmallow(payload)
    if fast is not None:  # the fast answer, when there is one, is marshmallow's
        assert fast == slow
    if slow is None:  # and there is never a fast answer where marshmallow refuses
        assert fast is None


def test_a_clean_filing_loads_fast_and_as_marshmallow_does():
    fast = LOAD(BASE)
    assert fast is not None and fast == SCHEMA.load(BASE)
    assert fast["onsite_start"] == date(2026, 9, 14) and fast["person_days"] == 12.0
    assert fast["valid_until"] is None and fast["reduction_reason"] is None  # load_default applied
    without = {k: v for k, v in BASE.items() if k != "consulting_body"}
    assert LOAD(without)["consulting_body"] is None


@pytest.mark.parametrize("path", PATHS, ids=lambda p: ".".join(map(str, p)))
def test_every_odd_value_in_every_place(path):
    for odd in ODD:
        _same_answer(_mutate(BASE, path, "replace", odd))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: ".".join(map(str, p)))
def test_every_missing_key(path):
    _same_answer(_mutate(BASE, path, "delete", None))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(["replace", "delete", "extra"]),
                          st.sampled_from(ODD) | st.text(max_size=70) | st.integers() | st.floats()),
                max_size=4))
def test_random_mutations(changes):
    payload = BASE
    for path, how, odd in changes:
        try:
            payload = _mutate(payload, path, how, odd)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced that place
    _same_answer(payload)


def test_unknown_keys_are_refused_under_raise_and_hooks_are_not_compiled():
    class Strict(Schema):
        class Meta:
            unknown = RAISE

        n = fields.Integer(required=True, validate=validate.Range(min=1))

    load = compile_loader(Strict())
    assert load({"n": 3}) == {"n": 3}
    assert load({"n": 3, "x": 1}) is None and load({"n": 0}) is None

    class Hooked(Schema):
        n = fields.Integer()

        @validates_schema
        def check(self, data, **kwargs):
            pass

    with pytest.raises(TypeError):
        compile_loader(Hooked())
