"""bench/v201.py: its 2.0.1 load is valid and billed, and its section has every figure (a --quick run)."""

import json

from bench import v201
from shocpp.protocol.v201 import schemas


def test_the_2_0_1_load_is_valid_ocpp():
    lines = v201.sessions_201(40)
    assert len(lines) == 40
    for line in lines:
        _, _, action, payload = json.loads(line)
        assert schemas.check(action, "req", payload) == [], line
    assert sum('"eventType":"Ended"' in line for line in lines) == 2


def test_the_section_has_every_figure():
    section = v201.run(quick=True)
    assert [f.name for f in section.figures] == [
        "1.6 realistic mix", "2.0.1 sessions", "1.6 first reply to a BootNotification",
        "2.0.1 first reply to a BootNotification", "Heartbeat round trip, websocketd alone",
        "Heartbeat round trip, through the HAProxy front"]
    assert all(min(f.runs) > 0 for f in section.figures)
