"""Energy readings in 2.0.1 meter values: numbers with a unit and a power-of-ten multiplier."""

import math

from .. import meter_values, numbers

REGISTER = "Energy.Active.Import.Register"
BEGIN, END = "Transaction.Begin", "Transaction.End"
SCALE = {"Wh": 1, "kWh": 1000}


def readings(meter_value):
    """[(context, timestamp text, Wh)]: the charger's energy register readings (the total, not a phase's),
    in the order sent; samples that cannot be read are skipped."""
    found = []
    for entry, sample in meter_values.samples(meter_value):
        if sample.get("measurand", REGISTER) != REGISTER or sample.get("phase") is not None:
            continue
        wh = _wh(sample)
        if wh is not None:
            found.append((sample.get("context", "Sample.Periodic"), entry.get("timestamp"), wh))
    return found


def _wh(sample):
    unit = sample.get("unitOfMeasure") if isinstance(sample.get("unitOfMeasure"), dict) else {}
    scale = SCALE.get(unit.get("unit", "Wh"))
    multiplier = unit.get("multiplier", 0)
    value = numbers.decimal(sample.get("value"), exponent=False)
    if scale is None or value is None or type(multiplier) is not int or not -3 <= multiplier <= 9:
        return None
    return math.floor(value.scaleb(multiplier) * scale)


def begin_wh(meter_value):
    """The Transaction.Begin reading, else None."""
    return next((wh for context, _, wh in readings(meter_value) if context == BEGIN), None)


def first_wh(meter_value):
    """The Transaction.Begin reading, else the first reading, else None."""
    found = readings(meter_value)
    return begin_wh(meter_value) if begin_wh(meter_value) is not None else (found[0][2] if found else None)


def end_wh(meter_value):
    """The Transaction.End reading, else the last reading, else None."""
    found = readings(meter_value)
    ends = [wh for context, _, wh in found if context == END]
    return ends[-1] if ends else (found[-1][2] if found else None)


def as_run_file(evse_id, transaction_id, meter_value):
    """The meter values in the run files' shape (1.6's MeterValues: value text, unit beside it), which
    shocpp-status, the dashboard and the balancer read for both protocols."""
    entries = []
    for entry in meter_values.as_list(meter_value):
        if not isinstance(entry, dict):
            continue
        sampled = []
        for sample in meter_values.as_list(entry.get("sampledValue")):
            if not isinstance(sample, dict):
                continue
            unit = sample.get("unitOfMeasure") if isinstance(sample.get("unitOfMeasure"), dict) else {}
            value = numbers.decimal(sample.get("value"), exponent=False)
            multiplier = unit.get("multiplier", 0)
            if value is None or type(multiplier) is not int or not -3 <= multiplier <= 9:
                continue
            kept = {k: sample[k] for k in ("measurand", "phase", "context", "location") if k in sample}
            kept.update(value=str(value.scaleb(multiplier)), unit=unit.get("unit", "Wh"))
            sampled.append(kept)
        entries.append({"timestamp": entry.get("timestamp"), "sampledValue": sampled})
    payload = {"connectorId": evse_id, "meterValue": entries}
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return payload
