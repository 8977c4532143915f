"""The answers to the charger's CALLs, pure."""

from datetime import datetime, timezone

import pytest
from dateutil import tz

from shocpp.protocol import handlers, tags
from shocpp.protocol.effects import Record, SaveBoot, SaveMeterValues, SaveRefusal, SaveStatus
from shocpp.protocol.ocppj import Call, CallError, CallResult

from conftest import TAGS

NOW = datetime(2026, 11, 21, 13, 52, 7, 123000, tzinfo=timezone.utc)
STAMP = "2026-11-21T13:52:07.123Z"


def ctx(strict=False, interval=300):
    return handlers.Context("CP1", tags.parse(__import__("json").dumps(TAGS)), NOW, tz.UTC, interval, strict)


def handle(action, payload, **kw):
    return handlers.handle(Call("u1", action, payload), ctx(**kw))


def result(outcome):
    assert isinstance(outcome.reply, CallResult), outcome.reply
    assert outcome.reply.unique_id == "u1"
    return outcome.reply.payload


def refused(outcome):
    assert isinstance(outcome.reply, CallError), outcome.reply
    assert outcome.effects == ()
    return outcome.reply.code, outcome.reply.description, outcome.reply.details


BOOT = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}


def test_boot_notification_is_accepted_with_time_and_interval():
    outcome = handle("BootNotification", BOOT, interval=60)
    assert result(outcome) == {"status": "Accepted", "currentTime": STAMP, "interval": 60}
    assert outcome.effects == (SaveBoot(BOOT),)


def test_boot_notification_with_deviations_is_accepted_and_the_deviations_noted():
    payload = {**BOOT, "chargePointSerialNumber": "S" * 40, "firmwareVersion": 7, "vendorX": 1}
    for strict in (False, True):
        outcome = handle("BootNotification", payload, strict=strict)
        assert result(outcome)["status"] == "Accepted"
        (note,) = outcome.notes  # one line for all the deviations of a frame
        assert "chargePointSerialNumber" in note and "vendorX: unknown property" in note


def test_heartbeat_answers_the_current_time():
    assert result(handle("Heartbeat", {})) == {"currentTime": STAMP}


def test_status_notification_is_saved_including_connector_0():
    payload = {"connectorId": 0, "errorCode": "NoError", "status": "Available"}
    outcome = handle("StatusNotification", payload)
    assert result(outcome) == {}
    assert outcome.effects == (SaveStatus(0, payload),)


@pytest.mark.parametrize("tag, status", [("1111", "Accepted"), ("04a2b9c1d23e80", "Accepted"),
                                         ("5555", "Invalid")])
def test_authorize(tag, status):
    outcome = handle("Authorize", {"idTag": tag})
    assert result(outcome) == {"idTagInfo": {"status": status}}
    # a refused tag is kept for the MQTT bridge's events; an accepted one is not
    assert outcome.effects == (() if status == "Accepted" else (SaveRefusal({"idTag": tag, "status": status}),))


@pytest.mark.parametrize("tag, meter_start, status, tid", [
    ("1111", 12_345_678, "Accepted", 10_012_345),
    ("3333", 999, "Accepted", 20_000_000),
    ("9999", 10_000_123_456, "Accepted", 2_130_000_123),  # meter above 10 GWh wraps
    ("5555", 42_000, "Invalid", 42),
])
def test_start_transaction_encodes_account_and_start_kwh(tag, meter_start, status, tid):
    payload = {"connectorId": 1, "idTag": tag, "meterStart": meter_start, "timestamp": STAMP}
    assert result(handle("StartTransaction", payload)) == {"idTagInfo": {"status": status},
                                                          "transactionId": tid}


def test_start_transaction_with_a_numeric_tag_and_string_meter_is_processed():
    payload = {"connectorId": 1, "idTag": 1111, "meterStart": "12345678", "timestamp": STAMP}
    outcome = handle("StartTransaction", payload, strict=True)
    assert result(outcome) == {"idTagInfo": {"status": "Accepted"}, "transactionId": 10_012_345}
    assert len(outcome.notes) == 2  # the two type deviations in one line, and the start line
    assert "in 2 places" not in outcome.notes[0] and outcome.notes[0].count("is not of type") == 2


