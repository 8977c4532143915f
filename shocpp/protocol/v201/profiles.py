"""Charging profiles for 2.0.1 stations: the balancer decides in 1.6's terms (protocol/balance.py),
and a 2.0.1 station gets the same profile in 2.0.1's shape."""

PURPOSES = {"ChargePointMaxProfile": "ChargingStationMaxProfile"}  # the others keep their names


def from_v16(payload):
    """The 2.0.1 SetChargingProfile payload for a 1.6 one: evseId for connectorId, the profile's id,
    its schedule in a list (with an id of its own), a TxProfile's transactionId as text."""
    old = payload["csChargingProfiles"]
    profile = {"id": old["chargingProfileId"], "stackLevel": old["stackLevel"],
               "chargingProfilePurpose": PURPOSES.get(old["chargingProfilePurpose"], old["chargingProfilePurpose"]),
               "chargingProfileKind": old["chargingProfileKind"],
               "chargingSchedule": [{"id": old["chargingProfileId"], **old["chargingSchedule"]}]}
    if "transactionId" in old:
        profile["transactionId"] = str(old["transactionId"])
    return {"evseId": payload["connectorId"], "chargingProfile": profile}


# What a 2.0.1 station says it takes (its device model), asked with GetVariables.
RATE_UNIT = {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "RateUnit"}}
STACK_LEVEL = {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "ProfileStackLevel"}}
LEARN = {"getVariableData": [RATE_UNIT, STACK_LEVEL]}


def learned(result):
    """{"stack_level", "unit"} from a GetVariables confirmation of LEARN: the highest stack level (0 when
    not said, at most 100), and "A" or "W" when the station takes only that one (None: both, or not said)."""
    values = {}
    for found in (result or {}).get("getVariableResult") or ():
        if isinstance(found, dict) and found.get("attributeStatus") == "Accepted":
            name = (found.get("variable") or {}).get("name")
            values[name] = str(found.get("attributeValue", "")).strip()
    level = values.get("ProfileStackLevel", "")
    units = {u.strip() for u in values.get("RateUnit", "").split(",") if u.strip() in ("A", "W")}
    return {"stack_level": min(int(level), 100) if level.isdigit() else 0,
            "unit": units.pop() if len(units) == 1 else None}
