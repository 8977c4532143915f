"""The dashboard under a client that never signs in (#24 item 1).

What one API request costs when its password is wrong (the CGI process as websocketd starts it:
Python's start and one scrypt) and when it is refused over SHOCPP_DASHBOARD_LOGIN_RATE (Python's
start, no scrypt): CPU time of the process, from getrusage. What 100 connections that send a POST's
headers and no body hold: straight at bin/shocpp-dashboard (websocketd, SHOCPP_DASHBOARD_MAX_FORKS
at its default) and behind misc/shocpp-dashboard-front.cfg (the real HAProxy); and how long an
operator's GET /api/status takes behind the front meanwhile.
"""

import base64
import contextlib
import os
import resource
import shutil
import socket
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from shocpp import chargers_file
from shocpp.tools import dashboard as dashboard_tool
from shocpp import config as config_module

from .common import (BIN, ROOT, Section, figure, make_site, python, serving, temporary_directory, wrapper_env)

STALLED = 100
OPERATOR = ("alice", "a long enough password")
FRONT = ROOT / "misc" / "shocpp-dashboard-front.cfg"


def run(quick=False):
    count = 3 if quick else 20
    with temporary_directory() as directory:
        env = make_site(directory)
        env["SHOCPP_OPERATORSFILE"] = str(Path(directory) / "operators.json")
        chargers_file.save(Path(directory) / "operators.json", {OPERATOR[0]: chargers_file.new_hash(OPERATOR[1])})
        wrong = cgi_cpu(env, count, "wrong password")
        refused = cgi_cpu(env, count, "wrong password", over_rate=True)
        held = stalled(env, directory)
    forks = config_module.limits({}).dashboard_max_forks
    figures = [figure("a wrong password: CPU of its request", wrong, "ms"),
               figure("over SHOCPP_DASHBOARD_LOGIN_RATE: CPU of its refusal", refused, "ms"),
               figure("wrong passwords both cores can answer", [2000 / ms for ms in wrong], "/s"),
               figure("refusals over the rate both cores can answer", [2000 / ms for ms in refused], "/s"),
               figure(f"{STALLED} stalled POSTs straight at websocketd: processes held", [held["direct"]], ""),
                              figure(f"{STALLED} stalled POSTs behind the front: processes held", [held["front"]], ""),
               figure(f"operator's GET /api/status behind the front, {STALLED} stalled", held["answer_ms"], "ms")]
    notes = [f"Straight at websocketd the CGI of a stalled request now answers 401 or 503 without reading the "
             f"body and exits (no process is held), but websocketd keeps its slot until the body it waits for has "
             f"come, and never times that out: with every slot (SHOCPP_DASHBOARD_MAX_FORKS, {forks}) held, an "
             f"operator's request got {held['direct_answer']}. Behind the front none reaches websocketd, HAProxy cuts them after DASHBOARD_REQUEST_TIMEOUT (10 s) with a 408, and "
             f"the operator is answered as usual. The login rate bounds the CPU that requests of every client "
             f"together can take: at the default of 5 a second about {5 * statistics.median(wrong) / 10:.0f} % "
             f"of one core; beyond it a refusal costs only Python's start."]
    return Section("Dashboard: clients that never sign in", __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
                   figures, notes)


def cgi_cpu(env, count, password, over_rate=False):
    """CPU ms of each of `count` runs of the CGI program for GET /api/status with `password`."""
    run_dir = config_module.from_env(env).run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    cgi = {**wrapper_env(env), "REQUEST_METHOD": "GET", "SHOCPP_DASHBOARD_LOGIN_RATE": "1" if over_rate else "10000", "GATEWAY_INTERFACE": "CGI/1.1",
           "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{OPERATOR[0]}:{password}".encode()).decode()}
    runs = []
    for _ in range(count):
        if over_rate:
            (run_dir / "dashboard-rate").write_text(f"0 {time.time():.6f} 1\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([python(), "-S", "-c", dashboard_tool.STARTUP, "status"], env=cgi,  # as its wrapper
                              stdin=subprocess.DEVNULL, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        status = done.stdout.split(b"\r\n", 1)[0]
        if status != (b"Status: 503 Service Unavailable" if over_rate else b"Status: 401 Unauthorized"):
            raise RuntimeError(f"unexpected answer: {done.stdout[:200]!r} {done.stderr[-500:]!r}")
        runs.append(1000 * (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime))
    return runs


def stall(port, count):
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"POST /api/command HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n")
        sockets.append(s)
    return sockets


def api_processes(env):
    """(count, RSS in MB) of this benchmark's dashboard's CGI processes running now."""
    mine = f"SHOCPP_RUNDIR={env['SHOCPP_RUNDIR']}".encode()
    count, rss = 0, 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if (b"shocpp.tools.dashboard_api" in Path(f"/proc/{pid}/cmdline").read_bytes()
                    and mine in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")):
                count += 1
                rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return count, rss / 1e6


def stalled(env, directory):
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/local/sbin:/usr/sbin")
    found = {}

    def dashboard(port):
        return [str(BIN / "shocpp-dashboard")], {**env, "DASHBOARD_ADDRESS": "127.0.0.1", "DASHBOARD_PORT": str(port)}

    with serving(dashboard, directory) as (dash_port, _):
        sockets = stall(dash_port, STALLED)
        time.sleep(2)
        found["direct"], found["direct_mb"] = api_processes(env)
        found["direct_answer"] = answer_status(dash_port)
        close(sockets)
        time.sleep(1)

        def front(port):
            return [haproxy, "-db", "-f", str(FRONT)], {"PATH": "/usr/sbin:/usr/bin:/bin", "DASHBOARD_FRONT_PORT": str(port),
                                                       "DASHBOARD_PORT": str(dash_port), "DASHBOARD_FRONT_RATE": "1000"}

        with serving(front, directory) as (front_port, _):
            sockets = stall(front_port, STALLED)
            time.sleep(2)
            found["front"] = api_processes(env)[0]
            found["answer_ms"] = [answer_ms(front_port) for _ in range(5)]
            close(sockets)
    return found


def answer_status(port):
    try:
        answer_ms(port)
    except urllib.error.HTTPError as e:
        return e.code
    return 200


def answer_ms(port):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={
        "Authorization": "Basic " + base64.b64encode(":".join(OPERATOR).encode()).decode()})
    started = time.perf_counter()
    with contextlib.closing(urllib.request.urlopen(request, timeout=30)) as response:
        response.read()
    return 1000 * (time.perf_counter() - started)


def close(sockets):
    for s in sockets:
        s.close()
