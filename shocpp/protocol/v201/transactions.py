"""Billing a 2.0.1 transaction to the Wh: TransactionEvent in, the ledger records to append out.

The charger names each transaction (a string); the ledger's records of it (this charger's, both
months searched) say what is known already. The first event of a transaction (Started, or whichever
comes first when that one is lost) writes the start record, before it is confirmed; a later event that
brings the idToken a start was written without appends the start again with its account (same key:
it is one session); Ended writes the stop line, once: a stop already in the ledger answers every later
event of that transaction, retransmissions and late offline events alike. An Ended is judged as a 1.6 stop is
(protocol/verdicts.py): billed, or kept for review with its reason (too much energy, a meter running
backwards, another account's tag, ...); one whose start the ledger does not know is billed from the
readings it carries (flag no_start) when the charger is trusted, else kept for review.
"""


from .. import billing, matching, timestamps, transaction_id, verdicts
from ..tags import UNKNOWN_ACCOUNT
from . import meter

OCPP = "2.0.1"
NO_METER = "no_meter"  # the energy cannot be told: no reading at the start or at the end; to review
TOKEN_LENGTH = 36  # an IdToken's idToken


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
        "id_tag": None if tag is None else billing.bounded(tag, TOKEN_LENGTH),
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


def stop_record(charger, payload, site, now, start, known_charger=False):
    """(the ledger month, the stop line) of an Ended event, judged as a 1.6 stop is (protocol/verdicts.py):
    `site` a verdicts.Site, `start` its start record or None when the ledger has none; `known_charger`:
    the charger has billed sessions of listed accounts (the trust a stop without its start needs)."""
    info, values = payload["transactionInfo"], payload.get("meterValue")
    tag = token(payload)
    stop = verdicts.Stop(charger, info["transactionId"], meter.end_wh(values),
                         None if tag is None else billing.bounded(tag, TOKEN_LENGTH), payload.get("timestamp"), now,
                         meter.begin_wh(values))
    record = {"event": "stop", "ocpp": OCPP, "charger": charger, "transaction_id": stop.transaction_id}
    month, clock_off = verdicts.billing_month(stop.stop_time, start, now, site.tz)
    if start is not None:
        index = start.get("account_index")
        record.update(account=start.get("account"), account_index=index, id_tag=stop.id_tag or start.get("id_tag"),
                      connector_id=start.get("connector_id"), start_time=start.get("start_time"),
                      meter_start_wh=start.get("meter_start_wh"), start_id_tag=start.get("id_tag"))
        begin_wh = stop.begin_wh if start.get("meter_start_wh") is None else start["meter_start_wh"]
        duration = verdicts.duration_s(start, stop.stop_time, now, clock_off)
        flags, reason = [], None
    else:
        index = None if tag is None else site.tag_index(tag)
        record.update(account=site.accounts.get(index, UNKNOWN_ACCOUNT),
                      account_index=transaction_id.UNKNOWN_INDEX if index is None else index,
                      id_tag=stop.id_tag, connector_id=evse(payload)[0])
        begin_wh, duration = stop.begin_wh, None
        flags = [verdicts.NO_START]
        reason = None if site.charger_listed or known_charger else verdicts.UNKNOWN_CHARGER
    energy = None if begin_wh is None or stop.meter_stop_wh is None else stop.meter_stop_wh - begin_wh
    # the same limits and tag rule as 1.6's verdicts (their checks are protocol-neutral)
    reason = reason or verdicts.energy_problem(energy, duration, site) or (
        verdicts.tag_problem(stop, index, site) if start is not None else None)
    if energy is None:
        flags.append(NO_METER)
        reason = reason or NO_METER
    record.update(meter_stop_wh=stop.meter_stop_wh, energy_wh=energy,
                  stop_time=billing.bounded(stop.stop_time, billing.TIME_LENGTH))
    if duration is not None:
        record["duration_s"] = duration
    if info.get("stoppedReason") is not None:
        record["reason"] = billing.bounded(info["stoppedReason"], billing.REASON_LENGTH)
    record["seq_no"] = seq_no(payload)
    record["verdict"] = verdicts.REVIEW if reason else verdicts.BILLED
    if reason:
        record["review"] = reason
    record["flags"] = flags + ([verdicts.CLOCK_OFF] if clock_off else [])
    record["recorded_at"] = timestamps.format_utc(now)
    return month, record
