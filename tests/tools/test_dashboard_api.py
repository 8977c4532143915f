"""The dashboard's API in-process: people and roles, sign-in and its cookie, the Origin rule, every
endpoint's allowed and refused requests by role, the CGI answer, the wrappers."""

import base64
import io
import json
import os
from datetime import datetime, timezone

import pytest

from shocpp import balance_control, operators_file, samples, unknown_tags
from shocpp.protocol import authentication
from shocpp.tools import dashboard, dashboard_api, dashboard_auth, dashboard_server, dashboard_views, passwd

PASSWORD = "correct horse battery"


def basic(user, password=PASSWORD):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def env(tmp_path):
    return {"SHOCPP_OPERATORSFILE": str(tmp_path / "operators.json"), "SHOCPP_RUNDIR": str(tmp_path / "run"),
            "SHOCPP_ACCOUNTINGDIR": str(tmp_path / "accounting"), "SHOCPP_TAGSFILE": str(tmp_path / "tags.json")}


def add(env, name, *args):
    assert passwd.main(["--operator", name, "--password-stdin", *args], env, io.StringIO(),
                       io.StringIO(PASSWORD + "\n")) == 0


@pytest.fixture
def people(site):
    env = {**site.env, "SHOCPP_OPERATORSFILE": str(site.root / "operators.json")}
    add(env, "alice")
    add(env, "ha", "--role", "viewer")
    add(env, "bob", "--role", "driver", "--account", "home")
    return env


@pytest.fixture
def api(people):
    return dashboard_api.Dashboard(people)


def ask(api, endpoint, method="GET", who="alice", query="", body=None, **fields):
    authorization = basic(who) if who else None
    req = dashboard_api.Request(endpoint, method, query, authorization, **fields)
    person, refused = api.admit(req)
    if refused is not None:
        return refused
    return api.serve(req, person, json.dumps(body).encode() if body is not None else b"")


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


def test_roles_are_stored_with_the_driver_s_account(env, tmp_path):
    add(env, "alice")
    add(env, "ha", "--role", "viewer")
    add(env, "bob", "--role", "driver", "--account", "home")
    people = operators_file.read_people(tmp_path / "operators.json")
    assert [(p.name, p.role, p.account) for p in people.values()] == [
        ("alice", "operator", None), ("bob", "driver", "home"), ("ha", "viewer", None)]
    for wrong in (["--role", "driver"], ["--account", "home"], ["--role", "viewer", "--account", "home"]):
        with pytest.raises(SystemExit) as e:
            passwd.parse_args(["--operator", "x", *wrong])
        assert e.value.code == 2


@pytest.mark.parametrize("entry, problem", [
    ({"role": "boss"}, "role 'boss' is not one of operator, viewer, driver"),
    ({"role": "driver"}, "a driver needs an account"),
    ({"role": "viewer", "account": "home"}, "only a driver has one"),
    ({"colour": "red"}, "unknown field 'colour'"),
])
def test_a_broken_operators_file_names_its_problem(tmp_path, entry, problem):
    good = {"id": "x", "password_hash": authentication.UNKNOWN_HASH}
    with pytest.raises(operators_file.OperatorsError, match=problem):
        operators_file.parse_people(json.dumps([{**good, **entry}]))


def test_a_file_without_roles_is_of_operators(tmp_path):
    text = json.dumps([{"id": "old", "password_hash": authentication.UNKNOWN_HASH}])
    assert operators_file.parse_people(text)["old"].role == "operator"


@pytest.mark.parametrize("origin, host, scheme, same", [
    (None, "127.0.0.1:8081", "http", True),
    ("http://127.0.0.1:8081", "127.0.0.1:8081", "http", True),
    ("http://127.0.0.1:8081", "127.0.0.1:8081", "https", False),
    ("http://localhost:8081", "127.0.0.1:8081", "http", False),
    ("http://127.0.0.1:8082", "127.0.0.1:8081", "http", False),
    ("null", "127.0.0.1:8081", "http", False),
    ("http://127.0.0.1:8081", "", "http", False),
])
def test_same_origin(env, origin, host, scheme, same):
    api = dashboard_api.Dashboard({**env, dashboard_api.SCHEME: scheme}, b"k")
    assert api.same_origin(dashboard_api.Request("status", "POST", origin=origin, host=host)) is same


