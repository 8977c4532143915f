"""The run directory's housekeeping: one backend per identity, and no directories of dead processes.

A backend that finds an older live connection of its identity ends it (the newest connection wins,
as a charger that reconnects must); a directory whose backend is gone -- killed with websocketd
by a Ctrl-C, a SIGKILL -- is removed by the next backend or listener that starts.
"""

import os
import signal
from pathlib import Path

from . import runfiles

# How much later than its directory's info a process may seem to have started and still be the one
# that made it: /proc gives the boot time in whole seconds and start times in clock ticks.
START_SLACK_NS = 2 * 10**9


def end_older_connections(own):
    """SIGTERM to the live backends of `own`'s identity that connected before it; [(pid, info)] of them.

    A live one reads its FIFO, so its pid is no stale number; its Termination handler ends it between
    frames, never inside one, and it removes its own directory."""
    ended = []
    for conn in runfiles.connections(own.run_dir):
        if conn.identity != own.identity or conn.path == own.path or not conn.alive:
            continue
        pid = conn.info.get("pid")
        if pid != conn.pid or not isinstance(pid, int) or pid <= 1 or conn.started_ns >= own.started_ns:
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        ended.append((pid, conn.info))
    return ended


def remove_leftovers(run_dir):
    """Remove the connection directories of backends that no longer run; the names removed.

    Only a directory whose info.json names a pid that is not running (or is running but started
    after the directory was made: the pid was reused) and whose FIFO nobody reads. A directory
    without a readable info.json is being made or removed by its backend, and is left alone."""
    import shutil
    removed = []
    for path in Path(run_dir).glob("*@*"):
        if path.is_symlink() or not path.is_dir():
            continue
        try:
            info = runfiles.read_json(path / runfiles.INFO)
            if not isinstance(info, dict) or runfiles.fifo_has_reader(path / runfiles.COMMANDS_FIFO):
                continue
        except (OSError, ValueError):
            continue
        pid = info.get("pid")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or _may_be_running(pid, info.get("started_ns")):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return sorted(removed)


def _may_be_running(pid, started_ns):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    began = process_start_ns(pid)
    if began is None or not isinstance(started_ns, int):
        return True
    return began <= started_ns + START_SLACK_NS


def process_start_ns(pid):
    """When the process started (ns since the epoch, to about a second), from /proc; None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        with open("/proc/stat", "rb") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith(b"btime "))
        ticks = int(stat[stat.rindex(b")") + 2:].split()[19])  # field 22, after the command's name
        return boot * 10**9 + ticks * 10**9 // os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, StopIteration, IndexError):
        return None
