"""shocpp-status end to end through real websocketd."""

import asyncio
import json
import os
import signal
import subprocess

from ocpp.v16 import call

from conftest import BIN, charger, run
from shocpp.protocol import timestamps

T1, T2 = "2026-11-21T10:00:00Z", "2026-11-21T10:00:30Z"


def test_help():
    done = subprocess.run([str(BIN / "shocpp-status"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--json" in done.stdout and "exit status" in done.stdout
    assert "5 no charger is connected" in done.stdout


# -- end to end ------------------------------------------------------------------------------------

async def status(site, *args):
    proc = await asyncio.create_subprocess_exec(str(BIN / "shocpp-status"), *args, env=site.env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def report(cp, serial, connector, status_, meter_value, skip_validation=False):
    await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Box",
                                        charge_point_serial_number=serial, firmware_version="1.0"))
    await cp.call(call.StatusNotification(connector_id=connector, error_code="NoError", status=status_,
                                          timestamp=T1))
    # With the `ocpp` dataclass the payload is checked against its schema unless told not to.
    await cp.call(call.MeterValues(connector_id=connector, meter_value=meter_value),
                  skip_schema_validation=skip_validation)


LEFT_METER = [{"timestamp": T2, "sampledValue": [
    {"value": "7.36", "measurand": "Power.Active.Import", "unit": "kW"},
    {"value": "12345.678", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
    {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
    {"value": "15.9", "measurand": "Current.Import", "unit": "A", "phase": "L2"},
    {"value": "16.1", "measurand": "Current.Import", "unit": "A", "phase": "L3"}]}]
# A charger that sends numbers and one meterValue object instead of an array.
RIGHT_METER = {"timestamp": T2, "sampledValue": [
    {"value": 3680, "measurand": "Power.Active.Import", "unit": "W"},
    {"value": 4200000},
    {"value": 16, "measurand": "Current.Import", "unit": "A", "phase": "L1"}]}


def pid_gone(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return "zombie" in f.read()
    except FileNotFoundError:
        return True


def test_two_chargers_then_one_backend_killed(site, listener_url):
    async def body():
        async with charger(listener_url, "garage-left") as left, charger(listener_url, "garage-right") as right:
            await report(left, "SN-L", 1, "Charging", LEFT_METER)
            await report(right, "SN-R", 2, "SuspendedEV", RIGHT_METER, skip_validation=True)
            both = await status(site, "--json")
            (right_dir,) = site.run_dir.glob("garage-right@*")
            pid = int(right_dir.name.rpartition("@")[2])
            os.kill(pid, signal.SIGKILL)
            for _ in range(200):
                if pid_gone(pid):
                    break
                await asyncio.sleep(0.05)
            return both, await status(site, "--json"), await status(site), pid
    (code, out, err), (code_after, out_after, _), (code_text, text, _), pid = run(body())
    assert (code, err) == (0, "")
    chargers = json.loads(out)["chargers"]
    assert [c["identity"] for c in chargers] == ["garage-left", "garage-right"]
    left, right = chargers
    assert left["remote_addr"] == right["remote_addr"] == "127.0.0.1"
    assert (left["vendor"], left["model"], left["serial"], left["firmware"]) == ("Acme", "Box", "SN-L", "1.0")
    assert (right["vendor"], right["model"], right["serial"]) == ("Acme", "Box", "SN-R")
    assert left["connected_at"].startswith("20") and left["connected_at"].endswith("Z")
    for c in (left, right):
        assert timestamps.parse(c["connectors"][0].pop("meter_received_at")) is not None
    assert left["connectors"] == [{
        "connector_id": 1, "status": "Charging", "error_code": "NoError", "info": None, "vendor_error_code": None,
        "status_time": T1, "meter_time": T2, "power_w": 7360, "energy_wh": 12345678,
        "current_a": {"L1": 16, "L2": 15.9, "L3": 16.1}, "session": None, "balance": None}]
    assert right["connectors"] == [{
        "connector_id": 2, "status": "SuspendedEV", "error_code": "NoError", "info": None, "vendor_error_code": None,
        "status_time": T1, "meter_time": T2, "power_w": 3680, "energy_wh": 4200000, "current_a": {"L1": 16},
        "session": None, "balance": None}]
    assert right["pid"] == pid

    assert pid_gone(pid)
    assert list(site.run_dir.glob(f"garage-right@{pid}"))  # its files are still there, stale
    assert code_after == 0
    (only,) = json.loads(out_after)["chargers"]
    assert timestamps.parse(only["connectors"][0].pop("meter_received_at")) is not None
    assert {**only, "last_seen": None} == {**left, "last_seen": None}  # last_seen: now, for a connected one
    assert code_text == 0
    assert text.startswith("garage-left\n") and "garage-right" not in text
    assert ("  connector 1 Charging, NoError, since 2026-11-21T10:00:00Z\n"
            "              power 7360 W, energy 12345678 Wh, current L1 16 A / L2 15.9 A / L3 16.1 A, "
            "at 2026-11-21T10:00:30Z\n") in text
    assert "  charger     Acme Box, serial SN-L, firmware 1.0\n" in text


def test_a_reconnected_charger_shows_its_newest_backend(site, listener_url):
    async def body():
        async with charger(listener_url, "CP1") as old:
            await report(old, "SN-old", 1, "Available", LEFT_METER)  # its backend is up: it is the older
            async with charger(listener_url, "CP1") as new:
                await report(new, "SN-new", 1, "Preparing", LEFT_METER)
                return await status(site, "--json"), sorted(p.name for p in site.run_dir.glob("CP1@*"))
    (code, out, _), dirs = run(body())
    # The new backend ends the old one (the newest connection wins); it may still be leaving as status looks.
    assert code == 0 and 1 <= len(dirs) <= 2
    (only,) = json.loads(out)["chargers"]
    assert (only["serial"], only["connectors"][0]["status"]) == ("SN-new", "Preparing")


def test_no_charger_connected_end_to_end(site, listener_url):
    code, out, err = run(status(site))
    assert (code, out, err) == (5, "no charger is connected\n", "")


# -- running sessions and chargers that are gone (#13) ---------------------------------------------

def test_a_running_session_shows_and_a_gone_charger_is_listed_with_last_seen(site, listener_url):
    from datetime import datetime, timedelta, timezone
    now = datetime.now(timezone.utc)
    began = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    read = (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    async def body():
        async with charger(listener_url, "CP1") as cp:
            await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Box"))
            await cp.call(call.StatusNotification(connector_id=2, error_code="NoError", status="Charging"))
            started = await cp.call(call.StartTransaction(connector_id=2, id_tag="3333", meter_start=4_200_000,
                                                          timestamp=began))
            await cp.call(call.MeterValues(connector_id=2, transaction_id=started.transaction_id, meter_value=[
                {"timestamp": read, "sampledValue": [
                    {"value": "4212.345", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                    {"value": "7360", "measurand": "Power.Active.Import", "unit": "W"}]}]))
            live = await status(site, "--json")
            text = await status(site)
        for _ in range(200):  # the backend notices the disconnect and leaves run/seen/CP1.json
            if (site.run_dir / "seen" / "CP1.json").exists() and not list(site.run_dir.glob("CP1@*")):
                break
            await asyncio.sleep(0.05)
        return live, text, await status(site, "--json")
    (code, out, err), (_, text, _), (code_after, out_after, _) = run(body())
    assert (code, err) == (0, "")
    (cp1,) = json.loads(out)["chargers"]
    assert (cp1["connected"], cp1["last_seen"][:2]) == (True, "20")
    (connector,) = cp1["connectors"]
    session = connector["session"]
    assert 3600 <= session.pop("duration_s") < 3700
    assert session == {"transaction_id": 20_004_200, "account": "company-x", "id_tag": "3333", "start_time": began,
                       "energy_wh": 12345, "power_w": 7360, "stale": False}
    assert ", 12.345 kWh so far, 7360 W\n" in text and "session 20004200, account company-x, tag 3333, since " in text

    assert code_after == 5  # none connected, the gone one listed all the same
    (gone,) = json.loads(out_after)["chargers"]
    assert (gone["identity"], gone["connected"], gone["vendor"]) == ("CP1", False, "Acme")
    assert gone["last_seen"] >= cp1["last_seen"][:19] and gone["last_seen"].endswith("Z")
    assert gone["connectors"][0]["status"] == "Charging"
    assert gone["connectors"][0]["session"]["transaction_id"] == 20_004_200  # no stop yet: still running