@pytest.mark.parametrize("drop, code", [("connectorId", "OccurenceConstraintViolation"),
                                        ("idTag", "OccurenceConstraintViolation"),
                                        ("meterStart", "OccurenceConstraintViolation")])
def test_start_transaction_without_a_needed_field_is_refused(drop, code):
    payload = {"connectorId": 1, "idTag": "1111", "meterStart": 0, "timestamp": STAMP}
    del payload[drop]
    assert refused(handle("StartTransaction", payload)) == (
        code, f"required property {drop} is missing", {"path": drop})


def test_start_transaction_with_an_unusable_meter_start_is_refused():
    payload = {"connectorId": 1, "idTag": "1111", "meterStart": "lots", "timestamp": STAMP}
    assert refused(handle("StartTransaction", payload)) == (
        "TypeConstraintViolation", "meterStart: 'lots' cannot be used", {"path": "meterStart"})


STOP = {"transactionId": 10_012_345, "meterStop": 12_350_999, "timestamp": "2026-11-01T12:00:00Z"}


def test_stop_transaction_records_the_decoded_energy():
    # no start record, a charger the site does not know: kept and confirmed, but to review
    outcome = handle("StopTransaction", {**STOP, "idTag": "1111", "reason": "Local"})
    assert result(outcome) == {"idTagInfo": {"status": "Accepted"}}
    assert outcome.effects == (Record("2026-11", {
        "event": "stop", "charger": "CP1", "transaction_id": 10_012_345, "account": "home", "account_index": 1,
        "id_tag": "1111", "meter_start_kwh": 12345, "meter_stop_wh": 12_350_999, "consumed_kwh": 5,
        "energy_wh": 5_000, "stop_time": "2026-11-01T12:00:00Z", "reason": "Local", "verdict": "review",
        "review": "unknown_charger", "flags": ["no_start"], "recorded_at": STAMP},
        CallError("u1", "InternalError", "the ledger could not be written", {})),)
    assert outcome.notes == ("stop of transactionId 10012345: review (unknown_charger): not counted until decided",)


def test_stop_transaction_without_id_tag_gets_an_empty_confirmation():
    assert result(handle("StopTransaction", STOP)) == {}


def test_stop_transaction_with_an_int64_transaction_id_is_recorded_under_unknown():
    outcome = handle("StopTransaction", {**STOP, "transactionId": 2**63 - 1})
    assert result(outcome) == {}
    (effect,) = outcome.effects
    assert (effect.record["account"], effect.record["account_index"], effect.record["consumed_kwh"]) == \
        ("unknown", None, None)
    assert effect.record["meter_stop_wh"] == 12_350_999


def test_stop_transaction_with_an_implausible_time_goes_to_the_current_month():
    (effect,) = handle("StopTransaction", {**STOP, "timestamp": "1970-01-01T00:00:00Z"}).effects
    assert effect.month == "2026-11" and effect.record["stop_time"] == "1970-01-01T00:00:00Z"
    (effect,) = handle("StopTransaction", {**STOP, "timestamp": "2026-10-31T23:00:00"}).effects
    assert effect.month == "2026-10"


@pytest.mark.parametrize("drop", ["transactionId", "meterStop"])
def test_stop_transaction_without_a_needed_field_is_refused(drop):
    payload = dict(STOP)
    del payload[drop]
    assert refused(handle("StopTransaction", payload))[0] == "OccurenceConstraintViolation"


def test_meter_values_are_saved_even_as_an_object_with_numbers():
    payload = {"connectorId": 1, "meterValue": {"timestamp": STAMP, "sampledValue": [{"value": 1234}]}}
    outcome = handle("MeterValues", payload, strict=True)
    assert result(outcome) == {}
    assert outcome.effects == (SaveMeterValues(1, payload),)
    assert outcome.notes  # the deviations are logged


