"""The 2.0.1 CSMS's answers to a charging station's CALLs, pure (mirrors test_handlers.py)."""

import json
from datetime import datetime, timezone

import pytest
from dateutil import tz

from shocpp.protocol import tags
from shocpp.protocol.effects import Record, SaveBoot, SaveMeterValues, SaveStatus
from shocpp.protocol.ocppj import Call, CallError, CallResult
from shocpp.protocol.v201 import handlers, schemas

from conftest import TAGS
from judge201 import judge_accepts

NOW = datetime(2026, 11, 21, 13, 52, 7, 123000, tzinfo=timezone.utc)
STAMP = "2026-11-21T13:52:07.123Z"


class Ledger:
    """The ledger's records as the shell lends them to the core: by month, filtered by transactionId."""

    def __init__(self):
        self.months = {}

    def records(self, month, tid, charger=None):
        return [r for r in self.months.get(month, []) if r.get("transaction_id") == tid or
                (charger is not None and r.get("charger") == charger)]

    def apply(self, outcome):
        for effect in outcome.effects:
            if isinstance(effect, Record):
                self.months.setdefault(effect.month, []).append(effect.record)
        return outcome

    def lines(self):
        return [{k: v for k, v in r.items() if k != "recorded_at"} for m in sorted(self.months) for r in self.months[m]]


def ctx(ledger=None, strict=False, listed=False):
    return handlers.Context("CS1", tags.parse(json.dumps(TAGS)), NOW, tz.UTC, 300, strict,
                            None if ledger is None else ledger.records, 50, 200_000, listed)


def handle(action, payload, ledger=None, **kw):
    outcome = handlers.handle(Call("u1", action, payload), ctx(ledger, **kw))
    return ledger.apply(outcome) if ledger is not None else outcome


def result(outcome, action):
    assert isinstance(outcome.reply, CallResult), outcome.reply
    assert schemas.check(action, "conf", outcome.reply.payload) == []
    assert judge_accepts(action, "conf", outcome.reply.payload)
    return outcome.reply.payload


TOKEN = {"idToken": "3333", "type": "ISO14443"}


def energy(value, context=None, when="2026-11-01T10:00:00Z", unit=None, **extra):
    sample = {"value": value, **extra}
    if context:
        sample["context"] = context
    if unit:
        sample["unitOfMeasure"] = unit
    return [{"timestamp": when, "sampledValue": [sample]}]


def event(kind, seq, when, meter=None, tid="tx-1", **extra):
    payload = {"eventType": kind, "timestamp": when, "triggerReason": extra.pop("trigger", "Authorized"),
               "seqNo": seq, "transactionInfo": {"transactionId": tid, **extra.pop("info", {})}, **extra}
    if meter:
        payload["meterValue"] = meter
    return payload


STARTED = event("Started", 0, "2026-11-01T10:00:00Z", energy(1000.5, "Transaction.Begin", unit={"unit": "kWh"}),
                evse={"id": 1, "connectorId": 1}, idToken=TOKEN)
UPDATED = event("Updated", 1, "2026-11-01T11:00:00Z", energy(1_015_000, when="2026-11-01T11:00:00Z"),
                trigger="MeterValuePeriodic")
ENDED = event("Ended", 2, "2026-11-01T12:00:00Z", energy(1031.75, "Transaction.End", "2026-11-01T12:00:00Z",
                                                         {"unit": "Wh", "multiplier": 3}),
              trigger="EVDeparted", info={"stoppedReason": "EVDisconnected"})

START_LINE = {"event": "start", "ocpp": "2.0.1", "charger": "CS1", "connector_id": 1, "evse_connector_id": 1,
              "transaction_id": "tx-1", "id_tag": "3333", "account": "company-x", "account_index": 2,
              "meter_start_wh": 1_000_500, "start_time": "2026-11-01T10:00:00Z", "seq_no": 0,
              "first_event": "Started"}
