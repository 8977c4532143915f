"""Memory: one idle backend after its BootNotification, and N chargers through the real listener.

One backend: bin/shocpp-backend over pipes, a BootNotification answered, then its resident
memory from /proc/PID/smaps_rollup. N chargers: N WebSocket connections held by this process
through bin/shocpp-listener (websocketd), each booted, then the websocketd process tree.
"""

import asyncio
import json
import statistics
import subprocess
import time

import websockets

from shocpp_sim import messages

from . import frames
from .common import (BIN, Section, compile_shocpp, figure, listener, make_site, memory, python, rollup, start,
                     stop, temporary_directory, tree, uss, wrapper_env)

MB = 1e6
SETTLE = 0.5      # seconds after the last answer before memory is read
SPREAD = 0.02     # seconds between connection starts
LAYERS = (  # (what, python's flags, code)
    ("nothing (`python -c pass`)", [], "pass"),
    ("nothing, without `site` (`python -S -c pass`, as the wrapper starts it)", ["-S"], "pass"),
    ("`dateutil.parser`, `dateutil.tz`", [], "import dateutil.parser, dateutil.tz"),
    ("`jsonschema`", [], "import jsonschema"),
    ("`shocpp.backend` (what it imports to start; `python -S`)", ["-S"], "import shocpp.backend"),
    ("`shocpp.backend` and `jsonschema` (which it imports lazily, if at all)", [], "import shocpp.backend, jsonschema"),
)
BOOT = frames.line("boot", "BootNotification", messages.boot_notification("bench"))


def idle_backend(env, n):
    """(RSS, PSS, USS) of a fresh backend that has answered a BootNotification."""
    proc = start([str(BIN / "shocpp-backend")], {**env, "PATH_INFO": f"/bench-{n}"},
                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        proc.stdin.write((BOOT + "\n").encode())
        proc.stdin.flush()
        reply = json.loads(proc.stdout.readline())
        if reply[0] != 3:
            raise RuntimeError(f"the backend did not confirm the BootNotification: {reply}")
        time.sleep(SETTLE)
        fields = rollup(proc.pid)
        return fields["Rss"], fields["Pss"], uss(fields)
    finally:
        proc.stdin.close()
        stop(proc)


def idle_python(env, code="pass", flags=()):
    """(RSS, PSS, USS) of the interpreter after running `code`, then waiting on stdin."""
    proc = start([python(), *flags, "-c", f"{code}\nimport sys; sys.stdin.read()"], wrapper_env(env),
                 stdin=subprocess.PIPE)
    try:
        time.sleep(SETTLE)
        if proc.poll() is not None:
            raise RuntimeError(f"python -c {code!r} exited with {proc.returncode}")
        fields = rollup(proc.pid)
        return fields["Rss"], fields["Pss"], uss(fields)
    finally:
        proc.stdin.close()
        stop(proc)


def layers_note(env, repeats, idle):
    """Where a backend's memory goes: the interpreter with more and more of what the backend imports."""
    rows = []
    for what, flags, code in LAYERS:
        found = [idle_python(env, code, flags) for _ in range(repeats)]
        rows.append((what, statistics.median(r for r, _, _ in found), statistics.median(u for _, _, u in found)))
    rows.append(("the backend itself, idle after a BootNotification",
                 statistics.median(r for r, _, _ in idle), statistics.median(u for _, _, u in idle)))
    lines = [f"| {what} | {rss / MB:.1f} | {private / MB:.1f} |" for what, rss, private in rows]
    shared = rows[-1][1] - rows[-1][2]
    return "\n".join([
        f"Of an idle backend's RSS, {shared / MB:.1f} MB are shared pages (the interpreter's library and "
        "code, mapped from files); PSS gives each process its share of them, divided among all the processes "
        "on the machine that map them, the other backends and any other Python of the same build. Where "
        "many do, a backend's PSS comes near its USS.", "",
        "**Where the memory goes**: the same interpreter, idle after these imports (RSS and USS in MB, "
        f"median of {repeats}):", "", "| after | RSS | USS |", "|---|---:|---:|", *lines])


async def boot(url, identity, delay):
    await asyncio.sleep(delay)
    ws = await websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"], open_timeout=60,
                                  ping_interval=None)
    await ws.send(frames.line("boot", "BootNotification", messages.boot_notification(identity)))
    reply = json.loads(await asyncio.wait_for(ws.recv(), 60))
    if reply[0] != 3:
        raise RuntimeError(f"{identity}: the BootNotification was not confirmed: {reply}")
    return ws


