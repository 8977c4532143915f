"""What a StopTransaction bills: the ledger record, built from the message alone."""

import math
import re
from datetime import datetime, timedelta, timezone

from . import meter_values, timestamps, transaction_id
from .tags import UNKNOWN_ACCOUNT

EARLIEST_PLAUSIBLE = datetime(2015, 1, 1, tzinfo=timezone.utc)  # OCPP 1.6 came out in 2015
CLOCK_SLACK = timedelta(days=1)
_NUMBER = re.compile(r"\s*-?[0-9]+(\.[0-9]+)?\s*", re.ASCII)


LARGEST = 10**19  # beyond any meter register or transactionId (chargers send up to 2**63-1)


def whole(value):
    """An integer reading from what chargers send (int, float, numeric string), or None."""
    number = _floor(value)
    return number if number is not None and -LARGEST < number < LARGEST else None


def _floor(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return math.floor(value)
    if isinstance(value, str) and len(value) < 64 and _NUMBER.fullmatch(value):
        from decimal import Decimal  # here: a backend's start need not pay for it (2 ms)
        return math.floor(Decimal(value))
    return None


def stop_record(charger, payload, tags, now):
    """The ledger record for a StopTransaction payload whose transactionId and meterStop are usable."""
    tid, meter_stop = whole(payload["transactionId"]), whole(payload["meterStop"])
    decoded = transaction_id.decode(tid)
    record = {
        "charger": charger,
        "transaction_id": tid,
        "account": tags.account_name(decoded.index) if decoded else UNKNOWN_ACCOUNT,
        "account_index": decoded.index if decoded else None,
    }
    if "idTag" in payload:
        record["id_tag"] = payload["idTag"]
    record.update(_energy(decoded, meter_stop, payload.get("transactionData")))
    record["stop_time"] = payload.get("timestamp")
    if "reason" in payload:
        record["reason"] = payload["reason"]
    record["recorded_at"] = timestamps.format_utc(now)
    return record


def _energy(decoded, meter_stop, transaction_data):
    begin_wh = begin_register_wh(transaction_data)
    if decoded is None:
        start_kwh = None if begin_wh is None else begin_wh // 1000 % transaction_id.SPAN
    else:
        start_kwh = decoded.start_kwh
    energy = {"meter_start_kwh": start_kwh, "meter_stop_wh": meter_stop, "consumed_kwh": None}
    if start_kwh is not None:
        energy["consumed_kwh"] = transaction_id.consumed_kwh(start_kwh, meter_stop)
    if begin_wh is not None and begin_wh // 1000 % transaction_id.SPAN == start_kwh:
        energy["consumed_wh"] = meter_stop - begin_wh
    return energy


def begin_register_wh(transaction_data):
    """The Wh of the Transaction.Begin energy register reading in transactionData, if any."""
    for _, sample in meter_values.samples(transaction_data):
        wh = _begin_wh(sample)
        if wh is not None:
            return wh
    return None


def _begin_wh(sampled):
    if sampled.get("context") != "Transaction.Begin":
        return None
    if sampled.get("measurand", "Energy.Active.Import.Register") != "Energy.Active.Import.Register":
        return None
    value = sampled.get("value")
    scale = {"Wh": 1, "kWh": 1000}.get(sampled.get("unit", "Wh"))
    if scale is None or whole(value) is None:
        return None
    from decimal import Decimal
    return math.floor(Decimal(str(value).strip()) * scale)


def ledger_month(stop_time, now, tz):
    """'YYYY-MM' in the site's zone: of the charger's stop time when plausible, else of now.

    tz None is the machine's zone (TZ, /etc/localtime), with its offset at that moment.
    """
    moment = timestamps.parse(stop_time)
    if moment is None or not EARLIEST_PLAUSIBLE <= moment <= now + CLOCK_SLACK:
        moment = now
    return moment.astimezone(tz).strftime("%Y-%m")
