"""The MQTT bridge's pure part: topics and payloads for a snapshot, the diff, events, commands."""

import json
import re
from decimal import Decimal

from hypothesis import given, strategies as st

from shocpp.protocol import mqtt
from shocpp.protocol.mqtt import Command, Names, Refused, Snapshot

NAMES = Names("shocpp", "homeassistant")
SESSION = {"transaction_id": 10012345, "account": "home", "id_tag": "1111", "start_time": "2026-11-01T10:00:00Z",
           "duration_s": 4000, "energy_wh": 4322, "power_w": 11000}


def charger(identity="garage-left", connected=True, session=None, status="Charging", **extra):
    connectors = [{"connector_id": 0, "status": "Available", "status_time": "2026-11-01T09:00:00Z"},
                  {"connector_id": 1, "status": status, "error_code": "NoError", "status_time": "2026-11-01T10:00:01Z",
                   "meter_time": "2026-11-01T11:00:00Z", "power_w": 11000, "energy_wh": 12350000,
                   "current_a": {"L1": 16}, "session": session}]
    return {"identity": identity, "connected": connected, "last_seen": "2026-11-01T11:00:05.000Z",
            "connected_at": "2026-11-01T08:00:00Z", "booted_at": "2026-11-01T08:00:01Z", "vendor": "Acme",
            "model": "Box", "serial": "S1", "firmware": "1.2", "connectors": connectors, **extra}


def snapshot(*chargers, **fields):
    defaults = dict(now="2026-11-01T11:00:05Z", chargers=list(chargers) or [charger(session=SESSION)], month="2026-11",
                    accounts={"home": {"wh": 72, "sessions": 1, "cost": Decimal("0.09"), "currency": "EUR"}},
                    tags={"home": "1111", "company-x": "3333"}, version="0.1.0")
    return Snapshot(**{**defaults, **fields})


# -- names ------------------------------------------------------------------------------------------------

def test_a_safe_identity_is_its_own_slug_others_are_made_safe_and_stay_apart():
    assert mqtt.slug("garage-left_2") == "garage-left_2"
    dotted, coloned = mqtt.slug("wall.box:2"), mqtt.slug("wall:box.2")
    assert re.fullmatch(r"wall_box_2_[0-9a-f]{8}", dotted) and dotted != coloned


def test_a_charger_never_takes_the_bridges_own_names():
    for identity in ("site", "account", "bridge", "event", "account_home"):
        assert re.fullmatch(re.escape(identity) + r"_[0-9a-f]{8}", mqtt.charger_slug(identity))
    wanted = mqtt.retained(snapshot(charger("site"), charger("account_home")), NAMES)
    assert json.loads(wanted["shocpp/site/state"]) == {"balancer": False}
    assert json.loads(wanted["homeassistant/device/shocpp_account_home/config"])["dev"]["name"] == "Account home"
    assert mqtt.charger_slug("garage-left") == "garage-left"


@given(st.text(min_size=1, max_size=80))
def test_every_slug_is_what_home_assistant_accepts(text):
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", mqtt.slug(text))


def test_kwh_reads_exactly_to_the_wh_in_json():
    assert [json.dumps(mqtt.kwh(wh)) for wh in (12345678, 72, 1000, 0)] == ["12345.678", "0.072", "1", "0"]
    assert mqtt.kwh(None) is None


# -- what is published ------------------------------------------------------------------------------------

def test_the_retained_messages_of_a_charging_charger():
    wanted = mqtt.retained(snapshot(), NAMES)
    node = "shocpp_garage-left"
    assert sorted(wanted) == sorted([
        "shocpp/bridge", "shocpp/garage-left/availability", "shocpp/garage-left/state", "shocpp/garage-left/1/state",
        "shocpp/account/home/state", "shocpp/site/state", f"homeassistant/device/{node}/config",
        "homeassistant/device/shocpp_account_home/config"])
    assert wanted["shocpp/bridge"] == "online" and wanted["shocpp/garage-left/availability"] == "online"
    assert json.loads(wanted["shocpp/garage-left/state"]) == {
        "charger": "garage-left", "connected": True, "last_seen": "2026-11-01T11:00:00.000Z",
        "connected_at": "2026-11-01T08:00:00Z", "vendor": "Acme", "model": "Box", "serial": "S1", "firmware": "1.2",
        "status": "Available", "connectors": [1], "limit_a": None, "mode": None}
    assert json.loads(wanted["shocpp/garage-left/1/state"]) == {
        "status": "Charging", "error_code": "NoError", "power_w": 11000, "energy_wh": 12350000, "energy_kwh": 12350,
        "current_a": {"L1": 16}, "current_offered_a": None, "limit_a": None, "session_transaction_id": 10012345,
        "session_account": "home", "session_id_tag": "1111", "session_start": "2026-11-01T10:00:00Z",
        "session_duration_s": 3600, "session_energy_wh": 4322, "session_energy_kwh": 4.322}
    assert json.loads(wanted["shocpp/account/home/state"]) == {
        "account": "home", "month": "2026-11", "energy_wh": 72, "energy_kwh": 0.072, "sessions": 1, "cost": "0.09",
        "currency": "EUR"}
    assert json.loads(wanted["shocpp/site/state"]) == {"balancer": False}


