"""End to end, OCPP 2.0.1: bin/shocpp-listener (HAProxy in front of two real websocketd) on a loopback
port, the `ocpp` package's v201.ChargePoint as the charging station (it checks our answers against its own
2.0.1 schemas)."""

import asyncio
import json
import socket
import subprocess

import pytest
import websockets
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint
from ocpp.v201 import call

from shocpp import runfiles

from conftest import BIN, charger, run
from test_security import certificate  # noqa: F401 (a fixture)
from test_tls_front import tls_front  # noqa: F401 (a fixture)


def station(url, identity, kind=ChargePoint, **options):
    """A connected v201 ChargePoint (of class `kind`) running its receive loop, served in 2.0.1."""
    return charger(url, identity, kind, subprotocols=("ocpp2.0.1",), path="", **options)


def energy(wh, context=None, when="2026-11-01T10:00:00Z"):
    sample = {"value": wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}
    if context:
        sample["context"] = context
    return [{"timestamp": when, "sampledValue": [sample]}]


def event(kind, seq, tid, when, meter=None, **extra):
    return call.TransactionEvent(event_type=kind, timestamp=when, trigger_reason=extra.pop("trigger", "Authorized"),
                                 seq_no=seq, transaction_info={"transactionId": tid, **extra.pop("info", {})},
                                 meter_value=meter, **extra)


TOKEN = {"idToken": "3333", "type": "ISO14443"}


async def boot(cp):
    booted = await cp.call(call.BootNotification(charging_station={"model": "Wallbox 2", "vendorName": "Acme"},
                                                 reason="PowerUp"))
    assert (booted.status, booted.interval) == ("Accepted", 300)
    await cp.call(call.StatusNotification(timestamp="2026-11-01T09:59:00Z", connector_status="Occupied",
                                          evse_id=1, connector_id=1))


async def session(cp, tid="tx-1", start_wh=1_000_500, stop_wh=1_031_750):
    """Started (with the token and the Transaction.Begin reading), Updated, Ended: the answers."""
    started = await cp.call(event("Started", 0, tid, "2026-11-01T10:00:00Z", energy(start_wh, "Transaction.Begin"),
                                  evse={"id": 1, "connectorId": 1}, id_token=TOKEN))
    await cp.call(event("Updated", 1, tid, "2026-11-01T11:00:00Z",
                        energy(start_wh + 15_000, "Sample.Periodic", "2026-11-01T11:00:00Z"),
                        trigger="MeterValuePeriodic"))
    ended = event("Ended", 2, tid, "2026-11-01T12:00:00Z",
                  energy(stop_wh, "Transaction.End", "2026-11-01T12:00:00Z"), trigger="EVDeparted",
                  info={"stoppedReason": "EVDisconnected"})
    await cp.call(ended)
    return started, ended


def without_recorded_at(records):
    return [{k: v for k, v in r.items() if k != "recorded_at"} for r in records]


STOP = {"event": "stop", "ocpp": "2.0.1", "charger": "CS1", "transaction_id": "tx-1", "account": "company-x",
        "account_index": 2, "id_tag": "3333", "connector_id": 1, "start_time": "2026-11-01T10:00:00Z",
        "meter_start_wh": 1_000_500, "meter_stop_wh": 1_031_750, "energy_wh": 31_250,
        "stop_time": "2026-11-01T12:00:00Z", "duration_s": 7200, "reason": "EVDisconnected", "seq_no": 2,
        "start_id_tag": "3333", "verdict": "billed", "flags": []}


def test_a_2_0_1_station_boots_authorizes_and_is_billed_to_the_wh_once(site, listener_url):
    async def scenario():
        async with station(listener_url, "CS1") as cp:
            await boot(cp)
            heartbeat = await cp.call(call.Heartbeat())
            known = await cp.call(call.Authorize(id_token=TOKEN))
            unknown = await cp.call(call.Authorize(id_token={"idToken": "DEAD", "type": "ISO14443"}))
            started, ended = await session(cp)
            again = await cp.call(ended)  # retransmitted: confirmed, not billed again
            return heartbeat, known, unknown, started, again
    heartbeat, known, unknown, started, again = run(scenario())
    assert heartbeat.current_time.endswith("Z")
    assert (known.id_token_info, unknown.id_token_info) == ({"status": "Accepted"}, {"status": "Unknown"})
    assert started.id_token_info == {"status": "Accepted"} and again.id_token_info is None
    assert without_recorded_at(site.ledger_lines()) == [
        {"event": "start", "ocpp": "2.0.1", "charger": "CS1", "connector_id": 1, "evse_connector_id": 1,
         "transaction_id": "tx-1", "id_tag": "3333", "account": "company-x", "account_index": 2,
         "meter_start_wh": 1_000_500, "start_time": "2026-11-01T10:00:00Z", "seq_no": 0, "first_event": "Started"},
        STOP]


