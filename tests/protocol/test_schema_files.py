"""The OCPP 1.6 schema files: their conventions, and their verdicts cross-checked
against an independent judge (the `ocpp` package's own schemas, used as a black box).

Every sample is run through both `shocpp.protocol.schemas.check` and `ocpp.messages.validate_payload`;
the two must agree on valid / invalid, and for invalid samples our violation must carry
the expected OCPP-J error code.
"""

import asyncio
import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from shocpp.protocol import schemas

ACTIONS = schemas.ALL_ACTIONS
PAIRS = [(action, kind) for action in ACTIONS for kind in schemas.KINDS]


# ---------------------------------------------------------------------------
# 1. The files and their conventions
# ---------------------------------------------------------------------------

def test_exactly_the_56_files():
    assert len(ACTIONS) == 28
    present = {p.name for p in Path(schemas.HERE).glob("*.json")}
    assert present == {f"{a}.{k}.json" for a, k in PAIRS}


def walk(node, where="#"):
    """Every dict in a schema, with a JSON-pointer-ish location."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from walk(value, f"{where}/{n}")


@pytest.mark.parametrize("action, kind", PAIRS, ids=[f"{a}.{k}" for a, k in PAIRS])
def test_file_conventions(action, kind):
    path = Path(schemas.schema_file(action, kind))
    text = path.read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["title"] == f"{action}.{kind}"
    assert isinstance(schema["description"], str) and schema["description"].strip()
    assert schema["type"] == "object"
    assert isinstance(schema["properties"], dict)
    assert schema.get("required", ["non-empty"]) != []
    Draft4Validator.check_schema(schema)
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        assert "\t" not in line and indent % 2 == 0, line
    definitions = schema.get("definitions", {})
    for where, node in walk(schema):
        if node.get("type") == "object" or "properties" in node:
            assert node.get("additionalProperties") is False, where
        if "$ref" in node:  # self-contained: local definitions only
            match = re.fullmatch(r"#/definitions/(\w+)", node["$ref"])
            assert match and match.group(1) in definitions, where
        if "maxLength" in node or "enum" in node:
            assert node.get("type") == "string", where


# ---------------------------------------------------------------------------
# 2. Sample payloads
# ---------------------------------------------------------------------------

DELETE = object()
MISSING = ("OccurenceConstraintViolation",)
TYPE = ("TypeConstraintViolation",)
PROPERTY = ("PropertyConstraintViolation",)
FORMATION = ("FormationViolation",)
# A wrong JSON type on an enum field breaks both "type" and "enum".
TYPE_AND_ENUM = ("PropertyConstraintViolation", "TypeConstraintViolation")


def missing(path):
    return [(f"missing {path}", path, DELETE, MISSING)]


def wrong_type(path, value, codes=TYPE):
    return [(f"{path or 'payload'} as {type(value).__name__} {value!r}", path, value, codes)]


def bad_enum(path, value):
    return [(f"{path} not in enum {value!r}", path, value, PROPERTY)]


def too_long(path, limit):
    """At the CiString limit is valid, one character over is not."""
    return [(f"{path} at {limit} chars", path, "x" * limit, None),
            (f"{path} at {limit + 1} chars", path, "x" * (limit + 1), TYPE)]


def unknown(path="colour", value="red"):
    return [(f"unknown {path}", path, value, FORMATION)]


def not_tenth(path, value):
    return [(f"{path} {value!r} not a multiple of 0.1", path, value, PROPERTY)]


def valid(label, path, value):
    return [(label, path, value, None)]


T1 = "2026-03-01T12:00:00Z"
T2 = "2026-03-01T13:30:00.250+01:00"

TAG_INFO = {"status": "Accepted", "expiryDate": T1, "parentIdTag": "PARENT-7"}
SAMPLED_VALUE = {"value": "1234.5", "context": "Sample.Periodic", "format": "Raw",
                 "measurand": "Energy.Active.Import.Register", "phase": "L1-N",
                 "location": "Outlet", "unit": "kWh"}
METER_VALUE = {"timestamp": T1, "sampledValue": [SAMPLED_VALUE, {"value": "16.2"}]}
SCHEDULE = {"duration": 3600, "startSchedule": T1, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4, "numberPhases": 3},
                                       {"startPeriod": 1800, "limit": 16}],
            "minChargingRate": 6.1}
PROFILE = {"chargingProfileId": 7, "transactionId": 42, "stackLevel": 1,
           "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Recurring",
           "recurrencyKind": "Daily", "validFrom": T1, "validTo": T2,
           "chargingSchedule": SCHEDULE}
MIN_PROFILE = {"chargingProfileId": 1, "stackLevel": 0,
               "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
               "chargingSchedule": {"chargingRateUnit": "W",
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}]}}

EMPTY = dict(minimal={}, full={}, cases=[
    *wrong_type("", []), *wrong_type("", "x"), *unknown()])


def status_only(value, other_value, bad_value):
    return dict(minimal={"status": value}, full={"status": value}, cases=[
        *valid(f"status {other_value}", "status", other_value),
        *missing("status"), *bad_enum("status", bad_value),
        *bad_enum("status", value.lower()),
        *wrong_type("status", 1, TYPE_AND_ENUM), *unknown()])


# "<Action>.<kind>": minimal and full valid payloads; cases mutate a copy of `full`
# (path: dotted, list indexes as numbers; "" is the whole payload).
SAMPLES = {
    "Authorize.req": dict(
        minimal={"idTag": "TAG1"},
        full={"idTag": "TAG1"},
        cases=[*missing("idTag"), *wrong_type("idTag", 1234), *too_long("idTag", 20),
               *unknown()]),
    "Authorize.conf": dict(
        minimal={"idTagInfo": {"status": "Accepted"}},
        full={"idTagInfo": TAG_INFO},
        cases=[*valid("status ConcurrentTx", "idTagInfo.status", "ConcurrentTx"),
               *missing("idTagInfo"), *missing("idTagInfo.status"),
               *wrong_type("idTagInfo", "Accepted"), *wrong_type("idTagInfo.expiryDate", 0),
               *too_long("idTagInfo.parentIdTag", 20), *bad_enum("idTagInfo.status", "Unknown"),
               *unknown(), *unknown("idTagInfo.colour")]),
    "BootNotification.req": dict(
        minimal={"chargePointVendor": "Acme", "chargePointModel": "Wallbox 22"},
        full={"chargePointVendor": "Acme", "chargePointModel": "Wallbox 22",
              "chargePointSerialNumber": "CP-0001", "chargeBoxSerialNumber": "CB-0001",
              "firmwareVersion": "1.4.2", "iccid": "8931000000000000001", "imsi": "204080000000001",
              "meterType": "DZG DVH4013", "meterSerialNumber": "M-123"},
        cases=[*missing("chargePointVendor"), *missing("chargePointModel"),
               *wrong_type("chargePointModel", 22), *wrong_type("firmwareVersion", None),
               *too_long("chargePointVendor", 20), *too_long("chargePointModel", 20),
               *too_long("chargePointSerialNumber", 25), *too_long("chargeBoxSerialNumber", 25),
               *too_long("firmwareVersion", 50), *too_long("iccid", 20), *too_long("imsi", 20),
               *too_long("meterType", 25), *too_long("meterSerialNumber", 25), *unknown()]),
    "BootNotification.conf": dict(
        minimal={"status": "Accepted", "currentTime": T1, "interval": 300},
        full={"status": "Pending", "currentTime": T2, "interval": 300},
        cases=[*valid("status Rejected", "status", "Rejected"),
               *missing("status"), *missing("currentTime"), *missing("interval"),
               *wrong_type("interval", "300"), *wrong_type("interval", 300.5),
               *wrong_type("currentTime", 0), *bad_enum("status", "Refused"), *unknown()]),
    "CancelReservation.req": dict(
        minimal={"reservationId": 1}, full={"reservationId": 1},
        cases=[*missing("reservationId"), *wrong_type("reservationId", "1"), *unknown()]),
    "CancelReservation.conf": status_only("Accepted", "Rejected", "Unknown"),
    "ChangeAvailability.req": dict(
        minimal={"connectorId": 0, "type": "Inoperative"},
        full={"connectorId": 1, "type": "Operative"},
        cases=[*missing("connectorId"), *missing("type"), *wrong_type("connectorId", "1"),
               *bad_enum("type", "Available"), *unknown()]),
    "ChangeAvailability.conf": status_only("Scheduled", "Rejected", "Pending"),
    "ChangeConfiguration.req": dict(
        minimal={"key": "HeartbeatInterval", "value": "300"},
        full={"key": "HeartbeatInterval", "value": "300"},
        cases=[*missing("key"), *missing("value"), *wrong_type("value", 300),
               *too_long("key", 50), *too_long("value", 500), *unknown()]),
    "ChangeConfiguration.conf": status_only("RebootRequired", "NotSupported", "Unknown"),
    "ClearCache.req": EMPTY,
    "ClearCache.conf": status_only("Accepted", "Rejected", "Failed"),
    "ClearChargingProfile.req": dict(
        minimal={},
        full={"id": 3, "connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile",
              "stackLevel": 0},
        cases=[*wrong_type("id", "3"), *wrong_type("stackLevel", 0.5),
               *bad_enum("chargingProfilePurpose", "TxDefault"), *unknown()]),
    "ClearChargingProfile.conf": status_only("Unknown", "Accepted", "Rejected"),
    "DataTransfer.req": dict(
        minimal={"vendorId": "com.example"},
        full={"vendorId": "com.example", "messageId": "Ping", "data": '{"seq": 1}'},
        cases=[*missing("vendorId"), *wrong_type("data", {"seq": 1}),
               *too_long("vendorId", 255), *too_long("messageId", 50), *unknown()]),
    "DataTransfer.conf": dict(
        minimal={"status": "Accepted"},
        full={"status": "Accepted", "data": "pong"},
        cases=[*valid("status UnknownMessageId", "status", "UnknownMessageId"),
               *valid("status UnknownVendorId", "status", "UnknownVendorId"),
               *missing("status"), *wrong_type("data", 5), *bad_enum("status", "UnknownVendor"),
               *unknown()]),
    "DiagnosticsStatusNotification.req": status_only("Uploading", "UploadFailed", "Failed"),
    "DiagnosticsStatusNotification.conf": EMPTY,
    "FirmwareStatusNotification.req": status_only("InstallationFailed", "Downloading", "Failed"),
    "FirmwareStatusNotification.conf": EMPTY,
    "GetCompositeSchedule.req": dict(
        minimal={"connectorId": 1, "duration": 86400},
        full={"connectorId": 1, "duration": 86400, "chargingRateUnit": "W"},
        cases=[*missing("connectorId"), *missing("duration"), *wrong_type("duration", "1h"),
               *bad_enum("chargingRateUnit", "kW"), *unknown()]),
    "GetCompositeSchedule.conf": dict(
        minimal={"status": "Rejected"},
        full={"status": "Accepted", "connectorId": 1, "scheduleStart": T1,
              "chargingSchedule": SCHEDULE},
        cases=[*missing("status"), *missing("chargingSchedule.chargingRateUnit"),
               *missing("chargingSchedule.chargingSchedulePeriod"),
               *missing("chargingSchedule.chargingSchedulePeriod.0.startPeriod"),
               *missing("chargingSchedule.chargingSchedulePeriod.0.limit"),
               *wrong_type("chargingSchedule.chargingSchedulePeriod.0.limit", "21.4"),
               *wrong_type("chargingSchedule.duration", 3600.5),
               *bad_enum("chargingSchedule.chargingRateUnit", "kW"),
               *not_tenth("chargingSchedule.chargingSchedulePeriod.0.limit", 21.45),
               *not_tenth("chargingSchedule.minChargingRate", 6.15),
               *unknown(), *unknown("chargingSchedule.chargingSchedulePeriod.1.colour")]),
    "GetConfiguration.req": dict(
        minimal={},
        full={"key": ["HeartbeatInterval", "MeterValueSampleInterval"]},
        cases=[*valid("no keys", "key", []), *wrong_type("key", "HeartbeatInterval"),
               *wrong_type("key.1", 5), *too_long("key.0", 50), *unknown()]),
    "GetConfiguration.conf": dict(
        minimal={},
        full={"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                                   {"key": "ChargePointId", "readonly": True}],
              "unknownKey": ["Colour"]},
        cases=[*missing("configurationKey.0.key"), *missing("configurationKey.0.readonly"),
               *wrong_type("configurationKey.0.readonly", "false"),
               *wrong_type("configurationKey.0.value", 300),
               *too_long("configurationKey.0.key", 50), *too_long("configurationKey.0.value", 500),
               *too_long("unknownKey.0", 50), *unknown(), *unknown("configurationKey.1.colour")]),
    "GetDiagnostics.req": dict(
        minimal={"location": "ftp://diag.example.com/uploads/"},
        full={"location": "ftp://diag.example.com/uploads/", "retries": 3, "retryInterval": 60,
              "startTime": T1, "stopTime": T2},
        cases=[*missing("location"), *wrong_type("retries", "3"), *wrong_type("startTime", 0),
               *unknown()]),
    "GetDiagnostics.conf": dict(
        minimal={}, full={"fileName": "diagnostics-2026-03-01.zip"},
        cases=[*wrong_type("fileName", None), *too_long("fileName", 255), *unknown()]),
    "GetLocalListVersion.req": EMPTY,
    "GetLocalListVersion.conf": dict(
        minimal={"listVersion": 5}, full={"listVersion": -1},
        cases=[*missing("listVersion"), *wrong_type("listVersion", "5"), *unknown()]),
    "Heartbeat.req": EMPTY,
    "Heartbeat.conf": dict(
        minimal={"currentTime": T1}, full={"currentTime": T2},
        cases=[*missing("currentTime"), *wrong_type("currentTime", 1767225600), *unknown()]),
    "MeterValues.req": dict(
        minimal={"connectorId": 1, "meterValue": [{"timestamp": T1, "sampledValue": [{"value": "0"}]}]},
        full={"connectorId": 1, "transactionId": 42,
              "meterValue": [METER_VALUE, {"timestamp": T2, "sampledValue": [{"value": "7"}]}]},
        cases=[*valid("unit Celsius (spec)", "meterValue.0.sampledValue.0.unit", "Celsius"),
               *valid("unit Celcius (OCA schema spelling)", "meterValue.0.sampledValue.0.unit",
                      "Celcius"),
               *valid("timestamp without zone", "meterValue.0.timestamp", "2026-03-01T12:00:00"),
               *missing("connectorId"), *missing("meterValue"), *missing("meterValue.0.timestamp"),
               *missing("meterValue.0.sampledValue"), *missing("meterValue.0.sampledValue.1.value"),
               *[(f"empty {p}", p, [], MISSING) for p in ("meterValue", "meterValue.1.sampledValue")],
               *wrong_type("transactionId", "42"), *wrong_type("meterValue", METER_VALUE),
               *wrong_type("meterValue.0.sampledValue.0.value", 1234.5),
               *bad_enum("meterValue.0.sampledValue.0.context", "Sample.Periodical"),
               *bad_enum("meterValue.0.sampledValue.0.format", "Signed"),
               *bad_enum("meterValue.0.sampledValue.0.measurand", "Energy.Active.Import"),
               *bad_enum("meterValue.0.sampledValue.0.phase", "L1-L3"),
               *bad_enum("meterValue.0.sampledValue.0.location", "Grid"),
               *bad_enum("meterValue.0.sampledValue.0.unit", "kwh"),
               *unknown(), *unknown("meterValue.1.colour"),
               *unknown("meterValue.1.sampledValue.0.colour")]),
    "MeterValues.conf": EMPTY,
    "RemoteStartTransaction.req": dict(
        minimal={"idTag": "TAG1"},
        full={"connectorId": 1, "idTag": "TAG1", "chargingProfile": PROFILE},
        cases=[*missing("idTag"), *missing("chargingProfile.chargingProfileId"),
               *missing("chargingProfile.stackLevel"), *missing("chargingProfile.chargingSchedule"),
               *too_long("idTag", 20), *wrong_type("connectorId", "1"),
               *bad_enum("chargingProfile.chargingProfileKind", "Once"),
               *bad_enum("chargingProfile.recurrencyKind", "Monthly"),
               *wrong_type("chargingProfile.chargingSchedule.chargingSchedulePeriod.0.limit", "21.4"),
               *not_tenth("chargingProfile.chargingSchedule.chargingSchedulePeriod.0.limit", 21.45),
               *unknown(), *unknown("chargingProfile.colour")]),
    "RemoteStartTransaction.conf": status_only("Accepted", "Rejected", "Started"),
    "RemoteStopTransaction.req": dict(
        minimal={"transactionId": 42}, full={"transactionId": 42},
        cases=[*missing("transactionId"), *wrong_type("transactionId", "42"), *unknown()]),
    "RemoteStopTransaction.conf": status_only("Accepted", "Rejected", "Stopped"),
    "ReserveNow.req": dict(
        minimal={"connectorId": 1, "expiryDate": T2, "idTag": "TAG1", "reservationId": 9},
        full={"connectorId": 0, "expiryDate": T2, "idTag": "TAG1", "parentIdTag": "PARENT-7",
              "reservationId": 9},
        cases=[*missing("connectorId"), *missing("expiryDate"), *missing("idTag"),
               *missing("reservationId"), *wrong_type("reservationId", "9"),
               *too_long("idTag", 20), *too_long("parentIdTag", 20), *unknown()]),
    "ReserveNow.conf": status_only("Occupied", "Unavailable", "Reserved"),
    "Reset.req": dict(
        minimal={"type": "Soft"}, full={"type": "Hard"},
        cases=[*missing("type"), *bad_enum("type", "Medium"), *wrong_type("type", True, TYPE_AND_ENUM),
               *unknown()]),
    "Reset.conf": status_only("Accepted", "Rejected", "Scheduled"),
    "SendLocalList.req": dict(
        minimal={"listVersion": 2, "updateType": "Full"},
        full={"listVersion": 2, "updateType": "Differential",
              "localAuthorizationList": [{"idTag": "TAG1", "idTagInfo": TAG_INFO},
                                         {"idTag": "TAG2"}]},
        cases=[*missing("listVersion"), *missing("updateType"),
               *missing("localAuthorizationList.0.idTag"),
               *missing("localAuthorizationList.0.idTagInfo.status"),
               *too_long("localAuthorizationList.1.idTag", 20),
               *too_long("localAuthorizationList.0.idTagInfo.parentIdTag", 20),
               *bad_enum("updateType", "Partial"),
               *bad_enum("localAuthorizationList.0.idTagInfo.status", "Unknown"),
               *wrong_type("localAuthorizationList", {"idTag": "TAG1"}),
               *unknown(), *unknown("localAuthorizationList.1.colour")]),
    "SendLocalList.conf": status_only("VersionMismatch", "Failed", "Rejected"),
    "SetChargingProfile.req": dict(
        minimal={"connectorId": 0, "csChargingProfiles": MIN_PROFILE},
        full={"connectorId": 1, "csChargingProfiles": PROFILE},
        cases=[*missing("connectorId"), *missing("csChargingProfiles"),
               *missing("csChargingProfiles.chargingProfileId"),
               *missing("csChargingProfiles.chargingProfilePurpose"),
               *missing("csChargingProfiles.chargingProfileKind"),
               *missing("csChargingProfiles.chargingSchedule.chargingSchedulePeriod"),
               *bad_enum("csChargingProfiles.chargingProfilePurpose", "TxDefault"),
               *wrong_type("csChargingProfiles.validFrom", 0),
               *wrong_type("csChargingProfiles.chargingSchedule.chargingSchedulePeriod.0.numberPhases", "3"),
               *not_tenth("csChargingProfiles.chargingSchedule.chargingSchedulePeriod.1.limit", 16.05),
               *not_tenth("csChargingProfiles.chargingSchedule.minChargingRate", 0.01),
               *valid("limit 0.3", "csChargingProfiles.chargingSchedule.chargingSchedulePeriod.1.limit", 0.3),
               *unknown(), *unknown("csChargingProfiles.chargingSchedule.colour")]),
    "SetChargingProfile.conf": status_only("NotSupported", "Accepted", "Unknown"),
    "StartTransaction.req": dict(
        minimal={"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": T1},
        full={"connectorId": 1, "idTag": "TAG1", "meterStart": 152340, "reservationId": 9,
              "timestamp": T2},
        cases=[*missing("connectorId"), *missing("idTag"), *missing("meterStart"),
               *missing("timestamp"), *wrong_type("meterStart", 12.5),
               *wrong_type("connectorId", "1"), *too_long("idTag", 20), *unknown()]),
    "StartTransaction.conf": dict(
        minimal={"idTagInfo": {"status": "Accepted"}, "transactionId": 42},
        full={"idTagInfo": {**TAG_INFO, "status": "ConcurrentTx"}, "transactionId": 42},
        cases=[*missing("idTagInfo"), *missing("transactionId"), *wrong_type("transactionId", "42"),
               *bad_enum("idTagInfo.status", "Unknown"), *too_long("idTagInfo.parentIdTag", 20),
               *unknown(), *unknown("idTagInfo.colour")]),
    "StatusNotification.req": dict(
        minimal={"connectorId": 1, "errorCode": "NoError", "status": "Available"},
        full={"connectorId": 1, "errorCode": "OtherError", "info": "cable overheated",
              "status": "Faulted", "timestamp": T1, "vendorId": "com.example",
              "vendorErrorCode": "E-17"},
        cases=[*valid("status SuspendedEVSE", "status", "SuspendedEVSE"),
               *valid("errorCode EVCommunicationError", "errorCode", "EVCommunicationError"),
               *missing("connectorId"), *missing("errorCode"), *missing("status"),
               *wrong_type("connectorId", "1"), *too_long("info", 50), *too_long("vendorId", 255),
               *too_long("vendorErrorCode", 50), *bad_enum("errorCode", "NoErrors"),
               *bad_enum("status", "Occupied"), *wrong_type("timestamp", 0), *unknown()]),
    "StatusNotification.conf": EMPTY,
    "StopTransaction.req": dict(
        minimal={"meterStop": 152990, "timestamp": T1, "transactionId": 42},
        full={"idTag": "TAG1", "meterStop": 152990, "timestamp": T1, "transactionId": 42,
              "reason": "DeAuthorized", "transactionData": [METER_VALUE]},
        cases=[*valid("no transactionData", "transactionData", []),
               *missing("meterStop"), *missing("timestamp"), *missing("transactionId"),
               *wrong_type("meterStop", "152990"), *too_long("idTag", 20),
               *bad_enum("reason", "Deauthorized"), *missing("transactionData.0.timestamp"),
               *bad_enum("transactionData.0.sampledValue.0.measurand", "Energy"),
               *unknown(), *unknown("transactionData.0.colour")]),
    "StopTransaction.conf": dict(
        minimal={}, full={"idTagInfo": TAG_INFO},
        cases=[*missing("idTagInfo.status"), *bad_enum("idTagInfo.status", "Stopped"),
               *too_long("idTagInfo.parentIdTag", 20), *unknown(), *unknown("idTagInfo.colour")]),
    "TriggerMessage.req": dict(
        minimal={"requestedMessage": "StatusNotification"},
        full={"requestedMessage": "MeterValues", "connectorId": 1},
        cases=[*missing("requestedMessage"), *bad_enum("requestedMessage", "Authorize"),
               *wrong_type("connectorId", "1"), *unknown()]),
    "TriggerMessage.conf": status_only("NotImplemented", "Accepted", "NotSupported"),
    "UnlockConnector.req": dict(
        minimal={"connectorId": 1}, full={"connectorId": 2},
        cases=[*missing("connectorId"), *wrong_type("connectorId", "1"), *unknown()]),
    "UnlockConnector.conf": status_only("UnlockFailed", "Unlocked", "Accepted"),
    "UpdateFirmware.req": dict(
        minimal={"location": "https://fw.example.com/wallbox-1.5.0.bin", "retrieveDate": T1},
        full={"location": "https://fw.example.com/wallbox-1.5.0.bin", "retries": 3,
              "retrieveDate": T1, "retryInterval": 120},
        cases=[*missing("location"), *missing("retrieveDate"), *wrong_type("retries", "3"),
               *wrong_type("location", 5), *unknown()]),
    "UpdateFirmware.conf": EMPTY,
}


def mutate(payload, path, value):
    if path == "":
        return copy.deepcopy(value)
    result = copy.deepcopy(payload)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = result
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = copy.deepcopy(value)
    return result


def cases():
    for key, sample in SAMPLES.items():
        action, kind = key.split(".")
        yield pytest.param(action, kind, sample["minimal"], None, id=f"{key}-minimal")
        yield pytest.param(action, kind, sample["full"], None, id=f"{key}-full")
        for label, path, value, codes in sample["cases"]:
            yield pytest.param(action, kind, mutate(sample["full"], path, value), codes,
                               id=f"{key}-{label}")


def test_samples_cover_every_message():
    assert set(SAMPLES) == {f"{a}.{k}" for a, k in PAIRS}


def judge_accepts(action, kind, payload):
    """The `ocpp` package's verdict; any error other than a payload violation propagates."""
    from ocpp.exceptions import (FormationViolationError, FormatViolationError,
                                 OccurenceConstraintViolationError, PropertyConstraintViolationError,
                                 ProtocolError, TypeConstraintViolationError)
    from ocpp.messages import Call, CallResult, validate_payload

    payload = copy.deepcopy(payload)  # the judge rewrites floats in place
    message = (Call(unique_id="1", action=action, payload=payload) if kind == "req"
               else CallResult(unique_id="1", action=action, payload=payload))
    try:
        asyncio.run(validate_payload(message, "1.6"))
    except (FormationViolationError, FormatViolationError, OccurenceConstraintViolationError,
            PropertyConstraintViolationError, ProtocolError, TypeConstraintViolationError):
        return False
    return True


