"""The stateless transaction id: index * 10,000,000 + start kWh (mod 10,000,000)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shocpp.protocol.transaction_id import (
    INT32_MAX, MAX_INDEX, SPAN, UNKNOWN_INDEX, Decoded, consumed_kwh, decode, encode,
)

from conftest import examples

indexes = st.integers(min_value=0, max_value=MAX_INDEX)
# Wh readings from 0 to 100 GWh: well past the 10 GWh (10,000,000 kWh) wrap-around.
readings_wh = st.integers(min_value=0, max_value=100_000_000_000_000)


def test_constants():
    assert SPAN == 10_000_000
    assert INT32_MAX == 2_147_483_647
    assert MAX_INDEX == 213
    assert UNKNOWN_INDEX == 0
    assert MAX_INDEX * SPAN + SPAN - 1 == 2_139_999_999 <= INT32_MAX
    assert (MAX_INDEX + 1) * SPAN + SPAN - 1 == 2_149_999_999 > INT32_MAX


@pytest.mark.parametrize("index, meter_start_wh, tid", [
    (1, 12_345_678, 10_012_345),
    (1, 0, 10_000_000),
    (1, 999, 10_000_000),
    (1, 1_000, 10_000_001),
    (0, 12_345_678, 12_345),
    (2, 9_999_999_999, 29_999_999),            # 9,999,999 kWh: the largest start before the wrap
    (2, 10_000_000_000, 20_000_000),           # 10,000,000 kWh wraps to 0
    (2, 10_000_123_456, 20_000_123),
    (213, 9_999_999_999, 2_139_999_999),       # the largest id there is
    (213, 0, 2_130_000_000),
])
def test_encode_examples(index, meter_start_wh, tid):
    assert encode(index, meter_start_wh) == tid
    assert decode(tid) == Decoded(index, (meter_start_wh // 1000) % SPAN)


@pytest.mark.parametrize("index", [214, -1, 1000])
def test_encode_refuses_index_outside_range(index):
    with pytest.raises(ValueError, match=rf"account index {index} is outside 0\.\.213"):
        encode(index, 12_345_678)


@pytest.mark.parametrize("tid, expected", [
    (0, Decoded(0, 0)),
    (10_012_345, Decoded(1, 12_345)),
    (2_139_999_999, Decoded(213, 9_999_999)),
    (2_140_000_000, None),          # index 214
    (INT32_MAX, None),              # index 214
    (INT32_MAX + 1, None),
    (2**63 - 1, None),
    (-1, None),
    (-10_012_345, None),
    (-(2**63), None),
])
def test_decode_examples(tid, expected):
    assert decode(tid) == expected


@settings(max_examples=examples(200))
@given(indexes, readings_wh)
def test_round_trip(index, meter_start_wh):
    tid = encode(index, meter_start_wh)
    assert 0 <= tid <= INT32_MAX
    assert decode(tid) == Decoded(index, (meter_start_wh // 1000) % 10_000_000)


@settings(max_examples=examples(200))
@given(st.integers(min_value=0, max_value=MAX_INDEX), st.integers())
def test_encode_always_fits_int32(index, meter_start_wh):
    assert 0 <= encode(index, meter_start_wh) <= INT32_MAX


@settings(max_examples=examples(200))
@given(st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=(MAX_INDEX + 1) * SPAN),
))
def test_decode_refuses_ids_no_encode_makes(tid):
    assert decode(tid) is None


@pytest.mark.parametrize("start_kwh, meter_stop_wh, kwh", [
    (12_345, 12_350_999, 5),                # whole kWh: 12,350.999 kWh counts as 12,350
    (12_345, 12_345_000, 0),
    (12_345, 12_345_999, 0),
    (12_345, 12_346_000, 1),
    (9_999_990, 10_000_005_000, 15),        # across the wrap-around
    (9_999_990, 5_000, 15),                 # a meter that wrapped itself
    (12_345, 12_000_000, -345),             # the meter went backwards: negative, not ~10 million
    (0, 0, 0),
    (5, 0, -5),
    (0, 4_999_999_999, 4_999_999),          # the largest forward step
    (0, 5_000_000_000, -5_000_000),         # half the span counts as backwards
])
def test_consumed_kwh_examples(start_kwh, meter_stop_wh, kwh):
    assert consumed_kwh(start_kwh, meter_stop_wh) == kwh


@settings(max_examples=examples(200))
@given(indexes, readings_wh, st.integers(min_value=0, max_value=4_000_000_000))
def test_consumed_kwh_from_decoded_start(index, start_wh, consumption_wh):
    start_kwh = decode(encode(index, start_wh)).start_kwh
    stop_wh = start_wh + consumption_wh
    assert consumed_kwh(start_kwh, stop_wh) == stop_wh // 1000 - start_wh // 1000


@settings(max_examples=examples(200))
@given(indexes, readings_wh, st.integers(min_value=1, max_value=4_000_000_000))
def test_consumed_kwh_of_a_meter_gone_backwards_is_negative(index, start_wh, backwards_wh):
    start_kwh = decode(encode(index, start_wh)).start_kwh
    stop_wh = max(start_wh - backwards_wh, 0)
    assert consumed_kwh(start_kwh, stop_wh) == stop_wh // 1000 - start_wh // 1000 <= 0
