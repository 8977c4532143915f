"""The run directory: connections, requests and answers."""

import os
import re
import stat
from pathlib import Path

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
        (0o1770, 0o750, 0o620, 0o640)  # run/: the sticky bit keeps a group member off the others' files
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
    fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY)
    try:
        command._share_with_service(tmp_path, fd)
    finally:
        os.close(fd)
    assert {os.stat(p).st_gid for p in (where, where / runfiles.REQUEST, where / runfiles.WAKE)} == {4242}


# -- a local user in the service's group (#11): simulated as uid 65534, the service as our own ------

OTHER = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="making files of another user needs root")


def request_of_other_user(run_dir, request_id):
    where = run_dir / "commands" / request_id
    where.mkdir(parents=True)
    os.chown(where, OTHER, -1)
    return where


@as_root
def test_the_backend_never_writes_an_answer_or_wake_up_through_a_link(tmp_path):
    ledger = tmp_path / "accounting" / "2026-11.jsonl"
    ledger.parent.mkdir()
    ledger.write_text('{"event": "stop"}\n')
    run_dir = tmp_path / "run"
    for n, planted in enumerate([".answer.json.tmp", runfiles.ANSWER, runfiles.WAKE]):
        request_id = f"{n}" * 32
        where = request_of_other_user(run_dir, request_id)
        for name in {planted, runfiles.WAKE}:
            (where / name).symlink_to(ledger)
            os.lchown(where / name, OTHER, -1)
        with pytest.raises(runfiles.Untrusted):
            runfiles.deliver(run_dir, request_id, {"status": "timeout"})
    hardlinked = request_of_other_user(run_dir, "a" * 32)
    os.link(ledger, hardlinked / runfiles.WAKE)  # the ledger itself, under the name of the FIFO
    with pytest.raises(runfiles.Untrusted):
        runfiles.deliver(run_dir, "a" * 32, {"status": "timeout"})
    (run_dir / "commands" / ("b" * 32)).symlink_to(ledger.parent)  # the request directory a link
    with pytest.raises(runfiles.Untrusted):
        runfiles.deliver(run_dir, "b" * 32, {"status": "timeout"})
    assert ledger.read_text() == '{"event": "stop"}\n'
    assert sorted(p.name for p in ledger.parent.iterdir()) == ["2026-11.jsonl"]


@as_root
def test_the_backend_reads_a_request_only_from_a_file_of_the_requests_owner(tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"action": "DataTransfer", "payload": {"vendorId": "the secret"}}')
    run_dir = tmp_path / "run"
    where = request_of_other_user(run_dir, "c" * 32)
    (where / runfiles.REQUEST).symlink_to(secret)
    with pytest.raises(runfiles.Untrusted):
        runfiles.read_request(run_dir, "c" * 32)
    (where / runfiles.REQUEST).unlink()
    (where / runfiles.REQUEST).write_text('{"action": "Reset"}')  # root's file in the other user's directory
    with pytest.raises(runfiles.Untrusted):
        runfiles.read_request(run_dir, "c" * 32)
    os.chown(where / runfiles.REQUEST, OTHER, -1)
    assert runfiles.read_request(run_dir, "c" * 32) == {"action": "Reset"}


@as_root
def test_root_s_command_never_writes_through_a_fake_backend_fifo(tmp_path, capsys):
    from shocpp.tools import command

    service = 4243
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o1770)
    os.chown(run_dir, service, -1)
    target = tmp_path / "root-only"
    target.write_text("root's\n")
    target.chmod(0o600)

    def fake(owner):
        where = run_dir / f"CP1@{999 + owner}"
        where.mkdir()
        runfiles.write_json(where / runfiles.INFO, {"charger": "CP1", "started_ns": 1})
        (where / runfiles.COMMANDS_FIFO).symlink_to(target)
        for path in (where, where / runfiles.INFO, where / runfiles.COMMANDS_FIFO):
            os.lchown(path, owner, -1)
        return where

    fake(OTHER)  # a group member's directory, its FIFO a link to a file only root may write
    status = command.main(["--charger", "CP1", "--timeout", "0.2", "Reset", '{"type":"Soft"}'],
                          env={"SHOCPP_RUNDIR": str(run_dir)})
    assert status == 4 and "charger 'CP1' is not connected" in capsys.readouterr().err
    assert runfiles.connections(run_dir) == []
    with pytest.raises(runfiles.Untrusted):  # were it chosen all the same: its directory is not the service's
        runfiles.Connection(run_dir, "CP1", 999 + OTHER, path=run_dir / f"CP1@{999 + OTHER}").open_fifo(
            os.O_WRONLY | os.O_NONBLOCK)
    with pytest.raises(runfiles.Untrusted):  # and in a directory of the service's, a link is no FIFO
        runfiles.Connection(run_dir, "CP1", 999 + service, path=fake(service)).open_fifo(os.O_WRONLY | os.O_NONBLOCK)
    assert target.read_text() == "root's\n"
    assert runfiles.fifo_has_reader(run_dir / f"CP1@{999 + OTHER}" / "commands") is False


