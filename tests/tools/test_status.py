"""shocpp-status's extraction and rendering, in-process."""

import json
import os


from shocpp import runfiles
from shocpp.protocol.numbers import decimal as parse_number
from shocpp.tools.status import (ChargerStatus, Connector, charger_status, load, main, meter_readings, render_json,
                                 render_text)

T1, T2 = "2026-11-21T10:00:00Z", "2026-11-21T10:00:30Z"


def sv(value, measurand=None, unit=None, phase=None, **more):
    sample = {"value": value, **more}
    for key, v in (("measurand", measurand), ("unit", unit), ("phase", phase)):
        if v is not None:
            sample[key] = v
    return sample


def readings(*samples, timestamp=T1, **payload):
    return meter_readings({"connectorId": 1, "meterValue": [{"timestamp": timestamp, "sampledValue": list(samples)}],
                           **payload})


# -- numbers and units -----------------------------------------------------------------------------

def test_numbers_are_read_from_strings_and_json_numbers():
    assert [parse_number(v) for v in ("7400", " 15.9 ", "1e3", 16, 15.9, "-3")] == \
        [7400, parse_number("15.9"), 1000, 16, parse_number("15.9"), -3]
    assert [parse_number(v) for v in ("", "abc", "NaN", "Infinity", None, True, [1], {})] == [None] * 8


def test_kilowatts_and_kilowatt_hours_are_converted_exactly():
    r = readings(sv("7.4", "Power.Active.Import", "kW"), sv("12345.678", "Energy.Active.Import.Register", "kWh"))
    assert (r.power_w, r.energy_wh) == (7400, 12345678)
    assert type(r.power_w) is int and type(r.energy_wh) is int  # not 7400.000000000001


def test_watts_and_watt_hours_are_taken_as_they_are():
    r = readings(sv("7400.5", "Power.Active.Import", "W"), sv("12345678", "Energy.Active.Import.Register", "Wh"))
    assert (r.power_w, r.energy_wh) == (7400.5, 12345678)


def test_numbers_instead_of_strings():
    r = readings(sv(7.4, "Power.Active.Import", "kW"), sv(12345678, "Energy.Active.Import.Register", "Wh"),
                 sv(16, "Current.Import", "A", "L1"), sv(15.9, "Current.Import", "A", "L2"))
    assert (r.power_w, r.energy_wh, r.current_a) == (7400, 12345678, {"L1": 16, "L2": 15.9})


def test_a_sample_without_measurand_is_the_energy_register_and_without_unit_the_base_unit():
    assert readings(sv("4200000")).energy_wh == 4200000
    assert readings(sv("3680", "Power.Active.Import")).power_w == 3680
    assert readings(sv("5", "Energy.Active.Import.Register", "kWh")).energy_wh == 5000


def test_units_in_other_case_are_understood_and_wrong_units_ignored():
    r = readings(sv("11", "Power.Active.Import", "KW"), sv("2", "Energy.Active.Import.Register", "kwh"))
    assert (r.power_w, r.energy_wh) == (11000, 2000)
    r = readings(sv("11", "Power.Active.Import", "kWh"), sv("2", "Energy.Active.Import.Register", "kW"),
                 sv("16", "Current.Import", "W", "L1"))
    assert (r.power_w, r.energy_wh, r.current_a, r.time) == (None, None, {}, None)


def test_currents_per_phase_and_without_phase():
    r = readings(sv("16", "Current.Import", "A", "L1"), sv("15.9", "Current.Import", "A", "L2"),
                 sv("16.1", "Current.Import", "A", "L3-N"), sv("0.2", "Current.Import", "A", "N"),
                 sv("6", "Current.Offered", "A"))
    assert r.current_a == {"L1": 16, "L2": 15.9, "L3": 16.1}
    assert readings(sv("9.5", "Current.Import", "A")).current_a == {"unphased": 9.5}


def test_power_per_phase_only_is_summed_and_a_total_wins():
    phases = [sv("2466.5", "Power.Active.Import", "W", p) for p in ("L1", "L2", "L3")]
    assert readings(*phases).power_w == 7399.5
    assert readings(*phases, sv("7.4", "Power.Active.Import", "kW")).power_w == 7400


