"""Sessions' cost: StartTransaction and StopTransaction per frame, before and after start records.

Since start records, every StartTransaction appends a durable line to the ledger (flock, write,
fsync) before its confirmation, and every StopTransaction reads the records of its month and the
month before that concern its charger or its transactionId to tie itself to its start. This
measures what that costs per frame, through one real bin/shocpp-backend over pipes, with the
stop's month already holding N other sessions (a busy site's month, half of them on the same
charger), against the code just before start records (BEFORE, taken from git into a temporary
directory and run the same way).

Each version writes the other sessions' lines with its own code (handlers and ledger.encode, in a
process of its own on that tree), so the month file is what that version would have written: a
start and a stop line per session after, a stop line before (it wrote no start lines).
"""

import io
import json
import os
import pstats
import random
import shutil
import subprocess
import tarfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import median

from shocpp.protocol import transaction_id
from shocpp_sim import messages

from . import frames
from .common import (ROOT, TAGS, Section, figure, make_site, number, profile_table, python,
                     temporary_directory, wrapper_env)

BEFORE = "65189f8"  # main just before start records
SIZES = (0, 1_000, 10_000)
CHARGER = "bench-1"
OTHER_CHARGERS = 9      # the other half of the month's sessions is spread over these
TARGET_MS = 50          # a StopTransaction at the largest N
SESSION = timedelta(minutes=40)
MEASURED_FROM_WH = 900_000_000  # the measured sessions' register, far from the other sessions'
SPACING_S = 40                  # between the measured sessions' starts, in the charger's time

# Run with the tree under test first on the path: reads [charger, action, payload, now] lines on
# stdin, appends the ledger lines that tree's handlers make of them to the month files in argv[1].
MAKER = r"""
import json, sys
from datetime import datetime, timezone
from pathlib import Path
from shocpp import ledger, tags_file
from shocpp.protocol import handlers, ocppj

directory, tags = Path(sys.argv[1]), tags_file.load(sys.argv[2])
starts, out = {}, {}
for n, line in enumerate(sys.stdin):
    charger, action, payload, now = json.loads(line)
    now = datetime.fromisoformat(now)
    try:  # since start records, a stop is tied to its start among the records the shell gives it
        ctx = handlers.Context(charger, tags, now, timezone.utc, records=lambda month, c, tid:
                               [r for m, r in [starts.get(c, (None, None))] if m == month])
    except TypeError:
        ctx = handlers.Context(charger, tags, now, timezone.utc)
    handle = handlers.start_transaction if action == "StartTransaction" else handlers.stop_transaction
    for effect in handle(ocppj.Call(f"m{n}", action, payload), ctx).effects:
        if hasattr(effect, "record"):
            if effect.record.get("event") == "start":
                starts[charger] = (effect.month, effect.record)
            out.setdefault(effect.month, []).append(ledger.encode(effect.record))
for month, lines in out.items():
    with open(ledger.month_file(directory, month), "ab") as f:
        f.write(b"".join(lines))
print(json.dumps({month: len(lines) for month, lines in out.items()}))
"""


# --- the trees -----------------------------------------------------------------------------------

