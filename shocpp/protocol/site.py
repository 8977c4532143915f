"""site.json: the site's grid connection and how its chargers share it (shocpp-balance).

{"grid_limit_a": 32, "interval_s": 30,
 "default": {"min_a": 6, "max_a": 16, "phases": 3, "mode": "fast"},
 "chargers": {"garage-left": {"max_a": 32, "priority": 2}, "carport": {"mode": "pv", "phases": 1}},
 "grid_meter": {"command": "..."}, "enable_delay_s": 60, "disable_delay_s": 180, "phase_switch_pause_s": 120}

A charger's settings are the `default` with its own entry on top. Currents are whole amperes, so
that every share, sum and limit is exact. Pure: parse(text) -> Site, or SiteError naming the problem.
"""

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from .schemas.compiler import compile_schema

MODES = ("off", "fast", "pv", "minpv", "unmanaged")  # unmanaged: no profile, counted at max_a
PHASE_NAMES = ("L1", "L2", "L3")

_CURRENT = {"type": "integer", "minimum": 0, "maximum": 1000}
_SECONDS = {"type": "integer", "minimum": 0, "maximum": 86400}
SETTINGS = {
    "type": "object",
    "properties": {
        "min_a": _CURRENT,
        "max_a": _CURRENT,
        "phases": {"type": "integer", "minimum": 1, "maximum": 3},  # 1 or 3 (checked after)
        "mode": {"enum": list(MODES)},
        "priority": {"type": "integer", "minimum": -1000, "maximum": 1000},
        "phase": {"enum": list(PHASE_NAMES)},          # the phase a one-phase charger is wired to
        "unit": {"enum": ["A", "W"]},                  # chargingRateUnit the charger takes
        "purpose": {"enum": ["TxDefaultProfile", "TxProfile"]},
        "phase_switching": {"type": "boolean"},        # pv, minpv: may switch between 3 and 1 phases
    },
    "additionalProperties": False,
}
SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "properties": {
        "grid_limit_a": {"type": "integer", "minimum": 1, "maximum": 10000},
        "interval_s": {"type": "integer", "minimum": 1, "maximum": 3600},
        "default": SETTINGS,
        "chargers": {"type": "object", "additionalProperties": SETTINGS},
        "grid_meter": {
            "type": "object",
            "properties": {
                "command": {"type": "string", "minLength": 1},
                "url": {"type": "string", "pattern": "^https?://"},
                "pointer": {"type": "string"},
                "file": {"type": "string", "minLength": 1},
                "timeout_s": {"type": "integer", "minimum": 1, "maximum": 60},
            },
            "additionalProperties": False,
        },
        "enable_delay_s": _SECONDS,
        "disable_delay_s": _SECONDS,
        "phase_switch_pause_s": _SECONDS,
        "meter_settle_s": _SECONDS,
        "ramp_s": {"type": "integer", "minimum": 1, "maximum": 30},
        "tolerance_a": {"type": "integer", "minimum": 0, "maximum": 10},
    },
    "required": ["grid_limit_a"],
    "additionalProperties": False,
}
BUILT_IN = {"min_a": 6, "max_a": 16, "phases": 3, "mode": "fast", "priority": 0, "phase": "L1",
            "unit": "A", "purpose": "TxDefaultProfile", "phase_switching": True}


class SiteError(Exception):
    """site.json is missing or broken; the message names the file and the problem."""


@dataclass(frozen=True)
class Settings:
    min_a: int = 6
    max_a: int = 16
    phases: int = 3
    mode: str = "fast"
    priority: int = 0
    phase: str = "L1"
    unit: str = "A"
    purpose: str = "TxDefaultProfile"
    phase_switching: bool = True


@dataclass(frozen=True)
class GridMeter:
    kind: str                       # command, url or file
    source: str                     # the command line, the URL or the path
    pointer: str = ""               # url: RFC 6901 pointer to the value in the JSON answer
    timeout_s: int = 10


@dataclass(frozen=True)
class Site:
    grid_limit_a: int
    interval_s: int = 30
    default: Settings = Settings()
    chargers: dict = field(default_factory=dict)   # identity -> Settings (the default with its entry on top)
    grid_meter: Optional[GridMeter] = None
    enable_delay_s: int = 60
    disable_delay_s: int = 180
    phase_switch_pause_s: int = 120
    meter_settle_s: int = 60        # the grid meter's readings are ignored this long after a phase switch
    ramp_s: int = 30                # a charger has this long to follow a limit before its draw is held against it
    tolerance_a: int = 1            # what it may draw above its limit (meters and cars are not exact)

    def settings(self, identity):
        return self.chargers.get(identity, self.default)


