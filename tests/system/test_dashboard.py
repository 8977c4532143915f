"""The dashboard's API over HTTP (urllib) against the real bin/shocpp-dashboard and listener."""

import asyncio
import base64
import glob
import json
import os
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import BIN, DRIVER, OPERATOR, VIEWER, charger, run
from test_command_end_to_end import Charger
from ocpp.v16 import call


def request(url, path, body=None, credentials=OPERATOR, headers=None):
    """(HTTP status, headers, parsed JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if credentials:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(credentials).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")


def sync(coro_fn, *args):
    """Run a blocking call (urllib) from inside the charger's event loop."""
    return asyncio.get_running_loop().run_in_executor(None, coro_fn, *args)


@pytest.mark.parametrize("path", ["/api/status", "/api/summary?year=2026&month=11", "/api/accounts"])
@pytest.mark.parametrize("credentials", [None, ("operator", "wrong password"), ("nobody", OPERATOR[1]),
                                         (OPERATOR[0], "")])
def test_every_endpoint_needs_an_operator(start_dashboard, path, credentials):
    url = start_dashboard()
    status, headers, body = request(url, path, credentials=credentials)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
    assert set(body) == {"error"}


def test_a_command_needs_an_operator_too(start_dashboard):
    url = start_dashboard()
    status, headers, _ = request(url, "/api/command", {"charger": "x", "action": "Reset", "payload": {"type": "Soft"}},
                                 credentials=None)
    assert status == 401 and "WWW-Authenticate" in headers


def test_without_an_operators_file_everything_is_refused(start_dashboard):
    url = start_dashboard(operator=False)
    status, _, body = request(url, "/api/status")
    assert status == 401 and "shocpp-passwd --operator" in body["error"]


def test_the_page_holds_no_data_and_is_served_to_anyone(start_dashboard):
    url = start_dashboard()
    with urllib.request.urlopen(url + "/", timeout=30) as response:
        page = response.read().decode()
    assert "<title>shocpp dashboard</title>" in page and "/api/login" in page and "/feed" in page and "innerHTML" not in page


def test_status_is_what_shocpp_status_prints(site, start_dashboard, listener_url):
    url = start_dashboard()

    def status_printed():
        done = subprocess.run([str(BIN / "shocpp-status"), "--json"], env=site.env, capture_output=True, timeout=30)
        return json.loads(done.stdout)

    async def body():
        async with charger(listener_url, "wall-1") as cp:
            await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Box"))
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
            return await sync(request, url, "/api/status"), await sync(status_printed)
    (status, headers, answer), printed = run(body())
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    [wall] = answer["chargers"]
    assert (wall["identity"], wall["vendor"], wall["connectors"][0]["status"]) == ("wall-1", "Acme", "Available")
    # the same, but for last_seen: "now" for a connected charger, a moment apart in the two calls
    assert answer["chargers"][0]["last_seen"] <= printed["chargers"][0]["last_seen"]
    assert [{**c, "last_seen": None} for c in answer["chargers"]] == \
        [{**c, "last_seen": None} for c in printed["chargers"]]


def test_status_with_no_charger(start_dashboard):
    assert request(start_dashboard(), "/api/status")[::2] == (200, {"chargers": [], "balancer": None, "problems": [],
                                                                   "time_zone": "UTC"})


