"""shocpp-simulate and make demo end to end through the real listener."""

import json
import re
import signal
import subprocess
import sys
import time

from conftest import BIN, ROOT
from shocpp_sim import meter

START_WH = 12_345_678
LOG_LINE = re.compile(r"^\S+ (\S+)\[\d+\] ([<>]) (.*)$")
A10 = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
       "chargingProfileKind": "Relative",
       "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
           {"startPeriod": 0, "limit": 10.0, "numberPhases": 3}]}}


# -- end to end -----------------------------------------------------------------------------------

def simulate(site, url, *args, timeout=30):
    return subprocess.run([str(BIN / "shocpp-simulate"), url, "--timeout", "10", *args], env=site.env,
                          capture_output=True, text=True, timeout=timeout)


def frames(site, charger, direction="<"):
    """The frames of `charger` in the listener's log, in order."""
    found = []
    for line in site.log_file.read_text().splitlines():
        match = LOG_LINE.match(line)
        if match and match.group(1) == charger and match.group(2) == direction:
            found.append(json.loads(match.group(3)))
    return found


def without_times(record):
    return {k: v for k, v in record.items() if k not in ("start_time", "stop_time", "duration_s", "recorded_at")}


def wait_until(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def connector_status(site, charger):
    for path in site.run_dir.glob(f"{charger}@*/status-1.json"):
        try:
            return json.loads(path.read_text())["status"]
        except (OSError, ValueError):
            return None
    return None


class Running:
    """bin/shocpp-simulate in the background; stopped with SIGINT (or killed) at the end."""

    def __init__(self, site, url, *args):
        self.proc = subprocess.Popen([str(BIN / "shocpp-simulate"), url, "--timeout", "10", "--duration", "60",
                                      *args], env=site.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)

    def __enter__(self):
        return self

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def command(site, *args):
    done = subprocess.run([str(BIN / "shocpp-command"), *args], env=site.env, capture_output=True, text=True,
                          timeout=30)
    return done.returncode, done.stdout, done.stderr


def test_one_rfid_session_gives_the_exact_ledger_record(site, listener_url):
    done = simulate(site, listener_url, "--id", "garage-left", "--tag", "1111", "--sessions", "1",
                    "--session-seconds", "3", "--meter-interval", "1", "--power", "11000", "--time-scale", "600")
    assert done.returncode == 0, done.stderr
    stop_wh = meter.register_wh(START_WH, 3, 11000, 600)
    assert stop_wh == 12_351_178
    (record,) = site.stop_lines()
    # --time-scale 600 puts 5.5 kWh into 3 s, and the session's clock runs as fast: half an hour at
    # 11 kW, billed normally under the default SHOCPP_MAX_POWER_KW (#24 item 7)
    assert "SHOCPP_MAX_POWER_KW" not in site.env
    assert 1795 <= record["duration_s"] <= 1800
    assert without_times(record) == {
        "event": "stop", "charger": "garage-left", "transaction_id": 10012345, "account": "home",
        "account_index": 1, "id_tag": "1111", "meter_start_kwh": 12345, "meter_stop_wh": stop_wh,
        "consumed_kwh": 6, "consumed_wh": 5500, "connector_id": 1, "meter_start_wh": START_WH, "energy_wh": 5500,
        "start_id_tag": "1111", "reason": "Local", "verdict": "billed", "flags": []}
    assert "garage-left → StartTransaction idTag=1111 meterStart=12345678\n" in done.stdout
    assert "garage-left ← transactionId=10012345 Accepted\n" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("shocpp-simulate: 1 charger, ")
    assert ", 0 errors, 1 session, " in done.stdout
    calls = [f for f in frames(site, "garage-left") if f[0] == 2 and f[2] != "Heartbeat"]
    steps = [f[2] if f[2] != "StatusNotification" else f[3]["status"] for f in calls]
    assert steps == ["BootNotification", "Available", "Available", "Preparing", "Authorize", "StartTransaction",
                     "Charging", "MeterValues", "MeterValues", "StopTransaction", "Finishing", "Available"]
    registers = [f[3]["meterValue"][0]["sampledValue"][0]["value"] for f in calls if f[2] == "MeterValues"]
    assert registers == [str(meter.register_wh(START_WH, t, 11000, 600)) for t in (1, 2)] == ["12347511", "12349344"]


def test_three_quiet_chargers_each_run_a_session(site, listener_url):
    done = simulate(site, listener_url, "--id", "load", "--chargers", "3", "--quiet", "--sessions", "1",
                    "--session-seconds", "1", "--meter-interval", "0")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (line,) = done.stdout.splitlines()
    assert line.startswith("shocpp-simulate: 3 chargers, ") and ", 0 errors, 3 sessions, " in line
    assert re.search(r"round trip p50 [0-9.]+ ms p99 [0-9.]+ ms$", line)
    records = site.stop_lines()
    assert sorted(r["charger"] for r in records) == ["load-1", "load-2", "load-3"]
    assert {r["consumed_wh"] for r in records} == {meter.register_wh(START_WH, 1, 11000) - START_WH} == {3}


def test_remote_start_and_stop_through_shocpp_command(site, listener_url):
    with Running(site, listener_url, "--id", "cp", "--meter-interval", "1") as sim:
        wait_until(lambda: connector_status(site, "cp") == "Available")
        assert command(site, "RemoteStartTransaction", '{"idTag":"3333"}')[:2] == (0, '{\n  "status": "Accepted"\n}\n')
        started = wait_until(lambda: [f for f in frames(site, "cp") if f[0] == 2 and f[2] == "StartTransaction"])
        assert started[0][3]["idTag"] == "3333" and started[0][3]["meterStart"] == START_WH
        wait_until(lambda: connector_status(site, "cp") == "Charging")
        tid = 20_012_345  # company-x is index 2
        rejected = command(site, "RemoteStopTransaction", '{"transactionId":1}')
        assert rejected[:2] == (10, '{\n  "status": "Rejected"\n}\n')  # exit 10: REJECTED (#13)
        assert command(site, "RemoteStopTransaction", json.dumps({"transactionId": tid}))[0] == 0
        (record,) = wait_until(site.stop_lines)
        code, out, err = sim.interrupt()
    assert (record["charger"], record["transaction_id"], record["account"], record["id_tag"], record["reason"]) == \
        ("cp", tid, "company-x", "3333", "Remote")
    assert record["consumed_wh"] == record["meter_stop_wh"] - START_WH >= 0
    assert code == 0, err
    assert "cp ← RemoteStartTransaction idTag=3333\n" in out and "cp → Accepted\n" in out
    assert ", 0 errors, 1 session, 3 calls from the central system" in out.splitlines()[-1]


def test_get_configuration_and_a_profile_through_shocpp_command(site, listener_url):
    with Running(site, listener_url, "--id", "cp", "--meter-interval", "7", "--heartbeat", "42") as sim:
        wait_until(lambda: connector_status(site, "cp") == "Available")
        code, out, _ = command(site, "GetConfiguration",
                               '{"key":["HeartbeatInterval","MeterValueSampleInterval","Colour"]}')
        profile = command(site, "SetChargingProfile", json.dumps({"connectorId": 1, "csChargingProfiles": A10}))
        sim.interrupt()
    assert code == 0
    assert json.loads(out) == {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "42"},
        {"key": "MeterValueSampleInterval", "readonly": False, "value": "7"}], "unknownKey": ["Colour"]}
    assert profile[:2] == (0, '{\n  "status": "Accepted"\n}\n')


