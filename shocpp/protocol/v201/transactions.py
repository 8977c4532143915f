"""Billing a 2.0.1 transaction to the Wh: TransactionEvent in, the ledger records to append out.

The charger names each transaction (a string); the ledger's records of it (this charger's, both
months searched) say what is known already. The first event of a transaction (Started, or whichever
comes first when that one is lost) writes the start record, before it is confirmed; a later event that
brings the idToken a start was written without appends the start again with its account (same key:
it is one session); Ended writes the stop line, once: a stop already in the ledger answers every later
event of that transaction, retransmissions and late offline events alike. An Ended whose start the
ledger does not know is billed from the readings it carries and flagged no_start, as a 1.6 stop
without its start is.
"""

import math

from .. import billing, matching, timestamps, transaction_id
from ..tags import UNKNOWN_ACCOUNT
from . import meter

OCPP = "2.0.1"
NO_METER = "no_meter"  # the energy cannot be told: no reading at the start or at the end


def known(records, charger, tid):
    """(the latest start record, the stop record or None) of the charger's transaction `tid`."""
    mine = [r for r in records if r.get("charger") == charger and r.get("transaction_id") == tid
            and r.get("ocpp") == OCPP]
    starts = [r for r in mine if matching.is_start(r)]
    stops = [r for r in mine if matching.is_stop(r)]
    return (starts[-1] if starts else None), (stops[0] if stops else None)


def token(payload):
    """The idToken text of an event, or None."""
    id_token = payload.get("idToken")
    found = id_token.get("idToken") if isinstance(id_token, dict) else None
    return found if isinstance(found, str) else None


def evse(payload):
    """(the EVSE id, its connector id) of an event: whole numbers, or None."""
    found = payload.get("evse") if isinstance(payload.get("evse"), dict) else {}
    return tuple(v if type(v) is int else None for v in (found.get("id"), found.get("connectorId")))


def seq_no(payload):
    value = payload.get("seqNo")
    return value if type(value) is int else None


def start_record(charger, payload, tags, now, earlier=None):
    """The start record of the transaction `payload` (a TransactionEvent) belongs to; `earlier`: the
    start written before without an idToken, whose key it keeps."""
    tag = token(payload)
    account = tags.lookup(tag) if tag is not None else None
    evse_id, connector_id = evse(payload)
    record = {
        "event": "start", "ocpp": OCPP, "charger": charger,
        "connector_id": evse_id, "evse_connector_id": connector_id,
        "transaction_id": payload["transactionInfo"]["transactionId"],
        "id_tag": None if tag is None else billing.bounded(tag, 36),
        "account": account.name if account else UNKNOWN_ACCOUNT,
        "account_index": account.index if account else transaction_id.UNKNOWN_INDEX,
        "meter_start_wh": meter.first_wh(payload.get("meterValue")),
        "start_time": billing.bounded(payload.get("timestamp"), billing.TIME_LENGTH),
        "seq_no": seq_no(payload),
        "first_event": payload.get("eventType"),
        "recorded_at": timestamps.format_utc(now),
    }
    if earlier is not None:
        for key in ("connector_id", "evse_connector_id", "meter_start_wh", "start_time", "seq_no", "first_event"):
            record[key] = earlier.get(key)
    return record


def needs_account(start, payload):
    """True when the start was written without an idToken and this event brings one."""
    return start.get("id_tag") is None and token(payload) is not None


def stop_record(charger, payload, tags, now, start, max_power_kw=50):
    """The stop line of an Ended event; `start`: its start record, or None when the ledger has none."""
    info = payload["transactionInfo"]
    stop_wh = meter.end_wh(payload.get("meterValue"))
    record = {"event": "stop", "ocpp": OCPP, "charger": charger, "transaction_id": info["transactionId"]}
    flags = []
    if start is not None:
        record.update(account=start.get("account"), account_index=start.get("account_index"),
                      id_tag=start.get("id_tag"), connector_id=start.get("connector_id"),
                      start_time=start.get("start_time"), meter_start_wh=start.get("meter_start_wh"))
        begin_wh = start.get("meter_start_wh")
        if begin_wh is None:
            begin_wh = meter.begin_wh(payload.get("meterValue"))
    else:
        tag = token(payload)
        account = tags.lookup(tag) if tag is not None else None
        evse_id, _ = evse(payload)
        record.update(account=account.name if account else UNKNOWN_ACCOUNT,
                      account_index=account.index if account else transaction_id.UNKNOWN_INDEX,
                      id_tag=None if tag is None else billing.bounded(tag, 36), connector_id=evse_id)
        begin_wh = meter.begin_wh(payload.get("meterValue"))
        flags.append(matching.NO_START)
    energy = None if begin_wh is None or stop_wh is None else stop_wh - begin_wh
    if energy is None:
        flags.append(NO_METER)
    record.update(meter_stop_wh=stop_wh, energy_wh=energy, stop_time=billing.bounded(payload.get("timestamp"),
                                                                                     billing.TIME_LENGTH))
    began, ended = timestamps.parse(record.get("start_time")), timestamps.parse(payload.get("timestamp"))
    if began is not None and ended is not None:
        record["duration_s"] = math.floor((ended - began).total_seconds())
    if info.get("stoppedReason") is not None:
        record["reason"] = billing.bounded(info["stoppedReason"], billing.REASON_LENGTH)
    record["seq_no"] = seq_no(payload)
    record["flags"] = flags + billing._odd(record, max_power_kw)
    record["recorded_at"] = timestamps.format_utc(now)
    return record
