"""Tying stops to the start records of their sessions, on ledger records (pure).

The ledger holds a start record for every StartTransaction confirmed since sessions were recorded. A
start is closed once a line carries its connector, time and reading: a stop line tied to it (also a
repeat or one to review) or an operator's decision that accepted a stop for it. An open start younger
than a session can last is a running session; an older one is stale.
"""

import hashlib

from . import timestamps, transaction_id

ID_LENGTH = 10


def line_id(record):
    """A stop line's id, 10 hex digits, from what makes it unique in the ledger (protocol/review.py): the
    reprs of its charger, transactionId, stop reading, stop time and recorded_at, hashed (BLAKE2b)."""
    get = record.get
    text = "\x1f".join((repr(get("charger")), repr(get("transaction_id")), repr(get("meter_stop_wh")),
                        repr(get("stop_time")), repr(get("recorded_at"))))
    return hashlib.blake2b(text.encode("utf-8", "backslashreplace"), digest_size=ID_LENGTH // 2).hexdigest()


def is_start(record):
    return record.get("event") == "start"


def is_stop(record):
    return record.get("event", "stop") == "stop"  # lines written before start records have no event


def is_decision(record):
    return record.get("event") == "decision"


def start_key(record):
    """What ties a stop line to its start; a time sent as something other than text still compares."""
    return tuple(_hashable(record.get(k)) for k in ("charger", "connector_id", "meter_start_wh", "start_time"))


def _hashable(value):
    return repr(value) if isinstance(value, (list, dict)) else value


def _closes(record):
    if is_stop(record):
        return "meter_start_wh" in record
    return is_decision(record) and record.get("decision") == "accept" and "meter_start_wh" in record


def _rejected(records):
    """The ids of the stop lines whose newest decision rejects them: a stop found not to be real closes
    nothing, so its session's real stop can still come."""
    newest = {r.get("line"): r.get("decision") for r in records if is_decision(r)}
    return {line for line, decision in newest.items() if decision == "reject"}


def closed_keys(records):
    """The start keys of the starts that a line among `records` closes."""
    rejected = _rejected(records)
    return {start_key(r) for r in records if _closes(r) and not (rejected and is_stop(r) and line_id(r) in rejected)}


def open_starts(records):
    """The start records, in ledger order, that no line closes."""
    closed = closed_keys(records)
    return [r for r in records if is_start(r) and start_key(r) not in closed]


def closer(records, start):
    """The first line that closed `start` (a stop line or a decision), or None."""
    key, rejected = start_key(start), _rejected(records)
    return next((r for r in records if _closes(r) and start_key(r) == key
                 and not (rejected and is_stop(r) and line_id(r) in rejected)), None)


def is_stale(start, now, max_time):
    """A start older than a session can last (by the server's clock when it was recorded)."""
    began = timestamps.parse(start.get("recorded_at")) or timestamps.parse(start.get("start_time"))
    return began is not None and now - began > max_time


def running(records, now, max_time, charger=None):
    """The running sessions (open, not stale, the newest of each connector), in ledger order; only
    those of `charger` when given."""
    newest = {}
    for start in open_starts(records):
        connector = start.get("connector_id")
        if isinstance(start.get("charger"), str) and type(connector) is int and (
                charger is None or start["charger"] == charger):
            newest[(start["charger"], connector)] = start
    found = {id(s) for s in newest.values() if not is_stale(s, now, max_time)}
    return [r for r in records if id(r) in found]


def may_reconcile(tid, listed):
    """True for a transactionId that names no account (−1, 0, undecodable, an index not in tags.json):
    the stop may belong to the charger's one running session."""
    decoded = transaction_id.decode(tid)
    return tid == 0 or decoded is None or decoded.index not in listed


def agrees(start, tid):
    """The start record's transactionId is `tid` and its reading is the one the id carries."""
    index, wh = start.get("account_index"), start.get("meter_start_wh")
    if start.get("transaction_id") != tid or type(index) is not int or type(wh) is not int:
        return False
    try:
        return transaction_id.encode(index, wh) == tid
    except ValueError:
        return False
