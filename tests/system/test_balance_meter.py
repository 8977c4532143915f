"""shocpp-balance's grid meter read from a real command and a real HTTP server on loopback, and a
charger that does not answer within its real timeout (these wait for processes and clocks)."""

import http.server
import json
import threading
import time
from pathlib import Path

import pytest

from shocpp.protocol.site import GridMeter
from shocpp.tools import balance as tool
from shocpp.tools import command

from conftest import free_port

from balance_site import NOW, FakeSend, silent, settings_of, one_round


# -- 1. the grid meter: command, url, file; failures ------------------------------------------------

def test_a_command_s_output_is_the_grid_power(capsys):
    assert tool.read_grid_meter(GridMeter("command", "echo ' -1234.5 '")) == -1234.5
    assert tool.read_grid_meter(GridMeter("command", "printf 9660")) == 9660.0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("line, problem", [
    ("echo abc", "its output 'abc' is not a number"),
    ("echo", "it printed nothing"),
    ("echo 1 2", "its output '1 2' is not a number"),
    # mbpoll prints its error on stderr and exits 0 (issue 24 item 7): the error is in the log
    ("echo 'Connection failed: Connection timed out.' >&2", "it printed nothing; on stderr: Connection failed: "
                                                           "Connection timed out."),
    ("echo 5; exit 3", "the command exited with 3"),
    ("echo broken >&2; exit 1", "the command exited with 1: broken"),
    ("nonesuch-meter-command", "the command exited with 127"),
])
def test_a_command_that_fails_or_prints_no_number_reads_nothing(capsys, line, problem):
    assert tool.read_grid_meter(GridMeter("command", line)) is None
    assert f"grid meter (command {line}): cannot read: {problem}" in capsys.readouterr().err


def test_a_command_that_hangs_is_ended_with_what_it_started_after_its_timeout(tmp_path, capsys):
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    assert tool.read_grid_meter(GridMeter("command", f"sleep 30 & echo $! > {pid_file}; wait; echo 5",
                                          timeout_s=1)) is None
    assert time.monotonic() - started < 5
    assert "timed out after 1 seconds" in capsys.readouterr().err
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _running(child):
        time.sleep(0.05)
    assert not _running(child), "the command's sleep was left running"


def _running(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


class Meter(http.server.BaseHTTPRequestHandler):
    """A grid meter's HTTP API: /status answers self.server.body (bytes) after self.server.delay."""

    def do_GET(self):
        time.sleep(self.server.delay)
        status, body = self.server.reply
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (the timeout test)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_meter():
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Meter)
    server.daemon_threads = True
    server.delay, server.reply = 0, (200, b"{}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{port}/status"
    server.shutdown()
    server.server_close()
    thread.join(5)


SHELLY = {"emeters": [{"power": -812.25, "is_valid": True}, {"power": 120}], "total_power": 1234,
          "a/b": {"m~n": "-42"}, "flag": True, "none": None, "text": "abc", "nested": {"power": [1]}}


@pytest.mark.parametrize("pointer, watts", [
    ("/emeters/0/power", -812.25), ("/emeters/1/power", 120.0), ("/total_power", 1234.0),
    ("/a~1b/m~0n", -42.0),
])
def test_a_url_s_json_answer_and_its_pointer_give_the_grid_power(http_meter, capsys, pointer, watts):
    server, url = http_meter
    server.reply = (200, json.dumps(SHELLY).encode())
    assert tool.read_grid_meter(GridMeter("url", url, pointer)) == watts
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("pointer, body, problem", [
    ("/emeters/2/power", SHELLY, "'/emeters/2/power'"),
    ("/emeters/00/power", SHELLY, "'/emeters/00/power'"),
    ("/total", SHELLY, "'/total'"),
    ("/flag", SHELLY, "not a number: True"),
    ("/none", SHELLY, "not a number: None"),
    ("/text", SHELLY, "could not convert string to float: 'abc'"),
    ("/nested", SHELLY, "not a number: {'power': [1]}"),
    ("/emeters/0/power", b"<html>meter</html>", "Expecting value"),
    ("/emeters/0/power", b"\xff\xfe", "can't decode byte 0xff"),
])
def test_a_url_answer_without_a_number_at_the_pointer_reads_nothing(http_meter, capsys, pointer, body, problem):
    server, url = http_meter
    server.reply = (200, body if isinstance(body, bytes) else json.dumps(body).encode())
    assert tool.read_grid_meter(GridMeter("url", url, pointer)) is None
    assert f"grid meter (url {url}): cannot read: " in (err := capsys.readouterr().err) and problem in err


def test_a_url_that_answers_an_http_error_or_nothing_reads_nothing(http_meter, capsys):
    server, url = http_meter
    server.reply = (500, b'{"total_power": 5}')
    assert tool.read_grid_meter(GridMeter("url", url, "/total_power")) is None
    assert "HTTP Error 500" in capsys.readouterr().err
    port = free_port()
    assert tool.read_grid_meter(GridMeter("url", f"http://127.0.0.1:{port}/", "/x")) is None
    assert "Connection refused" in capsys.readouterr().err


def test_a_url_answering_a_number_of_400_digits_reads_nothing_and_the_round_goes_on(
        http_meter, site, chargers, monkeypatch, capsys):
    """Issue 24 item 3: it raised an uncaught OverflowError (the balancer exited and restarted in a
    loop); now it is a failed reading: the last good one for an interval, then every connector's minimum."""
    server, url = http_meter
    server.reply = (200, b'{"power": ' + b"9" * 400 + b"}")
    assert tool.read_grid_meter(GridMeter("url", url, "/power")) is None
    assert "cannot read: a number of 400 digits is not a power reading" in capsys.readouterr().err
    settings, parsed = settings_of(site, {"grid_limit_a": 32, "chargers": {"a": {}},
                                          "grid_meter": {"url": url, "pointer": "/power"}})
    chargers.connect("a", 11)
    monkeypatch.setattr(command, "send", FakeSend())
    decided, state = one_round(settings, parsed, NOW)
    assert decided[("a", 1)].limit_a == 6
    assert "grid meter: no reading; no good reading yet" in capsys.readouterr().err


class Dripping(http.server.BaseHTTPRequestHandler):
    """A meter that sends its answer one byte every `self.server.every` seconds."""

    def do_GET(self):
        answer = b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"power": 100}'
        try:
            for i in range(len(answer)):
                self.wfile.write(answer[i:i + 1])
                self.wfile.flush()
                if self.server.stop.wait(self.server.every):
                    return
        except OSError:
            pass

    def log_message(self, *args):
        pass