def test_ctrl_c_stops_the_running_session_first(site, listener_url):
    with Running(site, listener_url, "--id", "cp", "--sessions", "3", "--session-seconds", "600") as sim:
        wait_until(lambda: connector_status(site, "cp") == "Charging")
        code, out, err = sim.interrupt()
    assert code == 0, err
    (record,) = site.stop_lines()
    assert (record["charger"], record["account"], record["reason"]) == ("cp", "home", "Other")
    assert "cp → StopTransaction transactionId=10012345 " in out
    assert "session 2 of 3" not in out and ", 0 errors, 1 session, " in out.splitlines()[-1]


def test_an_unknown_tag_or_a_wrong_password_is_an_error(site, listener_url):
    done = simulate(site, listener_url, "--id", "cp", "--tag", "0000", "--sessions", "1", "--session-seconds", "1")
    assert done.returncode == 1
    assert "cp ! tag 0000 was not accepted (Invalid): no session" in done.stderr
    assert site.ledger_lines() == [] and ", 1 error, 0 sessions, " in done.stdout
    printed = subprocess.run([str(BIN / "shocpp-passwd"), "cp"], env=site.env, capture_output=True, text=True,
                             check=True).stdout
    key = re.search(r"^  ([0-9a-f]{40})$", printed, re.M).group(1)
    ok = simulate(site, listener_url, "--id", "cp", "--password", key, "--sessions", "1", "--session-seconds", "1")
    assert ok.returncode == 0, ok.stderr
    wrong = simulate(site, listener_url, "--id", "cp", "--password", "f" * 40, "--sessions", "1")
    assert wrong.returncode == 1
    assert "closed the connection before answering BootNotification" in wrong.stderr


