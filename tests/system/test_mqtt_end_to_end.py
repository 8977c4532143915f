"""shocpp-mqtt end to end: a real mosquitto on loopback, the real listener with simulated chargers, the
bridge as a process, and a paho client watching every topic as Home Assistant would."""

import contextlib
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
from test_simulate_end_to_end import Running, frames, simulate, wait_until

START_WH = 12_345_678
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
SECRET = "a broker password 7Qx"
TARIFFS = [{"from": "2026-01-01", "price_per_kwh": "1.2500", "currency": "EUR"}]


class Broker:
    """mosquitto on a free loopback port, with a config of its own; killed and started again on the same port."""

    def __init__(self, root, users=None):
        self.root, self.port, self.proc = root, free_port(), None
        lines = [f"listener {self.port} 127.0.0.1"]
        if users:
            passwords = root / "mosquitto.passwd"
            passwords.write_text("")
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
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
def broker(root, users=None):
    assert os.path.exists(MOSQUITTO), "mosquitto is missing: 'make test' installs it"
    found = Broker(root, users)
    found.start()
    try:
        yield found
    finally:
        if found.proc.poll() is None:
            found.kill()


class Watcher:
    """A paho client subscribed to everything: every message in order, and what the broker retains."""

    def __init__(self, port, auth=None):
        self.messages, self.lock = [], threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watcher-{os.getpid()}-{port}")
        if auth:
            self.client.username_pw_set(*auth)
        self.client.on_connect = lambda c, u, f, rc, p=None: c.subscribe("#", qos=1)
        self.client.on_message = self.heard
        self.client.reconnect_delay_set(1, 1)
        self.client.connect_async("127.0.0.1", port, 30)
        self.client.loop_start()

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
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@contextlib.contextmanager
def watching(port, auth=None):
    watcher = Watcher(port, auth)
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
