"""The central system's answers to the charger's CALLs: a decoded CALL in, an Outcome out.

Pure: the clock, the tags and the settings come in a Context; what must happen
outside (a ledger line, a status file) goes out as effects for the I/O shell.
"""

from . import billing, numbers, schemas, timestamps, transaction_id, verdicts
from .effects import Record, SaveBoot, SaveMeterValues, SaveRefusal, SaveStatus
from .ocppj import (INTERNAL_ERROR, NOT_IMPLEMENTED, NOT_SUPPORTED, OCCURENCE_CONSTRAINT_VIOLATION,
                    TYPE_CONSTRAINT_VIOLATION, CallError, CallResult)
from .plain import plain

MAX_CONNECTOR = 100
# The longest text of a charger kept in the run files (shocpp-status, shocpp-command --list). The
# schema's CiString lengths are checked for StatusNotification; the tolerant messages (a too long
# BootNotification serial is a deviation, not a refusal) and properties the schema does not know
# are cut here.
MAX_KEPT_TEXT = 255
# And of its objects and lists (#24: a charger's 64 KiB of vendor keys or samples, per connector, made
# run/seen/<id>.json megabytes that every shocpp-status and balancer round read).
MAX_KEPT_KEYS, MAX_KEPT_ITEMS = 64, 64

# Messages that keep a charger in service or carry billing data: processed despite deviations.
TOLERANT = {
    "BootNotification": (),
    "StartTransaction": ("connectorId", "idTag", "meterStart"),
    "StopTransaction": ("transactionId", "meterStop"),
    "MeterValues": ("connectorId", "meterValue"),
}


class Context(plain("Context", ["charger", "tags", "now", "tz", "heartbeat_interval", "strict", "records",
                               "max_power_kw", "max_session_wh", "charger_listed", "starts"],
                    defaults=(300, False, None, 50, 200_000, False, None))):
    """What a handler knows besides the CALL: `tags` (None for the actions not in NEEDS_TAGS), `now`
    (an aware datetime), `tz` (the site's zone for ledger months; None: the machine's),
    `records(month, tid, charger)`, the ledger's records a StopTransaction's start is looked for in,
    `starts(month, record)`, the start record already in the ledger that `record` retransmits (or
    None), and `charger_listed`: the charger is in chargers.json."""
    __slots__ = ()


class Outcome(plain("Outcome", ["reply", "effects", "notes"], defaults=((), ()))):
    """A CALL's reply (CallResult or CallError), its effects and lines for the log."""
    __slots__ = ()


def error(call, code, description="", details=None):
    return Outcome(CallError(call.unique_id, code, description, details or {}))


def handle(call, ctx):
    """The Outcome for a CALL from the charger."""
    if call.action not in schemas.ALL_ACTIONS:
        return error(call, NOT_IMPLEMENTED, f"unknown action {call.action!r}")
    if call.action not in schemas.FROM_CHARGER:
        return error(call, NOT_SUPPORTED, f"{call.action} is sent by a central system, not to it")
    violations = schemas.check(call.action, "req", call.payload)
    notes = (deviation_note(call.action, violations),) if violations else ()
    refusal = _refusal(call, violations, ctx.strict)
    if refusal:
        return refusal
    outcome = _HANDLERS[call.action](call, ctx)
    return Outcome(outcome.reply, outcome.effects, notes + outcome.notes)


NOTED_DEVIATIONS = 3    # the deviations a note names; the rest are counted
NOTED_DEVIATION_TEXT = 200  # characters of each: a property's name can be as long as the frame


def deviation_note(action, violations):
    """One bounded log line for all of a payload's deviations: a frame with 6,000 unknown properties
    must not write 6,000 lines (the log may share the ledger's disk)."""
    shown = "; ".join(_cut(v.describe(), NOTED_DEVIATION_TEXT) for v in violations[:NOTED_DEVIATIONS])
    if len(violations) <= NOTED_DEVIATIONS:
        return f"{action} deviates from the schema: {shown}"
    return (f"{action} deviates from the schema in {len(violations)} places: {shown}; "
            f"and {len(violations) - NOTED_DEVIATIONS} more")


