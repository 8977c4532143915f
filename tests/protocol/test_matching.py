"""Open, closed and running start records, pure: records in, starts out."""

from datetime import datetime, timedelta, timezone

from shocpp.protocol.matching import agrees, closer, open_starts, running

NOW = datetime(2026, 11, 2, tzinfo=timezone.utc)


def start(tid, wh, charger="CP1", connector=1, at="2026-11-01T10:00:00Z", index=None):
    return {"event": "start", "charger": charger, "connector_id": connector, "transaction_id": tid,
            "id_tag": "1111", "account": "home", "account_index": tid // 10_000_000 if index is None else index,
            "meter_start_wh": wh, "start_time": at}


def stop_of(record):
    return {"event": "stop", "charger": record["charger"], "transaction_id": record["transaction_id"],
            "connector_id": record["connector_id"], "meter_start_wh": record["meter_start_wh"],
            "start_time": record["start_time"]}


A = start(10_012_345, 12_345_678)


def test_a_start_agrees_with_its_own_transaction_id_only():
    assert agrees(A, 10_012_345)
    assert not agrees(A, 10_012_346)
    assert not agrees({**A, "meter_start_wh": 99_000_000}, 10_012_345)
    assert not agrees({**A, "account_index": "1"}, 10_012_345)


def test_open_starts_are_those_without_a_matched_stop_and_old_lines_count_as_stops():
    b = start(20_000_001, 1_500, connector=2)
    old_stop = {"charger": "CP1", "transaction_id": 10_012_345, "meter_stop_wh": 1}  # no event, no start fields
    assert open_starts([A, b, old_stop, stop_of(b)]) == [A]
    assert closer([A, b, old_stop, stop_of(b)], b) == stop_of(b)
    assert closer([A], A) is None


def test_an_accepted_decision_closes_a_start_a_rejected_one_does_not():
    accepted = {"event": "decision", "decision": "accept", "line": "x", **{k: A[k] for k in
                ("charger", "connector_id", "meter_start_wh", "start_time")}}
    assert open_starts([A, accepted]) == []
    assert open_starts([A, {**accepted, "decision": "reject"}]) == [A]


def test_running_is_open_not_stale_and_the_newest_of_a_connector():
    old = start(10_000_001, 1_000, at="2026-10-01T10:00:00Z")
    b = start(20_000_001, 1_500, connector=2)
    other = start(20_000_002, 2_500, charger="CP2")
    records = [old, A, b, other]
    assert running(records, NOW, timedelta(days=7)) == [A, b, other]
    assert running(records, NOW, timedelta(days=7), "CP1") == [A, b]
    assert running([old], NOW, timedelta(days=7)) == []  # stale


def test_records_with_odd_values_neither_match_nor_break():
    odd = {**A, "start_time": ["2026"], "account_index": "1"}
    assert not agrees(odd, 10_012_345)
    assert open_starts([{**A, "start_time": {"a": 1}}, stop_of({**A, "start_time": {"a": 1}})]) == []
