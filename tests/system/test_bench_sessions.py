"""The sessions benchmark runs end to end (quick sizes), before and after start records.

It checks that every figure is there with positive values, never how fast anything is.
"""

import subprocess
from datetime import datetime, timezone

import pytest

from bench import sessions

from conftest import ROOT


def has_before():
    return subprocess.run(["git", "cat-file", "-e", f"{sessions.BEFORE}^{{commit}}"], cwd=ROOT,
                          capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def section():
    return sessions.run(quick=True)


def test_every_figure_is_there_and_positive(section):
    versions = ("before", "after") if has_before() else ("after",)
    names = {f.name: f for f in section.figures}
    for action in ("StartTransaction", "StopTransaction"):
        for size in ("0", "20"):
            for version in versions:
                f = names[f"{action}, {size} other sessions: {version}"]
                assert len(f.runs) == 1 and f.median > 0, f.name
    assert names["StopTransaction, 20 other sessions: after"].target == f"≤ {sessions.TARGET_MS}"


def test_the_notes_compare_and_say_where_the_time_goes(section):
    differences, sizes, hot, steps = section.notes
    if has_before():
        assert "| 20 | " in differences and " → " in differences
    assert "20 after: 40 lines" in sizes  # a start and a stop line per other session
    assert "| `ledger.py records` | 2.0 |" in hot  # the stop's month and the month before
    assert "| function | calls | own ms | cumulative ms |" in hot


def test_the_sessions_lie_in_one_past_month():
    now = datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc)  # too early in the month: the one before
    first, end = sessions.window(now)
    assert (first.year, first.month) == (end.year, end.month) == (2026, 11) and end < now
    stops = [stop["timestamp"] for _, stop in sessions.measured_sessions(5, end)]
    assert all(s.startswith("2026-11-") for s in stops)
    calls = sessions.other_sessions(10, first, end)
    assert len(calls) == 20 and sum(c[0] == sessions.CHARGER for c in calls) == 10


def test_the_steps_are_timed_without_the_profiler(section):
    steps = section.notes[3]
    assert "| StopTransaction: `ledger.records` of its month |" in steps
    assert "| StartTransaction: `ledger.append` of the start record" in steps
