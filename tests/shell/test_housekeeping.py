"""The run directory's housekeeping in-process: older connections ended, dead backends' directories removed
(issue #11, items 8 and 10)."""

import os
import subprocess
import sys
import time

from shocpp import housekeeping, runfiles


def _connection(run_dir, identity, pid, started_ns=None):
    conn = runfiles.Connection(run_dir, identity, pid)
    conn.create({"charger": identity, "pid": pid})
    if started_ns is not None:
        conn.update_info(started_ns=started_ns)
    return conn


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_dead_backends_are_removed_and_nothing_else(tmp_path):
    dead = _connection(tmp_path, "gone", _dead_pid())
    alive = _connection(tmp_path, "starting", os.getpid())          # running, FIFO not yet read
    reader = _connection(tmp_path, "serving", _dead_pid())           # its FIFO is read: kept
    fd = os.open(reader.fifo, os.O_RDONLY | os.O_NONBLOCK)
    newcomer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    # An hour-old directory whose pid now belongs to a process that began since: the pid was reused.
    reused = _connection(tmp_path, "reused", newcomer.pid, started_ns=time.time_ns() - 3600 * 10**9)
    (tmp_path / "making@1").mkdir()                                  # no info.json yet: left alone
    try:
        assert housekeeping.remove_leftovers(tmp_path) == [dead.path.name, reused.path.name]
    finally:
        os.close(fd)
        newcomer.kill()
        newcomer.wait()
    assert sorted(p.name for p in tmp_path.glob("*@*")) == sorted(
        [alive.path.name, reader.path.name, "making@1"])


def test_a_new_connection_ends_the_older_live_ones_of_its_identity(tmp_path):
    sleepers = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(3)]
    readers = []
    try:
        older = _connection(tmp_path, "CP1", sleepers[0].pid)
        other = _connection(tmp_path, "CP2", sleepers[1].pid)
        newer = _connection(tmp_path, "CP1", sleepers[2].pid)
        readers = [os.open(c.fifo, os.O_RDONLY | os.O_NONBLOCK) for c in (older, other, newer)]
        mine = _connection(tmp_path, "CP1", os.getpid())
        newer.update_info(started_ns=mine.started_ns + 1)  # connected after us: not ours to end
        ended = housekeeping.end_older_connections(mine)
        assert [pid for pid, _ in ended] == [sleepers[0].pid]
        assert sleepers[0].wait(timeout=10) == -15
        assert sleepers[1].poll() is None and sleepers[2].poll() is None
    finally:
        for fd in readers:
            os.close(fd)
        for proc in sleepers:
            proc.kill()
            proc.wait()
