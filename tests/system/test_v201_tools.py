"""The tools with a 2.0.1 station (the `ocpp` package's v201.ChargePoint) through the real listener:
shocpp-command's conveniences under both names, shocpp-status and the dashboard API showing the
running session, and the session billed for the account that started it."""

import asyncio
import json
import subprocess

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result

from conftest import BIN, run
from test_dashboard import request, sync
from test_v201_listener import boot, energy, event, station


class Station(ChargePoint):
    """Starts and stops a transaction when asked, as a well-behaved 2.0.1 station does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked = []

    @on("RequestStartTransaction")
    def on_start(self, id_token, remote_start_id, evse_id=None, **_):
        self.asked.append(("start", id_token, remote_start_id, evse_id))
        asyncio.get_running_loop().call_later(0.1, lambda: asyncio.ensure_future(self.call(event(
            "Started", 0, "rs-1", "2026-11-01T10:00:00Z", energy(2_000_000, "Transaction.Begin"),
            trigger="RemoteStart", evse={"id": evse_id or 1, "connectorId": 1}, id_token=id_token,
            info={"remoteStartId": remote_start_id}))))
        return call_result.RequestStartTransaction(status="Accepted")

    @on("RequestStopTransaction")
    def on_stop(self, transaction_id, **_):
        self.asked.append(("stop", transaction_id))
        asyncio.get_running_loop().call_later(0.1, lambda: asyncio.ensure_future(self.call(event(
            "Ended", 3, transaction_id, "2026-11-01T11:30:00Z",
            energy(2_011_111, "Transaction.End", "2026-11-01T11:30:00Z"), trigger="RemoteStop",
            info={"stoppedReason": "Remote"}))))
        return call_result.RequestStopTransaction(status="Accepted")

    @on("Reset")
    def on_reset(self, type, **_):
        self.asked.append(("reset", type))
        return call_result.Reset(status="Accepted")


async def until(found, seconds=20):
    for _ in range(int(seconds / 0.05)):
        if found():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{found.__name__}: nothing in {seconds} s")


def steady(charger):
    """A charger as shocpp-status shows it, without what moves between two calls a moment apart (now, and
    a running session's duration so far)."""
    return {**charger, "last_seen": None, "connectors": [
        {**k, "session": k["session"] and {**k["session"], "duration_s": None}} for k in charger["connectors"]]}


def tool(site, *argv):
    done = subprocess.run([str(BIN / argv[0]), *argv[1:]], env=site.env, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


async def command(site, *argv):
    return await sync(tool, site, "shocpp-command", "--charger", "CS1", *argv)


def test_remote_start_and_stop_status_and_dashboard_with_a_2_0_1_station(site, listener_url, start_dashboard):
    url = start_dashboard()

    async def scenario():
        async with station(listener_url, "CS1", kind=Station) as cp:
            await boot(cp)
            started = await command(site, "RemoteStartTransaction", "--account", "company-x")
            await until(site.start_lines)  # the station's Started
            await cp.call(event("Updated", 1, "rs-1", "2026-11-01T11:00:00Z",
                                energy(2_006_000, None, "2026-11-01T11:00:00Z"), trigger="MeterValuePeriodic"))
            status = json.loads((await sync(tool, site, "shocpp-status", "--json"))[1])
            text = (await sync(tool, site, "shocpp-status"))[1]
            api = await sync(request, url, "/api/status")
            variables = await command(site, "GetVariables", '{"getVariableData":[{"component":{"name":"X"}}]}')
            stopped = await command(site, "RequestStopTransaction")
            reset = await command(site, "Reset")
            hard = await command(site, "Reset", '{"type":"Hard"}')  # 1.6's payload: 2.0.1's Immediate
            # the dashboard's API: the page's 2.0.1 call (a 1.6 Reset payload would be refused)
            api_reset = await sync(request, url, "/api/command", {"charger": "CS1", "action": "Reset",
                                                                 "payload": {"type": "Immediate"}})
            await until(site.stop_lines)  # the station's Ended
            return cp.asked, started, status, text, api, variables, stopped, reset, api_reset, hard
    asked, started, status, text, api, variables, stopped, reset, api_reset, hard = run(scenario())
    assert started[0] == 0 and json.loads(started[1]) == {"status": "Accepted"}
    (start, stop, resets, hard_resets, api_resets) = asked
    assert hard[0] == 0 and hard_resets == ("reset", "Immediate")
    assert api_resets == ("reset", "Immediate") and api_reset[::2] == (200, {"answer": {"status": "Accepted"},
                                                                            "charger": "CS1"})
    assert start[0:2] == ("start", {"id_token": "3333", "type": "Central"})  # as the ocpp package hands it over and start[3] is None
    assert stop == ("stop", "rs-1") and resets == ("reset", "OnIdle")
    assert stopped[0] == 0 and reset[0] == 0
    # refused before anything was sent: variable is required
    assert variables[0] == 2 and "variable: required property is missing" in variables[2]
    (cs1,) = status["chargers"]
    (connector,) = cs1["connectors"]
    assert (cs1["ocpp"], cs1["vendor"], cs1["model"], connector["connector_id"], connector["status"]) == \
        ("2.0.1", "Acme", "Wallbox 2", 1, "Occupied")
    assert "  charger     Acme Wallbox 2, OCPP 2.0.1\n  evse 1      Occupied" in text
    assert (connector["session"]["transaction_id"], connector["session"]["account"],
            connector["session"]["energy_wh"]) == ("rs-1", "company-x", 6_000)
    assert api[0] == 200
    assert [steady(c) for c in api[2]["chargers"]] == [steady(c) for c in status["chargers"]]
    (line,) = site.stop_lines()
    assert (line["transaction_id"], line["account"], line["energy_wh"], line["reason"], line["flags"]) == \
        ("rs-1", "company-x", 11_111, "Remote", [])


class Limited(ChargePoint):
    """Takes watts only, up to stack level 3 (its device model says so), and keeps the charging profiles it
    is sent (the `ocpp` package checks them against its schemas first)."""

    profiles = []
    variables = {"RateUnit": "W", "ProfileStackLevel": "3"}

    @on("GetVariables")
    def on_get_variables(self, get_variable_data, **_):
        return call_result.GetVariables(get_variable_result=[
            {"attribute_status": "Accepted", "attribute_value": self.variables[d["variable"]["name"]],
             "component": d["component"], "variable": d["variable"]} for d in get_variable_data])

    @on("SetChargingProfile")
    def on_profile(self, evse_id, charging_profile, **_):
        self.profiles.append((evse_id, charging_profile))
        return call_result.SetChargingProfile(status="Accepted")


def test_a_balancer_round_sets_a_2_0_1_profile_in_the_unit_the_station_takes(site, listener_url):
    site_file = site.root / "site.json"
    site_file.write_text(json.dumps({"grid_limit_a": 32, "default": {"max_a": 16, "phases": 3, "mode": "fast",
                                                                     "unit": "A"}, "chargers": {"CS1": {}}}))
    site.env["SHOCPP_SITEFILE"] = str(site_file)

    async def scenario():
        async with station(listener_url, "CS1", kind=Limited) as cp:
            await boot(cp)
            await cp.call(event("Started", 0, "tx-7", "2026-11-01T10:00:00Z", energy(5_000, "Transaction.Begin"),
                                evse={"id": 1, "connectorId": 1}, id_token={"idToken": "1111", "type": "ISO14443"},
                                info={"chargingState": "Charging"}))
            done = await sync(tool, site, "shocpp-balance", "--once")
            return done, list(cp.profiles)
    (status, out, err), profiles = run(scenario())
    assert status == 0, err
    assert len(profiles) == 1, (out, err)
    ((evse_id, profile),) = profiles
    assert evse_id == 1
    (schedule,) = profile["charging_schedule"]
    assert (profile["charging_profile_purpose"], profile["stack_level"], schedule["charging_rate_unit"],
            schedule["charging_schedule_period"]) == \
        ("TxDefaultProfile", 3, "W", [{"start_period": 0, "limit": 16 * 230 * 3, "number_phases": 3}])
