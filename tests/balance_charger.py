"""A charger for the balancer's end-to-end tests, made with the `ocpp` package: it keeps the charging
profiles it accepts the way OCPP 1.6 (3.13) says a charger does, and draws what the profile in force
allows (the car wants `max_a`); MeterValues with Current.Import per phase after every change and every
`meter_every` seconds. Knobs for what chargers in the field do: accept and ignore every profile
(`ignore`), reject TxDefaultProfile (`reject_tx_default`), take only A or only W (`units`: the value
of ChargingScheduleAllowedChargingRateUnit), draw more than it is allowed (`above_a`)."""

import asyncio
from datetime import datetime, timezone

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

VOLTS = 230


def now_text():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


class Car(ChargePoint):
    def __init__(self, identity, ws, max_a=16, phases=3, ignore=False, reject_tx_default=False,
                 units="Current,Power", above_a=0, meter_every=0.3, **options):
        super().__init__(identity, ws, **options)
        self.max_a, self.phases, self.ignore = max_a, phases, ignore
        self.reject_tx_default, self.units, self.above_a = reject_tx_default, units, above_a
        self.meter_every = meter_every
        self.profiles = []          # the accepted csChargingProfiles (snake case), with "connector_id"
        self.received = []          # every SetChargingProfile payload, accepted or not
        self.transaction_id = None
        self.energy_wh = 1000
        self.changed = asyncio.Event()
        self.meter_task = None

    # -- what the central system asks ------------------------------------------------------------

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **_):
        values = {"ChargeProfileMaxStackLevel": "8", "ChargingScheduleAllowedChargingRateUnit": self.units}
        wanted = key or list(values)
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": True, "value": values[k]} for k in wanted if k in values],
            unknown_key=[k for k in wanted if k not in values] or None)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id, cs_charging_profiles, **_):
        profile = {**cs_charging_profiles, "connector_id": connector_id}
        self.received.append(profile)
        purpose = profile["charging_profile_purpose"]
        unit = profile["charging_schedule"]["charging_rate_unit"]
        wrong_unit = {"A": "Current", "W": "Power"}[unit] not in self.units.split(",")
        tx_without = purpose == "TxProfile" and (self.transaction_id is None
                                                 or profile.get("transaction_id") != self.transaction_id)
        if wrong_unit or tx_without or (purpose == "TxDefaultProfile" and self.reject_tx_default):
            return call_result.SetChargingProfile(status="Rejected")
        # 3.13.2: the same id, or the same stack level and purpose (on the connector), is replaced
        self.profiles = [p for p in self.profiles if p["charging_profile_id"] != profile["charging_profile_id"]
                         and not (p["stack_level"] == profile["stack_level"]
                                  and p["charging_profile_purpose"] == purpose
                                  and p["connector_id"] == connector_id)] + [profile]
        self.changed.set()
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, id=None, connector_id=None, charging_profile_purpose=None,
                                  stack_level=None, **_):
        def matches(p):
            if id is not None:
                return p["charging_profile_id"] == id
            return all(v is None or p[k] == v for k, v in (("connector_id", connector_id),
                                                           ("charging_profile_purpose", charging_profile_purpose),
                                                           ("stack_level", stack_level)))
        kept = [p for p in self.profiles if not matches(p)]
        found = len(kept) != len(self.profiles)
        self.profiles = kept
        self.changed.set()
        return call_result.ClearChargingProfile(status="Accepted" if found else "Unknown")

    # -- what it draws -----------------------------------------------------------------------------

    def _in_force(self, purpose, connectors):
        chosen = [p for p in self.profiles if p["charging_profile_purpose"] == purpose
                  and p["connector_id"] in connectors
                  and (purpose != "TxProfile" or p.get("transaction_id") in (None, self.transaction_id))]
        return max(chosen, key=lambda p: (p["connector_id"], p["stack_level"])) if chosen else None

    def limit(self):
        """(amperes per phase, phases) the profiles in force allow on connector 1 (None: no limit)."""
        tx = (self._in_force("TxProfile", (1,)) if self.transaction_id is not None else None) \
            or self._in_force("TxDefaultProfile", (1, 0))
        found = []
        for p in (tx, self._in_force("ChargePointMaxProfile", (0,))):
            if p is None:
                continue
            period = p["charging_schedule"]["charging_schedule_period"][0]
            phases = period.get("number_phases") or 3
            amps = period["limit"] if p["charging_schedule"]["charging_rate_unit"] == "A" \
                else period["limit"] / (VOLTS * phases)
            found.append((amps, phases))
        return min(found) if found else (None, self.phases)

    def drawing(self):
        """{phase: amperes} drawn now."""
        if self.transaction_id is None:
            return {}
        limit, phases = self.limit()
        amps = self.max_a if self.ignore or limit is None else min(self.max_a, limit + self.above_a)
        used = min(self.phases, phases) if not self.ignore else self.phases
        return {p: float(int(amps)) for p in ("L1", "L2", "L3")[:used]}

    # -- a session ---------------------------------------------------------------------------------

    async def start_session(self, id_tag="1111"):
        await self.call(call.BootNotification(charge_point_model="Loop", charge_point_vendor="Tests"))
        await self.status("Preparing")
        answer = await self.call(call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=self.energy_wh,
                                                       timestamp=now_text()))
        self.transaction_id = answer.transaction_id
        await self.status("Charging")
        self.meter_task = asyncio.create_task(self._meter())
        return self.transaction_id

    async def stop_session(self):
        if self.meter_task:
            self.meter_task.cancel()
        await self.call(call.StopTransaction(meter_stop=self.energy_wh, timestamp=now_text(),
                                             transaction_id=self.transaction_id, reason="Local"))
        self.transaction_id = None
        self.profiles = [p for p in self.profiles if p["charging_profile_purpose"] != "TxProfile"]
        await self.status("Available")

    async def status(self, status):
        await self.call(call.StatusNotification(connector_id=1, error_code="NoError", status=status))

    async def _meter(self):
        while True:
            try:
                await self.send_meter()
            except websockets.ConnectionClosed:
                return  # the test is over with this connection
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), self.meter_every)
            except asyncio.TimeoutError:
                pass

    async def send_meter(self):
        draw = self.drawing()
        samples = [{"value": str(a), "measurand": "Current.Import", "phase": p, "unit": "A"} for p, a in draw.items()]
        samples.append({"value": str(int(sum(draw.values()) * VOLTS)), "measurand": "Power.Active.Import",
                        "unit": "W"})
        samples.append({"value": str(self.energy_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"})
        await self.call(call.MeterValues(connector_id=1, transaction_id=self.transaction_id,
                                         meter_value=[{"timestamp": now_text(), "sampled_value": samples}]))
