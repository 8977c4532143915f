"""shocpp-mqtt's shell in-process: its settings, and --dry-run over a site's run directory and ledger."""

import io
import json
from datetime import datetime, timezone

import pytest

from shocpp import config, ledger, runfiles
from shocpp.tools import mqtt

from ledgers import record


def settings(**env):
    return mqtt.settings_from_env(env)


def test_the_url_gives_the_broker_the_user_and_the_password_and_the_log_never_shows_it():
    found = settings(SHOCPP_MQTT_URL="mqtts://shocpp:p%40ss%20word@broker.lan")
    assert (found.host, found.port, found.tls, found.username, found.password) == \
        ("broker.lan", 8883, True, "shocpp", "p@ss word")
    assert found.where == "mqtts://shocpp@broker.lan:8883"
    plain = settings()
    assert (plain.host, plain.port, plain.tls, plain.username, plain.password) == ("localhost", 1883, False, None, None)
    assert plain.names == mqtt.model.Names("shocpp", "homeassistant") and plain.start_account is None


def test_the_password_file_wins_over_the_url(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("from the file\nsecond line ignored\n")
    found = settings(SHOCPP_MQTT_URL="mqtt://u:inurl@h:1884", SHOCPP_MQTT_PASSWORD_FILE=str(secret))
    assert (found.password, found.port) == ("from the file", 1884)
    with pytest.raises(config.ConfigError, match="SHOCPP_MQTT_PASSWORD_FILE: cannot read .*nothing"):
        settings(SHOCPP_MQTT_PASSWORD_FILE=str(tmp_path / "nothing"))


@pytest.mark.parametrize("env, problem", [
    ({"SHOCPP_MQTT_URL": "http://h"}, "SHOCPP_MQTT_URL must be mqtt://"),
    ({"SHOCPP_MQTT_URL": "mqtt://u:secret@h:99999"}, "SHOCPP_MQTT_URL is not a URL"),
    ({"SHOCPP_MQTT_URL": "mqtt://h/path"}, "SHOCPP_MQTT_URL must be"),
    ({"SHOCPP_MQTT_PREFIX": "a/#"}, "SHOCPP_MQTT_PREFIX='a/#'"),
    ({"SHOCPP_MQTT_DISCOVERY_PREFIX": "ha/"}, "SHOCPP_MQTT_DISCOVERY_PREFIX='ha/'"),
    ({"SHOCPP_MQTT_CAFILE": "/nonexistent/ca.pem"}, "SHOCPP_MQTT_CAFILE: no such file"),
])
def test_bad_settings_are_named_and_never_show_the_password(env, problem):
    with pytest.raises(config.ConfigError) as raised:
        settings(**env)
    assert problem in str(raised.value) and "secret" not in str(raised.value)


def test_an_empty_discovery_prefix_means_no_discovery():
    assert settings(SHOCPP_MQTT_DISCOVERY_PREFIX="").names.discovery == ""


def test_dry_run_prints_what_a_site_holds(site):
    now = datetime.now(timezone.utc)
    stop = record("garage-left", 10012345, "home", 1, "1111", 12345, 12350999, 5, now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  wh=5321)
    ledger.append(site.accounting, now.strftime("%Y-%m"), stop)
    gone = runfiles.Connection(site.run_dir, "garage-left", 4242)
    gone.create({"charger": "garage-left", "boot": {"chargePointVendor": "Acme", "chargePointModel": "Box"}})
    gone.keep_seen(now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    gone.remove()
    today = now.strftime("%Y-%m-%d")
    out = io.StringIO()
    assert mqtt.main(["--dry-run"], {**site.env, "SHOCPP_MQTT_URL": "mqtt://127.0.0.1:9"}, out) == 0
    wanted = json.loads(out.getvalue())
    assert wanted["shocpp/garage-left/availability"] == "offline"  # gone: known from the ledger
    assert json.loads(wanted["shocpp/garage-left/state"])["vendor"] == "Acme"
    assert "homeassistant/device/shocpp_account_home/config" in wanted
    home = json.loads(wanted["shocpp/account/home/state"])
    assert (home["month"], home["energy_wh"], home["sessions"], home["cost"]) == (today[:7], 5321, 1, None)
    assert json.loads(wanted["shocpp/account/last/state"])["sessions"] == 0


def test_limits_the_bridge_set_are_kept_for_its_next_start(tmp_path):
    mqtt.save_limits(tmp_path, {"a": 10, "b": None})
    assert mqtt.load_limits(tmp_path) == {"a": 10}
    assert mqtt.load_limits(tmp_path / "none") == {}
