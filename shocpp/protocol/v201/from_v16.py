"""A central system's 1.6 call as its 2.0.1 counterpart, for tools that speak 1.6 to a 2.0.1 charger
(shocpp-command given a 1.6 payload, the dashboard's API, the MQTT bridge): one EVSE per 1.6 connector,
the EVSE's first connector."""

from . import profiles

RESETS = {"Soft": "OnIdle", "Hard": "Immediate"}


def _evse(connector):
    return {"id": connector} if connector else None  # connector 0: the whole station


def remote_start(payload, remote_start_id):
    found = {"idToken": {"idToken": payload["idTag"], "type": "Central"}, "remoteStartId": remote_start_id}
    if payload.get("connectorId"):
        found["evseId"] = payload["connectorId"]
    return found


def clear_charging_profile(payload):
    found = {} if payload.get("id") is None else {"chargingProfileId": payload["id"]}
    criteria = {k2: payload[k1] for k1, k2 in (("connectorId", "evseId"), ("stackLevel", "stackLevel"))
                if payload.get(k1) is not None}
    if payload.get("chargingProfilePurpose") is not None:
        criteria["chargingProfilePurpose"] = profiles.PURPOSES.get(payload["chargingProfilePurpose"],
                                                                  payload["chargingProfilePurpose"])
    if criteria:
        found["chargingProfileCriteria"] = criteria
    return found


def with_evse(key, payload, connector_key="connectorId"):
    evse = _evse(payload.get(connector_key))
    return {**({"evse": evse} if evse else {}), **{k: v for k, v in key.items()}}


CALLS = {
    "RemoteStartTransaction": lambda p, n: ("RequestStartTransaction", remote_start(p, n)),
    "RemoteStopTransaction": lambda p, n: ("RequestStopTransaction", {"transactionId": str(p["transactionId"])}),
    "Reset": lambda p, n: ("Reset", {"type": RESETS[p["type"]]}),
    "SetChargingProfile": lambda p, n: ("SetChargingProfile", profiles.from_v16(p)),
    "ClearChargingProfile": lambda p, n: ("ClearChargingProfile", clear_charging_profile(p)),
    "UnlockConnector": lambda p, n: ("UnlockConnector", {"evseId": p["connectorId"], "connectorId": 1}),
    "ChangeAvailability": lambda p, n: ("ChangeAvailability", with_evse({"operationalStatus": p["type"]}, p)),
    "TriggerMessage": lambda p, n: ("TriggerMessage", with_evse({"requestedMessage": p["requestedMessage"]}, p)),
}


def call(action, payload, remote_start_id=0):
    """(action, payload) in 2.0.1 for a 1.6 call that has a counterpart (payload valid by 1.6's schema);
    None for one that has none."""
    if action not in CALLS:
        return None
    return CALLS[action](payload, remote_start_id)
