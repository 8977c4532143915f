"""shocpp-listener --check checks every file a shocpp service reads (#24 item 5): tags.json,
chargers.json, operators.json, tariffs.json and site.json, naming each problem."""

import json

import pytest

from shocpp import chargers_file, exits
from shocpp.tools import listener

KEY = "00112233445566778899aabbccddeeff00112233"


@pytest.fixture
def files(site):
    conf = site.root
    env = {**site.env, "SHOCPP_TARIFFSFILE": str(conf / "tariffs.json"), "SHOCPP_SITEFILE": str(conf / "site.json"),
           "SHOCPP_OPERATORSFILE": str(conf / "operators.json")}
    (conf / "tariffs.json").write_text('[{"from": "2026-01-01", "price_per_kwh": "0.3400", "currency": "EUR"}]')
    (conf / "site.json").write_text('{"grid_limit_a": 32}')
    chargers_file.save(conf / "chargers.json", {"CP1": chargers_file.new_hash(KEY)})
    chargers_file.save(conf / "operators.json", {"alice": chargers_file.new_hash("a long password")})
    return conf, env


def check(env, capsys):
    status = listener.main(["--check"], env)
    return status, capsys.readouterr().out


def test_a_good_configuration_names_every_file(files, capsys):
    conf, env = files
    status, out = check(env, capsys)
    assert status == exits.OK, out
    for line in ("ok      tags.json: 3 accounts", "ok      chargers.json: 1 chargers", "ok      operators.json: 1 operators",
                 "ok      tariffs.json: prices for statements", "ok      site.json: grid limit 32 A"):
        assert line in out.splitlines(), out


def test_a_price_as_a_number_and_a_broken_site_file_are_named(files, capsys):
    conf, env = files
    (conf / "tariffs.json").write_text('[{"from": "2026-01-01", "price_per_kwh": 0.34, "currency": "EUR"}]')
    (conf / "site.json").write_text('{"grid_limit_a": 32,}')
    status, out = check(env, capsys)
    assert status == exits.USAGE
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("broken")] == \
        ["broken  tariffs.json", "broken  site.json"]
    assert "price_per_kwh" in next(line for line in lines if line.startswith("broken  tariffs.json"))
    assert "not valid JSON" in next(line for line in lines if line.startswith("broken  site.json"))
    assert lines[-1] == "shocpp-listener: 2 problems; fix them before (re)starting"


def test_an_empty_chargers_file_refuses_every_charger_and_is_a_problem(files, capsys):
    conf, env = files
    (conf / "chargers.json").write_text("[]\n")
    status, out = check(env, capsys)
    assert status == exits.USAGE
    assert (f"broken  chargers.json: {conf / 'chargers.json'} lists no charger: every charger is refused "
            f"(add one with shocpp-passwd ID, or remove the file to let every charger in)") in out.splitlines()


def test_a_broken_operators_file_is_named(files, capsys):
    conf, env = files
    (conf / "operators.json").write_text('{"alice": "x"}')
    status, out = check(env, capsys)
    assert status == exits.USAGE
    assert any(line.startswith("broken  operators.json: ") for line in out.splitlines()), out


def test_files_that_are_optional_may_be_missing(site, capsys):
    env = {**site.env, "SHOCPP_TARIFFSFILE": str(site.root / "no-tariffs.json"),
           "SHOCPP_SITEFILE": str(site.root / "no-site.json"), "SHOCPP_OPERATORSFILE": str(site.root / "no-ops.json")}
    status, out = check(env, capsys)
    assert status == exits.OK, out
    assert f"ok      tariffs.json: no {site.root / 'no-tariffs.json'}, statements show no prices" in out.splitlines()
    assert f"ok      site.json: no {site.root / 'no-site.json'}, shocpp-balance cannot run" in out.splitlines()
    assert f"ok      operators.json: no {site.root / 'no-ops.json'}, the dashboard refuses every request" \
        in out.splitlines()


def test_a_python_without_the_dependencies_is_a_problem_and_no_listener_starts(files, capsys, monkeypatch):
    """#24 item 6: under ProtectHome the wrappers fell back to a system python3 without jsonschema, and
    --check still said good."""
    import sys
    conf, env = files
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema raises ImportError
    status, out = check(env, capsys)
    assert status == exits.USAGE
    (line,) = [line for line in out.splitlines() if line.startswith("broken  Python")]
    assert line.startswith(f"broken  Python: {sys.executable} lacks jsonschema (") and "make install" in line
    monkeypatch.setattr(listener, "find_websocketd", lambda env, program: "/bin/true")
    assert listener.main([], env) == exits.NOT_INSTALLED
    assert "shocpp-listener: not started: " in capsys.readouterr().err
