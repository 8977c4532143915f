"""shocpp-simulate's pure parts: the meter, the answers to the central system's calls, its messages."""

from dataclasses import replace
from fractions import Fraction

import pytest

from shocpp.protocol import billing, schemas
from shocpp_sim import answers, messages, meter
from shocpp_sim.answers import (Answer, ConfigChanged, Reboot, Send, StartSession, State, StopSession, answer,
                                default_config, power_limit_w)
from shocpp_sim.cli import charger_urls
from shocpp_sim.stats import Stats, percentile, summary

START_WH = 12_345_678
A10 = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
       "chargingProfileKind": "Relative",
       "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
           {"startPeriod": 0, "limit": 10.0, "numberPhases": 3}]}}


# -- the meter model -------------------------------------------------------------------------------

def test_a_session_adds_power_times_time_exactly_to_the_wh():
    assert meter.register_wh(START_WH, 3, 11000) == START_WH + 9            # 9.17 Wh
    assert meter.register_wh(START_WH, 3, 11000, time_scale=600) == START_WH + 5500
    assert meter.register_wh(START_WH, 3600, 7400) == START_WH + 7400


def test_the_register_does_not_depend_on_how_the_session_is_cut():
    m = meter.start(START_WH, time_scale=600)
    for tenth in range(1, 31):
        m = meter.advance(m, Fraction(tenth, 10), 11000)
    assert m.wh == meter.register_wh(START_WH, 3, 11000, 600) == 12_351_178


def test_the_meter_never_runs_backwards_and_power_changes_count_from_their_time():
    m = meter.advance(meter.start(1000), 1800, 2000)   # half an hour at 2 kW
    assert meter.advance(m, 900, 2000) == m             # an earlier time changes nothing
    assert meter.advance(m, 3600, 0).wh == 2000         # then nothing for half an hour
    assert meter.advance(m, 3600, 4000).wh == 4000      # or 4 kW


def test_profile_limits_in_watts():
    assert meter.limit_w("A", 10, 3) == 6900
    assert meter.limit_w("A", 16, 1) == 3680
    assert meter.limit_w("A", 16) == 11040              # three phases unless told
    assert meter.limit_w("W", 7400.5) == Fraction(14801, 2)


# -- answering the central system -------------------------------------------------------------------

