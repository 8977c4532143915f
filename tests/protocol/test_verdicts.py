"""What a stop is worth (verdicts.classify), table-driven: every case of issue 19 and its neighbours."""

from datetime import datetime, timedelta, timezone

import pytest

from shocpp.protocol import billing, review, verdicts
from shocpp.protocol.tags import Tags

TAGS = Tags([{"index": 1, "account": "home", "ids": ["1111", "2222"]},
             {"index": 2, "account": "company-x", "ids": ["3333"]},
             {"index": 3, "account": "guest", "ids": ["4444"]}])
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
UTC = timezone.utc


def at(hours_before):
    return (NOW - timedelta(hours=hours_before)).strftime("%Y-%m-%dT%H:%M:%SZ")


def start(wh, tag="1111", index=1, account="home", charger="CP1", connector=1, when=None, recorded=None):
    when = when or at(2)
    return {"event": "start", "charger": charger, "connector_id": connector,
            "transaction_id": index * 10_000_000 + wh // 1000 % 10_000_000, "id_tag": tag, "account": account,
            "account_index": index, "meter_start_wh": wh, "start_time": when,
            "recorded_at": recorded or when}


def closing(record, meter_stop, when=None):
    """The stop line that billed `record`."""
    stop = verdicts.Stop(record["charger"], record["transaction_id"], meter_stop, None, when or at(1), NOW)
    return billing.stop_line(stop, {"timestamp": stop.stop_time}, verdicts.classify(stop, [record], SITE))


SITE = billing.site_of(TAGS, tz=UTC)
LISTED = billing.site_of(TAGS, charger_listed=True, tz=UTC)

A = start(12_345_678)                                   # home, transactionId 10012345
A_STOP = closing(A, 12_355_678)                         # 10 kWh, billed
GUEST = start(12_345_678, "4444", 3, "guest")           # transactionId 30012345
SMALL1 = start(1_000_100, when=at(5))                   # two sessions under 1 kWh: both 10001000
SMALL1_STOP = closing(SMALL1, 1_000_300, at(4))
SMALL2 = start(1_000_300, when=at(3))
C2 = start(7_000_000, "3333", 2, "company-x", connector=2)  # transactionId 20007000 on connector 2


def stop(tid, meter_stop, tag=None, when=None, charger="CP1"):
    return verdicts.Stop(charger, tid, meter_stop, tag, when or at(1), NOW)


