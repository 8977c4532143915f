"""The ledger's duplicate check and lookups: bounded memory, unreadable lines skipped (issue #11, item 5)."""

import json
import tracemalloc
from datetime import datetime, timezone

from shocpp import ledger
from shocpp.protocol import billing
from shocpp.protocol.tags import parse

from ledgers import ledger_stop as record

DEEP = b'{"event": "stop", "charger": "CP1", "transaction_id": 10012345, "id_tag": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"


def test_a_line_nested_too_deep_to_parse_is_skipped_not_an_error_forever(tmp_path):
    (tmp_path / "2026-11.jsonl").write_bytes(DEEP)
    (tmp_path / "2026-10.jsonl").write_bytes(DEEP)
    assert ledger.records(tmp_path, "2026-11", 10012345, "CP1") == []
    assert ledger.append(tmp_path, "2026-11", record()) is True
    assert ledger.append(tmp_path, "2026-11", record()) is False  # still recognised as a retransmission
    assert ledger.append(tmp_path, "2026-12", record(stop_time="2026-12-01T00:00:00Z")) is True
    assert ledger.records(tmp_path, "2026-11", 10012345, "CP1") == [record()]


def _big_month(path, megabytes):
    filler = [json.dumps(record(tid=20000000 + n, stop=n)) + "\n" for n in range(2000)]
    block = "".join(filler).encode()
    with open(path, "wb") as f:
        for _ in range(megabytes * 2**20 // len(block) + 1):
            f.write(block)


def test_lookups_in_a_big_month_hold_a_chunk_not_the_file(tmp_path):
    _big_month(tmp_path / "2026-11.jsonl", 12)
    _big_month(tmp_path / "2026-10.jsonl", 12)
    with open(tmp_path / "2026-11.jsonl", "ab") as f:
        f.write((json.dumps(record()) + "\n").encode())
    tracemalloc.start()
    try:
        assert ledger.append(tmp_path, "2026-11", record()) is False  # found at the very end
        assert ledger.append(tmp_path, "2026-11", record(stop=12350001)) is True
        found = ledger.records(tmp_path, "2026-11", 10012345, "CP9")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r["meter_stop_wh"] for r in found] == [12350000, 12350001]
    assert peak < 4 * 2**20, peak  # the files are 12 MiB each


def test_the_records_keep_at_most_the_schemas_lengths_of_what_a_charger_sent():
    tags = parse(json.dumps([{"index": 1, "account": "home", "ids": ["1111"]}]))
    now = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    nested = [[[["x" * 50]]]]
    start = billing.start_record("CP1", {"connectorId": 1, "idTag": "T" * 500, "meterStart": 5,
                                         "timestamp": "2" * 500}, None, 0, now)
    stop = billing.stop_record("CP1", {"transactionId": 10012345, "meterStop": 12350000, "idTag": nested,
                                       "timestamp": "9" * 500, "reason": "R" * 500}, tags, now)
    assert start["id_tag"] == "T" * 20 and start["start_time"] == "2" * 64
    assert stop["id_tag"] == "[[[['xxxxxxxxxxxxxxx" and stop["stop_time"] == "9" * 64 and stop["reason"] == "R" * 32
    assert len(ledger.encode(stop)) < 1000


def test_an_append_searches_only_the_new_tail_under_the_exclusive_lock(tmp_path, monkeypatch):
    """#24 item 2: the month is searched under a shared lock (searches share it); under the exclusive
    lock of the write only what was appended since is searched, so appends do not queue behind scans."""
    import fcntl
    import os
    _big_month(tmp_path / "2026-11.jsonl", 2)
    size = (tmp_path / "2026-11.jsonl").stat().st_size
    held, read_exclusive = {}, []
    real_flock, real_pread = fcntl.flock, os.pread

    def flock(fd, operation):
        real_flock(fd, operation)
        held[fd] = operation

    def pread(fd, length, offset):
        data = real_pread(fd, length, offset)
        if held.get(fd) == fcntl.LOCK_EX:
            read_exclusive.append(len(data))
        return data

    monkeypatch.setattr(fcntl, "flock", flock)
    monkeypatch.setattr(os, "pread", pread)
    assert ledger.append(tmp_path, "2026-11", record()) is True
    assert sum(read_exclusive) <= 1, read_exclusive  # the last byte, to see that no torn tail is left
    assert ledger.append(tmp_path, "2026-11", record()) is False  # still found: a retransmission
    assert (tmp_path / "2026-11.jsonl").stat().st_size == size + len(ledger.encode(record()))


def test_a_record_appended_between_the_search_and_the_write_is_found_in_the_tail(tmp_path, monkeypatch):
    """Another appender writes the same record while this one waits for the exclusive lock: the tail,
    searched under it, holds it, and the record is there once."""
    import fcntl
    _big_month(tmp_path / "2026-11.jsonl", 1)
    real_flock = fcntl.flock
    raced = []

    def flock(fd, operation):
        if operation == fcntl.LOCK_EX and not raced:
            raced.append(1)
            with open(tmp_path / "2026-11.jsonl", "ab") as other:
                other.write(ledger.encode(record()))
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    assert ledger.append(tmp_path, "2026-11", record()) is False
    text = (tmp_path / "2026-11.jsonl").read_bytes()
    assert text.count(ledger.encode(record())) == 1
