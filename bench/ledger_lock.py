"""The ledger's exclusive lock: how long an append holds it, and how many appends several processes
get through together, in a month that already holds 20,000 lines (a busy site's month, 6 MB).

`ledger.append` used to search the whole month for a retransmission under the exclusive lock of its
write, so the appends of all chargers queued behind each other's scans; now the month is searched
under a shared lock (searches run together) and only what was appended since is searched under the
exclusive one (#24 item 2). BEFORE is the commit just before that change, taken from git and run by
the same interpreter. Each run: a fresh copy of the month; 4 processes, each appending
50 different stop records (each an fsync), all started together; the lock's hold time is
measured inside one process (flock to unlock, per append).
"""

import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .common import ROOT, Section, figure

BEFORE = "8b9a9fc"
LINES = 20_000
PROCESSES = 4
APPENDS = 50

WORKER = r'''
import fcntl, json, os, sys, time
sys.path.insert(0, sys.argv[1])
from shocpp import ledger
directory, first, count, go = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
held, since = [], {}
real = fcntl.flock
def flock(fd, op):
    if op == fcntl.LOCK_EX:
        real(fd, op); since[fd] = time.perf_counter(); return
    real(fd, op)
fcntl.flock = flock
real_close = os.close
def close(fd):
    if fd in since:
        held.append(time.perf_counter() - since.pop(fd))
    real_close(fd)
os.close = close
while time.time() < go:
    time.sleep(0.001)
started = time.perf_counter()
for n in range(first, first + count):
    record = {"event": "stop", "charger": "CP%d" % (n % 10), "transaction_id": 30000000 + n, "account": "home",
              "account_index": 1, "meter_stop_wh": n, "stop_time": "2026-11-15T12:00:00Z", "flags": []}
    assert ledger.append(directory, "2026-11", record)
print(json.dumps({"seconds": time.perf_counter() - started, "held": held}))
'''


def run(quick=False):
    lines, processes, appends, repeats = (2000, 2, 5, 1) if quick else (LINES, PROCESSES, APPENDS, 5)
    with tempfile.TemporaryDirectory(prefix="shocpp-bench-") as directory:
        trees = {"before": tree(directory, BEFORE), "after": ROOT}
        month = Path(directory) / "month.jsonl"
        month.write_bytes(b"".join(
            (json.dumps({"event": "stop", "charger": f"CP{n % 10}", "transaction_id": 20000000 + n, "account": "home",
                         "account_index": 1, "meter_stop_wh": n, "stop_time": "2026-11-10T12:00:00Z",
                         "recorded_at": "2026-11-10T12:00:01.000Z", "flags": []}) + "\n").encode()
            for n in range(lines)))
        results = {name: {"held": [], "rate": []} for name in trees}
        for _ in range(repeats):
            for name, where in trees.items():
                if where is None:
                    continue
                held, rate = together(where, month, Path(directory) / name, processes, appends)
                results[name]["held"].append(held)
                results[name]["rate"].append(rate)
    figures = []
    for name in trees:
        if results[name]["held"]:
            figures.append(figure(f"exclusive lock held per append, {lines:,} lines: {name}", results[name]["held"], "ms"))
            figures.append(figure(f"appends a second, {processes} processes together: {name}", results[name]["rate"], "/s"))
    return Section("The ledger's exclusive lock", " ".join(__doc__.split("\n\n", 1)[1].split()), figures)


def tree(directory, commit):
    try:
        data = subprocess.run(["git", "archive", "--format=tar", commit, "shocpp"], cwd=ROOT, capture_output=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    where = Path(directory) / commit
    where.mkdir()
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(where)
    return where


def together(where, month, directory, processes, appends):
    """(median ms the exclusive lock was held, appends a second of all processes together)."""
    import shutil
    import statistics
    import time
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    shutil.copy(month, directory / "2026-11.jsonl")
    go = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(where), str(directory), str(n * appends),
                               str(appends), str(go)], stdout=subprocess.PIPE) for n in range(processes)]
    outs = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
    held = [h for out in outs for h in out["held"]]
    return 1000 * statistics.median(held), processes * appends / max(out["seconds"] for out in outs)
