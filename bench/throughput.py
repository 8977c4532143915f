"""Backend throughput: frames per second through one bin/shocpp-backend over pipes.

The frames go in as fast as the backend takes them (one writer thread), the time runs from the
first byte written to the last reply read. The floor is Python's own json.loads + json.dumps of
the same lines in this process: the least any Python backend must do per frame.
"""

import json
import os
import pstats
import subprocess
import threading
import time

from . import frames
from .common import (BIN, Section, figure, make_site, profile_table, python, temporary_directory,
                     wrapper_env)

ACTIONS = ("BootNotification", "Heartbeat", "StatusNotification", "Authorize", "StartTransaction",
           "MeterValues", "StopTransaction")


def pump(env, lines):
    """Seconds from the first frame written to the last reply read, through a fresh backend."""
    data = "".join(line + "\n" for line in lines).encode()
    proc = subprocess.Popen([str(BIN / "shocpp-backend")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env={**env, "PATH_INFO": "/bench-1"})
    try:
        _wait_ready(proc)
        writer = threading.Thread(target=_write, args=(proc.stdin, data))
        started = time.perf_counter()
        writer.start()
        replies = sum(1 for _ in zip(range(len(lines)), proc.stdout))
        elapsed = time.perf_counter() - started
        writer.join()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    if replies != len(lines):
        raise RuntimeError(f"the backend answered {replies} of {len(lines)} frames")
    return elapsed


def _wait_ready(proc):
    """One heartbeat answered: the interpreter is up and the imports are done before the clock starts."""
    proc.stdin.write(frames.line("ready", "Heartbeat", {}).encode() + b"\n")
    proc.stdin.flush()
    proc.stdout.readline()


def _write(stream, data):
    stream.write(data)
    stream.flush()


def floor(lines):
    started = time.perf_counter()
    for line in lines:
        json.dumps(json.loads(line))
    return time.perf_counter() - started


def rates(env, lines, repeats):
    return [len(lines) / pump(env, lines) for _ in range(repeats)]


def profile(env, lines, directory):
    """The backend's own functions by time, for the realistic mix (cProfile, in the process)."""
    out = os.path.join(directory, "profile.out")
    data = "".join(line + "\n" for line in lines).encode()
    subprocess.run([python(), "-m", "cProfile", "-o", out, "-m", "shocpp.backend"], input=data,
                   stdout=subprocess.DEVNULL, check=True,
                   env=wrapper_env({**env, "PATH_INFO": "/bench-1"}))
    return profile_table(pstats.Stats(out))


def run(quick=False):
    count, per_type, repeats = (300, 40, 1) if quick else (20_000, 2_000, 5)
    with temporary_directory() as tmp:
        env = make_site(tmp)
        lines = frames.lines(frames.mix(count))
        shocpp = rates(env, lines, repeats)
        base = [len(lines) / floor(lines) for _ in range(repeats)]
        figures = [figure("realistic mix, one backend", shocpp, "frames/s", at_least=5000),
                   figure("floor: json.loads + json.dumps of the same frames", base, "frames/s"),
                   figure("shocpp / floor", [s / b for s, b in zip(shocpp, base)], "")]
        for action in ACTIONS:
            kind = frames.lines(frames.only(action, per_type))
            figures.append(figure(f"{action} only", rates(make_site(os.path.join(tmp, action)), kind, repeats),
                                  "frames/s"))
        hot = profile(make_site(os.path.join(tmp, "profile")), lines, tmp)
    mix = ", ".join(f"{n} {a}" for a, n in _counts(lines))
    return Section(
        "Backend throughput",
        f"One `bin/shocpp-backend` process over pipes, as websocketd runs it, with frame logging and the "
        f"ledger on (each StopTransaction is appended with fsync before its confirmation). The realistic "
        f"mix is {len(lines):,} frames of one charger's sessions ({mix}); each type alone is "
        f"{per_type:,} frames. The clock runs from the first frame written to the last reply read, "
        f"after one warm-up heartbeat; each figure is {repeats} runs, each in a fresh process.",
        figures,
        ["Where the time goes in the realistic mix (cProfile of the backend, functions by their own time):",
         hot])


def _counts(lines):
    counts = {}
    for line in lines:
        action = json.loads(line)[2]
        counts[action] = counts.get(action, 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])
