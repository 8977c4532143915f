"""End to end, sessions: start records and stops tied to them, through bin/shocpp-listener (real
websocketd) with the `ocpp` package as the charger."""

from ocpp.v16 import call

from conftest import charger, run


async def start(cp, tag, meter_start, connector=1, at="2026-11-01T10:00:00Z"):
    started = await cp.call(call.StartTransaction(connector_id=connector, id_tag=tag, meter_start=meter_start,
                                                  timestamp=at))
    return started.transaction_id


async def stop(cp, tid, meter_stop, at="2026-11-01T12:00:00Z", tag=None):
    await cp.call(call.StopTransaction(transaction_id=tid, meter_stop=meter_stop, timestamp=at, id_tag=tag))


def billed(records):
    """What each stop line bills: its verdict (and the reason it waits for review) last."""
    return [(r["charger"], r["transaction_id"], r["account"], r["energy_wh"], r["consumed_kwh"], r["flags"],
             r["verdict"] + (f": {r['review']}" if "review" in r else "")) for r in records]


def test_a_546_wh_session_is_billed_546_wh(site, listener_url):
    async def session():
        async with charger(listener_url, "CP1") as cp:
            tid = await start(cp, "1111", 1_000_454)
            await stop(cp, tid, 1_001_000, tag="1111")
            return tid
    assert run(session()) == 10_001_000
    assert billed(site.stop_lines()) == [("CP1", 10_001_000, "home", 546, 1, [], "billed")]
    (line,) = site.stop_lines()
    assert (line["connector_id"], line["start_time"], line["duration_s"], line["meter_start_wh"],
            line["consumed_wh"]) == (1, "2026-11-01T10:00:00Z", 7200, 1_000_454, 546)


def test_two_accounts_alternating_on_one_charger_are_billed_to_the_wh(site, listener_url):
    plan = [("1111", 546), ("3333", 1_061), ("1111", 61), ("3333", 999), ("1111", 454)]

    async def sessions():
        reading, tids = 5_000_700, []
        async with charger(listener_url, "CP1") as cp:
            for n, (tag, wh) in enumerate(plan):
                tid = await start(cp, tag, reading, at=f"2026-11-0{n + 1}T10:00:00Z")
                reading += wh
                await stop(cp, tid, reading, at=f"2026-11-0{n + 1}T11:00:00Z")
                tids.append(tid)
        return tids
    assert run(sessions()) == [10_005_000, 20_005_001, 10_005_002, 20_005_002, 10_005_003]
    assert [(r["account"], r["energy_wh"], r["flags"]) for r in site.stop_lines()] == [
        ("home", 546, []), ("company-x", 1_061, []), ("home", 61, []), ("company-x", 999, []), ("home", 454, [])]
    # whole kWh, kept for old scripts, cross kWh boundaries: 1,061 Wh of company-x's counts 1 kWh, 999 Wh 1 kWh
    assert [r["consumed_kwh"] for r in site.stop_lines()] == [1, 1, 0, 1, 0]


def test_a_stop_with_transaction_id_minus_one_is_billed_to_the_account_that_started(site, listener_url):
    async def session():
        async with charger(listener_url, "go-e") as cp:
            await start(cp, "3333", 7_000_000)
            await stop(cp, -1, 7_002_500)
    run(session())
    assert billed(site.stop_lines()) == [("go-e", -1, "company-x", 2_500, None, ["reconciled"], "billed")]


def test_a_stop_for_a_transaction_started_on_another_charger_goes_to_review(site, listener_url):
    async def sessions():
        async with charger(listener_url, "garage-left") as left, charger(listener_url, "garage-right") as right:
            tid = await start(left, "1111", 2_000_000)
            await stop(right, tid, 2_004_000)
            return tid
    tid = run(sessions())
    assert billed(site.stop_lines()) == [("garage-right", tid, "home", 4_000, 4, [], "review: other_charger")]
    (opened,) = site.start_lines()
    assert opened["charger"] == "garage-left"


def test_a_stop_that_matches_no_start_from_an_unknown_charger_goes_to_review(site, listener_url):
    async def forged():
        async with charger(listener_url, "CP1") as cp:
            await stop(cp, 20_000_000, 4_999_999_000, at="2026-11-15T10:00:00Z")
    run(forged())
    assert billed(site.stop_lines()) == [
        ("CP1", 20_000_000, "company-x", 4_999_999_000, 4_999_999, ["no_start"], "review: unknown_charger")]
