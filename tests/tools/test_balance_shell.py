"""shocpp-balance's shell, in-process: the grid meter from a file and its failures, a charger that
refuses a profile, the state that makes a restart send nothing, a session that ended. The chargers are
backend directories in a temporary run directory, the FIFO held open here; command.send is replaced by
a fake that answers as a charger would."""

import json

import pytest

from shocpp.tools import balance as tool
from shocpp.tools import command

from balance_site import NOW, FakeSend, accept, callerror, one_round, reject, settings_of


# -- 1. the grid meter: command, url, file; failures ------------------------------------------------


def test_a_failing_or_absurd_meter_holds_the_last_good_reading_one_interval_then_every_connector_gets_its_minimum(
        site, chargers, monkeypatch, capsys):
    """32 A, two fast chargers drawing 3450 W each; the meter: good, then nan, a number beyond ten
    times the connection, a word, an error: held for one interval (30 s × 1.5), then 6 A each."""
    grid = site.root / "grid-power"
    settings, parsed = settings_of(site, {"grid_limit_a": 32, "grid_meter": {"file": str(grid)},
                                                "chargers": {"a": {}, "b": {}}})
    chargers.connect("a", 11, power_w=3450)
    chargers.connect("b", 12, power_w=3450)
    monkeypatch.setattr(command, "send", FakeSend())
    grid.write_text("9660")  # the building: 9660 - 6900 = 2760 W = 4 A per phase: 28 A left, 14 A each
    decided, state = one_round(settings, parsed, NOW)
    assert [(d.limit_a, d.reason.rpartition("; ")[2]) for d in decided.values()] == [
        (14, "grid 9660 W, the rest of the building 2760 W")] * 2
    for at, text, note in [(10, "nan", "absurd reading nan"), (20, "1e9", "absurd reading 1000000000.0"),
                           (30, "lots", "no reading"), (45, "-2.3e6", "absurd reading -2300000.0")]:
        grid.write_text(text)
        decided, state = one_round(settings, parsed, NOW + at, state)
        assert [d.limit_a for d in decided.values()] == [14, 14], at
        assert f"grid meter: {note}; holding the last good reading 9660 W" in capsys.readouterr().err
    grid.unlink()
    decided, state = one_round(settings, parsed, NOW + 46, state)
    assert [(d.limit_a, d.reason) for d in decided.values()] == [
        (6, "grid meter: no reading; no good reading for more than one interval: its minimum; capped at 6 A; "
            "grid meter: no reading; no good reading for more than one interval")] * 2
    grid.write_text("6900")  # good again: nothing else in the building, 16 A each (their max)
    decided, state = one_round(settings, parsed, NOW + 47, state)
    assert [d.limit_a for d in decided.values()] == [16, 16]


# -- 2. a charger that refuses a profile --------------------------------------------------------------

@pytest.mark.parametrize("answer, logged", [
    (reject, "a connector 1: SetChargingProfile answered 'Rejected': counted at its max and left alone until it "
             "reconnects"),
    (callerror, "a connector 1: SetChargingProfile answered CALLERROR NotSupported: no smart charging: counted at "
                "its max and left alone until it reconnects"),
])
def test_a_charger_that_refuses_a_profile_is_counted_at_its_max_and_left_alone_until_it_reconnects(
        site, chargers, monkeypatch, capsys, answer, logged):
    settings, parsed = settings_of(site, {"grid_limit_a": 32, "chargers": {"a": {}, "b": {}, "c": {}}})
    for name, pid in (("a", 11), ("b", 12), ("c", 13)):
        chargers.connect(name, pid)
    fake = FakeSend({"a": answer})
    monkeypatch.setattr(command, "send", fake)
    decided, state = one_round(settings, parsed, NOW)
    assert [d.limit_a for d in decided.values()] == [10, 10, 10]
    assert fake.profiles() == [("a", 10), ("b", 10), ("c", 10)]
    assert logged in capsys.readouterr().err
    assert state["failed"] == {"a": {"connection": "a@11",
                                     "why": logged.split("SetChargingProfile ")[1].split(": counted")[0]}}
    assert set(state["accepted"]) == {"b", "c"}
    # counted at its 16 A: 16 A left for b and c, 8 A each; nothing more goes to a
    fake.calls.clear()
    decided, state = one_round(settings, parsed, NOW + 30, state)
    assert [(k, d.limit_a) for k, d in decided.items()] == [(("a", 1), None), (("b", 1), 8), (("c", 1), 8)]
    assert decided[("a", 1)].reason == "refused a profile: counted at its max until it reconnects"
    assert fake.profiles() == [("b", 8), ("c", 8)]
    assert [c for c in fake.calls if c[0] == "a"] == []
    fake.calls.clear()
    decided, state = one_round(settings, parsed, NOW + 60, state)
    assert fake.calls == []
    # it reconnects (a new backend, a new pid), now accepting: it is asked again, the others raised after
    chargers.disconnect("a", 11)
    chargers.connect("a", 21)
    fake.answers = {}
    decided, state = one_round(settings, parsed, NOW + 90, state)
    assert [d.limit_a for d in decided.values()] == [10, 10, 10]
    # (what it takes is asked again after a refusal: it may be another charger now)
    calls = [(c, action, limit) for c, action, limit, _ in fake.calls]
    assert calls[:2] == [("a", "GetConfiguration", None), ("a", "SetChargingProfile", 10)]
    assert sorted(calls[2:]) == [("b", "SetChargingProfile", 10), ("c", "SetChargingProfile", 10)]
    assert state["failed"] == {}


