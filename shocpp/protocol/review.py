"""The operator's review of ledger lines (pure): each stop line's id, its status, and decision records.

A stop line's id is derived from what makes it unique in the ledger (the charger, the transactionId,
the stop reading and time, which the ledger never holds twice, and when it was recorded), so the
month's JSON, the table and `shocpp-summary --accept ID` name the same line whatever reads it. A
decision is a ledger line of its own, appended to the month file of the line decided: nothing is
edited or deleted, and the newest decision for a line is the one that counts.
"""

from . import matching, timestamps, verdicts
from .matching import ID_LENGTH, line_id  # noqa: F401 (the review's names for it)

ACCEPT, REJECT = "accept", "reject"
# A stop line's status in the reports: counted ones are BILLED or ACCEPTED.
BILLED, TO_REVIEW, ACCEPTED, REJECTED, REPEAT = "billed", "to_review", "accepted", "rejected", "repeat"
COUNTED = frozenset((BILLED, ACCEPTED))
# Lines written before verdicts: these flags left a line out of the totals; now they wait for a decision.
OLD_REVIEW_FLAGS = (verdicts.NEGATIVE, verdicts.IMPLAUSIBLE)


def verdict_of(record):
    """(verdict, reason) of a stop line: as written, or for older lines from their flags."""
    verdict = record.get("verdict")
    if verdict in (verdicts.BILLED, verdicts.REPEAT, verdicts.REVIEW):
        return verdict, record.get("review") if verdict == verdicts.REVIEW else None
    flags = record.get("flags") if isinstance(record.get("flags"), list) else []
    old = [f for f in OLD_REVIEW_FLAGS if f in flags]
    return (verdicts.REVIEW, old[0]) if old else (verdicts.BILLED, None)


def decisions(records):
    """{line id: the newest decision record for it}."""
    found = {}
    for record in records:
        if matching.is_decision(record) and isinstance(record.get("line"), str):
            found[record["line"]] = record
    return found


def status(verdict, decision=None):
    """A stop line's status: from its verdict (verdict_of) and the newest decision on it (or None)."""
    if verdict == verdicts.REPEAT:
        return REPEAT
    if decision is not None:
        return ACCEPTED if decision.get("decision") == ACCEPT else REJECTED
    return TO_REVIEW if verdict == verdicts.REVIEW else BILLED


def decidable(record):
    """Why the stop line cannot be decided, or None: a repeat is never counted."""
    if verdict_of(record)[0] == verdicts.REPEAT:
        return "it repeats a stop already billed (never counted)"
    return None


def decision_record(line, decision, now, by=None):
    """The decision record for a stop line; accepting a line with a candidate start closes that start."""
    record = {"event": "decision", "decision": decision, "line": line_id(line), "charger": line.get("charger"),
              "transaction_id": line.get("transaction_id")}
    candidate = line.get("candidate")
    if decision == ACCEPT and isinstance(candidate, dict):
        record.update({"start_transaction_id": candidate.get("transaction_id"),
                       "connector_id": candidate.get("connector_id"),
                       "meter_start_wh": candidate.get("meter_start_wh"), "start_time": candidate.get("start_time")})
        record["charger"] = candidate.get("charger", record["charger"])
    if by is not None:
        record["by"] = by
    record["recorded_at"] = timestamps.format_utc(now)
    return record
