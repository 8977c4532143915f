"""shocpp-mqtt end to end: a real mosquitto on loopback, the real listener with simulated chargers, the
bridge as a process, and a paho client watching every topic as Home Assistant would."""

import contextlib
import getpass
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import BIN, free_port, wait_for_port
from shocpp_sim import meter
from test_security import certificate  # noqa: F401 (a fixture)
from test_simulate_end_to_end import Running, connector_status, frames, simulate, wait_until

START_WH = 12_345_678
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
SECRET = "a broker password 7Qx"
TARIFFS = [{"from": "2026-01-01", "price_per_kwh": "1.2500", "currency": "EUR"}]


class Broker:
    """mosquitto on a free loopback port, with a config of its own; killed and started again on the same port."""

    def __init__(self, root, users=None, tls=None, persistent=False):
        self.root, self.port, self.proc = root, free_port(), None
        # run as root, mosquitto would become the user mosquitto, who cannot read the test's directory
        lines = [f"listener {self.port} 127.0.0.1", f"user {getpass.getuser()}"]
        if users:
            passwords = root / "mosquitto.passwd"
            passwords.write_text("")
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            lines += [f"certfile {tls[0]}", f"keyfile {tls[1]}"]
        if persistent:  # the sessions of clients that come back (and the retained messages), saved every second
            lines += ["persistence true", f"persistence_location {root}/", "autosave_interval 1"]
        self.config = root / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def start(self):
        self.out = open(self.root / "mosquitto.out", "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=self.out, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.proc)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.out.close()


@contextlib.contextmanager
def broker(root, users=None, tls=None, persistent=False):
    assert os.path.exists(MOSQUITTO), "mosquitto is missing: 'make test' installs it"
    found = Broker(root, users, tls, persistent)
    found.start()
    try:
        yield found
    finally:
        if found.proc.poll() is None:
            found.kill()


# Each watcher its own client id: two with one id (a late subscriber beside the first) would take the
# broker's session from each other every second and miss messages in between.
WATCHER_NUMBERS = itertools.count()


class Watcher:
    """A paho client subscribed to everything: every message in order, and what the broker retains."""

    def __init__(self, port, auth=None, cafile=None, persistent=False):
        self.messages, self.lock = [], threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watcher-{os.getpid()}-{port}-{next(WATCHER_NUMBERS)}",
                                  clean_session=not persistent)
        if auth:
            self.client.username_pw_set(*auth)
        if cafile:
            self.client.tls_set(ca_certs=str(cafile))
        self.ready = threading.Event()
        self.client.on_connect = self.connected
        self.client.on_message = self.heard
        self.client.reconnect_delay_set(1, 1)
        self.client.connect_async("127.0.0.1", port, 30)
        self.client.loop_start()

    def connected(self, client, userdata, flags, reason_code, properties=None):
        client.subscribe("#", qos=1)
        self.ready.set()

    def heard(self, client, userdata, message):
        with self.lock:
            self.messages.append((message.topic, message.payload.decode(), message.retain))

    def on(self, topic):
        with self.lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def last(self, topic):
        found = self.on(topic)
        return json.loads(found[-1]) if found and found[-1] else None

    def events(self):
        return [json.loads(p) for p in self.on("shocpp/event")]

    def publish(self, topic, payload, retain=False):
        assert self.ready.wait(10), "the watcher did not connect"
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@contextlib.contextmanager
def watching(port, auth=None, cafile=None, persistent=False):
    watcher = Watcher(port, auth, cafile, persistent)
    try:
        yield watcher
    finally:
        watcher.close()


class Bridge:
    """bin/shocpp-mqtt as a process; its stderr in a file."""

    def __init__(self, site, port, extra=None, url=None):
        self.err_path = site.root / f"mqtt-{time.monotonic_ns()}.err"
        self.err = open(self.err_path, "wb")
        env = {**site.env, "SHOCPP_MQTT_URL": url or f"mqtt://127.0.0.1:{port}", **(extra or {})}
        self.proc = subprocess.Popen([str(BIN / "shocpp-mqtt")], env=env, stdout=subprocess.DEVNULL, stderr=self.err)

    def log(self):
        return self.err_path.read_text()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=40)
        self.err.close()
        return self.proc.returncode


