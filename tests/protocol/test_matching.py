"""Tying a stop to its start record, pure: records in, the start and the flags out."""

import pytest

from shocpp.protocol.matching import Match, match, open_starts

LISTED = {1, 2}


def start(tid, wh, charger="CP1", connector=1, at="2026-11-01T10:00:00Z", index=None):
    return {"event": "start", "charger": charger, "connector_id": connector, "transaction_id": tid,
            "id_tag": "1111", "account": "home", "account_index": tid // 10_000_000 if index is None else index,
            "meter_start_wh": wh, "start_time": at}


def stop_of(record):
    return {"event": "stop", "charger": record["charger"], "transaction_id": record["transaction_id"],
            "connector_id": record["connector_id"], "meter_start_wh": record["meter_start_wh"],
            "start_time": record["start_time"]}


A = start(10_012_345, 12_345_678)


def test_a_stop_finds_its_start():
    assert match("CP1", 10_012_345, [A], LISTED) == Match(A, ())


def test_a_reused_transaction_id_takes_the_newest_open_start():
    first, second = start(10_000_000, 100, at="2026-11-01T10:00:00Z"), start(10_000_000, 646, at="2026-11-01T12:00:00Z")
    assert match("CP1", 10_000_000, [first, second], LISTED) == Match(second, ())
    assert match("CP1", 10_000_000, [first, second, stop_of(second)], LISTED) == Match(first, ())
    assert match("CP1", 10_000_000, [first, stop_of(first), second, stop_of(second)], LISTED) == \
        Match(None, ("no_start",))


def test_a_start_whose_reading_disagrees_with_the_id_is_no_start():
    edited = {**A, "meter_start_wh": 99_000_000}
    assert match("CP1", 10_012_345, [edited], LISTED) == Match(None, ("no_start",))


def test_a_start_on_another_charger_is_flagged():
    assert match("CP2", 10_012_345, [A], LISTED) == Match(None, ("other_charger",))
    assert match("CP2", 10_012_345, [A, stop_of(A)], LISTED) == Match(None, ("other_charger",))


@pytest.mark.parametrize("tid", [-1, 0, 2**63 - 1, 90_000_000])  # none, zero, undecodable, unlisted index
def test_an_unusable_id_is_reconciled_with_the_one_open_session_of_the_charger(tid):
    other = start(20_000_001, 1_500, charger="CP2")
    assert match("CP1", tid, [A, other], LISTED) == Match(A, ("reconciled",))


def test_no_reconciling_when_the_charger_has_none_or_several_open_sessions():
    second = start(20_000_001, 1_500, connector=2)
    assert match("CP1", -1, [A, second], LISTED) == Match(None, ("no_start",))
    assert match("CP1", -1, [A, stop_of(A)], LISTED) == Match(None, ("no_start",))
    assert match("CP1", -1, [], LISTED) == Match(None, ("no_start",))


def test_open_starts_are_those_without_a_matched_stop_and_old_lines_count_as_stops():
    b = start(20_000_001, 1_500, connector=2)
    old_stop = {"charger": "CP1", "transaction_id": 10_012_345, "meter_stop_wh": 1}  # no event, no start fields
    assert open_starts([A, b, old_stop, stop_of(b)]) == [A]


def test_records_with_odd_values_neither_match_nor_break():
    odd = {**A, "start_time": ["2026"], "account_index": "1"}
    assert match("CP1", 10_012_345, [odd], LISTED) == Match(None, ("no_start",))
    assert open_starts([{**A, "start_time": {"a": 1}}, stop_of({**A, "start_time": {"a": 1}})]) == []
