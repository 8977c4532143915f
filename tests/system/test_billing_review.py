"""Issue 19 end to end: each reproduction of "one frame moves money" through bin/shocpp-listener (real
websocketd) with the `ocpp` package's ChargePoint, the totals bin/shocpp-summary gives, and the review
workflow (--accept / --reject) through the real command. Times are relative to now, as a charger's are."""

import json
import subprocess
from datetime import datetime, timedelta, timezone

from ocpp.v16 import call

from conftest import BIN, charger, run

TAGS = [{"index": 1, "account": "home", "ids": ["1111", "2222"]},
        {"index": 2, "account": "company-x", "ids": ["3333"]},
        {"index": 3, "account": "guest", "ids": ["4444"]}]


def ago(**delta):
    return (datetime.now(timezone.utc) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_guest(site):
    site.tags_file.write_text(json.dumps(TAGS))


def summary(site, *args):
    """bin/shocpp-summary over the months of the last three hours (the sessions' months), or with `args`."""
    first = (datetime.now(timezone.utc) - timedelta(hours=3)).astimezone().strftime("%Y-%m")
    argv = list(args) or ["--from", first]
    done = subprocess.run([str(BIN / "shocpp-summary"), *argv], capture_output=True, text=True, env=site.env,
                          timeout=30)
    return done


def totals(site):
    doc = json.loads(summary(site, "--from", _first(), "--format", "json").stdout)
    accounts = [(a["account"], a["sessions"], a["kwh"]) for a in doc["accounts"]]
    return accounts, doc["grand_total"]["kwh"], doc["to_review"], doc


def _first():
    return (datetime.now(timezone.utc) - timedelta(hours=3)).astimezone().strftime("%Y-%m")


def running(site):
    done = subprocess.run([str(BIN / "shocpp-status"), "--json"], capture_output=True, text=True, env=site.env,
                          timeout=30)
    return {(c["identity"], k["connector_id"]): k["session"]["transaction_id"]
            for c in json.loads(done.stdout)["chargers"] for k in c["connectors"] if k.get("session")}


async def start(cp, tag, meter_start, at, connector=1):
    return (await cp.call(call.StartTransaction(connector_id=connector, id_tag=tag, meter_start=meter_start,
                                                timestamp=at))).transaction_id


async def stop(cp, tid, meter_stop, at, tag=None):
    await cp.call(call.StopTransaction(transaction_id=tid, meter_stop=meter_stop, timestamp=at, id_tag=tag))


def test_a_stop_sent_three_times_with_new_times_and_readings_is_billed_once(site, listener_url):
    async def session():
        async with charger(listener_url, "CP1") as cp:
            tid = await start(cp, "1111", 12_345_678, ago(hours=2))
            await stop(cp, tid, 12_355_678, ago(hours=1))
            await stop(cp, tid, 12_355_678, ago(minutes=50))  # rebuilt after a reboot: a new timestamp
            await stop(cp, tid, 12_355_679, ago(minutes=50))  # and a reading one Wh on
            return tid
    assert run(session()) == 10_012_345
    accounts, grand, to_review, doc = totals(site)
    assert (accounts, grand, to_review) == ([("home", 1, "10.000")], "10.000", 0)
    assert [(s["status"], s["kwh"]) for s in doc["sessions"]] == [
        ("billed", "10.000"), ("repeat", "10.000"), ("repeat", "10.001")]
    first = doc["sessions"][0]["id"]
    assert [s["repeat_of"] for s in doc["sessions"][1:]] == [first, first]
    table = summary(site).stdout
    assert "home                                   1  10.000" in table
    assert "2 stops repeating a stop already billed are in no total." in table


def test_a_forged_stop_from_nowhere_bills_nothing_and_waits_for_review(site, listener_url):
    async def forged():
        async with charger(listener_url, "intruder") as cp:
            await cp.call(call.StopTransaction(transaction_id=20_000_000, meter_stop=4_999_999_000,
                                               timestamp=ago(minutes=5)))
            # a plausible one next: the first, kept for review, does not make the intruder a known charger
            await cp.call(call.StopTransaction(transaction_id=20_000_000, meter_stop=20_000, timestamp=ago(minutes=4)))
    run(forged())
    accounts, grand, to_review, doc = totals(site)
    assert (accounts, grand, to_review) == ([], "0.000", 2)
    line, small = doc["review"]
    assert (line["reason"], line["charger"], line["account"], line["energy_wh"]) == (
        "unknown_charger", "intruder", "company-x", 4_999_999_000)
    assert (small["reason"], small["energy_wh"]) == ("unknown_charger", 20_000)
    assert "grand total, with unknown tags         0  0.000" in summary(site).stdout
    # rejected for good: in no total, no longer waiting
    done = summary(site, "--reject", line["id"])
    assert done.returncode == 0 and done.stdout.startswith(f"rejected {line['id']}: company-x's 4999999.000 kWh")
    accounts, grand, to_review, doc = totals(site)
    assert (accounts, grand, to_review, doc["left_out"]["sessions"]) == ([], "0.000", 1, 2)
    (decision,) = [r for r in site.ledger_lines() if r.get("event") == "decision"]
    assert (decision["decision"], decision["line"]) == ("reject", line["id"])


def test_a_stop_with_another_accounts_transaction_id_moves_nothing_until_accepted(site, start_listener):
    with_guest(site)
    url = start_listener()

    async def session():
        async with charger(url, "CP1") as cp:
            tid = await start(cp, "4444", 12_345_678, ago(hours=2))
            await stop(cp, 20_012_345, 12_355_678, ago(minutes=1))
            return tid
    assert run(session()) == 30_012_345
    accounts, grand, to_review, doc = totals(site)
    assert (accounts, grand, to_review) == ([], "0.000", 1)
    assert doc["review"][0]["reason"] == "account_mismatch"
    assert running(site) == {("CP1", 1): 30_012_345}  # the guest's session is shown as running
    done = summary(site, "--accept", doc["review"][0]["id"])
    assert done.returncode == 0, done.stderr
    accounts, grand, to_review, _ = totals(site)
    assert (accounts, grand, to_review) == ([("guest", 1, "10.000")], "10.000", 0)
    assert running(site) == {}  # closed by the decision
    again = summary(site, "--accept", doc["review"][0]["id"])
    assert (again.returncode, again.stdout) == (0, f"{doc['review'][0]['id']} is counted already: nothing written\n")


def test_a_stop_from_a_clock_fallen_back_to_2019_is_billed_this_month(site, listener_url):
    async def session():
        async with charger(listener_url, "CP1") as cp:
            tid = await start(cp, "1111", 12_345_678, ago(hours=2))
            await stop(cp, tid, 12_355_678, "2019-06-01T12:00:00Z")
    run(session())
    assert not (site.accounting / "2019-06.jsonl").exists()
    accounts, grand, to_review, doc = totals(site)
    assert (accounts, grand, to_review) == ([("home", 1, "10.000")], "10.000", 0)
    (line,) = site.stop_lines()
    assert (line["flags"], line["verdict"], line["stop_time"]) == (["clock_off"], "billed", "2019-06-01T12:00:00Z")
    assert 7200 <= line["duration_s"] < 7300  # to its receipt
    assert running(site) == {}
    assert "clock_off: the charger's clock was off, billed by receipt time" in summary(site).stdout


def test_a_retransmitted_start_keeps_its_transaction_id_after_its_tag_moved_account(site, listener_url):
    at = ago(minutes=30)

    async def first():
        async with charger(listener_url, "CP1") as cp:
            return await start(cp, "1111", 12_345_678, at)

    async def again():
        async with charger(listener_url, "CP1") as cp:
            return await start(cp, "1111", 12_345_678, at)
    assert run(first()) == 10_012_345
    moved = [{"index": 1, "account": "home", "ids": ["2222"]}, {"index": 2, "account": "company-x",
                                                                "ids": ["3333", "1111"]}]
    site.tags_file.write_text(json.dumps(moved))
    assert run(again()) == 10_012_345
    (record,) = site.start_lines()
    assert (record["transaction_id"], record["account"]) == (10_012_345, "home")
