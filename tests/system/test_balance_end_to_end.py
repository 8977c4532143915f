"""shocpp-balance end to end: three simulated chargers behind the real listener on a 32 A site."""

import contextlib
import json
import re
import signal
import subprocess
import threading
import time

from conftest import BIN

LOG_LINE = re.compile(r"^\S+ (\S+)\[\d+\] ([<>]) (.*)$")
CHARGERS = ("sim-1", "sim-2", "sim-3")


def profiles_sent(site):
    """[(charger, limit, numberPhases)] of the SetChargingProfile calls in the log, in order."""
    found = []
    text = site.log_file.read_text() if site.log_file.exists() else ""
    for line in text.splitlines():
        match = LOG_LINE.match(line)
        if not match or match.group(2) != ">":
            continue
        frame = json.loads(match.group(3))
        if frame[0] == 2 and frame[2] == "SetChargingProfile":
            period = frame[3]["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]
            found.append((match.group(1), period["limit"], period["numberPhases"]))
    return found


def meter(site, charger):
    for path in site.run_dir.glob(f"{charger}@*/meter-1.json"):
        try:
            samples = json.loads(path.read_text())["meterValue"][0]["sampledValue"]
        except (OSError, ValueError, KeyError):
            return None
        power = next(float(s["value"]) for s in samples if s.get("measurand") == "Power.Active.Import")
        currents = {s["phase"]: float(s["value"]) for s in samples if s.get("measurand") == "Current.Import"}
        return power, currents
    return None


def wait_until(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@contextlib.contextmanager
def running(site, env, simulate, grid_file=None, grid_power=None, every=0.2, balance=True):
    """bin/shocpp-simulate with `simulate` (its arguments after the URL) and, with `balance`,
    bin/shocpp-balance, and a thread that writes grid_power() into grid_file every `every` s, as a
    real meter would read; yields the balancer (its returncode set once it is stopped). Everything
    is stopped at the end: the meter, the balancer (SIGTERM), the simulator (SIGINT, as Ctrl-C)."""
    simulator = subprocess.Popen([str(BIN / "shocpp-simulate"), *simulate], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    balancer, log = None, None
    if balance:
        log = open(site.root / "balance.err", "w")
        balancer = subprocess.Popen([str(BIN / "shocpp-balance")], env=env, stdout=subprocess.DEVNULL, stderr=log)
    stop = threading.Event()

    def meter_writer():
        while not stop.is_set():
            (site.root / "grid-power.new").write_text(str(grid_power()))
            (site.root / "grid-power.new").replace(grid_file)
            stop.wait(every)
    writer = threading.Thread(target=meter_writer, daemon=True) if grid_power else None
    if writer:
        writer.start()
    try:
        yield balancer
    finally:
        stop.set()
        if writer:
            writer.join(5)
        if balancer:
            balancer.send_signal(signal.SIGTERM)
            balancer.wait(timeout=20)
            log.close()
        simulator.send_signal(signal.SIGINT)
        try:
            simulator.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            simulator.kill()
            simulator.communicate()


def latest_limits(site):
    latest = {}
    for charger, limit, _ in profiles_sent(site):
        latest[charger] = limit
    return latest


def test_three_chargers_share_32_a_and_follow_the_grid_meter(site, listener_url):
    grid_file = site.root / "grid-power"
    site_file = site.root / "site.json"
    site_file.write_text(json.dumps({
        "grid_limit_a": 32, "interval_s": 1, "default": {"min_a": 6, "max_a": 16, "phases": 3, "mode": "fast"},
        "chargers": {c: {} for c in CHARGERS},
        "grid_meter": {"file": str(grid_file)}, "enable_delay_s": 1, "disable_delay_s": 2,
        "phase_switch_pause_s": 2}))
    building = {"w": 0}
    grid_file.write_text("0")
    env = {**site.env, "SHOCPP_SITEFILE": str(site_file)}
    simulate = [listener_url, "--id", "sim", "--chargers", "3", "--sessions", "1", "--session-seconds", "120",
                "--meter-interval", "0.5", "--power", "22000", "--duration", "120", "--quiet", "--timeout", "10"]

    def power():  # what a real meter at the connection reads: the chargers and the rest of the building
        return sum((meter(site, c) or (0, {}))[0] for c in CHARGERS) + building["w"]

    with running(site, env, simulate, grid_file, power, 0.2) as balancer:
        # equal shares: 32 A / 3 = 10 A each (whole amperes), and the simulated chargers follow
        wait_until(lambda: latest_limits(site) == {c: 10 for c in CHARGERS})
        for c in CHARGERS:
            wait_until(lambda: meter(site, c) == (6900.0, {"L1": 10.0, "L2": 10.0, "L3": 10.0}))
        # the rest of the building takes 12 A per phase: 20 A left, 6 A each
        building["w"] = 12 * 230 * 3
        wait_until(lambda: latest_limits(site) == {c: 6 for c in CHARGERS})
        for c in CHARGERS:
            wait_until(lambda: meter(site, c) == (4140.0, {"L1": 6.0, "L2": 6.0, "L3": 6.0}))
        # and gone again
        building["w"] = 0
        wait_until(lambda: latest_limits(site) == {c: 10 for c in CHARGERS})
    assert balancer.returncode == 0, (site.root / "balance.err").read_text()
    # never more than 32 A on a phase, at any point of the log (lowerings go out before raises)
    latest = {}
    for charger, limit, phases in profiles_sent(site):
        assert phases == 3
        latest[charger] = limit
        assert sum(latest.values()) <= 32, latest
    log = (site.root / "balance.err").read_text()
    assert "sim-1 connector 1: 10 A on 3 phase(s): fast; equal share" in log


def test_once_dry_run_prints_the_decisions_and_sends_nothing(site, listener_url):
    site_file = site.root / "site.json"
    site_file.write_text('{"grid_limit_a": 32, "chargers": {"sim-1": {}, "sim-2": {}}}')
    env = {**site.env, "SHOCPP_SITEFILE": str(site_file)}
    simulate = [listener_url, "--id", "sim", "--chargers", "2", "--sessions", "1", "--session-seconds", "60",
                "--meter-interval", "0", "--duration", "60", "--quiet"]
    with running(site, env, simulate, balance=False):
        def charging():
            statuses = [json.loads(p.read_text()).get("status") for p in site.run_dir.glob("sim-*@*/status-1.json")]
            return statuses == ["Charging", "Charging"]
        wait_until(charging)
        done = subprocess.run([str(BIN / "shocpp-balance"), "--once", "--dry-run"], env=env, capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        decisions = sorted(json.loads(done.stdout), key=lambda d: d["charger"])
        assert [(d["charger"], d["connector_id"], d["limit_a"], d["phases"]) for d in decisions] == [
            ("sim-1", 1, 16, 3), ("sim-2", 1, 16, 3)]
        assert all("capped at 16 A" in d["reason"] for d in decisions)
        assert profiles_sent(site) == []
        missing = subprocess.run([str(BIN / "shocpp-balance"), "--once"], capture_output=True, text=True,
                                 env={**env, "SHOCPP_SITEFILE": str(site.root / "nonesuch.json")}, timeout=30)
        assert missing.returncode == 2 and "nonesuch.json: cannot read" in missing.stderr


def test_solar_charging_starts_after_the_enable_delay_and_stops_after_the_disable_delay(site, listener_url):
    """One simulated one-phase charger in pv mode, a grid meter that reads what the house exports
    plus what the charger draws: 2000 W of export starts it (after enable_delay_s) at 8 A
    (2000 W / 230 V), and it follows; a 500 W deficit takes it to its minimum at once and stops it
    (0 A) after disable_delay_s."""
    grid_file = site.root / "grid-power"
    site_file = site.root / "site.json"
    site_file.write_text(json.dumps({
        "grid_limit_a": 32, "interval_s": 1, "enable_delay_s": 3, "disable_delay_s": 3,
        "chargers": {"pv": {"mode": "pv", "phases": 1, "min_a": 6, "max_a": 16}},
        "grid_meter": {"file": str(grid_file)}}))
    house = {"w": 500}      # without the charger: importing 500 W
    grid_file.write_text("500")
    env = {**site.env, "SHOCPP_SITEFILE": str(site_file)}
    simulate = [listener_url, "--id", "pv", "--phases", "1", "--sessions", "1", "--session-seconds", "120",
                "--meter-interval", "0.3", "--power", "7360", "--duration", "120", "--quiet", "--timeout", "10"]

    def power():
        return house["w"] + (meter(site, "pv") or (0, {}))[0]

    seen = []   # (seconds since the test began, limit) as the profiles appear in the log

    def limit_is(amperes):
        def check():
            sent = profiles_sent(site)
            if sent and (not seen or seen[-1][1] != sent[-1][1] or len(sent) > len(seen)):
                seen.extend((time.monotonic(), limit) for _, limit, _ in sent[len(seen):])
            return bool(sent) and sent[-1][1] == amperes
        return check

    with running(site, env, simulate, grid_file, power, 0.1) as balancer:
        wait_until(limit_is(0))                       # a session, no surplus: 0 A from the first round
        wait_until(lambda: meter(site, "pv") == (0.0, {"L1": 0.0}))
        time.sleep(2)
        assert [limit for _, limit, _ in profiles_sent(site)] == [0]
        exporting = time.monotonic()
        house["w"] = -2000
        wait_until(limit_is(8))
        started = seen[-1][0]
        wait_until(lambda: meter(site, "pv") == (1840.0, {"L1": 8.0}))
        time.sleep(2)                                  # it stays at 8 A: the export is still 2000 W
        assert [limit for _, limit, _ in profiles_sent(site)] == [0, 8]
        short = time.monotonic()
        house["w"] = 500
        wait_until(limit_is(0))
        stopped = seen[-1][0]
        wait_until(lambda: meter(site, "pv") == (0.0, {"L1": 0.0}))
    assert balancer.returncode == 0, (site.root / "balance.err").read_text()
    # during the deficit it keeps its minimum (6 A) until the disable delay has passed
    assert profiles_sent(site) == [("pv", 0, 1), ("pv", 8, 1), ("pv", 6, 1), ("pv", 0, 1)]
    assert seen[-2][1] == 6 and seen[-2][0] - short < 3
    assert 3 <= started - exporting < 8, started - exporting
    assert 3 <= stopped - short < 8, stopped - short
    log = (site.root / "balance.err").read_text()
    assert "pv connector 1: 8 A on 1 phase(s): pv: surplus 2000 W on 1 phase(s)" in log
    assert "pv connector 1: 0 A on 1 phase(s): pv: stopped, surplus -500 W under 1380 W for 3 s" in log


def test_the_simulator_as_a_charger_that_rejects_tx_default_profile_and_takes_w_only(site, listener_url):
    """shocpp-simulate --reject-tx-default-profile --rate-unit W: the balancer learns W from its
    configuration, and gives it a TxProfile for its transaction when the TxDefaultProfile is rejected."""
    site_file = site.root / "site.json"
    site_file.write_text('{"grid_limit_a": 32, "chargers": {"sim": {"max_a": 10}}}')
    env = {**site.env, "SHOCPP_SITEFILE": str(site_file)}
    simulate = [listener_url, "--id", "sim", "--sessions", "1", "--session-seconds", "60", "--meter-interval", "0.3",
                "--duration", "60", "--quiet", "--reject-tx-default-profile", "--rate-unit", "W"]
    with running(site, env, simulate, balance=False):
        wait_until(lambda: meter(site, "sim") is not None and meter(site, "sim")[0] > 0)
        done = subprocess.run([str(BIN / "shocpp-balance"), "--once"], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        wait_until(lambda: meter(site, "sim") == (6900.0, {"L1": 10.0, "L2": 10.0, "L3": 10.0}))
    frames = []
    for line in site.log_file.read_text().splitlines():
        match = LOG_LINE.match(line)
        if match and match.group(2) == ">":
            frame = json.loads(match.group(3))
            if frame[0] == 2 and frame[2] == "SetChargingProfile":
                profile = frame[3]["csChargingProfiles"]
                frames.append((profile["chargingProfilePurpose"], profile["chargingSchedule"]["chargingRateUnit"],
                               profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"],
                               "transactionId" in profile))
    assert frames == [("TxDefaultProfile", "W", 6900, False), ("TxProfile", "W", 6900, True)]
