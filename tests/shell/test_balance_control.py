"""The balancer's control interface (shocpp.balance_control): the operator's settings per charger, the
last round's status, and its files that no link and no other user's file can stand in for."""

import json
import os
from datetime import datetime, timezone

import pytest

from shocpp import balance_control as control
from shocpp.tools import balance as tool


@pytest.fixture
def run_dir(tmp_path):
    path = tmp_path / "run"
    path.mkdir(mode=0o1770)
    return path


def test_settings_are_kept_per_charger_and_a_none_goes_back_to_site_json(run_dir):
    assert control.controls(run_dir) == {}
    control.set_mode(run_dir, "carport", "pv")
    control.set_max(run_dir, "carport", 10)
    control.set_max(run_dir, "garage", 0)
    assert control.controls(run_dir) == {"carport": {"mode": "pv", "max_a": 10},
                                         "garage": {"mode": None, "max_a": 0}}
    control.set_max(run_dir, "carport", None)
    control.set_max(run_dir, "garage", None)
    assert control.controls(run_dir) == {"carport": {"mode": "pv", "max_a": None}}
    directory = run_dir / "balance"
    assert oct(directory.stat().st_mode & 0o7777) == "0o750"
    assert oct((directory / "controls.json").stat().st_mode & 0o7777) == "0o640"


@pytest.mark.parametrize("call, message", [
    (lambda d: control.set_mode(d, "a", "solar"), "unknown mode 'solar': one of off, fast, minpv, pv"),
    (lambda d: control.set_max(d, "a", -1), "maximum -1: a whole number of A from 0 to 1000"),
    (lambda d: control.set_max(d, "a", 1001), "maximum 1001: a whole number of A from 0 to 1000"),
    (lambda d: control.set_max(d, "a", 6.5), "maximum 6.5: a whole number of A from 0 to 1000"),
    (lambda d: control.set_max(d, "a", True), "maximum True: a whole number of A from 0 to 1000"),
    (lambda d: control.set_mode(d, "../x", "pv"), "not a charger's identity: '../x'"),
    (lambda d: control.set_mode(d, "", "pv"), "not a charger's identity: ''"),
])
def test_a_bad_setting_is_refused_with_a_clear_message_and_nothing_is_written(run_dir, call, message):
    with pytest.raises(ValueError) as raised:
        call(run_dir)
    assert str(raised.value).startswith(message)
    assert control.controls(run_dir) == {}


