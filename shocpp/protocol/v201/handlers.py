"""The CSMS's answers to a 2.0.1 charging station's CALLs: a decoded CALL in, an Outcome out.

Pure, like 1.6's (protocol/handlers.py), whose Context, Outcome and text bounds it shares. Every
message a station sends is answered schema-valid; an action 2.0.1 does not have is NotImplemented.
Connector numbers in the run files and the ledger are EVSE ids: the EVSE is what has a status, a
meter and a transaction, and what a CSMS's calls name (evseId).
"""

from .. import billing, months, timestamps
from ..effects import Record, SaveBoot, SaveMeterValues, SaveStatus
from ..handlers import MAX_CONNECTOR, Context, Outcome, bounded, deviation_note  # noqa: F401 (Context: for callers)
from ..ocppj import CallError, CallResult
from . import meter, schemas, transactions
from .errors import (INTERNAL_ERROR, NOT_IMPLEMENTED, NOT_SUPPORTED, OCCURRENCE_CONSTRAINT_VIOLATION,
                     PROPERTY_CONSTRAINT_VIOLATION, TYPE_CONSTRAINT_VIOLATION)

# The actions that look tags up; the shell reads tags.json only for these.
NEEDS_TAGS = frozenset({"Authorize", "TransactionEvent"})
EVENT_TYPES = ("Started", "Updated", "Ended")
MAX_TRANSACTION_ID = 255  # the schema says 36; a longer one is still a name, and its bill is kept


def _unusable_event(payload):
    """(code, description, path) when a TransactionEvent cannot be billed, else None."""
    kind, info = payload.get("eventType"), payload.get("transactionInfo")
    if kind is None or info is None:
        name = "eventType" if kind is None else "transactionInfo"
        return OCCURRENCE_CONSTRAINT_VIOLATION, f"required property {name} is missing", name
    if kind not in EVENT_TYPES:
        return PROPERTY_CONSTRAINT_VIOLATION, f"eventType {str(kind)[:40]!r} is not one of {', '.join(EVENT_TYPES)}", \
            "eventType"
    tid = info.get("transactionId") if isinstance(info, dict) else None
    if not isinstance(tid, str) or not 0 < len(tid) <= MAX_TRANSACTION_ID:
        return TYPE_CONSTRAINT_VIOLATION, "transactionInfo.transactionId is not a usable text", \
            "transactionInfo.transactionId"
    return None


# Kept in service despite deviations (a vendor's own trigger reason, a too long text): a station whose
# boot is refused goes on retrying, and a transaction's events carry the bill, refused only when what
# billing needs cannot be used.
TOLERANT = {"BootNotification": lambda payload: None, "TransactionEvent": _unusable_event}


def error(call, code, description="", details=None):
    return Outcome(CallError(call.unique_id, code, description, details or {}))


def handle(call, ctx):
    """The Outcome for a CALL from the charging station."""
    if call.action not in schemas.ALL_ACTIONS:
        return error(call, NOT_IMPLEMENTED, f"unknown action {call.action!r}")
    if call.action not in schemas.FROM_CHARGER:
        return error(call, NOT_SUPPORTED, f"{call.action} is sent by a CSMS, not to it")
    violations = schemas.check(call.action, "req", call.payload)
    notes = (deviation_note(call.action, violations),) if violations else ()
    blocking = [v for v in violations if ctx.strict or not v.unknown_property]
    if blocking and call.action in TOLERANT:
        unusable = TOLERANT[call.action](call.payload)
        if unusable:
            code, description, path = unusable
            return Outcome(CallError(call.unique_id, code, description, {"path": path}), (), notes)
    elif blocking:
        first = blocking[0]
        return Outcome(CallError(call.unique_id, first.code, first.describe(), {"path": first.path} if first.path else {}),
                       (), notes)
    outcome = _HANDLERS.get(call.action, _empty)(call, ctx)
    return Outcome(outcome.reply, outcome.effects, notes + outcome.notes)


def _result(call, payload, *effects, notes=()):
    return Outcome(CallResult(call.unique_id, payload), tuple(effects), tuple(notes))


def _kept(call, payload=None):
    kept, cuts = bounded(call.payload if payload is None else payload)
    return kept, tuple(f"{call.action}: {path[:60]!r} is {length} characters long: kept the start"
                       for path, length in cuts)


def _id_token_info(ctx, tag):
    return {"status": "Accepted" if ctx.tags.lookup(tag) else "Unknown"}


def boot_notification(call, ctx):
    reply = {"status": "Accepted", "currentTime": timestamps.format_utc(ctx.now), "interval": ctx.heartbeat_interval}
    station = call.payload.get("chargingStation") if isinstance(call.payload.get("chargingStation"), dict) else {}
    # The run files' shape, which the tools read for both protocols.
    shaped = {"chargePointVendor": station.get("vendorName"), "chargePointModel": station.get("model"),
              "chargePointSerialNumber": station.get("serialNumber"),
              "firmwareVersion": station.get("firmwareVersion"), "reason": call.payload.get("reason")}
    payload, notes = _kept(call, {k: v for k, v in shaped.items() if v is not None})
    return _result(call, reply, SaveBoot(payload), notes=notes)


def heartbeat(call, ctx):
    return _result(call, {"currentTime": timestamps.format_utc(ctx.now)})


