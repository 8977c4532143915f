"""What a run did, for the summary line. Pure."""

import math
from dataclasses import dataclass, field


@dataclass
class Stats:
    sent: int = 0            # CALLs the chargers sent
    answered: int = 0        # CALLRESULTs they got
    received: int = 0        # CALLs of the central system they answered
    errors: int = 0          # CALLERRORs, timeouts, connection failures, refused tags, unstopped sessions
    sessions: int = 0        # sessions whose StopTransaction was confirmed
    round_trips: list = field(default_factory=list)  # seconds, per answered CALL


def percentile(values, p):
    """The nearest-rank p-th percentile of values (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(stats, chargers):
    def ms(p):
        value = percentile(stats.round_trips, p)
        return "-" if value is None else f"{value * 1000:.1f} ms"
    def n(count, word):
        return f"{count} {word}{'' if count == 1 else 's'}"
    return (f"shocpp-simulate: {n(chargers, 'charger')}, {n(stats.sent, 'message')} sent, "
            f"{n(stats.answered, 'answer')}, {n(stats.errors, 'error')}, {n(stats.sessions, 'session')}, "
            f"{n(stats.received, 'call')} from the central system, "
            f"round trip p50 {ms(50)} p99 {ms(99)}")
