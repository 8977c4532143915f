"""The dashboard's API spends little on a client that has not signed in (#24 item 1): credentials are
checked before the body is read, and over SHOCPP_DASHBOARD_LOGIN_RATE a request is refused (503)
before its password costs a scrypt."""

import hashlib
import io
import json
import sys

import pytest

from shocpp import chargers_file, rate
from shocpp.tools import dashboard, dashboard_api

PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path, monkeypatch):
    env = {"SHOCPP_OPERATORSFILE": str(tmp_path / "operators.json"), "SHOCPP_RUNDIR": str(tmp_path / "run"),
           "SHOCPP_ACCOUNTINGDIR": str(tmp_path / "accounting"), "SHOCPP_TAGSFILE": str(tmp_path / "tags.json")}
    chargers_file.save(tmp_path / "operators.json", {"alice": chargers_file.new_hash(PASSWORD)})
    (tmp_path / "tags.json").write_text('[{"index": 1, "account": "home", "ids": ["1111"]}]')
    for name in list(__import__("os").environ):
        if name.startswith("SHOCPP_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


class Unreadable(io.RawIOBase):
    """A request body that never comes: reading it is the failure under test."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise AssertionError("the body was read before the credentials were checked")


def cgi(monkeypatch, environ, body=None):
    """(status, headers, JSON) of dashboard_api.main for one request."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    out = io.BytesIO()
    stdin = io.BufferedReader(body) if isinstance(body, io.RawIOBase) else io.BytesIO(body or b"")
    monkeypatch.setattr(sys, "stdin", type("In", (), {"buffer": stdin})())
    monkeypatch.setattr(sys, "stdout", type("Out", (), {"buffer": out})())
    endpoint = environ.pop("ENDPOINT", "command")
    assert dashboard_api.main([endpoint]) == 0
    head, _, data = out.getvalue().partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    return int(lines[0].split()[1]), lines[1:], json.loads(data)


def auth(user, password):
    import base64
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_request_without_credentials_is_refused_without_reading_its_body(env, monkeypatch):
    status, _, body = cgi(monkeypatch, {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "65536"}, Unreadable())
    assert status == 401 and body == {"error": "an operator's name and password are needed"}


def test_a_wrong_password_is_refused_without_reading_the_body(env, monkeypatch):
    status, _, _ = cgi(monkeypatch, {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "65536",
                                     "HTTP_AUTHORIZATION": auth("alice", "wrong")}, Unreadable())
    assert status == 401


def test_a_signed_in_post_is_read_and_answered(env, monkeypatch):
    request = json.dumps({"charger": "CP1", "action": "Reset", "payload": {"type": "Soft"}}).encode()
    status, _, body = cgi(monkeypatch, {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(request)),
                                        "HTTP_AUTHORIZATION": auth("alice", PASSWORD)}, request)
    assert (status, body["error"]) == (404, "charger 'CP1' is not connected (connected: none)")


def test_over_the_login_rate_a_request_is_refused_before_any_scrypt(env, monkeypatch, capsys):
    monkeypatch.setenv("SHOCPP_DASHBOARD_LOGIN_RATE", "2")
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(rate, "now", lambda: 1000.0)
    statuses = [cgi(monkeypatch, {"REQUEST_METHOD": "GET", "ENDPOINT": "accounts",
                                  "HTTP_AUTHORIZATION": auth("alice", "wrong")})[0] for _ in range(5)]
    assert statuses == [401, 401, 503, 503, 503]  # a burst of the rate, then refused
    assert len(calls) == 2
    status, headers, body = cgi(monkeypatch, {"REQUEST_METHOD": "GET", "ENDPOINT": "accounts",
                                              "HTTP_AUTHORIZATION": auth("alice", PASSWORD)})
    assert status == 503 and "Retry-After: 1" in headers and len(calls) == 2
    assert body == {"error": "too many requests: more than 2 a second (SHOCPP_DASHBOARD_LOGIN_RATE); try again "
                             "in a second"}
    err = capsys.readouterr().err
    assert err.count("over SHOCPP_DASHBOARD_LOGIN_RATE") == 1, err  # logged once, not per refusal
    monkeypatch.setattr(rate, "now", lambda: 1001.0)  # a second later: two more
    status, _, body = cgi(monkeypatch, {"REQUEST_METHOD": "GET", "ENDPOINT": "accounts",
                                        "HTTP_AUTHORIZATION": auth("alice", PASSWORD)})
    assert status == 200 and body["accounts"][0]["account"] == "home"


def test_the_bucket_refills_at_the_rate_up_to_its_burst():
    assert rate.refill(rate.Bucket(0.0, 100.0, False), 100.5, 4) == rate.Bucket(2.0, 100.5, False)
    assert rate.refill(rate.Bucket(1.0, 100.0, True), 200.0, 4) == rate.Bucket(4.0, 200.0, True)
    assert rate.refill(rate.Bucket(3.0, 100.0, False), 99.0, 4) == rate.Bucket(3.0, 99.0, False)  # clock set back


def test_the_dashboard_bounds_its_processes(env):
    argv = dashboard.command({**env, "SHOCPP_DASHBOARD_MAX_FORKS": "7"}, "CGI")
    assert "--maxforks=7" in argv
    assert f"--maxforks={dashboard.DEFAULT_MAX_FORKS}" in dashboard.command(env, "CGI")