CASES = [
    # name, stop, records, site, (outcome, start, reason, flags, month)
    ("tied to its start", stop(10_012_345, 12_355_678, "1111"), [A], SITE,
     ("billed", A, None, (), "2026-12")),
    ("the same stop, 10 minutes later", stop(10_012_345, 12_355_678, when=at(0.8)), [A, A_STOP], SITE,
     ("repeat", A, None, (), "2026-12")),
    ("the same stop, one Wh more", stop(10_012_345, 12_355_679), [A, A_STOP], SITE,
     ("repeat", A, None, (), "2026-12")),
    ("the same stop, another account's tag", stop(10_012_345, 12_355_678, "3333"), [A, A_STOP], LISTED,
     ("repeat", A, None, (), "2026-12")),
    ("a reused transactionId: the open one", stop(10_001_000, 1_000_900), [SMALL1, SMALL1_STOP, SMALL2], SITE,
     ("billed", SMALL2, None, (), "2026-12")),
    ("a reused transactionId: the older stop again", stop(10_001_000, 1_000_299, when=at(4)),
     [SMALL1, SMALL1_STOP, SMALL2], SITE, ("repeat", SMALL1, None, (), "2026-12")),
    ("two connectors: the second's stop", stop(20_007_000, 7_004_000), [A, C2], SITE,
     ("billed", C2, None, (), "2026-12")),
    ("two connectors: -1 cannot tell which", stop(-1, 7_004_000), [A, C2], SITE,
     ("review", None, "unknown_account", ("no_start",), "2026-12")),
    ("-1 with one running session", stop(-1, 12_350_000), [A], SITE,
     ("billed", A, None, ("reconciled",), "2026-12")),
    ("0 with one running session", stop(0, 12_350_000), [A], SITE,
     ("billed", A, None, ("reconciled",), "2026-12")),
    ("-1 and nothing running", stop(-1, 12_350_000), [A, A_STOP], SITE,
     ("review", None, "unknown_account", ("no_start",), "2026-12")),
    ("a forged stop from an unknown charger", stop(20_000_000, 4_999_999_000), [], SITE,
     ("review", None, "unknown_charger", ("no_start",), "2026-12")),
    ("a forged stop from a listed charger", stop(20_000_000, 4_999_999_000), [], LISTED,
     ("review", None, "too_much_energy", ("no_start",), "2026-12")),
    ("no start, listed charger: the stateless fallback", stop(20_000_000, 20_000), [], LISTED,
     ("billed", None, None, ("no_start",), "2026-12")),
    ("no start, a charger with sessions in the ledger", stop(20_000_000, 20_000), [A, A_STOP], SITE,
     ("billed", None, None, ("no_start",), "2026-12")),
    ("no start, a charger whose only line waits for review", stop(20_000_000, 20_000),
     [{"event": "stop", "charger": "CP1", "transaction_id": 20_000_000, "verdict": "review",
       "review": "unknown_charger"}], SITE, ("review", None, "unknown_charger", ("no_start",), "2026-12")),
    ("no start, a charger with an old billed line", stop(20_000_000, 20_000),
     [{"charger": "CP1", "transaction_id": 10_000_000, "consumed_kwh": 3}], SITE,
     ("billed", None, None, ("no_start",), "2026-12")),
    ("no start, a charger whose only session was of a tag nobody has", stop(20_000_000, 20_000),
     [start(5_000_000, "7777", 0, "unknown", when=at(240))], SITE,
     ("review", None, "unknown_charger", ("no_start",), "2026-12")),
    ("no start, the account's own tag", stop(20_000_000, 20_000, "3333"), [], LISTED,
     ("billed", None, None, ("no_start",), "2026-12")),
    ("no start, another account's tag", stop(20_000_000, 20_000, "1111"), [], LISTED,
     ("review", None, "tag_of_other_account", ("no_start",), "2026-12")),
    ("no start, a tag nobody has", stop(20_000_000, 20_000, "7777"), [], LISTED,
     ("review", None, "tag_of_other_account", ("no_start",), "2026-12")),
    ("another account's transactionId while the guest charges", stop(20_012_345, 12_355_678), [GUEST], LISTED,
     ("review", None, "account_mismatch", (), "2026-12")),
    ("a stale start is not running", stop(20_012_345, 12_355_678),
     [start(12_345_678, "4444", 3, "guest", when=at(24 * 10))], LISTED,
     ("billed", None, None, ("no_start",), "2026-12")),
    ("its start, another account's tag", stop(10_012_345, 12_355_678, "3333"), [A], SITE,
     ("review", A, "tag_of_other_account", (), "2026-12")),
    ("a clock fallen back to 2019", stop(10_012_345, 12_355_678, when="2019-06-01T12:00:00Z"), [A], SITE,
     ("billed", A, None, ("clock_off",), "2026-12")),
    ("a clock a day ahead", stop(10_012_345, 12_355_678, when=at(-24)), [A], SITE,
     ("billed", A, None, ("clock_off",), "2026-12")),
    ("a clock two minutes ahead", stop(10_012_345, 12_355_678, when=at(-1 / 30)), [A], SITE,
     ("billed", A, None, (), "2026-12")),
    ("a stop over a month's end", stop(10_012_345, 12_355_678, when="2026-12-01T01:00:00Z"),
     [start(12_345_678, when="2026-11-30T23:00:00Z")], SITE,
     ("billed", start(12_345_678, when="2026-11-30T23:00:00Z"), None, (), "2026-12")),
    ("a days-old stop replayed after an outage", stop(10_012_345, 12_355_678, when="2026-11-29T12:00:00Z"),
     [start(12_345_678, when="2026-11-29T08:00:00Z")], SITE,
     ("billed", start(12_345_678, when="2026-11-29T08:00:00Z"), None, (), "2026-11")),
    ("a stop on another charger", stop(10_012_345, 12_355_678, charger="CP2"), [A], LISTED,
     ("review", None, "other_charger", (), "2026-12")),
    ("a meter that ran backwards", stop(10_012_345, 12_000_000), [A], SITE,
     ("review", A, "negative", (), "2026-12")),
    ("more than 50 kW can deliver", stop(10_012_345, 12_345_678 + 120_000), [A], SITE,
     ("review", A, "implausible", (), "2026-12")),
]