@contextlib.contextmanager
def bridge(site, port, extra=None, url=None):
    found = Bridge(site, port, extra, url)
    try:
        yield found
    finally:
        found.stop()


def connector(watcher, charger="garage-left", number=1):
    return watcher.last(f"shocpp/{charger}/{number}/state") or {}


def event(watcher, kind, **fields):
    found = [e for e in watcher.events() if e["event"] == kind and all(e.get(k) == v for k, v in fields.items())]
    return found[0] if found else None


# -- a session, its figures and its events -------------------------------------------------------------

def test_a_session_appears_on_the_state_topics_and_as_events_with_exact_figures(site, listener_url):
    (site.root / "tariffs.json").write_text(json.dumps(TARIFFS))
    site.env["SHOCPP_TARIFFSFILE"] = str(site.root / "tariffs.json")
    with broker(site.root) as mosquitto, watching(mosquitto.port) as watcher, bridge(site, mosquitto.port) as b:
        wait_until(lambda: watcher.on("shocpp/bridge") == ["online"])
        with Running(site, listener_url, "--id", "garage-left", "--sessions", "1", "--session-seconds", "6",
                     "--meter-interval", "1", "--power", "3600", "--time-scale", "12", "--pause", "30") as sim:
            running = wait_until(lambda: connector(watcher).get("session_transaction_id") and connector(watcher))
            assert (running["status"], running["session_account"], running["session_id_tag"]) == \
                ("Charging", "home", "1111")
            assert running["session_transaction_id"] == 10012345
            stopped = wait_until(lambda: event(watcher, "session_stopped"))
            idle = wait_until(lambda: connector(watcher).get("status") == "Available" and connector(watcher))
            sim.interrupt()
        gone = wait_until(lambda: event(watcher, "charger_gone", charger="garage-left"))
        refused = simulate(site, listener_url, "--id", "carport", "--tag", "0000", "--sessions", "1")
        assert refused.returncode == 1
        tag = wait_until(lambda: event(watcher, "tag_refused"))
        account = wait_until(lambda: watcher.last("shocpp/account/home/state"))
        charger = watcher.last("shocpp/garage-left/state")
    (record,) = site.stop_lines()
    energy = meter.register_wh(START_WH, 6, 3600, 12) - START_WH
    assert energy == record["energy_wh"] == 72
    started = event(watcher, "session_started")
    assert started == {"event": "session_started", "charger": "garage-left", "connector_id": 1,
                       "transaction_id": 10012345, "account": "home", "id_tag": "1111",
                       "time": record["start_time"]}
    # 72 Wh at 1.25 EUR/kWh: 0.09 EUR, half-up to the cent, as the statement reckons it
    assert stopped == {"event": "session_stopped", "charger": "garage-left", "connector_id": 1,
                       "transaction_id": 10012345, "account": "home", "id_tag": "1111", "energy_wh": 72, "kwh": 0.072,
                       "cost": "0.09", "currency": "EUR", "reason": "Local", "time": record["stop_time"]}
    # the register as the last MeterValues had it (5 s in: 60 Wh), no power once the connector is Available
    assert meter.register_wh(START_WH, 5, 3600, 12) == START_WH + 60
    assert (idle["energy_wh"], idle["energy_kwh"], idle["power_w"]) == (START_WH + 60, 12345.738, 0)
    assert idle["session_transaction_id"] is None and idle["session_energy_kwh"] is None
    assert account == {"account": "home", "month": record["stop_time"][:7], "energy_wh": 72, "energy_kwh": 0.072,
                       "sessions": 1, "cost": "0.09", "currency": "EUR"}
    assert {k: charger[k] for k in ("vendor", "model", "firmware", "serial", "connectors")} == \
        {"vendor": "shocpp", "model": "shocpp-simulate", "firmware": "sim-1", "serial": "SIM-garage-left",
         "connectors": [1]}
    assert charger["connected"] is False and gone["time"] == charger["last_seen"]
    assert event(watcher, "charger_connected", charger="garage-left")["charger"] == "garage-left"
    assert (tag["charger"], tag["id_tag"], tag["status"]) == ("carport", "0000", "Invalid")
    assert [e["event"] for e in watcher.events()].count("session_stopped") == 1
    assert b.stop() == 0 and "Traceback" not in b.log()