# -- 4. a restart sends nothing new ---------------------------------------------------------------------

def test_a_restarted_controller_sends_every_limit_again_and_within_a_run_only_what_changed(
        site, chargers, monkeypatch, capsys):
    """Two --once runs (two processes' worth: all that is carried over is run/balance/state.json): what
    the charger holds is never taken on trust after a restart; the surplus timer is kept. Within one run,
    a round in which nothing changed sends nothing."""
    grid = site.root / "grid-power"
    grid.write_text("-2000")
    site_json = {"grid_limit_a": 32, "grid_meter": {"file": str(grid)}, "enable_delay_s": 60,
                 "chargers": {"a": {}, "pv": {"mode": "pv", "phases": 1}}}
    settings, parsed = settings_of(site, site_json)
    env = {**site.env, "SHOCPP_SITEFILE": str(site.root / "site.json")}
    chargers.connect("a", 11, power_w=0)
    chargers.connect("pv", 12, status="SuspendedEVSE", power_w=0)
    fake = FakeSend()
    monkeypatch.setattr(command, "send", fake)

    def once(at):
        out = __import__("io").StringIO()
        assert tool.main(["--once"], env=env, out=out, clock=lambda: at) == 0
        return [(d["charger"], d["limit_a"]) for d in json.loads(out.getvalue())]

    assert once(NOW) == [("a", 16), ("pv", 0)]
    assert fake.profiles() == [("a", 16), ("pv", 0)]
    saved = tool.load_state(site.run_dir)
    run = saved["accepted"]["a"]["1"]["run"]
    assert saved["accepted"] == {
        "a": {"1": {"limit_a": 16, "phases": 3, "at": NOW, "run": run, "connection": "a@11",
                    "purpose": "TxDefaultProfile", "transaction_id": None}},
        "pv": {"1": {"limit_a": 0, "phases": 1, "at": NOW, "run": run, "connection": "pv@12",
                     "purpose": "TxDefaultProfile", "transaction_id": None}}}
    assert saved["surplus"]["pv/1"]["surplus_since"] == NOW
    fake.calls.clear()
    capsys.readouterr()
    assert once(NOW + 30) == [("a", 16), ("pv", 0)]
    assert fake.profiles() == [("a", 16), ("pv", 0)]
    assert "a connector 1: sent 16 A on 3 phase(s) (first round of this run: making sure it holds its limit)" \
        in capsys.readouterr().err
    assert [c[1] for c in fake.calls].count("GetConfiguration") == 0  # learned once, remembered per charger
    # the surplus timer survived the restarts: 60 s after it began, pv starts with 2000 W / 230 V = 8 A
    fake.calls.clear()
    assert once(NOW + 60) == [("a", 16), ("pv", 8)]
    assert fake.profiles() == [("a", 16), ("pv", 8)]
    # within one run: only what changed, and a refresh after 15 minutes, no sooner
    state = tool.load_state(site.run_dir)
    fake.calls.clear()
    decided, state = one_round(settings, parsed, NOW + 90, state)
    assert fake.profiles() == [("a", 16), ("pv", 8)]
    fake.calls.clear()
    for at in (NOW + 120, NOW + 989):
        decided, state = one_round(settings, parsed, at, state)
        assert fake.calls == []
    decided, state = one_round(settings, parsed, NOW + 990, state)
    assert fake.profiles() == [("a", 16), ("pv", 8)]


