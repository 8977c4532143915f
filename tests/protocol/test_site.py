"""site.json: parsing, defaults, and errors that name the problem."""

import json

import pytest

from shocpp.protocol.site import GridMeter, Settings, SiteError, parse, resolve_pointer

EXAMPLE = {"grid_limit_a": 32, "interval_s": 30, "default": {"min_a": 6, "max_a": 16, "phases": 3, "mode": "fast"},
           "chargers": {"garage-left": {"max_a": 32, "priority": 2}, "carport": {"mode": "pv", "phases": 1}},
           "grid_meter": {"command": "cat /run/grid"}, "enable_delay_s": 60, "disable_delay_s": 180,
           "phase_switch_pause_s": 120}


def test_the_issue_example():
    site = parse(json.dumps(EXAMPLE))
    assert site.grid_limit_a == 32 and site.interval_s == 30
    assert site.settings("garage-left") == Settings(min_a=6, max_a=32, phases=3, mode="fast", priority=2)
    assert site.settings("carport") == Settings(mode="pv", phases=1)
    assert site.settings("elsewhere") == Settings()
    assert site.grid_meter == GridMeter("command", "cat /run/grid")


def test_only_the_grid_limit_is_needed():
    site = parse('{"grid_limit_a": 25}')
    assert (site.interval_s, site.enable_delay_s, site.disable_delay_s, site.phase_switch_pause_s) == (30, 60, 180, 120)
    assert site.grid_meter is None


@pytest.mark.parametrize("data, words", [
    ("{", "not valid JSON"),
    ("[]", "must be an object"),
    ('{}', "'grid_limit_a' is a required property"),
    ('{"grid_limit_a": 32.5}', "grid_limit_a: 32.5 is not of type 'integer'"),
    ('{"grid_limit_a": 32, "chargers": {"x": {"mode": "slow"}}}', "chargers.x.mode: 'slow' is not one of"),
    ('{"grid_limit_a": 32, "default": {"maxa": 3}}', "default: Additional properties are not allowed ('maxa'"),
    ('{"grid_limit_a": 32, "default": {"phases": 2}}', "default.phases: 2 is not 1 or 3"),
    ('{"grid_limit_a": 32, "chargers": {"x": {"min_a": 20, "max_a": 10}}}', "chargers.x: min_a 20 is more than max_a 10"),
    ('{"grid_limit_a": 5}', "default: min_a 6 is more than grid_limit_a 5"),
    ('{"grid_limit_a": 32, "grid_meter": {}}', "grid_meter: needs exactly one of command, url or file"),
    ('{"grid_limit_a": 32, "grid_meter": {"file": "a", "url": "http://x"}}', "(has url, file)"),
    ('{"grid_limit_a": 32, "grid_meter": {"file": "a", "pointer": "/x"}}', "pointer goes with url only"),
    ('{"grid_limit_a": 32, "grid_meter": {"url": "http://x", "pointer": "x"}}', "not a JSON pointer"),
    ('{"grid_limit_a": 32, "grid_meter": {"url": "ftp://x"}}', "grid_meter.url"),
])
def test_errors_name_the_problem(data, words):
    with pytest.raises(SiteError) as e:
        parse(data, "/etc/site.json")
    assert str(e.value).startswith("/etc/site.json: ")
    assert words in str(e.value)


def test_json_pointer():
    doc = {"a": [{"b/c": 5, "m~n": 6}], "": 1}
    assert resolve_pointer(doc, "/a/0/b~1c") == 5
    assert resolve_pointer(doc, "/a/0/m~0n") == 6
    assert resolve_pointer(doc, "") == doc
    assert resolve_pointer(doc, "/") == 1
    for bad in ("/a/1", "/a/01", "/x", "a"):
        with pytest.raises(KeyError):
            resolve_pointer(doc, bad)
