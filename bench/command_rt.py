"""Command round trip: shocpp-command to a simulated charger that answers at once.

The real listener on a free loopback port and bin/shocpp-simulate connected to it as one
charger. Measured: the whole `bin/shocpp-command ... GetConfiguration '{}'` process (the sh
wrapper and the Python it execs), beside the floors: `python -c pass`, the interpreter as the
wrapper starts it (`python -S -c pass`), that interpreter importing json (what any command that
reads JSON pays) and importing shocpp.tools.command (start-up and imports); the same round trip
in-process, with the functions shocpp-command calls (the FIFO round trip alone); and 10 commands
started together. Where the start-up goes comes from -X importtime.
"""

import contextlib
import statistics
import subprocess
import threading
import time
from pathlib import Path

from shocpp.tools import command
from shocpp import runfiles
from shocpp import config as config_module

from .common import (BIN, Section, as_wrapper, compile_shocpp, figure, import_tree, listener, make_site,
                     parse_importtime, percentile, python, start, stop, temporary_directory, timed, wrapper_env)

CHARGER = "bench-cmd"
IMPORT_COMMAND = "from shocpp import startup; startup.late_site(); import shocpp.tools.command"
ACTION, PAYLOAD = "GetConfiguration", "{}"
AT_ONCE = 10
TIMEOUT = 10


