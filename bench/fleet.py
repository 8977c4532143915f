"""Fleet: many chargers at once through real websocketd, beside an echo floor and an `ocpp` peer.

For each fleet size, each repeat, the three servers one after the other, each on a fresh
loopback port (and shocpp on a fresh site): shocpp (bin/shocpp-listener), websocketd with
`cat` as the backend (the floor of the process-per-charger design), and bench/peer.py (a
central system on the `ocpp` package's asyncio server). The same load process
(bench/load.py) drives each; the server's whole process tree is measured over the load's
measured window, its memory at the end of it with every charger still connected.
"""

import json
import os
import queue
import statistics
import subprocess
import threading

from .common import (BIN, ROOT, Section, Usage, figure, make_site, number, python, serving, start, stop,
                     temporary_directory, wrapper_env)
from .load import WARM_UP_TIMEOUT

SERVERS = ("shocpp", "echo", "peer")
SIZES, SECONDS, REPEATS = (10, 100, 500), 20, 3
QUICK_SIZES, QUICK_SECONDS, QUICK_REPEATS = (3,), 2, 1
RAMP = 0.02
ANSWER_TIMEOUT = 10
TARGET_SIZE, TARGET_P99_MS = 500, 100
MB = 1e6


def run(quick=False):
    sizes, seconds, repeats = (QUICK_SIZES, QUICK_SECONDS, QUICK_REPEATS) if quick else (SIZES, SECONDS, REPEATS)
    results = {(n, server): [] for n in sizes for server in SERVERS}
    for n in sizes:
        for _ in range(repeats):
            for server in SERVERS:  # interleaved, so a drift of the machine touches all three alike
                results[(n, server)].append(one_run(server, n, seconds))
    return section(results, sizes, seconds, repeats)


# --- one run --------------------------------------------------------------------------------------

def one_run(server, chargers, seconds):
    """Start `server`, drive it with the load process, stop both; the load's result with the server's usage."""
    with temporary_directory() as directory:
        command = lambda port: server_command(server, port, directory)  # noqa: E731
        with serving(command, directory, cwd=ROOT) as (port, proc):
            return drive(proc, port, chargers, seconds)


def server_command(server, port, directory):
    if server == "shocpp":
        env = make_site(directory)
        env.update(WS_ADDRESS="127.0.0.1", WS_PORT=str(port), SHOCPP_MAX_CHARGERS="0")  # 500 chargers: no bound
        return [str(BIN / "shocpp-listener")], env
    if server == "echo":
        return ["websocketd", "--address=127.0.0.1", f"--port={port}",
                "--header-ws=Sec-WebSocket-Protocol: ocpp1.6", "cat"], dict(os.environ)
    return [python(), "-m", "bench.peer", "--port", str(port)], wrapper_env(os.environ)


def drive(server, port, chargers, seconds):
    """Run the load; measure the server's tree over the measured window, memory with all connected."""
    argv = [python(), "-m", "bench.load", "--url", f"ws://127.0.0.1:{port}", "--chargers", str(chargers),
            "--seconds", str(seconds), "--ramp", str(RAMP), "--timeout", str(ANSWER_TIMEOUT), "--hold"]
    load = start(argv, wrapper_env(os.environ), stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
    try:
        lines = reader(load)
        # Deadlines only against a hung load: it gives up on its own well before them.
        expect(lines, "measuring", chargers * RAMP + WARM_UP_TIMEOUT + 30)
        with Usage(server.pid) as usage:
            expect(lines, "measured", seconds * (ANSWER_TIMEOUT + 1) + 30)
        load.stdin.write(b"\n")
        load.stdin.close()
        result = json.loads(next_line(lines, 60))
        load.wait(timeout=60)
    finally:
        stop(load)
    result.update(server_cpu_percent=usage.cpu_percent, server_pss_mb=usage.pss / MB,
                  server_rss_mb=usage.rss / MB, server_processes=usage.processes)
    return result


def reader(proc):
    """The lines of proc's stdout, through a queue (None at the end), so that waiting has a deadline."""
    lines = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=pump, daemon=True).start()
    return lines


def next_line(lines, timeout):
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        raise RuntimeError(f"the load process said nothing for {timeout:.0f} s") from None
    if line is None:
        raise RuntimeError("the load process ended early")
    return line


def expect(lines, phase, timeout):
    line = next_line(lines, timeout)
    if json.loads(line).get("phase") != phase:
        raise RuntimeError(f"the load process said {line!r}, expected the phase {phase!r}")


# --- the section ----------------------------------------------------------------------------------

MEASURES = (  # figure name, result key, unit
    ("round trip p50", "p50_ms", "ms"),
    ("round trip p99", "p99_ms", "ms"),
    ("errors", "errors", ""),
    ("CPU of the server", "server_cpu_percent", "%"),
    ("memory of the server (PSS)", "server_pss_mb", "MB"),
)
RATIOS = (("p50", "p50_ms"), ("p99", "p99_ms"), ("CPU", "server_cpu_percent"), ("PSS", "server_pss_mb"))