@pytest.mark.parametrize("action, kind, payload, codes", list(cases()))
def test_agrees_with_judge(action, kind, payload, codes):
    violations = schemas.check(action, kind, payload)
    ours = not violations
    assert ours == judge_accepts(action, kind, payload)
    assert ours == (codes is None), [v.describe() for v in violations]
    if codes is not None:
        assert tuple(sorted({v.code for v in violations})) == codes
        for v in violations:
            assert v.unknown_property == (v.code == "FormationViolation")


# ---------------------------------------------------------------------------
# The full samples really use every field each schema defines
# ---------------------------------------------------------------------------

def schema_fields(schema, node, prefix=""):
    if "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    if node.get("type") == "array":
        yield from schema_fields(schema, node["items"], prefix + "[]")
    for name, sub in node.get("properties", {}).items():
        yield f"{prefix}.{name}"
        yield from schema_fields(schema, sub, f"{prefix}.{name}")


def payload_fields(value, prefix=""):
    if isinstance(value, list):
        for item in value:
            yield from payload_fields(item, prefix + "[]")
    elif isinstance(value, dict):
        for name, sub in value.items():
            yield f"{prefix}.{name}"
            yield from payload_fields(sub, f"{prefix}.{name}")


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_full_sample_uses_every_field(key):
    schema = schemas.load(*key.split("."))
    assert set(schema_fields(schema, schema)) == set(payload_fields(SAMPLES[key]["full"]))