def test_the_cgi_answer_has_a_status_line_and_json():
    raw = dashboard_api.Answer(401, {"error": "x\u202e"}, ["WWW-Authenticate: Basic"]).cgi()
    head, body = raw.split(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"Status: 401 Unauthorized" and b"WWW-Authenticate: Basic" in head
    assert json.loads(body) == {"error": "x\u202e"} and b"\\u202e" in body


def test_no_operators_file_no_answer(env):
    answer = ask(dashboard_api.Dashboard(env, b"k"), "status")
    assert answer.status == 401 and "shocpp-passwd --operator" in answer.body["error"]


def test_signing_in_gives_an_http_only_strict_cookie_that_holds_until_the_person_changes(api, people):
    answer = ask(api, "login", "POST", who=None, body={"name": "bob", "password": PASSWORD})
    assert answer.status == 200 and answer.body == {"name": "bob", "role": "driver", "account": "home"}
    cookie = answer.headers[0]
    assert cookie.startswith("Set-Cookie: shocpp_session=")
    assert cookie.endswith("; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200")
    value = cookie.split("=", 1)[1].split(";")[0]
    me = ask(api, "me", who=None, cookie=f"other=1; shocpp_session={value}")
    assert (me.status, me.body["name"]) == (200, "bob")
    # no password is checked again for it; a forged or expired one is nobody
    assert api.gate.session(value[:-1] + ("0" if value[-1] != "0" else "1")) is None
    api.gate.clock = lambda: 4_000_000_000
    assert api.gate.session(value) is None
    api.gate.clock = __import__("time").time
    assert api.gate.session(value).name == "bob"
    # a new password ends the session
    add(people, "bob", "--role", "driver", "--account", "home")
    assert api.gate.session(value) is None
    assert ask(api, "login", "POST", who=None, body={"name": "bob", "password": "wrong"}).status == 401
    # the page asks without a browser prompt; a script gets the challenge
    assert ask(api, "me", who=None, page=True).headers == []
    assert ask(api, "me", who=None).headers == [f"WWW-Authenticate: {dashboard_api.REALM}"]


def test_https_cookies_are_secure(people):
    api = dashboard_api.Dashboard({**people, dashboard_api.SCHEME: "https"})
    answer = ask(api, "login", "POST", who=None, body={"name": "alice", "password": PASSWORD})
    assert answer.headers[0].endswith("; Secure")


# every endpoint, every role: the status of a request that is well formed
ROLE_TABLE = [
    ("me", "GET", "", None, {"alice": 200, "ha": 200, "bob": 200, None: 401}),
    ("status", "GET", "", None, {"alice": 200, "ha": 200, "bob": 200, None: 401}),
    ("summary", "GET", "year=2026&month=11", None, {"alice": 200, "ha": 200, "bob": 200, None: 401}),
    ("accounts", "GET", "", None, {"alice": 200, "ha": 200, "bob": 200, None: 401}),
    ("tags", "GET", "", None, {"alice": 200, "ha": 403, "bob": 200, None: 401}),
    ("tags", "POST", "", {"account": "guest", "id_tag": "X"}, {"alice": 404, "ha": 403, "bob": 403, None: 401}),
    ("mode", "POST", "", {"charger": "garage", "mode": "pv"}, {"alice": 200, "ha": 403, "bob": 403, None: 401}),
    ("command", "POST", "", {"charger": "garage", "action": "Reset", "payload": {"type": "Soft"}},
     {"alice": 404, "ha": 403, "bob": 403, None: 401}),
    ("statement", "GET", "account=home&year=2026&month=11&format=csv", None,
     {"alice": 200, "ha": 403, "bob": 200, None: 401}),
    ("statement", "GET", "account=company-x&year=2026&month=11&format=csv", None,
     {"alice": 200, "ha": 403, "bob": 403, None: 401}),
    ("samples", "GET", "charger=garage&connector=1", None, {"alice": 200, "ha": 200, "bob": 403, None: 401}),
    ("logout", "POST", "", {}, {"alice": 200, "ha": 200, "bob": 200, None: 401}),
]


@pytest.mark.parametrize("endpoint, method, query, body, statuses", ROLE_TABLE)
def test_each_role_s_allowed_and_refused_requests(api, site, endpoint, method, query, body, statuses):
    site.accounting.mkdir(exist_ok=True)
    for who, status in statuses.items():
        answer = ask(api, endpoint, method, who, query, body)
        assert answer.status == status, (who, answer.body)


def test_a_wrong_method_or_endpoint(api):
    assert ask(api, "status", "POST").status == 405 and ask(api, "command").status == 405
    assert ask(api, "nothing").status == 404


def test_a_viewer_never_gets_a_tag_and_a_driver_nothing_of_another_account():
    shown = {"chargers": [{"identity": "g", "connectors": (  # a tuple, as asdict() leaves it
        {"connector_id": 1, "session": {"account": "home", "id_tag": "1111", "energy_wh": 5}},
        {"connector_id": 2, "session": {"account": "company-x", "id_tag": "3333", "energy_wh": 7}})}],
        "balancer": None, "problems": [], "time_zone": "UTC"}
    viewer = operators_file.Person("ha", "", "viewer", None)
    driver = operators_file.Person("bob", "", "driver", "home")
    assert "1111" not in json.dumps(dashboard_views.site_for(viewer, shown))
    mine = dashboard_views.site_for(driver, shown)["chargers"][0]["connectors"]
    assert mine[0]["session"]["id_tag"] == "1111"
    assert mine[1] == {"connector_id": 2, "session": None, "in_use": True}
    summary = {"from": "2026-11", "to": "2026-11", "accounts": [{"account": "home"}, {"account": "company-x"}],
               "sessions": [{"account": "company-x", "id_tag": "3333"}], "review": [{"account": "company-x"}],
               "unknown_tags": {"wh": 5}, "grand_total": {"wh": 9}}
    assert dashboard_views.summary_for(driver, summary) == {
        "from": "2026-11", "to": "2026-11", "account_filter": "home", "accounts": [{"account": "home"}],
        "sessions": [], "review": [], "to_review": 0}
    assert "3333" not in json.dumps(dashboard_views.summary_for(viewer, summary))


def test_accounts_by_role(api):
    assert ask(api, "accounts").body["accounts"][0] == {"account": "home", "id_tag": "1111"}
    assert ask(api, "accounts", who="ha").body["accounts"] == [
        {"account": "home"}, {"account": "company-x"}, {"account": "last"}]
    assert ask(api, "accounts", who="bob").body["accounts"] == [{"account": "home", "id_tag": "1111"}]


def test_a_remote_start_with_an_unknown_tag_is_refused_as_the_command_line_refuses_it(api, chargers):
    chargers.connect("garage", 11)
    answer = ask(api, "command", "POST", body={"charger": "garage", "action": "RemoteStartTransaction",
                                              "payload": {"idTag": "NOBODY"}})
    assert answer.status == 400 and "tag 'NOBODY' is not in tags.json" in answer.body["error"]


def test_a_driver_starts_with_its_own_tag_only_and_stops_its_own_sessions_only(api, chargers, monkeypatch):
    from shocpp.tools import command as command_tool
    chargers.connect("garage", 11)
    sent = []
    monkeypatch.setattr(command_tool, "send", lambda run, conn, action, payload, timeout: sent.append(
        (action, payload)) or {"status": "result", "payload": {"status": "Accepted"}})
    start = {"charger": "garage", "action": "RemoteStartTransaction", "payload": {"connectorId": 1}}
    assert ask(api, "command", "POST", "bob", body=start).status == 200
    other = {**start, "payload": {"connectorId": 1, "idTag": "3333"}}
    refused = ask(api, "command", "POST", "bob", body=other)
    assert refused.status == 403 and "own account" in refused.body["error"]
    stop = {"charger": "garage", "action": "RemoteStopTransaction", "payload": {"transactionId": 20000001}}
    assert ask(api, "command", "POST", "bob", body=stop).status == 403
    assert sent == [("RemoteStartTransaction", {"connectorId": 1, "idTag": "1111"})]


def test_mode_goes_through_the_balancer_s_interface(api, site):
    answer = ask(api, "mode", "POST", body={"charger": "garage", "mode": "minpv"})
    assert answer.status == 200 and answer.body["answer"] == "garage: mode minpv set; shocpp-balance is not running"
    assert balance_control.controls(site.run_dir) == {"garage": {"mode": "minpv", "max_a": None}}
    assert ask(api, "mode", "POST", body={"charger": "garage", "mode": "turbo"}).status == 400
    assert ask(api, "mode", "POST", body={"charger": "garage", "mode": None}).status == 200
    assert balance_control.controls(site.run_dir) == {}


def test_a_tag_added_to_an_account_is_validated_written_whole_and_kept(api, site):
    now = datetime.now(timezone.utc)
    unknown_tags.note(site.run_dir, "CAFE01", "garage", now, unknown_tags.REFUSED)
    listed = ask(api, "tags").body
    assert listed["accounts"][0] == {"account": "home", "tags": ["1111", "2222"]}
    assert [(u["id_tag"], u["charger"], u["outcome"], u["times"]) for u in listed["unknown"]] == [
        ("CAFE01", "garage", "refused", 1)]
    assert ask(api, "tags", "POST", body={"account": "home", "id_tag": "3333"}).status == 409
    assert ask(api, "tags", "POST", body={"account": "home", "id_tag": "X" * 21}).status == 400
    answer = ask(api, "tags", "POST", body={"account": "home", "id_tag": "CAFE01"})
    assert answer.status == 200 and answer.body["tags"] == ["1111", "2222", "CAFE01"]
    written = json.loads(site.tags_file.read_text())
    assert written[0] == {"index": 1, "account": "home", "ids": ["1111", "2222", "CAFE01"]}
    assert (site.run_dir / "last-good" / "tags.json").read_text() == site.tags_file.read_text()
    assert ask(api, "tags").body["unknown"] == []
    assert ask(api, "tags", who="bob").body == {"accounts": [{"account": "home", "tags": ["1111", "2222", "CAFE01"]}],
                                                "unknown": []}


def test_unknown_cards_are_bounded_and_seen_in_frames():
    from shocpp.protocol.tags import parse
    tags = parse(json.dumps([{"index": 1, "account": "a", "ids": ["1"]}]))
    assert unknown_tags.met('[2,"1","Authorize",{"idTag":"X"}]', tags) is None  # 1.6: the backend's SaveRefusal
    assert unknown_tags.met('[2,"1","StartTransaction",{"idTag":"Y","connectorId":1}]', tags) == (
        "Y", "billed to unknown")
    assert unknown_tags.met('[2,"1","Authorize",{"idToken":{"idToken":"Z","type":"ISO14443"}}]', tags) == (
        "Z", "refused")
    assert unknown_tags.met('[2,"1","TransactionEvent",{"eventType":"Started","idToken":{"idToken":"W",'
                            '"type":"ISO14443"}}]', tags) == ("W", "billed to unknown")
    assert unknown_tags.met('[2,"1","TransactionEvent",{"eventType":"Updated","idToken":{"idToken":"W",'
                            '"type":"ISO14443"}}]', tags) is None
    assert unknown_tags.met('[2,"1","Authorize",{"idTag":"1"}]', tags) is None
    assert unknown_tags.met('[2,"1","Heartbeat",{}]', tags) is None


def test_power_samples_are_bounded_and_start_anew_with_a_transaction(tmp_path):
    kept = None
    for n in range(samples.MAX_SAMPLES + 1):
        kept = samples.add(tmp_path, "g", 1, {"t": f"t{n}", "w": n, "transaction_id": 5}, kept)
    assert len(kept) == samples.MAX_SAMPLES // 2 + 1 and kept[0]["w"] == 0 and kept[-1]["w"] == samples.MAX_SAMPLES
    assert samples.read(tmp_path, "g", 1) == kept
    assert samples.add(tmp_path, "g", 1, {"t": "x", "w": 1, "transaction_id": 6}) == [
        {"t": "x", "w": 1, "transaction_id": 6}]


def test_samples_of_the_running_session(api, site, chargers):
    chargers.connect("garage", 11)
    samples.add(site.run_dir, "garage", 1, {"t": "2026-11-21T09:00:00Z", "w": 7000.0, "transaction_id": None})
    answer = ask(api, "samples", query="charger=garage&connector=1")
    assert answer.body == {"charger": "garage", "connector": 1, "transaction_id": None,
                           "samples": [["2026-11-21T09:00:00Z", 7000.0]]}


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                            ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)])
def test_loopback(host, loopback):
    assert dashboard.is_loopback(host) is loopback


