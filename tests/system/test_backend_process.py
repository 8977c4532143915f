"""bin/shocpp-backend as a process over pipes: sessions, hostile lines, big and split frames, signals."""

import json
import os
import signal
import subprocess
import time

import pytest

from shocpp import runfiles

from conftest import BIN, SESSION, replies, run_backend


def test_a_whole_session_over_pipes_is_answered_and_billed(site):
    done = run_backend(site, SESSION, {"PATH_INFO": "/ocpp/CP-7", "SHOCPP_HEARTBEAT_INTERVAL": "60"})
    assert done.returncode == 0 and done.stderr == b""
    got = replies(done)
    assert [r[:2] for r in got] == [[3, "b"], [3, "s"], [3, "a"], [3, "t"], [3, "m"], [3, "p"]]
    assert got[0][2]["status"] == "Accepted" and got[0][2]["interval"] == 60
    assert got[0][2]["currentTime"].endswith("Z")
    assert got[1][2] == {} and got[2][2] == {"idTagInfo": {"status": "Accepted"}}
    assert got[3][2] == {"idTagInfo": {"status": "Accepted"}, "transactionId": 10012345}
    assert got[4][2] == {} and got[5][2] == {"idTagInfo": {"status": "Accepted"}}
    start, stop = site.ledger_lines()
    assert {k: v for k, v in start.items() if k != "recorded_at"} == {
        "event": "start", "charger": "CP-7", "connector_id": 1, "transaction_id": 10012345, "id_tag": "1111",
        "account": "home", "account_index": 1, "meter_start_wh": 12345678, "start_time": "2026-11-01T10:00:00Z"}
    assert {k: v for k, v in stop.items() if k != "recorded_at"} == {
        "event": "stop", "charger": "CP-7", "transaction_id": 10012345, "account": "home", "account_index": 1,
        "id_tag": "1111", "meter_start_kwh": 12345, "meter_stop_wh": 12350999, "consumed_kwh": 5,
        "consumed_wh": 5321, "connector_id": 1, "start_time": "2026-11-01T10:00:00Z", "meter_start_wh": 12345678,
        "start_id_tag": "1111", "duration_s": 7200, "energy_wh": 5321, "stop_time": "2026-11-01T12:00:00Z",
        "reason": "Local", "verdict": "billed", "flags": []}
    assert (site.accounting / "2026-11.jsonl").exists()
    assert connection_dirs(site) == []  # everything it created is gone at EOF (the last good tags.json stays)


def pretty_lines(line, indent=2):
    return json.dumps(json.loads(line), indent=indent).splitlines()


def test_pretty_printed_frames_split_over_lines_are_answered_and_billed(site):
    lines = pretty_lines(SESSION[0]) + pretty_lines(SESSION[5], "\t") + ['[2,"h","Heartbeat",{}]']
    done = run_backend(site, lines, {"PATH_INFO": "/ocpp/CP-7"})
    assert done.returncode == 0 and done.stderr == b""
    got = replies(done)
    assert [r[:2] for r in got] == [[3, "b"], [3, "p"], [3, "h"]]
    assert got[0][2]["status"] == "Accepted" and got[1][2] == {"idTagInfo": {"status": "Accepted"}}
    (line,) = site.ledger_lines()
    assert (line["charger"], line["transaction_id"], line["meter_stop_wh"], line["consumed_kwh"]) == \
        ("CP-7", 10012345, 12350999, 5)