def before_tree(directory):
    """bin/ and shocpp/ of BEFORE in `directory` (git archive), run by the same interpreter; None
    when this checkout does not have that commit."""
    try:
        data = subprocess.run(["git", "archive", "--format=tar", BEFORE, "bin", "shocpp"], cwd=ROOT,
                              capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    tree = Path(directory) / "before"
    tree.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(tree)
    venv = ROOT / ".venv"
    if venv.exists():
        (tree / ".venv").symlink_to(venv.resolve())
    return tree


# --- the load ------------------------------------------------------------------------------------

def window(now):
    """(first instant of the month, end): the month the sessions go in and the last moment they may
    use, in the past (a time in the future is not plausible) and a day or more into the month."""
    end = (now - timedelta(minutes=1)).replace(microsecond=0)
    first = end.replace(day=1, hour=0, minute=0, second=0)
    if end - first < timedelta(days=1):
        end = first - timedelta(seconds=1)
        first = end.replace(day=1, hour=0, minute=0, second=0)
    return first, end


def other_sessions(count, first, until):
    """[charger, action, payload, now] of `count` sessions between first and until: half on
    CHARGER, half on the other chargers in turn, random accounts, 5–15 kWh each."""
    rng = random.Random(16)
    chargers = [CHARGER] + [f"charger-{n}" for n in range(2, OTHER_CHARGERS + 2)]
    registers = {c: 1_000_000 * (n + 1) for n, c in enumerate(chargers)}
    step = (until - SESSION - first) / max(count, 1)
    calls = []
    for n in range(count):
        charger = CHARGER if n % 2 == 0 else chargers[1 + (n // 2) % OTHER_CHARGERS]
        tag = TAGS[rng.randrange(len(TAGS))]["ids"][0]
        begin_wh = registers[charger]
        stop_wh = begin_wh + rng.randint(5_000, 15_000)
        registers[charger] = stop_wh + rng.randint(1_000, 3_000)  # the next session: another kWh
        began = first + step * n
        ended = began + SESSION
        tid = transaction_id.encode(_index(tag), begin_wh)
        calls.append([charger, "StartTransaction", messages.start_transaction(tag, begin_wh, messages.timestamp(began)),
                      began.isoformat()])
        calls.append([charger, "StopTransaction",
                      messages.stop_transaction(tid, tag, stop_wh, messages.timestamp(ended), "Local", begin_wh,
                                                messages.timestamp(began)),
                      (ended + timedelta(seconds=1)).isoformat()])
    return calls


def _index(tag):
    return next(t["index"] for t in TAGS if tag in t["ids"])


def measured_sessions(count, until, tag="TAG0001"):
    """[(StartTransaction, StopTransaction)] of CHARGER, one after the other, ending at `until`."""
    sessions, register = [], MEASURED_FROM_WH
    for n in range(count):
        began = until - timedelta(seconds=SPACING_S * (count - n))
        ended = began + timedelta(seconds=SPACING_S // 2)
        tid = transaction_id.encode(_index(tag), register)
        stop_wh = register + 200 + n  # 36 kW: plausible
        sessions.append((messages.start_transaction(tag, register, messages.timestamp(began)),
                         messages.stop_transaction(tid, tag, stop_wh, messages.timestamp(ended), "Local", register,
                                                   messages.timestamp(began))))
        register = stop_wh + 1_000
    return sessions


def write_month(tree, env, calls, directory):
    """The ledger lines `tree`'s own code makes of the calls, in `directory`: {month: lines}."""
    directory.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(call) + "\n" for call in calls).encode()
    done = subprocess.run([python(), "-P", "-c", MAKER, str(directory), env["SHOCPP_TAGSFILE"]], input=data,
                          capture_output=True, check=True, cwd=tree,
                          env={**env, "PYTHONPATH": str(tree), "PYTHONSAFEPATH": "1"})
    return json.loads(done.stdout)


# --- one run -------------------------------------------------------------------------------------

def drive(tree, env, sessions):
    """Start and stop each session through a fresh backend of `tree`, one frame at a time: the
    seconds from writing each frame to reading its reply, ([starts], [stops]). The first session
    warms the backend up (lazy imports, the month file opened) and is not counted."""
    proc = subprocess.Popen([str(Path(tree) / "bin" / "shocpp-backend")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env={**env, "PATH_INFO": f"/{CHARGER}"})
    starts, stops = [], []
    try:
        _exchange(proc, frames.line("ready", "Heartbeat", {}))
        for n, (start, stop) in enumerate(sessions):
            took, reply = _exchange(proc, frames.line(f"s{n}", "StartTransaction", start))
            if reply[2]["transactionId"] != stop["transactionId"]:
                raise RuntimeError(f"unexpected transactionId: {reply}")
            starts.append(took)
            took, _ = _exchange(proc, frames.line(f"t{n}", "StopTransaction", stop))
            stops.append(took)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return starts[1:], stops[1:]


def _exchange(proc, line):
    started = time.perf_counter()
    proc.stdin.write(line.encode() + b"\n")
    proc.stdin.flush()
    answer = proc.stdout.readline()
    took = time.perf_counter() - started
    reply = json.loads(answer)
    if reply[0] != 3:  # a CALLERROR (the ledger not written) is no measurement
        raise RuntimeError(f"{line[:60]}... answered {answer[:200]!r}")
    return took, reply


def run_once(tree, prepared, directory, sessions):
    """A fresh site whose ledger is a copy of `prepared`; (ms per StartTransaction, ms per
    StopTransaction) of the measured sessions, and the lines then in the ledger."""
    env = {**make_site(directory), "TZ": "UTC"}
    shutil.copytree(prepared, env["SHOCPP_ACCOUNTINGDIR"])
    starts, stops = drive(tree, env, sessions)
    records = [json.loads(line) for p in Path(env["SHOCPP_ACCOUNTINGDIR"]).glob("*.jsonl")
               for line in p.read_bytes().splitlines()]
    _check(tree, records, sessions)
    shutil.rmtree(directory)
    lines = len(records)
    return 1000 * sum(starts) / len(starts), 1000 * sum(stops) / len(stops), lines


def _check(tree, records, sessions):
    """Every measured stop is in the ledger once; since start records, tied to its start."""
    tids = {stop["transactionId"] for _, stop in sessions}
    stops = [r for r in records if r.get("transaction_id") in tids and r.get("event", "stop") == "stop"]
    if len(stops) != len(sessions):
        raise RuntimeError(f"{tree}: {len(stops)} of the {len(sessions)} measured stops in the ledger")
    if tree == ROOT and any(r["flags"] or "meter_start_wh" not in r for r in stops):
        raise RuntimeError(f"a measured stop was not tied to its start: {stops}")


# --- where the time goes -------------------------------------------------------------------------

WATCHED = [("ledger.py", "records"), ("ledger.py", "_lines_with"), ("__init__.py", "loads"),
           ("verdicts.py", "classify"), ("matching.py", "open_starts"), ("ledger.py", "append"),
           ("ledger.py", "_contains"), ("ledger.py", "_holds"), ("<built-in method posix.fsync>", None)]


def profile(env, sessions, directory):
    """cProfile of the backend (after) answering the measured sessions at once: pstats.Stats."""
    out = os.path.join(directory, "sessions.prof")
    data = "".join(frames.line(f"{k}{n}", a, p) + "\n" for n, (s, t) in enumerate(sessions)
                   for k, a, p in (("s", "StartTransaction", s), ("t", "StopTransaction", t))).encode()
    subprocess.run([python(), "-m", "cProfile", "-o", out, "-m", "shocpp.backend"], input=data,
                   stdout=subprocess.DEVNULL, check=True,
                   env=wrapper_env({**env, "PATH_INFO": f"/{CHARGER}"}))
    return pstats.Stats(out)


def per_stop(stats, stops):
    """Markdown rows: the watched functions' calls and cumulative ms per StopTransaction (and start)."""
    rows = []
    for file, name in WATCHED:
        found = [(calls, cum) for (path, _, func), (_, calls, _, cum, _) in stats.stats.items()
                 if (func == file if name is None else (Path(path).name == file and func == name))]
        if found:
            calls, cum = sum(c for c, _ in found), sum(t for _, t in found)
            label = file if name is None else f"{file} {name}"
            rows.append(f"| `{label}` | {calls / stops:,.1f} | {1000 * cum / stops:.1f} |")
    return "\n".join(["| function | calls per session | cumulative ms per session |", "|---|---:|---:|", *rows])


def breakdown_apart(env, sessions):
    """breakdown() in a fresh interpreter, as a backend is: not in the benchmark's own process, whose
    many objects make the garbage collector's passes over a stop's ten thousand records slower."""
    done = subprocess.run([python(), "-P", "-c", "import json, os, sys; from bench import sessions; "
                           "print(json.dumps(sessions.breakdown(os.environ, json.load(sys.stdin))))"],
                          input=json.dumps(sessions).encode(), capture_output=True, check=True, cwd=ROOT,
                          env={**env, "PYTHONPATH": str(ROOT)})
    medians, found = json.loads(done.stdout)
    return medians, found


def breakdown(env, sessions):
    """The steps of each measured session, timed in this process (no profiler) with the ledger of
    `env` (after): ({step: median ms per frame}, the records the last stop found)."""
    from shocpp import ledger, tags_file
    from shocpp.protocol import billing, matching, verdicts

    directory, tags, utc = Path(env["SHOCPP_ACCOUNTINGDIR"]), tags_file.load(env["SHOCPP_TAGSFILE"]), timezone.utc
    steps = {}

    def timed(step, function, *args):
        started = time.perf_counter()
        value = function(*args)
        steps.setdefault(step, []).append(1000 * (time.perf_counter() - started))
        return value

    for start, stop in sessions:
        now, tid = datetime.now(utc), stop["transactionId"]
        record = billing.start_record(CHARGER, start, tags.lookup(start["idTag"]), tid, now)
        timed("StartTransaction: `ledger.retransmitted_start` (is it a retransmission? reads, no lock held)",
              ledger.retransmitted_start, directory, billing.ledger_month(start["timestamp"], now, utc), record)
        timed("StartTransaction: `ledger.append` of the start record (reads, flock, write, fsync)", ledger.append,
              directory, billing.ledger_month(start["timestamp"], now, utc), record)
        before, month = verdicts.search_months(stop["timestamp"], now, utc)[-2:]
        found = timed("StopTransaction: `ledger.records` of the month before", ledger.records, directory, before,
                      tid)
        found = found + timed("StopTransaction: `ledger.records` of its month", ledger.records, directory, month,
                              tid)
        lines = [ledger.encode(r) for r in found]
        timed("&nbsp;&nbsp;of which `json.loads` of the lines it found", lambda: [json.loads(line) for line in lines])
        facts, site = billing.stop_facts(CHARGER, stop, now), billing.site_of(tags, tz=utc)
        verdict = timed("StopTransaction: `verdicts.classify`", verdicts.classify, facts, found, site)
        if verdict.start is None:
            raise RuntimeError(f"no start found for {tid}")
        timed("&nbsp;&nbsp;of which `matching.open_starts`", matching.open_starts, found)
        line = timed("StopTransaction: `billing.stop_record` (`verdicts.classify` included)", billing.stop_record,
                     CHARGER, stop, tags, now, found)
        timed("StopTransaction: `ledger.append` of the stop line (reads, flock, write, fsync)", ledger.append,
              directory, verdict.month, line)
    return {step: median(runs) for step, runs in steps.items()}, len(found)


# --- the section ---------------------------------------------------------------------------------

def run(quick=False):
    sizes, count, repeats = ((0, 20), 4, 1) if quick else (SIZES, 31, 7)
    first, end = window(datetime.now(timezone.utc))
    sessions = measured_sessions(count, end)
    others_until = end - timedelta(seconds=SPACING_S * count + 60)
    with temporary_directory() as tmp:
        tmp = Path(tmp)
        trees = {"after": ROOT}
        before = before_tree(tmp)
        if before is not None:
            trees = {"before": before, "after": ROOT}
        env = {**make_site(tmp / "site"), "TZ": "UTC"}
        prepared, made = {}, {}
        for size in sizes:
            calls = other_sessions(size, first, others_until)
            for version, tree in trees.items():
                directory = tmp / f"ledger-{version}-{size}"
                made[version, size] = write_month(tree, env, calls, directory)
                prepared[version, size] = directory
        results = {key: [] for key in prepared}
        lines, steps = {}, {}
        for r in range(repeats):
            for size in sizes:
                order = list(trees) if r % 2 == 0 else list(reversed(trees))  # interleaved, alternating
                for version in order:
                    start_ms, stop_ms, lines[version, size] = run_once(
                        trees[version], prepared[version, size], tmp / f"run-{version}-{size}-{r}", sessions)
                    results[version, size].append((start_ms, stop_ms))
            # the steps without the profiler, between the backends' runs so that a busy moment hits both
            steps_env = {**_copied(prepared["after", sizes[-1]], tmp / f"steps-{r}"), "TZ": "UTC"}
            medians, found = breakdown_apart(steps_env, sessions)
            for step, ms in medians.items():
                steps.setdefault(step, []).append(ms)
        largest = sizes[-1]
        stats = profile({**_copied(prepared["after", largest], tmp / "profile"), "TZ": "UTC"}, sessions, tmp)
        sizes_note = _sizes_note(made, lines, prepared, sizes, trees, count)
    figures = []
    for action, i in (("StartTransaction", 0), ("StopTransaction", 1)):
        for size in sizes:
            for version in trees:
                runs = [pair[i] for pair in results[version, size]]
                bound = TARGET_MS if (action, size, version) == ("StopTransaction", largest, "after") else None
                figures.append(figure(f"{action}, {number(size)} other sessions: {version}", runs, "ms",
                                      at_most=bound))
    notes = [_differences(results, sizes, trees), sizes_note,
             f"**Where the time goes** at {number(largest)} other sessions (cProfile of the backend, after, "
             f"answering the {count} sessions' frames at once; the profiler slows this code two to three times, "
             f"so read the shares, not the ms; per measured session, i.e. one StartTransaction and one "
             f"StopTransaction):\n\n"
             + per_stop(stats, count) + "\n\nThe backend's functions by their own time:\n\n"
             + profile_table(stats, top=10),
             f"The same steps without the profiler, at {number(largest)} other sessions: the after code called in "
             f"a fresh Python process on a fresh copy of the ledger, for the same {count} sessions, once per repeat "
             f"between the backends' runs (ms per frame: the median of the {repeats} runs' medians, and their "
             f"spread; the last stop found {found:,} records):\n\n"
             + "\n".join(["| step | ms | spread |", "|---|---:|---:|",
                           *(f"| {step} | {median(runs):.1f} | {min(runs):.1f} – {max(runs):.1f} |"
                             for step, runs in steps.items())])]
    return Section(
        "Sessions: StartTransaction and StopTransaction",
        f"What a StartTransaction and a StopTransaction cost per frame since start records (after: each "
        f"StartTransaction appends its start record with flock, write and fsync before its confirmation; each "
        f"StopTransaction reads the records of its month and the month before that concern its charger or its "
        f"transactionId to find its start, then appends its stop line), against the code just before them "
        f"(before: commit {BEFORE}, where a StartTransaction writes nothing). One `bin/shocpp-backend` of each "
        f"version over pipes, with frame logging, for one charger; {count - 1} sessions, each a StartTransaction "
        f"then its StopTransaction, sent one frame at a time, each timed from writing the frame to reading its "
        f"reply (after one warm-up session). The stop's month already holds N other sessions: half on the same "
        f"charger, half on {OTHER_CHARGERS} others, their lines written by that version's own code (after: a "
        f"start and a stop line each; before: a stop line each). A run is a fresh backend and a fresh copy of "
        f"the ledger, its figure the mean ms per frame; {repeats} run(s) per figure, before and after "
        f"interleaved in alternating order.",
        figures, notes)


def _copied(source, directory):
    env = make_site(directory)
    shutil.copytree(source, env["SHOCPP_ACCOUNTINGDIR"])
    return env


def _differences(results, sizes, trees):
    """before → after, the median of the per-repeat pairs."""
    if "before" not in trees:
        return f"Commit {BEFORE} is not in this checkout: no before figures."
    rows = []
    for size in sizes:
        cells = []
        for i in (0, 1):
            b = median(pair[i] for pair in results["before", size])
            a = median(pair[i] for pair in results["after", size])
            extra = median(x[i] - y[i] for x, y in zip(results["after", size], results["before", size]))
            cells.append(f"{number(b)} → {number(a)} ms (+{number(extra)})")
        rows.append(f"| {number(size)} | {cells[0]} | {cells[1]} |")
    return "\n".join(["Before → after (medians; in brackets the median of the per-repeat differences, what "
                      "start records add per frame):", "",
                      "| other sessions in the month | StartTransaction | StopTransaction |", "|---:|---:|---:|",
                      *rows])


def _sizes_note(made, lines, prepared, sizes, trees, count):
    parts = []
    for size in sizes:
        for version in trees:
            written = sum(made[version, size].values())
            size_mb = sum(p.stat().st_size for p in Path(prepared[version, size]).glob("*.jsonl")) / 1e6
            parts.append(f"{number(size)} {version}: {written:,} lines ({size_mb:.1f} MB), "
                         f"{lines[version, size]:,} after the run")
    return (f"The month file before each run, and after the run's {count} sessions: " + "; ".join(parts) + ".")