def test_nothing_is_published_again_while_nothing_changes(site, listener_url):
    with broker(site.root) as mosquitto, watching(mosquitto.port) as watcher, bridge(site, mosquitto.port), \
            Running(site, listener_url, "--id", "garage-left", "--heartbeat", "1") as sim:
        wait_until(lambda: connector(watcher).get("status") == "Available")
        time.sleep(1.5)
        before = len(watcher.messages)
        time.sleep(3)  # heartbeats every second, nothing else
        after = list(watcher.messages[before:])
        sim.interrupt()
    assert after == []


# -- Home Assistant discovery ----------------------------------------------------------------------------

OBJECT_ID = re.compile(r"[a-zA-Z0-9_-]+")
TEMPLATE = re.compile(r"\{\{ value_json\.([a-z_]+(?:\.[a-z_]+)*) \}\}")
NEEDS = {"sensor": ("state_topic",), "binary_sensor": ("state_topic",), "number": ("command_topic", "state_topic"),
         "button": ("command_topic",), "select": ("command_topic", "state_topic", "options")}


def configs(watcher):
    """{topic: the latest config} of every non-empty retained discovery message."""
    found = {}
    with watcher.lock:
        for topic, payload, _ in watcher.messages:
            if topic.startswith("homeassistant/device/"):
                found[topic] = payload
    return {t: json.loads(p) for t, p in found.items() if p}


def passwd(site, charger):
    printed = subprocess.run([str(BIN / "shocpp-passwd"), charger], env=site.env, capture_output=True, text=True,
                             check=True).stdout
    return re.search(r"^  ([0-9a-f]{40})$", printed, re.M).group(1)


def test_discovery_configs_are_valid_unique_and_published_again_when_home_assistant_comes_online(site, listener_url):
    key = passwd(site, "wall.box")
    passwd(site, "carport")  # listed in chargers.json, never connected: a device all the same
    stale = "homeassistant/device/shocpp_old-charger/config"  # left by an earlier run for a charger now gone
    with broker(site.root) as mosquitto, watching(mosquitto.port) as watcher:
        watcher.publish(stale, json.dumps({"dev": {"identifiers": ["shocpp_old-charger"]}, "o": {"name": "shocpp"},
                                           "cmps": {}}), retain=True)
        with bridge(site, mosquitto.port), Running(site, listener_url, "--id", "wall.box", "--password", key) as sim:
            found, states = discovered(site, watcher, stale)
            sim.interrupt()
    check_discovery(found, states)


def discovered(site, watcher, stale):
    """The configs the bridge published and their state topics' payloads; after them: published again on
    Home Assistant's `online`, carport's cleared once it leaves chargers.json, the stale one cleared."""
    def ours():
        return {t: c for t, c in configs(watcher).items() if t != stale}
    found = wait_until(lambda: len(ours()) == 5 and all(len(c["cmps"]) > 10 for t, c in ours().items()
                                                         if "wall_box" in t) and ours())
    states = {}
    for config in found.values():
        for entity in config["cmps"].values():
            if "state_topic" in entity:
                states[entity["state_topic"]] = wait_until(lambda: watcher.last(entity["state_topic"]))
    count = {t: len(watcher.on(t)) for t in found}
    watcher.publish("homeassistant/status", "online")
    wait_until(lambda: all(len(watcher.on(t)) > count[t] for t in found))
    entries = json.loads(open(site.env["SHOCPP_CHARGERSFILE"]).read())
    with open(site.env["SHOCPP_CHARGERSFILE"], "w") as f:
        json.dump([e for e in entries if e["id"] != "carport"], f)
    wait_until(lambda: watcher.on("homeassistant/device/shocpp_carport/config")[-1:] == [""])
    wait_until(lambda: watcher.on(stale)[-1:] == [""])
    return found, states