def test_a_url_that_drips_its_answer_is_cut_off_at_the_timeout_for_the_whole_request(capsys):
    """Issue 24 item 3: one byte every 0.5 s with timeout_s 1 kept a round going (a read timeout, not
    the request's); now the whole request ends after timeout_s."""
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Dripping)
    server.daemon_threads, server.every, server.stop = True, 0.5, threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        assert tool.read_grid_meter(GridMeter("url", f"http://127.0.0.1:{port}/", "/power", timeout_s=1)) is None
        assert 0.9 < time.monotonic() - started < 2
        assert "cannot read: timed out: no whole answer within 1 s" in capsys.readouterr().err
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_url_that_does_not_answer_in_time_reads_nothing_after_its_timeout(http_meter, capsys):
    server, url = http_meter
    server.delay, server.reply = 4, (200, b'{"total_power": 5}')
    started = time.monotonic()
    assert tool.read_grid_meter(GridMeter("url", url, "/total_power", timeout_s=1)) is None
    assert 0.9 < time.monotonic() - started < 3
    assert "timed out" in capsys.readouterr().err


# -- 3. a charger that does not answer ----------------------------------------------------------------

def test_a_charger_that_does_not_answer_holds_up_nobody_and_is_tried_again_next_round(
        site, chargers, monkeypatch, capsys):
    settings, parsed = settings_of(site, {"grid_limit_a": 32, "chargers": {"a": {}, "b": {}, "c": {}}})
    for name, pid in (("a", 11), ("b", 12), ("c", 13)):
        chargers.connect(name, pid)
    fake = FakeSend({"a": silent})
    monkeypatch.setattr(command, "send", fake)
    started = time.monotonic()
    decided, state = one_round(settings, parsed, NOW, timeout=2.0)
    took = time.monotonic() - started
    # a: GetConfiguration and SetChargingProfile each wait the 2 s; b and c are answered at once
    assert 4 <= took < 6
    sent = {c: at for c, action, limit, at in fake.calls if action == "SetChargingProfile"}
    assert sent["b"] < 1 and sent["c"] < 1 and sent["a"] >= 4
    assert set(state["accepted"]) == {"b", "c"}
    err = capsys.readouterr().err
    assert "a: GetConfiguration: no answer in time; using stack level 0 and site.json's unit" in err
    assert "a connector 1: SetChargingProfile no answer in time; tried again next round" in err
    assert state["failed"] == {} and "a" not in state["learned"]
    # next round: a answers; only a is sent (b and c unchanged), its configuration asked again (no
    # answer is not an answer) and then remembered
    fake.answers, fake.calls[:] = {}, []
    decided, state = one_round(settings, parsed, NOW + 30, state)
    assert [(c, action, limit) for c, action, limit, _ in fake.calls] == [("a", "GetConfiguration", None),
                                                                          ("a", "SetChargingProfile", 10)]
    assert state["learned"]["a"] == {"stack_level": 3, "unit": None}




def test_the_readme_site_json_and_its_mbpoll_meter_run_as_written(tmp_path, monkeypatch, capsys):
    """Issue 24 item 7: the README's example parses, and its mbpoll command gives the number mbpoll
    prints (a stand-in mbpoll on PATH prints what mbpoll 1.4 does), and mbpoll's own error when it fails."""
    from conftest import ROOT
    from shocpp.protocol import site as site_module
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Site sharing and solar charging"):]
    example = section[section.index("```json\n") + len("```json\n"):]
    parsed = site_module.parse(example[:example.index("```")])
    assert parsed.grid_meter.kind == "command" and "mbpoll" in parsed.grid_meter.source
    fake = tmp_path / "bin" / "mbpoll"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nif [ -e "$MBPOLL_FAILS" ]; then echo "Connection failed: No such file or directory" >&2;'
                    ' exit 1; fi\nprintf "mbpoll 1.4-12 - FieldTalk(tm) Modbus(R) Master Simulator\\n'
                    '-- Polling slave 1...\\n[53]: \\t-812.500000\\n"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{__import__('os').environ['PATH']}")
    assert tool.read_grid_meter(parsed.grid_meter) == -812.5
    monkeypatch.setenv("MBPOLL_FAILS", str(fake))
    assert tool.read_grid_meter(parsed.grid_meter) is None
    assert "the command exited with 1: Connection failed: No such file or directory" in capsys.readouterr().err