def test_data_transfer_is_accepted_and_logged():
    outcome = handle("DataTransfer", {"vendorId": "acme", "data": "hello"})
    assert result(outcome) == {"status": "Accepted"}
    assert outcome.notes == ("DataTransfer: {'vendorId': 'acme', 'data': 'hello'}",)


@pytest.mark.parametrize("action, status", [("DiagnosticsStatusNotification", "Uploaded"),
                                            ("FirmwareStatusNotification", "Installed")])
def test_notifications_are_confirmed_and_logged(action, status):
    outcome = handle(action, {"status": status})
    assert result(outcome) == {}
    assert outcome.notes == (f"{action}: {status}",)


def test_unknown_action_is_not_implemented():
    assert refused(handle("FlyToTheMoon", {}))[0] == "NotImplemented"


@pytest.mark.parametrize("action", ["Reset", "RemoteStartTransaction", "GetConfiguration"])
def test_central_system_actions_are_not_supported(action):
    assert refused(handle(action, {}))[0] == "NotSupported"


@pytest.mark.parametrize("payload, code, path", [
    ({}, "OccurenceConstraintViolation", "idTag"),
    ({"idTag": 5}, "TypeConstraintViolation", "idTag"),
    ({"idTag": "x" * 21}, "TypeConstraintViolation", "idTag"),
])
def test_strict_validation_of_other_messages(payload, code, path):
    assert refused(handle("Authorize", payload))[::2] == (code, {"path": path})


def test_status_outside_its_enum_is_a_property_violation():
    payload = {"connectorId": 1, "errorCode": "Error", "status": "Available"}
    assert refused(handle("StatusNotification", payload))[::2] == (
        "PropertyConstraintViolation", {"path": "errorCode"})


def test_a_bad_date_time_is_a_property_violation():
    payload = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "yesterday"}
    assert refused(handle("StatusNotification", payload))[::2] == (
        "PropertyConstraintViolation", {"path": "timestamp"})


def test_unknown_properties_are_tolerated_unless_strict():
    payload = {"idTag": "1111", "vendorX": True}
    outcome = handle("Authorize", payload)
    assert result(outcome) == {"idTagInfo": {"status": "Accepted"}}
    assert outcome.notes == ("Authorize deviates from the schema: vendorX: unknown property",)
    assert refused(handle("Authorize", payload, strict=True)) == (
        "FormationViolation", "vendorX: unknown property", {"path": "vendorX"})


@pytest.mark.parametrize("action, payload", [
    ("StatusNotification", {"connectorId": 101, "errorCode": "NoError", "status": "Available"}),
    ("MeterValues", {"connectorId": -1, "meterValue": [{"timestamp": STAMP, "sampledValue": [{"value": "1"}]}]}),
])
def test_absurd_connector_ids_are_confirmed_but_not_kept(action, payload):
    outcome = handle(action, payload)
    assert result(outcome) == {} and outcome.effects == ()
    assert outcome.notes[-1].endswith("is outside 0..100: not kept")


NO_TAGS_NEEDED = {
    "BootNotification": BOOT,
    "Heartbeat": {},
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    "MeterValues": {"connectorId": 1, "meterValue": [{"timestamp": STAMP, "sampledValue": [{"value": "1"}]}]},
    "DataTransfer": {"vendorId": "v"},
    "DiagnosticsStatusNotification": {"status": "Idle"},
    "FirmwareStatusNotification": {"status": "Idle"},
}


def test_actions_outside_needs_tags_are_answered_without_tags():
    assert set(NO_TAGS_NEEDED) | handlers.NEEDS_TAGS == set(handlers.schemas.FROM_CHARGER)
    no_tags = handlers.Context("CP1", None, NOW, tz.UTC)
    for action, payload in NO_TAGS_NEEDED.items():
        outcome = handlers.handle(Call("u1", action, payload), no_tags)
        assert isinstance(outcome.reply, CallResult), (action, outcome.reply)


# -- what a charger sent is kept bounded (#11: a 300-character serial was stored) ------------------