# -- 6. a connector whose session ended ----------------------------------------------------------------

def test_a_connector_whose_session_ended_is_lowered_before_its_share_goes_to_the_others(
        site, chargers, monkeypatch):
    settings, parsed = settings_of(site, {"grid_limit_a": 32, "chargers": {"a": {}, "b": {}, "c": {}}})
    for name, pid in (("a", 11), ("b", 12), ("c", 13)):
        chargers.connect(name, pid)
    fake = FakeSend()
    monkeypatch.setattr(command, "send", fake)
    decided, state = one_round(settings, parsed, NOW)
    assert fake.profiles() == [("a", 10), ("b", 10), ("c", 10)]
    fake.calls.clear()
    chargers.status("c", 13, "Finishing")
    decided, state = one_round(settings, parsed, NOW + 30, state)
    # c's 10 A could let the next car there draw 16 + 16 + 10 A: it goes to 0 A before a and b are raised
    sent = [(c, limit) for c, action, limit, _ in fake.calls if action == "SetChargingProfile"]
    assert sent[0] == ("c", 0) and sorted(sent[1:]) == [("a", 16), ("b", 16)]
    assert decided[("c", 1)].reason == "not charging: 0 A, its minimum 6 A is not free on L1/L2/L3"
    fake.calls.clear()
    decided, state = one_round(settings, parsed, NOW + 60, state)
    assert fake.calls == []
    # the next car: equal shares again, a and b lowered first
    chargers.status("c", 13, "SuspendedEVSE")
    decided, state = one_round(settings, parsed, NOW + 90, state)
    sent = [(c, limit) for c, action, limit, _ in fake.calls if action == "SetChargingProfile"]
    assert sorted(sent[:2]) == [("a", 10), ("b", 10)] and sent[2] == ("c", 10)


# -- 7. site.json still using "off" in its old sense --------------------------------------------------

def test_check_and_the_balancer_point_out_a_site_json_using_off(site, chargers, monkeypatch, capsys):
    from shocpp import exits
    from shocpp.tools import listener
    settings, parsed = settings_of(site, {"grid_limit_a": 32, "chargers": {"a": {"mode": "off"}, "b": {}}})
    env = {**site.env, "SHOCPP_SITEFILE": str(site.root / "site.json")}
    said = ('site.json: mode "off" (a) pauses the charger with a 0 A limit; for the old meaning of "off" '
            '(no profile sent, counted at its max_a) write "unmanaged"')
    assert listener.main(["--check"], env) == exits.OK
    assert f"warning {said}" in capsys.readouterr().out
    monkeypatch.setattr(command, "send", FakeSend())
    assert tool.main(["--once", "--dry-run"], env=env) == 0
    assert f"shocpp-balance: {said}" in capsys.readouterr().err
    settings_of(site, {"grid_limit_a": 32, "default": {"mode": "off"}, "chargers": {"a": {"mode": "unmanaged"},
                                                                                     "b": {}}})
    assert listener.main(["--check"], env) == exits.OK
    assert 'warning site.json: mode "off" (default, b) pauses' in capsys.readouterr().out
    settings_of(site, {"grid_limit_a": 32, "chargers": {"a": {"mode": "unmanaged"}}})
    assert listener.main(["--check"], env) == exits.OK
    assert "warning site.json" not in capsys.readouterr().out
    settings_of(site, {"grid_limit_a": 32})  # as site.json was written before: every charger balanced
    assert listener.main(["--check"], env) == exits.OK
    assert ('warning site.json: names no chargers: only those named in "chargers" are balanced (any other '
            'identity is ignored), so nothing is') in capsys.readouterr().out


# -- 8. the log: what changed, not every connector every round -----------------------------------------

