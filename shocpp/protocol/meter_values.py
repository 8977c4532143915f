"""Walking MeterValues as chargers really send them: arrays, or single objects where arrays are due."""


def as_list(value):
    if isinstance(value, dict):
        return [value]
    return value if isinstance(value, list) else []


def samples(meter_values):
    """(meterValue entry, sampledValue) pairs, skipping whatever is not an object."""
    for entry in as_list(meter_values):
        if isinstance(entry, dict):
            for sample in as_list(entry.get("sampledValue")):
                if isinstance(sample, dict):
                    yield entry, sample