def test_get_configuration_known_and_unknown_keys():
    reply = answer(State(), "GetConfiguration", {"key": ["HeartbeatInterval", "Nope", "MeterValueSampleInterval"]})
    assert reply.payload == {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"}], "unknownKey": ["Nope"]}
    everything = answer(State(), "GetConfiguration", {}).payload
    assert "unknownKey" not in everything
    assert {k["key"] for k in everything["configurationKey"]} == set(answers.KEYS)


def test_change_configuration():
    state = State()
    accepted = answer(state, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"})
    assert accepted.payload == {"status": "Accepted"} and accepted.effects == (ConfigChanged("HeartbeatInterval"),)
    assert accepted.state.config["HeartbeatInterval"] == "60" and state.config["HeartbeatInterval"] == "300"
    for key, value, status in [("HeartbeatInterval", "soon", "Rejected"), ("NumberOfConnectors", "2", "Rejected"),
                               ("Colour", "red", "NotSupported")]:
        reply = answer(state, "ChangeConfiguration", {"key": key, "value": value})
        assert (reply.payload, reply.state, reply.effects) == ({"status": status}, state, ())
    key = answer(state, "ChangeConfiguration", {"key": "AuthorizationKey", "value": "ab" * 20})
    assert key.payload == {"status": "Accepted"} and key.state.authorization_key == "ab" * 20
    shown = answer(key.state, "GetConfiguration", {"key": ["AuthorizationKey"]}).payload
    assert shown == {"configurationKey": [{"key": "AuthorizationKey", "readonly": False}]}  # never its value


def test_remote_start_takes_the_connector_once():
    started = answer(State(), "RemoteStartTransaction", {"idTag": "2222"})
    assert started.payload == {"status": "Accepted"} and started.effects == (StartSession("2222"),)
    assert started.state.busy
    assert answer(started.state, "RemoteStartTransaction", {"idTag": "2222"}).payload == {"status": "Rejected"}
    assert answer(State(), "RemoteStartTransaction", {"idTag": "2222", "connectorId": 2}).payload == \
        {"status": "Rejected"}


def test_remote_stop_only_for_the_running_transaction():
    running = State(busy=True, transaction_id=10012345)
    assert answer(running, "RemoteStopTransaction", {"transactionId": 10012345}) == \
        Answer(running, {"status": "Accepted"}, effects=(StopSession("Remote"),))
    assert answer(running, "RemoteStopTransaction", {"transactionId": 1}) == Answer(running, {"status": "Rejected"})
    assert answer(State(), "RemoteStopTransaction", {"transactionId": 1}).payload == {"status": "Rejected"}


def test_reset_trigger_unlock_availability():
    assert answer(State(), "Reset", {"type": "Hard"}).effects == (Reboot(hard=True),)
    assert answer(State(), "Reset", {"type": "Soft"}).effects == (Reboot(hard=False),)
    for message in ("BootNotification", "Heartbeat", "MeterValues", "StatusNotification"):
        reply = answer(State(), "TriggerMessage", {"requestedMessage": message, "connectorId": 1})
        assert reply.payload == {"status": "Accepted"} and reply.effects == (Send(message, 1),)
    assert answer(State(), "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"}).payload == \
        {"status": "NotImplemented"}
    running = State(busy=True, transaction_id=7)
    assert answer(running, "UnlockConnector", {"connectorId": 1}).effects == (StopSession("UnlockCommand"),)
    assert answer(State(), "UnlockConnector", {"connectorId": 1}) == Answer(State(), {"status": "Unlocked"})
    scheduled = answer(running, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    assert scheduled.payload == {"status": "Scheduled"} and scheduled.state.inoperative_scheduled
    off = answer(State(), "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    assert off.payload == {"status": "Accepted"} and not off.state.operative
    assert answers.connector_status(off.state) == "Unavailable"
    assert answer(off.state, "RemoteStartTransaction", {"idTag": "1111"}).payload == {"status": "Rejected"}


def test_charging_profiles_limit_the_power_until_cleared():
    limited = answer(State(), "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": A10})
    assert limited.payload == {"status": "Accepted"}
    assert power_limit_w(limited.state.profiles) == 6900
    watts = dict(A10, chargingProfileId=2, stackLevel=1,
                 chargingSchedule={"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                                        "limit": 4000}]})
    higher = answer(limited.state, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": watts})
    assert power_limit_w(higher.state.profiles) == 4000  # the higher stack level wins
    tx = dict(A10, chargingProfilePurpose="TxProfile")
    assert answer(State(), "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": tx}).payload == \
        {"status": "Rejected"}  # no transaction runs
    cleared = answer(higher.state, "ClearChargingProfile", {"id": 2})
    assert cleared.payload == {"status": "Accepted"} and power_limit_w(cleared.state.profiles) == 6900
    assert answer(cleared.state, "ClearChargingProfile", {"id": 2}).payload == {"status": "Unknown"}
    assert power_limit_w(answer(cleared.state, "ClearChargingProfile", {}).state.profiles) is None


def test_the_rest_and_the_errors():
    assert answer(State(), "ClearCache", {}).payload == {"status": "Accepted"}
    assert answer(State(), "DataTransfer", {"vendorId": "acme"}).payload == {"status": "UnknownVendorId"}
    assert answer(State(), "GetLocalListVersion", {}).payload == {"listVersion": 0}
    assert answer(State(), "GetDiagnostics", {"location": "ftp://x"}).error[0] == "NotImplemented"
    assert answer(State(), "Launch", {}).error[0] == "NotImplemented"
    assert answer(State(), "Reset", {}).error == ("OccurenceConstraintViolation", "type is required")
    assert answer(State(), "RemoteStopTransaction", {"transactionId": "1"}).error[0] == "TypeConstraintViolation"
    assert answer(State(), "Reset", []).error[0] == "FormationViolation"


def test_every_confirmation_matches_the_ocpp_schema():
    running = State(busy=True, transaction_id=10012345)
    calls = [("GetConfiguration", {}), ("GetConfiguration", {"key": ["X"]}), ("Reset", {"type": "Soft"}),
             ("ChangeConfiguration", {"key": "Colour", "value": "red"}), ("ClearCache", {}),
             ("RemoteStartTransaction", {"idTag": "1"}), ("RemoteStopTransaction", {"transactionId": 10012345}),
             ("TriggerMessage", {"requestedMessage": "Heartbeat"}), ("UnlockConnector", {"connectorId": 1}),
             ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": A10}),
             ("ClearChargingProfile", {}), ("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}),
             ("DataTransfer", {"vendorId": "v"}), ("GetLocalListVersion", {})]
    for action, payload in calls:
        assert schemas.check(action, "req", payload) == [], action
        for state in (State(), running):
            reply = answer(state, action, payload)
            assert reply.error is None and schemas.check(action, "conf", reply.payload) == [], (action, reply)


# -- what it sends and how it shows it --------------------------------------------------------------

def test_every_message_matches_the_ocpp_schema_and_shocpp_reads_the_begin_reading():
    ts = "2026-11-21T10:00:00.000Z"
    stop = messages.stop_transaction(10012345, "1111", 12_351_178, ts, "Local", START_WH, ts)
    sent = [("BootNotification", messages.boot_notification("x" * 48)),
            ("StatusNotification", messages.status_notification(1, "Charging", ts)),
            ("StartTransaction", messages.start_transaction("1111", START_WH, ts)),
            ("MeterValues", messages.meter_values(START_WH, Fraction(22001, 2), ts, 10012345)),
            ("MeterValues", messages.meter_values(START_WH, 0, ts, context="Trigger")),
            ("StopTransaction", stop), ("Authorize", {"idTag": "1111"})]
    for action, payload in sent:
        assert schemas.check(action, "req", payload) == [], action
    assert billing.begin_register_wh(stop["transactionData"]) == START_WH
    assert [s["value"] for s in messages.meter_values(5, Fraction(22001, 2), ts)["meterValue"][0]["sampledValue"]] \
        == ["5", "11000"]


def test_readable_lines():
    assert messages.describe_call("StartTransaction", messages.start_transaction("1111", START_WH, "t")) == \
        "StartTransaction idTag=1111 meterStart=12345678"
    assert messages.describe_result("StartTransaction", {"idTagInfo": {"status": "Accepted"},
                                                         "transactionId": 10012345}) == \
        "transactionId=10012345 Accepted"
    assert messages.describe_call("MeterValues", messages.meter_values(12_347_511, 11000, "t", 10012345)) == \
        "MeterValues transactionId=10012345 12347511 Wh 11000 W"
    assert messages.describe_result("GetConfiguration", {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}], "unknownKey": ["X"]}) == \
        "HeartbeatInterval=300 unknownKey=X"


def test_charger_urls():
    assert charger_urls("ws://localhost:8080") == [("sim", "ws://localhost:8080/sim")]
    assert charger_urls("ws://localhost:8080/", "garage-left") == [("garage-left", "ws://localhost:8080/garage-left")]
    assert charger_urls("wss://h:1/ocpp/garage-left") == [("garage-left", "wss://h:1/ocpp/garage-left")]
    assert charger_urls("ws://h/ocpp", "cp", 2) == [("cp-1", "ws://h/ocpp/cp-1"), ("cp-2", "ws://h/ocpp/cp-2")]
    with pytest.raises(ValueError):
        charger_urls("http://h:8080")


def test_summary_line():
    assert percentile([], 50) is None
    assert percentile([3, 1, 2, 4], 50) == 2 and percentile(list(range(1, 101)), 99) == 99
    stats = Stats(sent=4, answered=4, sessions=1, round_trips=[0.001, 0.002, 0.003, 0.004])
    assert summary(stats, 1) == ("shocpp-simulate: 1 charger, 4 messages sent, 4 answers, 0 errors, 1 session, "
                                 "0 calls from the central system, round trip p50 2.0 ms p99 4.0 ms")


def test_meter_values_report_the_current_per_phase_in_use():
    from shocpp_sim import answers, messages
    payload = messages.meter_values(1000, 6900, "2026-01-01T00:00:00Z", 5, phases=3)
    currents = [(s["phase"], s["value"]) for s in payload["meterValue"][0]["sampledValue"]
                if s["measurand"] == "Current.Import"]
    assert currents == [("L1", "10.0"), ("L2", "10.0"), ("L3", "10.0")]
    one = answers.parse_profile(1, {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                                    "chargingProfileKind": "Relative", "chargingSchedule": {
                                        "chargingRateUnit": "A",
                                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16, "numberPhases": 1}]}})
    assert one.phases == 1 and one.limit_w == 16 * 230
    assert answers.phases_allowed((one,)) == 1 and answers.phases_allowed(()) is None


def test_the_knobs_for_chargers_in_the_field():
    """--ignore-profiles, --reject-tx-default-profile, --rate-unit: what chargers in the field do."""
    tx_running = State(transaction_id=77, busy=True)
    tx = dict(A10, chargingProfilePurpose="TxProfile", transactionId=77)
    abb = replace(tx_running, reject_tx_default=True)
    assert answer(abb, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": A10}).payload == \
        {"status": "Rejected"}
    taken = answer(abb, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": tx})
    assert taken.payload == {"status": "Accepted"} and power_limit_w(taken.state.profiles, 77) == 6900
    watts = dict(A10, chargingSchedule={"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                                           "limit": 4000}]})
    huawei = State(config=default_config(rate_unit="W"), rate_unit="W")
    assert answer(huawei, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": A10}).payload == \
        {"status": "Rejected"}
    assert answer(huawei, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": watts}).payload == \
        {"status": "Accepted"}
    assert answer(huawei, "GetConfiguration", {"key": ["ChargingScheduleAllowedChargingRateUnit"]}).payload == \
        {"configurationKey": [{"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Power"}]}
    ignoring = answer(State(ignore_profiles=True), "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": A10})
    assert ignoring.payload == {"status": "Accepted"}
    assert power_limit_w(ignoring.state.profiles, None, ignored=True) is None
