"""Security Profiles 1 and 2 end to end: Basic auth per charger, wss://, and the connection limit."""

import asyncio
import base64
import json
import re
import ssl
import subprocess

import pytest
import websockets
from ocpp.v16 import call


from conftest import BIN, charger, run

KEY_LINE = re.compile(r"^  ([0-9a-f]{40})$", re.M)


def passwd(site, identity):
    done = subprocess.run([str(BIN / "shocpp-passwd"), identity], env=site.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return KEY_LINE.search(done.stdout).group(1)


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def billed_session(url, identity, headers, **options):
    async with charger(url, identity, additional_headers=headers, **options) as cp:
        await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Box"))
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag="1111", meter_start=2000,
                                                    timestamp="2026-11-01T10:00:00Z"))
        await cp.call(call.StopTransaction(transaction_id=start.transaction_id, meter_stop=9000,
                                           timestamp="2026-11-01T11:00:00Z"))
        return start.transaction_id


async def refused(url, identity, headers, **options):
    """True when the server closes the connection without answering a frame."""
    async with websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"], additional_headers=headers,
                                  **options) as ws:
        await ws.send('[2,"b","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"Box"}]')
        await ws.send('[2,"s","StopTransaction",{"transactionId":10000002,"meterStop":9000,'
                      '"timestamp":"2026-11-01T11:00:00Z"}]')
        try:
            answer = await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed:
            return True
        raise AssertionError(f"answered: {answer}")


def test_the_listed_charger_with_its_key_charges_and_is_billed(site, start_listener):
    key = passwd(site, "garage-left")
    url = start_listener()
    assert run(billed_session(url, "garage-left", basic("garage-left", key))) == 10_000_002
    (line,) = site.stop_lines()
    assert (line["charger"], line["account"], line["consumed_kwh"]) == ("garage-left", "home", 7)


def test_the_key_may_also_come_as_its_20_raw_bytes(site, start_listener):
    key = passwd(site, "CP1")
    raw = bytes.fromhex(key)
    header = {"Authorization": "Basic " + base64.b64encode(b"CP1:" + raw).decode()}
    assert run(billed_session(start_listener(), "CP1", header)) == 10_000_002


@pytest.mark.parametrize("case", ["wrong password", "no header", "other user", "unlisted", "not basic"])
def test_refused_connections_get_no_answer_and_write_nothing(site, start_listener, case):
    key = passwd(site, "garage-left")
    identity, headers = {
        "wrong password": ("garage-left", basic("garage-left", "0" * 40)),
        "no header": ("garage-left", {}),
        "other user": ("garage-left", basic("garage-right", key)),
        "unlisted": ("intruder", basic("intruder", key)),
        "not basic": ("garage-left", {"Authorization": f"Bearer {key}"}),
    }[case]
    assert run(refused(start_listener(), identity, headers)) is True
    assert site.ledger_lines() == []
    log = site.log_file.read_text()
    reason = {"wrong password": "wrong password", "no header": "no HTTP Basic authorization",
              "other user": "the user name 'garage-right' is not the charger identity in the URL",
              "unlisted": "charger 'intruder' is not listed in the chargers file",
              "not basic": "no HTTP Basic authorization"}[case]
    assert f"refused: {reason}" in log and "127.0.0.1" in log
    assert key not in log and "0" * 40 not in log


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_profile_2_basic_auth_inside_tls(site, start_listener, certificate):
    cert, key_file = certificate
    key = passwd(site, "CP1")
    url = start_listener({"SHOCPP_TLS_CERT": str(cert), "SHOCPP_TLS_KEY": str(key_file)}, scheme="wss")
    trust = ssl.create_default_context(cafile=str(cert))
    assert run(billed_session(url, "CP1", basic("CP1", key), ssl=trust)) == 10_000_002
    assert run(refused(url, "CP1", basic("CP1", "f" * 40), ssl=trust)) is True
    assert len(site.stop_lines()) == 1
    with pytest.raises((ssl.SSLError, OSError, websockets.InvalidMessage)):
        run(billed_session(url.replace("wss:", "ws:"), "CP1", basic("CP1", key)))


def test_a_connection_over_the_limit_is_refused(site, start_listener):
    url = start_listener({"SHOCPP_MAX_CHARGERS": "1"})

    async def scenario():
        async with charger(url, "first") as first:
            await first.call(call.Heartbeat())
            with pytest.raises(websockets.InvalidStatus) as over:
                async with charger(url, "second") as second:
                    await second.call(call.Heartbeat())
            return over.value.response.status_code
    assert run(scenario()) == 429


def test_a_broken_chargers_file_stops_the_listener_and_refuses_backends(site):
    site.env["SHOCPP_CHARGERSFILE"] = str(site.root / "chargers.json")
    (site.root / "chargers.json").write_text(json.dumps([{"id": "CP1", "password_hash": "plain"}]))
    done = subprocess.run([str(BIN / "shocpp-listener"), "--print-command"], env=site.env,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "entry 1 (CP1): password_hash is not a scrypt hash made by shocpp-passwd" in done.stderr


def test_the_listener_says_when_chargers_are_not_authenticated(site):
    from shocpp import config
    from shocpp.tools import listener
    assert "chargers are NOT authenticated" in listener.authentication_note(config.from_env(site.env))
    passwd(site, "CP1")
    assert listener.authentication_note(config.from_env(site.env)).startswith("1 chargers allowed")
