"""The frame log stays bounded and keeps secrets out (issue #11, item 2)."""

import json
import os

from shocpp import backend, config, runfiles
from shocpp.log import MAX_LOGGED, Log
from shocpp.protocol.ocppj import Call
from shocpp.tags_file import TagsFile


def _backend(site):
    cfg = config.from_env(site.env)
    conn = runfiles.Connection(cfg.run_dir, "CP1", 1)
    conn.create({})
    sent = []
    return backend.Backend(cfg, "CP1", Log(cfg.log_dir, "CP1"), sent.append, conn, TagsFile(cfg.tags_file)), sent


def _log_lines(site):
    return site.log_file.read_text().splitlines()


def test_a_frame_with_6000_unknown_properties_writes_four_bounded_lines(site):
    shell, sent = _backend(site)
    payload = {"chargePointVendor": "Acme", "chargePointModel": "Box",
               **{f"x{n}": 0 for n in range(6000)}}  # 60 KB: under the 64 KiB limit
    frame = json.dumps([2, "b", "BootNotification", payload], separators=(",", ":"))
    assert len(frame) < 65536
    shell.on_line(frame.encode())
    lines = _log_lines(site)
    # frame in, one note of its deviations, one of what was kept, frame out
    assert [line.split(" ")[2] for line in lines] == ["<", "-", "-", ">"]
    assert all(len(line) < MAX_LOGGED + 200 for line in lines)
    note = lines[1].split(" - ", 1)[1]
    assert note == ("BootNotification deviates from the schema in 6000 places: x0: unknown property; x1: unknown "
                    "property; x10: unknown property; and 5997 more")
    assert lines[2].endswith("BootNotification: '' is an object of 6002 properties: kept its first 64")
    assert lines[0].endswith(f"... ({len(frame)} characters)")
    assert json.loads(sent[0])[0] == 3


def test_the_authorization_key_sent_to_a_charger_is_masked_in_the_log(site):
    shell, sent = _backend(site)
    key = "0123456789abcdef0123456789abcdef01234567"
    shell.send([Call("c1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": key})])
    shell.on_line(('[3,"g1",{"configurationKey":[{"key":"authorizationkey","readonly":false,"value":"%s"}]}]'
                   % key).encode())
    Log(config.from_env(site.env).log_dir, "CP1").note(f"DataTransfer: {{'AuthorizationKey': '{key}'}}")
    assert key.encode() in sent[0]  # the charger gets it
    text = site.log_file.read_text()
    assert key not in text
    lines = _log_lines(site)
    assert lines[0].endswith('> [2,"c1","ChangeConfiguration",{"key":"AuthorizationKey","value":"********"}]')
    assert lines[1].endswith('< [3,"g1",{"configurationKey":[{"key":"authorizationkey","readonly":false,'
                             '"value":"********"}]}]')
    assert lines[-1].endswith("- DataTransfer: {'AuthorizationKey... (the rest is not logged: it may hold a secret)")


# -- #24 item 2: bounded per connection per second and by size, between logrotate's runs ---------------

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_connection_over_its_rate_is_cut_said_once_and_counted(tmp_path):
    clock = Clock()
    log = Log(tmp_path, "CP1", pid=7, rate=1024, clock=clock)  # 16 KiB at once, then 1 KiB a second
    padded = '[2,"h","Heartbeat",{"x":"' + "p" * 1000 + '"}]'
    for _ in range(100):
        log.incoming(padded)
    lines = (tmp_path / "shocpp.log").read_text().splitlines()
    assert 14 <= len(lines) <= 17  # the burst, then one line saying it
    assert lines[-1].endswith("CP1[7] ! frame log: this connection writes more than SHOCPP_LOG_RATE (1024 bytes a "
                              "second): lines left out until it slows down")
    assert sum("SHOCPP_LOG_RATE" in line for line in lines) == 1
    clock.now += 2  # two seconds later: room for a line again
    log.note("back")
    lines = (tmp_path / "shocpp.log").read_text().splitlines()
    assert lines[-2].endswith(f"CP1[7] - frame log: {100 - (len(lines) - 3)} lines left out")
    assert lines[-1].endswith("CP1[7] - back")


def test_a_well_behaved_charger_loses_nothing(tmp_path):
    clock = Clock()
    log = Log(tmp_path, "CP1", pid=7, clock=clock)  # the defaults
    for n in range(3000):  # a reconnect's replay: 1,000 frames of 300 bytes at once, then one a second
        log.incoming('[2,"%d","MeterValues",{"connectorId":1,"meterValue":[%s]}]' % (n, "0" * 250))
        if n >= 1000:
            clock.now += 1
    assert len((tmp_path / "shocpp.log").read_text().splitlines()) == 3000


def test_over_its_size_the_log_is_not_written_said_once_in_it_and_on_stderr(tmp_path):
    import io
    err = io.StringIO()
    (tmp_path / "shocpp.log").write_bytes(b"x" * 5000 + b"\n")
    log = Log(tmp_path, "CP1", pid=7, stderr=err, max_bytes=5000)
    for _ in range(10):
        log.incoming('[2,"h","Heartbeat",{}]')
    lines = (tmp_path / "shocpp.log").read_text().splitlines()
    assert len(lines) == 2 and lines[1].endswith(
        "CP1[7] ! frame log: the file is over SHOCPP_LOG_MAX_BYTES (5000 bytes): this connection writes no more "
        "lines until it is rotated")
    assert err.getvalue().count("SHOCPP_LOG_MAX_BYTES") == 1
    os.truncate(tmp_path / "shocpp.log", 0)  # logrotate's copytruncate
    log.incoming('[2,"h2","Heartbeat",{}]')
    assert (tmp_path / "shocpp.log").read_text().endswith('CP1[7] < [2,"h2","Heartbeat",{}]\n')
