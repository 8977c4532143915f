"""The command round trip, summary cost and memory benchmarks run end to end (quick sizes).

They check that every figure is there, with the right number of runs and plausible values,
never how fast or small anything is.
"""

import io
import json
import os
from contextlib import redirect_stdout

import pytest

from bench import command_rt, memory, summary_cost
from bench.common import make_site, parse_importtime, rollup, uss
from shocpp.tools import summary


def by_name(section):
    return {f.name: f for f in section.figures}


def assert_plausible(section, count, runs):
    assert len(section.figures) == count
    for f in section.figures:
        assert len(f.runs) == runs, f.name
        assert all(r > 0 for r in f.runs), f.name


# --- command round trip -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def command_section():
    return command_rt.run(quick=True)


def test_command_round_trip_figures(command_section):
    assert_plausible(command_section, 11, 1)
    f = by_name(command_section)
    assert f["shocpp-command process, p50"].target == "≤ 20"
    assert f["shocpp-command process, p50"].median <= f["shocpp-command process, p99"].median
    assert f["in-process round trip (FIFO, backend, charger), p50"].median <= f["in-process round trip, p99"].median
    ten = f"{command_rt.AT_ONCE} commands at once"
    assert f[f"{ten}: each, p50"].median <= f[f"{ten}: each, p99"].median <= f[f"{ten}: until all answered"].median


def test_command_round_trip_says_where_the_time_goes(command_section):
    (note,) = command_section.notes
    assert "Where the time goes" in note and "| import | ms |" in note and "`site`" in note


def test_importtime_output_becomes_a_tree():
    text = ("import time: self [us] | cumulative | imported package\n"
            "import time:       100 |        100 |     c\n"
            "import time:       200 |        300 |   b\n"
            "import time:       400 |        700 | a\n"
            "import time:      1600 |       1600 | d\n")
    found = parse_importtime(text)
    assert found == {"c": (2, 0.1), "b": (1, 0.3), "a": (0, 0.7), "d": (0, 1.6)}
    tree = command_rt.import_tree(found.items())
    assert tree == [("a", [("b", [("c", [])])]), ("d", [])]
    ms = {name: value for name, (_, value) in found.items()}
    assert command_rt.tree_rows(tree, ms, at_least=0.2) == [
        "| `a` | 0.7 |", "| &nbsp;&nbsp;&nbsp;&nbsp;`b` | 0.3 |", "| `d` | 1.6 |"]


# --- summary cost -------------------------------------------------------------------------------

def test_summary_cost_figures():
    section = summary_cost.run(quick=True)
    assert_plausible(section, 5, 1)
    year = section.figures[0]
    assert year.name.startswith("year, 2,000 sessions") and year.target == "≤ 2"
    assert "2,000 lines" in section.notes[0]


def test_the_generated_ledger_is_read_whole(tmp_path):
    env = {**make_site(tmp_path), "TZ": "UTC"}
    files, size = summary_cost.write_ledger(env, 240)
    assert files == 12 and size > 0
    out = io.StringIO()
    with redirect_stdout(out):
        assert summary.main(summary_cost.year_args("json"), env) == summary.OK
    totals = json.loads(out.getvalue())
    assert totals["grand_total"]["sessions"] == 240 and totals["skipped_lines"] == 0
    assert totals["unknown_tags"]["sessions"] == 0
    assert all(s["consumed_wh"] is not None for s in totals["sessions"])


# --- memory -------------------------------------------------------------------------------------

def test_memory_figures():
    section = memory.run(quick=True)
    assert_plausible(section, 10, 1)
    f = by_name(section)
    rss, pss, uss = (f[f"one idle backend: {k}"].median for k in ("RSS", "PSS", "USS"))
    assert rss >= pss >= uss
    assert f["one idle backend: RSS"].target == "≤ 25"
    assert f["3 chargers: total RSS"].median >= f["3 chargers: total PSS"].median
    assert f["3 chargers: total PSS"].median >= 3 * f["3 chargers: PSS per charger (backends)"].median
    assert "Where the memory goes" in section.notes[0]


def test_rollup_of_this_process():
    fields = rollup(os.getpid())
    assert fields["Rss"] >= uss(fields) > 0
