"""Calendar months: (year, month) pairs, and their labels 'YYYY-MM' that name the ledger's files."""

import re

NAMES = ("January", "February", "March", "April", "May", "June", "July",
         "August", "September", "October", "November", "December")
_LABEL = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)


def label(month):
    """'2026-10' for (2026, 10)."""
    return f"{month[0]:04d}-{month[1]:02d}"


def name(month):
    """'October 2026' for (2026, 10)."""
    return f"{NAMES[month[1] - 1]} {month[0]}"


def parse(text):
    """(year, month) from a label; None when the text is not 'YYYY-MM', ValueError for no real month."""
    match = _LABEL.fullmatch(text)
    return checked(int(match[1]), int(match[2])) if match else None


def checked(year, month):
    """(year, month), or ValueError saying which is out of range."""
    if not 1 <= year <= 9999:
        raise ValueError(f"year {year} is not 1 to 9999")
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not 1 to 12")
    return year, month


def of(moment):
    """The month of a date or datetime."""
    return moment.year, moment.month


def shift(month, count):
    """The month `count` months after (before, when negative) `month`."""
    year, index = divmod(month[0] * 12 + month[1] - 1 + count, 12)
    return year, index + 1


def previous(month):
    return shift(month, -1)


def between(first, last):
    """The months from first to last, both included, in order."""
    return [shift(first, n) for n in range((last[0] - first[0]) * 12 + last[1] - first[1] + 1)]


def neighbours(text):
    """The labels of the months before and after a label's."""
    month = parse(text)
    if month is None:
        raise ValueError(f"{text!r} is not a month like 2026-10")
    return label(shift(month, -1)), label(shift(month, 1))


def around(text):
    """The labels of the month before a label's, its own and the one after, oldest first: where the
    records of an event's transaction are (a start the month before; a retransmission filed under the
    next, its clock set back)."""
    before, after = neighbours(text)
    return [before, text, after]
