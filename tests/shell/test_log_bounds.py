"""The frame log stays bounded and keeps secrets out (issue #11, item 2)."""

import json

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
