"""What the benchmarks share: repeated measurement, figures, sites, processes and their cost."""

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from shocpp_sim.stats import percentile  # noqa: F401 (the benchmarks' percentile too)

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")

TAGS = [{"index": n, "account": f"account-{n}", "ids": [f"TAG{n:04d}"]} for n in range(1, 51)]


@dataclass
class Figure:
    """One measured quantity: the median of its runs, with the spread (lowest, highest)."""
    name: str
    runs: list
    unit: str
    target: Optional[str] = None      # e.g. "≥ 5000"; shown beside the figure
    met: Optional[bool] = None        # whether the median meets the target

    @property
    def median(self):
        return statistics.median(self.runs)


@dataclass
class Section:
    title: str
    about: str                       # what was measured and how, one paragraph
    figures: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # markdown paragraphs/tables after the figures


def figure(name, runs, unit, at_least=None, at_most=None):
    """A Figure, its target met when the median is at least / at most the given bound."""
    fig = Figure(name, list(runs), unit)
    if at_least is not None:
        fig.target, fig.met = f"≥ {number(at_least)}", fig.median >= at_least
    elif at_most is not None:
        fig.target, fig.met = f"≤ {number(at_most)}", fig.median <= at_most
    return fig


def number(value):
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def make_site(directory, tags=TAGS):
    """A site in `directory` (tags, accounting, run, log); the environment for bin/ commands."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tags.json").write_text(json.dumps(tags))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOCPP_", "WS_", "GATEWAY_"))}
    env.update({
        "SHOCPP_TAGSFILE": str(directory / "tags.json"),
        "SHOCPP_ACCOUNTINGDIR": str(directory / "accounting"),
        "SHOCPP_RUNDIR": str(directory / "run"),
        "SHOCPP_LOGDIR": str(directory / "log"),
        "SHOCPP_CHARGERSFILE": str(directory / "chargers.json"),
        # The benchmarks send thousands of transaction messages a second on purpose: no bound of #24 here.
        "SHOCPP_RECORD_RATE": "1000000",
    })
    return env


def temporary_directory():
    return tempfile.TemporaryDirectory(prefix="shocpp-bench-")


def python():
    """The interpreter the bin/ wrappers pick: the project's .venv, else this one."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


# --- processes and what they cost ---------------------------------------------------------------

def start(argv, env, **kwargs):
    """A process in a session of its own, so `stop` ends it with everything it started."""
    return subprocess.Popen(argv, env=env, start_new_session=True, **kwargs)


def stop(proc, timeout=20):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def serving(command, directory, cwd=None):
    """The server `command(port)` gives (argv, env) for, on a free loopback port, its output in
    `directory`: (port, process) while the block runs."""
    from shocpp_sim.demo import free_port, wait_for_port

    port = free_port()
    argv, env = command(port)
    with open(Path(directory) / f"server-{port}.log", "wb") as out:
        proc = start(argv, env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            wait_for_port(port, proc)
            yield port, proc
        finally:
            stop(proc)


@contextlib.contextmanager
def listener(env, directory):
    """bin/shocpp-listener (real websocketd) on a free loopback port: (its ws:// URL, its process)."""
    def command(port):
        return [str(BIN / "shocpp-listener")], {**env, "WS_ADDRESS": "127.0.0.1", "WS_PORT": str(port)}

    with serving(command, directory) as (port, proc):
        yield f"ws://127.0.0.1:{port}", proc


def wrapper_env(env):
    """What bin/ wrappers set before they start Python: for runs of python that compare with them."""
    return {**env, "PYTHONSAFEPATH": "1", "PYTHONPATH": str(ROOT)}


def as_wrapper(module, *flags):
    """What bin/shocpp-backend and bin/shocpp-command exec, without the sh around it (shocpp/startup.py):
    python -S -c ..., with more of the interpreter's `flags` (e.g. -X importtime)."""
    return [python(), "-S", *flags, "-c", f"from shocpp import startup; startup.main({module!r})"]


def compile_shocpp():
    """Bytecode for shocpp/, as `make install` leaves it. Where PYTHONDONTWRITEBYTECODE is set (as on
    the project's machines) none is written, and every start would compile each module from source."""
    subprocess.run([python(), "-m", "compileall", "-q", str(ROOT / "shocpp")], check=True)


def tree(pid):
    """pid and all its descendants, read from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def cpu_seconds(pids):
    """User + system CPU seconds the processes have used so far (the living ones)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def rollup(pid):
    """/proc/PID/smaps_rollup as {field: bytes}."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return fields


def uss(fields):
    """Unique set size: the pages this process alone holds, what it costs to add one."""
    return fields["Private_Clean"] + fields["Private_Dirty"]


def memory(pids):
    """(RSS, PSS) in bytes, summed over the living processes. PSS shares shared pages out fairly."""
    rss = pss = 0
    for pid in pids:
        try:
            fields = rollup(pid)
        except OSError:
            continue
        rss, pss = rss + fields["Rss"], pss + fields["Pss"]
    return rss, pss


def timed(argv, env):
    """Seconds from start to exit of a process whose output is thrown away; failing is an error."""
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited with {done.returncode}: "
                           f"{done.stderr.decode(errors='replace')}")
    return elapsed


def profile_table(stats, top=12):
    """A Markdown table of the functions of a pstats.Stats with the most own time."""
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    lines = [f"| `{_where(func)}` | {calls:,} | {own * 1000:.0f} | {cum * 1000:.0f} |"
             for func, (_, calls, own, cum, _) in rows]
    return "\n".join(["| function | calls | own ms | cumulative ms |", "|---|---:|---:|---:|", *lines])


def _where(func):
    path, line, name = func
    return f"{Path(path).name}:{line} {name}" if line else name


def parse_importtime(text):
    """{name: (depth, cumulative ms)} from -X importtime's stderr, in its order (children first)."""
    found = {}
    for line in text.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        found[name.strip()] = (depth, int(cumulative) / 1000)
    return found


def import_tree(entries):
    """[(name, [children ...])] of the top-level imports, from -X importtime's children-first order."""
    pending = {}
    for name, (depth, _) in entries:
        pending.setdefault(depth, []).append((name, pending.pop(depth + 1, [])))
    return pending.get(0, [])


class Usage:
    """CPU use of a process tree over a window, and its memory at the end."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        self.started, self.cpu_start = time.monotonic(), cpu_seconds(tree(self.pid))
        return self

    def __exit__(self, *_):
        pids = tree(self.pid)
        self.wall = time.monotonic() - self.started
        self.cpu = cpu_seconds(pids) - self.cpu_start
        self.processes = len(pids)
        self.rss, self.pss = memory(pids)

    @property
    def cpu_percent(self):
        return 100 * self.cpu / self.wall
