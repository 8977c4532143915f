"""Month arithmetic, once: the ledger's neighbouring months and shocpp-summary's ranges and labels."""

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shocpp.protocol import months

MONTHS = st.tuples(st.integers(3, 9996), st.integers(1, 12))


def test_labels_and_names():
    assert months.label((2026, 1)) == "2026-01"
    assert months.label((999, 12)) == "0999-12"
    assert months.name((2026, 10)) == "October 2026"
    assert months.of(date(2026, 11, 30)) == (2026, 11)
    assert months.of(datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc)) == (2026, 12)


@pytest.mark.parametrize("text, month", [
    ("2026-10", (2026, 10)), ("0001-01", (1, 1)), ("9999-12", (9999, 12)),
    ("2026-1", None), ("26-10", None), ("2026-010", None), ("2026/10", None), (" 2026-10", None),
    ("２０２６-10", None), ("", None),
])
def test_parse_takes_labels_only(text, month):
    assert months.parse(text) == month


@pytest.mark.parametrize("text, problem", [
    ("2026-13", "month 13 is not 1 to 12"), ("2026-00", "month 0 is not 1 to 12"),
    ("0000-05", "year 0 is not 1 to 9999"),
])
def test_parse_says_which_part_is_out_of_range(text, problem):
    with pytest.raises(ValueError, match=problem):
        months.parse(text)


def test_neighbours_wrap_around_the_year():
    assert months.neighbours("2026-01") == ("2025-12", "2026-02")
    assert months.neighbours("2026-12") == ("2026-11", "2027-01")
    assert months.neighbours("2026-06") == ("2026-05", "2026-07")
    with pytest.raises(ValueError):
        months.neighbours("2026-1")


def test_between_and_the_previous_month():
    assert months.between((2025, 11), (2026, 2)) == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
    assert months.between((2026, 10), (2026, 10)) == [(2026, 10)]
    assert months.between((2026, 10), (2026, 9)) == []
    assert months.previous(months.of(date(2026, 1, 1))) == (2025, 12)
    assert months.previous(months.of(date(2026, 11, 30))) == (2026, 10)


@given(MONTHS, st.integers(-24, 24))
def test_shift_is_what_the_calendar_says(month, count):
    first_day = date(month[0], month[1], 1)
    step = timedelta(days=32 if count > 0 else -1)
    day = first_day
    for _ in range(abs(count)):
        day = (day + step).replace(day=1)
    assert months.shift(month, count) == months.of(day)
    assert months.shift(months.shift(month, count), -count) == month


@given(MONTHS)
def test_a_label_reads_back_and_its_neighbours_are_the_shifts(month):
    text = months.label(month)
    assert months.parse(text) == month
    assert months.neighbours(text) == (months.label(months.shift(month, -1)), months.label(months.shift(month, 1)))


@given(MONTHS, st.integers(0, 40))
def test_between_counts_every_month_once_in_order(first, count):
    last = months.shift(first, count)
    listed = months.between(first, last)
    assert len(listed) == count + 1 and listed[0] == first and listed[-1] == last
    assert all(months.shift(a, 1) == b for a, b in zip(listed, listed[1:]))