def test_an_offline_session_replayed_after_a_reconnect_is_billed_once(site, listener_url):
    async def scenario():
        async with station(listener_url, "CS1") as cp:
            await boot(cp)
            await cp.call(event("Started", 0, "tx-1", "2026-11-01T10:00:00Z", energy(1_000_500, "Transaction.Begin"),
                                evse={"id": 1, "connectorId": 1}, id_token=TOKEN))
        # the connection is lost; the station queued the rest and replays it, marked offline, twice
        for _ in range(2):
            async with station(listener_url, "CS1") as cp:
                await boot(cp)
                await cp.call(event("Updated", 1, "tx-1", "2026-11-01T11:00:00Z",
                                    energy(1_015_500, None, "2026-11-01T11:00:00Z"), offline=True,
                                    trigger="MeterValuePeriodic"))
                await cp.call(event("Ended", 2, "tx-1", "2026-11-01T12:00:00Z",
                                    energy(1_031_750, "Transaction.End", "2026-11-01T12:00:00Z"), offline=True,
                                    trigger="EVDeparted", info={"stoppedReason": "EVDisconnected"}))
    run(scenario())
    assert without_recorded_at(site.stop_lines()) == [STOP]
    assert len(site.start_lines()) == 1


def test_an_ended_without_a_known_start_is_kept_with_its_readings_for_review(site, listener_url):
    async def scenario():
        async with station(listener_url, "CS1") as cp:
            meter = energy(2_000, "Transaction.Begin") + energy(9_500, "Transaction.End", "2026-11-01T12:00:00Z")
            ended = await cp.call(event("Ended", 7, "lost-start", "2026-11-01T12:00:00Z", meter, trigger="EVDeparted",
                                        evse={"id": 2}, id_token=TOKEN))
            return ended
    assert run(scenario()).id_token_info == {"status": "Accepted"}  # confirmed: the station does not retry
    (stop,) = site.stop_lines()  # no chargers.json and no earlier session vouch for CS1: not billed blindly
    assert (stop["transaction_id"], stop["account"], stop["energy_wh"], stop["connector_id"], stop["flags"],
            stop["verdict"], stop["review"]) == \
        ("lost-start", "company-x", 7_500, 2, ["no_start"], "review", "unknown_charger")


def test_both_subprotocols_on_one_url_with_the_first_offered_chosen(site, listener_url):
    async def answered(offered):
        async with websockets.connect(f"{listener_url}/CP1", subprotocols=offered) as ws:
            await ws.send('[2,"h","Heartbeat",{}]')
            return ws.subprotocol, json.loads(await ws.recv())[:2]

    async def scenario():
        found = [await answered(o) for o in (["ocpp1.6"], ["ocpp2.0.1"], ["ocpp2.0.1", "ocpp1.6"],
                                             ["ocpp1.6", "ocpp2.0.1"], ["x-unknown", "ocpp2.0.1"])]
        async with websockets.connect(f"{listener_url}/CP2", subprotocols=["ocpp2.0.1"]) as ws:
            await ws.send('[9,"odd",{}]')
            found.append(json.loads(await ws.recv()))
        return found
    found = run(scenario())
    assert found[:5] == [("ocpp1.6", [3, "h"]), ("ocpp2.0.1", [3, "h"]), ("ocpp2.0.1", [3, "h"]),
                         ("ocpp1.6", [3, "h"]), ("ocpp2.0.1", [3, "h"])]
    assert found[5] == [4, "odd", "MessageTypeNotSupported", "message type 9 is not 2, 3 or 4", {}]


