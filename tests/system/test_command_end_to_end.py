"""shocpp-command end to end: real websocketd, `ocpp` ChargePoints answering with @on handlers."""

import asyncio
import json
import os
import signal

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from conftest import BIN, charger, run


class Charger(ChargePoint):
    """A well-behaved charger that remembers the calls it was sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []
        self.started = None
        self.heartbeat = None

    async def route_message(self, raw):
        message = json.loads(raw)
        if message[0] == 2:
            self.seen.append((message[2], message[3]))
            special = getattr(self, f"raw_{message[2]}", None)
            if special:
                return await special(message)
        return await super().route_message(raw)

    async def raw_ClearCache(self, message):
        pass  # this charger never answers ClearCache

    async def raw_DataTransfer(self, message):
        await self._send(json.dumps([3, message[1], {"status": "Accepted", "vendorX": 1}]))

    async def raw_UnlockConnector(self, message):
        async def heartbeat_first():
            self.heartbeat = await self.call(call.Heartbeat())
            await self._send(json.dumps([3, message[1], {"status": "Unlocked"}]))
        asyncio.create_task(heartbeat_first())

    @on(Action.reset)
    def on_reset(self, type):
        return call_result.Reset(status="Accepted")

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None):
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": False, "value": f"value of {k}"} for k in key or []])

    answer = "Accepted"  # to RemoteStartTransaction and RemoteStopTransaction

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag, connector_id=None, charging_profile=None):
        return call_result.RemoteStartTransaction(status=self.answer)

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id):
        return call_result.RemoteStopTransaction(status=self.answer)

    @after(Action.remote_start_transaction)
    async def start_after_remote_start(self, id_tag, connector_id=None, charging_profile=None):
        if self.answer != "Accepted":
            return
        self.started = await self.call(call.StartTransaction(
            connector_id=connector_id or 1, id_tag=id_tag, meter_start=4_200_000, timestamp="2026-11-21T10:00:00Z"))

    @on(Action.send_local_list)
    def on_send_local_list(self, list_version, update_type, local_authorization_list=None):
        return call_result.SendLocalList(status="Accepted")


async def booted(url, identity):
    """A connected Charger whose backend is up (BootNotification answered)."""
    ctx = charger(url, identity, Charger)
    cp = await ctx.__aenter__()
    await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Box",
                                        charge_point_serial_number=f"SN-{identity}"))
    cp.ctx = ctx
    return cp


async def command(site, *args):
    proc = await asyncio.create_subprocess_exec(str(BIN / "shocpp-command"), *args, env=site.env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


def scenario(site, url, identities, body):
    async def main():
        chargers = [await booted(url, i) for i in identities]
        try:
            return await body(*chargers)
        finally:
            for cp in reversed(chargers):
                await cp.ctx.__aexit__(None, None, None)
    return run(main())


def test_a_command_reaches_the_chosen_charger_only(site, listener_url):
    async def body(left, right):
        result = await command(site, "--charger", "garage-right", "Reset", '{"type":"Soft"}')
        return result, left.seen, right.seen
    (code, out, err), left_seen, right_seen = scenario(site, listener_url, ["garage-left", "garage-right"], body)
    assert (code, json.loads(out), err) == (0, {"status": "Accepted"}, "")
    assert left_seen == [] and right_seen == [("Reset", {"type": "Soft"})]


def test_without_charger_several_connected_are_listed_and_nothing_is_sent(site, listener_url):
    async def body(a, b):
        return await command(site, "Reset", '{"type":"Soft"}'), a.seen + b.seen
    (code, out, err), seen = scenario(site, listener_url, ["a1", "b2"], body)
    assert code == 7 and out == "" and seen == []
    assert "several chargers are connected, choose one with --charger: a1, b2" in err


def test_the_only_charger_is_used_without_charger(site, listener_url):
    async def body(cp):
        return await command(site, "GetConfiguration", '{"key":["HeartbeatInterval"]}')
    code, out, _ = scenario(site, listener_url, ["solo"], body)
    assert code == 0
    assert json.loads(out) == {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "value of HeartbeatInterval"}]}


def test_remote_start_is_followed_by_the_chargers_start_transaction(site, listener_url):
    async def body(cp):
        result = await command(site, "RemoteStartTransaction", '{"idTag":"3333","connectorId":2}')
        for _ in range(100):
            if cp.started:
                break
            await asyncio.sleep(0.05)
        return result, cp.started
    (code, out, _), started = scenario(site, listener_url, ["CP1"], body)
    assert (code, json.loads(out)) == (0, {"status": "Accepted"})
    assert started.transaction_id == 20_004_200 and started.id_tag_info == {"status": "Accepted"}


def test_the_chargers_heartbeat_is_answered_while_a_command_waits(site, listener_url):
    async def body(cp):
        return await command(site, "UnlockConnector", '{"connectorId":1}'), cp.heartbeat
    (code, out, _), heartbeat = scenario(site, listener_url, ["CP1"], body)
    assert (code, json.loads(out)) == (0, {"status": "Unlocked"})
    assert heartbeat.current_time.endswith("Z")


def test_ten_commands_at_once_each_get_their_own_answer(site, listener_url):
    async def body(cp):
        results = await asyncio.gather(*(command(site, "GetConfiguration", json.dumps({"key": [f"K{i}"]}))
                                         for i in range(10)))
        return results, cp.seen
    results, seen = scenario(site, listener_url, ["CP1"], body)
    for i, (code, out, err) in enumerate(results):
        assert (code, err) == (0, "")
        assert json.loads(out)["configurationKey"] == [{"key": f"K{i}", "readonly": False, "value": f"value of K{i}"}]
    assert sorted(payload["key"][0] for _, payload in seen) == sorted(f"K{i}" for i in range(10))


def test_a_charger_that_never_answers_times_out_and_the_next_command_works(site, listener_url):
    async def body(cp):
        first = await command(site, "--timeout", "1.5", "ClearCache")
        second = await command(site, "Reset", '{"type":"Hard"}')
        return first, second, cp.seen
    first, second, seen = scenario(site, listener_url, ["CP1"], body)
    assert first[0] == 3 and "no answer from CP1 to ClearCache within 1.5 s" in first[2]
    assert second[:2] == (0, '{\n  "status": "Accepted"\n}\n')
    assert [action for action, _ in seen] == ["ClearCache", "Reset"]  # never sent twice


def test_payloads_larger_than_pipe_buf_arrive_whole_even_at_once(site, listener_url):
    lists = [{"listVersion": n, "updateType": "Full", "localAuthorizationList": [
        {"idTag": f"T{n}-{i:016d}"[:20], "idTagInfo": {"status": "Accepted", "expiryDate": "2030-01-01T00:00:00Z"}}
        for i in range(150)]} for n in range(3)]
    assert all(len(json.dumps(p)) > 4096 * 2 for p in lists)

    async def body(cp):
        results = await asyncio.gather(*(command(site, "SendLocalList", json.dumps(p)) for p in lists))
        return results, cp.seen
    results, seen = scenario(site, listener_url, ["CP1"], body)
    assert [r[:2] for r in results] == [(0, '{\n  "status": "Accepted"\n}\n')] * 3
    assert sorted((p for _, p in seen), key=lambda p: p["listVersion"]) == lists


def test_an_invalid_payload_is_refused_and_never_sent(site, listener_url):
    async def body(cp):
        results = [await command(site, "Reset", '{"type":"Hard2"}'),
                   await command(site, "Reset", "{type: Hard}"),
                   await command(site, "Launch", "{}"),
                   await command(site, "Heartbeat", "{}"),
                   await command(site, "ChangeConfiguration", '{"key":"K","value":"v","extra":1}')]
        return results, cp.seen
    results, seen = scenario(site, listener_url, ["CP1"], body)
    assert [r[0] for r in results] == [2, 2, 2, 2, 2]
    assert "type: 'Hard2' is not one of ['Hard', 'Soft'] (nothing was sent)" in results[0][2]
    assert "the payload is not JSON" in results[1][2]
    assert "unknown action 'Launch'" in results[2][2] and "unknown action 'Heartbeat'" in results[3][2]
    assert "extra: unknown property" in results[4][2]
    assert seen == []
    assert ' > [2,' not in site.log_file.read_text()


def test_a_charger_that_is_not_connected_is_answered_at_once(site, listener_url):
    async def body(cp):
        return await command(site, "--charger", "nope", "--timeout", "600", "Reset", '{"type":"Soft"}')
    code, out, err = scenario(site, listener_url, ["CP1"], body)
    assert (code, out) == (4, "")
    assert "charger 'nope' is not connected (connected: CP1)" in err


def test_no_charger_connected_at_all(site):
    code, out, err = run(command(site, "Reset", '{"type":"Soft"}'))
    assert (code, out) == (5, "") and "no charger is connected" in err


def test_a_callerror_from_the_charger_is_printed_with_its_code(site, listener_url):
    async def body(cp):
        return await command(site, "TriggerMessage", '{"requestedMessage":"MeterValues"}')
    code, out, err = scenario(site, listener_url, ["CP1"], body)
    assert (code, out) == (1, "")
    assert "CP1 answered TriggerMessage with CALLERROR NotImplemented" in err


def test_a_confirmation_that_deviates_is_printed_with_a_warning(site, listener_url):
    async def body(cp):
        return await command(site, "DataTransfer", '{"vendorId":"acme"}')
    code, out, err = scenario(site, listener_url, ["CP1"], body)
    assert (code, json.loads(out)) == (0, {"status": "Accepted", "vendorX": 1})
    assert "DataTransfer confirmation deviates from the schema: vendorX: unknown property" in err


def test_list_shows_the_connected_chargers_with_their_boot_data(site, listener_url):
    async def body(a, b):
        return await command(site, "--list")
    code, out, _ = scenario(site, listener_url, ["garage-left", "garage-right"], body)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].startswith("garage-left\tconnected 20") and lines[0].endswith("\t127.0.0.1\tAcme Box SN-garage-left")
    assert lines[1].startswith("garage-right\t") and lines[1].endswith("Acme Box SN-garage-right")


def test_a_stale_fifo_of_a_killed_backend_is_reported_and_removed(site, listener_url):
    async def body(cp):
        (conn,) = site.run_dir.glob("CP1@*")
        os.kill(int(conn.name.split("@")[1]), signal.SIGKILL)
        for _ in range(100):
            if not os.path.exists(f"/proc/{conn.name.split('@')[1]}/status") or \
                    "zombie" in open(f"/proc/{conn.name.split('@')[1]}/status").read():
                break
            await asyncio.sleep(0.05)
        first = await command(site, "--charger", "CP1", "Reset", '{"type":"Soft"}')
        return first, conn.exists()
    (code, out, err), still_there = scenario(site, listener_url, ["CP1"], body)
    assert (code, out) == (6, "")
    assert "stale FIFO left by a killed backend: CP1 (pid" in err
    assert not still_there


def test_a_reconnecting_charger_takes_over_the_fifo(site, listener_url):
    async def body(old, new):
        return await command(site, "--charger", "CP1", "Reset", '{"type":"Hard"}'), old.seen, new.seen
    (code, _, _), old_seen, new_seen = scenario(site, listener_url, ["CP1", "CP1"], body)
    assert code == 0 and old_seen == [] and new_seen == [("Reset", {"type": "Hard"})]


def test_help():
    import subprocess
    done = subprocess.run([str(BIN / "shocpp-command"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "RemoteStartTransaction" in done.stdout and "exit status" in done.stdout


# -- the conveniences of #13 -----------------------------------------------------------------------

def an_hour_ago():
    from datetime import datetime, timedelta, timezone
    return (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def started(cp, connector, id_tag, meter_start):
    return (await cp.call(call.StartTransaction(connector_id=connector, id_tag=id_tag, meter_start=meter_start,
                                                timestamp=an_hour_ago()))).transaction_id


def test_remote_stop_without_payload_stops_the_running_session(site, listener_url):
    async def body(cp):
        tid = await started(cp, 2, "3333", 4_200_000)
        result = await command(site, "--charger", "CP1", "RemoteStopTransaction")
        return tid, result, cp.seen
    tid, (code, out, err), seen = scenario(site, listener_url, ["CP1"], body)
    assert tid == 20_004_200
    assert (code, json.loads(out), err) == (0, {"status": "Accepted"}, "")
    assert seen == [("RemoteStopTransaction", {"transactionId": 20_004_200})]


def test_remote_stop_with_two_running_sessions_asks_for_the_connector(site, listener_url):
    async def body(cp):
        await started(cp, 1, "1111", 1_000_000)
        second = await started(cp, 2, "3333", 4_200_000)
        ambiguous = await command(site, "--charger", "CP1", "RemoteStopTransaction")
        chosen = await command(site, "--charger", "CP1", "--connector", "2", "RemoteStopTransaction")
        return second, ambiguous, chosen, cp.seen
    second, ambiguous, chosen, seen = scenario(site, listener_url, ["CP1"], body)
    assert ambiguous[0] == 2 and "choose one with --connector N (nothing was sent)" in ambiguous[2]
    assert chosen[0] == 0 and seen == [("RemoteStopTransaction", {"transactionId": second})]


def test_remote_stop_without_a_running_session_sends_nothing(site, listener_url):
    async def body(cp):
        return await command(site, "RemoteStopTransaction"), cp.seen
    (code, out, err), seen = scenario(site, listener_url, ["CP1"], body)
    assert (code, out, seen) == (2, "", [])
    assert "no running session on CP1 in the ledger (nothing was sent)" in err


def test_remote_start_with_an_account_uses_its_first_tag(site, listener_url):
    async def body(cp):
        return await command(site, "--charger", "CP1", "RemoteStartTransaction", "--account", "company-x"), cp.seen
    (code, out, _), seen = scenario(site, listener_url, ["CP1"], body)
    assert (code, json.loads(out)) == (0, {"status": "Accepted"})
    assert seen == [("RemoteStartTransaction", {"idTag": "3333"})]


def test_an_unknown_tag_is_refused_unless_forced(site, listener_url):
    async def body(cp):
        refused = await command(site, "RemoteStartTransaction", '{"idTag":"7777"}')
        seen_then = list(cp.seen)
        forced = await command(site, "--force", "RemoteStartTransaction", '{"idTag":"7777"}')
        return refused, seen_then, forced, cp.seen
    refused, seen_then, forced, seen = scenario(site, listener_url, ["CP1"], body)
    assert refused[:2] == (2, "") and seen_then == []
    assert "tag '7777' is not in tags.json: its session would be billed to 'unknown'" in refused[2]
    assert forced[0] == 0 and seen == [("RemoteStartTransaction", {"idTag": "7777"})]


def test_a_rejected_remote_start_or_stop_exits_rejected(site, listener_url):
    async def body(cp):
        cp.answer = "Rejected"
        return (await command(site, "RemoteStartTransaction", '{"idTag":"1111"}'),
                await command(site, "RemoteStopTransaction", '{"transactionId":10004200}'))
    start, stop = scenario(site, listener_url, ["CP1"], body)
    assert start == (10, '{\n  "status": "Rejected"\n}\n',
                     "shocpp-command: CP1 rejected the RemoteStartTransaction: nothing was started\n")
    assert stop[0] == 10 and stop[2] == "shocpp-command: CP1 rejected the RemoteStopTransaction: nothing was stopped\n"
