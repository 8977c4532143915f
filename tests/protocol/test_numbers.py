"""The one grammar of a number as chargers send it: decimal(), whole() and integer()."""

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shocpp.protocol.numbers import LARGEST, LONGEST, decimal, integer, whole


@pytest.mark.parametrize("value, expected", [
    (7400, Decimal(7400)),
    (-3, Decimal(-3)),
    (15.9, Decimal("15.9")),          # the float's shortest form, not its binary expansion
    (9.9e18, Decimal("9.9e18")),
    (2.061019481888841e16, Decimal(20610194818888408)),   # the float's value, not its shortest form
    ("7400", Decimal(7400)),
    (" \t15.9\n ", Decimal("15.9")),
    ("-0.000", Decimal(0)),
    ("1e3", Decimal(1000)),
    ("1.5E+3", Decimal(1500)),
    ("25e-1", Decimal("2.5")),
    ("9" * 19, Decimal("9" * 19)),
    (" " * 50 + "1234567890123", Decimal(1234567890123)),   # 63 characters
])
def test_numbers(value, expected):
    assert decimal(value) == expected


@pytest.mark.parametrize("value", [
    True, False, None, [1], {"value": 1}, math.nan, math.inf, -math.inf,
    "", " ", "-", "abc", "+5", ".5", "12.", "1.e3", "1e", "e3", "0x10", "12,5", "1_000", "--1", "1 000",
    "NaN", "Infinity", "-inf", "١٢٣", "１２３", "\u00a012", "12\u2003",
    " " * 51 + "1234567890123",   # 64 characters
    10**19, -10**19, 1e19, "1" + "0" * 19, "1e19", "-1e19", 10**400,
])
def test_not_numbers(value):
    assert decimal(value) is None
    assert whole(value) is None
    assert integer(value) is None


@pytest.mark.parametrize("value, floored, exact", [
    (12345, 12345, 12345),
    (12345.0, 12345, 12345),
    ("12345.000", 12345, 12345),
    (" 16 ", 16, 16),
    (12345.9, 12345, None),
    ("-3.5", -4, None),
    (-0.5, -1, None),
    (2**63 - 1, 2**63 - 1, 2**63 - 1),
    ("-9999999999999999999.5", None, None),   # floors to -10**19: out of bounds
])
def test_whole_floors_and_integer_wants_no_fraction(value, floored, exact):
    assert whole(value) == floored and integer(value) == exact
    assert {type(whole(value)), type(integer(value))} <= {int, type(None)}


@pytest.mark.parametrize("value", ["1e3", " 1E3 ", "5e-1", "1.0e0"])
def test_readings_that_are_billed_take_no_exponent(value):
    assert decimal(value) is not None
    assert decimal(value, exponent=False) is None
    assert whole(value) is None and integer(value) is None


# --- properties ---------------------------------------------------------------------------------

SPACE = st.text(" \t\n\r\f\v", max_size=3)
DIGITS = st.text("0123456789", min_size=1, max_size=20)


@st.composite
def texts(draw):
    """(text, its number as Decimal, whether it has an exponent), drawn from the grammar's parts."""
    core = draw(st.sampled_from(["", "-"])) + draw(DIGITS)
    if draw(st.booleans()):
        core += "." + draw(DIGITS)
    exponent = draw(st.booleans())
    if exponent:
        sign = draw(st.sampled_from(["", "+", "-"]))
        core += draw(st.sampled_from("eE")) + sign + draw(st.text("0123456789", min_size=1, max_size=3))
    return draw(SPACE) + core + draw(SPACE), Decimal(core), exponent


@given(texts())
def test_text_by_the_grammar_is_its_number_when_short_and_in_bounds(drawn):
    text, number, exponent = drawn
    usable = len(text) <= LONGEST and -LARGEST < number < LARGEST
    assert decimal(text) == (number if usable else None)
    assert decimal(text, exponent=False) == (number if usable and not exponent else None)


@given(st.text(max_size=LONGEST))
def test_any_text_is_a_number_only_by_the_grammar(text):
    number = decimal(text)
    if number is not None:
        assert text.strip(" \t\n\r\f\v") and text.isascii()
        assert number == Decimal(text.strip(" \t\n\r\f\v"))


@given(st.integers(-2**70, 2**70))
def test_integers_are_themselves_in_bounds(n):
    expected = n if -LARGEST < n < LARGEST else None
    assert decimal(n) == expected and decimal(str(n)) == expected
    assert whole(n) == expected and integer(n) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_read_as_their_shortest_decimal_and_floor_as_floats_do(f):
    if -LARGEST < f < LARGEST:
        assert decimal(f) == (Decimal(repr(f)) if abs(f) < 2**53 else int(f))
        floored = math.floor(f)
        assert whole(f) == (floored if floored > -LARGEST else None)
        assert integer(f) == (int(f) if f == int(f) else None)
    else:
        assert decimal(f) is None and whole(f) is None


@given(st.one_of(texts().map(lambda drawn: drawn[0]), st.integers(-2**66, 2**66), st.floats(), st.text()))
def test_whole_and_integer_are_decimal_without_exponent_floored_or_exact(value):
    plain = decimal(value, exponent=False)
    if plain is None:
        assert whole(value) is None and integer(value) is None
        return
    floored = math.floor(plain)
    assert whole(value) == (floored if floored > -LARGEST else None)
    assert integer(value) == (floored if plain == floored else None)


# --- the users read numbers the same way ----------------------------------------------------------

def test_billing_status_and_summary_read_the_same_number():
    from shocpp.protocol import billing
    from shocpp.tools import status, summary
    begin = {"sampledValue": [{"value": " 12.5 ", "context": "Transaction.Begin", "unit": "kWh"}]}
    assert billing.begin_register_wh([begin]) == 12500
    sample = {"value": " 12.5 ", "measurand": "Energy.Active.Import.Register", "unit": "kWh"}
    assert status.meter_readings({"meterValue": [{"sampledValue": [sample]}]}).energy_wh == 12500
    legacy = '{"account": "home", "consumed_kwh": " 16.000 ", "begin_kwh": 16.0, "end_kwh": "1e3"}'
    session = summary.parse_legacy(legacy)
    assert (session.consumed_kwh, session.start_kwh, session.stop_kwh) == (16, 16, None)