def big_stop(size):
    """SESSION's StopTransaction with transactionData: a line of at least `size` bytes, at most 200 more."""
    stop = json.loads(SESSION[5])
    sample = {"timestamp": "2026-11-01T11:00:00Z", "sampledValue": [
        {"value": "12349000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}
    each = len(json.dumps(sample, separators=(",", ":"))) + 1
    stop[3]["transactionData"] = [sample] * -(-(size - len(SESSION[5]) - 20) // each)
    line = json.dumps(stop, separators=(",", ":"))
    assert size <= len(line) <= size + 200
    return line


def test_a_stop_of_1_2_mib_is_billed_once_and_the_connection_goes_on(site):
    stop = big_stop(1_200_000)
    done = run_backend(site, [stop, stop, '[2,"h","Heartbeat",{}]'])
    assert done.returncode == 0 and done.stderr == b""
    assert [r[:3] for r in replies(done)][:2] == [[3, "p", {"idTagInfo": {"status": "Accepted"}}]] * 2
    assert replies(done)[2][:2] == [3, "h"]
    (line,) = site.ledger_lines()
    assert (line["transaction_id"], line["meter_stop_wh"]) == (10012345, 12350999)


@pytest.mark.parametrize("size", [2 * 1024 * 1024 + 1, 5_000_000])
def test_a_stop_over_2_mib_is_a_formation_violation_and_not_billed(site, size):
    done = run_backend(site, [big_stop(size), '[2,"h","Heartbeat",{}]'])
    got = replies(done)
    assert got[0] == [4, "p", "FormationViolation", "frame longer than 2097152 bytes", {}]
    assert [r[:2] for r in got[1:]] == [[3, "h"]]
    assert site.ledger_lines() == []


def test_an_unfinished_last_line_is_answered_at_end_of_input(site):
    done = run_backend(site, ['[2,"h","Heartbeat",{}]', '[2,"x","Heartbeat",'])
    assert [r[:3] for r in replies(done)][1] == [4, "x", "FormationViolation"]


def test_every_frame_in_and_out_is_logged_with_identity_and_pid(site):
    run_backend(site, SESSION[:2], {"PATH_INFO": "/CP9"})
    log = site.log_file.read_text().splitlines()
    incoming = [l for l in log if " < " in l]
    outgoing = [l for l in log if " > " in l]
    assert len(incoming) == 2 and len(outgoing) == 2
    assert all(" CP9[" in l for l in incoming + outgoing)
    assert incoming[0].endswith(SESSION[0])
    assert outgoing[1].endswith('> [3,"s",{}]')


HOSTILE = [
    (b"not json at all", None),
    (b'{"a": 1}', None),
    # unfinished: held, and answered when the next line (it begins with "[") does not continue it
    (b'[2,"r1","Heartbeat"', ["r1", "FormationViolation", "frame is not valid JSON"]),
    (b"[]", None),
    (b"", None),
    (b"   ", None),
    (b'[2,"r2","Heartbeat",{},"extra"]', ["r2", "FormationViolation", "a CALL has 4 elements, this one has 5"]),
    (b'[2,"r3","Heartbeat",[]]', ["r3", "FormationViolation", "payload is not a JSON object"]),
    (b'[2,"r4",7,{}]', ["r4", "FormationViolation", "action is not a string"]),
    (b'[2,5,"Heartbeat",{}]', None),
    (b'[2,"r5","Heartbeat",{}]\xff\xfe', ["r5", "FormationViolation", "frame is not valid UTF-8"]),
    (b'\xff\xfe\xfd', None),
    (b'[2,"r6","Heartbeat",{"pad":"' + b"x" * 70000 + b'"}]', ["r6", "FormationViolation", "frame longer than 65536 bytes"]),
    (b'[5,"x",{}]', None),
    (b'[3,"nobody-asked",{}]', None),
    (b'[4,"nobody-asked","GenericError","",{}]', None),
    (b'["2","r7","Heartbeat",{}]', None),
    (b'[2,"r8","Heartbeat",NaN]', ["r8", "FormationViolation", "frame is not valid JSON"]),
    (b"[" * 100000, None),
    (b'[2,"r9","Heartbeat",{"x":1}]', None),  # tolerated: answered with a CALLRESULT below
    (b'[2,"r10","Unheard",{}]', ["r10", "NotImplemented", "unknown action 'Unheard'"]),
]


def test_hostile_lines_get_the_right_callerror_and_the_next_frame_is_answered(site):
    lines = [line for line, _ in HOSTILE] + [b'[2,"last","Heartbeat",{}]']
    done = run_backend(site, lines)
    assert done.returncode == 0 and done.stderr == b""
    got = replies(done)
    expected = [[4, *err, {}] for _, err in HOSTILE if err]
    errors = [r for r in got if r[0] == 4]
    assert errors == expected
    results = [r for r in got if r[0] == 3]
    assert [r[1] for r in results] == ["r9", "last"]
    assert got[-1][1] == "last" and set(got[-1][2]) == {"currentTime"}
    assert len(got) == len(expected) + 2
    log = site.log_file.read_text()
    assert "ignored: message type 5 is not 2, 3 or 4" in log
    assert "ignored: answer 'nobody-asked' matches no call of ours" in log
    assert "dropped: frame is not a JSON array" in log


def test_a_retransmitted_stop_is_confirmed_twice_and_written_once(site):
    done = run_backend(site, [SESSION[5], SESSION[5]])
    assert [r[:3] for r in replies(done)] == [[3, "p", {"idTagInfo": {"status": "Accepted"}}]] * 2
    (stop,) = site.ledger_lines()
    assert (stop["event"], stop["flags"], stop["energy_wh"]) == ("stop", ["no_start"], 5000)
    assert "already recorded (retransmission), not written again" in site.log_file.read_text()


def test_a_stop_that_cannot_be_written_is_not_confirmed(site):
    site.accounting.parent.mkdir(exist_ok=True)
    site.accounting.write_text("a file where the ledger directory should be")
    done = run_backend(site, [SESSION[5], '[2,"h","Heartbeat",{}]'])
    got = replies(done)
    assert got[0] == [4, "p", "InternalError", "the ledger could not be written", {}]
    assert got[1][:2] == [3, "h"]
    assert b"not confirmed, the charger will retry" in done.stderr


def test_a_bad_identity_is_refused_and_names_no_file(site):
    done = run_backend(site, ['[2,"h","Heartbeat",{}]'], {"PATH_INFO": "/ocpp/..%2F..%2Fetc"})
    assert done.returncode == 1 and done.stdout == b""
    assert b"is not 1 to 48 letters, digits and ._-:" in done.stderr
    assert not site.run_dir.exists() or connection_dirs(site) == []


def test_an_empty_path_is_the_default_charger(site):
    run_backend(site, ['[2,"h","Heartbeat",{}]'], {"PATH_INFO": "/"})
    assert " default[" in site.log_file.read_text()


@pytest.mark.parametrize("offered, answered", [("ocpp1.6", True), ("ocpp2.0.1, ocpp1.6", True),
                                               ("", False), ("ocpp2.0.1", False)])
def test_under_websocketd_the_subprotocol_must_be_ocpp16(site, offered, answered):
    env = {"GATEWAY_INTERFACE": "websocketd-CGI/0.1", "HTTP_SEC_WEBSOCKET_PROTOCOL": offered}
    done = run_backend(site, ['[2,"h","Heartbeat",{}]'], env)
    assert (done.stdout != b"") is answered
    assert (done.returncode == 0) is answered
    if not answered:
        assert b"did not ask for the subprotocol ocpp1.6" in done.stderr


def test_a_broken_tags_file_refuses_the_connection_with_the_reason(site):
    site.tags_file.write_text('[{"index": 1, "account": "a", "ids": ["1"]}, {"index": 1, "account": "b", "ids": []}]')
    done = run_backend(site, ['[2,"h","Heartbeat",{}]'])
    assert done.returncode == 1 and done.stdout == b""
    assert b"index 1 is used twice ('a' and 'b')" in done.stderr


def test_help():
    done = subprocess.run([str(BIN / "shocpp-backend"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "usage: shocpp-backend" in done.stdout


class Running:
    """A backend process we talk to line by line."""

    def __init__(self, site, path="/CP1"):
        self.proc = subprocess.Popen([str(BIN / "shocpp-backend")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**site.env, "PATH_INFO": path})

    def call(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        code = self.proc.wait(timeout=10)
        self.stderr = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


@pytest.fixture
def running(site):
    started = []
    yield lambda path="/CP1": started.append(Running(site, path)) or started[-1]
    for r in started:
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()


def test_latest_status_meter_values_and_boot_are_kept_in_run_files(site, running):
    charger = running()
    for line in SESSION[:2] + [SESSION[4]]:
        charger.call(line)
    charger.call('[2,"s2","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging"}]')
    (conn,) = connection_dirs(site)
    assert conn.name == f"CP1@{charger.proc.pid}"
    status = runfiles.read_json(conn / "status-1.json")
    assert status["status"] == "Charging" and status["received_at"].endswith("Z")
    meter = runfiles.read_json(conn / "meter-1.json")
    assert meter["meterValue"][0]["sampledValue"][0]["value"] == "12349000"
    info = runfiles.read_json(conn / "info.json")
    assert (info["charger"], info["pid"]) == ("CP1", charger.proc.pid)
    assert info["boot"] == {"chargePointVendor": "Acme", "chargePointModel": "Wallbox 1"}
    assert oct(conn.stat().st_mode & 0o777) == "0o750"
    assert charger.close() == 0
    assert not conn.exists()


def test_tags_json_edits_apply_without_reconnecting(site, running):
    charger = running()
    authorize = '[2,"a","Authorize",{"idTag":"5555"}]'
    assert charger.call(authorize)[2] == {"idTagInfo": {"status": "Invalid"}}
    tags = json.loads(site.tags_file.read_text())
    tags[0]["ids"].append("5555")
    site.tags_file.write_text(json.dumps(tags))
    os.utime(site.tags_file, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert charger.call(authorize)[2] == {"idTagInfo": {"status": "Accepted"}}
    site.tags_file.write_text("[broken")
    os.utime(site.tags_file, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    assert charger.call(authorize)[2] == {"idTagInfo": {"status": "Accepted"}}
    assert charger.close() == 0
    assert b"serving with the last good copy" in charger.stderr


def test_an_unfinished_frame_is_given_up_after_a_second_while_the_connection_stays(site, running):
    charger = running()
    started = time.monotonic()
    assert charger.call('[2,"x","Heartbeat",') == [4, "x", "FormationViolation", "frame is not valid JSON", {}]
    assert 0.9 <= time.monotonic() - started < 5
    assert charger.call('[2,"h","Heartbeat",{}]')[:2] == [3, "h"]
    assert charger.close() == 0


def test_sigterm_ends_the_backend_cleanly(site, running):
    charger = running()
    charger.call('[2,"h","Heartbeat",{}]')
    charger.proc.send_signal(signal.SIGTERM)
    assert charger.proc.wait(timeout=10) == 0
    assert connection_dirs(site) == []


def test_stdin_may_be_a_regular_file(site, tmp_path):
    frames_file = tmp_path / "frames.txt"
    frames_file.write_text("\n".join(SESSION[:3]) + "\n")
    with open(frames_file, "rb") as stdin:
        done = subprocess.run([str(BIN / "shocpp-backend")], stdin=stdin, capture_output=True,
                              env={**site.env, "PATH_INFO": "/CP1"}, timeout=30)
    assert done.returncode == 0 and done.stderr == b""
    assert [r[:2] for r in replies(done)] == [[3, "b"], [3, "s"], [3, "a"]]


def test_a_start_recorded_but_never_confirmed_is_recorded_once_when_retransmitted(site):
    # The replies of a batch go out after its ledger records. A batch whose replies overfill the stdout
    # pipe (nobody reads it) stops the backend after the start record and before its confirmation;
    # there it is killed. The charger never saw the confirmation, so it sends the StartTransaction again.
    heartbeats = [f'[2,"h{n}","Heartbeat",{{}}]' for n in range(1500)]
    data = "".join(line + "\n" for line in heartbeats + [SESSION[3]]).encode()
    proc = subprocess.Popen([str(BIN / "shocpp-backend")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**site.env, "PATH_INFO": "/CP1"})
    try:
        proc.stdin.write(data)
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while not site.start_lines() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(site.start_lines()) == 1
    finally:
        proc.kill()
        proc.wait()
        answered = proc.stdout.read()
        proc.stdout.close()
        proc.stdin.close()
    assert b'"t"' not in answered and answered.count(b'[3,"h') < 1500
    again = run_backend(site, [SESSION[3]], {"PATH_INFO": "/CP1"})
    assert replies(again) == [[3, "t", {"idTagInfo": {"status": "Accepted"}, "transactionId": 10012345}]]
    (start,) = site.start_lines()
    assert (start["charger"], start["transaction_id"], start["meter_start_wh"]) == ("CP1", 10012345, 12345678)
    assert "already recorded (retransmission), not written again" in site.log_file.read_text()


def connection_dirs(site):
    """What the backends made in the run directory, without the last good copies of the conf files and
    what gone chargers left for shocpp-status (run/seen)."""
    return [p for p in site.run_dir.iterdir() if p.name not in ("last-good", "seen")]
