from hypothesis import given, settings
from hypothesis import strategies as st

from auditbo.codes import (
    CREDIT_ALPHABET,
    PROVINCES,
    check_credit_code,
    check_industry_code,
    check_region_code,
    credit_check_char,
    is_credit_code,
    is_industry_code,
    is_region_code,
    make_credit_code,
)

REGIONS = st.sampled_from(sorted(PROVINCES)).flatmap(
    lambda p: st.from_regex(r"\A[0-9]{4}\Z").map(lambda rest: p + rest)
)
SERIALS = st.text(alphabet=CREDIT_ALPHABET, min_size=9, max_size=9)


def test_spec_examples_are_valid():
    assert is_credit_code("91350100M000100Y43")
    assert is_credit_code("91110108MA01C0QX26")


def test_wrong_check_character_names_the_expected_one():
    assert check_credit_code("91350100M000100Y44") == "check character is 4, expected 3"


def test_bad_shapes():
    assert "18 characters" in check_credit_code("9135")
    assert "not allowed" in check_credit_code("91350100M000100IO3")  # I and O are not in the alphabet
    assert "region" in check_credit_code(make_credit_code("110105", "M00010000")[:2] + "990000" + "M00010000X")
    assert check_credit_code(None) is not None


@settings(max_examples=200, deadline=None)
@given(REGIONS, SERIALS)
def test_generated_codes_validate(region, serial):
    code = make_credit_code(region, serial)
    assert is_credit_code(code)


@settings(max_examples=200, deadline=None)
@given(REGIONS, SERIALS, st.integers(0, 16), st.sampled_from(CREDIT_ALPHABET))
def test_any_single_substitution_is_caught(region, serial, pos, char):
    code = make_credit_code(region, serial)
    if code[pos] == char:
        return
    changed = code[:pos] + char + code[pos + 1:]
    # the check character detects every single-character error in the first 17
    assert changed[17] != credit_check_char(changed[:17])
    assert not is_credit_code(changed)


@settings(max_examples=100, deadline=None)
@given(REGIONS)
def test_region_codes(region):
    assert is_region_code(region)


def test_region_code_rules():
    assert check_region_code("990000") == "99 is not a province code"
    assert check_region_code("11010") == "must be 6 digits"
    assert not is_region_code("11010a")


def test_industry_codes():
    for good in ["C", "C34", "C342", "C3421", "A01", "T97", "I65"]:
        assert is_industry_code(good), good
    for bad in ["Z", "C3", "C34211", "c34", "A06", "C12", "34", ""]:
        assert not is_industry_code(bad), bad
    assert check_industry_code("A06") == "division 06 does not belong to section A"


def test_non_ascii_digits_are_refused():
    assert not is_region_code("11000\u0660")  # ARABIC-INDIC DIGIT ZERO
    assert not is_industry_code("C3\u0664")
