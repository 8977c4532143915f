"""Charger authentication (Security Profile 1) and the chargers file."""

import base64
import json
import os
import stat

import pytest

from shocpp import chargers_file, exits
from shocpp.protocol import authentication
from shocpp.tools import passwd

KEY = "00112233445566778899aabbccddeeff00112233"


def header(user, password):
    if isinstance(password, str):
        password = password.encode()
    return "Basic " + base64.b64encode(user.encode() + b":" + password).decode()


@pytest.fixture(scope="module")
def allowed():
    return {"CP1": chargers_file.new_hash(KEY)}


def test_new_keys_are_40_hex_characters_and_differ():
    keys = {chargers_file.new_key() for _ in range(20)}
    assert len(keys) == 20 and all(len(k) == 40 and int(k, 16) >= 0 for k in keys)


def test_the_hash_is_salted_and_verifies_only_the_key(allowed):
    assert chargers_file.new_hash(KEY) != chargers_file.new_hash(KEY)
    assert chargers_file.new_hash(KEY).startswith("scrypt$16384$8$1$")
    assert authentication.verify(KEY.encode(), allowed["CP1"])
    assert authentication.verify(KEY.upper().encode(), allowed["CP1"])
    assert authentication.verify(bytes.fromhex(KEY), allowed["CP1"])
    assert not authentication.verify(KEY[:-1].encode() + b"4", allowed["CP1"])
    assert not authentication.verify(b"", allowed["CP1"])


@pytest.mark.parametrize("identity, authorization, reason", [
    ("CP1", header("CP1", KEY), None),
    ("CP1", header("CP1", bytes.fromhex(KEY)), None),
    ("CP1", "basic " + base64.b64encode(f"CP1:{KEY}".encode()).decode(), None),
    ("CP1", header("CP1", "wrong"), "wrong password"),
    ("CP1", None, "no HTTP Basic authorization"),
    ("CP1", "", "no HTTP Basic authorization"),
    ("CP1", f"Bearer {KEY}", "no HTTP Basic authorization"),
    ("CP1", "Basic !!!not-base64", "malformed HTTP Basic authorization"),
    ("CP1", "Basic " + base64.b64encode(b"CP1").decode(), "the user name 'CP1' is not the charger identity in the URL"),
    ("CP1", header("CP2", KEY), "the user name 'CP2' is not the charger identity in the URL"),
    ("CP2", header("CP2", KEY), "charger 'CP2' is not listed in the chargers file"),
])
def test_refusal(allowed, identity, authorization, reason):
    assert authentication.refusal(allowed, identity, authorization) == reason


@pytest.mark.parametrize("text, message", [
    ("{", "not valid JSON"),
    ('{"CP1": "x"}', "must be a list"),
    ('[{"id": "CP1"}]', "entry 1: must have exactly the fields id and password_hash"),
    ('[{"id": "../x", "password_hash": "h"}]', "entry 1: id '../x' is not 1 to 48 letters"),
    ('[{"id": "CP1", "password_hash": "secret"}]', "entry 1 (CP1): password_hash is not a scrypt hash"),
])
def test_broken_files_are_named(text, message):
    with pytest.raises(authentication.ChargersError, match=message.replace("(", r"\(").replace(")", r"\)")):
        authentication.parse(text, "conf/chargers.json")


def test_a_charger_listed_twice_is_refused(allowed):
    entry = {"id": "CP1", "password_hash": allowed["CP1"]}
    with pytest.raises(authentication.ChargersError, match="charger 'CP1' is listed twice"):
        authentication.parse(json.dumps([entry, entry]))


def test_passwd_creates_replaces_lists_and_removes(tmp_path, capsys):
    env = {"SHOCPP_CHARGERSFILE": str(tmp_path / "chargers.json")}
    assert passwd.main(["garage-left"], env) == 0
    first = capsys.readouterr().out
    key = first.split("\n\n  ")[1].split("\n")[0]
    assert len(key) == 40
    assert f"""ChangeConfiguration '{{"key":"AuthorizationKey","value":"{key}"}}'""" in first
    stored = chargers_file.load(tmp_path / "chargers.json")
    assert authentication.refusal(stored, "garage-left", header("garage-left", key)) is None
    assert key not in (tmp_path / "chargers.json").read_text()
    assert stat.S_IMODE(os.stat(tmp_path / "chargers.json").st_mode) == 0o640

    assert passwd.main(["garage-left"], env) == 0
    second = capsys.readouterr().out.split("\n\n  ")[1].split("\n")[0]
    replaced = chargers_file.load(tmp_path / "chargers.json")
    assert authentication.refusal(replaced, "garage-left", header("garage-left", key)) == "wrong password"
    assert authentication.refusal(replaced, "garage-left", header("garage-left", second)) is None

    assert passwd.main(["garage-right"], env) == 0
    capsys.readouterr()
    assert passwd.main(["--list"], env) == 0
    assert capsys.readouterr().out == "garage-left\ngarage-right\n"
    assert passwd.main(["--remove", "garage-left"], env) == 0
    assert list(chargers_file.load(tmp_path / "chargers.json")) == ["garage-right"]
    assert passwd.main(["--remove", "garage-left"], env) == exits.NO_SUCH_CHARGER


def test_passwd_refuses_an_unsafe_identity(tmp_path):
    with pytest.raises(SystemExit) as exit:
        passwd.main(["../../etc/passwd"], {"SHOCPP_CHARGERSFILE": str(tmp_path / "c.json")})
    assert exit.value.code == 2
    assert not (tmp_path / "c.json").exists()