STOP_LINE = {"event": "stop", "ocpp": "2.0.1", "charger": "CS1", "transaction_id": "tx-1", "account": "company-x",
             "account_index": 2, "id_tag": "3333", "connector_id": 1, "start_time": "2026-11-01T10:00:00Z",
             "meter_start_wh": 1_000_500, "meter_stop_wh": 1_031_750, "energy_wh": 31_250,
             "stop_time": "2026-11-01T12:00:00Z", "duration_s": 7200, "reason": "EVDisconnected", "seq_no": 2,
             "start_id_tag": "3333", "verdict": "billed", "flags": []}


def test_boot_is_accepted_and_kept_in_the_run_files_shape():
    outcome = handle("BootNotification", {"chargingStation": {"model": "M1", "vendorName": "Acme",
                                                              "serialNumber": "S-1", "firmwareVersion": "1.9"},
                                          "reason": "PowerUp"})
    assert result(outcome, "BootNotification") == {"status": "Accepted", "currentTime": STAMP, "interval": 300}
    assert outcome.effects == (SaveBoot({"chargePointVendor": "Acme", "chargePointModel": "M1",
                                         "chargePointSerialNumber": "S-1", "firmwareVersion": "1.9",
                                         "reason": "PowerUp"}),)


def test_a_deviating_boot_is_still_accepted_and_noted():
    outcome = handle("BootNotification", {"chargingStation": {"model": "M1", "vendorName": "Acme",
                                                              "serialNumber": "S" * 40}, "reason": "PowerUp"})
    assert result(outcome, "BootNotification")["status"] == "Accepted"
    assert "serialNumber" in outcome.notes[0]


def test_heartbeat_and_status():
    assert result(handle("Heartbeat", {}), "Heartbeat") == {"currentTime": STAMP}
    status = {"timestamp": "2026-11-01T10:00:00Z", "connectorStatus": "Occupied", "evseId": 2, "connectorId": 1}
    outcome = handle("StatusNotification", status)
    assert result(outcome, "StatusNotification") == {}
    assert outcome.effects == (SaveStatus(2, {**status, "status": "Occupied"}),)


def test_authorize_knows_the_tags_of_tags_json():
    assert result(handle("Authorize", {"idToken": TOKEN}), "Authorize") == {"idTokenInfo": {"status": "Accepted"}}
    assert result(handle("Authorize", {"idToken": {"idToken": "nope", "type": "Central"}}), "Authorize") == \
        {"idTokenInfo": {"status": "Unknown"}}


def test_meter_values_are_kept_in_the_run_files_shape_with_the_multiplier_applied():
    outcome = handle("MeterValues", {"evseId": 1, "meterValue": energy(12.5, unit={"unit": "kWh", "multiplier": 1},
                                                                        measurand="Energy.Active.Import.Register")})
    assert result(outcome, "MeterValues") == {}
    assert outcome.effects == (SaveMeterValues(1, {"connectorId": 1, "meterValue": [
        {"timestamp": "2026-11-01T10:00:00Z", "sampledValue": [
            {"measurand": "Energy.Active.Import.Register", "value": "125", "unit": "kWh"}]}]}),)


def test_a_session_is_billed_to_the_wh_and_its_start_written_before_the_confirmation():
    ledger = Ledger()
    started = handle("TransactionEvent", STARTED, ledger)
    assert result(started, "TransactionEvent") == {"idTokenInfo": {"status": "Accepted"}}
    assert isinstance(started.effects[0], Record) and started.effects[0].month == "2026-11"
    assert started.effects[0].refusal == CallError("u1", "InternalError", "the ledger could not be written", {})
    assert result(handle("TransactionEvent", UPDATED, ledger), "TransactionEvent") == {}
    assert result(handle("TransactionEvent", ENDED, ledger), "TransactionEvent") == {}
    assert ledger.lines() == [START_LINE, STOP_LINE]


