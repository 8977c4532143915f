"""shocpp-mqtt with a simulated OCPP 2.0.1 station (a real mosquitto, the real listener): the bridge's
limit, start and stop reach the station as their 2.0.1 counterparts, and the session is billed."""

import json

from test_mqtt_end_to_end import bridge, broker, connector, profiles, watching
from test_simulate_end_to_end import Running, wait_until


def test_limit_start_and_stop_of_a_2_0_1_station(site, listener_url):
    with broker(site.root) as mosquitto, watching(mosquitto.port) as watcher, \
            bridge(site, mosquitto.port, {"SHOCPP_MQTT_START_ACCOUNT": "company-x"}), \
            Running(site, listener_url, "--ocpp", "2.0.1", "--id", "garage-left", "--meter-interval", "1") as sim:
        wait_until(lambda: connector(watcher).get("status") == "Available")
        watcher.publish("shocpp/garage-left/set/limit", "10")
        limited = wait_until(lambda: watcher.last("shocpp/garage-left/result"))
        watcher.publish("shocpp/garage-left/set/start", "PRESS")
        running = wait_until(lambda: connector(watcher).get("session_transaction_id") and connector(watcher))
        watcher.publish("shocpp/garage-left/set/stop", "PRESS")
        (record,) = wait_until(site.stop_lines)
        results = wait_until(lambda: len(watcher.on("shocpp/garage-left/result")) == 3
                             and [json.loads(p) for p in watcher.on("shocpp/garage-left/result")])
        sim.interrupt()
    assert (limited["accepted"], limited["answer"]) == (True, {"status": "Accepted"})
    (profile,) = profiles(site, "garage-left")
    assert profile["evseId"] == 0
    assert profile["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"] == [{"startPeriod": 0,
                                                                                            "limit": 10}]
    assert running["session_account"] == "company-x" and running["session_transaction_id"].startswith("garage-left-")
    assert (record["ocpp"], record["account"], record["reason"]) == ("2.0.1", "company-x", "Remote")
    assert [(r["command"], r.get("action"), r["accepted"]) for r in results] == [
        ("limit", "SetChargingProfile", True), ("start", "RemoteStartTransaction", True),
        ("stop", "RemoteStopTransaction", True)]