def test_a_planted_link_is_moved_aside_and_never_followed(run_dir, tmp_path):
    """Issue 24 item 4: a member of the group plants run/balance as a link before the first run; the
    balancer's state and the controls are never written through it, and what it points to is never read."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    forged = {"grid": {"last_w": -60000, "at": 1.0}}
    (elsewhere / "state.json").write_text(json.dumps(forged))
    (elsewhere / "controls.json").write_text(json.dumps({"a": {"mode": "off"}}))
    (run_dir / "balance").symlink_to(elsewhere)
    assert tool.load_state(run_dir) == {}
    assert control.controls(run_dir) == {}
    tool.save_state(run_dir, {"grid": {"last_w": 100, "at": 2.0}})
    control.set_mode(run_dir, "a", "fast")
    assert json.loads((elsewhere / "state.json").read_text()) == forged
    assert json.loads((elsewhere / "controls.json").read_text()) == {"a": {"mode": "off"}}
    assert not (run_dir / "balance").is_symlink()
    assert tool.load_state(run_dir) == {"grid": {"last_w": 100, "at": 2.0}}
    assert [p.name.startswith("balance.foreign-") for p in run_dir.iterdir() if p.name != "balance"] == [True]


def test_a_link_planted_inside_the_directory_is_replaced_not_followed(run_dir, tmp_path):
    target = tmp_path / "target.json"
    target.write_text('{"grid": {"last_w": -60000, "at": 1.0}}')
    tool.save_state(run_dir, {})
    (run_dir / "balance" / "state.json").unlink()
    (run_dir / "balance" / "state.json").symlink_to(target)
    assert tool.load_state(run_dir) == {}
    tool.save_state(run_dir, {"grid": {}})
    assert target.read_text() == '{"grid": {"last_w": -60000, "at": 1.0}}'
    assert json.loads((run_dir / "balance" / "state.json").read_text()) == {"grid": {}}


def test_a_file_of_another_user_does_not_count(run_dir):
    control.set_mode(run_dir, "a", "pv")
    os.chown(run_dir / "balance" / "controls.json", 12345, 12345)
    assert control.controls(run_dir) == {}


def test_root_changes_the_settings_as_the_services(run_dir):
    os.chown(run_dir, 12345, 12345)  # the service is another user; we are root: allowed, made the service's
    control.set_mode(run_dir, "a", "pv")
    assert (run_dir / "balance").stat().st_uid == 12345 == (run_dir / "balance" / "controls.json").stat().st_uid
    assert control.controls(run_dir) == {"a": {"mode": "pv", "max_a": None}}


def test_running_needs_a_fresh_status_and_a_live_process(run_dir):
    assert control.status(run_dir) is None
    assert not control.running(run_dir, 1_800_000_000)
    written = datetime.fromtimestamp(1_800_000_000, timezone.utc).isoformat()
    status = {"updated_at": written, "pid": os.getpid(), "interval_s": 10, "grid_limit_a": 32,
              "grid_power_w": None, "surplus_w": None, "chargers": {}}
    control.write(run_dir, control.STATUS, status)
    assert control.status(run_dir) == status
    assert control.running(run_dir, 1_800_000_030)
    assert control.running(run_dir, datetime.fromtimestamp(1_800_000_030, timezone.utc))
    assert not control.running(run_dir, 1_800_000_031)  # three intervals
    control.write(run_dir, control.STATUS, {**status, "pid": 2 ** 22 + 12345})  # no such process
    assert not control.running(run_dir, 1_800_000_001)


def test_the_command_line_sets_and_drops_settings_for_chargers_of_site_json_only(site, capsys):
    path = site.root / "site.json"
    path.write_text(json.dumps({"grid_limit_a": 32, "chargers": {"carport": {}, "garage": {}}}))
    env = {**site.env, "SHOCPP_SITEFILE": str(path)}
    # root (these tests) makes no run directory: it would be root's, and the service could not use it
    assert tool.main(["--mode", "carport=pv"], env=env) == 8
    assert "run: no run directory yet (the service makes it)" in capsys.readouterr().err
    site.run_dir.mkdir(mode=0o1770)
    assert tool.main(["--mode", "carport=pv", "--max", "garage=10"], env=env) == 0
    assert capsys.readouterr().out == ("carport: mode pv\ngarage: maximum 10 A\n"
                                       "(no balancer is running now: it applies these when it starts)\n")
    assert tool.main(["--max", "garage=site", "--mode", "carport=site"], env=env) == 0
    assert control.controls(site.run_dir) == {}
    assert tool.main(["--mode", "stranger=fast"], env=env) == 2
    assert "not in site.json's chargers (only those are balanced): stranger; nothing was set" \
        in capsys.readouterr().err
    for argv, message in [(["--mode", "carport=solar"], "unknown mode 'solar': one of off, fast, minpv, pv or site"),
                          (["--max", "carport=7.5"], "a whole number of A from 0 to 1000, or site"),
                          (["--max", "carport"], "expected CHARGER=AMPS")]:
        with pytest.raises(SystemExit) as raised:
            tool.main(argv, env=env)
        assert raised.value.code == 2
        assert message in capsys.readouterr().err
    assert control.controls(site.run_dir) == {}


def test_a_profile_sent_around_the_balancer_is_noted_for_it(run_dir):
    assert control.around(run_dir) == {}
    control.sent_around(run_dir, "a", 1_800_000_000)
    control.sent_around(run_dir, "b", 1_800_000_005.5)
    assert control.around(run_dir) == {"a": 1_800_000_000.0, "b": 1_800_000_005.5}
    assert control.controls(run_dir) == {}


def test_the_unit_lets_a_serial_meter_through():
    """Issue 24 item 7: PrivateDevices=yes hid a USB-serial grid meter from its command."""
    from conftest import ROOT
    unit = (ROOT / "misc" / "shocpp-balance.service").read_text()
    settings = [line for line in unit.splitlines() if not line.startswith("#")]
    assert "PrivateDevices=yes" not in settings
    assert {"DevicePolicy=closed", "DeviceAllow=char-ttyUSB rw", "DeviceAllow=char-ttyACM rw",
            "SupplementaryGroups=dialout"} <= set(settings)
