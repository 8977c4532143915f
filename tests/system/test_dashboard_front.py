"""misc/shocpp-dashboard-front.cfg: the real HAProxy in front of the real bin/shocpp-dashboard (#24
item 1). 100 clients that send a POST's headers and then nothing hold no dashboard process, are cut
after DASHBOARD_REQUEST_TIMEOUT, and meanwhile an operator's request is answered. Without the front
(the control) the same clients hold every slot websocketd has (SHOCPP_DASHBOARD_MAX_FORKS), and the
operator is refused."""

import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import OPERATOR, ROOT, free_port, haproxy
from test_dashboard import request

CONFIG = ROOT / "misc" / "shocpp-dashboard-front.cfg"
STALLED = 100
FORKS = 4


@pytest.fixture
def front(start_dashboard, site):
    """(the front's URL, the dashboard's own URL); HAProxy in the foreground, stopped at the end."""
    dashboard = start_dashboard({"SHOCPP_DASHBOARD_MAX_FORKS": str(FORKS)})
    port = free_port()
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "DASHBOARD_FRONT_PORT": str(port), "DASHBOARD_REQUEST_TIMEOUT": "2s",
           "DASHBOARD_PORT": dashboard.rpartition(":")[2], "SHOCPP_DASHBOARD_MAX_FORKS": str(FORKS),
           "DASHBOARD_FRONT_RATE": "1000"}
    with haproxy(CONFIG, env, port, site.root / "haproxy.out"):
        yield f"http://127.0.0.1:{port}", dashboard


def stall(url, count, headers=b""):
    """`count` connections that send a POST's headers, promise a body and send none of it."""
    host, port = url.split("//")[1].rsplit(":", 1)
    sockets = []
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(b"POST /api/command HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 10000\r\n" + headers + b"\r\n")
        sockets.append(s)
    return sockets


def api_processes(site):
    """This test's dashboard's CGI processes running now (other dashboards may run on the machine)."""
    mine = f"SHOCPP_RUNDIR={site.run_dir}".encode()
    found = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            found += (b"shocpp.tools.dashboard_api" in Path(f"/proc/{pid}/cmdline").read_bytes()
                      and mine in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"))
        except OSError:
            continue
    return found


def closed_by_server(s):
    """True when the server answered (a 408) or closed the connection."""
    try:
        s.settimeout(5)
        data = s.recv(4096)
    except OSError:
        return True
    return data == b"" or data.startswith(b"HTTP/1.")


def test_stalled_clients_hold_no_process_and_the_operator_is_answered(front, site):
    url, _ = front
    sockets = stall(url, STALLED)
    try:
        time.sleep(0.5)
        assert api_processes(site) == 0
        started = time.monotonic()
        status, _, body = request(url, "/api/status")
        assert status == 200 and "chargers" in body
        assert time.monotonic() - started < 2, "the operator waited for the stalled clients"
        assert api_processes(site) == 0
        time.sleep(2.5)  # past DASHBOARD_REQUEST_TIMEOUT
        assert [closed_by_server(s) for s in sockets] == [True] * STALLED
    finally:
        for s in sockets:
            s.close()


def test_without_the_front_stalled_clients_hold_every_slot(front, site):
    """The control: websocketd alone starts the CGI for each stalled request; the CGI answers without
    reading the body and exits, but websocketd keeps the slot until the body it waits for has come,
    which it never times out: with every slot held the operator is refused."""
    _, dashboard = front
    sockets = stall(dashboard, FORKS)
    try:
        time.sleep(1.5)
        assert api_processes(site) == 0  # credentials first: the CGI did not wait for the body
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(dashboard + "/api/status", timeout=30)
        assert refused.value.code == 429  # websocketd --maxforks: every slot is held
    finally:
        for s in sockets:
            s.close()


def test_without_the_front_a_signed_in_stalled_client_holds_a_process(front, site):
    """The count above can see a process: an operator's POST whose body never comes is read by its CGI."""
    import base64
    _, dashboard = front
    credentials = base64.b64encode(":".join(OPERATOR).encode())
    sockets = stall(dashboard, 1, b"Authorization: Basic " + credentials + b"\r\n")
    try:
        deadline = time.monotonic() + 10
        while api_processes(site) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert api_processes(site) == 1
    finally:
        for s in sockets:
            s.close()


def test_a_client_dripping_its_body_is_cut_at_the_request_timeout(front, site):
    """A slow client, not only a stalled one: a byte every half second never makes a whole request
    within DASHBOARD_REQUEST_TIMEOUT (2 s here), so it gets 408 and never reaches the dashboard."""
    url, _ = front
    (s,) = stall(url, 1)
    try:
        answer = b""
        started = time.monotonic()
        s.settimeout(0.5)
        while not answer and time.monotonic() - started < 10:
            try:
                s.sendall(b" ")
                answer = s.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            assert api_processes(site) == 0
        assert answer.startswith(b"HTTP/1.1 408") and 1.5 < time.monotonic() - started < 4
    finally:
        s.close()
