"""How a well-behaved OCPP 1.6 charger answers the central system: pure functions.

answer(state, action, payload) returns an Answer: the confirmation payload (or a
CALLERROR), the charger's new State and the effects the caller carries out after
sending the confirmation (start or stop a session, reboot, send a message).
"""

from dataclasses import dataclass, field, replace
from typing import Optional

from . import meter

CONNECTOR = 1  # the simulated charger has one connector

# key: (read-only, integer value); AuthorizationKey is write-only (never shown).
KEYS = {
    "AuthorizeRemoteTxRequests": (True, False),
    "ChargeProfileMaxStackLevel": (True, True),
    "ChargingScheduleAllowedChargingRateUnit": (True, False),
    "ConnectionTimeOut": (False, True),
    "HeartbeatInterval": (False, True),
    "MeterValueSampleInterval": (False, True),
    "MeterValuesSampledData": (True, False),
    "NumberOfConnectors": (True, True),
    "StopTransactionOnEVSideDisconnect": (True, False),
    "SupportedFeatureProfiles": (True, False),
}
WRITE_ONLY = "AuthorizationKey"
TRIGGERED = ("BootNotification", "Heartbeat", "MeterValues", "StatusNotification")


def default_config(heartbeat_interval=300, meter_interval=60, rate_unit=None):
    return {
        "AuthorizeRemoteTxRequests": "false",
        "ChargeProfileMaxStackLevel": "8",
        "ChargingScheduleAllowedChargingRateUnit": {"A": "Current", "W": "Power"}.get(rate_unit, "Current,Power"),
        "ConnectionTimeOut": "60",
        "HeartbeatInterval": str(heartbeat_interval),
        "MeterValueSampleInterval": str(meter_interval),
        "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
        "NumberOfConnectors": "1",
        "StopTransactionOnEVSideDisconnect": "true",
        "SupportedFeatureProfiles": "Core,SmartCharging,RemoteTrigger",
    }


@dataclass(frozen=True)
class Profile:
    id: int
    connector_id: int
    stack_level: int
    purpose: str
    limit_w: object  # Fraction
    transaction_id: Optional[int] = None
    phases: Optional[int] = None  # numberPhases of the schedule's first period (None: not given)


@dataclass(frozen=True)
class State:
    config: dict = field(default_factory=default_config)
    busy: bool = False                 # a session holds the connector (from Preparing to Available)
    transaction_id: Optional[int] = None
    operative: bool = True
    inoperative_scheduled: bool = False
    profiles: tuple = ()
    authorization_key: Optional[str] = None
    # what chargers in the field do: accept every profile and ignore it, reject TxDefaultProfile
    # (ABB Terra AC), take only A or only W ("A", "W"; None: both)
    ignore_profiles: bool = False
    reject_tx_default: bool = False
    rate_unit: Optional[str] = None

    def interval(self, key):
        return float(self.config[key])


# Effects, carried out after the confirmation is sent.
@dataclass(frozen=True)
class StartSession:
    id_tag: str


@dataclass(frozen=True)
class StopSession:
    reason: str


@dataclass(frozen=True)
class Reboot:
    hard: bool


@dataclass(frozen=True)
class Send:
    message: str                      # BootNotification, Heartbeat, MeterValues, StatusNotification
    connector_id: Optional[int] = None


@dataclass(frozen=True)
class ConfigChanged:
    key: str


@dataclass(frozen=True)
class Answer:
    state: State
    payload: Optional[dict] = None
    error: Optional[tuple] = None     # (errorCode, errorDescription)
    effects: tuple = ()


class Violation(Exception):
    def __init__(self, code, description):
        super().__init__(description)
        self.code, self.description = code, description