def check_discovery(found, states):
    wall = [t for t in found if "wall_box" in t]
    assert len(wall) == 1 and re.fullmatch(r"homeassistant/device/shocpp_wall_box_[0-9a-f]{8}/config", wall[0])
    assert sorted(found) == sorted(wall + [f"homeassistant/device/shocpp_{name}/config" for name in (
        "carport", "account_home", "account_company-x", "account_last")])
    unique = [e["unique_id"] for c in found.values() for e in c["cmps"].values()]
    assert len(unique) == len(set(unique))
    for topic, config in found.items():
        node = topic.split("/")[2]
        assert OBJECT_ID.fullmatch(node), topic
        assert config["o"]["name"] == "shocpp" and config["dev"]["identifiers"] == [node]
        for object_id, entity in config["cmps"].items():
            assert OBJECT_ID.fullmatch(object_id) and entity["object_id"] == object_id == entity["unique_id"]
            for needed in NEEDS[entity["p"]]:
                assert entity[needed], (object_id, needed)
            if "value_template" in entity:
                path = TEMPLATE.fullmatch(entity["value_template"]).group(1)
                assert path in states[entity["state_topic"]], (object_id, path)
    (device,) = [found[t]["dev"] for t in wall]
    assert device == {"identifiers": [wall[0].split("/")[2]], "name": "wall.box", "manufacturer": "shocpp",
                      "model": "shocpp-simulate", "sw_version": "sim-1", "serial_number": "SIM-wall.box"}
    energy = found[wall[0]]["cmps"][f"{device['identifiers'][0]}_1_energy"]
    assert (energy["device_class"], energy["state_class"], energy["unit_of_measurement"]) == \
        ("energy", "total_increasing", "kWh")
    limit = found[wall[0]]["cmps"][f"{device['identifiers'][0]}_limit"]
    assert (limit["p"], limit["min"], limit["max"], limit["step"]) == ("number", 6, 32, 1)


# -- commands -------------------------------------------------------------------------------------------

def profiles(site, charger):
    return [f[3] for f in frames(site, charger, ">") if f[0] == 2 and f[2] == "SetChargingProfile"]


def test_a_limit_reaches_the_charger_as_a_profile_a_bad_one_is_refused_and_start_and_stop_work(site, listener_url):
    with broker(site.root) as mosquitto, watching(mosquitto.port) as watcher, \
            bridge(site, mosquitto.port, {"SHOCPP_MQTT_START_ACCOUNT": "company-x"}), \
            Running(site, listener_url, "--id", "garage-left", "--meter-interval", "1") as sim:
        wait_until(lambda: connector(watcher).get("status") == "Available")
        watcher.publish("shocpp/garage-left/set/limit", "10")
        answer = wait_until(lambda: watcher.last("shocpp/garage-left/result"))
        wait_until(lambda: (watcher.last("shocpp/garage-left/state") or {}).get("limit_a") == 10)
        for bad in ("45", "ten", "10.5"):
            watcher.publish("shocpp/garage-left/set/limit", bad)
        watcher.publish("shocpp/nobody/set/limit", "10")
        watcher.publish("shocpp/garage-left/set/mode", "pv")
        refusals = wait_until(lambda: len(watcher.on("shocpp/garage-left/result")) == 5
                              and [json.loads(p) for p in watcher.on("shocpp/garage-left/result")[1:]])
        nobody = wait_until(lambda: watcher.last("shocpp/nobody/result"))
        watcher.publish("shocpp/garage-left/set/start", "PRESS")
        running = wait_until(lambda: connector(watcher).get("session_transaction_id") and connector(watcher))
        watcher.publish("shocpp/garage-left/set/stop", "PRESS")
        (record,) = wait_until(site.stop_lines)
        results = wait_until(lambda: len(watcher.on("shocpp/garage-left/result")) == 7
                             and [json.loads(p) for p in watcher.on("shocpp/garage-left/result")])
        sim.interrupt()
    assert answer == {"command": "limit", "charger": "garage-left", "value": 10, "via": "ocpp",
                      "action": "SetChargingProfile", "status": "result", "accepted": True,
                      "answer": {"status": "Accepted"}}
    (profile,) = profiles(site, "garage-left")
    assert profile["connectorId"] == 0
    assert profile["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0,
                                                                                            "limit": 10}]
    assert [(r["command"], r["accepted"], r["reason"]) for r in refusals] == [
        ("limit", False, "the limit 45 A is outside 6..32 A"),
        ("limit", False, "the limit 'ten' is not a number of amperes (or 'none' to lift it)"),
        ("limit", False, "the limit '10.5' is not a whole number of amperes"),
        ("mode", False, "the balancer is not running: there is no mode to set")]
    assert nobody == {"command": "limit", "charger": "nobody", "accepted": False,
                      "reason": "no charger 'nobody' (chargers: garage-left)"}
    assert running["session_account"] == "company-x" and running["session_transaction_id"] == 20012345
    assert (record["account"], record["id_tag"], record["reason"]) == ("company-x", "3333", "Remote")
    assert [(r["command"], r.get("action"), r["accepted"]) for r in results[5:]] == [
        ("start", "RemoteStartTransaction", True), ("stop", "RemoteStopTransaction", True)]


