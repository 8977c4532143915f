"""Soak (issue 19): three chargers with two connectors each charge at once through bin/shocpp-listener
(real websocketd) with the `ocpp` package's ChargePoint, and every stop comes again: once exactly (a lost
confirmation) and twice rebuilt with a later timestamp, a reading a few Wh on and with or without its
idTag (a charger's queue after a reboot), some while the connector's next session runs. Every session is
billed once, to the Wh, to the account that started it; every rebuilt stop is a repeat; nothing waits."""

import asyncio
import json
import random
import subprocess
from collections import Counter
from datetime import datetime, timedelta, timezone

from ocpp.v16 import call

from conftest import BIN, charger, run

TAGS = {"1111": "home", "2222": "home", "3333": "company-x"}
ROUNDS = 20


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def a_charger(url, identity, rng, begin, expected):
    """ROUNDS sessions on each of two connectors; `expected`: {account: Wh} of the sessions, added to."""
    readings = {1: 1_000_000 + rng.randrange(1000), 2: 50_000_000 + rng.randrange(1000)}
    clock = begin
    rebuilt = []  # stops to send again, rebuilt, after the next session started

    def tick(minutes=1):
        nonlocal clock
        clock += timedelta(minutes=minutes)
        return stamp(clock)

    async with charger(url, identity) as cp:
        for _ in range(ROUNDS):
            open_ = {}
            for connector in (1, 2):
                tag = rng.choice(sorted(TAGS))
                started = await cp.call(call.StartTransaction(connector_id=connector, id_tag=tag,
                                                              meter_start=readings[connector], timestamp=tick()))
                open_[connector] = (started.transaction_id, tag, readings[connector])
            for payload in rebuilt:  # the previous round's stops, rebuilt: the next sessions run meanwhile
                await cp.call(payload)
            rebuilt = []
            for connector in (2, 1):
                tid, tag, begin_wh = open_[connector]
                wh = rng.randrange(1_000, 30_000)  # at least 1 kWh: a connector's next session has a new id
                readings[connector] = begin_wh + wh
                expected[TAGS[tag]] = expected.get(TAGS[tag], 0) + wh
                stopped_at = tick(rng.randrange(40, 60))  # 30 kWh in 40 minutes: 45 kW, plausible
                stop = call.StopTransaction(transaction_id=tid, meter_stop=readings[connector], timestamp=stopped_at,
                                            id_tag=tag)
                await cp.call(stop)
                await cp.call(stop)  # exactly again: confirmed, not written again
                for n in (1, 2):
                    rebuilt.append(call.StopTransaction(
                        transaction_id=tid, meter_stop=readings[connector] + rng.randrange(0, 4),
                        timestamp=stamp(clock + timedelta(minutes=5 * n)), id_tag=rng.choice([tag, None])))
        for payload in rebuilt:
            await cp.call(payload)


def test_every_session_is_billed_once_however_its_stop_is_resent(site, listener_url):
    rng = random.Random(19)
    begin = datetime.now(timezone.utc) - timedelta(hours=ROUNDS * 2 + 2)
    expected = {}

    async def soak():
        await asyncio.gather(*(a_charger(listener_url, f"CP-{n}", rng, begin, expected) for n in range(3)))
    run(soak())
    first = begin.astimezone().strftime("%Y-%m")
    done = subprocess.run([str(BIN / "shocpp-summary"), "--from", first, "--format", "json"], capture_output=True,
                          text=True, env=site.env, timeout=60)
    doc = json.loads(done.stdout)
    sessions = 3 * 2 * ROUNDS
    assert {a["account"]: (a["sessions"], a["wh"]) for a in doc["accounts"]} == {
        name: (sum(1 for s in doc["sessions"] if s["account"] == name and s["counted"]), wh)
        for name, wh in expected.items()}
    assert (doc["grand_total"]["sessions"], doc["grand_total"]["wh"]) == (sessions, sum(expected.values()))
    assert (doc["to_review"], doc["left_out"]["sessions"]) == (0, 0)
    assert Counter(s["status"] for s in doc["sessions"]) == {"billed": sessions, "repeat": 2 * sessions}
    billed = {s["id"] for s in doc["sessions"] if s["status"] == "billed"}
    assert Counter(s["repeat_of"] for s in doc["sessions"] if s["status"] == "repeat") == {i: 2 for i in billed}
    stops = site.stop_lines()
    assert len(stops) == 3 * sessions  # the exact retransmissions were not written again
    assert len({(r["charger"], r["connector_id"], r["meter_start_wh"]) for r in stops}) == sessions
