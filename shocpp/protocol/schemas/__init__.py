"""The OCPP 1.6 JSON schemas, one file per message and direction, and payload checking.

`<Action>.req.json` is the schema of a CALL's payload, `<Action>.conf.json` of its
CALLRESULT. A violation carries the OCPP-J error code it maps to (OCPP-J 1.6, 4.2.3).
"""

import json
from collections import namedtuple
from functools import lru_cache

from ..ocppj import (FORMATION_VIOLATION, OCCURENCE_CONSTRAINT_VIOLATION, PROPERTY_CONSTRAINT_VIOLATION,
                     TYPE_CONSTRAINT_VIOLATION)
from .compiler import compile_schema, is_multiple

HERE = __path__[0]  # package data, read like a module: no pathlib in the pure core

FROM_CHARGER = (
    "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
    "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
    "StatusNotification", "StopTransaction",
)
FROM_CENTRAL = (
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
    "ClearChargingProfile", "DataTransfer", "GetCompositeSchedule", "GetConfiguration",
    "GetDiagnostics", "GetLocalListVersion", "RemoteStartTransaction",
    "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
    "TriggerMessage", "UnlockConnector", "UpdateFirmware",
)
ALL_ACTIONS = tuple(sorted(set(FROM_CHARGER) | set(FROM_CENTRAL)))
KINDS = ("req", "conf")

_CODES = {
    "required": OCCURENCE_CONSTRAINT_VIOLATION,
    "minItems": OCCURENCE_CONSTRAINT_VIOLATION,
    "maxItems": OCCURENCE_CONSTRAINT_VIOLATION,
    "type": TYPE_CONSTRAINT_VIOLATION,
    "maxLength": TYPE_CONSTRAINT_VIOLATION,
    "additionalProperties": FORMATION_VIOLATION,
}
_DEFAULT_CODE = PROPERTY_CONSTRAINT_VIOLATION
# For one field, the most telling first: missing, then wrong type, then wrong value.
_RANK = (OCCURENCE_CONSTRAINT_VIOLATION, TYPE_CONSTRAINT_VIOLATION, PROPERTY_CONSTRAINT_VIOLATION, FORMATION_VIOLATION)


class Violation(namedtuple("Violation", ["code", "path", "message", "unknown_property"], defaults=[False])):
    __slots__ = ()

    def describe(self):
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message}"


def path_text(parts):
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_file(action, kind):
    return f"{HERE}/{action}.{kind}.json"


def check(action, kind, payload):
    """The violations of `payload` against the schema, most useful first."""
    if _predicate(action, kind)(payload):
        return []
    found = {v for error in _validator(action, kind).iter_errors(payload) for v in _violations(error)}
    return sorted(found, key=lambda v: (v.unknown_property, v.path, _RANK.index(v.code)))


@lru_cache(maxsize=None)
def load(action, kind):
    if action not in ALL_ACTIONS or kind not in KINDS:
        raise KeyError(f"no schema for {action}.{kind}")
    with open(schema_file(action, kind), encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=None)
def _predicate(action, kind):
    return compile_schema(load(action, kind))


@lru_cache(maxsize=None)
def _validator(action, kind):
    return _validator_class()(load(action, kind), format_checker=_format_checker())


@lru_cache(maxsize=None)
def _validator_class():
    from jsonschema import Draft4Validator, ValidationError, validators

    def multiple_of(validator, factor, instance, schema):
        if validator.is_type(instance, "number") and not is_multiple(instance, factor):
            yield ValidationError(f"{instance!r} is not a multiple of {factor}")

    return validators.extend(Draft4Validator, {"multipleOf": multiple_of})


@lru_cache(maxsize=None)
def _format_checker():
    from jsonschema import FormatChecker

    from .. import timestamps

    checker = FormatChecker(formats=())
    checker.checks("date-time")(lambda value: not isinstance(value, str) or timestamps.parse(value) is not None)
    return checker


def _violations(error):
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        extra = [k for k in error.instance if k not in known]
        return [_named(FORMATION_VIOLATION, error, k, "unknown property", True) for k in extra]
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return [_named(OCCURENCE_CONSTRAINT_VIOLATION, error, k, "required property is missing") for k in missing]
    code = _CODES.get(error.validator, _DEFAULT_CODE)
    return [Violation(code, path_text(error.absolute_path), error.message)]


def _named(code, error, name, message, unknown=False):
    return Violation(code, path_text([*error.absolute_path, name]), message, unknown)


def outgoing_problem(action, payload):
    """Why a call from the central system may not be sent to a charger, or None.

    Our own calls are held to the schema exactly: unknown properties too.
    """
    if action not in FROM_CENTRAL:
        return f"unknown action {action!r}; the central system sends: {', '.join(FROM_CENTRAL)}"
    if not isinstance(payload, dict):
        return "the payload must be a JSON object"
    violations = check(action, "req", payload)
    if violations:
        return f"{action} payload refused: " + "; ".join(v.describe() for v in violations)
    return None