def test_a_retained_command_is_refused_and_clearing_it_does_nothing(site, listener_url):
    with broker(site.root) as mosquitto, watching(mosquitto.port) as watcher, \
            Running(site, listener_url, "--id", "garage-left") as sim:
        watcher.publish("shocpp/garage-left/set/limit", "12", retain=True)  # left on the broker by a mistake
        wait_until(lambda: connector_status(site, "garage-left") == "Available")
        with bridge(site, mosquitto.port) as b:
            refused = wait_until(lambda: watcher.last("shocpp/garage-left/result"))
            watcher.publish("shocpp/garage-left/set/limit", "", retain=True)  # cleared: an empty message
            wait_until(lambda: watcher.on("shocpp/garage-left/set/limit")[-1:] == [""])
            time.sleep(1)
        sim.interrupt()
    assert refused["accepted"] is False and refused["reason"].startswith("a retained command is not carried out")
    assert len(watcher.on("shocpp/garage-left/result")) == 1 and profiles(site, "garage-left") == []
    assert "Traceback" not in b.log()


# -- the broker and the bridge going away ---------------------------------------------------------------

def test_the_broker_killed_and_restarted_mid_session_loses_no_state_and_no_billing(site, listener_url):
    with broker(site.root) as mosquitto, watching(mosquitto.port) as watcher, bridge(site, mosquitto.port) as b, \
            Running(site, listener_url, "--id", "garage-left", "--sessions", "1", "--session-seconds", "600",
                    "--meter-interval", "1") as sim:
        wait_until(lambda: connector(watcher).get("session_transaction_id"))
        mosquitto.kill()
        time.sleep(2)  # the session goes on: two more meter readings without a broker
        mosquitto.start()
        wait_until(lambda: "connected to" in b.log().split("lost the broker")[-1], 30)
        with watching(mosquitto.port) as late:  # a client that comes after: the retained messages are back
            state = wait_until(lambda: connector(late).get("session_transaction_id") and connector(late))
            assert late.last("shocpp/garage-left/state")["connected"] is True
            assert late.on("shocpp/bridge") == ["online"]
            late.publish("shocpp/garage-left/set/stop", "PRESS")
            stopped = wait_until(lambda: event(late, "session_stopped"))
            account = wait_until(lambda: (late.last("shocpp/account/home/state") or {}).get("sessions") and
                                 late.last("shocpp/account/home/state"))
        sim.interrupt()
    (record,) = site.stop_lines()
    assert state["session_account"] == "home" and state["status"] == "Charging"
    assert (stopped["transaction_id"], stopped["energy_wh"]) == (record["transaction_id"], record["energy_wh"])
    assert record["energy_wh"] == record["meter_stop_wh"] - START_WH > 0 and record["reason"] == "Remote"
    assert (account["energy_wh"], account["sessions"]) == (record["energy_wh"], 1)
    assert "lost the broker" in b.log() and "Traceback" not in b.log()


