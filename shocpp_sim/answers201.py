"""How a well-behaved OCPP 2.0.1 station answers the CSMS: pure, over the 1.6 charger's logic.

Each 2.0.1 call is put in 1.6's terms, answered by `answers` (the same State and effects), and the
confirmation is put back in 2.0.1's shape; what has no 1.6 counterpart is answered here.
"""

from dataclasses import replace

from . import answers
from .answers import CONNECTOR, Answer, ConfigChanged, StopSession

# Device model variables the simulated station knows, as its 1.6 configuration keys.
VARIABLES = {("OCPPCommCtrlr", "HeartbeatInterval"): "HeartbeatInterval",
             ("SampledDataCtrlr", "TxUpdatedInterval"): "MeterValueSampleInterval"}
PURPOSES = {"ChargingStationMaxProfile": "ChargePointMaxProfile"}
CODES = {"FormationViolation": "FormatViolation", "OccurenceConstraintViolation": "OccurrenceConstraintViolation"}


def _evse(payload):
    evse = payload.get("evse")
    return evse.get("id") if isinstance(evse, dict) else None


def _token(payload):
    token = payload.get("idToken")
    return token.get("idToken") if isinstance(token, dict) else None


def request_start(state, payload):
    v16 = {"idTag": _token(payload)}
    if payload.get("evseId") is not None:
        v16["connectorId"] = payload["evseId"]
    return answers.remote_start(state, v16)


def request_stop(state, payload):
    tid = payload.get("transactionId")
    if state.transaction_id is not None and tid == state.transaction_id:
        return answers._status(state, "Accepted", StopSession("Remote"))
    return answers._status(state, "Rejected")


def reset(state, payload):
    return answers.reset(state, {"type": "Hard" if payload.get("type") == "Immediate" else "Soft"})


def set_charging_profile(state, payload):
    profile = payload.get("chargingProfile") or {}
    schedules = profile.get("chargingSchedule") or [{}]
    v16 = {"chargingProfileId": profile.get("id"), "stackLevel": profile.get("stackLevel"),
           "chargingProfilePurpose": PURPOSES.get(profile.get("chargingProfilePurpose"),
                                                  profile.get("chargingProfilePurpose")),
           "chargingProfileKind": profile.get("chargingProfileKind"),
           "chargingSchedule": {k: v for k, v in schedules[0].items() if k != "id"}}
    if "transactionId" in profile:
        v16["transactionId"] = profile["transactionId"]
    return answers.set_charging_profile(state, {"connectorId": payload.get("evseId"), "csChargingProfiles": v16})


def clear_charging_profile(state, payload):
    criteria = payload.get("chargingProfileCriteria") or {}
    v16 = {"id": payload.get("chargingProfileId"), "connectorId": criteria.get("evseId"),
           "chargingProfilePurpose": PURPOSES.get(criteria.get("chargingProfilePurpose"),
                                                  criteria.get("chargingProfilePurpose")),
           "stackLevel": criteria.get("stackLevel")}
    return answers.clear_charging_profile(state, {k: v for k, v in v16.items() if v is not None})


def trigger_message(state, payload):
    v16 = {"requestedMessage": payload.get("requestedMessage")}
    if _evse(payload) is not None:
        v16["connectorId"] = _evse(payload)
    return answers.trigger_message(state, v16)


def change_availability(state, payload):
    return answers.change_availability(state, {"connectorId": _evse(payload) or 0,
                                               "type": payload.get("operationalStatus")})


def unlock_connector(state, payload):
    found = answers.unlock_connector(state, {"connectorId": payload.get("evseId")})
    if found.payload and found.payload["status"] == "NotSupported":
        return replace(found, payload={"status": "UnknownConnector"})
    return found


def get_variables(state, payload):
    results = []
    for wanted in payload.get("getVariableData") or []:
        key = VARIABLES.get(((wanted.get("component") or {}).get("name"), (wanted.get("variable") or {}).get("name")))
        result = {"component": wanted.get("component"), "variable": wanted.get("variable"),
                  "attributeStatus": "Accepted" if key else "UnknownVariable"}
        if key:
            result["attributeValue"] = state.config[key]
        results.append(result)
    return Answer(state, {"getVariableResult": results})


def set_variables(state, payload):
    results, effects = [], []
    for wanted in payload.get("setVariableData") or []:
        key = VARIABLES.get(((wanted.get("component") or {}).get("name"), (wanted.get("variable") or {}).get("name")))
        status = "UnknownVariable"
        if key:
            done = answers.change_configuration(state, {"key": key, "value": str(wanted.get("attributeValue"))})
            state, status, effects = done.state, done.payload["status"], effects + list(done.effects)
        results.append({"component": wanted.get("component"), "variable": wanted.get("variable"),
                        "attributeStatus": status})
    return Answer(state, {"setVariableResult": results}, effects=tuple(e for e in effects
                                                                       if isinstance(e, ConfigChanged)))


ANSWERS = {
    "ChangeAvailability": change_availability,
    "ClearCache": lambda state, payload: answers._status(state, "Accepted"),
    "ClearChargingProfile": clear_charging_profile,
    "DataTransfer": answers.data_transfer,
    "GetVariables": get_variables,
    "RequestStartTransaction": request_start,
    "RequestStopTransaction": request_stop,
    "Reset": reset,
    "SetChargingProfile": set_charging_profile,
    "SetVariables": set_variables,
    "TriggerMessage": trigger_message,
    "UnlockConnector": unlock_connector,
}


def answer(state, action, payload):
    """The station's answer to a CALL of the CSMS, with 2.0.1's error codes."""
    return answers.answer(state, action, payload, ANSWERS, lambda code: CODES.get(code, code))
