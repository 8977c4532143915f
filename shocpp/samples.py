"""The running session's power as the charger reported it, for the dashboard's chart: one file a
connector, <run>/samples/<charger>-<connector>.json, [{"t": received_at, "w": W, "transaction_id": id}],
written by the backend at each MeterValues of a transaction. Bounded: past MAX_SAMPLES, every other
sample is dropped (the whole session stays, at half the resolution). A new transaction starts anew."""

import json

from . import atomic, runfiles

DIR = "samples"
MAX_SAMPLES = 600


def path(run_dir, charger, connector):
    return run_dir / DIR / f"{charger}-{int(connector)}.json"


def read(run_dir, charger, connector):
    """The samples kept, oldest first ([] without any)."""
    try:
        with open(path(run_dir, charger, connector), encoding="utf-8") as f:
            found = json.load(f)
    except (OSError, ValueError):
        return []
    return [s for s in found if isinstance(s, dict) and isinstance(s.get("t"), str)
            and isinstance(s.get("w"), (int, float)) and not isinstance(s.get("w"), bool)] \
        if isinstance(found, list) else []


def added(kept, sample):
    """`kept` with `sample`, bounded; a sample of another transaction starts anew."""
    if kept and kept[-1].get("transaction_id") != sample["transaction_id"]:
        kept = []
    kept = kept + [sample]
    return kept[::2] + ([] if len(kept) % 2 else [kept[-1]]) if len(kept) > MAX_SAMPLES else kept


def add(run_dir, charger, connector, sample, kept=None):
    """Keep `sample` ({"t", "w", "transaction_id"}); the samples now kept (pass them next time)."""
    kept = added(read(run_dir, charger, connector) if kept is None else kept, sample)
    runfiles.ensure_dir(run_dir / DIR, 0o750)
    atomic.write_json(path(run_dir, charger, connector), kept, mode=0o640)
    return kept