def parse(text, source="site.json"):
    """The Site from the text of a site.json, or SiteError naming what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise SiteError(f"{source}: not valid JSON: {e}") from None
    _check_schema(data, source)
    default = {**BUILT_IN, **data.get("default", {})}
    chargers = {name: {**default, **entry} for name, entry in data.get("chargers", {}).items()}
    for where, settings in [("default", default)] + [(f"chargers.{n}", s) for n, s in chargers.items()]:
        if settings["phases"] == 2:
            raise SiteError(f"{source}: {where}.phases: 2 is not 1 or 3")
        if settings["min_a"] > settings["max_a"]:
            raise SiteError(f"{source}: {where}: min_a {settings['min_a']} is more than max_a {settings['max_a']}")
        if settings["min_a"] > data["grid_limit_a"]:
            raise SiteError(f"{source}: {where}: min_a {settings['min_a']} is more than grid_limit_a "
                            f"{data['grid_limit_a']}")
    meter = data.get("grid_meter")
    grid_meter = None
    if meter is not None:
        kinds = [k for k in ("command", "url", "file") if k in meter]
        if len(kinds) != 1:
            raise SiteError(f"{source}: grid_meter: needs exactly one of command, url or file"
                            + (f" (has {', '.join(kinds)})" if kinds else ""))
        if "pointer" in meter and kinds != ["url"]:
            raise SiteError(f"{source}: grid_meter: pointer goes with url only")
        pointer = meter.get("pointer", "")
        if pointer and not pointer.startswith("/"):
            raise SiteError(f"{source}: grid_meter.pointer {pointer!r} is not a JSON pointer (RFC 6901: starts with /)")
        grid_meter = GridMeter(kinds[0], meter[kinds[0]], pointer, meter.get("timeout_s", 10))
    scalars = {k: data[k] for k in ("interval_s", "enable_delay_s", "disable_delay_s", "phase_switch_pause_s",
                                    "meter_settle_s", "ramp_s", "tolerance_a") if k in data}
    return Site(grid_limit_a=data["grid_limit_a"], default=Settings(**default),
                chargers={n: Settings(**s) for n, s in chargers.items()}, grid_meter=grid_meter, **scalars)


def warnings(site):
    """What a good site.json may still mean otherwise, since the balancer became the site's one
    controller: a site.json naming no charger balances none (it used to balance every one); mode "off"
    pauses a charger (a 0 A limit), the old "off" (no profile, counted at max_a) is "unmanaged"."""
    found = [] if site.chargers else ['names no chargers: only those named in "chargers" are balanced (any '
                                      'other identity is ignored), so nothing is; name each, e.g. '
                                      '"chargers": {"garage-left": {}}']
    off = sorted(n for n, s in site.chargers.items() if s.mode == "off")
    if site.default.mode == "off":
        off.insert(0, "default")
    if off:
        found.append(f'mode "off" ({", ".join(off)}) pauses the charger with a 0 A limit; for the old meaning '
                     f'of "off" (no profile sent, counted at its max_a) write "unmanaged"')
    return found


@lru_cache(maxsize=None)
def conforms():
    """The schema as a predicate (the compiler takes additionalProperties false only: each charger's
    entry is put to SETTINGS one by one)."""
    top = compile_schema({**SCHEMA, "properties": {**SCHEMA["properties"], "chargers": {"type": "object"}}})
    entry = compile_schema(SETTINGS)
    return lambda data: top(data) and all(entry(e) for e in data.get("chargers", {}).values())


def _check_schema(data, source):
    if conforms()(data):
        return
    from jsonschema import Draft4Validator  # only to say what is wrong

    errors = sorted(Draft4Validator(SCHEMA).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        error = errors[0]
        path = ".".join(str(p) for p in error.absolute_path)
        raise SiteError(f"{source}: {path + ': ' if path else ''}{_explain(error)}")
    raise SiteError(f"{source}: does not conform to the schema")


def _explain(error):
    if error.validator == "type" and not error.path:
        return 'must be an object like {"grid_limit_a": 32, "default": {"min_a": 6, "max_a": 16}}'
    if error.validator == "additionalProperties":
        return f"{error.message} (known: {', '.join(sorted(error.schema.get('properties', {})))})"
    return error.message


def resolve_pointer(document, pointer):
    """The value at an RFC 6901 JSON pointer ('' is the whole document); KeyError when there is none."""
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise KeyError(pointer)
    value = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and (token == "0" or not token.startswith("0")) \
                and int(token) < len(value):
            value = value[int(token)]
        else:
            raise KeyError(pointer)
    return value