def _field(payload, name, kind, required=True):
    if name not in payload:
        if required:
            raise Violation("OccurenceConstraintViolation", f"{name} is required")
        return None
    value = payload[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise Violation("TypeConstraintViolation", f"{name} must be an integer")
    if kind is not int and not isinstance(value, kind):
        raise Violation("TypeConstraintViolation", f"{name} must be {getattr(kind, '__name__', kind)}")
    return value


def phases_allowed(profiles, transaction_id=None):
    """The numberPhases of the profile in force (the TxProfile of the transaction, else the
    TxDefaultProfile, else the ChargePointMaxProfile; None when none says)."""
    def top(purpose, keep=lambda p: True):
        chosen = [p for p in profiles if p.purpose == purpose and keep(p)]
        return max(chosen, key=lambda p: p.stack_level) if chosen else None

    for profile in (top("TxProfile", lambda p: transaction_id is not None and p.transaction_id in (None, transaction_id)),
                    top("TxDefaultProfile"), top("ChargePointMaxProfile")):
        if profile is not None and profile.phases is not None:
            return profile.phases
    return None


def power_limit_w(profiles, transaction_id=None, ignored=False):
    """The power the installed charging profiles allow now, in W (None: no limit).

    ChargePointMaxProfile caps; a TxProfile of the running transaction overrides the
    TxDefaultProfile; within a purpose the highest stackLevel wins. ignored: a charger that
    accepts profiles and ignores them (None)."""
    if ignored:
        return None
    def top(purpose, keep=lambda p: True):
        chosen = [p for p in profiles if p.purpose == purpose and keep(p)]
        return max(chosen, key=lambda p: p.stack_level).limit_w if chosen else None

    cap = top("ChargePointMaxProfile")
    tx = None
    if transaction_id is not None:
        tx = top("TxProfile", lambda p: p.transaction_id in (None, transaction_id))
    if tx is None:
        tx = top("TxDefaultProfile")
    limits = [limit for limit in (cap, tx) if limit is not None]
    return min(limits) if limits else None


def parse_profile(connector_id, profile):
    """A Profile from a csChargingProfiles object; Violation if it is not usable."""
    if not isinstance(profile, dict):
        raise Violation("TypeConstraintViolation", "csChargingProfiles must be an object")
    schedule = _field(profile, "chargingSchedule", dict)
    periods = _field(schedule, "chargingSchedulePeriod", list)
    unit = _field(schedule, "chargingRateUnit", str)
    if unit not in ("A", "W"):
        raise Violation("PropertyConstraintViolation", f"chargingRateUnit {unit!r} is not A or W")
    if not periods or not all(isinstance(p, dict) and isinstance(p.get("limit"), (int, float))
                              and not isinstance(p.get("limit"), bool) for p in periods):
        raise Violation("OccurenceConstraintViolation", "chargingSchedulePeriod needs periods with a limit")
    first = min(periods, key=lambda p: p.get("startPeriod", 0))
    phases = first.get("numberPhases")
    return Profile(id=_field(profile, "chargingProfileId", int), connector_id=connector_id,
                   stack_level=_field(profile, "stackLevel", int),
                   purpose=_field(profile, "chargingProfilePurpose", str),
                   limit_w=meter.limit_w(unit, first["limit"], phases if isinstance(phases, int) else None),
                   transaction_id=profile.get("transactionId"),
                   phases=phases if isinstance(phases, int) and phases in (1, 2, 3) else None)


def _install(profiles, new):
    """The profiles with `new` replacing one of the same id, or of the same purpose and stack level."""
    kept = tuple(p for p in profiles if p.id != new.id and not (
        p.purpose == new.purpose and p.stack_level == new.stack_level and p.connector_id == new.connector_id))
    return kept + (new,)


def _status(state, text, *effects, **changes):
    return Answer(replace(state, **changes) if changes else state, {"status": text}, effects=tuple(effects))


def reset(state, payload):
    kind = _field(payload, "type", str)
    if kind not in ("Hard", "Soft"):
        raise Violation("PropertyConstraintViolation", f"type {kind!r} is not Hard or Soft")
    return _status(state, "Accepted", Reboot(hard=kind == "Hard"))


def remote_start(state, payload):
    id_tag = _field(payload, "idTag", str)
    connector = _field(payload, "connectorId", int, required=False)
    if state.busy or not state.operative or connector not in (None, CONNECTOR):
        return _status(state, "Rejected")
    profiles = state.profiles
    if isinstance(payload.get("chargingProfile"), dict):
        profiles = _install(profiles, parse_profile(CONNECTOR, payload["chargingProfile"]))
    return _status(state, "Accepted", StartSession(id_tag), busy=True, profiles=profiles)


def remote_stop(state, payload):
    tid = _field(payload, "transactionId", int)
    if state.transaction_id is not None and tid == state.transaction_id:
        return _status(state, "Accepted", StopSession("Remote"))
    return _status(state, "Rejected")


def get_configuration(state, payload):
    keys = _field(payload, "key", list, required=False)
    if keys is None:
        keys = sorted(state.config)
    known = [{"key": k, "readonly": KEYS[k][0], "value": state.config[k]} for k in keys if k in state.config]
    if WRITE_ONLY in (keys or ()):
        known.append({"key": WRITE_ONLY, "readonly": False})  # write-only: never its value
    unknown = [k for k in keys if k not in state.config and k != WRITE_ONLY]
    reply = {"configurationKey": known}
    if unknown:
        reply["unknownKey"] = unknown
    return Answer(state, reply)


def change_configuration(state, payload):
    key, value = _field(payload, "key", str), _field(payload, "value", str)
    if key == WRITE_ONLY:
        return _status(state, "Accepted", ConfigChanged(key), authorization_key=value)
    if key not in KEYS:
        return _status(state, "NotSupported")
    readonly, integer = KEYS[key]
    if readonly or (integer and not (value.isascii() and value.isdigit() and int(value) <= 86400)):
        return _status(state, "Rejected")
    return _status(state, "Accepted", ConfigChanged(key), config={**state.config, key: str(int(value))})


def trigger_message(state, payload):
    message = _field(payload, "requestedMessage", str)
    connector = _field(payload, "connectorId", int, required=False)
    if connector not in (None, 0, CONNECTOR):
        return _status(state, "Rejected")
    if message not in TRIGGERED:
        return _status(state, "NotImplemented")
    return _status(state, "Accepted", Send(message, connector))


def set_charging_profile(state, payload):
    connector = _field(payload, "connectorId", int)
    profiles = _field(payload, "csChargingProfiles", dict)
    profile = parse_profile(connector, profiles)
    unit = (profiles.get("chargingSchedule") or {}).get("chargingRateUnit")
    if connector not in (0, CONNECTOR) or (profile.purpose == "TxProfile" and (
            state.transaction_id is None or profile.transaction_id not in (None, state.transaction_id))) \
            or (state.reject_tx_default and profile.purpose == "TxDefaultProfile") \
            or (state.rate_unit is not None and unit != state.rate_unit):
        return _status(state, "Rejected")
    if profile.purpose not in ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"):
        raise Violation("PropertyConstraintViolation", f"chargingProfilePurpose {profile.purpose!r} is unknown")
    return _status(state, "Accepted", profiles=_install(state.profiles, profile))


def clear_charging_profile(state, payload):
    wanted = {"id": payload.get("id"), "connector_id": payload.get("connectorId"),
              "purpose": payload.get("chargingProfilePurpose"), "stack_level": payload.get("stackLevel")}
    if wanted["id"] is not None:
        matches = lambda p: p.id == wanted["id"]  # noqa: E731
    else:
        matches = lambda p: all(v is None or getattr(p, k) == v for k, v in wanted.items())  # noqa: E731
    kept = tuple(p for p in state.profiles if not matches(p))
    if len(kept) == len(state.profiles):
        return _status(state, "Unknown")
    return _status(state, "Accepted", profiles=kept)


def unlock_connector(state, payload):
    if _field(payload, "connectorId", int) != CONNECTOR:
        return _status(state, "NotSupported")
    effects = [StopSession("UnlockCommand")] if state.transaction_id is not None else []
    return _status(state, "Unlocked", *effects)


def change_availability(state, payload):
    connector, kind = _field(payload, "connectorId", int), _field(payload, "type", str)
    if kind not in ("Inoperative", "Operative"):
        raise Violation("PropertyConstraintViolation", f"type {kind!r} is not Inoperative or Operative")
    if connector not in (0, CONNECTOR):
        return _status(state, "Rejected")
    report = [Send("StatusNotification", connector or None)]  # connector 0: the charger and its connector
    if kind == "Operative":
        effects = [] if state.busy or state.operative else report
        return _status(state, "Accepted", *effects, operative=True, inoperative_scheduled=False)
    if state.busy:
        return _status(state, "Scheduled", inoperative_scheduled=True)
    effects = report if state.operative else []
    return _status(state, "Accepted", *effects, operative=False)


def data_transfer(state, payload):
    _field(payload, "vendorId", str)
    return _status(state, "UnknownVendorId")


ANSWERS = {
    "ChangeAvailability": change_availability,
    "ChangeConfiguration": change_configuration,
    "ClearCache": lambda state, payload: _status(state, "Accepted"),
    "ClearChargingProfile": clear_charging_profile,
    "DataTransfer": data_transfer,
    "GetConfiguration": get_configuration,
    "GetLocalListVersion": lambda state, payload: Answer(state, {"listVersion": 0}),
    "RemoteStartTransaction": remote_start,
    "RemoteStopTransaction": remote_stop,
    "Reset": reset,
    "SetChargingProfile": set_charging_profile,
    "TriggerMessage": trigger_message,
    "UnlockConnector": unlock_connector,
}


def answer(state, action, payload, table=None, spelled=lambda code: code):
    """The charger's answer to a CALL of the central system; `table` and `spelled` (the error codes in
    another version's spelling) serve the 2.0.1 station (answers201)."""
    handler = (ANSWERS if table is None else table).get(action)
    if handler is None:
        return Answer(state, error=("NotImplemented", f"{action} is not implemented by this charger"))
    if not isinstance(payload, dict):
        return Answer(state, error=(spelled("FormationViolation"), "the payload is not an object"))
    try:
        return handler(state, payload)
    except Violation as v:
        return Answer(state, error=(spelled(v.code), v.description))


def connector_status(state):
    """The connector's status outside a session (a session reports Preparing, Charging, Finishing)."""
    return "Available" if state.operative else "Unavailable"
