"""The fleet benchmark runs end to end (quick: 3 chargers, one repeat) against all three servers.

It checks that every figure is there and plausible, never how fast anything is.
"""

import re

import pytest

from bench import fleet


@pytest.fixture(scope="module")
def section():
    return fleet.run(quick=True)


def figures(section, server, name):
    return [f for f in section.figures if f.name == f"3 chargers, {server}: {name}"]


@pytest.mark.parametrize("server", fleet.SERVERS)
def test_every_server_has_its_figures(section, server):
    for name, _, _ in fleet.MEASURES:
        assert len(figures(section, server, name)) == 1, name


@pytest.mark.parametrize("server", fleet.SERVERS)
def test_round_trips_were_measured_without_errors(section, server):
    p50, = figures(section, server, "round trip p50")
    p99, = figures(section, server, "round trip p99")
    errors, = figures(section, server, "errors")
    memory, = figures(section, server, "memory of the server (PSS)")
    assert 0 < p50.median <= p99.median
    assert errors.runs == [0]
    assert memory.median > 0


def test_every_round_trip_of_the_window_was_answered(section):
    table = section.notes[1]
    for server in fleet.SERVERS:
        expected = 3 * fleet.QUICK_SECONDS
        assert re.search(rf"\| 3 \| {server} \| {expected} of {expected} \|", table), server


def test_the_ratios_and_the_method_are_reported(section):
    assert "p99 ÷ echo" in section.notes[0] and "p99 ÷ peer" in section.notes[0]
    assert "keeps nothing" in section.about
