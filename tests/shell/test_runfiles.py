"""The run directory: connections, requests and answers."""

import os
import stat

import pytest

from shocpp import runfiles


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_connection_creates_its_files_with_group_only_permissions(tmp_path):
    old = os.umask(0o077)  # a strict umask must not lock the group out
    try:
        conn = runfiles.Connection(tmp_path / "run", "CP1", 42)
        conn.create({"charger": "CP1"})
    finally:
        os.umask(old)
    assert conn.path == tmp_path / "run" / "CP1@42"
    assert (mode(tmp_path / "run"), mode(conn.path), mode(conn.fifo), mode(conn.path / "info.json")) == \
        (0o770, 0o750, 0o660, 0o640)
    assert stat.S_ISFIFO(os.stat(conn.fifo).st_mode)
    for path in [tmp_path / "run", *(tmp_path / "run").rglob("*")]:
        assert not mode(path) & stat.S_IWOTH, path
    conn.remove()
    assert list((tmp_path / "run").iterdir()) == []


def test_write_json_replaces_the_file_whole(tmp_path):
    runfiles.write_json(tmp_path / "a.json", {"x": 1})
    runfiles.write_json(tmp_path / "a.json", {"x": 2})
    assert runfiles.read_json(tmp_path / "a.json") == {"x": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_connections_are_newest_first_and_only_those_with_a_reader_are_alive(tmp_path):
    older = runfiles.Connection(tmp_path, "CP1", 10)
    older.create({})
    newer = runfiles.Connection(tmp_path, "CP1", 11)
    newer.create({})
    other = runfiles.Connection(tmp_path, "CP2", 12)
    other.create({})
    readers = [os.open(c.fifo, os.O_RDONLY | os.O_NONBLOCK) for c in (older, newer)]
    try:
        found = runfiles.connections(tmp_path)
        assert [(c.identity, c.pid, c.alive) for c in found] == [("CP2", 12, False), ("CP1", 11, True),
                                                                 ("CP1", 10, True)]
        live = runfiles.live_chargers(tmp_path)
        assert list(live) == ["CP1"] and live["CP1"].pid == 11
    finally:
        for fd in readers:
            os.close(fd)


def test_the_directory_a_backend_made_is_found_as_the_same_record(tmp_path):
    made = runfiles.Connection(tmp_path, "CP1", 10)
    made.create({"charger": "CP1"})
    reader = os.open(made.fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        (found,) = runfiles.connections(tmp_path)
    finally:
        os.close(reader)
    assert type(found) is runfiles.Connection
    assert (found.identity, found.pid, found.path, found.fifo, found.info, found.started_ns, found.alive) == \
        ("CP1", 10, made.path, made.fifo, made.info, made.info["started_ns"], True)
    (stale,) = runfiles.connections(tmp_path)
    assert stale.alive is False


def test_a_directory_without_a_readable_info_or_pid(tmp_path):
    (tmp_path / "CP1@12").mkdir()                      # being created: no info.json yet
    (tmp_path / "CP2@x").mkdir()
    runfiles.write_json(tmp_path / "CP2@x" / runfiles.INFO, {"charger": "CP2"})
    (tmp_path / "CP3@13").mkdir()
    runfiles.write_json(tmp_path / "CP3@13" / runfiles.INFO, ["not", "an", "object"])
    (found,) = runfiles.connections(tmp_path)
    assert (found.identity, found.pid, found.path, found.started_ns) == ("CP2", 0, tmp_path / "CP2@x", 0)


def test_deliver_to_a_command_that_is_gone_cleans_up(tmp_path):
    request_id = "0" * 32
    where = runfiles.request_dir(tmp_path, request_id)
    where.mkdir(parents=True)
    runfiles.make_fifo(where / runfiles.WAKE)
    assert runfiles.deliver(tmp_path, request_id, {"status": "timeout"}) is False
    assert not where.exists()


def test_deliver_writes_the_answer_and_wakes_the_command(tmp_path):
    request_id = "a" * 32
    where = runfiles.request_dir(tmp_path, request_id)
    where.mkdir(parents=True)
    runfiles.make_fifo(where / runfiles.WAKE)
    wake = os.open(where / runfiles.WAKE, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert runfiles.deliver(tmp_path, request_id, {"status": "result", "payload": {}}) is True
        assert os.read(wake, 10) == b"\n"
    finally:
        os.close(wake)
    assert runfiles.read_json(where / runfiles.ANSWER) == {"status": "result", "payload": {}}


def test_request_ids_cannot_name_a_path_outside_the_commands_dir(tmp_path):
    import pytest
    for bad in ["../../etc", "a" * 31, "A" * 32, "a" * 31 + "/"]:
        with pytest.raises(ValueError):
            runfiles.request_dir(tmp_path, bad)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's group to one we are not in needs root")
def test_a_commands_request_gets_the_run_directorys_group(tmp_path):
    from shocpp.tools import command
    os.chown(tmp_path, -1, 4242)
    where = tmp_path / "commands" / ("b" * 32)
    where.mkdir(parents=True)
    (where / runfiles.REQUEST).write_text("{}")
    runfiles.make_fifo(where / runfiles.WAKE)
    command._share_with_service(tmp_path, where)
    assert {os.stat(p).st_gid for p in (where, where / runfiles.REQUEST, where / runfiles.WAKE)} == {4242}