def test_summary_is_what_shocpp_summary_prints(site, start_dashboard):
    site.accounting.mkdir()
    line = {"charger": "wall-1", "transaction_id": 10012345, "account": "home", "account_index": 1, "id_tag": "1111",
            "connector_id": 1, "meter_start_wh": 1000, "meter_stop_wh": 8500, "energy_wh": 7500,
            "start_time": "2026-11-01T10:00:00Z", "stop_time": "2026-11-01T12:00:00Z", "reason": "Local"}
    later = {**line, "transaction_id": 10012346, "meter_start_wh": 8500, "meter_stop_wh": 9500, "energy_wh": 1000,
             "start_time": "2026-11-20T10:00:00Z", "stop_time": "2026-11-20T11:00:00Z"}
    (site.accounting / "2026-11.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(later) + "\n")
    site.env["SHOCPP_TARIFFSFILE"] = str(site.root / "tariffs.json")  # not there yet: no prices
    url = start_dashboard()

    def summary_and_printed():
        status, _, answer = request(url, "/api/summary?year=2026&month=11")
        printed = json.loads(subprocess.run([str(BIN / "shocpp-summary"), "2026", "11", "--format", "json"],
                                            env=site.env, capture_output=True, timeout=30).stdout)
        assert status == 200 and answer.pop("costs_problem") is None and answer == printed
        return [(a["account"], a["wh"], a["cost"], a["currency"]) for a in answer["accounts"]], \
            (answer["accounts_total"]["cost"], answer["accounts_total"]["currency"])

    assert summary_and_printed() == ([("home", 8500, None, None)], (None, None))
    # with prices, read at each request: the price changes on the 15th; 7.5 x 0.34 + 1 x 0.36 = 2.55 + 0.36
    (site.root / "tariffs.json").write_text(json.dumps([
        {"from": "2026-01-01", "price_per_kwh": "0.3400", "currency": "EUR"},
        {"from": "2026-11-15", "price_per_kwh": "0.3600", "currency": "EUR"}]))
    assert summary_and_printed() == ([("home", 8500, "2.91", "EUR")], ("2.91", "EUR"))
    # a broken tariffs.json is named, the energy shown all the same
    (site.root / "tariffs.json").write_text("[{")
    status, _, answer = request(url, "/api/summary?year=2026&month=11")
    assert status == 200 and answer["accounts"][0]["wh"] == 8500 and answer["costs_problem"].startswith("no costs: ")
    assert request(url, "/api/summary?year=2026")[0] == 400
    assert request(url, "/api/summary?year=2026&month=13")[0] == 400


def test_accounts(start_dashboard):
    status, _, answer = request(start_dashboard(), "/api/accounts")
    assert status == 200
    assert answer["accounts"][:2] == [{"account": "home", "id_tag": "1111"}, {"account": "company-x", "id_tag": "3333"}]


def test_a_command_reaches_the_charger_and_its_answer_comes_back(start_dashboard, listener_url):
    url = start_dashboard()

    async def body():
        async with charger(listener_url, "wall-1", Charger) as cp:
            await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Box"))
            answer = await sync(request, url, "/api/command",
                                {"charger": "wall-1", "action": "Reset", "payload": {"type": "Soft"}},
                                OPERATOR, {"Origin": url})
            return answer, cp.seen
    (status, _, answer), seen = run(body())
    assert (status, answer) == (200, {"answer": {"status": "Accepted"}, "charger": "wall-1"})
    assert seen == [("Reset", {"type": "Soft"})]


def test_a_post_from_a_foreign_origin_is_refused_and_nothing_is_sent(start_dashboard, listener_url):
    url = start_dashboard()

    async def body():
        async with charger(listener_url, "wall-1", Charger) as cp:
            await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Box"))
            results = []
            for origin in ("http://evil.example", url.replace("127.0.0.1", "localhost"), "null", "https" + url[4:]):
                results.append(await sync(request, url, "/api/command",
                                          {"charger": "wall-1", "action": "Reset", "payload": {"type": "Soft"}},
                                          OPERATOR, {"Origin": origin}))
            return results, cp.seen
    results, seen = run(body())
    assert [r[0] for r in results] == [403] * 4 and seen == []


@pytest.mark.parametrize("body, status, words", [
    ({"charger": "wall-1", "action": "Reset", "payload": {"type": "Bad"}}, 400, "nothing was sent"),
    ({"charger": "wall-1", "action": "NoSuchAction", "payload": {}}, 400, "NoSuchAction"),
    ({"charger": "elsewhere", "action": "Reset", "payload": {"type": "Soft"}}, 404, "not connected"),
    ({"charger": "wall-1"}, 400, "action"),
    ({"charger": "wall-1", "action": "ClearCache", "payload": {}, "timeout": 1}, 504, "no answer"),
])
def test_commands_refused_as_shocpp_command_refuses_them(start_dashboard, listener_url, body, status, words):
    url = start_dashboard()

    async def scenario():
        async with charger(listener_url, "wall-1", Charger) as cp:
            await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Box"))
            return await sync(request, url, "/api/command", body), cp.seen
    (code, _, answer), seen = run(scenario())
    assert code == status and words in answer["error"]
    assert seen == ([] if status != 504 else [("ClearCache", {})])


def test_no_charger_connected(start_dashboard):
    code, _, answer = request(start_dashboard(), "/api/command", {"action": "Reset", "payload": {"type": "Soft"}})
    assert code == 404 and answer["error"] == "no charger is connected"


def test_get_on_command_and_post_on_status_are_refused(start_dashboard):
    url = start_dashboard()
    assert request(url, "/api/command")[0] == 405
    assert request(url, "/api/status", {})[0] == 405


def test_it_refuses_to_listen_beyond_loopback_without_operators(site):
    env = {**site.env, "DASHBOARD_ADDRESS": "0.0.0.0", "DASHBOARD_PORT": "1",
           "SHOCPP_OPERATORSFILE": str(site.root / "none.json")}
    done = subprocess.run([str(BIN / "shocpp-dashboard")], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "refusing to listen on 0.0.0.0" in done.stderr


def test_the_cgi_directory_is_removed_when_it_stops(site):
    import signal
    from conftest import free_port, wait_for_port
    port = free_port()
    env = {**site.env, "DASHBOARD_PORT": str(port), "SHOCPP_OPERATORSFILE": str(site.root / "none.json")}
    before = set(glob.glob("/tmp/shocpp-dashboard-*"))
    proc = subprocess.Popen([str(BIN / "shocpp-dashboard")], env=env, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for_port(port, proc)
        made = set(glob.glob("/tmp/shocpp-dashboard-*")) - before
        assert len(made) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        proc.stderr.close()
    assert not any(map(os.path.exists, made))


# every endpoint over HTTP: each role's allowed and refused requests (a well-formed request each)
ROLES = {"operator": OPERATOR, "viewer": VIEWER, "driver": DRIVER, "nobody": None, "wrong": (OPERATOR[0], "x" * 20)}
EVERY_ENDPOINT = [
    ("/api/me", None, {"operator": 200, "viewer": 200, "driver": 200}),
    ("/api/status", None, {"operator": 200, "viewer": 200, "driver": 200}),
    ("/api/summary?year=2026&month=11", None, {"operator": 200, "viewer": 200, "driver": 200}),
    ("/api/accounts", None, {"operator": 200, "viewer": 200, "driver": 200}),
    ("/api/tags", None, {"operator": 200, "viewer": 403, "driver": 200}),
    ("/api/tags", {"account": "nobody's", "id_tag": "AB"}, {"operator": 404, "viewer": 403, "driver": 403}),
    ("/api/mode", {"charger": "garage", "mode": "pv"}, {"operator": 200, "viewer": 403, "driver": 403}),
    ("/api/command", {"charger": "garage", "action": "Reset", "payload": {"type": "Soft"}},
     {"operator": 404, "viewer": 403, "driver": 403}),
    ("/api/command", {"charger": "garage", "action": "RemoteStartTransaction", "payload": {"idTag": "3333"}},
     {"operator": 404, "viewer": 403, "driver": 403}),
    ("/api/statement?account=home&year=2026&month=11&format=html", None,
     {"operator": 200, "viewer": 403, "driver": 200}),
    ("/api/statement?account=company-x&year=2026&month=11&format=csv", None,
     {"operator": 200, "viewer": 403, "driver": 403}),
    ("/api/samples?charger=garage&connector=1", None, {"operator": 200, "viewer": 200, "driver": 403}),
    ("/api/logout", {}, {"operator": 200, "viewer": 200, "driver": 200}),
]


def raw(url, path, body=None, credentials=None, headers=None):
    """(HTTP status, headers, bytes) of any answer."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers=dict(headers or {}))
    if credentials:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(credentials).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_each_role_s_allowed_and_refused_requests_over_http(site, start_dashboard):
    site.accounting.mkdir()
    url = start_dashboard({"SHOCPP_DASHBOARD_LOGIN_RATE": "1000"}, roles=True)  # 13 wrong passwords at once
    found, wanted = {}, {}
    for path, body, statuses in EVERY_ENDPOINT:
        for role, credentials in ROLES.items():
            status, headers, data = raw(url, path, body, credentials)
            found[(path, json.dumps(body), role)] = status
            wanted[(path, json.dumps(body), role)] = statuses.get(role, 401)
            if status in (401, 403):  # a refusal tells nothing but why
                assert set(json.loads(data)) == {"error"}
    assert found == wanted


def test_a_browser_signs_in_once_and_its_cookie_serves_every_request_and_the_feed(site, start_dashboard):
    import websockets
    url = start_dashboard(roles=True)
    status, headers, data = raw(url, "/api/login", {"name": DRIVER[0], "password": DRIVER[1]},
                                headers={"Content-Type": "application/json", "Origin": url})
    assert status == 200 and json.loads(data) == {"name": "bob", "role": "driver", "account": "home"}
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=43200" in cookie
    session = cookie.split(";")[0]
    status, _, data = raw(url, "/api/accounts", headers={"Cookie": session})
    assert status == 200 and json.loads(data) == {"accounts": [{"account": "home", "id_tag": "1111"}]}
    assert raw(url, "/api/tags", {"account": "home", "id_tag": "AB"}, headers={"Cookie": session})[0] == 403
    # the page's own requests get no browser prompt; a wrong password no cookie
    status, headers, _ = raw(url, "/api/me", headers={"X-Shocpp-Page": "1"})
    assert status == 401 and "WWW-Authenticate" not in headers
    status, headers, _ = raw(url, "/api/login", {"name": DRIVER[0], "password": "wrong" * 4})
    assert status == 401 and "Set-Cookie" not in headers

    async def feed(headers, count=1):
        async with websockets.connect(url.replace("http", "ws") + "/feed",
                                      additional_headers={"Origin": url, **headers}) as ws:
            return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(count)]

    hello, shown = asyncio.run(feed({"Cookie": session}, 2))
    assert hello == {"type": "hello", "me": {"name": "bob", "role": "driver", "account": "home"}}
    assert shown["type"] == "site" and shown["site"]["chargers"] == []
    assert asyncio.run(feed({})) == [{"type": "signed_out"}]
    assert asyncio.run(feed({"Cookie": session[:-2]})) == [{"type": "signed_out"}]
