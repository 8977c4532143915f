"""The stateless transaction id: `index * 10,000,000 + start kWh (mod 10,000,000)`.

The account index and the start meter reading travel inside the Int32 that the
charger keeps until its StopTransaction is confirmed, so billing needs no state.
"""

from .plain import plain

SPAN = 10_000_000
INT32_MAX = 2**31 - 1
MAX_INDEX = (INT32_MAX - (SPAN - 1)) // SPAN  # 213: every seven-digit start still fits
UNKNOWN_INDEX = 0


class Decoded(plain("Decoded", ["index", "start_kwh"])):
    __slots__ = ()


def encode(index, meter_start_wh):
    if not 0 <= index <= MAX_INDEX:
        raise ValueError(f"account index {index} is outside 0..{MAX_INDEX}")
    return index * SPAN + (meter_start_wh // 1000) % SPAN


def decode(transaction_id):
    """The index and start kWh, or None for an id that no encode() can have made."""
    if not 0 <= transaction_id <= INT32_MAX:
        return None
    index, start_kwh = divmod(transaction_id, SPAN)
    if index > MAX_INDEX:
        return None
    return Decoded(index, start_kwh)


def consumed_kwh(start_kwh, meter_stop_wh):
    """Whole kWh from the decoded start to the stop reading, across the wrap-around.

    Taken modulo SPAN into -SPAN/2 .. SPAN/2: a meter that ran backwards (replaced,
    reset) shows as negative, never as ten million kWh.
    """
    delta = (meter_stop_wh // 1000 - start_kwh) % SPAN
    return delta - SPAN if delta >= SPAN // 2 else delta


def consumed_wh(start_wh, meter_stop_wh):
    """Exact Wh from a start reading to a stop reading, with the same wrap rule as consumed_kwh."""
    span = SPAN * 1000
    delta = (meter_stop_wh - start_wh) % span
    return delta - span if delta >= span // 2 else delta
