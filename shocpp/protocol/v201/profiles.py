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