def test_other_measurands_signed_data_and_unreadable_values_are_ignored():
    r = readings(sv("230", "Voltage", "V", "L1-N"), sv("55", "SoC", "Percent"),
                 sv("1000", "Energy.Active.Export.Register", "Wh"),
                 sv("MIIB...", "Energy.Active.Import.Register", "Wh", format="SignedData"),
                 sv("n/a", "Power.Active.Import", "W"), sv(None, "Power.Active.Import", "W"), "garbage", None)
    assert r == readings()
    assert (r.power_w, r.energy_wh, r.current_a, r.time) == (None, None, {}, None)


def test_meter_value_and_sampled_value_may_be_objects_instead_of_arrays():
    one = {"timestamp": T1, "sampledValue": sv("3.5", "Power.Active.Import", "kW")}
    r = meter_readings({"connectorId": 1, "meterValue": one})
    assert (r.power_w, r.time) == (3500, T1)


def test_a_missing_or_unusable_meter_value_gives_no_readings():
    for payload in ({}, {"meterValue": None}, {"meterValue": "x"}, {"meterValue": []},
                    {"meterValue": [{"timestamp": T1}]}, {"meterValue": [{"sampledValue": 5}]}):
        assert meter_readings(payload) == meter_readings({}) == readings()


def test_the_newest_sample_wins_by_timestamp_whatever_the_order():
    payload = {"meterValue": [
        {"timestamp": T2, "sampledValue": [sv("7000", "Power.Active.Import", "W"),
                                           sv("10", "Energy.Active.Import.Register")]},
        {"timestamp": T1, "sampledValue": [sv("1000", "Power.Active.Import", "W"),
                                           sv("20", "Current.Import", "A", "L1")]},
    ]}
    r = meter_readings(payload)
    assert (r.power_w, r.energy_wh, r.current_a, r.time) == (7000, 10, {"L1": 20}, T2)


def test_without_timestamps_the_array_order_decides_and_the_time_is_when_it_arrived():
    payload = {"received_at": "2026-11-21T10:01:00.000Z", "meterValue": [
        {"sampledValue": [sv("1000", "Power.Active.Import", "W")]},
        {"timestamp": "yesterday", "sampledValue": [sv("2000", "Power.Active.Import", "W")]},
    ]}
    r = meter_readings(payload)
    assert (r.power_w, r.time) == (2000, "2026-11-21T10:01:00.000Z")


def test_outlet_samples_win_over_other_locations():
    r = readings(sv("11000", "Power.Active.Import", "W", location="Inlet"),
                 sv("7400", "Power.Active.Import", "W", location="Outlet"),
                 sv("9000", "Power.Active.Import", "W", location="EV"))
    assert r.power_w == 7400
    assert readings(sv("11000", "Power.Active.Import", "W", location="Inlet")).power_w == 11000


# -- a charger from its files ----------------------------------------------------------------------

INFO = {"charger": "garage-left", "pid": 4242, "connected_at": "2026-11-21T09:59:58.000Z",
        "remote_addr": "192.0.2.7", "started_ns": 1, "booted_at": "2026-11-21T09:59:59.000Z",
        "boot": {"chargePointVendor": "Acme", "chargePointModel": "Box", "chargePointSerialNumber": "SN-1",
                 "firmwareVersion": "1.2.3"}}


def test_charger_status_from_the_files():
    statuses = {0: {"connectorId": 0, "status": "Available", "errorCode": "NoError",
                    "received_at": "2026-11-21T10:00:01.000Z"},
                1: {"connectorId": 1, "status": "Faulted", "errorCode": "GroundFailure", "info": "RCD",
                    "vendorErrorCode": "E12", "timestamp": T1, "received_at": "2026-11-21T10:00:02.000Z"}}
    meters = {1: {"connectorId": 1, "received_at": "2026-11-21T10:00:03.000Z", "meterValue": [
        {"timestamp": T2, "sampledValue": [sv("7.4", "Power.Active.Import", "kW"), sv("12345678"),
                                           sv("16", "Current.Import", "A", "L1")]}]}}
    assert charger_status(INFO, statuses, meters) == ChargerStatus(
        identity="garage-left", pid=4242, remote_addr="192.0.2.7", connected_at="2026-11-21T09:59:58.000Z",
        booted_at="2026-11-21T09:59:59.000Z", vendor="Acme", model="Box", serial="SN-1", firmware="1.2.3",
        connectors=(
            Connector(0, "Available", "NoError", status_time="2026-11-21T10:00:01.000Z"),
            Connector(1, "Faulted", "GroundFailure", "RCD", "E12", status_time=T1, meter_time=T2,
                      meter_received_at="2026-11-21T10:00:03.000Z",
                      power_w=7400, energy_wh=12345678, current_a={"L1": 16}),
        ))


