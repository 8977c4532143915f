"""The ledger's append and read, in-process: durable, once, whole lines."""

import os

import pytest

from shocpp import ledger

from ledgers import ledger_stop as record, lines


def test_append_writes_one_line_per_record_in_the_month_file(tmp_path):
    assert ledger.append(tmp_path, "2026-11", record()) is True
    assert ledger.append(tmp_path, "2026-11", record(tid=20000001, stop=1500)) is True
    path = tmp_path / "2026-11.jsonl"
    assert lines(path) == [record(), record(tid=20000001, stop=1500)]
    assert path.read_bytes().endswith(b"}\n")
    assert oct(path.stat().st_mode & 0o777) == "0o640"


def test_the_same_stop_again_is_not_written_twice(tmp_path):
    assert ledger.append(tmp_path, "2026-11", record()) is True
    again = record(recorded_at="2026-11-22T08:00:00.000Z")
    assert ledger.append(tmp_path, "2026-11", again) is False
    assert lines(tmp_path / "2026-11.jsonl") == [record()]


@pytest.mark.parametrize("change", [
    {"charger": "CP2"}, {"transaction_id": 10012346}, {"meter_stop_wh": 12350001},
    {"stop_time": "2026-11-01T12:00:01Z"},
])
def test_a_stop_that_differs_in_its_identity_is_written(tmp_path, change):
    ledger.append(tmp_path, "2026-11", record())
    assert ledger.append(tmp_path, "2026-11", {**record(), **change}) is True
    assert len(lines(tmp_path / "2026-11.jsonl")) == 2


@pytest.mark.parametrize("first, retry", [("2026-10", "2026-11"), ("2026-12", "2026-11"),
                                          ("2025-12", "2026-01"), ("2027-01", "2026-12")])
def test_a_retransmission_filed_under_a_neighbouring_month_is_recognised(tmp_path, first, retry):
    ledger.append(tmp_path, first, record())
    assert ledger.append(tmp_path, retry, record()) is False
    assert not (tmp_path / f"{retry}.jsonl").exists()


def test_a_torn_last_line_left_by_a_crash_is_cut_before_the_next_append(tmp_path):
    path = tmp_path / "2026-11.jsonl"
    whole = ledger.encode(record())
    path.write_bytes(whole + b'{"charger": "CP1", "transaction_id": 100')
    assert ledger.append(tmp_path, "2026-11", record(tid=30000000, stop=5000)) is True
    assert lines(path) == [record(), record(tid=30000000, stop=5000)]


