"""One simulated OCPP 2.0.1 station: the 1.6 charger's connection, calls and sessions (charger.py),
with 2.0.1's messages: a TransactionEvent Started, Updated with the meter values and Ended instead of
StartTransaction, MeterValues and StopTransaction, and the answers of answers201."""

import os

from . import answers201, messages
from .answers import CONNECTOR
from .charger import Charger, ConnectionLost

# 1.6's connector statuses as 2.0.1's connectorStatus.
CONNECTOR_STATUS = {"Available": "Available", "Preparing": "Occupied", "Charging": "Occupied",
                    "SuspendedEV": "Occupied", "SuspendedEVSE": "Occupied", "Finishing": "Occupied",
                    "Reserved": "Reserved", "Unavailable": "Unavailable", "Faulted": "Faulted"}


def token(tag):
    return {"idToken": tag, "type": "ISO14443"}


def as_201(meter_value):
    """1.6 sampled values (value text, unit beside it) as 2.0.1's (a number, unitOfMeasure)."""
    entries = []
    for entry in meter_value:
        sampled = []
        for sample in entry["sampledValue"]:
            kept = {k: sample[k] for k in ("context", "measurand", "phase", "location") if k in sample}
            number = float(sample["value"])
            kept.update(value=int(number) if number.is_integer() else number, unitOfMeasure={"unit": sample["unit"]})
            sampled.append(kept)
        entries.append({"timestamp": entry["timestamp"], "sampledValue": sampled})
    return entries


class Charger201(Charger):
    SUBPROTOCOL = "ocpp2.0.1"
    ANSWER = staticmethod(answers201.answer)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seq_no = 0

    def boot_payload(self):
        return {"chargingStation": {"vendorName": "shocpp", "model": "shocpp-simulate",
                                    "serialNumber": f"SIM-{self.id}"[:25], "firmwareVersion": "sim-1"},
                "reason": "PowerUp"}

    async def send_status(self, connector, status):
        self.status_of[connector] = status
        if connector == 0:
            return  # 2.0.1 reports EVSEs' connectors, not the station
        await self.call("StatusNotification", {"timestamp": messages.timestamp(), "evseId": connector,
                                               "connectorId": 1, "connectorStatus": CONNECTOR_STATUS[status]})

    async def event(self, kind, session, trigger, meter_value=None, **extra):
        payload = {"eventType": kind, "timestamp": self.stamp(session), "triggerReason": trigger,
                   "seqNo": self.seq_no, "transactionInfo": {"transactionId": session.transaction_id, **extra}}
        self.seq_no += 1
        if meter_value:
            payload["meterValue"] = as_201(meter_value)
        return payload

    def samples(self, session, context):
        register = session.meter.wh if session.meter is not None else int(self.register)
        power = self.charging_power(session) if session.t0 is not None else 0
        phases = self.phases_in_use(session) if self.o.report_current else None
        return messages.meter_values(register, power, self.stamp(session), None, context, phases=phases)["meterValue"]

    async def send_meter_values(self, session, context):
        charging = session is not None and session.t0 is not None
        if charging and context != "Sample.Periodic":
            self.settle(session)
        if charging:
            trigger = "MeterValuePeriodic" if context == "Sample.Periodic" else "Trigger"
            await self.call_tx("TransactionEvent", await self.event("Updated", session, trigger,
                                                                    self.samples(session, context),
                                                                    chargingState="Charging"))
            return
        await self.call("MeterValues", {"evseId": CONNECTOR, "meterValue": as_201(messages.meter_values(
            int(self.register), 0, messages.timestamp(), None, context)["meterValue"])})

    async def authorized(self, tag):
        answer = await self.call("Authorize", {"idToken": token(tag)})
        status = (answer.get("idTokenInfo") or {}).get("status")
        if status != "Accepted":
            self.problem(f"tag {tag} was not accepted ({status}): no session")
        return status == "Accepted"

    async def start_transaction(self, session):
        """TransactionEvent Started, with a transactionId of its own making; the idToken's status."""
        session.transaction_id = f"{self.id}-{os.urandom(4).hex()}"[-36:]
        started = await self.call_tx("TransactionEvent", {
            **await self.event("Started", session, "RemoteStart" if session.remote else "Authorized",
                               self.samples(session, "Transaction.Begin"), chargingState="Charging"),
            "evse": {"id": CONNECTOR, "connectorId": 1}, "idToken": token(session.tag)})
        return (started.get("idTokenInfo") or {}).get("status")

    async def stop_transaction(self, session):
        reason = {"Local": "Local", "Remote": "Remote", "DeAuthorized": "DeAuthorized", "HardReset": "ImmediateReset",
                  "SoftReset": "Reboot", "UnlockCommand": "Other"}.get(session.reason or "Local", "Other")
        trigger = "RemoteStop" if reason == "Remote" else "StopAuthorized"
        payload = await self.event("Ended", session, trigger, self.samples(session, "Transaction.End"),
                                   stoppedReason=reason, chargingState="EVConnected")
        try:
            await self.call_tx("TransactionEvent", payload)
        except ConnectionLost:
            self.problem(f"transaction {session.transaction_id} not ended: no connection")
            raise
        self.stats.sessions += 1