@pytest.mark.parametrize("name, the_stop, records, site, expected", CASES, ids=[c[0] for c in CASES])
def test_classify(name, the_stop, records, site, expected):
    verdict = verdicts.classify(the_stop, records, site)
    assert (verdict.outcome, verdict.start, verdict.reason, verdict.flags, verdict.month) == expected


def test_a_repeat_names_the_stop_it_repeats():
    verdict = verdicts.classify(stop(10_012_345, 12_355_679), [A, A_STOP], SITE)
    assert verdict.repeat_of == review.line_id(A_STOP)
    assert (verdict.account, verdict.energy_wh) == ("home", 10_001)


def test_the_account_mismatch_names_the_running_session_and_decides_nothing():
    verdict = verdicts.classify(stop(20_012_345, 12_355_678), [GUEST], LISTED)
    assert (verdict.candidate, verdict.account, verdict.account_index) == (GUEST, "company-x", 2)


def test_an_accepted_decision_closes_its_candidate_and_a_later_stop_is_a_repeat():
    line = billing.stop_line(stop(20_012_345, 12_355_678), {}, verdicts.classify(stop(20_012_345, 12_355_678),
                                                                                  [GUEST], LISTED))
    decided = review.decision_record(line, review.ACCEPT, NOW)
    later = verdicts.classify(stop(30_012_345, 12_355_678), [GUEST, line, decided], LISTED)
    assert (later.outcome, later.start) == ("repeat", GUEST)
    rejected = review.decision_record(line, review.REJECT, NOW)
    assert verdicts.classify(stop(30_012_345, 12_355_678), [GUEST, line, rejected], LISTED).outcome == "billed"


def test_a_clock_off_stop_has_its_duration_to_the_receipt():
    line = billing.stop_record("CP1", {"transactionId": 10_012_345, "meterStop": 12_355_678,
                                       "timestamp": "2019-06-01T12:00:00Z"}, TAGS, NOW, [A], tz=UTC)
    assert (line["duration_s"], line["flags"], line["verdict"], line["energy_wh"]) == (7200, ["clock_off"], "billed",
                                                                                        10_000)


@pytest.mark.parametrize("stop_time, months", [
    ("2026-12-07T11:00:00Z", ["2026-11", "2026-12"]),
    ("2026-11-29T11:00:00Z", ["2026-10", "2026-11", "2026-12"]),
    ("2019-06-01T12:00:00Z", ["2026-11", "2026-12"]),      # years back: not trusted
    ("2027-01-01T12:00:00Z", ["2026-11", "2026-12"]),      # ahead: not trusted
    (None, ["2026-11", "2026-12"]),
])
def test_the_months_searched(stop_time, months):
    assert verdicts.search_months(stop_time, NOW, UTC) == months


def test_a_rejected_stop_closes_nothing_and_the_sessions_real_stop_is_billed():
    bogus = billing.stop_line(stop(10_012_345, 12_000_000), {}, verdicts.classify(stop(10_012_345, 12_000_000), [A],
                                                                                  SITE))
    assert (bogus["verdict"], bogus["review"], bogus["meter_start_wh"]) == ("review", "negative", 12_345_678)
    real = stop(10_012_345, 12_355_678, when=at(0.5))
    assert verdicts.classify(real, [A, bogus], SITE).outcome == "repeat"
    rejected = review.decision_record(bogus, review.REJECT, NOW)
    verdict = verdicts.classify(real, [A, bogus, rejected], SITE)
    assert (verdict.outcome, verdict.start, verdict.energy_wh) == ("billed", A, 10_000)
    accepted_after = {**rejected, "decision": "accept", "recorded_at": "later"}
    assert verdicts.classify(real, [A, bogus, rejected, accepted_after], SITE).outcome == "repeat"
