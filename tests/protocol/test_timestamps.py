"""OCPP date-times: parse() reads what chargers send, the common form without dateutil, alike."""

from datetime import datetime, timedelta, timezone

import pytest
from dateutil import parser as dateutil_parser
from hypothesis import given, settings
from hypothesis import strategies as st

from shocpp.protocol import timestamps

from conftest import examples


def by_dateutil(text):
    """The reference: dateutil's ISO 8601 reading, a time without zone taken as UTC."""
    try:
        value = dateutil_parser.isoparse(text)
    except (ValueError, OverflowError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-21T10:00:00Z", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),
    ("2026-11-21T10:00:00.123Z", datetime(2026, 11, 21, 10, 0, 0, 123000, tzinfo=timezone.utc)),
    ("2026-11-21T11:00:00+01:00", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),
    ("2026-11-21T10:00:00", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),          # no zone: UTC
    ("2026-11-21T10:00", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),             # dateutil's part
    ("2026-11-21T10:00:00.1234567Z", datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=timezone.utc)),
    ("2026-11-21T24:00:00Z", datetime(2026, 11, 22, 0, tzinfo=timezone.utc)),
    ("2026-11-21", None), ("2026-11-31T10:00:00Z", None), ("yesterday at ten", None), (None, None),
    ("2026-11-21T10:00:00+24:00", None),
])
def test_parse(text, expected):
    value = timestamps.parse(text)
    assert value == expected
    assert value is None or value.utcoffset() is not None


def two(low, high):  # mostly in range, sometimes just outside
    return st.integers(low, high).map(lambda n: f"{n:02d}")


COMMON = st.builds(
    lambda year, month, day, hour, minute, second, fraction, zone:
        f"{year:04d}-{month}-{day}T{hour}:{minute}:{second}{fraction}{zone}",
    st.integers(0, 9999), two(0, 13), two(0, 32), two(0, 25), two(0, 60), two(0, 61),
    st.sampled_from(["", ".000", ".999", ".123456", ".5", ".1234567"]),
    st.sampled_from(["", "Z"]) | st.builds(lambda sign, h, m: f"{sign}{h}:{m}", st.sampled_from("+-"),
                                           two(0, 25), two(0, 60)))


@settings(max_examples=examples(500))
@given(COMMON)
def test_the_common_form_is_read_as_dateutil_reads_it(text):
    value, expected = timestamps.parse(text), by_dateutil(text)
    assert value == expected
    if value is not None:
        assert value.utcoffset() == expected.utcoffset()


def test_format_utc():
    moment = datetime(2026, 11, 21, 14, 52, 7, 123999, tzinfo=timezone(timedelta(hours=1)))
    assert timestamps.format_utc(moment) == "2026-11-21T13:52:07.123Z"