def handshake(url, offered):
    """The status line and the subprotocol header of the answer to a raw upgrade request offering
    `offered` as it is written (the websockets client would not send a stray comma)."""
    host, port = url.split("//")[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall((f"GET /CP3 HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Protocol: {offered}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
    lines = head.decode().split("\r\n")
    chosen = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("sec-websocket-protocol:")]
    return lines[0], chosen


def test_a_stray_comma_in_the_offered_list_is_skipped(site, listener_url):
    assert handshake(listener_url, ",ocpp2.0.1") == ("HTTP/1.1 101 Switching Protocols", ["ocpp2.0.1"])
    assert handshake(listener_url, " , ocpp1.6 ,ocpp2.0.1") == ("HTTP/1.1 101 Switching Protocols", ["ocpp1.6"])


def test_2_0_1_errors_are_spelled_as_2_0_1_and_the_connection_goes_on(site, listener_url):
    async def scenario():
        async with websockets.connect(f"{listener_url}/CP1", subprotocols=["ocpp2.0.1"]) as ws:
            answers = []
            for frame in ('[2,"a","Authorize",{"idToken":{"idToken":"1","type":"ISO14443"},"x":1,"y":{}}]',
                          '[2,"b","Authorize",{}]', '[2,"c","StartTransaction",{}]', '[2,"d","Heartbeat",7]',
                          '[2,"e","Reset",{"type":"Immediate"}]'):
                await ws.send(frame)
                answers.append(json.loads(await ws.recv()))
            return answers
    a, b, c, d, e = run(scenario())
    assert a[:3] == [3, "a", {"idTokenInfo": {"status": "Unknown"}}]  # unknown properties: tolerated
    assert b == [4, "b", "OccurrenceConstraintViolation", "idToken: required property is missing", {"path": "idToken"}]
    assert c == [4, "c", "NotImplemented", "unknown action 'StartTransaction'", {}]
    assert d == [4, "d", "FormatViolation", "payload is not a JSON object", {}]
    assert e == [4, "e", "NotSupported", "Reset is sent by a CSMS, not to it", {}]


def test_a_1_6_and_a_2_0_1_charger_at_once_each_billed_and_one_identity_one_backend(site, listener_url):
    async def scenario():
        async with charger(listener_url, "garage-16") as old, station(listener_url, "garage-201") as new:
            await old.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model="Wallbox"))
            await boot(new)
            start = await old.call(call16.StartTransaction(connector_id=1, id_tag="1111", meter_start=5_000,
                                                           timestamp="2026-11-01T10:00:00Z"))
            await session(new, "tx-9")
            await old.call(call16.StopTransaction(meter_stop=12_250, timestamp="2026-11-01T12:00:00Z",
                                                  transaction_id=start.transaction_id))
    run(scenario())
    lines = sorted(site.stop_lines(), key=lambda r: r["charger"])
    assert [(r["charger"], r.get("ocpp"), r["account"], r["energy_wh"]) for r in lines] == \
        [("garage-16", None, "home", 7_250), ("garage-201", "2.0.1", "company-x", 31_250)]
    # one month's summary holds both, each session as the other
    done = subprocess.run([str(BIN / "shocpp-summary"), "--format", "json", "2026", "11"], env=site.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    sessions = sorted(summary["sessions"], key=lambda s: s["charger"])
    assert [(s["charger"], s["account"], s["energy_wh"], s["transaction_id"], s["counted"]) for s in sessions] == \
        [("garage-16", "home", 7_250, 10_000_005, True), ("garage-201", "company-x", 31_250, "tx-9", True)]


def test_one_backend_per_identity_across_both_protocols(site, listener_url):
    async def scenario():
        async with websockets.connect(f"{listener_url}/CP1", subprotocols=["ocpp1.6"]) as old:
            await old.send('[2,"1","Heartbeat",{}]')
            await old.recv()
            async with station(listener_url, "CP1") as new:  # the charger's firmware now speaks 2.0.1
                await new.call(call.Heartbeat())
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(old.recv(), 15)
                for _ in range(100):
                    live = [c for c in runfiles.connections(site.run_dir) if c.identity == "CP1" and c.alive]
                    if len(live) == 1:
                        break
                    await asyncio.sleep(0.1)
                return [c.info.get("ocpp") for c in live]
    assert run(scenario()) == ["2.0.1"]


def test_the_backend_names_the_chargers_address_and_not_one_it_forged(site, listener_url):
    async def scenario():
        async with station(listener_url, "CP1", additional_headers={"X-Forwarded-For": "203.0.113.9"}) as cp:
            await cp.call(call.Heartbeat())
            (conn,) = [c for c in runfiles.connections(site.run_dir) if c.identity == "CP1"]
            return conn.info
    info = run(scenario())
    assert (info["remote_addr"], info["ocpp"]) == ("127.0.0.1", "2.0.1")


def test_basic_auth_is_the_same_for_a_2_0_1_station(site, listener_url):
    from test_security import basic, passwd
    key = passwd(site, "CS1")  # the station's BasicAuthPassword

    async def scenario():
        async with station(listener_url, "CS1", additional_headers=basic("CS1", key)) as cp:
            await boot(cp)
        closed = []
        for headers in ({}, basic("CS1", "wrong password of 16+ chars")):
            async with websockets.connect(f"{listener_url}/CS1", subprotocols=["ocpp2.0.1"],
                                          additional_headers=headers) as ws:
                await ws.send('[2,"h","Heartbeat",{}]')
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 10)
                closed.append(True)
        return closed
    assert run(scenario()) == [True, True]
    log = site.log_file.read_text()
    assert "from 127.0.0.1 refused: no HTTP Basic authorization\n" in log
    assert "from 127.0.0.1 refused: wrong password\n" in log


def test_a_2_0_1_station_through_the_tls_front(site, tls_front):
    import ssl
    url, cert = tls_front
    trust = ssl.create_default_context(cafile=str(cert))

    async def scenario():
        async with station(url, "CS1", ssl=trust) as cp:
            await boot(cp)
            await session(cp)
    run(scenario())
    (line,) = site.stop_lines()
    assert (line["ocpp"], line["account"], line["energy_wh"]) == ("2.0.1", "company-x", 31_250)


def test_the_charger_limit_counts_both_protocols_and_not_an_idle_connection(site, start_listener):
    url = start_listener({"SHOCPP_MAX_CHARGERS": "1"})
    host, port = url.split("//")[1].rsplit(":", 1)

    async def scenario():
        with socket.create_connection((host, int(port)), timeout=10):  # connected, no request (yet)
            async with websockets.connect(f"{url}/first", subprotocols=["ocpp1.6"]) as first:
                await first.send('[2,"h","Heartbeat",{}]')
                await first.recv()
                with pytest.raises(websockets.InvalidStatus) as over:
                    async with station(url, "second"):
                        pass
                return over.value.response.status_code
    assert run(scenario()) == 429