def test_retransmissions_and_late_offline_events_never_bill_twice():
    ledger = Ledger()
    for payload in (STARTED, STARTED, UPDATED, ENDED, ENDED, {**UPDATED, "offline": True}, STARTED):
        result(handle("TransactionEvent", payload, ledger), "TransactionEvent")
    assert ledger.lines() == [START_LINE, STOP_LINE]


def test_the_idtoken_of_a_later_event_gives_the_session_its_account():
    ledger = Ledger()
    plugged = {**STARTED, "triggerReason": "CablePluggedIn"}
    del plugged["idToken"]
    handle("TransactionEvent", plugged, ledger)
    handle("TransactionEvent", {**UPDATED, "idToken": TOKEN, "triggerReason": "Authorized"}, ledger)
    handle("TransactionEvent", ENDED, ledger)
    unknown_start, known_start, stop = ledger.lines()
    assert (unknown_start["account"], unknown_start["id_tag"]) == ("unknown", None)
    assert known_start == START_LINE
    assert stop == STOP_LINE


def test_an_ended_without_a_start_follows_the_trust_rule_of_a_1_6_stop_without_its_start():
    meter = energy(5_000, "Transaction.Begin") + energy(9_000, "Transaction.End", "2026-11-01T12:00:00Z")
    lost = {**ENDED, "meterValue": meter, "idToken": TOKEN, "evse": {"id": 3}}
    listed, unknown, vouched = Ledger(), Ledger(), Ledger()
    handle("TransactionEvent", lost, listed, listed=True)  # in chargers.json: billed from its readings
    handle("TransactionEvent", lost, unknown)  # nobody vouches for it: kept for review
    handle("TransactionEvent", {**STARTED, "transactionInfo": {"transactionId": "earlier"}}, vouched)
    handle("TransactionEvent", lost, vouched)  # an earlier session of a listed account vouches for it
    (stop,) = listed.lines()
    assert (stop["account"], stop["connector_id"], stop["energy_wh"], stop["flags"], stop["verdict"]) == \
        ("company-x", 3, 4_000, ["no_start"], "billed")
    assert (unknown.lines()[0]["verdict"], unknown.lines()[0]["review"]) == ("review", "unknown_charger")
    assert vouched.lines()[-1]["verdict"] == "billed"
    handle("TransactionEvent", {**ENDED, "meterValue": energy(9_000, "Transaction.End"), "transactionInfo":
                                {"transactionId": "bare"}}, listed, listed=True)
    bare = listed.lines()[1]
    assert (bare["energy_wh"], bare["flags"], bare["verdict"], bare["review"]) == \
        (None, ["no_start", "no_meter"], "review", "no_meter")


def test_a_meter_running_backwards_is_flagged():
    ledger = Ledger()
    handle("TransactionEvent", STARTED, ledger)
    handle("TransactionEvent", {**ENDED, "meterValue": energy(999_000, "Transaction.End")}, ledger)
    stop = ledger.lines()[1]
    assert (stop["energy_wh"], stop["verdict"], stop["review"]) == (-1_500, "review", "negative")


def test_an_ended_with_another_accounts_tag_or_too_much_energy_is_kept_for_review():
    for ended, reason in (({**ENDED, "idToken": {"idToken": "1111", "type": "ISO14443"}}, "tag_of_other_account"),
                          ({**ENDED, "meterValue": energy(1_300_000, "Transaction.End")}, "too_much_energy")):
        ledger = Ledger()
        handle("TransactionEvent", STARTED, ledger)
        handle("TransactionEvent", ended, ledger)
        assert (ledger.lines()[1]["verdict"], ledger.lines()[1]["review"]) == ("review", reason)


