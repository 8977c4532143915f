"""Hardening through real websocketd (issue #11): one backend per identity, leftovers removed."""

import asyncio
import json
import subprocess
import sys
import time

import pytest
import websockets

from shocpp import runfiles

from tests.conftest import BIN, run


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


async def _raw_calls(url, identity, frames):
    async with websockets.connect(f"{url}/ocpp/{identity}", subprotocols=["ocpp1.6"]) as ws:
        answers = []
        for frame in frames:
            await ws.send(frame)
            answers.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        return answers


START = ('[2,"t","StartTransaction",{"connectorId":1,"idTag":"1111","meterStart":12345678,'
         '"timestamp":"2026-11-01T10:00:00Z"}]')


def test_a_broken_tags_file_keeps_chargers_served_with_the_last_good_copy(site, start_listener, capsys):
    from shocpp.tools import listener, status
    url = start_listener()  # tags.json is good: its copy is kept
    site.tags_file.write_text('[{"index": 1, "account": "home", "ids": ["1111"]},')  # a typo
    answers = run(_raw_calls(url, "CP1", ['[2,"a","Authorize",{"idTag":"1111"}]', START]))
    assert answers[0] == [3, "a", {"idTagInfo": {"status": "Accepted"}}]
    assert answers[1] == [3, "t", {"idTagInfo": {"status": "Accepted"}, "transactionId": 10012345}]
    assert [(r["account"], r["transaction_id"]) for r in site.start_lines()] == [("home", 10012345)]
    assert "not valid JSON" in site.log_file.read_text()
    assert "serving with the last good copy" in site.log_file.read_text()
    status.main([], site.env, out=open("/dev/null", "w"))
    err = capsys.readouterr().err
    assert "shocpp-status: WARNING: " in err and "serving with the last good copy" in err
    start_listener()  # a restart with the typo starts, on the last good copy
    assert listener.main(["--check"], site.env) == 2
    out = capsys.readouterr().out
    assert "broken  tags.json: " in out and "the running service uses its last good copy" in out


def test_a_first_start_with_a_broken_tags_file_and_no_copy_refuses_naming_it(site, capsys):
    from shocpp.tools import listener
    site.tags_file.write_text("[{")
    assert listener.main([], site.env) == 2
    err = capsys.readouterr().err
    assert "not started" in err and "not valid JSON" in err and "no last good copy" in err


def test_shocpp_status_shows_every_charger_whatever_one_of_them_sent(site):
    from tests.tools.test_status_hardening import ODD_METERS, live_connection
    import os
    held = []
    try:
        good = live_connection(site.run_dir, "good", 101, held)
        good.save("meter-1.json", {"meterValue": [{"sampledValue": [{"value": "1E+5000", "unit": "Wh"},
                                                                    {"value": "7", "unit": "kWh"}]}]})
        for n, meter in enumerate(ODD_METERS):
            live_connection(site.run_dir, f"odd{n}", 110 + n, held).save("meter-1.json", meter)
        done = subprocess.run([str(BIN / "shocpp-status"), "--json"], env=site.env, capture_output=True,
                              text=True, timeout=30)
    finally:
        for fd in held:
            os.close(fd)
    assert done.returncode == 0, done.stderr
    chargers = {c["identity"]: c for c in json.loads(done.stdout)["chargers"]}
    assert sorted(chargers) == ["good", "odd0", "odd1", "odd2"]
    assert chargers["good"]["connectors"][0]["energy_wh"] == 7000


def _stop_script(tmp_path, status_exit):
    """misc/shocpp-stop in a tree of its own whose bin/shocpp-status exits with `status_exit`."""
    (tmp_path / "misc").mkdir()
    (tmp_path / "bin").mkdir()
    stop = tmp_path / "misc" / "shocpp-stop"
    stop.write_bytes((BIN.parent / "misc" / "shocpp-stop").read_bytes())
    status = tmp_path / "bin" / "shocpp-status"
    status.write_text(f"#!/bin/sh\nexit {status_exit}\n")
    for path in (stop, status):
        path.chmod(0o755)
    return stop


@pytest.mark.parametrize("status_exit, waits", [(5, False), (0, True), (1, True), (8, True)])
def test_shocpp_stop_ends_its_wait_only_when_status_says_no_backend_is_left(tmp_path, status_exit, waits):
    stop = _stop_script(tmp_path, status_exit)
    began = time.monotonic()
    done = subprocess.run([str(stop), "1"], env={"PATH": "/usr/bin:/bin"}, timeout=30)
    took = time.monotonic() - began
    assert done.returncode == 0
    assert (took >= 0.9) == waits, took  # a crash (1) or an unreadable run directory (8) is no "none left"
