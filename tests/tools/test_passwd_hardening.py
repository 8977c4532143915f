"""shocpp-passwd and Basic auth: timing, ':' in identities, what the operator is told (issue #11, item 6)."""

import base64
import hashlib
import json
import os

import pytest

from shocpp import chargers_file, runfiles
from shocpp.protocol import authentication
from shocpp.tools import passwd

KEY = "00112233445566778899aabbccddeeff00112233"


def header(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("identity, authorization", [
    ("CP1", header("CP1", "wrong")),          # known, wrong password: always one scrypt
    ("nobody", header("nobody", "wrong")),    # unknown: the same one scrypt
    ("nobody", None),
    ("nobody", "Basic !!!"),
    ("CP1", None),
])
def test_every_refusal_costs_the_same_one_scrypt(monkeypatch, identity, authorization):
    allowed = {"CP1": authentication.hash_password(KEY, b"0123456789abcdef")}
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append((k["n"], k["r"], k["p"])) or real(*a, **k))
    assert authentication.refusal(allowed, identity, authorization) is not None
    assert calls == [(2**14, 8, 1)]


def test_an_identity_with_a_colon_is_refused_by_passwd_and_in_the_chargers_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        passwd.main(["site:left"], {"SHOCPP_CHARGERSFILE": str(tmp_path / "c.json")})
    assert exit.value.code == 2
    assert "has a ':': HTTP Basic auth cannot carry it" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()
    entry = {"id": "site:left", "password_hash": chargers_file.new_hash(KEY)}
    with pytest.raises(authentication.ChargersError,
                       match="entry 1: id 'site:left' has a ':', which an HTTP Basic user name cannot carry"):
        authentication.parse(json.dumps([entry]))


def test_list_without_a_chargers_file_says_every_charger_may_connect(tmp_path, capsys):
    env = {"SHOCPP_CHARGERSFILE": str(tmp_path / "chargers.json")}
    assert passwd.main(["--list"], env) == 0
    assert capsys.readouterr().out == (f"no chargers file {tmp_path / 'chargers.json'}: chargers are NOT "
                                       "authenticated, every charger may connect (shocpp-passwd <chargerId> "
                                       "creates it)\n")
    (tmp_path / "chargers.json").write_text("[]")
    assert passwd.main(["--list"], env) == 0
    assert capsys.readouterr().out == f"no chargers in {tmp_path / 'chargers.json'}: every charger is refused\n"


def test_the_first_entry_names_the_chargers_it_locks_out(site, capsys):
    from datetime import datetime
    month = datetime.now().strftime("%Y-%m")
    site.accounting.mkdir()
    (site.accounting / f"{month}.jsonl").write_text(
        json.dumps({"event": "start", "charger": "garage-left", "transaction_id": 1}) + "\n"
        + json.dumps({"event": "stop", "charger": "garage-right", "transaction_id": 1}) + "\n")
    connection = runfiles.Connection(site.run_dir, "carport", 1)
    connection.create({})
    reader = os.open(connection.fifo, os.O_RDONLY | os.O_NONBLOCK)  # a live backend reads its FIFO
    try:
        assert passwd.main(["garage-left"], site.env) == 0
    finally:
        os.close(reader)
    err = capsys.readouterr().err
    assert "is new: from now on only the chargers listed in it may connect" in err
    assert ("chargers seen in the ledger of the last two months or connected now that are not listed and will be "
            "refused: carport, garage-right.") in err
    assert passwd.main(["garage-right"], site.env) == 0
    assert "is new" not in capsys.readouterr().err


def test_removing_the_last_charger_says_so_and_needs_force(tmp_path, capsys):
    """An empty chargers.json refuses every charger (#24 item 5): --remove of the last one says so first."""
    path = tmp_path / "chargers.json"
    env = {"SHOCPP_CHARGERSFILE": str(path), "SHOCPP_RUNDIR": str(tmp_path / "run"),
           "SHOCPP_ACCOUNTINGDIR": str(tmp_path / "accounting")}
    chargers_file.save(path, {"CP1": chargers_file.new_hash(KEY), "CP2": chargers_file.new_hash(KEY)})
    assert passwd.main(["--remove", "CP1"], env) == 0
    capsys.readouterr()
    assert passwd.main(["--remove", "CP2"], env) == 2
    err = capsys.readouterr().err
    assert err == (f"shocpp-passwd: not removed: CP2 is the last charger in {path}: without it the file lists no "
                   f"charger and every charger is refused. Give --force to remove it anyway, or delete {path} to "
                   f"let every charger in without a password.\n")
    assert list(chargers_file.load(path)) == ["CP2"]
    assert passwd.main(["--remove", "--force", "CP2"], env) == 0
    assert "WARNING: CP2 is the last charger" in capsys.readouterr().err
    assert chargers_file.load(path) == {}