def test_last_seen_is_the_newest_report_in_utc_whatever_zone_the_charger_wrote():
    late = charger(session=SESSION)
    late["connectors"][1]["status_time"] = "2026-11-01T13:30:00+02:00"  # 11:30 UTC, after the meter's 11:00
    late["connectors"][1]["meter_time"] = "2026-11-01T11:10:00"         # no zone: UTC
    state = json.loads(mqtt.retained(snapshot(late), NAMES)["shocpp/garage-left/state"])
    assert state["last_seen"] == "2026-11-01T11:30:00.000Z"


def test_a_session_energy_is_never_negative():
    early = charger(session={**SESSION, "energy_wh": -12})
    state = json.loads(mqtt.retained(snapshot(early), NAMES)["shocpp/garage-left/1/state"])
    assert (state["session_energy_wh"], state["session_energy_kwh"]) == (0, 0)


def test_an_idle_connector_draws_nothing_and_a_gone_charger_is_offline():
    gone = charger(connected=False, status="Available")
    wanted = mqtt.retained(snapshot(gone), NAMES)
    assert wanted["shocpp/garage-left/availability"] == "offline"
    assert json.loads(wanted["shocpp/garage-left/1/state"])["power_w"] == 0
    state = json.loads(wanted["shocpp/garage-left/state"])
    assert (state["connected"], state["last_seen"], state["connected_at"]) == (False, "2026-11-01T11:00:05.000Z", None)


def test_with_a_chargers_json_only_its_chargers_and_connected_ones_are_devices():
    listed, stranger, visitor = charger("listed", False), charger("stranger", False), charger("visitor")
    found = mqtt.devices(snapshot(listed, stranger, visitor, known=frozenset({"listed"})))
    assert [c["identity"] for c in found] == ["listed", "visitor"]
    assert len(mqtt.devices(snapshot(listed, stranger, visitor))) == 3


def test_without_a_discovery_prefix_no_config_is_published():
    wanted = mqtt.retained(snapshot(), Names("site/shocpp", ""))
    assert not [t for t in wanted if "config" in t] and "site/shocpp/garage-left/state" in wanted


def test_changes_publish_only_what_differs_and_clear_what_is_gone():
    assert mqtt.changes({"a": "1", "b": "2", "c": ""}, {"a": "1", "b": "3", "d": "4"}) == [("b", "3"), ("d", "4")]
    assert mqtt.changes({"a": "1", "gone": "x"}, {"a": "1"}) == [("gone", "")]
    assert mqtt.changes({"a": "1"}, {"a": "1"}) == []


def test_the_session_duration_moves_with_the_readings_not_the_clock():
    one = mqtt.retained(snapshot(now="2026-11-01T11:00:05Z"), NAMES)
    later = mqtt.retained(snapshot(now="2026-11-01T11:00:09Z"), NAMES)
    assert one == later


def test_discovery_of_a_charger_names_its_device_origin_and_entities():
    config = json.loads(mqtt.retained(snapshot(), NAMES)["homeassistant/device/shocpp_garage-left/config"])
    assert config["dev"] == {"identifiers": ["shocpp_garage-left"], "name": "garage-left", "manufacturer": "Acme",
                             "model": "Box", "sw_version": "1.2", "serial_number": "S1"}
    assert config["o"] == {"name": "shocpp", "sw": "0.1.0"}
    assert config["availability"] == [{"topic": "shocpp/bridge"}, {"topic": "shocpp/garage-left/availability"}]
    node = "shocpp_garage-left"
    assert sorted(config["cmps"]) == sorted(f"{node}_{e}" for e in (
        "connected", "last_seen", "limit", "start", "stop", "1_status", "1_power", "1_energy", "1_session_energy",
        "1_session_duration", "1_session_account", "1_current_offered"))
    energy, session = config["cmps"][f"{node}_1_energy"], config["cmps"][f"{node}_1_session_energy"]
    assert (energy["state_class"], session["state_class"]) == ("total_increasing", "total")
    assert energy["value_template"] == "{{ value_json.energy_kwh }}"
    assert config["cmps"][f"{node}_1_status"]["options"] == list(mqtt.STATUSES)
    assert config["cmps"][f"{node}_connected"]["availability"] == [{"topic": "shocpp/bridge"}]