def test_a_charger_that_has_not_booted_or_reported_anything():
    info = {"charger": "new", "pid": 7, "connected_at": "2026-11-21T09:59:58.000Z", "remote_addr": None}
    assert charger_status(info, {}, {}) == ChargerStatus("new", 7, None, "2026-11-21T09:59:58.000Z")
    assert render_text([charger_status(info, {}, {})]) == (
        "new\n"
        "  connected   2026-11-21T09:59:58.000Z (backend pid 7)\n"
        "  charger     no BootNotification yet\n"
        "  connectors  no StatusNotification or MeterValues yet\n")


def test_the_serial_falls_back_to_the_charge_box_serial_and_odd_boot_data_is_ignored():
    info = {**INFO, "boot": {"chargePointVendor": "Acme", "chargePointModel": "Box", "chargeBoxSerialNumber": "CB-9"}}
    assert charger_status(info, {}, {}).serial == "CB-9"
    assert charger_status({**INFO, "boot": "nonsense"}, {}, {}).vendor is None


def test_text_has_one_block_per_charger():
    statuses = {1: {"connectorId": 1, "status": "Charging", "errorCode": "NoError", "timestamp": T1}}
    meters = {1: {"meterValue": [{"timestamp": T2, "sampledValue": [
        sv("7.4", "Power.Active.Import", "kW"), sv("12345678"),
        sv("16", "Current.Import", "A", "L1"), sv("15.9", "Current.Import", "A", "L2"),
        sv("16.1", "Current.Import", "A", "L3")]}]},
              2: {"meterValue": [{"timestamp": T2, "sampledValue": [sv("9", "Current.Import", "A")]}]}}
    other = {"charger": "b", "pid": 8, "connected_at": "2026-11-21T08:00:00.000Z", "remote_addr": "192.0.2.8",
             "booted_at": "2026-11-21T08:00:01.000Z", "boot": {"chargePointVendor": "V", "chargePointModel": "M"}}
    text = render_text([charger_status(INFO, statuses, meters), charger_status(other, {}, {})])
    assert text == (
        "garage-left\n"
        "  connected   2026-11-21T09:59:58.000Z from 192.0.2.7 (backend pid 4242)\n"
        "  charger     Acme Box, serial SN-1, firmware 1.2.3\n"
        "  connector 1 Charging, NoError, since 2026-11-21T10:00:00Z\n"
        "              power 7400 W, energy 12345678 Wh, current L1 16 A / L2 15.9 A / L3 16.1 A, "
        "at 2026-11-21T10:00:30Z\n"
        "  connector 2 no StatusNotification yet\n"
        "              current 9 A, at 2026-11-21T10:00:30Z\n"
        "\n"
        "b\n"
        "  connected   2026-11-21T08:00:00.000Z from 192.0.2.8 (backend pid 8)\n"
        "  charger     V M\n"
        "  connectors  no StatusNotification or MeterValues yet\n")


def test_a_faulted_connector_shows_its_info_and_vendor_code():
    statuses = {1: {"status": "Faulted", "errorCode": "GroundFailure", "info": "RCD", "vendorErrorCode": "E12",
                    "received_at": "2026-11-21T10:00:02.000Z"}}
    assert "  connector 1 Faulted, GroundFailure (RCD; vendor code E12), since 2026-11-21T10:00:02.000Z\n" \
        in render_text([charger_status(INFO, statuses, {})])


def test_json_and_text_when_nothing_is_connected():
    assert json.loads(render_json([])) == {"chargers": []}
    assert render_text([]) == "no charger is connected\n"


def test_json_has_every_field():
    (charger,) = json.loads(render_json([charger_status(INFO, {}, {3: {"received_at": T2, "meterValue": [
        {"timestamp": T1, "sampledValue": [sv("2.2", "Power.Active.Import", "kW")]}]}})]))["chargers"]
    assert charger == {"identity": "garage-left", "pid": 4242, "remote_addr": "192.0.2.7",
                       "connected_at": "2026-11-21T09:59:58.000Z", "booted_at": "2026-11-21T09:59:59.000Z",
                       "vendor": "Acme", "model": "Box", "serial": "SN-1", "firmware": "1.2.3",
                       "connectors": [{"connector_id": 3, "status": None, "error_code": None, "info": None,
                                       "vendor_error_code": None, "status_time": None, "meter_time": T1,
                                       "power_w": 2200, "energy_wh": None, "current_a": {}, "session": None,
                                       "balance": None, "meter_received_at": T2}],
                       "connected": True, "last_seen": None, "ocpp": "1.6"}


