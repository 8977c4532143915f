"""The OCPP 1.6 JSON schemas, one file per message and direction, and payload checking; SchemaSet
serves the 2.0.1 ones (protocol/v201/schemas) the same way.

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


class SchemaSet:
    """One protocol version's schemas (`<Action>.req.json`, `<Action>.conf.json` in `here`), the actions
    of each side, and the error codes of its violations (the versions spell them differently)."""

    def __init__(self, here, from_charger, from_central, occurrence, type_, property_, format_):
        self.here = here
        self.from_charger, self.from_central = from_charger, from_central
        self.all_actions = tuple(sorted(set(from_charger) | set(from_central)))
        self.codes = {"required": occurrence, "minItems": occurrence, "maxItems": occurrence, "type": type_,
                      "maxLength": type_, "additionalProperties": format_}
        self.default_code, self.format_code, self.occurrence_code = property_, format_, occurrence
        # For one field, the most telling first: missing, then wrong type, then wrong value.
        self.rank = (occurrence, type_, property_, format_)
        self.load = lru_cache(maxsize=None)(self._load)
        self.predicate = lru_cache(maxsize=None)(lambda action, kind: compile_schema(self.load(action, kind)))
        self.validator = lru_cache(maxsize=None)(
            lambda action, kind: _validator_class()(self.load(action, kind), format_checker=_format_checker()))

    def schema_file(self, action, kind):
        return f"{self.here}/{action}.{kind}.json"

    def _load(self, action, kind):
        if action not in self.all_actions or kind not in KINDS:
            raise KeyError(f"no schema for {action}.{kind}")
        with open(self.schema_file(action, kind), encoding="utf-8") as f:
            return json.load(f)

    def check(self, action, kind, payload):
        """The violations of `payload` against the schema, most useful first."""
        if self.predicate(action, kind)(payload):
            return []
        found = {v for error in self.validator(action, kind).iter_errors(payload) for v in self._violations(error)}
        return sorted(found, key=lambda v: (v.unknown_property, v.path, self.rank.index(v.code)))

    def _violations(self, error):
        if error.validator == "additionalProperties":
            known = error.schema.get("properties", {})
            extra = [k for k in error.instance if k not in known]
            return [_named(self.format_code, error, k, "unknown property", True) for k in extra]
        if error.validator == "required":
            missing = [k for k in error.validator_value if k not in error.instance]
            return [_named(self.occurrence_code, error, k, "required property is missing") for k in missing]
        code = self.codes.get(error.validator, self.default_code)
        return [Violation(code, path_text(error.absolute_path), error.message)]

    def outgoing_problem(self, action, payload):
        """Why a call from the central system may not be sent to a charger, or None.

        Our own calls are held to the schema exactly: unknown properties too.
        """
        if action not in self.from_central:
            return f"unknown action {action!r}; the central system sends: {', '.join(self.from_central)}"
        if not isinstance(payload, dict):
            return "the payload must be a JSON object"
        violations = self.check(action, "req", payload)
        if violations:
            return f"{action} payload refused: " + "; ".join(v.describe() for v in violations)
        return None


V16 = SchemaSet(HERE, FROM_CHARGER, FROM_CENTRAL, OCCURENCE_CONSTRAINT_VIOLATION, TYPE_CONSTRAINT_VIOLATION,
                PROPERTY_CONSTRAINT_VIOLATION, FORMATION_VIOLATION)
# OCPP 1.6's, as the module's own names.
schema_file, check, load, outgoing_problem = V16.schema_file, V16.check, V16.load, V16.outgoing_problem
_predicate, _validator = V16.predicate, V16.validator


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


def _named(code, error, name, message, unknown=False):
    return Violation(code, path_text([*error.absolute_path, name]), message, unknown)