def test_the_wrappers_carry_the_port_and_secret_and_the_feed_the_settings(tmp_path):
    dashboard.write_cgi(tmp_path, {"SHOCPP_RUNDIR": "/x y/run", "PATH": "/bin", "OTHER": "no"}, "https", 4321,
                        "ab12", "/py")
    text = (tmp_path / "api" / "status").read_text()
    assert "/dev/tcp/127.0.0.1/4321" in text and "'ab12' status" in text and "SHOCPP_RUNDIR" not in text
    feed = (tmp_path / "feed").read_text()
    assert "export SHOCPP_RUNDIR='/x y/run'\n" in feed and "export SHOCPP_DASHBOARD_SCHEME=https\n" in feed
    assert "OTHER" not in feed and feed.endswith("exec /py -m shocpp.tools.dashboard_feed\n")
    assert sorted(p.name for p in (tmp_path / "api").iterdir()) == sorted(dashboard_api.ENDPOINTS)


def test_the_server_drops_a_connection_without_the_secret_and_reads_no_refused_body(api):
    import socket
    server = dashboard_server.Server(api, b"s3cret")
    import threading
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        def exchange(text):
            with socket.create_connection(server.server_address) as s:
                s.sendall(text.encode())
                return b"".join(iter(lambda: s.recv(65536), b""))
        assert exchange("wrong\nstatus\nm=GET\n\n") == b""
        refused = exchange("s3cret\nmode\nm=POST\nl=40\na=" + basic("ha") + "\n\n")
        assert refused.startswith(b"Status: 403 Forbidden\r\n")
        answer = exchange("s3cret\nme\nm=GET\na=" + basic("alice") + "\n\n")
        assert answer.startswith(b"Status: 200 OK\r\n") and answer.endswith(b'"role": "operator", "account": null}')
        body = json.dumps({"charger": "g", "mode": "pv"})
        with socket.create_connection(server.server_address) as s:
            s.sendall(f"s3cret\nmode\nm=POST\nl={len(body)}\na={basic('alice')}\n\n".encode())
            assert s.recv(9) == b"continue\n"
            s.sendall(body.encode())
            assert b"".join(iter(lambda: s.recv(65536), b"")).startswith(b"Status: 200 OK")
    finally:
        server.shutdown()
        server.server_close()


