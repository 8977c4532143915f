"""The listener's stderr (the service's journal) carries errors only (#24 item 8): no ACCESS line for
each connection, and no websocketd ERROR "read |0: file already closed" when a charger goes away
(it came at about one disconnect in ten, closed or cut, as after a Soft reset)."""

import time

import websockets

from conftest import run

CYCLES = 120


async def connect_and_leave(url, cycles):
    for n in range(cycles):
        ws = await websockets.connect(f"{url}/CP{n % 7}", subprotocols=["ocpp1.6"])
        await ws.send('[2,"1","Heartbeat",{}]')
        await ws.recv()
        if n % 2:
            await ws.close()
        else:
            ws.transport.abort()  # a charger that reboots without closing


def test_chargers_coming_and_going_leave_nothing_on_stderr(site, start_listener):
    url = start_listener()
    run(connect_and_leave(url, CYCLES))
    deadline = time.monotonic() + 30
    while disconnects(site) < CYCLES and time.monotonic() < deadline:  # the last backends finish
        time.sleep(0.1)
    time.sleep(0.5)
    (out,) = site.root.glob("shocpp-listener-*.out")
    text = out.read_text()
    errors = [line for line in text.splitlines() if "| ERROR" in line or "already closed" in line]
    assert errors == []
    assert "ACCESS" not in text
    assert disconnects(site) == CYCLES


def disconnects(site):
    return sum(line.endswith("- disconnected") for line in site.log_file.read_text().splitlines())