def section(results, sizes, seconds, repeats):
    figures = [fleet_figure(n, server, name, [r[key] for r in results[(n, server)]], unit)
               for n in sizes for server in SERVERS for name, key, unit in MEASURES]
    notes = [ratio_table(results, sizes), load_table(results, sizes)]
    return Section("Fleet", about(seconds, repeats), figures, notes)


def fleet_figure(n, server, name, runs, unit):
    runs = [0 if value is None else value for value in runs]
    label = f"{n} chargers, {server}: {name}"
    if server == "shocpp" and n == TARGET_SIZE and name == "round trip p99":
        return figure(label, runs, unit, at_most=TARGET_P99_MS)
    if server == "shocpp" and n == TARGET_SIZE and name == "errors":
        return figure(label, runs, unit, at_most=0)
    return figure(label, runs, unit)


def ratio(a, b):
    return None if not a or not b else a / b


def ratio_cell(results, n, other, key):
    """The median and spread of shocpp / other, taken run by run (runs of one repeat ran side by side)."""
    values = [ratio(s[key], o[key]) for s, o in zip(results[(n, "shocpp")], results[(n, other)])]
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    spread = f" ({number(min(values))}–{number(max(values))})" if len(values) > 1 else ""
    return f"{number(statistics.median(values))}×{spread}"


def ratio_table(results, sizes):
    header = [f"{label} ÷ {other}" for other in ("echo", "peer") for label, _ in RATIOS]
    rows = ["| chargers | " + " | ".join(header) + " |", "|---:|" + "---:|" * len(header)]
    for n in sizes:
        cells = [ratio_cell(results, n, other, key) for other in ("echo", "peer") for _, key in RATIOS]
        rows.append(f"| {n} | " + " | ".join(cells) + " |")
    return ("shocpp against the two others, the median of the per-repeat ratios (lowest–highest): "
            "above 1 means shocpp takes more.\n\n" + "\n".join(rows))


def load_table(results, sizes):
    rows = ["| chargers | server | round trips | max | late CALLs | processes | RSS | PSS per charger | "
            "connect p50 | warm-up | load CPU |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        for server in SERVERS:
            rows.append(load_row(n, server, results[(n, server)]))
    return ("Medians over the repeats: round trips answered in the window, the slowest, CALLs sent more than "
            "50 ms after their slot (the previous answer was late), the server's processes and RSS "
            "(shared pages counted in every process), its PSS divided by the chargers, the load's connect "
            "time (to the BootNotification answer), the warm-up (ramp and boots) and the load process's "
            "own CPU.\n\n" + "\n".join(rows))


def load_row(n, server, runs):
    def med(key):
        return statistics.median(r[key] or 0 for r in runs)
    return (f"| {n} | {server} | {med('count'):,.0f} of {runs[0]['expected']:,} | {number(med('max_ms'))} ms | "
            f"{med('late'):,.0f} | {med('server_processes'):,.0f} | {number(med('server_rss_mb'))} MB | "
            f"{number(med('server_pss_mb') / n)} MB | {number(med('connect_p50_ms'))} ms | "
            f"{number(med('warm_up_s'))} s | {number(med('load_cpu_percent'))} % |")


def about(seconds, repeats):
    return (
        f"N simulated chargers (bench/load.py, one asyncio process) connect to the server over loopback "
        f"WebSocket, {RAMP * 1000:.0f} ms apart (each connection starts a process in websocketd), and send "
        f"a BootNotification; once all are answered, each sends one CALL a second for {seconds} s, the "
        f"chargers' phases spread evenly over the second, one outstanding CALL at a time, taken from a "
        f"realistic session mix (StatusNotification, Authorize, StartTransaction, MeterValues, Heartbeat, "
        f"StopTransaction about 1 in 32, the chargers starting at different points of a session). Only "
        f"those round trips are measured, from the send to the frame carrying the CALL's id. Errors are "
        f"CALLERRORs, answers later than {ANSWER_TIMEOUT} s, failed and closed connections. The server's "
        f"process tree is measured over the same window: CPU % (100 = one core), PSS at the end with all "
        f"chargers connected. Three servers under the same load, one after the other in each repeat: "
        f"shocpp (bin/shocpp-listener, a fresh site per run; every frame logged, status and meter files "
        f"written, a ledger line fsynced per StopTransaction), websocketd with `cat` as the backend (the "
        f"floor of the process-per-charger design), and bench/peer.py, a central system in one process on "
        f"the `ocpp` package's ChargePoint served by `websockets` (payloads checked against the schemas, "
        f"correct answers, a transactionId per StartTransaction, but no ledger, no log, no files: it keeps "
        f"nothing). WebSocket compression off (websocketd has none). Load and server share the machine's "
        f"cores. {repeats} repeat{'s' if repeats > 1 else ''}; each figure is the median of its runs.")
