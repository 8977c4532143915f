"""The tools' cost: bin/shocpp-summary over a year of ledger, 50 accounts and 100,000 sessions.

The ledger is made by the backend's own code: each session's StopTransaction (as the simulator
sends it, with Transaction.Begin/End readings) goes through handlers.stop_transaction, and the
record it returns is encoded with ledger.encode into the month file it names. The lines are
written straight to the files (ledger.append fsyncs each one: hours for a year).
"""

import cProfile
import io
import pstats
import random
import time
from collections import defaultdict
from contextlib import redirect_stdout
from datetime import datetime, timedelta, timezone

from shocpp.protocol import handlers, ocppj, tags, transaction_id
from shocpp import ledger, tags_file
from shocpp.tools import summary
from shocpp import config as config_module
from shocpp_sim import messages

from .common import (BIN, TAGS, Section, figure, make_site, number, profile_table, python,
                     temporary_directory, timed)

YEAR = 2025
CHARGERS = 10
SESSION_KWH = (1, 60)
TARGET_S = 2


def stop_payloads(count, seed=6):
    """`count` StopTransactions spread evenly over YEAR, chargers taking turns, random accounts and
    energy: [(charger, payload, stop time)]."""
    rng, registers = random.Random(seed), [1_000_000 * (c + 1) for c in range(CHARGERS)]
    start, step = datetime(YEAR, 1, 1, tzinfo=timezone.utc), timedelta(days=365) / count
    stops = []
    for n in range(count):
        charger, account = n % CHARGERS, TAGS[rng.randrange(len(TAGS))]
        begin_wh = registers[charger]
        stop_wh = begin_wh + rng.randint(*SESSION_KWH) * 1000 + rng.randrange(1000)
        registers[charger] = stop_wh + rng.randrange(50, 2000)
        stopped = start + step * n + timedelta(minutes=1)
        began = stopped - timedelta(hours=2)
        tid = transaction_id.encode(account["index"], begin_wh)
        payload = messages.stop_transaction(tid, account["ids"][0], stop_wh, messages.timestamp(stopped),
                                            "Local", begin_wh, messages.timestamp(began))
        stops.append((f"charger-{charger + 1}", payload, stopped))
    return stops


def ledger_lines(stops, known):
    """{month: [encoded line]} as the backend would append them (chargers listed in chargers.json: a stop
    without its start record is billed from its transactionId)."""
    months = defaultdict(list)
    for n, (charger, payload, stopped) in enumerate(stops):
        ctx = handlers.Context(charger, known, stopped + timedelta(seconds=1.2), timezone.utc, charger_listed=True)
        outcome = handlers.stop_transaction(ocppj.Call(f"s{n}", "StopTransaction", payload), ctx)
        (effect,) = outcome.effects
        months[effect.month].append(ledger.encode(effect.record))
    return months


def write_ledger(env, sessions):
    """A year of ledger in the site's accounting directory: (files, bytes)."""
    directory = config_module.from_env(env).accounting_dir
    directory.mkdir(parents=True, exist_ok=True)
    known = tags_file.load(env["SHOCPP_TAGSFILE"])
    months = ledger_lines(stop_payloads(sessions), known)
    for month, lines in months.items():
        ledger.month_file(directory, month).write_bytes(b"".join(lines))
    return len(months), sum(len(line) for lines in months.values() for line in lines)


def year_args(fmt="table"):
    return ["--from", f"{YEAR}-01", "--to", f"{YEAR}-12", "--format", fmt]


def timed_summary(env, args):
    return timed([str(BIN / "shocpp-summary"), *args], env)


def profile_note(env):
    """Where the time of one year's table goes: shocpp.tools.summary.main under cProfile, in-process."""
    profiler = cProfile.Profile()
    with redirect_stdout(io.StringIO()):
        profiler.runcall(summary.main, year_args(), env)
    stats = pstats.Stats(profiler)
    return (f"**Where the time goes** (cProfile of `summary.main` for the year in-process, {stats.total_tt:.2f} s "
            f"under the profiler, which slows it; functions by their own time):\n\n" + profile_table(stats))


def run(quick=False):
    sessions, repeats = (2_000, 1) if quick else (100_000, 5)
    with temporary_directory() as tmp:
        env = make_site(tmp)
        env["TZ"] = "UTC"
        started = time.perf_counter()
        files, size = write_ledger(env, sessions)
        made = time.perf_counter() - started
        year = figure(f"year, {sessions:,} sessions, table", [timed_summary(env, year_args()) for _ in range(repeats)],
                      "s", at_most=TARGET_S)
        figures = [
            year,
            figure("year, CSV", [timed_summary(env, year_args("csv")) for _ in range(repeats)], "s"),
            figure("year, JSON", [timed_summary(env, year_args("json")) for _ in range(repeats)], "s"),
            figure("one month, table", [timed_summary(env, [str(YEAR), "6"]) for _ in range(repeats)], "s"),
            figure("python -c pass (the floor)", [timed([python(), "-c", "pass"], env) for _ in range(repeats)], "s"),
        ]
        notes = [f"The ledger: {files} files, {size / 1e6:.1f} MB, {sessions:,} lines; made in {made:.1f} s "
                 "(not measured)."]
        notes.append(profile_note(env))
    return Section(
        title="The tools' cost: shocpp-summary",
        about=(f"`bin/shocpp-summary --from {YEAR}-01 --to {YEAR}-12` over a year of ledger: {sessions:,} "
               f"sessions of {len(TAGS)} accounts on {CHARGERS} chargers, spread evenly over the 12 months, "
               f"{SESSION_KWH[0]}–{SESSION_KWH[1]} kWh each, every record made by the backend's own "
               "`handlers.stop_transaction` and `ledger.encode` from a simulator's StopTransaction (with "
               "Transaction.Begin/End readings, so `consumed_wh` is there too). The wall time of the whole "
               f"process, output to /dev/null, median of {repeats}; the same year as CSV and JSON, the "
               f"month of June alone (about {number(sessions / 12)} sessions), and the interpreter's start."),
        figures=figures,
        notes=notes,
    )