def test_events_while_the_broker_is_away_are_sent_when_it_is_back(site, listener_url):
    with broker(site.root, persistent=True) as mosquitto, watching(mosquitto.port, persistent=True) as watcher, \
            bridge(site, mosquitto.port), Running(site, listener_url, "--id", "garage-left", "--sessions", "1",
                                                  "--session-seconds", "600", "--meter-interval", "1") as sim:
        wait_until(lambda: connector(watcher).get("session_transaction_id"))
        time.sleep(1.5)  # the watcher's session saved by the broker
        mosquitto.kill()
        stop = subprocess.run([str(BIN / "shocpp-command"), "--charger", "garage-left", "RemoteStopTransaction"],
                              env=site.env, capture_output=True, text=True, timeout=30)
        (record,) = wait_until(site.stop_lines)
        time.sleep(1.5)  # the bridge has seen the stop in the ledger, with no broker to tell
        mosquitto.start()
        stopped = wait_until(lambda: event(watcher, "session_stopped"), 30)
        sim.interrupt()
    assert stop.returncode == 0, stop.stderr
    assert stopped == {"event": "session_stopped", "charger": "garage-left", "connector_id": 1,
                       "transaction_id": record["transaction_id"], "account": "home", "id_tag": "1111",
                       "energy_wh": record["energy_wh"], "kwh": record["energy_wh"] / 1000, "cost": None,
                       "currency": None, "reason": "Remote", "time": record["stop_time"]}
    assert record["energy_wh"] == record["meter_stop_wh"] - START_WH > 0


def test_the_bridge_killed_the_site_charges_and_bills_on_and_its_last_will_says_offline(site, listener_url):
    with broker(site.root) as mosquitto, watching(mosquitto.port) as watcher:
        with Running(site, listener_url, "--id", "garage-left", "--sessions", "1", "--session-seconds", "4",
                     "--meter-interval", "1", "--pause", "30") as sim:
            with bridge(site, mosquitto.port) as b:
                wait_until(lambda: connector(watcher).get("session_transaction_id"))
                b.proc.kill()
                b.proc.wait(timeout=10)
                wait_until(lambda: watcher.on("shocpp/bridge")[-1:] == ["offline"])
            (record,) = wait_until(site.stop_lines)
            sim.interrupt()
    assert record["energy_wh"] == meter.register_wh(START_WH, 4, 11000) - START_WH
    assert (record["account"], record["reason"]) == ("home", "Local")


def test_credentials_refused_give_one_clear_line_and_the_password_is_never_shown(site, listener_url):
    password_file = site.root / "mqtt-password"
    password_file.write_text(SECRET + "\n")
    with broker(site.root, {"shocpp": SECRET}) as mosquitto:
        with bridge(site, mosquitto.port, url=f"mqtt://shocpp:wrong-{SECRET[:5]}@127.0.0.1:{mosquitto.port}") as wrong:
            wait_until(lambda: "refused" in wrong.log())
            time.sleep(4)  # several attempts with the backoff
            refused = wrong.log()
        attempts = (site.root / "mosquitto.out").read_text().count("disconnected, not authorised")
        with bridge(site, mosquitto.port, {"SHOCPP_MQTT_PASSWORD_FILE": str(password_file)},
                    url=f"mqtt://shocpp@127.0.0.1:{mosquitto.port}") as right, \
                watching(mosquitto.port, ("shocpp", SECRET)) as watcher:
            wait_until(lambda: watcher.on("shocpp/bridge") == ["online"])
            command_line = open(f"/proc/{right.proc.pid}/cmdline", "rb").read()
        with bridge(site, mosquitto.port, url=f"mqtt://shocpp:{SECRET.replace(' ', '%20')}@127.0.0.1:"
                                               f"{mosquitto.port}") as in_url:
            wait_until(lambda: "connected to" in in_url.log())
    lines = [line for line in refused.splitlines() if "refused" in line]
    assert len(lines) == 1 and "Traceback" not in refused and attempts >= 2
    assert lines[0].endswith(f"shocpp-mqtt: the broker mqtt://shocpp@127.0.0.1:{mosquitto.port} refused the "
                             "connection: Not authorized (check the user and the password: SHOCPP_MQTT_URL, "
                             "SHOCPP_MQTT_PASSWORD_FILE); trying again")
    for text in (refused, right.log(), in_url.log()):
        assert SECRET not in text and SECRET[:5] not in text
    assert SECRET.encode() not in command_line