def _cut(text, limit):
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _refusal(call, violations, strict):
    if call.action in TOLERANT:
        return _unusable(call, TOLERANT[call.action])
    blocking = [v for v in violations if strict or not v.unknown_property]
    if not blocking:
        return None
    first = blocking[0]
    return error(call, first.code, first.describe(), {"path": first.path} if first.path else {})


def _unusable(call, needed):
    for name in needed:
        value = call.payload.get(name)
        if value is None:
            return error(call, OCCURENCE_CONSTRAINT_VIOLATION, f"required property {name} is missing",
                         {"path": name})
        if not _usable(name, value):
            return error(call, TYPE_CONSTRAINT_VIOLATION, f"{name}: {value!r} cannot be used",
                         {"path": name})
    return None


def _usable(name, value):
    if name == "idTag":
        return isinstance(value, str) or numbers.integer(value) is not None
    if name == "meterValue":
        return isinstance(value, (list, dict))
    return numbers.whole(value) is not None


def _result(call, payload, *effects, notes=()):
    return Outcome(CallResult(call.unique_id, payload), tuple(effects), tuple(notes))


# The actions that look tags up; the shell reads tags.json (a stat at least) only for these.
NEEDS_TAGS = frozenset({"Authorize", "StartTransaction", "StopTransaction"})


def _id_tag_info(ctx, id_tag):
    return {"status": "Accepted" if ctx.tags.lookup(id_tag) else "Invalid"}


def _tag(payload):
    """The idTag as text; some chargers send a number."""
    value = payload.get("idTag")
    return value if isinstance(value, str) or value is None else str(value)


def bounded(payload, limit=MAX_KEPT_TEXT):
    """(the payload with every text longer than `limit` cut to `limit` characters, every object to its
    first MAX_KEPT_KEYS properties and every list to its last MAX_KEPT_ITEMS items (a meter's latest
    samples), the cuts as (path, what was there, what was kept)), for what a charger sent to be kept."""
    cuts = []

    def walk(value, path):
        if isinstance(value, str):
            if len(value) <= limit:
                return value
            cuts.append((path, f"{len(value)} characters long", f"its first {limit}"))
            return value[:limit]
        if isinstance(value, dict):
            if len(value) > MAX_KEPT_KEYS:
                cuts.append((path, f"an object of {len(value)} properties", f"its first {MAX_KEPT_KEYS}"))
                value = dict(list(value.items())[:MAX_KEPT_KEYS])
            return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            if len(value) > MAX_KEPT_ITEMS:
                cuts.append((path, f"a list of {len(value)} items", f"its last {MAX_KEPT_ITEMS}"))
                value = value[-MAX_KEPT_ITEMS:]
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    return walk(payload, ""), tuple(cuts)


def _kept(call):
    """The payload to keep in the run files, every text bounded; notes naming what was cut (never the text)."""
    payload, cuts = bounded(call.payload)
    return payload, tuple(f"{call.action}: {path[:60]!r} is {was}: kept {kept}" for path, was, kept in cuts)


def boot_notification(call, ctx):
    reply = {"status": "Accepted", "currentTime": timestamps.format_utc(ctx.now),
             "interval": ctx.heartbeat_interval}
    payload, notes = _kept(call)
    return _result(call, reply, SaveBoot(payload), notes=notes)


def heartbeat(call, ctx):
    return _result(call, {"currentTime": timestamps.format_utc(ctx.now)})


def _saved(effect_type, connector, call):
    """The effect that keeps the latest payload of a connector, its texts bounded; none for an
    absurd connector id, which would otherwise let a charger fill the run directory."""
    if 0 <= connector <= MAX_CONNECTOR:
        payload, notes = _kept(call)
        return (effect_type(connector, payload),), notes
    return (), (f"connectorId {connector} is outside 0..{MAX_CONNECTOR}: not kept",)


def status_notification(call, ctx):
    effects, notes = _saved(SaveStatus, call.payload["connectorId"], call)
    return _result(call, {}, *effects, notes=notes)