# -- the loader on run directories -----------------------------------------------------------------

def test_the_loader_ignores_stale_directories_and_shows_the_newest_of_two_live_ones(tmp_path):
    """Live: a FIFO this test holds open for reading. Stale: a FIFO nobody reads."""
    run_dir = tmp_path / "run"
    held = []

    def backend(identity, pid, started_ns, live, power):
        conn = runfiles.Connection(run_dir, identity, pid)
        conn.create({"charger": identity, "pid": pid, "connected_at": "2026-11-21T09:00:00.000Z",
                     "remote_addr": "192.0.2.1"})
        conn.update_info(started_ns=started_ns)
        conn.save("meter-1.json", {"connectorId": 1, "meterValue": [
            {"timestamp": T1, "sampledValue": [sv(power, "Power.Active.Import", "W")]}]})
        conn.save("status-x.json", {"status": "ignored: not a connector number"})
        if live:
            held.append(os.open(conn.fifo, os.O_RDONLY | os.O_NONBLOCK))

    try:
        backend("a", 101, 1, True, "1000")
        backend("a", 102, 2, True, "2000")     # the reconnect: newer
        backend("b", 103, 3, False, "3000")    # killed
        backend("c", 104, 0, True, "4000")
        backend("c", 105, 5, False, "5000")    # a newer one, killed: the older live one counts
        (run_dir / "a@102" / "status-1.json").write_text("{torn")
        got = load(run_dir)
    finally:
        for fd in held:
            os.close(fd)
    assert [(c.identity, c.pid, c.connectors[0].power_w, c.connectors[0].status) for c in got] == \
        [("a", 102, 2000, None), ("c", 104, 4000, None)]
    assert load(run_dir) == []  # nobody reads any FIFO now
    assert load(tmp_path / "never-created") == []


def test_main_exit_status_and_message_without_chargers(tmp_path, capsys):
    env = {"SHOCPP_RUNDIR": str(tmp_path / "run")}
    assert main([], env) == 5
    assert capsys.readouterr().out == "no charger is connected\n"
    assert main(["--json"], env) == 5
    assert json.loads(capsys.readouterr().out) == {"chargers": []}


# -- what a charger sent never draws on the terminal (#11) -----------------------------------------

HOSTILE = "SN\x1b[2J\x1b]0;owned\x07\nforged-charger\r\u202eevil\x7f\x9b"
HOSTILE_SHOWN = "SN\\x1b[2J\\x1b]0;owned\\x07\\x0aforged-charger\\x0d\\u202eevil\\x7f\\x9b"


def test_text_escapes_every_control_character_a_charger_sent():
    boot = {"chargePointVendor": "Acme\x1b[31m", "chargePointModel": "Box\u2066", "chargePointSerialNumber": HOSTILE,
            "firmwareVersion": "1\n2"}
    statuses = {1: {"status": "Faulted\n", "errorCode": "OtherError", "info": "RCD\x1b[1A\x1b[2K",
                    "vendorErrorCode": "E\r12", "timestamp": "2026\x1b[0m"}}
    info = {**INFO, "boot": boot, "remote_addr": "192.0.2.7\x1b[8m", "connected_at": "\u202e1"}
    text = render_text([charger_status({**info, "charger": "garage\x1bleft"}, statuses, {})])
    assert text == (
        "garage\\x1bleft\n"
        "  connected   \\u202e1 from 192.0.2.7\\x1b[8m (backend pid 4242)\n"
        f"  charger     Acme\\x1b[31m Box\\u2066, serial {HOSTILE_SHOWN}, firmware 1\\x0a2\n"
        "  connector 1 Faulted\\x0a, OtherError (RCD\\x1b[1A\\x1b[2K; vendor code E\\x0d12), since 2026\\x1b[0m\n")
    assert all(line.isprintable() for line in text.splitlines())


