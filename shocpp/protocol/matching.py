"""Tying a StopTransaction to the start record of its session.

The ledger holds a start record for every StartTransaction confirmed since sessions were recorded;
a stop line that was matched carries its start's connector, time and reading, which is how an open
session (a start without its stop) is told from a closed one.
"""

from collections import namedtuple

from . import transaction_id

NO_START, OTHER_CHARGER, RECONCILED = "no_start", "other_charger", "reconciled"

Match = namedtuple("Match", ["start", "flags"])  # the start record or None, and the flags it brings


def is_start(record):
    return record.get("event") == "start"


def is_stop(record):
    return record.get("event", "stop") == "stop"  # lines written before start records have no event


def start_key(record):
    """What ties a stop line to its start; a time sent as something other than text still compares."""
    return tuple(_hashable(record.get(k)) for k in ("charger", "connector_id", "meter_start_wh", "start_time"))


def _hashable(value):
    return repr(value) if isinstance(value, (list, dict)) else value


def open_starts(records):
    """The start records, in ledger order, that no stop line has been matched to."""
    closed = {start_key(r) for r in records if is_stop(r) and "meter_start_wh" in r}
    return [r for r in records if is_start(r) and start_key(r) not in closed]


def may_reconcile(tid, listed):
    """True for a transactionId that names no account (−1, 0, undecodable, an index not in tags.json):
    the stop may belong to the charger's one open session, so its records are needed too."""
    decoded = transaction_id.decode(tid)
    return tid == 0 or decoded is None or decoded.index not in listed


def match(charger, tid, records, listed):
    """The Match for a stop of `charger` with transactionId `tid`, among the ledger records (oldest
    first) of the months searched: those of the transactionId (as the stop's or as a reconciled
    stop's start), and the charger's when may_reconcile(); `listed`: the account indexes in tags.json."""
    mine = [r for r in open_starts(records) if r.get("charger") == charger]
    same = [r for r in mine if _agrees(r, tid)]
    if same:
        return Match(same[-1], ())  # a reused transactionId (sessions under 1 kWh): the newest open one
    if may_reconcile(tid, listed):
        return Match(mine[0], (RECONCILED,)) if len(mine) == 1 else Match(None, (NO_START,))
    if any(_agrees(r, tid) and r.get("charger") != charger for r in records if is_start(r)):
        return Match(None, (OTHER_CHARGER,))
    return Match(None, (NO_START,))


def _agrees(start, tid):
    """The start record's transactionId is `tid` and its reading is the one the id carries."""
    index, wh = start.get("account_index"), start.get("meter_start_wh")
    if start.get("transaction_id") != tid or type(index) is not int or type(wh) is not int:
        return False
    try:
        return transaction_id.encode(index, wh) == tid
    except ValueError:
        return False
