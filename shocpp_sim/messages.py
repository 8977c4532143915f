"""The payloads a simulated charger sends, and readable one-line descriptions of frames. Pure."""

import json
from datetime import datetime, timezone

from .answers import CONNECTOR

ENERGY, POWER, CURRENT = "Energy.Active.Import.Register", "Power.Active.Import", "Current.Import"
VOLTS = 230


def timestamp(moment=None):
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def boot_notification(identity):
    return {"chargePointVendor": "shocpp", "chargePointModel": "shocpp-simulate",
            "chargePointSerialNumber": f"SIM-{identity}"[:25], "firmwareVersion": "sim-1"}


def status_notification(connector, status, ts):
    return {"connectorId": connector, "errorCode": "NoError", "status": status, "timestamp": ts}


def start_transaction(id_tag, meter_start_wh, ts):
    return {"connectorId": CONNECTOR, "idTag": id_tag, "meterStart": meter_start_wh, "timestamp": ts}


def _sample(value, context, measurand, unit):
    return {"value": str(value), "context": context, "measurand": measurand, "location": "Outlet", "unit": unit}


def watts(power_w):
    """A power reading as text: whole watts."""
    return int(round(power_w))


def meter_values(register_wh, power_w, ts, transaction_id=None, context="Sample.Periodic", connector=CONNECTOR,
                 phases=None):
    """phases: also Current.Import on L1..L<phases> (power / 230 V / phases, one decimal)."""
    payload = {"connectorId": connector}
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    samples = [_sample(register_wh, context, ENERGY, "Wh"), _sample(watts(power_w), context, POWER, "W")]
    for number in range(1, (phases or 0) + 1):
        samples.append({**_sample(amperes(power_w, phases), context, CURRENT, "A"), "phase": f"L{number}"})
    payload["meterValue"] = [{"timestamp": ts, "sampledValue": samples}]
    return payload


def amperes(power_w, phases):
    """The current per phase as text with one decimal, rounded down."""
    from decimal import ROUND_DOWN, Decimal
    return str((Decimal(str(power_w)) / VOLTS / phases).quantize(Decimal("0.1"), rounding=ROUND_DOWN))


def stop_transaction(transaction_id, id_tag, meter_stop_wh, ts, reason, begin_wh, begin_ts):
    """StopTransaction with the Transaction.Begin and Transaction.End register readings."""
    payload = {"transactionId": transaction_id, "meterStop": meter_stop_wh, "timestamp": ts, "reason": reason,
               "transactionData": [
                   {"timestamp": begin_ts, "sampledValue": [_sample(begin_wh, "Transaction.Begin", ENERGY, "Wh")]},
                   {"timestamp": ts, "sampledValue": [_sample(meter_stop_wh, "Transaction.End", ENERGY, "Wh")]}]}
    if id_tag is not None:
        payload["idTag"] = id_tag
    return payload


# Readable lines --------------------------------------------------------------------------------

HIDDEN = {"timestamp", "transactionData"}
UNITS = {ENERGY: "Wh", POWER: "W"}


def _short(value, width=100):
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= width else text[:width - 1] + "…"


def _fields(payload, hidden=HIDDEN):
    parts, statuses = [], []
    for key, value in payload.items():
        if key in hidden:
            continue
        if key == "status" and isinstance(value, str):
            statuses.append(value)
        elif key == "idTagInfo" and isinstance(value, dict):
            statuses.append(str(value.get("status")))
        elif isinstance(value, (dict, list)):
            parts.append(f"{key}={_short(value)}")
        else:
            parts.append(f"{key}={value}")
    return parts + statuses


def _readings(meter_value):
    parts = []
    for entry in meter_value if isinstance(meter_value, list) else []:
        for sampled in entry.get("sampledValue", []) if isinstance(entry, dict) else []:
            if isinstance(sampled, dict):
                unit = sampled.get("unit") or UNITS.get(sampled.get("measurand", ENERGY), "")
                parts.append(f"{sampled.get('value')} {unit}".strip())
    return parts


def describe_call(action, payload):
    """'StartTransaction idTag=1111 meterStart=12345678': a CALL in one line."""
    if not isinstance(payload, dict):
        return f"{action} {_short(payload)}"
    if action == "MeterValues":
        parts = _fields(payload, HIDDEN | {"meterValue", "connectorId"}) + _readings(payload.get("meterValue"))
    elif action == "StatusNotification":
        where = [f"evseId={payload['evseId']}"] if "evseId" in payload else []
        parts = where + [f"connectorId={payload.get('connectorId')}",
                         str(payload.get("status") or payload.get("connectorStatus"))]
        if payload.get("errorCode") not in (None, "NoError"):
            parts.append(f"errorCode={payload['errorCode']}")
    elif action == "StartTransaction":
        parts = _fields(payload, HIDDEN | {"connectorId"})
    elif action == "GetConfiguration" and not payload:
        parts = ["(all keys)"]
    else:
        parts = _fields(payload)
    return " ".join([action] + parts)


def describe_result(action, payload):
    """'transactionId=10012345 Accepted': the confirmation of `action` in one line."""
    if not isinstance(payload, dict):
        return _short(payload)
    if action == "GetConfiguration":
        parts = [f"{k.get('key')}={k.get('value', '(write-only)')}" for k in payload.get("configurationKey", [])
                 if isinstance(k, dict)]
        if payload.get("unknownKey"):
            parts.append(f"unknownKey={','.join(map(str, payload['unknownKey']))}")
        return " ".join(parts) or "(no keys)"
    hidden = HIDDEN | ({"currentTime"} if action == "BootNotification" else set())
    return " ".join(_fields(payload, hidden)) or "(confirmed)"
