"""Numbers as chargers send them: the one grammar for readings, transactionIds and sampled values.

A number is a JSON integer (not true or false), a finite JSON float, or a string of at most
LONGEST characters: ASCII whitespace, an optional minus, ASCII digits, optionally a dot and
more digits, optionally an exponent (e or E, a sign, digits), ASCII whitespace. Not numbers:
'+5', '.5', '12.', '0x10', '12,5', 'NaN', 'Infinity', digits of other scripts. Its magnitude
is below LARGEST. A float is read as its shortest decimal form, 15.9 as 15.9 like the string;
from 2**53 on, where every float is a whole number, as exactly that number (floor() agrees).

Exponents: decimal() takes them (a meter may print a sampled value as '1.2e3'); readings that
are billed -- whole(), integer() and decimal(..., exponent=False) -- are plain decimals only,
as they always have been: a transactionId or register written as '1e7' is refused, not guessed.
"""

import math
import re
from decimal import Decimal

LARGEST = 10**19  # beyond any meter register or transactionId (chargers send up to 2**63-1)
EXACT_FLOATS = 2**53  # every float from here on is a whole number
LONGEST = 63      # characters of a number sent as text, whitespace included
_NUMBER = re.compile(r"[ \t\n\r\f\v]*(-?[0-9]+(?:\.[0-9]+)?)([eE][+-]?[0-9]+)?[ \t\n\r\f\v]*", re.ASCII)


def decimal(value, exponent=True):
    """The number as an exact Decimal, or None when it is none by the grammar above."""
    number = _parse(value, exponent)
    return number if number is not None and -LARGEST < number < LARGEST else None


def whole(value):
    """The number floored to an int (a register in Wh, a transactionId, a connectorId), or None."""
    number = decimal(value, exponent=False)
    if number is None:
        return None
    floored = math.floor(number)
    return floored if -LARGEST < floored else None


def integer(value):
    """The number as an int when it has no fractional part ('16', 16.0, ' 16.000 '), else None."""
    number = decimal(value, exponent=False)
    return int(number) if number is not None and number == number.to_integral_value() else None


def _parse(value, exponent):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value) if -LARGEST < value < LARGEST else None  # a huge int costs to convert
    if isinstance(value, float):
        return _float(value) if math.isfinite(value) else None
    if not isinstance(value, str) or len(value) > LONGEST:
        return None
    match = _NUMBER.fullmatch(value)
    if match is None or (match[2] and not exponent):
        return None
    return Decimal(match[1] + (match[2] or ""))


def _float(value):
    # Below 2**53 the shortest form floors as the float does; above, it would invent digits.
    return Decimal(repr(value)) if abs(value) < EXACT_FLOATS else Decimal(int(value))