def test_every_station_message_is_answered_schema_valid():
    samples = {
        "DataTransfer": {"vendorId": "acme", "data": {"x": 1}},
        "FirmwareStatusNotification": {"status": "Installed", "requestId": 3},
        "LogStatusNotification": {"status": "Uploaded"},
        "NotifyChargingLimit": {"chargingLimit": {"chargingLimitSource": "EMS"}},
        "NotifyEvent": {"generatedAt": "2026-11-01T10:00:00Z", "seqNo": 0, "eventData": [
            {"eventId": 1, "timestamp": "2026-11-01T10:00:00Z", "trigger": "Alerting", "actualValue": "x",
             "eventNotificationType": "HardWiredNotification", "component": {"name": "EVSE"},
             "variable": {"name": "Problem"}}]},
        "NotifyReport": {"requestId": 1, "generatedAt": "2026-11-01T10:00:00Z", "seqNo": 0},
        "ReportChargingProfiles": {"requestId": 1, "chargingLimitSource": "CSO", "evseId": 1, "chargingProfile": [
            {"id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
             "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                                   "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}]}]},
        "SecurityEventNotification": {"type": "StartupOfTheDevice", "timestamp": "2026-11-01T10:00:00Z"},
    }
    assert set(samples) | {"Authorize", "BootNotification", "Heartbeat", "MeterValues", "StatusNotification",
                           "TransactionEvent"} == set(schemas.FROM_CHARGER)
    for action, payload in samples.items():
        assert judge_accepts(action, "req", payload), action
        result(handle(action, payload), action)


@pytest.mark.parametrize("action, payload, code, path", [
    ("StartTransaction", {}, "NotImplemented", None),
    ("Reset", {"type": "Immediate"}, "NotSupported", None),
    ("Authorize", {}, "OccurrenceConstraintViolation", "idToken"),
    ("Authorize", {"idToken": {"idToken": 5, "type": "Central"}}, "TypeConstraintViolation", "idToken.idToken"),
    ("StatusNotification", {"timestamp": "2026-11-01T10:00:00Z", "connectorStatus": "Charging", "evseId": 1,
                            "connectorId": 1}, "PropertyConstraintViolation", "connectorStatus"),
    ("TransactionEvent", {k: v for k, v in STARTED.items() if k != "transactionInfo"},
     "OccurrenceConstraintViolation", "transactionInfo"),
    ("TransactionEvent", {**STARTED, "eventType": "Begun"}, "PropertyConstraintViolation", "eventType"),
    ("TransactionEvent", {**STARTED, "transactionInfo": {"transactionId": 7}}, "TypeConstraintViolation",
     "transactionInfo.transactionId"),
])
def test_2_0_1_error_codes(action, payload, code, path):
    outcome = handle(action, payload, Ledger())
    assert isinstance(outcome.reply, CallError) and outcome.effects == ()
    assert outcome.reply.code == code
    assert outcome.reply.details == ({"path": path} if path else {})


def test_unknown_properties_are_tolerated_unless_strict():
    payload = {"idToken": TOKEN, "vendorField": 1}
    assert result(handle("Authorize", payload), "Authorize") == {"idTokenInfo": {"status": "Accepted"}}
    assert handle("Authorize", payload, strict=True).reply.code == "FormatViolation"