def test_no_listener_is_an_error_at_once(site):
    done = simulate(site, "ws://127.0.0.1:9", "--sessions", "1")
    assert done.returncode == 1 and "sim ! cannot connect to ws://127.0.0.1:9/sim" in done.stderr


def test_help_and_usage():
    shown = subprocess.run([str(BIN / "shocpp-simulate"), "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "examples:" in shown.stdout and "--chargers" in shown.stdout
    bad = subprocess.run([str(BIN / "shocpp-simulate"), "http://x", "--chargers", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--chargers must be at least 1" in bad.stderr


def test_the_demo_runs_to_the_end_and_leaves_accounting_alone(site):
    before = sorted((p.name, p.stat().st_size) for p in (ROOT / "accounting").glob("*"))
    done = subprocess.run([sys.executable, "-m", "shocpp_sim.demo"], cwd=ROOT, env=site.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    ledger = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('    {"event": "stop"')]
    starts = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('    {"event": "start"')]
    assert [(r["account"], r["id_tag"], r.get("ocpp")) for r in starts] == \
        [("home", "1111", None), ("home", "2222", None), ("company-x", "3333", "2.0.1")]
    assert [(r["account"], r["id_tag"], r["reason"]) for r in ledger] == [("home", "1111", "Local"),
                                                                          ("home", "2222", "Remote"),
                                                                          ("company-x", "3333", "Local")]
    assert ledger[2]["energy_wh"] == 8250 and ledger[2]["flags"] == []  # 11 kW, 3 s at --time-scale 900
    assert ledger[0]["consumed_wh"] == ledger[0]["energy_wh"] == 11000 and ledger[0]["flags"] == []
    assert "Done." in done.stdout
    assert sorted((p.name, p.stat().st_size) for p in (ROOT / "accounting").glob("*")) == before


def test_a_2_0_1_station_runs_a_session_and_is_started_and_stopped_remotely(site, listener_url):
    done = simulate(site, listener_url, "--ocpp", "2.0.1", "--id", "st", "--tag", "1111", "--sessions", "1",
                    "--session-seconds", "3", "--meter-interval", "1", "--power", "11000", "--time-scale", "600")
    assert done.returncode == 0, done.stderr
    (record,) = site.stop_lines()
    assert (record["ocpp"], record["account"], record["energy_wh"], record["meter_start_wh"], record["reason"]) == \
        ("2.0.1", "home", 5500, START_WH, "Local")
    events = [f[3]["eventType"] for f in frames(site, "st") if f[0] == 2 and f[2] == "TransactionEvent"]
    assert events == ["Started", "Updated", "Updated", "Ended"]
    with Running(site, listener_url, "--ocpp", "2.0.1", "--id", "st2", "--meter-interval", "1") as sim:
        wait_until(lambda: connector_status(site, "st2") == "Available")
        assert command(site, "RequestStartTransaction", "--account", "company-x")[:2] == \
            (0, '{\n  "status": "Accepted"\n}\n')
        wait_until(lambda: connector_status(site, "st2") == "Charging")
        assert command(site, "RemoteStopTransaction")[0] == 0  # the running session, under 1.6's name
        remote = wait_until(lambda: [r for r in site.stop_lines() if r["charger"] == "st2"])
        code, out, err = sim.interrupt()
    assert code == 0, err
    assert (remote[0]["account"], remote[0]["id_tag"], remote[0]["reason"], remote[0]["flags"]) == \
        ("company-x", "3333", "Remote", [])
