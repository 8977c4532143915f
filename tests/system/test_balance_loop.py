"""shocpp-balance as the site's closed-loop controller, end to end: the real listener, bin/shocpp-balance
and chargers made with the `ocpp` package that keep the profiles they accept (tests/balance_charger.py)."""

import asyncio
import contextlib
import functools
import json
import time

from ocpp.v16 import call

from conftest import BIN, charger, run
from balance_charger import Car
from shocpp import balance_control


def write_site(site, chargers, grid_limit_a, **more):
    path = site.root / "site.json"
    path.write_text(json.dumps({"grid_limit_a": grid_limit_a, "interval_s": 1, "ramp_s": 1,
                                "default": {"min_a": 6, "max_a": 16}, "chargers": chargers, **more}))
    return {**site.env, "SHOCPP_SITEFILE": str(path)}


async def tool(env, *args):
    proc = await asyncio.create_subprocess_exec(*args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def once(env):
    """One round of bin/shocpp-balance --once: {(charger, connector): decision}, and its log."""
    code, out, err = await tool(env, str(BIN / "shocpp-balance"), "--once")
    assert code == 0, err
    return {(d["charger"], d["connector_id"]): d for d in json.loads(out)}, err


@contextlib.asynccontextmanager
async def balancer(site, env):
    """bin/shocpp-balance running, a round every second; stopped with SIGTERM at the end."""
    log = open(site.root / "balance.err", "ab")
    proc = await asyncio.create_subprocess_exec(str(BIN / "shocpp-balance"), env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=log)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        log.close()


async def until(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def charging(url, *cars):
    """Connected chargers (name, class), each with a session running: yields them in order."""
    async with contextlib.AsyncExitStack() as stack:
        found = [await stack.enter_async_context(charger(url, name, kind)) for name, kind in cars]
        for car in found:
            await car.start_session()
        yield found


def logged(site):
    return (site.root / "balance.err").read_text()


def test_a_profile_cleared_around_the_balancer_is_corrected_within_one_round(site, listener_url):
    """A 20 A site, two chargers at 10 A; the operator clears one's profile with shocpp-command
    (it would charge at 16 A): shocpp-command warns, and the next round gives it its 10 A again."""
    env = write_site(site, {"a": {}, "b": {}}, 20)

    async def scenario():
        async with charging(listener_url, ("a", Car), ("b", Car)) as (a, b), balancer(site, env):
            await until(lambda: a.limit()[0] == 10 and b.limit()[0] == 10)
            await until(lambda: balance_control.running(site.run_dir, time.time()))
            code, out, err = await tool(env, str(BIN / "shocpp-command"), "--charger", "a",
                                        "ClearChargingProfile", "{}")
            cleared = time.monotonic()
            assert code == 0 and json.loads(out) == {"status": "Accepted"}, err
            assert "shocpp-balance is running and owns the limits of a" in err
            await until(lambda: a.limit()[0] == 10, 5)
            assert time.monotonic() - cleared < 2.5  # a round is a second; its meter values 0.3 s
            assert a.drawing()["L1"] + b.drawing()["L1"] == 20
            # a raw profile that lowers it (drawing less is never held against a charger): shocpp-command
            # tells the balancer, which sends its own again at its next round
            raw = {"connectorId": 1, "csChargingProfiles": {
                "chargingProfileId": 1, "stackLevel": 8, "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative", "chargingSchedule": {
                    "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]}}}
            code, out, err = await tool(env, str(BIN / "shocpp-command"), "--charger", "a", "SetChargingProfile",
                                        json.dumps(raw))
            assert code == 0 and "owns the limits of a" in err and a.limit()[0] in (6, 10)
            sent = time.monotonic()
            await until(lambda: a.limit()[0] == 10 and a.received[-1]["charging_profile_id"] == 1401, 5)
            assert time.monotonic() - sent < 2.5
        assert "a connector 1: sent 10 A on 3 phase(s) (a profile was sent to it around the balancer)" \
            in logged(site)
        assert logged(site).count("a connector 1: sent 10 A on 3 phase(s) (") >= 3

    run(scenario())


def test_a_charger_that_keeps_drawing_above_its_limit_is_counted_at_its_draw_and_the_others_lowered(
        site, listener_url):
    """A 24 A site: 'a' accepts every profile and ignores it (draws 16 A). Its limit is sent again once;
    then it is marked as not honouring its limit, counted at its 16 A, and b gets the 8 A left: every
    phase within 24 A. shocpp-status says so."""
    env = write_site(site, {"a": {}, "b": {}}, 24)

    async def scenario():
        async with charging(listener_url, ("a", functools.partial(Car, ignore=True)), ("b", Car)) as (a, b):
            async with balancer(site, env):
                def judged():
                    last = balance_control.status(site.run_dir) or {"chargers": {}}
                    connector = ((last["chargers"].get("a") or {}).get("connectors") or {}).get("1") or {}
                    return connector.get("honouring") is False and b.limit()[0] == 8
                await until(judged)
                await asyncio.sleep(0.5)
                assert all(a.drawing()[p] + b.drawing()[p] <= 24 for p in ("L1", "L2", "L3"))
                last = balance_control.status(site.run_dir)["chargers"]
                assert last["a"]["connectors"]["1"]["draw_a"] == 16
                assert last["a"]["connectors"]["1"]["reason"] == \
                    "not honouring its limit: draws 16 A with a limit of 12 A; counted at its draw"
                assert last["b"]["connectors"]["1"]["limit_a"] == 8
                code, out, err = await tool(env, str(BIN / "shocpp-status"))
                assert "limit 12 A (fast), draws 16 A: NOT HONOURING ITS LIMIT" in out, out
                code, out, err = await tool(env, str(BIN / "shocpp-status"), "--json")
                balanced = {c["identity"]: c["connectors"][0]["balance"] for c in json.loads(out)["chargers"]}
                assert balanced["a"]["honouring"] is False and balanced["b"]["honouring"] is True
        resent = [p for p in a.received if p["charging_schedule"]["charging_schedule_period"][0]["limit"] == 12]
        assert len(resent) == 2  # the first profile and the one sent again: then it is counted, not pestered

    run(scenario())


def summary(decided):
    return [(c, k, d["limit_a"], d["phases"], d["mode"], d["honouring"]) for (c, k), d in decided.items()]


def test_a_strangers_absurd_readings_and_fake_sessions_change_nothing(site, listener_url):
    """A 12 A site with one real charger. An identity that is not in site.json reports two connectors
    charging at 1,000,000,000 W (then -1e9 W): the real charger keeps its 12 A, the stranger gets nothing."""
    env = write_site(site, {"a": {}}, 12)

    async def scenario():
        async with charger(listener_url, "a", Car) as a:
            await a.start_session()
            alone, _ = await once(env)
            assert [(k, d["limit_a"]) for k, d in alone.items()] == [(("a", 1), 12)]
            for watts in ("1000000000", "-1000000000"):
                async with charger(listener_url, "stranger") as stranger:
                    await stranger.call(call.BootNotification(charge_point_model="X", charge_point_vendor="Y"))
                    for k in (1, 2):
                        await stranger.call(call.StatusNotification(connector_id=k, error_code="NoError",
                                                                    status="Charging"))
                        await stranger.call(call.MeterValues(connector_id=k, meter_value=[{
                            "timestamp": "2026-12-07T00:00:00Z", "sampled_value": [
                                {"value": watts, "measurand": "Power.Active.Import", "unit": "W"}]}]))
                    decided, err = await once(env)
                    assert summary(decided) == summary(alone) == [("a", 1, 12, 3, "fast", True)]
                    assert "not in site.json, ignored: stranger" in err
                    await stranger.call(call.StartTransaction(connector_id=1, id_tag="1111", meter_start=0,
                                                              timestamp="2026-12-07T00:00:00Z"))
            # gone, its session left running in the ledger: still nothing
            assert any(r.get("charger") == "stranger" for r in site.ledger_lines())
            decided, err = await once(env)
            assert summary(decided) == summary(alone)
            assert a.limit()[0] == 12

    run(scenario())
    sent = [line for line in site.log_file.read_text().splitlines()
            if "stranger" in line.split(" ")[1] and "SetChargingProfile" in line]
    assert sent == []


def test_a_gone_charger_is_counted_at_its_last_limit_and_never_blocks_and_gets_it_again_when_back(
        site, listener_url):
    """A 22 A site, a and b at 11 A. a goes away with its session running: it is counted at its 11 A
    (b is not raised to 16 A), and b's raise from 0 A (off, then fast again) is not held up by it.
    a comes back with its session: it is sent its limit again."""
    env = write_site(site, {"a": {}, "b": {}}, 22)

    async def scenario():
        async with charger(listener_url, "b", Car) as b:
            await b.start_session()
            async with charger(listener_url, "a", Car) as a:
                tid = await a.start_session()
                decided, _ = await once(env)
                assert (decided[("a", 1)]["limit_a"], decided[("b", 1)]["limit_a"]) == (11, 11)
                a.meter_task.cancel()
            await until(lambda: not list(site.run_dir.glob("a@*")))
            decided, err = await once(env)
            assert decided[("a", 1)]["reason"] == \
                "gone: counted at the limit it last accepted, 11 A, until it comes back or its session ends"
            assert decided[("b", 1)]["limit_a"] == 11 and b.limit()[0] == 11
            code, _, err = await tool(env, str(BIN / "shocpp-balance"), "--mode", "b=off")
            assert code == 0, err
            decided, _ = await once(env)
            assert b.limit()[0] == 0
            code, _, err = await tool(env, str(BIN / "shocpp-balance"), "--mode", "b=fast")
            decided, _ = await once(env)
            assert b.limit()[0] == 11
            async with charger(listener_url, "a", Car) as back:
                back.transaction_id = tid
                await back.status("Charging")
                await back.send_meter()
                decided, err = await once(env)
                assert back.limit()[0] == 11 and decided[("a", 1)]["limit_a"] == 11

    run(scenario())


def test_a_restart_sends_every_limit_again(site, listener_url):
    """The charger lost its profile while no balancer ran (state.json says it has 16 A): the next run
    sends it again all the same."""
    env = write_site(site, {"a": {}}, 32)

    async def scenario():
        async with charger(listener_url, "a", Car) as a:
            await a.start_session()
            await once(env)
            assert a.limit()[0] == 16 and len(a.received) == 1
            a.profiles.clear()
            assert a.limit()[0] is None
            _, err = await once(env)
            assert a.limit()[0] == 16 and len(a.received) == 2
            assert "sent 16 A on 3 phase(s) (first round of this run: making sure it holds its limit)" in err

    run(scenario())


def test_a_charger_that_rejects_tx_default_profile_gets_a_tx_profile_and_one_taking_w_only_gets_w(
        site, listener_url):
    env = write_site(site, {"abb": {}, "huawei": {}}, 32)

    async def scenario():
        async with charging(listener_url, ("abb", functools.partial(Car, reject_tx_default=True)),
                            ("huawei", functools.partial(Car, units="Power"))) as (abb, huawei):
            tid = abb.transaction_id
            _, err = await once(env)
            assert [(p["charging_profile_purpose"], p.get("transaction_id")) for p in abb.received] == [
                ("TxDefaultProfile", None), ("TxProfile", tid)]
            assert abb.limit()[0] == 16
            assert f"abb connector 1: TxDefaultProfile answered 'Rejected': a TxProfile for transaction {tid} " \
                   f"instead (remembered for this charger)" in err
            schedule = huawei.received[0]["charging_schedule"]
            assert (schedule["charging_rate_unit"], schedule["charging_schedule_period"][0]["limit"]) == ("W", 11040)
            assert huawei.limit()[0] == 16
            # the next run remembers: a TxProfile straight away, W straight away, no GetConfiguration
            await once(env)
            assert [p["charging_profile_purpose"] for p in abb.received[2:]] == ["TxProfile"]
            assert [p["charging_schedule"]["charging_rate_unit"] for p in huawei.received] == ["W", "W"]
        learned = balance_control.read(site.run_dir, balance_control.STATE)["learned"]
        assert learned == {"abb": {"stack_level": 8, "unit": None, "purpose": "TxProfile"},
                           "huawei": {"stack_level": 8, "unit": "W"}}

    run(scenario())


def test_a_mode_changed_at_run_time_is_applied_at_the_next_round_and_kept_over_a_restart(site, listener_url):
    env = write_site(site, {"a": {}, "b": {}}, 32)

    async def scenario():
        async with charging(listener_url, ("a", Car), ("b", Car)) as (a, b):
            async with balancer(site, env):
                await until(lambda: a.limit()[0] == 16 and b.limit()[0] == 16)
                code, out, err = await tool(env, str(BIN / "shocpp-balance"), "--mode", "a=off", "--max", "b=10")
                assert (code, out) == (0, "a: mode off\nb: maximum 10 A\n"), err
                changed = time.monotonic()
                await until(lambda: a.limit()[0] == 0 and b.limit()[0] == 10, 5)
                assert time.monotonic() - changed < 2.5
                assert a.drawing() == {"L1": 0.0, "L2": 0.0, "L3": 0.0}
                await asyncio.sleep(1.2)
                code, out, _ = await tool(env, str(BIN / "shocpp-status"))
                assert "balancer    limit 0 A (off), draws 0 A" in out and "balancer    limit 10 A (fast)" in out
            assert logged(site).count("a connector 1: 0 A on 3 phase(s): off: paused") == 1  # changes only
            decided, _ = await once(env)
            assert (decided[("a", 1)]["limit_a"], decided[("a", 1)]["mode"]) == (0, "off")
            assert decided[("b", 1)]["limit_a"] == 10
            # a restarted balancer keeps the settings, sends the limits again and logs them all once
            before = logged(site)
            async with balancer(site, env):
                await until(lambda: len(a.received) == 4 and len(b.received) == 4)
                await asyncio.sleep(1.5)
            after = logged(site)[len(before):]
            assert after.count("a connector 1: 0 A on 3 phase(s): off: paused") == 1
            assert after.count("b connector 1: 10 A on 3 phase(s): fast; capped at 10 A") == 1
            assert (a.limit()[0], b.limit()[0]) == (0, 10)

    run(scenario())