def test_the_limit_range_is_the_chargers_from_site_json_and_the_mode_appears_with_the_balancer():
    balancer = {"updated_at": "t", "grid_limit_a": 32, "grid_power_w": -1200, "surplus_w": 1200,
                "chargers": {"garage-left": {"mode": "pv", "max_a": 16,
                                             "connectors": {"1": {"limit_a": 10, "phases": 1}}}}}
    wanted = mqtt.retained(snapshot(ranges={"garage-left": (8, 20)}, balancer=balancer), NAMES)
    config = json.loads(wanted["homeassistant/device/shocpp_garage-left/config"])
    limit = config["cmps"]["shocpp_garage-left_limit"]
    assert (limit["min"], limit["max"], limit["command_topic"]) == (8, 20, "shocpp/garage-left/set/limit")
    assert config["cmps"]["shocpp_garage-left_mode"]["options"] == ["off", "fast", "minpv", "pv"]
    assert "homeassistant/device/shocpp_site/config" in wanted
    assert json.loads(wanted["shocpp/site/state"]) == {
        "balancer": True, "updated_at": "t", "grid_limit_a": 32, "grid_power_w": -1200, "surplus_w": 1200,
        "allocated_a": 10, "modes": {"garage-left": "pv"}}
    state = json.loads(wanted["shocpp/garage-left/state"])
    assert (state["mode"], state["limit_a"]) == ("pv", 16)
    assert json.loads(wanted["shocpp/garage-left/1/state"])["limit_a"] == 10


def test_current_offered_is_read_from_the_meter_values():
    payload = {"meterValue": [{"sampledValue": [
        {"value": "16.0", "measurand": "Current.Offered"}, {"value": "9", "measurand": "Current.Offered",
                                                            "phase": "L1"}]}]}
    assert mqtt.offered_current(payload) == 16 and mqtt.offered_current({"meterValue": []}) is None


# -- events -----------------------------------------------------------------------------------------------

def test_the_first_snapshot_is_no_news_then_each_change_is_one_event():
    idle = snapshot(charger(session=None, status="Available"), stops=[])
    assert mqtt.events(None, idle) == []
    assert mqtt.events(idle, idle) == []
    stop = {"key": "k", "charger": "garage-left", "connector_id": 1, "transaction_id": 10012345, "account": "home",
            "id_tag": "1111", "energy_wh": 4322, "cost": Decimal("5.40"), "currency": "EUR", "reason": "Local",
            "stop_time": "2026-11-01T12:00:00Z"}
    charging = snapshot(charger(session=SESSION), refusals={"garage-left": {"idTag": "0000", "status": "Invalid",
                                                                            "received_at": "t1"}})
    assert mqtt.events(idle, charging) == [
        {"event": "session_started", "charger": "garage-left", "connector_id": 1, "transaction_id": 10012345,
         "account": "home", "id_tag": "1111", "time": "2026-11-01T10:00:00Z"},
        {"event": "tag_refused", "charger": "garage-left", "id_tag": "0000", "status": "Invalid", "time": "t1"}]
    done = snapshot(charger(session=None, status="Finishing"), stops=[stop], refusals=charging.refusals)
    assert mqtt.events(charging, done) == [
        {"event": "session_stopped", "charger": "garage-left", "connector_id": 1, "transaction_id": 10012345,
         "account": "home", "id_tag": "1111", "energy_wh": 4322, "kwh": 4.322, "cost": "5.40", "currency": "EUR",
         "reason": "Local", "time": "2026-11-01T12:00:00Z"}]
    gone = snapshot(charger(connected=False, session=None), stops=[stop])
    assert mqtt.events(done, gone) == [{"event": "charger_gone", "charger": "garage-left",
                                        "time": "2026-11-01T11:00:05.000Z"}]
    assert mqtt.events(gone, done)[0] == {"event": "charger_connected", "charger": "garage-left",
                                          "time": "2026-11-01T08:00:00Z"}


# -- commands ---------------------------------------------------------------------------------------------

def command(what, payload, **fields):
    return mqtt.command(NAMES, f"shocpp/garage-left/set/{what}", payload, snapshot(**fields))


