"""Running sessions and when chargers were last seen, from ledger records (pure).

A running session is a start record without its stop (matching.open_starts). The records given are
those of the months looked at (this month and the month before), oldest first. One open for longer
than a session can last (verdicts.MAX_SESSION_TIME) is shown as stale: its stop was lost, it is not
charging.
"""

from . import matching, timestamps, transaction_id, verdicts


def running(records):
    """{charger: {connector id: start record}}: the open start records, the newest one of each
    connector (an older open start on the same connector lost its stop: the charger has moved on)."""
    found = {}
    for start in matching.open_starts(records):
        connector = start.get("connector_id")
        if isinstance(start.get("charger"), str) and type(connector) is int:
            found.setdefault(start["charger"], {})[connector] = start
    return found


def running_on(records, charger, connector=None):
    """The running sessions of one charger (of one connector, when given): [start record], by connector."""
    mine = running(records).get(charger, {})
    return [mine[c] for c in sorted(mine) if connector is None or c == connector]


def session(start, now, energy_wh=None, power_w=None, meter_time=None):
    """The session as shocpp-status shows it: a start record, the connector's latest energy register
    (Wh) and power (W) with the time of that reading, and now (an aware datetime).

    The energy so far is the register minus the start reading (with the ledger's wrap rule); the
    reading and the power count only when they are not older than the session's start, and are None
    otherwise or when unknown. duration_s is whole seconds since the charger's start time (0 when that
    time is ahead of now), None when it cannot be read."""
    began = timestamps.parse(start.get("start_time"))
    read_at = timestamps.parse(meter_time)
    current = not (began is not None and read_at is not None and read_at < began)
    meter_start = start.get("meter_start_wh")
    energy = None
    if current and isinstance(energy_wh, (int, float)) and type(meter_start) is int:
        energy = transaction_id.consumed_wh(meter_start, energy_wh)
        if isinstance(energy, float):
            energy = round(energy, 3)
    return {
        "transaction_id": start.get("transaction_id"),
        "account": start.get("account"),
        "id_tag": start.get("id_tag"),
        "start_time": start.get("start_time"),
        "duration_s": None if began is None else max(0, int((now - began).total_seconds())),
        "energy_wh": energy,
        "power_w": power_w if current else None,
        "stale": matching.is_stale(start, now, verdicts.MAX_SESSION_TIME),
    }


def last_records(records, since=None):
    """{charger: its last record}, of the records recorded at or after `since` (an aware datetime;
    None: all); a record whose recorded_at cannot be read counts only without `since`."""
    found = {}
    for record in records:
        charger = record.get("charger")
        if not isinstance(charger, str):
            continue
        if since is not None:
            recorded = timestamps.parse(record.get("recorded_at"))
            if recorded is None or recorded < since:
                continue
        found[charger] = record
    return found
