"""The I/O shell in-process: Backend.apply's order (ledger before reply), run files once a batch, tags
read only when needed."""

import json
import os
import signal

import pytest

from shocpp import backend, config, runfiles
from shocpp.log import Log
from shocpp.tags_file import TagsFile

from conftest import SESSION


def test_the_ledger_line_is_durable_before_the_confirmation_is_written(site, monkeypatch):
    events = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    cfg = config.from_env(site.env)
    conn = runfiles.Connection(cfg.run_dir, "CP1", 1)
    conn.create({})
    shell = backend.Backend(cfg, "CP1", Log(cfg.log_dir, "CP1"), lambda data: events.append(data),
                            conn, TagsFile(cfg.tags_file))
    shell.on_line(SESSION[5].encode())
    # accounting/ made and synced in its parent; then the line, the new file's directory, and its parent
    assert events[:-1] == ["fsync", "fsync", "fsync", "fsync"]
    assert events[-1].startswith(b'[3,"p",')
    assert len(site.ledger_lines()) == 1


def test_sigterm_during_a_frame_waits_for_its_end():
    termination = backend.Termination()
    done = []
    with pytest.raises(SystemExit):
        with termination:
            termination.handler(signal.SIGTERM, None)
            done.append("the frame finished")
    assert done == ["the frame finished"]
    with pytest.raises(SystemExit):
        termination.handler(signal.SIGTERM, None)  # between frames: at once


def test_a_batch_writes_each_run_file_once_with_the_latest_state_then_all_replies(site):
    cfg = config.from_env(site.env)
    conn = runfiles.Connection(cfg.run_dir, "CP1", 1)
    conn.create({})
    events = []
    real_save = conn.save
    conn.save = lambda name, data: events.append(name) or real_save(name, data)
    shell = backend.Backend(cfg, "CP1", Log(cfg.log_dir, "CP1"), events.append, conn, TagsFile(cfg.tags_file))
    status = '[2,"%s","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"%s"}]'
    shell.on_lines([(status % ("1", "Preparing")).encode(), (status % ("2", "Charging")).encode(),
                    b'[2,"3","Heartbeat",{}]'])
    assert events[:-1] == ["status-1.json"]
    assert [json.loads(line)[1] for line in events[-1].splitlines()] == ["1", "2", "3"]
    assert runfiles.read_json(conn.path / "status-1.json")["status"] == "Charging"
    conn.remove()


def test_a_refused_tag_is_kept_in_the_run_directory_an_accepted_one_is_not(site):
    cfg = config.from_env(site.env)
    conn = runfiles.Connection(cfg.run_dir, "CP1", 1)
    conn.create({})
    shell = backend.Backend(cfg, "CP1", Log(cfg.log_dir, "CP1"), lambda data: None, conn, TagsFile(cfg.tags_file))
    shell.on_lines([b'[2,"a","Authorize",{"idTag":"1111"}]'])
    assert not (conn.path / runfiles.REFUSED).exists()
    shell.on_lines([b'[2,"b","Authorize",{"idTag":"5555"}]'])
    kept = runfiles.read_json(conn.path / runfiles.REFUSED)
    assert {k: v for k, v in kept.items() if k != "received_at"} == {"idTag": "5555", "status": "Invalid"}
    assert kept["received_at"].endswith("Z")
    conn.remove()


def test_tags_json_is_consulted_only_by_the_actions_that_look_tags_up(site, monkeypatch):
    cfg = config.from_env(site.env)
    conn = runfiles.Connection(cfg.run_dir, "CP1", 1)
    conn.create({})
    tags_file = TagsFile(cfg.tags_file)
    looked = []
    real_current = tags_file.current
    monkeypatch.setattr(tags_file, "current", lambda: looked.append(1) or real_current())
    shell = backend.Backend(cfg, "CP1", Log(cfg.log_dir, "CP1"), lambda data: None, conn, tags_file)
    shell.on_lines([SESSION[0].encode(), SESSION[1].encode(), b'[2,"h","Heartbeat",{}]', SESSION[4].encode()])
    assert looked == []
    shell.on_lines([SESSION[2].encode(), SESSION[3].encode(), SESSION[5].encode()])
    assert looked == [1, 1, 1]
    conn.remove()


def test_ledger_records_over_the_rate_are_refused_with_a_callerror_logged_once(site, monkeypatch):
    """#24: 5,000 distinct StartTransactions at 350-630 a second grew the month's ledger ~100 KB/s.
    After RECORD_BURST records at once, SHOCPP_RECORD_RATE a minute; a refused one is not written and
    the charger retries it."""
    monkeypatch.setattr(config, "RECORD_BURST", 3)
    clock = [100.0]
    cfg = config.from_env(site.env)
    conn = runfiles.Connection(cfg.run_dir, "CP1", 1)
    conn.create({})
    sent = []
    shell = backend.Backend(cfg, "CP1", Log(cfg.log_dir, "CP1"), sent.append, conn, TagsFile(cfg.tags_file),
                            record_rate=60, monotonic=lambda: clock[0])

    def start(n):
        shell.on_line(('[2,"t%d","StartTransaction",{"connectorId":1,"idTag":"1111","meterStart":%d,'
                       '"timestamp":"2026-11-01T10:00:00Z"}]' % (n, 12345678 + n * 1000)).encode())
        return json.loads(sent[-1])

    answers = [start(n) for n in range(5)]
    assert [a[0] for a in answers] == [3, 3, 3, 4, 4]
    assert answers[3][2:4] == ["GenericError", "too many transaction messages: try again later"]
    assert len(site.ledger_lines()) == 3
    log = site.log_file.read_text()
    assert log.count("over SHOCPP_RECORD_RATE (60 ledger records a minute)") == 1
    clock[0] += 1.0  # a second later: one more
    assert start(5)[0] == 3 and start(6)[0] == 4
    assert len(site.ledger_lines()) == 4