# ---------------------------------------------------------------------------
# Where we deliberately differ from the judge (our behaviour only)
# ---------------------------------------------------------------------------

# The judge's validators have no format checker, so it accepts any string as a
# date-time; ours checks date-times (leniently: a missing zone is taken as UTC).
@pytest.mark.parametrize("text", ["yesterday", "2026-03-01", "2026-13-01T12:00:00Z", ""])
def test_malformed_date_time_rejected(text):
    violations = schemas.check("Heartbeat", "conf", {"currentTime": text})
    assert [(v.code, v.path) for v in violations] == [("PropertyConstraintViolation", "currentTime")]


@pytest.mark.parametrize("text", ["2026-03-01T12:00:00Z", "2026-03-01T12:00:00.123+02:00",
                                  "2026-03-01T12:00:00", "2026-03-01T12:00"])
def test_lenient_date_time_accepted(text):
    assert schemas.check("Heartbeat", "conf", {"currentTime": text}) == []


# The spec gives chargingSchedulePeriod and (in every MeterValue) sampledValue a
# cardinality of 1..*; the judge does not enforce that for chargingSchedulePeriod, nor
# for the sampledValue of StopTransaction's transactionData (it does in MeterValues).
@pytest.mark.parametrize("key, path", [
    ("GetCompositeSchedule.conf", "chargingSchedule.chargingSchedulePeriod"),
    ("SetChargingProfile.req", "csChargingProfiles.chargingSchedule.chargingSchedulePeriod"),
    ("RemoteStartTransaction.req", "chargingProfile.chargingSchedule.chargingSchedulePeriod"),
    ("StopTransaction.req", "transactionData.0.sampledValue"),
])
def test_empty_one_or_more_list_rejected(key, path):
    violations = schemas.check(*key.split("."), mutate(SAMPLES[key]["full"], path, []))
    assert [v.code for v in violations] == ["OccurenceConstraintViolation"]
    assert violations[0].path == schemas.path_text(
        [int(p) if p.isdigit() else p for p in path.split(".")])


# Binary floats make 21.4 % 0.1 != 0; the judge works around that with Decimal for
# the three messages it knows carry schedules, ours with a decimal-exact multipleOf.
@pytest.mark.parametrize("limit", [21.4, 0.1, 0.3, 6.1, 1000.7, 16, 0])
def test_one_decimal_limits_accepted(limit):
    payload = mutate(SAMPLES["SetChargingProfile.req"]["full"],
                     "csChargingProfiles.chargingSchedule.chargingSchedulePeriod.0.limit", limit)
    assert schemas.check("SetChargingProfile", "req", payload) == []