def status_notification(call, ctx):
    evse_id = call.payload["evseId"]
    if not 0 <= evse_id <= MAX_CONNECTOR:
        return _result(call, {}, notes=[f"evseId {evse_id} is outside 0..{MAX_CONNECTOR}: not kept"])
    payload, notes = _kept(call, {**call.payload, "status": call.payload["connectorStatus"]})
    return _result(call, {}, SaveStatus(evse_id, payload), notes=notes)


def authorize(call, ctx):
    return _result(call, {"idTokenInfo": _id_token_info(ctx, call.payload["idToken"]["idToken"])})


def meter_values(call, ctx):
    evse_id = call.payload["evseId"]
    if not 0 <= evse_id <= MAX_CONNECTOR:
        return _result(call, {}, notes=[f"evseId {evse_id} is outside 0..{MAX_CONNECTOR}: not kept"])
    payload, notes = _kept(call, meter.as_run_file(evse_id, None, call.payload["meterValue"]))
    return _result(call, {}, SaveMeterValues(evse_id, payload), notes=notes)


def transaction_event(call, ctx):
    payload = call.payload
    tid = payload["transactionInfo"]["transactionId"]
    month = billing.ledger_month(payload.get("timestamp"), ctx.now, ctx.tz)
    start, stop = transactions.known(_searched(ctx, month, tid), ctx.charger, tid)
    tag = transactions.token(payload)
    reply = {} if tag is None else {"idTokenInfo": _id_token_info(ctx, tag)}
    effects, notes = list(_live(payload, start)), []
    if stop is not None:
        notes.append(f"TransactionEvent {payload['eventType']} of {tid!r} (seqNo {payload.get('seqNo')!r}): "
                     "its stop is in the ledger already, not billed again")
    elif payload["eventType"] == "Ended":
        site = billing.site_of(ctx.tags, ctx.charger_listed, ctx.max_session_wh, ctx.max_power_kw, ctx.tz)
        known = start is None and _vouched(ctx, month, site)
        stop_month, record = transactions.stop_record(ctx.charger, payload, site, ctx.now, start, known)
        effects.append(Record(stop_month, record, _not_recorded(call)))
        if record["verdict"] != "billed":
            notes.append(f"stop of {tid!r} kept for review: {record.get('review')}")
    elif start is None or transactions.needs_account(start, payload):
        record = transactions.start_record(ctx.charger, payload, ctx.tags, ctx.now, start)
        start_month = billing.ledger_month(record["start_time"], ctx.now, ctx.tz)
        effects.insert(0, Record(start_month, record, _not_recorded(call)))
        notes.append(f"start of {tid!r}: idToken {tag!r} -> account {record['account']}")
    return _result(call, reply, *effects, notes=notes)


# A transaction's chargingState as the run files' status (1.6's names), which the tools and the balancer read.
STATUS_OF_STATE = {"Charging": "Charging", "SuspendedEV": "SuspendedEV", "SuspendedEVSE": "SuspendedEVSE",
                   "EVConnected": "Preparing", "Idle": "Preparing"}


def _live(payload, start):
    """The latest state and readings of a running transaction, for the live view and the balancer
    (never for billing): the EVSE's status from the chargingState (Finishing once Ended), its meter."""
    evse_id = transactions.evse(payload)[0]
    if evse_id is None and start is not None:
        evse_id = start.get("connector_id")  # evse comes often only in the first event
    if type(evse_id) is not int or not 0 <= evse_id <= MAX_CONNECTOR:
        return ()
    info, found = payload["transactionInfo"], []
    charging = info.get("chargingState") if isinstance(info.get("chargingState"), str) else None
    status = "Finishing" if payload["eventType"] == "Ended" else STATUS_OF_STATE.get(charging)
    if status is not None:
        state, _ = bounded({"status": status, "timestamp": payload.get("timestamp"),
                            "transactionId": info["transactionId"], "chargingState": charging})
        found.append(SaveStatus(evse_id, state))
    if payload.get("meterValue") and isinstance(payload["meterValue"], (list, dict)):
        run_file, _ = bounded(meter.as_run_file(evse_id, info["transactionId"], payload["meterValue"]))
        found.append(SaveMeterValues(evse_id, run_file))
    return tuple(found)


def _searched(ctx, month, tid):
    """The ledger records of the transaction, in its month and the months on either side."""
    if ctx.records is None:
        return []
    return [record for month_ in months.around(month) for record in ctx.records(month_, tid, None)]


def _vouched(ctx, month, site):
    """True when the charger has sessions of listed accounts in the ledger (its start records): then a
    stop without its start is trusted as 1.6's is. Read only for such a stop: its cost stays bounded."""
    if ctx.records is None:
        return False
    return any(r.get("event") == "start" and r.get("charger") == ctx.charger and r.get("account_index") in site.accounts
               for month_ in months.around(month) for r in ctx.records(month_, None, ctx.charger))


def _not_recorded(call):
    return CallError(call.unique_id, INTERNAL_ERROR, "the ledger could not be written", {})


def data_transfer(call, ctx):
    return _result(call, {"status": "UnknownVendorId"}, notes=[f"DataTransfer: {bounded(call.payload, 200)[0]}"])


def _empty(call, ctx):
    """The notifications whose answer is empty: logged, in a bounded line."""
    return _result(call, {}, notes=[f"{call.action}: {str(bounded(call.payload, 200)[0])[:1000]}"])


_HANDLERS = {
    "Authorize": authorize,
    "BootNotification": boot_notification,
    "DataTransfer": data_transfer,
    "Heartbeat": heartbeat,
    "MeterValues": meter_values,
    "StatusNotification": status_notification,
    "TransactionEvent": transaction_event,
}
