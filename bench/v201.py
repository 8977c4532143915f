"""OCPP 2.0.1 beside 1.6: the backend's throughput and cold start for each, and the cost of the front.

Both protocols share the URL: HAProxy (misc/shocpp-front.cfg) routes each connection to the websocketd
of its subprotocol. What that adds to every frame is measured as the round trip of a Heartbeat over a
WebSocket, sequentially, through the listener (HAProxy, then websocketd) and to a websocketd alone.
"""

import asyncio
import json
import os
import signal
import subprocess
import time

from . import frames
from .coldstart import first_reply
from .common import BIN, Section, figure, make_site, temporary_directory
from .throughput import pump

V201 = {"SHOCPP_OCPP_VERSION": "2.0.1"}
BOOT_201 = frames.line("1", "BootNotification", {"chargingStation": {"model": "Bench", "vendorName": "shocpp"},
                                                  "reason": "PowerUp"}) + "\n"


def sessions_201(count, tag="TAG0001"):
    """`count` CALLs of one 2.0.1 station: a boot, then sessions of Started, 10 Updated, Ended."""
    calls = [frames.line("b", "BootNotification", json.loads(BOOT_201)[3])]
    register, n = 1_000_000, 0
    while len(calls) < count:
        n += 1
        tid = f"bench-{n}"
        calls.append(frames.line(f"s{n}", "StatusNotification", {
            "timestamp": "2026-11-01T10:00:00Z", "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}))
        calls.append(frames.line(f"a{n}", "Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}}))
        for seq, kind in enumerate(["Started"] + ["Updated"] * 10 + ["Ended"]):
            register += 700
            context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(kind, "Sample.Periodic")
            payload = {"eventType": kind, "timestamp": f"2026-11-01T10:{seq:02d}:00Z", "seqNo": seq,
                       "triggerReason": "MeterValuePeriodic", "transactionInfo": {"transactionId": tid},
                       "meterValue": [{"timestamp": f"2026-11-01T10:{seq:02d}:00Z", "sampledValue": [
                           {"value": register, "context": context}, {"value": 11000, "measurand": "Power.Active.Import"}]}]}
            if kind == "Started":
                payload.update(evse={"id": 1, "connectorId": 1}, idToken={"idToken": tag, "type": "ISO14443"})
            calls.append(frames.line(f"t{n}-{seq}", "TransactionEvent", payload))
        calls.append(frames.line(f"h{n}", "Heartbeat", {}))
    return calls[:count]


def _port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port, seconds=10):
    import socket
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


async def _round_trips(url, subprotocol, count):
    import websockets
    async with websockets.connect(url, subprotocols=[subprotocol]) as ws:
        times = []
        for n in range(count):
            started = time.perf_counter()
            await ws.send(f'[2,"{n}","Heartbeat",{{}}]')
            await ws.recv()
            times.append(time.perf_counter() - started)
    times.sort()
    return 1e6 * times[len(times) // 2]


def round_trip_us(env, count, front):
    """The median µs of a Heartbeat's round trip through the listener (front) or a websocketd alone."""
    from shocpp.tools import listener
    port = _port()
    env = {**env, "WS_ADDRESS": "127.0.0.1", "WS_PORT": str(port)}
    argv = [str(BIN / "shocpp-listener")] if front else listener.command(env)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        _wait(port)
        return asyncio.run(_round_trips(f"ws://127.0.0.1:{port}/bench-1", "ocpp1.6", count))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def run(quick=False):
    count, repeats, starts, trips = (300, 1, 3, 50) if quick else (20_000, 5, 20, 1000)
    with temporary_directory() as tmp:
        env = make_site(tmp)
        mix16 = frames.lines(frames.mix(count))
        mix201 = sessions_201(count)
        t16 = [len(mix16) / pump(make_site(os.path.join(tmp, f"a{i}")), mix16) for i in range(repeats)]
        t201 = [len(mix201) / pump({**make_site(os.path.join(tmp, f"b{i}")), **V201}, mix201)
                for i in range(repeats)]
        start_env = {**env, "PATH_INFO": "/bench-1"}
        boot16, boot201 = [], []
        for _ in range(starts):  # interleaved
            boot16.append(1000 * first_reply(start_env, frames.line("1", "BootNotification",
                                                                    frames.mix(1)[0][1]) + "\n"))
            boot201.append(1000 * first_reply({**start_env, **V201}, BOOT_201))
        direct = [round_trip_us(env, trips, front=False) for _ in range(repeats)]
        fronted = [round_trip_us(env, trips, front=True) for _ in range(repeats)]
    return Section(
        "OCPP 2.0.1 beside 1.6",
        f"One `bin/shocpp-backend` over pipes (as throughput above), {count:,} frames: the 1.6 realistic mix, "
        f"and a 2.0.1 station's sessions (StatusNotification, Authorize, TransactionEvent Started, 10 Updated, "
        f"Ended, Heartbeat; a start and a stop record fsynced per session); cold start as above, "
        f"{starts} starts each, interleaved. The front's cost: the median round trip of {trips} sequential "
        f"Heartbeats over one WebSocket, through the listener (HAProxy routing on the subprotocol, then "
        f"websocketd) and to a websocketd alone; {repeats} runs each.",
        [figure("1.6 realistic mix", t16, "frames/s"),
         figure("2.0.1 sessions", t201, "frames/s"),
         figure("1.6 first reply to a BootNotification", boot16, "ms"),
         figure("2.0.1 first reply to a BootNotification", boot201, "ms", at_most=150),
         figure("Heartbeat round trip, websocketd alone", direct, "µs"),
         figure("Heartbeat round trip, through the HAProxy front", fronted, "µs")])