def test_a_balancer_profile_is_shaped_for_2_0_1_and_valid_for_both_judges():
    from shocpp.protocol.v201 import profiles
    v16 = {"connectorId": 2, "csChargingProfiles": {
        "chargingProfileId": 1402, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "transactionId": 7,
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "startSchedule": "2026-11-01T10:00:00Z", "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4140, "numberPhases": 1}]}}}
    shaped = profiles.from_v16(v16)
    assert shaped == {"evseId": 2, "chargingProfile": {
        "id": 1402, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute",
        "transactionId": "7", "chargingSchedule": [{"id": 1402, "startSchedule": "2026-11-01T10:00:00Z",
                                                    "chargingRateUnit": "W", "chargingSchedulePeriod": [
                                                        {"startPeriod": 0, "limit": 4140, "numberPhases": 1}]}]}}
    assert schemas.outgoing_problem("SetChargingProfile", shaped) is None
    assert judge_accepts("SetChargingProfile", "req", shaped)
    v16["csChargingProfiles"].update(chargingProfilePurpose="ChargePointMaxProfile")
    del v16["csChargingProfiles"]["transactionId"]
    assert profiles.from_v16(v16)["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"


def test_a_deviating_transaction_event_is_billed_all_the_same_and_noted():
    ledger = Ledger()
    odd = {**STARTED, "triggerReason": "VendorSpecialReason", "seqNo": "0",
           "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging", "remoteStartId": "x"}}
    outcome = handle("TransactionEvent", odd, ledger)
    assert result(outcome, "TransactionEvent") == {"idTokenInfo": {"status": "Accepted"}}
    assert outcome.notes[0].startswith("TransactionEvent deviates from the schema: seqNo: ")
    handle("TransactionEvent", {**ENDED, "triggerReason": "Whatever"}, ledger)
    start, stop = ledger.lines()
    assert (start["seq_no"], stop["energy_wh"], stop["flags"]) == (None, 31_250, [])


def test_what_a_station_takes_from_its_device_model():
    from shocpp.protocol.v201 import profiles
    assert schemas.outgoing_problem("GetVariables", profiles.LEARN) is None

    def answer(rate, level, status="Accepted"):
        return {"getVariableResult": [
            {"attributeStatus": status, "attributeValue": rate, **profiles.RATE_UNIT},
            {"attributeStatus": status, "attributeValue": level, **profiles.STACK_LEVEL}]}
    assert profiles.learned(answer("W", "3")) == {"stack_level": 3, "unit": "W"}
    assert profiles.learned(answer("A,W", "250")) == {"stack_level": 100, "unit": None}
    assert profiles.learned(answer("W", "3", "UnknownVariable")) == {"stack_level": 0, "unit": None}
    assert profiles.learned(None) == {"stack_level": 0, "unit": None}


@pytest.mark.parametrize("action, v16, expected", [
    ("RemoteStartTransaction", {"idTag": "1111", "connectorId": 2},
     ("RequestStartTransaction", {"idToken": {"idToken": "1111", "type": "Central"}, "remoteStartId": 7, "evseId": 2})),
    ("RemoteStopTransaction", {"transactionId": 10012345}, ("RequestStopTransaction", {"transactionId": "10012345"})),
    ("Reset", {"type": "Hard"}, ("Reset", {"type": "Immediate"})),
    ("Reset", {"type": "Soft"}, ("Reset", {"type": "OnIdle"})),
    ("ClearChargingProfile", {"id": 1}, ("ClearChargingProfile", {"chargingProfileId": 1})),
    ("ClearChargingProfile", {"connectorId": 1, "chargingProfilePurpose": "ChargePointMaxProfile"},
     ("ClearChargingProfile", {"chargingProfileCriteria": {"evseId": 1,
                                                           "chargingProfilePurpose": "ChargingStationMaxProfile"}})),
    ("UnlockConnector", {"connectorId": 1}, ("UnlockConnector", {"evseId": 1, "connectorId": 1})),
    ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"},
     ("ChangeAvailability", {"operationalStatus": "Inoperative"})),
    ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1},
     ("TriggerMessage", {"evse": {"id": 1}, "requestedMessage": "StatusNotification"})),
])
def test_a_1_6_call_as_its_2_0_1_counterpart(action, v16, expected):
    from shocpp.protocol import schemas as v16_schemas
    from shocpp.protocol.v201 import from_v16
    assert v16_schemas.check(action, "req", v16) == []
    found = from_v16.call(action, v16, 7)
    assert found == expected
    assert schemas.outgoing_problem(*found) is None and judge_accepts(found[0], "req", found[1])


def test_only_calls_with_a_counterpart_are_translated():
    from shocpp.protocol.v201 import from_v16
    assert from_v16.call("GetConfiguration", {}) is None