async def fleet_memory(url, websocketd_pid, count):
    """Hold `count` booted connections and measure the websocketd tree: a dict of bytes and counts."""
    results = await asyncio.gather(*(boot(url, f"mem-{n}", n * SPREAD) for n in range(count)),
                                   return_exceptions=True)
    sockets = [r for r in results if not isinstance(r, BaseException)]
    try:
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise RuntimeError(f"{len(failed)} of {count} chargers did not boot: {failed[0]!r}")
        await asyncio.sleep(SETTLE)
        return tree_memory(websocketd_pid)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def is_backend(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"shocpp.backend" in f.read()
    except OSError:
        return False


def tree_memory(listener_pid):
    """The listener's tree: its backends, and the rest (the listener, a websocketd per protocol, HAProxy)."""
    pids = tree(listener_pid)
    backends = [p for p in pids if is_backend(p)]
    rss, pss = memory(pids)
    return {"rss": rss, "pss": pss, "backends": len(backends),
            "backend_pss": memory(backends)[1], "backend_uss": sum(uss(rollup(p)) for p in backends),
            "listener_rss": memory([p for p in pids if p not in backends])[0]}


def fleet_round(env, directory, count):
    with listener(env, directory) as (url, proc):
        found = asyncio.run(fleet_memory(url, proc.pid, count))
    if found["backends"] != count:
        raise RuntimeError(f"{found['backends']} backends for {count} chargers")
    return found


def fleet_figures(rounds, count):
    return [
        figure(f"{count} chargers: total RSS", [r["rss"] / MB for r in rounds], "MB"),
        figure(f"{count} chargers: total PSS", [r["pss"] / MB for r in rounds], "MB"),
        figure(f"{count} chargers: PSS per charger (backends)",
               [r["backend_pss"] / count / MB for r in rounds], "MB"),
        figure(f"{count} chargers: USS per charger (backends)",
               [r["backend_uss"] / count / MB for r in rounds], "MB"),
        figure(f"{count} chargers: listener RSS (websocketd per protocol, HAProxy, supervisor)",
               [r["listener_rss"] / MB for r in rounds], "MB"),
    ]


def run(quick=False):
    repeats, sizes, rounds = (1, (3,), 1) if quick else (5, (10, 100), 3)
    compile_shocpp()
    with temporary_directory() as tmp:
        env = make_site(tmp)
        floors = [idle_python(env) for _ in range(repeats)]
        idle = [idle_backend(env, n) for n in range(repeats)]
        note = layers_note(env, 1 if quick else 3, idle)
        fleets = {count: [fleet_round(env, tmp, count) for _ in range(rounds)] for count in sizes}
    figures = [
        figure("one idle backend: RSS", [r / MB for r, _, _ in idle], "MB", at_most=25),
        figure("one idle backend: PSS", [p / MB for _, p, _ in idle], "MB"),
        figure("one idle backend: USS", [u / MB for _, _, u in idle], "MB"),
        figure("idle interpreter (`python -c pass`, waiting): RSS", [r / MB for r, _, _ in floors], "MB"),
        figure("idle interpreter: USS", [u / MB for _, _, u in floors], "MB"),
    ]
    for count, found in fleets.items():
        figures += fleet_figures(found, count)
    return Section(
        title="Memory",
        about=(f"One backend: `bin/shocpp-backend` over pipes (PATH_INFO=/bench-N), a BootNotification "
               f"answered, {SETTLE} s of rest, then RSS, PSS and USS (Private_Clean + Private_Dirty) from "
               f"/proc/PID/smaps_rollup; {repeats} fresh backends, beside the same interpreter idle "
               f"(waiting on stdin) as the floor. N chargers: "
               f"{' and '.join(map(str, sizes))} WebSocket connections to `bin/shocpp-listener` on loopback, "
               f"started {SPREAD * 1000:.0f} ms apart, each booted, then the memory of the websocketd process "
               f"tree (websocketd and one backend per charger), {rounds} round(s) with a fresh listener. "
               "RSS counts every page a process maps, so the interpreter's shared code and libraries, mapped "
               "by every backend, are counted once per backend and the RSS total overstates what the "
               "machine gives up. PSS divides each shared page among the processes that map it, so PSS "
               "totals add up to the memory really used: the fair total. USS is what one more charger "
               "costs, its private pages only."),
        figures=figures,
        notes=[note],
    )