def test_a_boot_notifications_long_texts_are_kept_to_255_characters_and_the_cut_noted():
    payload = {**BOOT, "chargePointSerialNumber": "S" * 300, "vendorX": {"deep": ["x" * 1000, 7]}}
    outcome = handle("BootNotification", payload)
    assert result(outcome)["status"] == "Accepted"
    assert outcome.effects == (SaveBoot({**BOOT, "chargePointSerialNumber": "S" * 255,
                                         "vendorX": {"deep": ["x" * 255, 7]}}),)
    assert "BootNotification: 'chargePointSerialNumber' is 300 characters long: kept its first 255" \
        in outcome.notes
    assert "BootNotification: 'vendorX.deep[0]' is 1000 characters long: kept its first 255" in outcome.notes


def test_status_and_meter_values_texts_are_kept_bounded_too():
    status = {"connectorId": 1, "errorCode": "OtherError", "status": "Faulted", "info": "i" * 50,
              "vendorErrorCode": "\x1b[2J", "vendorX": "v" * 256}
    outcome = handle("StatusNotification", status)
    assert outcome.effects == (SaveStatus(1, {**status, "vendorX": "v" * 255}),)
    assert outcome.notes[-1] == "StatusNotification: 'vendorX' is 256 characters long: kept its first 255"
    meter = {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-21T10:00:00Z",
                                               "sampledValue": [{"value": "1" * 400}]}]}
    (effect,) = handle("MeterValues", meter).effects
    assert effect.payload["meterValue"][0]["sampledValue"][0]["value"] == "1" * 255
    assert handlers.bounded({"a": "x" * 255, "b": [1, None, True]}) == ({"a": "x" * 255, "b": [1, None, True]}, ())


def test_objects_and_lists_are_kept_bounded_too():
    """#24 item 2: texts were bounded, the number of keys and samples was not."""
    boot = {**BOOT, **{f"x{n}": n for n in range(1000)}}
    outcome = handle("BootNotification", boot)
    (effect,) = outcome.effects
    assert list(effect.payload) == list(boot)[:handlers.MAX_KEPT_KEYS]
    assert "BootNotification: '' is an object of 1002 properties: kept its first 64" in outcome.notes
    samples = [{"timestamp": f"2026-11-21T10:{n // 60:02d}:{n % 60:02d}Z", "sampledValue": [{"value": str(n)}]}
               for n in range(500)]
    outcome = handle("MeterValues", {"connectorId": 1, "meterValue": samples})
    (effect,) = outcome.effects
    assert effect.payload["meterValue"] == samples[-64:]  # the latest
    assert "MeterValues: 'meterValue' is a list of 500 items: kept its last 64" in outcome.notes


def test_a_retransmitted_start_gets_the_transaction_id_of_its_original_and_no_second_record():
    # the tag 1111 was home's (index 1) when the original was recorded; tags.json now gives it to company-x
    moved = tags.parse(__import__("json").dumps([{"index": 2, "account": "company-x", "ids": ["3333", "1111"]}]))
    payload = {"connectorId": 1, "idTag": "1111", "meterStart": 12_345_678, "timestamp": "2026-11-21T13:00:00Z"}
    original = {"event": "start", "charger": "CP1", "connector_id": 1, "transaction_id": 10_012_345,
                "id_tag": "1111", "account": "home", "account_index": 1, "meter_start_wh": 12_345_678,
                "start_time": "2026-11-21T13:00:00Z", "recorded_at": "2026-11-21T13:00:01.000Z"}
    asked = []

    def starts(month, record):
        asked.append((month, record["meter_start_wh"], record["id_tag"]))
        return original
    context = handlers.Context("CP1", moved, NOW, tz.UTC, starts=starts)
    outcome = handlers.handle(Call("u1", "StartTransaction", payload), context)
    assert result(outcome)["transactionId"] == 10_012_345
    assert outcome.effects == ()
    assert asked == [("2026-11", 12_345_678, "1111")]
    fresh = handlers.handle(Call("u1", "StartTransaction", payload), context._replace(starts=lambda m, r: None))
    assert result(fresh)["transactionId"] == 20_012_345 and len(fresh.effects) == 1
