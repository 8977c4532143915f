"""What a session bills: the start record, and the stop record tied to it when it can be."""

import math
from datetime import datetime, timezone

from . import meter_values, months, numbers, timestamps, transaction_id, verdicts
from .tags import UNKNOWN_ACCOUNT

EARLIEST_PLAUSIBLE = datetime(2015, 1, 1, tzinfo=timezone.utc)  # OCPP 1.6 came out in 2015
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


def stop_facts(charger, payload, now):
    """The verdicts.Stop of a StopTransaction payload whose transactionId and meterStop are usable."""
    tag = payload.get("idTag")
    return verdicts.Stop(charger, numbers.whole(payload["transactionId"]), numbers.whole(payload["meterStop"]),
                         None if tag is None else bounded(tag, ID_TAG_LENGTH), payload.get("timestamp"), now,
                         begin_register_wh(payload.get("transactionData")))


def site_of(tags, charger_listed=False, max_session_wh=200_000, max_power_kw=50, tz=None):
    """The verdicts.Site of tags.json and the settings."""
    def tag_index(id_tag):
        account = tags.lookup(id_tag)
        return account.index if account else transaction_id.UNKNOWN_INDEX
    return verdicts.Site({i: a.name for i, a in tags.by_index.items()}, tag_index, charger_listed, max_session_wh,
                         max_power_kw, tz)


def stop_record(charger, payload, tags, now, records=(), max_power_kw=50, **site):
    """The ledger record of a StopTransaction judged against `records` (the ledger's, oldest first)."""
    stop = stop_facts(charger, payload, now)
    return stop_line(stop, payload, verdicts.classify(stop, records, site_of(tags, max_power_kw=max_power_kw,
                                                                             **site)))


CANDIDATE_FIELDS = ("charger", "connector_id", "transaction_id", "id_tag", "account", "account_index",
                    "meter_start_wh", "start_time")


def stop_line(stop, payload, verdict):
    """The ledger record of a stop, as its Verdict judged it."""
    tid, meter_stop, start = stop.transaction_id, stop.meter_stop_wh, verdict.start
    record = {"event": "stop", "charger": stop.charger, "transaction_id": tid}
    if start is not None and start.get("transaction_id") != tid:
        record["start_transaction_id"] = start.get("transaction_id")
    record.update(account=verdict.account or UNKNOWN_ACCOUNT, account_index=verdict.account_index)
    if stop.id_tag is not None:
        record["id_tag"] = stop.id_tag
    record.update(_energy(transaction_id.decode(tid), meter_stop, payload.get("transactionData")))
    if start is not None:
        record.update(_from_start(start, stop, verdicts.CLOCK_OFF in verdict.flags))
    kwh = record["consumed_kwh"]
    record["energy_wh"] = record.get("consumed_wh", None if kwh is None else kwh * 1000)
    record["stop_time"] = bounded(payload.get("timestamp"), TIME_LENGTH)
    if "reason" in payload:
        record["reason"] = bounded(payload["reason"], REASON_LENGTH)
    record["verdict"] = verdict.outcome
    if verdict.reason is not None:
        record["review"] = verdict.reason
    if verdict.repeat_of is not None:
        record["repeat_of"] = verdict.repeat_of
    if verdict.candidate is not None:
        record["candidate"] = {k: verdict.candidate.get(k) for k in CANDIDATE_FIELDS}
    record["flags"] = list(verdict.flags)
    record["recorded_at"] = timestamps.format_utc(stop.received)
    return record


def _from_start(start, stop, clock_off):
    fields = {"connector_id": start.get("connector_id"), "start_time": start.get("start_time"),
              "meter_start_wh": start["meter_start_wh"], "start_id_tag": start.get("id_tag"),
              "consumed_wh": transaction_id.consumed_wh(start["meter_start_wh"], stop.meter_stop_wh)}
    duration = verdicts.duration_s(start, stop.stop_time, stop.received, clock_off)
    if duration is not None:
        fields["duration_s"] = duration
    return fields


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
