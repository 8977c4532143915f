"""The dashboard's API spends little on a client that has not signed in (#24 item 1): credentials are
checked before the body is read (the API process asks its CGI wrapper for the body only then), and
over SHOCPP_DASHBOARD_LOGIN_RATE a password is refused (503) before it costs a scrypt; a session
cookie or HTTP Basic credentials checked within the last minute cost none."""

import base64
import hashlib
import json
import socket
import threading

import pytest

from shocpp import chargers_file, rate
from shocpp.tools import dashboard, dashboard_api, dashboard_server

PASSWORD = "correct horse battery"
SECRET = b"the wrapper's secret"


@pytest.fixture
def env(tmp_path):
    env = {"SHOCPP_OPERATORSFILE": str(tmp_path / "operators.json"), "SHOCPP_RUNDIR": str(tmp_path / "run"),
           "SHOCPP_ACCOUNTINGDIR": str(tmp_path / "accounting"), "SHOCPP_TAGSFILE": str(tmp_path / "tags.json")}
    chargers_file.save(tmp_path / "operators.json", {"alice": chargers_file.new_hash(PASSWORD)})
    (tmp_path / "tags.json").write_text('[{"index": 1, "account": "home", "ids": ["1111"]}]')
    return env


@pytest.fixture
def server(env):
    found = dashboard_server.Server(dashboard_api.Dashboard(env), SECRET)
    threading.Thread(target=found.serve_forever, daemon=True).start()
    yield found
    found.shutdown()
    found.server_close()


def auth(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def exchange(server, endpoint, method="GET", authorization="", length=0, body=None):
    """(the first line the API process sends, then all it sends) for a request whose body comes only
    after the process asked for it with `continue` (body None: never)."""
    with socket.create_connection(server.server_address, timeout=10) as s:
        s.sendall(f"{SECRET.decode()}\n{endpoint}\nm={method}\nl={length}\na={authorization}\n\n".encode())
        reader = s.makefile("rb")
        first = reader.readline()
        if first == b"continue\n" and body is not None:
            s.sendall(body)
            return first, reader.read()
        return first, first + reader.read()


def status_of(answer):
    return int(answer.split(b"\r\n", 1)[0].split()[1])


def body_of(answer):
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def test_a_request_without_credentials_is_refused_without_asking_for_its_body(server):
    first, answer = exchange(server, "command", "POST", length=65536)
    assert first != b"continue\n" and status_of(answer) == 401
    assert body_of(answer) == {"error": "sign in, or give a name and password (HTTP Basic)"}


def test_a_wrong_password_is_refused_without_asking_for_the_body(server):
    first, answer = exchange(server, "command", "POST", auth("alice", "wrong"), 65536)
    assert first != b"continue\n" and status_of(answer) == 401


def test_a_signed_in_post_is_read_and_answered(server):
    request = json.dumps({"charger": "CP1", "action": "Reset", "payload": {"type": "Soft"}}).encode()
    first, answer = exchange(server, "command", "POST", auth("alice", PASSWORD), len(request), request)
    assert first == b"continue\n"
    assert (status_of(answer), body_of(answer)["error"]) == (404, "charger 'CP1' is not connected (connected: none)")


def test_a_body_over_the_bound_is_never_asked_for(server):
    first, answer = exchange(server, "command", "POST", auth("alice", PASSWORD), dashboard_api.MAX_BODY + 1)
    assert status_of(answer) == 413


def test_over_the_login_rate_a_password_is_refused_before_any_scrypt(env, monkeypatch, capsys):
    api = dashboard_api.Dashboard({**env, "SHOCPP_DASHBOARD_LOGIN_RATE": "2"}, b"k")
    now = [1000.0]
    api.logins = rate.Budget(2, 2, clock=lambda: now[0])
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))

    def ask(password):
        req = dashboard_api.Request("accounts", "GET", authorization=auth("alice", password))
        person, refused = api.admit(req)
        return refused if refused is not None else api.serve(req, person)

    assert [ask("wrong").status for _ in range(5)] == [401, 401, 503, 503, 503]  # a burst of the rate, refused
    assert len(calls) == 2
    refused = ask(PASSWORD)
    assert refused.status == 503 and "Retry-After: 1" in refused.headers and len(calls) == 2
    assert refused.body == {"error": "too many passwords: more than 2 a second (SHOCPP_DASHBOARD_LOGIN_RATE); try "
                                     "again in a second"}
    err = capsys.readouterr().err
    assert err.count("over SHOCPP_DASHBOARD_LOGIN_RATE") == 1, err  # logged once, not per refusal
    now[0] += 1  # a second later: two more
    answer = ask(PASSWORD)
    assert answer.status == 200 and answer.body["accounts"][0]["account"] == "home"
    # the same credentials again within a minute: no scrypt, whatever the rate
    now[0] += 0.01
    assert [ask(PASSWORD).status for _ in range(5)] == [200] * 5 and len(calls) == 3


def test_the_bucket_refills_at_the_rate_up_to_its_burst():
    assert rate.refill(rate.Bucket(0.0, 100.0, False), 100.5, 4) == rate.Bucket(2.0, 100.5, False)
    assert rate.refill(rate.Bucket(1.0, 100.0, True), 200.0, 4) == rate.Bucket(4.0, 200.0, True)
    assert rate.refill(rate.Bucket(3.0, 100.0, False), 99.0, 4) == rate.Bucket(3.0, 99.0, False)  # clock set back


def test_the_dashboard_bounds_its_processes(env):
    argv = dashboard.command({**env, "SHOCPP_DASHBOARD_MAX_FORKS": "7"}, "CGI")
    assert "--maxforks=7" in argv
    assert f"--maxforks={dashboard.DEFAULT_MAX_FORKS}" in dashboard.command(env, "CGI")
