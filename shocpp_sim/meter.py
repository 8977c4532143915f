"""The energy meter of a simulated charger: a pure model of time, exact to the Wh.

The register (Wh) grows by power × time × time_scale / 3600. Times and powers are
kept as Fractions, so a session of S seconds at P watts adds exactly
floor(P × S × time_scale / 3600) Wh however it is cut into intervals.
"""

import math
from dataclasses import dataclass, replace
from fractions import Fraction


def exact(number):
    """A Fraction from an int, float or numeric string, without binary noise (0.1 is 1/10)."""
    return number if isinstance(number, Fraction) else Fraction(str(number))


@dataclass(frozen=True)
class Meter:
    """The register at `at` seconds (charging time) of a session; power in W while charging."""
    register: Fraction
    at: Fraction = Fraction(0)
    time_scale: Fraction = Fraction(1)

    @property
    def wh(self):
        return math.floor(self.register)


def start(register_wh, time_scale=1):
    return Meter(exact(register_wh), Fraction(0), exact(time_scale))


def advance(meter, at, power_w):
    """The meter at time `at` after charging at `power_w` since meter.at (never backwards)."""
    at = max(exact(at), meter.at)
    added = exact(power_w) * (at - meter.at) * meter.time_scale / 3600
    return replace(meter, register=meter.register + added, at=at)


def register_wh(start_wh, seconds, power_w, time_scale=1):
    """The register after `seconds` at a constant `power_w`: what a session ends with."""
    return advance(start(start_wh, time_scale), seconds, power_w).wh


def limit_w(unit, limit, number_phases=None, volts=230):
    """A charging-profile limit in W: amperes × 230 V × phases (3 when not given), or W as is."""
    if unit == "W":
        return exact(limit)
    return exact(limit) * volts * (3 if number_phases is None else number_phases)