def authorize(call, ctx):
    info = _id_tag_info(ctx, call.payload["idTag"])
    refused = () if info["status"] == "Accepted" else (SaveRefusal({"idTag": call.payload["idTag"], **info}),)
    return _result(call, {"idTagInfo": info}, *refused)


def start_transaction(call, ctx):
    id_tag = _tag(call.payload)
    account = ctx.tags.lookup(id_tag)
    index = account.index if account else transaction_id.UNKNOWN_INDEX
    tid = transaction_id.encode(index, numbers.whole(call.payload["meterStart"]))
    record = billing.start_record(ctx.charger, call.payload, account, tid, ctx.now)
    month = billing.ledger_month(call.payload.get("timestamp"), ctx.now, ctx.tz)
    reply = {"idTagInfo": _id_tag_info(ctx, id_tag), "transactionId": tid}
    earlier = ctx.starts(month, record) if ctx.starts is not None else None
    if earlier is not None:
        # A retransmission: the transactionId the charger was given, whatever tags.json says now.
        reply["transactionId"] = earlier["transaction_id"]
        return _result(call, reply, notes=[f"start: already recorded (retransmission), not written again: "
                                           f"transactionId {earlier['transaction_id']}, as given at "
                                           f"{earlier.get('recorded_at')}"])
    note = f"start: tag {id_tag!r} -> account {account.name if account else 'unknown'}, transactionId {tid}"
    return _result(call, reply, Record(month, record, _not_recorded(call)), notes=[note])


def stop_transaction(call, ctx):
    stop = billing.stop_facts(ctx.charger, call.payload, ctx.now)
    site = billing.site_of(ctx.tags, ctx.charger_listed, ctx.max_session_wh, ctx.max_power_kw, ctx.tz)
    verdict = verdicts.classify(stop, _searched(ctx, stop), site)
    record = billing.stop_line(stop, call.payload, verdict)
    id_tag = _tag(call.payload)
    reply = {} if id_tag is None else {"idTagInfo": _id_tag_info(ctx, id_tag)}
    notes = () if verdict.outcome == verdicts.BILLED else (
        f"stop of transactionId {stop.transaction_id}: {verdict.outcome}"
        + (f" ({verdict.reason})" if verdict.reason else "") + ": not counted until decided" * (
            verdict.outcome == verdicts.REVIEW),)
    return _result(call, reply, Record(verdict.month, record, _not_recorded(call)), notes=notes)


def _searched(ctx, stop):
    """The records a stop's start is looked for in: of the months verdicts.search_months() names, no
    more, so that the cost of a stop is bounded (a longer session is billed from its transactionId
    alone); of those, the ones of its transactionId, and the charger's own only when the transactionId
    has no start on this charger (its running sessions and history then decide)."""
    if ctx.records is None:
        return []
    labels = verdicts.search_months(stop.stop_time, stop.received, ctx.tz)
    found = [r for label in labels for r in ctx.records(label, stop.transaction_id, None)]
    if verdicts.needs_charger_records(stop, found):
        found = [r for label in labels for r in ctx.records(label, stop.transaction_id, ctx.charger)]
    return found


def _not_recorded(call):
    return CallError(call.unique_id, INTERNAL_ERROR, "the ledger could not be written", {})


def meter_values(call, ctx):
    effects, notes = _saved(SaveMeterValues, numbers.whole(call.payload["connectorId"]), call)
    return _result(call, {}, *effects, notes=notes)


def data_transfer(call, ctx):
    return _result(call, {"status": "Accepted"}, notes=[f"DataTransfer: {call.payload}"])


def notification(call, ctx):
    return _result(call, {}, notes=[f"{call.action}: {call.payload.get('status')}"])


_HANDLERS = {
    "Authorize": authorize,
    "BootNotification": boot_notification,
    "DataTransfer": data_transfer,
    "DiagnosticsStatusNotification": notification,
    "FirmwareStatusNotification": notification,
    "Heartbeat": heartbeat,
    "MeterValues": meter_values,
    "StartTransaction": start_transaction,
    "StatusNotification": status_notification,
    "StopTransaction": stop_transaction,
}