def test_the_feed_says_signed_out_without_a_session(api, people, site):
    out = io.StringIO()
    r, w = os.pipe()
    try:
        from shocpp.tools import dashboard_feed
        with os.fdopen(r) as stdin:
            assert dashboard_feed.run({**people, "HTTP_COOKIE": "shocpp_session=forged.x"}, stdin, out) == 0
    finally:
        os.close(w)
    assert out.getvalue() == '{"type":"signed_out"}\n'


def test_the_cookie_value_is_found_among_others():
    assert dashboard_auth.cookie_value("a=1; shocpp_session=v.w; b=2") == "v.w"
    assert dashboard_auth.cookie_value(None) is None


def test_the_limit_buttons_set_the_balancers_maximum_while_it_balances_the_charger(api, site, chargers, monkeypatch):
    from shocpp.tools import command as command_tool
    chargers.connect("a", 11)
    balance_control.write(site.run_dir, balance_control.STATUS, {
        "updated_at": datetime.now(timezone.utc).isoformat(), "pid": os.getpid(), "interval_s": 30,
        "grid_limit_a": 32, "grid_power_w": None, "surplus_w": None,
        "chargers": {"a": {"mode": "fast", "max_a": 16, "connectors": {}}}})
    monkeypatch.setattr(command_tool, "send", lambda *a: pytest.fail("a profile was sent around the balancer"))
    profile = {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}}}
    answer = ask(api, "command", "POST", body={"charger": "a", "action": "SetChargingProfile", "payload": profile})
    assert (answer.status, answer.body) == (200, {"charger": "a", "answer": {
        "status": "Accepted", "balancer": "shocpp-balance balances a: a maximum of 10 A set, applied at its next round"}})
    assert balance_control.controls(site.run_dir) == {"a": {"mode": None, "max_a": 10}}
    status = ask(api, "status").body
    assert status["balancer"]["grid_limit_a"] == 32 and status["balancer"]["chargers"]["a"]["mode"] == "fast"


def test_the_feed_pushes_a_change_of_the_run_directory_and_ends_with_the_page(api, people, chargers):
    import threading
    import time
    from shocpp.tools import dashboard_feed
    person = api.gate.people()["bob"]
    cookie = f"shocpp_session={api.gate.cookie_for(person)}"
    lines = []

    class Out:
        def write(self, text):
            lines.extend(json.loads(line) for line in text.splitlines())

        def flush(self):
            pass

    r, w = os.pipe()
    with os.fdopen(r) as stdin:
        done = []
        thread = threading.Thread(target=lambda: done.append(dashboard_feed.run({**people, "HTTP_COOKIE": cookie},
                                                                               stdin, Out())))
        thread.start()
        deadline = time.monotonic() + 10
        while len(lines) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lines[0] == {"type": "hello", "me": {"name": "bob", "role": "driver", "account": "home"}}
        assert lines[1]["type"] == "site" and lines[1]["site"]["chargers"] == []
        chargers.connect("garage", 11)
        while len(lines) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [c["identity"] for c in lines[-1]["site"]["chargers"]] == ["garage"]
        os.close(w)
        thread.join(5)
    assert done == [0]