def test_a_round_logs_only_the_decisions_that_changed_and_once_logs_them_all(site, chargers, monkeypatch, capsys):
    settings, parsed = settings_of(site, {"grid_limit_a": 32, "chargers": {"a": {}, "b": {}}})
    chargers.connect("a", 11)
    chargers.connect("b", 12)
    monkeypatch.setattr(command, "send", FakeSend())
    decided, state = one_round(settings, parsed, NOW)
    first = capsys.readouterr().err
    assert "a connector 1: 16 A on 3 phase(s): fast; capped at 16 A" in first
    assert "b connector 1: 16 A on 3 phase(s): fast; capped at 16 A" in first
    for at in (30, 60, 90):
        decided, state = one_round(settings, parsed, NOW + at, state)
        assert capsys.readouterr().err == ""
    chargers.connect("c", 13)  # not in site.json: said once
    settings, parsed = settings_of(site, {"grid_limit_a": 20, "chargers": {"a": {}, "b": {}}})
    decided, state = one_round(settings, parsed, NOW + 120, state)
    err = capsys.readouterr().err
    assert "a connector 1: 10 A on 3 phase(s)" in err and "b connector 1: 10 A on 3 phase(s)" in err
    assert "not in site.json, ignored: c" in err
    decided, state = one_round(settings, parsed, NOW + 150, state)
    assert capsys.readouterr().err == ""
    env = {**site.env, "SHOCPP_SITEFILE": str(site.root / "site.json")}
    assert tool.main(["--once", "--dry-run"], env=env) == 0
    err = capsys.readouterr().err
    assert "a connector 1: 10 A on 3 phase(s)" in err and "b connector 1: 10 A on 3 phase(s)" in err


def test_after_a_restart_a_connector_whose_session_ended_meanwhile_loses_its_old_limit(site, chargers, monkeypatch):
    """The balancer was down when b's session ended: b may still hold its 16 A from the last run, which
    the next car would draw on top of a's share. The new run gives it what an idle connector gets."""
    settings, parsed = settings_of(site, {"grid_limit_a": 32, "chargers": {"a": {}, "b": {}}})
    chargers.connect("a", 11)
    chargers.connect("b", 12)
    fake = FakeSend()
    monkeypatch.setattr(command, "send", fake)
    decisions, state = tool.round_(settings, parsed, {}, NOW, run="first", timeout=1.0)
    assert fake.profiles() == [("a", 16), ("b", 16)]
    chargers.status("b", 12, "Available")
    fake.calls.clear()
    decisions, state = tool.round_(settings, parsed, state, NOW + 600, run="second", timeout=1.0)
    assert [(d.charger, d.limit_a, d.reason) for d in decisions] == [
        ("a", 16, "fast; capped at 16 A"), ("b", 6, "not charging: its minimum 6 A is free for the next car")]
    assert fake.profiles() == [("a", 16), ("b", 6)]


def test_a_charger_that_takes_only_tx_profiles_is_not_sent_a_default_between_sessions(
        site, chargers, monkeypatch, capsys):
    """An ABB Terra AC rejects TxDefaultProfile: during a session it gets a TxProfile; once the session
    ended there is no transaction to name, and nothing is sent (it is not taken for a refusing charger)."""
    settings, parsed = settings_of(site, {"grid_limit_a": 32, "chargers": {"abb": {}, "b": {}}})
    chargers.connect("abb", 11)
    chargers.connect("b", 12)
    (site.accounting).mkdir(exist_ok=True)
    (site.accounting / "2027-01.jsonl").write_text(json.dumps({
        "event": "start", "charger": "abb", "connector_id": 1, "transaction_id": 10000123, "account": "home",
        "id_tag": "1111", "start_time": "2027-01-15T08:00:00Z", "meter_start_wh": 0}) + "\n")

    def abb(action, payload, timeout):
        profile = payload.get("csChargingProfiles") or {}
        if action == "SetChargingProfile" and profile.get("chargingProfilePurpose") == "TxDefaultProfile":
            return {"status": "result", "payload": {"status": "Rejected"}}
        return accept(action, payload, timeout)
    fake = FakeSend({"abb": abb})
    monkeypatch.setattr(command, "send", fake)
    decided, state = one_round(settings, parsed, NOW)
    assert decided[("abb", 1)].transaction_id == 10000123
    assert [(c, a) for c, a, _, _ in fake.calls if c == "abb"] == [
        ("abb", "GetConfiguration"), ("abb", "SetChargingProfile"), ("abb", "SetChargingProfile")]
    assert state["learned"]["abb"]["purpose"] == "TxProfile" and state["failed"] == {}
    (site.accounting / "2027-01.jsonl").unlink()  # the session ended: no start without its stop
    chargers.status("abb", 11, "Available")
    fake.calls.clear()
    decided, state = one_round(settings, parsed, NOW + 30, state)
    assert decided[("abb", 1)].limit_a == 6 and [c for c in fake.calls if c[0] == "abb"] == []
    assert state["failed"] == {}
