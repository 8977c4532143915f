"""The CALLs a charger sends, as benchmark load: a realistic mix and one kind at a time. Pure.

A charger's day, compressed: boot, then sessions of an RFID tag, each with status changes,
an Authorize, a StartTransaction, MeterValues with the register and the power, heartbeats
between them and a StopTransaction whose energy goes to the ledger. About 1 frame in 35 is a
StopTransaction: a session of half an hour with MeterValues every minute is nearer 1 in 40.
"""

import json
from datetime import datetime, timedelta, timezone

from shocpp.protocol import transaction_id
from shocpp_sim import messages

METER_VALUES_PER_SESSION = 20
START = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
POWER_W = 11000
WH_PER_SAMPLE = 500


def line(unique_id, action, payload):
    return json.dumps([2, unique_id, action, payload], separators=(",", ":"))


def ts(n):
    return messages.timestamp(START + timedelta(seconds=30 * n))


def session(tag, index, register_wh, n):
    """The CALLs of one session from register_wh; (calls, register after it)."""
    tid = transaction_id.encode(index, register_wh)
    begin, calls = ts(n), [
        ("StatusNotification", messages.status_notification(1, "Preparing", ts(n))),
        ("Authorize", {"idTag": tag}),
        ("StartTransaction", messages.start_transaction(tag, register_wh, ts(n))),
        ("StatusNotification", messages.status_notification(1, "Charging", ts(n))),
    ]
    start_wh = register_wh
    for k in range(1, METER_VALUES_PER_SESSION + 1):
        register_wh += WH_PER_SAMPLE
        calls.append(("MeterValues", messages.meter_values(register_wh, POWER_W, ts(n + k), tid)))
        if k % 5 == 0:
            calls.append(("Heartbeat", {}))
    end = ts(n + METER_VALUES_PER_SESSION + 1)
    calls += [
        ("StopTransaction", messages.stop_transaction(tid, tag, register_wh, end, "Local", start_wh, begin)),
        ("StatusNotification", messages.status_notification(1, "Finishing", end)),
        ("StatusNotification", messages.status_notification(1, "Available", end)),
        ("Heartbeat", {}),
    ]
    return calls, register_wh + 1000  # the next session starts in another kWh: another transactionId


def mix(count, identity="bench", tag="TAG0001", index=1, register_wh=1_000_000):
    """`count` CALLs of one charger: BootNotification first, then sessions."""
    calls, n = [("BootNotification", messages.boot_notification(identity))], 0
    while len(calls) < count:
        more, register_wh = session(tag, index, register_wh, n)
        calls += more
        n += len(more)
    return calls[:count]


def only(action, count, tag="TAG0001", index=1):
    """`count` CALLs of one action (distinct StopTransactions, so each is written to the ledger)."""
    calls = [c for c in mix(count * 40, tag=tag, index=index) if c[0] == action]
    if len(calls) < count and action == "BootNotification":
        calls = [("BootNotification", messages.boot_notification("bench"))] * count
    return calls[:count]


def lines(calls, prefix="b"):
    return [line(f"{prefix}{n}", action, payload) for n, (action, payload) in enumerate(calls)]