def test_while_the_balancer_runs_limit_and_mode_go_through_its_control_interface(site, listener_url):
    from shocpp import balance_control
    from test_balance_end_to_end import profiles_sent, running

    site_file = site.root / "site.json"
    site_file.write_text(json.dumps({"grid_limit_a": 32, "interval_s": 2,  # rounds of a busy machine: >3 s
                                     "default": {"min_a": 6, "max_a": 16, "phases": 3, "mode": "fast"},
                                     "chargers": {"garage-left": {}}}))
    env = {**site.env, "SHOCPP_SITEFILE": str(site_file)}
    site.env.update(env)
    simulate = [listener_url, "--id", "garage-left", "--sessions", "1", "--session-seconds", "120",
                "--meter-interval", "1", "--duration", "120", "--quiet", "--timeout", "10"]
    with broker(site.root) as mosquitto, watching(mosquitto.port) as watcher, bridge(site, mosquitto.port), \
            running(site, env, simulate):
        wait_until(lambda: (watcher.last("shocpp/site/state") or {}).get("balancer"), 30)
        wait_until(lambda: [c for c in profiles_sent(site) if c[1] == 16], 30)
        watcher.publish("shocpp/garage-left/set/limit", "8")
        watcher.publish("shocpp/garage-left/set/limit", "20")  # outside site.json's 6..16
        wait_until(lambda: profiles_sent(site)[-1][1] == 8, 30)  # the balancer's next round
        watcher.publish("shocpp/garage-left/set/mode", "off")
        wait_until(lambda: profiles_sent(site)[-1][1] == 0, 30)  # off: paused with 0 A
        state = wait_until(lambda: (watcher.last("shocpp/garage-left/state") or {}).get("mode") == "off"
                           and watcher.last("shocpp/garage-left/state"), 30)
        results = wait_until(lambda: len(watcher.on("shocpp/garage-left/result")) == 3
                             and [json.loads(p) for p in watcher.on("shocpp/garage-left/result")])
        config = configs(watcher)["homeassistant/device/shocpp_garage-left/config"]
        controls = balance_control.controls(site.run_dir)
    assert controls == {"garage-left": {"mode": "off", "max_a": 8}}
    assert state["limit_a"] == 8  # the balancer's status: its maximum for the charger
    assert sorted((r["command"], r["accepted"], r.get("via"), r.get("reason") or "") for r in results) == [
        ("limit", False, None, "the limit 20 A is outside 6..16 A"), ("limit", True, "balancer", ""),
        ("mode", True, "balancer", "")]
    # every profile came from the balancer (its ids), none from the bridge around it
    sent = [f[3]["csChargingProfiles"]["chargingProfileId"] for f in frames(site, "garage-left", ">")
            if f[0] == 2 and f[2] == "SetChargingProfile"]
    assert sent and 1 not in sent
    assert config["cmps"]["shocpp_garage-left_mode"]["options"] == ["off", "fast", "minpv", "pv"]
    assert config["cmps"]["shocpp_garage-left_limit"]["max"] == 16


def test_mqtts_with_the_brokers_ca_and_a_clear_line_without_it(site, certificate):
    cert, key = certificate
    with broker(site.root, tls=(cert, key)) as mosquitto, watching(mosquitto.port, cafile=cert) as watcher:
        url = f"mqtts://127.0.0.1:{mosquitto.port}"
        with bridge(site, mosquitto.port, {"SHOCPP_MQTT_CAFILE": str(cert)}, url=url) as trusted:
            wait_until(lambda: watcher.on("shocpp/bridge") == ["online"])
        with bridge(site, mosquitto.port, url=url) as untrusted:
            wait_until(lambda: "cannot reach" in untrusted.log())
            time.sleep(2)
    assert f"connected to mqtts://127.0.0.1:{mosquitto.port}" in trusted.log()
    assert [line.split(" ", 1)[1] for line in untrusted.log().splitlines() if "cannot" in line] == [
        f"shocpp-mqtt: cannot reach the broker mqtts://127.0.0.1:{mosquitto.port} (or its certificate is not "
        "trusted: SHOCPP_MQTT_CAFILE); trying again"]
    assert "Traceback" not in untrusted.log() + trusted.log()
