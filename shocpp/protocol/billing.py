"""What a session bills: the start record, and the stop record tied to it when it can be."""

import math
from datetime import datetime, timezone

from . import matching, meter_values, months, numbers, timestamps, transaction_id
from .tags import UNKNOWN_ACCOUNT

EARLIEST_PLAUSIBLE = datetime(2015, 1, 1, tzinfo=timezone.utc)  # OCPP 1.6 came out in 2015
NEGATIVE, IMPLAUSIBLE = "negative", "implausible"
# What the ledger keeps of the text a charger sent, at most: the schema's lengths (idTag is a
# CiString20; reason an enum whose longest value has 14 characters); a timestamp is about 30.
ID_TAG_LENGTH, REASON_LENGTH, TIME_LENGTH = 20, 32, 64


def bounded(value, limit):
    """A charger's value as a record keeps it: text cut to `limit` characters; a number as it is; anything
    else (a list, an object: deviations are tolerated) as its text, cut. A record then stays one short
    line that every reader can parse, whatever a charger sent."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if not isinstance(value, str):
        try:
            value = str(value)
        except (RecursionError, ValueError):
            value = f"<{type(value).__name__}>"
    return value[:limit]


def start_record(charger, payload, account, tid, now):
    """The ledger record of a StartTransaction whose connectorId, idTag and meterStart are usable."""
    return {
        "event": "start",
        "charger": charger,
        "connector_id": numbers.whole(payload["connectorId"]),
        "transaction_id": tid,
        "id_tag": bounded(payload["idTag"] if isinstance(payload["idTag"], str) else str(payload["idTag"]),
                          ID_TAG_LENGTH),
        "account": account.name if account else UNKNOWN_ACCOUNT,
        "account_index": account.index if account else transaction_id.UNKNOWN_INDEX,
        "meter_start_wh": numbers.whole(payload["meterStart"]),
        "start_time": bounded(payload.get("timestamp"), TIME_LENGTH),
        "recorded_at": timestamps.format_utc(now),
    }


def stop_record(charger, payload, tags, now, records=(), max_power_kw=50):
    """The ledger record for a StopTransaction payload whose transactionId and meterStop are usable,
    tied to its start among `records` (the ledger's, oldest first) when it can be."""
    tid, meter_stop = numbers.whole(payload["transactionId"]), numbers.whole(payload["meterStop"])
    decoded = transaction_id.decode(tid)
    found = matching.match(charger, tid, records, tags.by_index)
    start = found.start
    record = {"event": "stop", "charger": charger, "transaction_id": tid}
    if found.flags == (matching.RECONCILED,):
        record.update(start_transaction_id=start["transaction_id"], account=start["account"],
                      account_index=start["account_index"])
    else:
        record.update(account=tags.account_name(decoded.index) if decoded else UNKNOWN_ACCOUNT,
                      account_index=decoded.index if decoded else None)
    if "idTag" in payload:
        record["id_tag"] = bounded(payload["idTag"], ID_TAG_LENGTH)
    record.update(_energy(decoded, meter_stop, payload.get("transactionData")))
    if start is not None:
        record.update(_from_start(start, meter_stop, payload.get("timestamp")))
    kwh = record["consumed_kwh"]
    record["energy_wh"] = record.get("consumed_wh", None if kwh is None else kwh * 1000)
    record["stop_time"] = bounded(payload.get("timestamp"), TIME_LENGTH)
    if "reason" in payload:
        record["reason"] = bounded(payload["reason"], REASON_LENGTH)
    record["flags"] = list(found.flags) + _odd(record, max_power_kw)
    record["recorded_at"] = timestamps.format_utc(now)
    return record


def _from_start(start, meter_stop, stop_time):
    fields = {"connector_id": start.get("connector_id"), "start_time": start.get("start_time"),
              "meter_start_wh": start["meter_start_wh"],
              "consumed_wh": transaction_id.consumed_wh(start["meter_start_wh"], meter_stop)}
    began, ended = timestamps.parse(start.get("start_time")), timestamps.parse(stop_time)
    if began is not None and ended is not None:
        fields["duration_s"] = math.floor((ended - began).total_seconds())
    return fields


def _odd(record, max_power_kw):
    """The flags of what no meter can do: run backwards, or deliver more than the site's chargers can."""
    energy, duration = record["energy_wh"], record.get("duration_s")
    flags = []
    if energy is not None and energy < 0:
        flags.append(NEGATIVE)
    if duration is not None and (duration < 0 or (energy or 0) * 3600 > max_power_kw * 1000 * duration):
        flags.append(IMPLAUSIBLE)
    return flags


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
    reading = numbers.decimal(sampled.get("value"), exponent=False)
    scale = {"Wh": 1, "kWh": 1000}.get(sampled.get("unit", "Wh"))
    if scale is None or reading is None:
        return None
    return math.floor(reading * scale)


def ledger_month(moment_text, now, tz):
    """'YYYY-MM' in the site's zone: of the charger's time (of the start or the stop) when plausible,
    else of now. Plausible is after 2015 and not in the future: a charger whose clock runs fast must
    not move a month-end session into a bill that is not due yet.

    tz None is the machine's zone (TZ, /etc/localtime), with its offset at that moment.
    """
    moment = timestamps.parse(moment_text)
    if moment is None or not EARLIEST_PLAUSIBLE <= moment <= now:
        moment = now
    return months.label(months.of(moment.astimezone(tz)))