def test_a_limit_becomes_a_profile_for_the_whole_charger():
    found = command("limit", b"16")
    assert found == Command("limit", "garage-left", 16, "ocpp", "SetChargingProfile", {
        "connectorId": 0, "csChargingProfiles": {
            "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative", "chargingSchedule": {
                "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}})
    assert command("limit", b" 6.0 ").value == 6
    assert command("limit", b"none") == Command("limit", "garage-left", None, "ocpp", "ClearChargingProfile",
                                                {"id": 1})


def test_bad_limits_are_refused_with_the_reason():
    refused = {text: command("limit", text.encode()) for text in ("5", "33", "1e3", "NaN", " ", "16.5", "\xff")}
    assert {text: r.reason for text, r in refused.items()} == {
        "5": "the limit 5 A is outside 6..32 A", "33": "the limit 33 A is outside 6..32 A",
        "1e3": "the limit 1e3 A is outside 6..32 A",
        "NaN": "the limit 'NaN' is not a whole number of amperes",
        " ": "the limit '' is not a number of amperes (or 'none' to lift it)",
        "16.5": "the limit '16.5' is not a whole number of amperes",
        "\xff": "the limit 'ÿ' is not a number of amperes (or 'none' to lift it)"}
    assert command("limit", b"\xff\xfe") == Refused("limit", "garage-left", "the payload is not UTF-8 text")
    assert command("limit", b"20", ranges={"garage-left": (6, 16)}).reason == "the limit 20 A is outside 6..16 A"


def test_commands_for_unknown_or_offline_chargers_are_refused_and_other_topics_ignored():
    assert mqtt.command(NAMES, "shocpp/nobody/set/limit", b"10", snapshot()) == Refused(
        "limit", "nobody", "no charger 'nobody' (chargers: garage-left)")
    offline = snapshot(charger(connected=False))
    assert mqtt.command(NAMES, "shocpp/garage-left/set/stop", b"PRESS", offline).reason == \
        "charger 'garage-left' is not connected"
    for topic in ("shocpp/garage-left/set/reset", "other/garage-left/set/limit", "shocpp/a/b/set/limit",
                  "shocpp/garage-left/state"):
        assert mqtt.command(NAMES, topic, b"10", snapshot()) is None


def test_an_empty_payload_is_no_command_and_a_retained_one_is_refused():
    idle = snapshot(charger(session=None, status="Available"), default_account="home")
    assert mqtt.command(NAMES, "shocpp/garage-left/set/start", b"", idle) is None  # clearing a retained start
    refused = mqtt.command(NAMES, "shocpp/garage-left/set/start", b"PRESS", idle, retained=True)
    assert refused.reason.startswith("a retained command is not carried out")


def test_start_uses_the_given_or_the_default_account_and_stop_the_running_session():
    idle = dict(chargers=[charger(session=None, status="Available")])
    assert command("start", b"PRESS", **idle).reason == \
        "no account given and no default account configured (SHOCPP_MQTT_START_ACCOUNT)"
    assert command("start", b"PRESS", default_account="company-x", **idle) == Command(
        "start", "garage-left", "company-x", "ocpp", "RemoteStartTransaction", {"idTag": "3333"})
    assert command("start", b"home", **idle).payload == {"idTag": "1111"}
    assert command("start", b"nobody", **idle).reason == \
        "account 'nobody' is not in tags.json or has no tag (accounts: company-x, home)"
    assert command("start", b"home").reason == "charger 'garage-left' is charging already"
    assert command("stop", b"PRESS") == Command("stop", "garage-left", 10012345, "ocpp", "RemoteStopTransaction",
                                                {"transactionId": 10012345})
    assert command("stop", b"PRESS", **idle).reason == "no running session on charger 'garage-left'"


def test_while_the_balancer_runs_limit_and_mode_go_through_it():
    balancer = {"chargers": {}}
    assert command("limit", b"12", balancer=balancer) == Command("limit", "garage-left", 12, "balancer", "set_max",
                                                                 None)
    assert command("limit", b"none", balancer=balancer).value is None
    assert command("mode", b"pv", balancer=balancer) == Command("mode", "garage-left", "pv", "balancer", "set_mode",
                                                                None)
    assert command("mode", b"eco", balancer=balancer).reason == "the mode 'eco' is not one of off, fast, minpv, pv"


def test_results_say_whether_the_charger_accepted():
    limit = command("limit", b"16")
    assert mqtt.result(limit, {"status": "result", "payload": {"status": "Rejected"}})["accepted"] is False
    assert mqtt.result(limit, {"status": "error", "code": "NotSupported", "description": "no"})["reason"] == \
        "CALLERROR NotSupported: no"
    assert mqtt.result(limit, {"status": "timeout"})["reason"] == "no answer from the charger in time"
    via = command("mode", b"pv", balancer={"chargers": {}})
    assert mqtt.result(via, {"status": "error", "description": "bad"}) == {
        "command": "mode", "charger": "garage-left", "value": "pv", "accepted": False, "via": "balancer",
        "reason": "bad"}


def test_the_modes_are_the_balancers():
    from shocpp import balance_control
    assert mqtt.MODES == balance_control.MODES