def test_json_escapes_them_too_and_keeps_the_data():
    statuses = {1: {"status": "Faulted", "errorCode": "OtherError", "info": "\u202e\x85\U000e0001"}}
    info = {**INFO, "boot": {"chargePointVendor": "Äcme", "chargePointModel": "Box",
                             "chargePointSerialNumber": HOSTILE}}
    text = render_json([charger_status(info, statuses, {})])
    assert all(line.isprintable() for line in text.splitlines())
    assert '"serial": "SN\\u001b[2J\\u001b]0;owned\\u0007\\nforged-charger\\r\\u202eevil\\u007f\\u009b"' in text
    assert '"vendor": "Äcme"' in text  # printable text stays as it is
    (charger,) = json.loads(text)["chargers"]
    assert (charger["serial"], charger["connectors"][0]["info"]) == (HOSTILE, "\u202e\x85\U000e0001")


# -- running sessions and chargers that are not connected (#13) ------------------------------------

from datetime import datetime, timezone  # noqa: E402

from shocpp import ledger  # noqa: E402
from shocpp.tools.status import known_chargers  # noqa: E402

NOW = datetime(2026, 11, 21, 11, 0, 0, tzinfo=timezone.utc)
START = {"event": "start", "charger": "garage-left", "connector_id": 1, "transaction_id": 10004200,
         "id_tag": "1111", "account": "home", "account_index": 1, "meter_start_wh": 4_200_000,
         "start_time": "2026-11-21T10:00:00Z", "recorded_at": "2026-11-21T10:00:00.512Z"}
METER = {"meterValue": [{"timestamp": "2026-11-21T10:59:00Z", "sampledValue": [
    sv("7360", "Power.Active.Import", "W"), sv("4212.345", "Energy.Active.Import.Register", "kWh")]}]}


def test_a_running_session_shows_on_its_connector_in_json_and_text(monkeypatch):
    status = charger_status(INFO, {1: {"status": "Charging", "errorCode": "NoError"}}, {1: METER},
                            {1: START, 2: {**START, "connector_id": 2}}, NOW)
    (charger,) = json.loads(render_json([status]))["chargers"]
    assert charger["connectors"][0]["session"] == {
        "transaction_id": 10004200, "account": "home", "id_tag": "1111", "start_time": "2026-11-21T10:00:00Z",
        "duration_s": 3600, "energy_wh": 12345, "power_w": 7360, "stale": False}
    assert charger["connectors"][1]["connector_id"] == 2  # a session on a connector that reported nothing
    assert charger["connectors"][1]["session"]["energy_wh"] is None
    monkeypatch.setenv("TZ", "Europe/Vienna")
    __import__("time").tzset()
    text = render_text([status])
    assert ("  connector 1 Charging, NoError\n"
            "              power 7360 W, energy 4212345 Wh, at 2026-11-21T10:59:00Z\n"
            "              session 10004200, account home, tag 1111, since 2026-11-21 11:00:00 CET, for 1:00:00, "
            "12.345 kWh so far, 7360 W\n") in text
    assert "  connector 2 no StatusNotification yet\n              session 10004200, account home, tag 1111, " \
        "since 2026-11-21 11:00:00 CET, for 1:00:00\n" in text


def test_a_start_without_a_stop_for_over_a_week_is_shown_stale_not_charging():
    from datetime import timedelta
    status = charger_status(INFO, {}, {}, {1: START}, NOW + timedelta(days=7, seconds=1))
    (charger,) = json.loads(render_json([status]))["chargers"]
    assert charger["connectors"][0]["session"]["stale"] is True
    assert render_text([status]).rstrip("\n").endswith(
        ", STALE: no stop for longer than a session can last (its stop was lost; not charging)")


def test_a_session_line_escapes_what_the_charger_sent():
    status = charger_status(INFO, {}, {}, {1: {**START, "id_tag": "\x1b[2J", "start_time": "\n"}}, NOW)
    text = render_text([status])
    assert "session 10004200, account home, tag \\x1b[2J, since \\x0a\n" in text
    assert all(line.isprintable() for line in text.splitlines())


def test_a_disconnected_charger_in_text_and_json():
    gone = charger_status(INFO, {1: {"status": "Available", "errorCode": "NoError"}}, {}, None, NOW,
                          connected=False, last_seen="2026-11-20T08:00:00.000Z")
    never = charger_status({}, {}, {}, None, NOW, connected=False)
    text = render_text([gone])
    assert text.startswith("garage-left\n  NOT CONNECTED, last seen 2026-11-20T08:00:00.000Z\n"
                           "  charger     Acme Box, serial SN-1, firmware 1.2.3\n  connector 1 Available, NoError\n")
    assert text.endswith("\nno charger is connected\n")
    assert render_text([never]) == "?\n  NOT CONNECTED, last seen never (listed in chargers.json)\n\n" \
                                   "no charger is connected\n"
    (shown,) = json.loads(render_json([gone]))["chargers"]
    assert (shown["connected"], shown["last_seen"]) == (False, "2026-11-20T08:00:00.000Z")


