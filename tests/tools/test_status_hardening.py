"""One charger's files never crash, hang or hide the others in shocpp-status (issue #11, item 4)."""

import os

import pytest

from shocpp import runfiles
from shocpp.tools.status import Readings, load, meter_readings

T1 = "2026-11-21T10:00:00Z"


@pytest.mark.parametrize("value, unit", [("1E+5000", "Wh"), ("1E+999999", "kWh"), ("9E+999999", "kWh"),
                                         ("-9E+999999", "W"), ("1" * 5000, "kWh")])
def test_absurd_readings_are_left_out_quickly(value, unit):
    payload = {"meterValue": [{"timestamp": T1, "sampledValue": [{"value": value, "unit": unit}]}]}
    assert meter_readings(payload) == Readings()


def live_connection(run_dir, identity, pid, held):
    conn = runfiles.Connection(run_dir, identity, pid)
    conn.create({"charger": identity, "pid": pid})
    held.append(os.open(conn.fifo, os.O_RDONLY | os.O_NONBLOCK))
    return conn


ODD_METERS = [
    {"meterValue": [{"timestamp": T1, "sampledValue": [{"value": "9E+999999", "unit": "kWh"}]}]},
    {"meterValue": [{"timestamp": T1, "sampledValue": [{"value": "1", "measurand": ["Power.Active.Import"]}]}]},
    {"meterValue": [{"timestamp": [T1], "sampledValue": [{"value": {"a": 1}, "unit": {"u": 1}, "phase": ["L1"]}]}]},
]


def test_one_chargers_odd_files_never_hide_the_others(tmp_path):
    run_dir = tmp_path / "run"
    held = []
    try:
        good = live_connection(run_dir, "good", 101, held)
        good.save("meter-1.json", {"meterValue": [{"timestamp": T1, "sampledValue": [{"value": "7", "unit": "kWh"}]}]})
        for n, meter in enumerate(ODD_METERS):
            odd = live_connection(run_dir, f"odd{n}", 110 + n, held)
            odd.save("meter-1.json", meter)
            odd.save("status-1.json", {"status": ["Charging"], "errorCode": {"x": 1}})
        deep = live_connection(run_dir, "deep", 120, held)
        (deep.path / "meter-1.json").write_text('{"meterValue": ' + "[" * 100000 + "]" * 100000 + "}")
        got = {c.identity: c for c in load(run_dir)}
    finally:
        for fd in held:
            os.close(fd)
    assert sorted(got) == ["deep", "good", "odd0", "odd1", "odd2"]
    assert got["good"].connectors[0].energy_wh == 7000
    assert [k.energy_wh for n in range(3) for k in got[f"odd{n}"].connectors] == [None, None, None]


def test_a_gone_charger_can_be_forgotten_until_it_comes_back(tmp_path, capsys):
    """#24 item 7: the README's examples left charger `default` on the dashboard for 30 days."""
    import json
    from datetime import datetime, timezone

    from shocpp import config, exits, ledger, runfiles
    from shocpp.tools import status

    env = {"SHOCPP_RUNDIR": str(tmp_path / "run"), "SHOCPP_ACCOUNTINGDIR": str(tmp_path / "accounting"),
           "SHOCPP_CHARGERSFILE": str(tmp_path / "chargers.json"), "SHOCPP_TAGSFILE": str(tmp_path / "tags.json")}
    cfg = config.from_env(env)
    now = datetime.now(timezone.utc)
    for identity in ("default", "garage"):
        conn = runfiles.Connection(cfg.run_dir, identity, 42)
        conn.create({"charger": identity})
        conn.keep_seen(now.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        conn.remove()

    def listed():
        capsys.readouterr()
        status.main(["--json"], env)
        return [c["identity"] for c in json.loads(capsys.readouterr().out)["chargers"]]

    assert listed() == ["default", "garage"]
    assert status.main(["--forget", "default"], env) == exits.OK
    assert listed() == ["garage"]
    assert status.main(["--forget", "default"], env) == exits.NO_SUCH_CHARGER
    assert status.main(["--forget", "../x"], env) == exits.USAGE
    # a newer record of it in the ledger lists it again
    month = now.astimezone().strftime("%Y-%m")
    ledger.append(cfg.accounting_dir, month, {"event": "start", "charger": "default", "connector_id": 1,
                                              "transaction_id": 10012345, "id_tag": "1111", "account": "home",
                                              "account_index": 1, "meter_start_wh": 12345678,
                                              "start_time": "x", "recorded_at": "2999-01-01T00:00:00.000Z"})
    assert listed() == ["default", "garage"]
