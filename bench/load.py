"""A fleet of simulated chargers as benchmark load: python -m bench.load --url ws://... --chargers N.

Each charger connects (the connections spread over a ramp, since every one of them may
start a process on the server), gets its BootNotification answered, and waits at a
barrier. Then every charger sends one CALL a second for --seconds, the chargers' phases
spread evenly across the second so the load is steady, one outstanding CALL at a time.
Only those round trips are measured. Any frame whose element [1] is the CALL's unique id
answers it: a CALLRESULT, a CALLERROR (an error), or for an echo server the CALL itself.

Errors are CALLERRORs, timeouts, failed connections and connections closed under load.
The result is one JSON object on stdout. With --hold the load also prints
{"phase": "measuring"} when the measured window opens and {"phase": "measured"} when it
closes, then keeps its connections open until a line arrives on stdin, so that whoever
started it can measure the server with all chargers connected.
"""

import argparse
import asyncio
import json
import resource
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from . import frames
from .common import percentile

SESSION_LENGTH = len(frames.session("TAG0001", 1, 1_000_000, 0)[0])
WARM_UP_TIMEOUT = 120.0
LATE = 0.05   # a CALL sent this long after its slot (the previous answer was late) counts as late


class Lost(Exception):
    """The connection failed or closed."""


class Charger:
    """One simulated charger: its CALLs, its connection and what it measured."""

    def __init__(self, n, measured_calls):
        self.identity = f"bench-{n}"
        index = n % 50 + 1
        # Chargers start at different points of a session, so the fleet sends the session's
        # mix (StopTransactions included) even in a window shorter than a session.
        offset = n % SESSION_LENGTH
        calls = frames.mix(1 + offset + measured_calls, self.identity, f"TAG{index:04d}", index)
        self.boot, self.calls = calls[0], calls[1 + offset:]
        self.connection = self.reader = None
        self.ready = False
        self.waiting = {}
        self.sent = 0
        self.transaction_id = None
        self.round_trips, self.late = [], 0
        self.errors = {"callerror": 0, "timeout": 0, "connect": 0, "closed": 0}

    async def warm_up(self, url, delay):
        """Connect after `delay` and get the BootNotification answered; the connect time or None."""
        await asyncio.sleep(delay)
        started = time.perf_counter()
        try:
            self.connection = await connect(url + "/" + self.identity, subprotocols=["ocpp1.6"],
                                            compression=None, proxy=None, ping_interval=None,
                                            open_timeout=WARM_UP_TIMEOUT)
            self.reader = asyncio.get_running_loop().create_task(self.read())
            await self.call(*self.boot, timeout=WARM_UP_TIMEOUT)
        except (OSError, InvalidHandshake, asyncio.TimeoutError, Lost):
            self.errors["connect"] += 1
            return None
        self.ready = True
        return time.perf_counter() - started

    async def read(self):
        try:
            async for message in self.connection:
                self.on_frame(message)
        except ConnectionClosed:
            pass
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(Lost())

    def on_frame(self, text):
        try:
            frame = json.loads(text)
            future = self.waiting.pop(frame[1], None)
        except (ValueError, TypeError, KeyError, IndexError):
            return
        if future is not None and not future.done():
            future.set_result(frame)

    async def call(self, action, payload, timeout):
        """Send one CALL and wait for its answer; the answer frame."""
        self.sent += 1
        unique_id = str(self.sent)
        future = asyncio.get_running_loop().create_future()
        self.waiting[unique_id] = future
        try:
            await self.connection.send(frames.line(unique_id, action, self.substituted(action, payload)))
            answer = await asyncio.wait_for(future, timeout)
        except ConnectionClosed:
            raise Lost() from None
        finally:
            self.waiting.pop(unique_id, None)
        if action == "StartTransaction" and answer[0] == 3 and isinstance(answer[2], dict):
            self.transaction_id = answer[2].get("transactionId", self.transaction_id)
        return answer

    def substituted(self, action, payload):
        if self.transaction_id is not None and "transactionId" in payload and \
                action in ("MeterValues", "StopTransaction"):
            return {**payload, "transactionId": self.transaction_id}
        return payload

    async def measure(self, start, timeout):
        """Send one CALL a second from `start`, measuring each round trip."""
        loop = asyncio.get_running_loop()
        for k, (action, payload) in enumerate(self.calls):
            slot = start + k
            await asyncio.sleep(max(0.0, slot - loop.time()))
            self.late += loop.time() - slot > LATE
            sent = time.perf_counter()
            try:
                answer = await self.call(action, payload, timeout)
            except asyncio.TimeoutError:
                self.errors["timeout"] += 1
                continue
            except Lost:
                self.errors["closed"] += 1
                return
            self.round_trips.append(time.perf_counter() - sent)
            self.errors["callerror"] += answer[0] == 4

    async def close(self):
        if self.connection is not None:
            await self.connection.close()


async def fleet(url, count, seconds, ramp, timeout, hold):
    chargers = [Charger(n, seconds) for n in range(count)]
    loop = asyncio.get_running_loop()
    began = time.perf_counter()
    connect_times = await asyncio.gather(*(c.warm_up(url, n * ramp) for n, c in enumerate(chargers)))
    warm_up = time.perf_counter() - began
    start = loop.time() + 0.05
    await asyncio.sleep(start - loop.time())
    cpu_before, wall_before = cpu_seconds(), time.perf_counter()
    announce(hold, "measuring")
    ready = [c for c in chargers if c.ready]
    await asyncio.gather(*(c.measure(start + n / count, timeout) for n, c in enumerate(ready)))
    cpu, wall = cpu_seconds() - cpu_before, time.perf_counter() - wall_before
    announce(hold, "measured")
    if hold:
        await loop.run_in_executor(None, sys.stdin.readline)
    await asyncio.gather(*(c.close() for c in chargers), return_exceptions=True)
    return summary(chargers, seconds, [t for t in connect_times if t is not None], warm_up, cpu, wall)


def summary(chargers, seconds, connect_times, warm_up, cpu, wall):
    trips = sorted(t for c in chargers for t in c.round_trips)
    errors = {kind: sum(c.errors[kind] for c in chargers) for kind in chargers[0].errors}
    ms = lambda value: None if value is None else round(1000 * value, 3)  # noqa: E731
    return {
        "chargers": len(chargers), "seconds": seconds, "expected": len(chargers) * seconds,
        "count": len(trips), "p50_ms": ms(percentile(trips, 50)), "p99_ms": ms(percentile(trips, 99)),
        "max_ms": ms(trips[-1] if trips else None), "errors": sum(errors.values()), "error_kinds": errors,
        "late": sum(c.late for c in chargers),
        "connect_p50_ms": ms(percentile(connect_times, 50)), "connect_max_ms": ms(max(connect_times, default=None)),
        "warm_up_s": round(warm_up, 3), "window_s": round(wall, 3),
        "load_cpu_s": round(cpu, 3), "load_cpu_percent": round(100 * cpu / wall, 1) if wall else None,
    }


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def announce(hold, phase):
    if hold:
        print(json.dumps({"phase": phase}), flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="ws://host:port, the charger's id is appended")
    parser.add_argument("--chargers", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=20, help="measured seconds: CALLs per charger")
    parser.add_argument("--ramp", type=float, default=0.02, help="seconds between two connections")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for an answer")
    parser.add_argument("--hold", action="store_true",
                        help="announce the measured window; keep connected until a line on stdin")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    result = asyncio.run(fleet(args.url.rstrip("/"), args.chargers, args.seconds, args.ramp,
                               args.timeout, args.hold))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