def test_the_loader_adds_sessions_seen_known_and_ledger_chargers(tmp_path):
    run_dir, accounting = tmp_path / "run", tmp_path / "accounting"
    live = runfiles.Connection(run_dir, "garage-left", 101)
    live.create({"charger": "garage-left", "pid": 101})
    live.save("meter-1.json", METER)
    gone = runfiles.Connection(run_dir, "garage-right", 102)
    gone.create({"charger": "garage-right", "pid": 102})
    gone.save("status-2.json", {"status": "Finishing", "errorCode": "NoError"})
    gone.keep_seen("2026-11-21T09:00:00.000Z")
    gone.remove()
    old = runfiles.Connection(run_dir, "long-gone", 103)
    old.create({"charger": "long-gone", "pid": 103})
    old.keep_seen("2026-09-01T09:00:00.000Z")   # more than 30 days ago, not in chargers.json
    old.remove()
    ledger.append(accounting, "2026-10", {**START, "charger": "carport", "transaction_id": 1,
                                          "recorded_at": "2026-10-25T10:00:00.000Z"})
    ledger.append(accounting, "2026-10", {**START, "charger": "ancient", "transaction_id": 2,
                                          "recorded_at": "2026-10-01T10:00:00.000Z"})
    ledger.append(accounting, "2026-11", START)
    ledger.append(accounting, "2026-09", {**START, "charger": "too-old-month", "transaction_id": 3})
    reader = os.open(live.fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        got = load(run_dir, accounting, {"in-chargers-json"}, NOW)
    finally:
        os.close(reader)
    assert [(c.identity, c.connected, c.last_seen) for c in got] == [
        ("carport", False, "2026-10-25T10:00:00.000Z"),  # "ancient": in the ledger 51 days ago only
        ("garage-left", True, "2026-11-21T11:00:00.000Z"),
        ("garage-right", False, "2026-11-21T09:00:00.000Z"),
        ("in-chargers-json", False, None)]
    left = got[1]
    assert left.connectors[0].session["energy_wh"] == 12345 and left.connectors[0].session["duration_s"] == 3600
    assert got[0].connectors[0].session["transaction_id"] == 1  # an open session on a charger that is gone
    assert [(k.connector_id, k.status) for k in got[2].connectors] == [(2, "Finishing")]
    assert load(run_dir, accounting, {"long-gone"}, NOW)[3].identity == "long-gone"  # listed: shown


def test_known_chargers_are_those_of_chargers_json(tmp_path):
    path = tmp_path / "chargers.json"
    assert known_chargers(path) == set()
    from shocpp import chargers_file
    chargers_file.save(path, {"a": chargers_file.new_hash("secret-password-1"),
                              "b": chargers_file.new_hash("secret-password-2")})
    assert known_chargers(path) == {"a", "b"}
    path.write_text("broken")
    assert known_chargers(path) == set()


def test_unknown_cards_of_the_last_30_days_are_listed_until_an_account_has_them(site):
    import io
    from datetime import datetime, timedelta, timezone
    from shocpp import unknown_tags
    now = datetime.now(timezone.utc)
    unknown_tags.note(site.run_dir, "CAFE01", "garage", now, unknown_tags.REFUSED)
    unknown_tags.note(site.run_dir, "OLD", "garage", now - timedelta(days=31), unknown_tags.REFUSED)
    unknown_tags.note(site.run_dir, "1111", "garage", now, unknown_tags.BILLED_TO_UNKNOWN)  # home's by now
    out = io.StringIO()
    main([], site.env, out)
    lines = out.getvalue().splitlines()
    start = lines.index("unknown cards (last 30 days; add one to an account in tags.json or on the dashboard):")
    assert len(lines) == start + 2 and lines[start + 1].startswith("  CAFE01 at garage, ")
    assert lines[start + 1].endswith(": refused")
    out = io.StringIO()
    main(["--json"], site.env, out)
    assert [(c["id_tag"], c["outcome"], c["times"]) for c in json.loads(out.getvalue())["unknown_cards"]] == [
        ("CAFE01", "refused", 1)]
