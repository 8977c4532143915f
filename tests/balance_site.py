"""A site for the balancer's shell tests: connected chargers as backend directories in a run
directory, and command.send replaced by a fake that answers as a charger would."""

import json
import os
import threading
import time
from pathlib import Path

from shocpp import runfiles
from shocpp.config import from_env
from shocpp.protocol import site as site_module
from shocpp.tools import balance as tool


NOW = 1_800_000_000.0


class Chargers:
    """Backend directories with their FIFOs held open (so they count as live)."""

    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.readers = {}

    def connect(self, identity, pid, status="Charging", power_w=None, connector_id=1):
        conn = runfiles.Connection(self.run_dir, identity, pid)
        conn.create({"charger": identity, "pid": pid, "connected_at": "2026-11-21T09:00:00.000Z"})
        self.readers[(identity, pid)] = (conn, os.open(conn.fifo, os.O_RDONLY | os.O_NONBLOCK))
        self.status(identity, pid, status, power_w, connector_id)
        return conn

    def status(self, identity, pid, status, power_w=None, connector_id=1):
        conn = self.readers[(identity, pid)][0]
        conn.save(f"status-{connector_id}.json", {"connectorId": connector_id, "errorCode": "NoError",
                                                  "status": status})
        if power_w is not None:
            conn.save(f"meter-{connector_id}.json", {"connectorId": connector_id, "meterValue": [{
                "timestamp": "2026-11-21T09:00:00Z",
                "sampledValue": [{"value": str(power_w), "measurand": "Power.Active.Import", "unit": "W"}]}]})

    def disconnect(self, identity, pid):
        conn, reader = self.readers.pop((identity, pid))
        os.close(reader)
        conn.remove()

    def close(self):
        for identity, pid in list(self.readers):
            self.disconnect(identity, pid)


class FakeSend:
    """command.send as a charger answers: {identity: answer function (action, payload) -> answer}."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []            # (identity, action, limit or None, seconds since the fake was made)
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def __call__(self, run_dir, conn, action, payload, timeout):
        answer = self.answers.get(conn.identity, accept)(action, payload, timeout)
        limit = None
        if action == "SetChargingProfile":
            limit = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        with self.lock:
            self.calls.append((conn.identity, action, limit, time.monotonic() - self.started))
        return answer

    def profiles(self):
        return sorted((c, limit) for c, action, limit, _ in self.calls if action == "SetChargingProfile")


def accept(action, payload, timeout):
    if action == "GetConfiguration":
        return {"status": "result", "payload": {"configurationKey": [
            {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "3"}]}}
    return {"status": "result", "payload": {"status": "Accepted"}}


def reject(action, payload, timeout):
    if action == "SetChargingProfile":
        return {"status": "result", "payload": {"status": "Rejected"}}
    return accept(action, payload, timeout)


def callerror(action, payload, timeout):
    if action == "SetChargingProfile":
        return {"status": "error", "code": "NotSupported", "description": "no smart charging"}
    return accept(action, payload, timeout)


def silent(action, payload, timeout):
    time.sleep(timeout)
    return {"status": "timeout"}


def settings_of(site, site_json):
    path = site.root / "site.json"
    path.write_text(json.dumps(site_json))
    return from_env({**site.env, "SHOCPP_SITEFILE": str(path)}), site_module.parse(json.dumps(site_json))


def one_round(settings, site_json_parsed, now, state=None, timeout=1.0):
    decisions, state = tool.round_(settings, site_json_parsed, state if state is not None else {}, now,
                                   timeout=timeout)
    return {(d.charger, d.connector_id): d for d in decisions}, state
