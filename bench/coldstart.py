"""Cold start: from process start to the first reply on stdout, as at every (re)connection.

websocketd starts a backend for each connection, so this is what a reconnect costs before the
charger gets its first answer. Beside it, in the same run, the interpreter alone (`python -c pass`, and
`python -S -c pass` as the wrapper starts it).
"""

import os
import subprocess
import time

from . import frames
from .common import (BIN, Section, as_wrapper, compile_shocpp, figure, import_tree, make_site, parse_importtime,
                     python, temporary_directory, timed, wrapper_env)

BOOT = frames.line("1", "BootNotification", frames.mix(1)[0][1]) + "\n"
HEARTBEAT = frames.line("1", "Heartbeat", {}) + "\n"


def first_reply(env, line):
    """Seconds from starting bin/shocpp-backend with `line` waiting on stdin to its first reply."""
    read_end, write_end = os.pipe()
    os.write(write_end, line.encode())
    started = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "shocpp-backend")], stdin=read_end, stdout=subprocess.PIPE, env=env)
    try:
        reply = proc.stdout.readline()
        elapsed = time.perf_counter() - started
    finally:
        os.close(read_end)
        os.close(write_end)
        proc.wait(timeout=30)
    if not reply.startswith(b"[3,"):
        raise RuntimeError(f"the backend answered {reply[:200]!r}")
    return elapsed


def imports(env):
    """The slowest imports of a start, from python -X importtime (cumulative ms): the interpreter's own,
    shocpp.backend and what it imports (nested under it, as the wrapper imports it)."""
    done = subprocess.run(as_wrapper("shocpp.backend", "-X", "importtime"), input=BOOT.encode(),
                          capture_output=True, check=True,
                          env=wrapper_env(env))
    found = parse_importtime(done.stderr.decode())
    listed = []
    for name, children in import_tree(found.items()):
        listed.append(name)
        if name == "shocpp.backend":  # and, one level down, what the backend imports
            listed += [child for child, _ in children]
    top = sorted(((found[name][1], name) for name in listed), reverse=True)[:12]
    return "\n".join(f"{ms:6.1f} ms  {name}" for ms, name in top)


def run(quick=False):
    starts = 3 if quick else 30
    compile_shocpp()
    with temporary_directory() as tmp:
        env = {**make_site(tmp), "PATH_INFO": "/bench-1"}
        boot, heartbeat, interpreter, without_site = [], [], [], []
        for _ in range(starts):  # interleaved, so that a busy moment hits all alike
            boot.append(1000 * first_reply(env, BOOT))
            heartbeat.append(1000 * first_reply(env, HEARTBEAT))
            interpreter.append(1000 * timed([python(), "-c", "pass"], env))
            without_site.append(1000 * timed([python(), "-S", "-c", "pass"], env))
        top = imports(env)
    return Section(
        "Cold start",
        f"From starting `bin/shocpp-backend` (the sh wrapper and the Python of the project's .venv) with "
        f"a frame already waiting on stdin to its first reply on stdout; {starts} starts each, interleaved "
        f"with the same number of `python -c pass` and `python -S -c pass` runs of the same interpreter "
        f"(shocpp's bytecode compiled, as `make install` leaves it).",
        [figure("first reply to a BootNotification", boot, "ms", at_most=150),
         figure("first reply to a Heartbeat", heartbeat, "ms"),
         figure("python -c pass (the floor)", interpreter, "ms"),
         figure("python -S -c pass (the wrapper's interpreter)", without_site, "ms"),
         figure("BootNotification / floor", [b / i for b, i in zip(boot, interpreter)], "")],
        ["The slowest imports of one run, from start to exit (python -S -X importtime -c ..., as the wrapper "
         "runs it; cumulative ms; what `shocpp.backend` imports one level down, under it):",
         "```\n" + top + "\n```"])
