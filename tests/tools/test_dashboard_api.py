"""The dashboard's API in-process: operators, the Origin rule, the CGI answer."""

import base64
import io
import json

import pytest

from shocpp import operators_file
from shocpp.protocol import authentication
from shocpp.tools import dashboard, dashboard_api, passwd


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def env(tmp_path):
    return {"SHOCPP_OPERATORSFILE": str(tmp_path / "operators.json"), "SHOCPP_RUNDIR": str(tmp_path / "run"),
            "SHOCPP_ACCOUNTINGDIR": str(tmp_path / "accounting"), "SHOCPP_TAGSFILE": str(tmp_path / "tags.json")}


def test_an_operator_made_with_a_new_password_or_one_from_stdin(env, tmp_path):
    out = io.StringIO()
    assert passwd.main(["--operator", "alice"], env, out) == 0
    made = out.getvalue().split("\n")[2].strip()
    assert passwd.main(["--operator", "bob", "--password-stdin"], env, out, io.StringIO("correct horse battery\n")) == 0
    operators = operators_file.load(tmp_path / "operators.json")
    assert set(operators) == {"alice", "bob"} and made not in (tmp_path / "operators.json").read_text()
    assert authentication.operator(operators, basic("alice", made)) == "alice"
    assert authentication.operator(operators, basic("bob", "correct horse battery")) == "bob"
    for header in (basic("bob", "wrong"), basic("eve", made), None, "Basic !!", "Bearer x", basic("alice", "")):
        assert authentication.operator(operators, header) is None
    assert passwd.main(["--operator", "carol", "--password-stdin"], env, out, io.StringIO("short\n")) == 2
    assert passwd.main(["--operator", "bob", "--remove"], env, out) == 0
    assert set(operators_file.load(tmp_path / "operators.json")) == {"alice"}


@pytest.mark.parametrize("origin, host, scheme, same", [
    (None, "127.0.0.1:8081", "http", True),
    ("http://127.0.0.1:8081", "127.0.0.1:8081", "http", True),
    ("http://127.0.0.1:8081", "127.0.0.1:8081", "https", False),
    ("http://localhost:8081", "127.0.0.1:8081", "http", False),
    ("http://127.0.0.1:8082", "127.0.0.1:8081", "http", False),
    ("null", "127.0.0.1:8081", "http", False),
    ("http://127.0.0.1:8081", "", "http", False),
])
def test_same_origin(origin, host, scheme, same):
    environ = {"HTTP_HOST": host, **({"HTTP_ORIGIN": origin} if origin else {})}
    assert dashboard_api.same_origin(environ, {dashboard_api.SCHEME: scheme}) is same


def test_the_cgi_answer_has_a_status_line_and_json():
    raw = dashboard_api.Answer(401, {"error": "x\u202e"}, ["WWW-Authenticate: Basic"]).cgi()
    head, body = raw.split(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"Status: 401 Unauthorized" and b"WWW-Authenticate: Basic" in head
    assert json.loads(body) == {"error": "x\u202e"} and b"\\u202e" in body


def test_no_operator_no_answer(env):
    answer = dashboard_api.handle("status", {"REQUEST_METHOD": "GET"}, b"", env)
    assert answer.status == 401 and "shocpp-passwd --operator" in answer.body["error"]


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                            ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)])
def test_loopback(host, loopback):
    assert dashboard.is_loopback(host) is loopback


def test_the_cgi_wrappers_carry_the_settings(tmp_path):
    dashboard.write_cgi(tmp_path, {"SHOCPP_RUNDIR": "/x y/run", "PATH": "/bin", "OTHER": "no"}, "https", "/py")
    text = (tmp_path / "api" / "status").read_text()
    assert "export SHOCPP_RUNDIR='/x y/run'\n" in text and "export SHOCPP_DASHBOARD_SCHEME=https\n" in text
    assert "OTHER" not in text and text.endswith("exec /py -S -c 'from shocpp import startup; startup.main(\"shocpp.tools.dashboard_api\")' "
                                               "status\n")
    assert sorted(p.name for p in (tmp_path / "api").iterdir()) == sorted(dashboard_api.ENDPOINTS)


def running_balancer(run_dir, chargers):
    """A balancer's status as a running one leaves it (this process stands in for it)."""
    import os
    from datetime import datetime, timezone
    from shocpp import balance_control
    balance_control.write(run_dir, balance_control.STATUS, {
        "updated_at": datetime.now(timezone.utc).isoformat(), "pid": os.getpid(), "interval_s": 30,
        "grid_limit_a": 32, "grid_power_w": None, "surplus_w": None,
        "chargers": {c: {"mode": "fast", "max_a": 16, "connectors": {}} for c in chargers}})


@pytest.mark.parametrize("action, payload, max_a, said", [
    ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}}},
     10, "a maximum of 10 A"),
    ("ClearChargingProfile", {"connectorId": 1}, None, "site.json's maximum"),
])
def test_the_limit_buttons_set_the_balancers_maximum_while_it_balances_the_charger(
        site, chargers, monkeypatch, action, payload, max_a, said):
    from shocpp import balance_control
    from shocpp.config import from_env
    from shocpp.tools import command as command_tool
    chargers.connect("a", 11)
    balance_control.set_max(site.run_dir, "a", 7)
    running_balancer(site.run_dir, ["a"])
    monkeypatch.setattr(command_tool, "send", lambda *a: pytest.fail("a profile was sent around the balancer"))
    answer = dashboard_api.command(json.dumps({"charger": "a", "action": action, "payload": payload}),
                                   from_env(site.env))
    assert (answer.status, answer.body) == (200, {"charger": "a", "answer": {
        "status": "Accepted", "balancer": f"shocpp-balance balances a: {said} set, applied at its next round"}})
    assert balance_control.controls(site.run_dir).get("a", {}).get("max_a") == max_a
    # a charger the balancer does not balance: the profile goes to the charger as before
    chargers.connect("other", 12)
    sent = []
    monkeypatch.setattr(command_tool, "send", lambda *a: sent.append(a[2]) or {"status": "result",
                                                                               "payload": {"status": "Accepted"}})
    answer = dashboard_api.command(json.dumps({"charger": "other", "action": action, "payload": payload}),
                                   from_env(site.env))
    assert answer.status == 200 and sent == [action]
