"""Hardening through real websocketd (issue #11): one backend per identity, leftovers removed."""

import asyncio
import json
import subprocess
import sys
import time

import pytest
import websockets

from shocpp import runfiles

from tests.conftest import run


async def _call(ws, unique_id):
    await ws.send(f'[2,"{unique_id}","Heartbeat",{{}}]')
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


def _live(site, identity):
    return [c for c in runfiles.connections(site.run_dir) if c.identity == identity and c.alive]


def test_a_second_connection_of_an_identity_ends_the_first(site, listener_url):
    async def two():
        url = f"{listener_url}/ocpp/CP1"
        async with websockets.connect(url, subprotocols=["ocpp1.6"]) as first:
            assert (await _call(first, "1"))[1] == "1"
            first_pid = _live(site, "CP1")[0].pid
            async with websockets.connect(url, subprotocols=["ocpp1.6"]) as second:
                assert (await _call(second, "2"))[1] == "2"
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(first.recv(), 15)
                assert (await _call(second, "3"))[1] == "3"  # the newest connection is served
                for _ in range(100):
                    live = _live(site, "CP1")
                    if len(live) == 1:
                        break
                    await asyncio.sleep(0.1)
                return first_pid, [c.pid for c in live]
    first_pid, live = run(two())
    assert len(live) == 1 and live[0] != first_pid
    log = site.log_file.read_text()
    assert f"took over from an older connection of CP1 (backend pid {first_pid}" in log
    assert f"CP1[{first_pid}] - ended by SIGTERM" in log


def test_the_listener_removes_directories_left_by_backends_that_are_gone(site, start_listener):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = runfiles.Connection(site.run_dir, "killed", dead.pid)
    left.create({"charger": "killed", "pid": dead.pid})
    start_listener()
    for _ in range(50):
        if not left.path.exists():
            break
        time.sleep(0.1)
    assert not left.path.exists()
