"""Settings from the environment."""

import os
from pathlib import Path

import pytest

from shocpp import config
from shocpp.config import Config, ConfigError, from_env

ROOT = Path(__file__).resolve().parents[2]


def test_root_is_the_project_directory():
    assert config.ROOT == ROOT
    assert (config.ROOT / "shocpp" / "config.py").is_file()


def test_defaults():
    assert from_env({}) == Config(
        tags_file=ROOT / "conf" / "tags.json",
        accounting_dir=ROOT / "accounting",
        run_dir=ROOT / "run",
        log_dir=ROOT / "log",
        heartbeat_interval=300,
        strict=False,
        chargers_file=ROOT / "conf" / "chargers.json",
        tls_cert=None,
        tls_key=None,
        max_chargers=100,
        max_power_kw=50,
        site_file=ROOT / "conf" / "site.json",
        tariffs_file=ROOT / "conf" / "tariffs.json",
        site_name=os.uname().nodename,
        operators_file=ROOT / "conf" / "operators.json",
        max_session_kwh=200,
    )


def test_empty_values_mean_the_defaults():
    env = {"SHOCPP_TAGSFILE": "", "SHOCPP_ACCOUNTINGDIR": "", "SHOCPP_RUNDIR": "", "SHOCPP_LOGDIR": "",
           "SHOCPP_HEARTBEAT_INTERVAL": " ", "SHOCPP_STRICT": "", "SHOCPP_TARIFFSFILE": "", "SHOCPP_SITE_NAME": " "}
    assert from_env(env) == from_env({})


def test_reads_os_environ_when_no_env_given(monkeypatch):
    monkeypatch.setenv("SHOCPP_HEARTBEAT_INTERVAL", "42")
    monkeypatch.setenv("SHOCPP_RUNDIR", "/srv/shocpp/run")
    settings = from_env()
    assert (settings.heartbeat_interval, settings.run_dir) == (42, Path("/srv/shocpp/run"))


@pytest.mark.parametrize("name, field", [
    ("SHOCPP_TAGSFILE", "tags_file"),
    ("SHOCPP_ACCOUNTINGDIR", "accounting_dir"),
    ("SHOCPP_RUNDIR", "run_dir"),
    ("SHOCPP_LOGDIR", "log_dir"),
    ("SHOCPP_SITEFILE", "site_file"),
    ("SHOCPP_TARIFFSFILE", "tariffs_file"),
])
def test_paths_from_env(name, field, tmp_path, monkeypatch):
    assert getattr(from_env({name: "/srv/shocpp/x"}), field) == Path("/srv/shocpp/x")
    monkeypatch.chdir(tmp_path)
    relative = getattr(from_env({name: "site/x"}), field)
    assert relative.is_absolute()
    assert relative == tmp_path / "site" / "x"
    # the other paths keep their defaults
    others = {f: getattr(from_env({name: "/srv/shocpp/x"}), f)
              for f in ("tags_file", "accounting_dir", "run_dir", "log_dir", "tariffs_file") if f != field}
    defaults = from_env({})
    assert others == {f: getattr(defaults, f) for f in others}


@pytest.mark.parametrize("text, seconds", [
    ("60", 60), (" 60 ", 60), ("1", 1), ("86400", 86400), ("0300", 300),
])
def test_heartbeat_interval(text, seconds):
    assert from_env({"SHOCPP_HEARTBEAT_INTERVAL": text}).heartbeat_interval == seconds


@pytest.mark.parametrize("text, message", [
    ("abc", "SHOCPP_HEARTBEAT_INTERVAL='abc' is not a whole number"),
    ("1.5", "SHOCPP_HEARTBEAT_INTERVAL='1.5' is not a whole number"),
    ("5 min", "SHOCPP_HEARTBEAT_INTERVAL='5 min' is not a whole number"),
    ("0", "SHOCPP_HEARTBEAT_INTERVAL=0 is outside 1..86400"),
    ("-5", "SHOCPP_HEARTBEAT_INTERVAL=-5 is outside 1..86400"),
    ("86401", "SHOCPP_HEARTBEAT_INTERVAL=86401 is outside 1..86400"),
])
def test_bad_heartbeat_interval(text, message):
    with pytest.raises(ConfigError) as caught:
        from_env({"SHOCPP_HEARTBEAT_INTERVAL": text})
    assert str(caught.value) == message


@pytest.mark.parametrize("text, strict", [
    ("1", True), ("yes", True), ("true", True), ("on", True), ("TRUE", True), (" Yes ", True),
    ("0", False), ("no", False), ("false", False), ("off", False), ("OFF", False), ("", False),
])
def test_strict(text, strict):
    assert from_env({"SHOCPP_STRICT": text}).strict is strict


@pytest.mark.parametrize("text, message", [
    ("maybe", "SHOCPP_STRICT='maybe' is not 0 or 1"),
    ("2", "SHOCPP_STRICT='2' is not 0 or 1"),
    ("enable", "SHOCPP_STRICT='enable' is not 0 or 1"),
])
def test_bad_strict(text, message):
    with pytest.raises(ConfigError) as caught:
        from_env({"SHOCPP_STRICT": text})
    assert str(caught.value) == message


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("text, name", [
    ("Garage Müller", "Garage Müller"), ("  Hof 7 ", "Hof 7"), ("x" * 200, "x" * 200),
])
def test_site_name(text, name):
    assert from_env({"SHOCPP_SITE_NAME": text}).site_name == name


def test_the_site_name_defaults_to_the_host_name():
    assert from_env({}).site_name == os.uname().nodename != ""


@pytest.mark.parametrize("text", ["two\nlines", "bell\x07", "x" * 201])
def test_bad_site_name(text):
    with pytest.raises(ConfigError) as caught:
        from_env({"SHOCPP_SITE_NAME": text})
    assert str(caught.value).startswith("SHOCPP_SITE_NAME=")
    assert str(caught.value).endswith("is not one line of at most 200 printable characters")