@contextlib.contextmanager
def simulated_charger(url, env, directory):
    """bin/shocpp-simulate as CHARGER, connected and booted; its process."""
    with open(Path(directory) / "simulate.out", "wb") as out:
        proc = start([str(BIN / "shocpp-simulate"), url, "--id", CHARGER, "--quiet"], env,
                     stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_booted(config_module.from_env(env).run_dir, proc)
            yield proc
        finally:
            stop(proc)


def wait_until_booted(run_dir, proc, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the simulator exited with status {proc.returncode}")
        conn = runfiles.live_chargers(run_dir).get(CHARGER)
        if conn is not None and conn.info.get("boot"):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{CHARGER} has not booted within {seconds} s")


def command_argv():
    return [str(BIN / "shocpp-command"), "--charger", CHARGER, "--timeout", str(TIMEOUT), ACTION, PAYLOAD]


def timed_process(argv, env):
    return 1000 * timed(argv, env)


def process_batch(env, count):
    """`count` runs of each process, interleaved so that they share the machine's moods."""
    argvs = {"floor": [python(), "-c", "pass"],
             "floor -S": [python(), "-S", "-c", "pass"],
             "json": [python(), "-S", "-c", "import json"],
             "imports": [python(), "-S", "-c", IMPORT_COMMAND],
             "command": command_argv()}
    times = {name: [] for name in argvs}
    for _ in range(count):
        for name, argv in argvs.items():
            times[name].append(timed_process(argv, wrapper_env(env)))
    return times


def in_process_call(run_dir):
    """What shocpp-command's main does after parsing its arguments, without printing: ms."""
    started = time.perf_counter()
    payload = command.parse_payload(ACTION, PAYLOAD)
    conn = command.choose(run_dir, CHARGER)
    answer = command.send(run_dir, conn, ACTION, payload, TIMEOUT)
    elapsed = 1000 * (time.perf_counter() - started)
    if answer.get("status") != "result":
        raise RuntimeError(f"in-process command failed: {answer}")
    return elapsed


def in_process_batch(run_dir, count):
    return [in_process_call(run_dir) for _ in range(count)]


def at_once(env, count=AT_ONCE):
    """`count` shocpp-command processes released together: (ms until all answered, each one's ms)."""
    gate, times, errors = threading.Barrier(count + 1), [None] * count, []

    def one(i):
        gate.wait()
        try:
            times[i] = timed_process(command_argv(), env)
        except RuntimeError as e:
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    gate.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    total = 1000 * (time.perf_counter() - started)
    if errors:
        raise errors[0]
    return total, times


def import_times(env, repeats):
    """The imports of real shocpp-command runs (-X importtime, so the lazy ones too):
    (the tree of the first run, [(name, [children])], and each module's median cumulative ms)."""
    runs = []
    for _ in range(repeats):
        done = subprocess.run([*as_wrapper("shocpp.tools.command", "-X", "importtime"), *command_argv()[1:]],
                              env=wrapper_env(env), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"shocpp-command -X importtime exited with {done.returncode}")
        runs.append(parse_importtime(done.stderr))
    ms = {name: statistics.median(r.get(name, (0, 0))[1] for r in runs) for name in runs[0]}
    return import_tree(runs[0].items()), ms


def tree_rows(nodes, ms, depth=0, at_least=1.5, deepest=2):
    rows = []
    for name, children in nodes:
        if ms[name] >= at_least:
            rows.append(f"| {'&nbsp;' * 4 * depth}`{name}` | {ms[name]:.1f} |")
            if depth < deepest:
                rows += tree_rows(children, ms, depth + 1, at_least, deepest)
    return rows


def where_the_time_goes(imports, floor_ms, json_ms, imports_ms, command_ms, in_process_ms):
    """A note: the process wall time split up, and the heaviest imports."""
    tree, ms = imports
    return "\n".join([
        f"**Where the time goes.** Of the command's {command_ms:.0f} ms (p50): the interpreter as the "
        f"wrapper starts it, with nothing to do (`python -S -c pass`, no `site`) {floor_ms:.0f} ms; "
        f"json and what it imports (re, enum, functools, collections) {json_ms - floor_ms:.0f} ms; the rest of "
        f"`shocpp.tools.command`'s imports {imports_ms - json_ms:.0f} ms; the rest, {command_ms - imports_ms:.0f} ms, "
        "is the sh wrapper, argument parsing, the payload's schema check, the FIFO round trip "
        f"(in-process {in_process_ms:.1f} ms) and exit. The imports of a real command "
        "(`python -S -X importtime -c ...` as the wrapper runs it, cumulative ms, median of its runs, a little "
        "slower than without -X importtime; those of 1.5 ms or more, nested under what imported them, 3 levels):",
        "",
        "| import | ms |", "|---|---:|", *tree_rows(tree, ms)])


def run(quick=False):
    per_batch, batches, rounds = (5, 1, 1) if quick else (50, 3, 5)
    compile_shocpp()
    with temporary_directory() as tmp:
        env = make_site(tmp)
        with listener(env, tmp) as (url, _), simulated_charger(url, env, tmp):
            return measure(env, per_batch, batches, rounds, 1 if quick else 5)


def measure(env, per_batch, batches, rounds, import_repeats):
    run_dir = config_module.from_env(env).run_dir
    in_process_batch(run_dir, 3)  # warm-up: the schema cache, the backend's first command
    processes = [process_batch(env, per_batch) for _ in range(batches)]
    in_process = [in_process_batch(run_dir, per_batch) for _ in range(batches)]
    together = [at_once(env) for _ in range(rounds)]
    imports = import_times(env, import_repeats)

    def p(batches_of, q):
        return [percentile(b, q) for b in batches_of]

    commands = [b["command"] for b in processes]
    figures = [
        figure("shocpp-command process, p50", p(commands, 50), "ms", at_most=20),
        figure("shocpp-command process, p99", p(commands, 99), "ms"),
        figure("python -c pass (the floor), p50", p([b["floor"] for b in processes], 50), "ms"),
        figure("python -S -c pass (the wrapper's interpreter), p50", p([b["floor -S"] for b in processes], 50), "ms"),
        figure("python -S -c 'import json', p50", p([b["json"] for b in processes], 50), "ms"),
        figure("python -S -c 'import shocpp.tools.command', p50", p([b["imports"] for b in processes], 50), "ms"),
        figure("in-process round trip (FIFO, backend, charger), p50", p(in_process, 50), "ms"),
        figure("in-process round trip, p99", p(in_process, 99), "ms"),
        figure(f"{AT_ONCE} commands at once: until all answered", [t for t, _ in together], "ms"),
        figure(f"{AT_ONCE} commands at once: each, p50", [percentile(e, 50) for _, e in together], "ms"),
        figure(f"{AT_ONCE} commands at once: each, p99", [percentile(e, 99) for _, e in together], "ms"),
    ]
    median = {f.name: f.median for f in figures}
    note = where_the_time_goes(imports, median["python -S -c pass (the wrapper's interpreter), p50"],
                               median["python -S -c 'import json', p50"],
                               median["python -S -c 'import shocpp.tools.command', p50"],
                               median["shocpp-command process, p50"],
                               median["in-process round trip (FIFO, backend, charger), p50"])
    return Section(
        title="Command round trip",
        about=(f"`bin/shocpp-command --charger {CHARGER} {ACTION} '{PAYLOAD}'` to bin/shocpp-simulate, "
               "connected through the real listener (websocketd) on loopback; the simulator answers at once. "
               f"Process figures: the wall time of the whole process, p50 and p99 of {per_batch} runs, "
               f"{batches} batch(es), each run of `python -c pass`, `python -S -c pass`, `python -S -c 'import json'` "
               "and `python -S -c 'import shocpp.tools.command'` (same interpreter and environment as the bin/ "
               "wrapper, shocpp's bytecode compiled as `make install` leaves it) interleaved with the commands. "
               "In-process: `command.parse_payload`, `choose` and `send` called in the benchmark's own "
               "process, the same round trip without the interpreter's start: request files, FIFO, backend, "
               f"WebSocket, charger and back. At once: {AT_ONCE} command processes released together "
               f"({rounds} round(s)); the backend sends them to the charger one at a time."),
        figures=figures,
        notes=[note],
    )