def test_an_unwritable_directory_raises_ledger_error_and_writes_nothing(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    with pytest.raises(ledger.LedgerError, match="cannot write the ledger"):
        ledger.append(blocked / "accounting", "2026-11", record())


def test_a_failed_fsync_takes_the_line_back(tmp_path, monkeypatch):
    ledger.append(tmp_path, "2026-11", record())
    before = (tmp_path / "2026-11.jsonl").read_bytes()

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(ledger.LedgerError):
        ledger.append(tmp_path, "2026-11", record(tid=20000000, stop=7000))
    assert (tmp_path / "2026-11.jsonl").read_bytes() == before


def test_the_line_is_fsynced_before_append_returns(tmp_path, monkeypatch):
    events = []
    real_fsync, real_write = os.fsync, os.write
    monkeypatch.setattr(os, "write", lambda fd, data: events.append("write") or real_write(fd, data))
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    ledger.append(tmp_path, "2026-11", record())
    events.append("returned")
    # the new file's directory entry is fsynced too, and the directory's in its parent (#24)
    assert events == ["write", "fsync", "fsync", "fsync", "returned"]


def test_records_are_those_of_the_transaction_id_and_of_the_charger_only_when_asked(tmp_path):
    month = tmp_path / "2026-11.jsonl"
    lines_ = [
        {"event": "start", "charger": "CP1", "transaction_id": 10012345, "meter_start_wh": 12345678},
        {"event": "start", "charger": "CP2", "transaction_id": 20000001, "meter_start_wh": 1500},
        {"event": "stop", "charger": "CP1", "transaction_id": -1, "start_transaction_id": 10012345, "account": "x"},
        {"event": "stop", "charger": "CP1", "transaction_id": 100123456, "account": "x"},
    ]
    month.write_bytes(b"".join(ledger.encode(r) for r in lines_) + b"not json, skipped\n")
    assert ledger.records(tmp_path, "2026-11", 10012345) == [lines_[0], lines_[2]]
    assert ledger.records(tmp_path, "2026-11", 20000001, "CP1") == [lines_[0], lines_[1], lines_[2], lines_[3]]
    assert ledger.records(tmp_path, "2026-11", 5) == [] and ledger.records(tmp_path, "2026-12", 10012345) == []


def test_records_without_a_transaction_id_are_the_chargers_or_all(tmp_path):
    month = tmp_path / "2026-11.jsonl"
    lines_ = [
        {"event": "start", "charger": "CP1", "transaction_id": 10012345, "meter_start_wh": 12345678},
        {"event": "start", "charger": "CP2", "transaction_id": 20000001, "meter_start_wh": 1500},
        {"event": "stop", "charger": "CP1", "transaction_id": 10012345, "account": "x"},
    ]
    month.write_bytes(b"".join(ledger.encode(r) for r in lines_) + b"not json, skipped\n\n[1]\n")
    assert ledger.records(tmp_path, "2026-11", None, "CP1") == [lines_[0], lines_[2]]
    assert ledger.records(tmp_path, "2026-11", None, "CP3") == []
    assert ledger.records(tmp_path, "2026-11", None) == lines_
    assert ledger.records(tmp_path, "2026-12", None) == []


# -- #24, suspected: a line confirmed in a file or a directory that a crash could forget ------------

def synced_directories(monkeypatch):
    """The directories fsynced, by path, as they happen."""
    import stat
    synced = []
    real = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


def test_a_second_appender_to_a_brand_new_month_syncs_its_directory_before_it_confirms(tmp_path, monkeypatch):
    """The creator of the month file may still wait for the lock when another appender, which found
    the file there, writes its line: that one must not confirm before the file's name is durable."""
    directory = tmp_path / "accounting"
    directory.mkdir()
    fd = os.open(directory / "2026-11.jsonl", os.O_RDWR | os.O_APPEND | os.O_CREAT, ledger.YOUNG)  # the creator,
    try:                                                                                       # not on yet
        synced = synced_directories(monkeypatch)
        assert ledger.append(directory, "2026-11", record()) is True
        assert str(directory) in synced and str(tmp_path) in synced
        del synced[:]
        assert ledger.append(directory, "2026-11", record(tid=10012346)) is True
        assert synced == []  # once durable, no more directory syncs
        assert oct(os.fstat(fd).st_mode & 0o777) == "0o640"
    finally:
        os.close(fd)


def test_a_new_accounting_directory_is_synced_in_its_parent(tmp_path, monkeypatch):
    synced = synced_directories(monkeypatch)
    assert ledger.append(tmp_path / "site" / "accounting", "2026-11", record()) is True
    assert synced.count(str(tmp_path / "site")) >= 1 and synced.count(str(tmp_path)) >= 1


def start_line(**changes):
    return {"event": "start", "charger": "CP1", "connector_id": 1, "transaction_id": 10012345, "id_tag": "1111",
            "account": "home", "account_index": 1, "meter_start_wh": 12345678, "start_time": "2026-11-01T10:00:00Z",
            "recorded_at": "2026-11-01T10:00:01.000Z", **changes}


def test_the_start_a_retransmission_repeats_is_found_in_its_month_or_a_neighbour(tmp_path):
    ledger.append(tmp_path, "2026-11", start_line())
    again = start_line(transaction_id=20012345, account="company-x", account_index=2, recorded_at="later")
    assert ledger.retransmitted_start(tmp_path, "2026-11", again) == start_line()
    assert ledger.retransmitted_start(tmp_path, "2026-12", again) == start_line()
    assert ledger.retransmitted_start(tmp_path, "2026-11", start_line(connector_id=2)) is None
    assert ledger.retransmitted_start(tmp_path, "2027-03", again) is None


def test_decisions_are_deduplicated_as_decisions_never_as_stops(tmp_path):
    decision = {"event": "decision", "decision": "accept", "line": "0123456789", "charger": "CP1",
                "transaction_id": 10012345, "recorded_at": "2026-11-02T10:00:00.000Z"}
    assert ledger.append(tmp_path, "2026-11", decision)
    assert not ledger.append(tmp_path, "2026-11", dict(decision))
    assert ledger.append(tmp_path, "2026-11", {**decision, "line": "9876543210"})
    assert ledger.append(tmp_path, "2026-11", {**decision, "decision": "reject", "recorded_at": "later"})
    assert len(lines(tmp_path / "2026-11.jsonl")) == 3
