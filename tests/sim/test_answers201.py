"""The simulated 2.0.1 station's answers (shocpp_sim/answers201.py), pure; every confirmation valid by
shocpp's 2.0.1 schemas and by the `ocpp` package's."""

from dataclasses import replace

import pytest

from shocpp.protocol.v201 import schemas
from shocpp_sim import answers, answers201

from judge201 import judge_accepts

STATE = answers.State()
PROFILE = {"evseId": 1, "chargingProfile": {
    "id": 5, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
    "chargingSchedule": [{"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 10.0, "numberPhases": 1}]}]}}


def answered(state, action, payload):
    reply = answers201.answer(state, action, payload)
    assert reply.error is None, reply.error
    assert schemas.check(action, "conf", reply.payload) == [] and judge_accepts(action, "conf", reply.payload)
    return reply


def test_request_start_and_stop():
    started = answered(STATE, "RequestStartTransaction",
                       {"idToken": {"idToken": "3333", "type": "Central"}, "remoteStartId": 9})
    assert started.payload == {"status": "Accepted"} and started.effects == (answers.StartSession("3333"),)
    running = replace(started.state, transaction_id="tx-1")
    assert answered(running, "RequestStopTransaction", {"transactionId": "other"}).payload == {"status": "Rejected"}
    stopped = answered(running, "RequestStopTransaction", {"transactionId": "tx-1"})
    assert stopped.effects == (answers.StopSession("Remote"),)


def test_reset_and_a_profile_in_2_0_1_terms():
    assert answered(STATE, "Reset", {"type": "Immediate"}).effects == (answers.Reboot(hard=True),)
    assert answered(STATE, "Reset", {"type": "OnIdle"}).effects == (answers.Reboot(hard=False),)
    limited = answered(STATE, "SetChargingProfile", PROFILE)
    assert answers.power_limit_w(limited.state.profiles) == 10 * 230
    assert answered(limited.state, "ClearChargingProfile", {"chargingProfileId": 5}).payload == {"status": "Accepted"}


def test_variables_are_its_configuration():
    wanted = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    got = answered(STATE, "GetVariables", {"getVariableData": [wanted, {**wanted, "variable": {"name": "X"}}]})
    assert [(r["attributeStatus"], r.get("attributeValue")) for r in got.payload["getVariableResult"]] == \
        [("Accepted", "300"), ("UnknownVariable", None)]
    done = answered(STATE, "SetVariables", {"setVariableData": [{**wanted, "attributeValue": "42"}]})
    assert done.state.config["HeartbeatInterval"] == "42"
    assert done.effects == (answers.ConfigChanged("HeartbeatInterval"),)


@pytest.mark.parametrize("action, payload, code", [
    ("GetLog", {}, "NotImplemented"), ("Reset", [], "FormatViolation"),
    ("RequestStartTransaction", {"remoteStartId": 1}, "TypeConstraintViolation")])
def test_errors_in_2_0_1_spelling(action, payload, code):
    assert answers201.answer(STATE, action, payload).error[0] == code