@as_root
def test_a_charger_is_never_kept_out_by_a_taken_directory_name(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "CP1@500").mkdir()
    os.chown(run_dir / "CP1@500", OTHER, -1)                       # a group member's, for the next pid
    (run_dir / "CP2@501").symlink_to(tmp_path)                     # a link
    (run_dir / "CP3@502").write_text("")                           # a file
    made = [runfiles.Connection(run_dir, f"CP{n}", 499 + n) for n in (1, 2, 3)]
    for conn in made:
        conn.create({"charger": conn.identity})
        assert re.fullmatch(rf"{conn.identity}@{conn.pid}\.[0-9a-f]{{8}}", conn.path.name)
    readers = [os.open(c.fifo, os.O_RDONLY | os.O_NONBLOCK) for c in made]
    try:
        live = runfiles.live_chargers(run_dir)
    finally:
        for fd in readers:
            os.close(fd)
    assert {identity: (c.pid, c.path) for identity, c in live.items()} == \
        {c.identity: (c.pid, c.path) for c in made}
    assert list(tmp_path.glob("info.json")) == []


def test_the_listener_gives_run_the_sticky_bit_and_makes_the_shared_request_directory(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    run_dir.chmod(0o770)
    notes = runfiles.prepare(run_dir)
    assert notes == [f"gave {run_dir} the sticky bit (chmod +t)"]
    assert (mode(run_dir), mode(run_dir / "commands")) == (0o1770, 0o3770)
    assert os.stat(run_dir / "commands").st_gid == os.stat(run_dir).st_gid
    assert runfiles.prepare(run_dir) == []  # already prepared: nothing to do


@as_root
def test_a_request_directory_another_user_made_is_replaced_when_the_listener_starts(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o1770)
    os.chown(run_dir, -1, 4242)
    (run_dir / "commands").mkdir()
    os.chown(run_dir / "commands", OTHER, OTHER)  # whoever sent the first command, with their group
    (note,) = runfiles.prepare(run_dir)
    assert note.startswith(f"{run_dir}/commands was not the service's (uid {OTHER}): moved to commands.foreign-")
    made = os.stat(run_dir / "commands")
    assert (made.st_uid, made.st_gid, mode(run_dir / "commands")) == (os.geteuid(), 4242, 0o3770)


def test_a_gone_charger_leaves_its_last_statuses_and_meters_in_seen(tmp_path):
    conn = runfiles.Connection(tmp_path / "run", "CP1", 42)
    conn.create({"charger": "CP1", "pid": 42})
    conn.save("status-1.json", {"status": "Charging"})
    conn.save("meter-1.json", {"meterValue": []})
    conn.save("status-x.json", {"status": "odd name, left out"})
    conn.save(runfiles.REFUSED, {"idTag": "5555", "status": "Invalid"})
    conn.keep_seen("2026-11-21T10:00:00.000Z")
    conn.remove()
    seen = runfiles.seen_chargers(tmp_path / "run")
    assert list(seen) == ["CP1"]
    assert {k: v for k, v in seen["CP1"].items() if k != "info"} == {
        "charger": "CP1", "last_seen": "2026-11-21T10:00:00.000Z",
        "statuses": {"1": {"status": "Charging"}}, "meters": {"1": {"meterValue": []}},
        "refused": {"idTag": "5555", "status": "Invalid"}}
    assert seen["CP1"]["info"]["pid"] == 42
    assert mode(tmp_path / "run" / "seen") == 0o750 and mode(tmp_path / "run" / "seen" / "CP1.json") == 0o640


def test_seen_files_that_are_links_or_name_another_charger_are_ignored(tmp_path):
    (tmp_path / "run" / "seen").mkdir(parents=True)
    (tmp_path / "elsewhere.json").write_text('{"charger": "CP2", "last_seen": "x"}')
    os.symlink(tmp_path / "elsewhere.json", tmp_path / "run" / "seen" / "CP2.json")
    (tmp_path / "run" / "seen" / "CP3.json").write_text('{"charger": "CP4", "last_seen": "x"}')
    (tmp_path / "run" / "seen" / "CP5.json").write_text('not json')
    assert runfiles.seen_chargers(tmp_path / "run") == {}
    assert runfiles.seen_chargers(tmp_path / "nothing") == {}


def test_keep_seen_never_writes_through_a_link(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "target").mkdir()
    os.symlink(tmp_path / "target", tmp_path / "run" / "seen")
    conn = runfiles.Connection(tmp_path / "run", "CP1", 42)
    conn.create({"charger": "CP1"})
    with pytest.raises(runfiles.Untrusted):
        conn.keep_seen("2026-11-21T10:00:00.000Z")
    conn.remove()
    assert list((tmp_path / "target").iterdir()) == []


def as_member(group, action):
    """Run action() in a child as uid OTHER with `group` as its only group; what it returned (an errno
    name or "ok")."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never back into pytest
        os.close(read)
        try:
            os.setgroups([])
            os.setgid(group)
            os.setuid(OTHER)
            try:
                result = action()
            except OSError as e:
                result = e.__class__.__name__
            os.write(write, result.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        result = f.read()
    os.waitpid(pid, 0)
    return result


def opens(path, flags):
    def action():
        os.close(os.open(path, flags | os.O_NONBLOCK))
        return "ok"
    return action


@pytest.fixture
def reachable(tmp_path):
    """A directory another user can reach (pytest's own are root's alone)."""
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="shocpp-member-", dir="/tmp")
    os.chmod(path, 0o711)
    yield Path(path)
    shutil.rmtree(path)


@as_root
def test_a_member_of_the_group_may_write_the_fifos_but_never_read_them(reachable):
    """A member who could read a backend's commands FIFO would swallow the request ids of root's
    commands (#24 item 4); one who could read a request's wake FIFO would swallow its wake-up."""
    tmp_path, group = reachable, 4244
    conn = runfiles.Connection(tmp_path / "run", "CP1", 42)
    conn.create({"charger": "CP1"})
    os.chown(tmp_path / "run", -1, group)
    for path in (conn.path, conn.fifo):
        os.chown(path, -1, group)
    reader = os.open(conn.fifo, os.O_RDONLY | os.O_NONBLOCK)  # the backend's own: a writer's open succeeds
    try:
        assert as_member(group, opens(conn.fifo, os.O_RDONLY)) == "PermissionError"
        assert as_member(group, opens(conn.fifo, os.O_WRONLY)) == "ok"
        assert mode(conn.fifo) == 0o620
    finally:
        os.close(reader)
    where = tmp_path / "wake-dir"
    where.mkdir()
    os.chown(where, -1, group)
    where.chmod(0o770)
    os.mkfifo(where / runfiles.WAKE, runfiles.FIFO_MODE)
    os.chown(where / runfiles.WAKE, -1, group)
    assert as_member(group, opens(where / runfiles.WAKE, os.O_RDONLY)) == "PermissionError"


def test_a_seen_file_is_bounded_and_says_what_it_left_out(tmp_path):
    """#24 item 2: run/seen/<identity>.json reached 5.4 MB for one identity."""
    conn = runfiles.Connection(tmp_path / "run", "CP1", 42)
    conn.create({"charger": "CP1", "pid": 42, "boot": {"chargePointVendor": "Acme", "x": "v" * 2000}})
    for connector in range(101):
        conn.save(f"status-{connector}.json", {"status": "Available", "info": "i" * 255})
        conn.save(f"meter-{connector}.json", {"meterValue": [{"sampledValue": [{"value": "1" * 255}] * 64}]})
    notes = conn.keep_seen("2026-11-21T10:00:00.000Z", max_bytes=40000)
    path = tmp_path / "run" / "seen" / "CP1.json"
    assert path.stat().st_size <= 40000
    seen = runfiles.seen_chargers(tmp_path / "run")["CP1"]
    assert seen["meters"] == {} and len(seen["statuses"]) == 101 and seen["info"]["boot"]["chargePointVendor"] == "Acme"
    assert seen["cut"] == "over SHOCPP_SEEN_MAX_BYTES (40000): left out meters"
    assert notes == [f"{path}: over SHOCPP_SEEN_MAX_BYTES (40000): left out meters"]
    conn.keep_seen("2026-11-21T10:00:00.000Z", max_bytes=1024)
    seen = runfiles.seen_chargers(tmp_path / "run")["CP1"]
    assert seen["cut"] == "over SHOCPP_SEEN_MAX_BYTES (1024): left out meters, statuses, boot"
    assert seen["info"]["pid"] == 42 and "boot" not in seen["info"] and path.stat().st_size <= 1024
    conn.remove()
    data = {"charger": "CP1", "last_seen": "x", "info": {"remote_addr": "a" * 500}, "statuses": {}, "meters": {}}
    assert runfiles.bounded_seen(data, 400) == (
        {"charger": "CP1", "last_seen": "x", "info": {}, "statuses": {}, "meters": {},
         "cut": "over SHOCPP_SEEN_MAX_BYTES (400): only the identity and when it was last seen kept"},
        "over SHOCPP_SEEN_MAX_BYTES (400): only the identity and when it was last seen kept")


def test_seen_files_of_chargers_gone_30_days_or_beyond_the_count_are_removed(tmp_path):
    import time
    seen = tmp_path / "run" / "seen"
    seen.mkdir(parents=True)
    now = time.time()
    for name, days in [("old", 31), ("recent", 29), ("a", 1), ("b", 2), ("c", 3)]:
        (seen / f"{name}.json").write_text("{}")
        os.utime(seen / f"{name}.json", (now - days * 86400, now - days * 86400))
    conn = runfiles.Connection(tmp_path / "run", "new", 42)
    conn.create({"charger": "new"})
    notes = conn.keep_seen("2026-11-21T10:00:00.000Z", max_files=4)
    conn.remove()
    assert sorted(p.name for p in seen.iterdir()) == ["a.json", "b.json", "c.json", "new.json"]
    assert notes == [f"removed 2 files of chargers not seen for 30 days or beyond SHOCPP_SEEN_MAX_FILES (4) from "
                     f"{tmp_path / 'run'}/seen"]
