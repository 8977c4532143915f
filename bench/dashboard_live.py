"""The dashboard as a person uses it (#22): how fast the API answers and what an open page costs.

bin/shocpp-dashboard on loopback with a site whose ledger holds a month of sessions and one connected
simulated charger (bin/shocpp-simulate, a reading a second). Each API answer is timed with urllib
from the request to the last byte, once signed in (the session cookie) and with HTTP Basic
credentials (remembered by the API process after the first). An open page: a WebSocket feed held
open by a client that only listens, while the charger sends its readings; the CPU of the
dashboard's processes (websocketd, the feed, the API process) over that time, from /proc, as a
share of one core; and where Chromium is installed, a real page in headless Chromium, signed in, beside
Chromium on about:blank for as long. The figures before #22 (one Python process and one scrypt a request, a page
polling every second) are in FINDINGS.md, measured the same way from the code before.
"""

import asyncio
import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from shocpp import chargers_file, operators_file

from .common import BIN, Section, figure, make_site, serving, stop, temporary_directory
from .dashboard import tree_cpu

PERSON = ("alice", "a long enough password")


def run(quick=False):
    count, idle_s = (5, 3) if quick else (50, 30)
    with temporary_directory() as directory:
        env = make_site(directory)
        env["SHOCPP_OPERATORSFILE"] = str(Path(directory) / "operators.json")
        operators_file.save_people(Path(directory) / "operators.json", {PERSON[0]: operators_file.Person(
            PERSON[0], chargers_file.new_hash(PERSON[1]), "operator", None)})
        month = datetime.now().strftime("%Y-%m")
        write_month(Path(env["SHOCPP_ACCOUNTINGDIR"]), month, 300)
        found = measure(env, directory, count, idle_s, month)
    figures = [figure(f"GET {SHOWN.get(path, path)}, {how}: answer", found[(kind, path)], "ms", at_most=30)
               for kind, how in (("cookie", "signed in (cookie)"), ("basic", "HTTP Basic")) for path in PATHS]
    figures.append(figure(f"an open idle page over {idle_s} s (a reading a second): CPU", [found["idle"]],
                          "% of a core", at_most=1))
    if "chromium" in found:
        blank, page, server = found["chromium"]
        figures += [figure(f"headless Chromium on about:blank, {idle_s} s: CPU", [blank], "% of a core"),
                    figure(f"headless Chromium with the dashboard signed in, {idle_s} s: CPU", [page], "% of a core"),
                    figure(f"the dashboard's processes meanwhile (the feed, the chart's samples): CPU", [server],
                           "% of a core", at_most=1)]
    notes = ["The answers are the whole HTTP exchange through websocketd's CGI: a bash wrapper hands the request "
             "to the dashboard's API process over loopback and copies its answer back; no Python starts for a "
             "request. The summary is of a month of 300 sessions, read from the ledger at each request."]
    return Section("Dashboard: answers and an open page", __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
                   figures, notes)


PATHS = ("/api/status", "/api/summary?year={y}&month={m}", "/api/accounts")
SHOWN = {PATHS[1]: "/api/summary (a month of 300 sessions)"}


def write_month(accounting, month, sessions):
    accounting.mkdir(parents=True, exist_ok=True)
    lines = []
    for n in range(sessions):
        day = 1 + n % 27
        lines.append(json.dumps({
            "charger": "wall-1", "transaction_id": 10_000_000 + 1000 * n, "account": "home", "account_index": 1,
            "id_tag": "1111", "connector_id": 1, "meter_start_wh": 1000 * n, "meter_stop_wh": 1000 * n + 900,
            "energy_wh": 900, "start_time": f"{month}-{day:02d}T10:00:00Z", "stop_time": f"{month}-{day:02d}T11:00:00Z",
            "reason": "Local"}))
    (accounting / f"{month}.jsonl").write_text("\n".join(lines) + "\n")


def measure(env, directory, count, idle_s, month):
    def dashboard(port):
        return [str(BIN / "shocpp-dashboard")], {**env, "DASHBOARD_ADDRESS": "127.0.0.1", "DASHBOARD_PORT": str(port)}

    def listener(port):
        return [str(BIN / "shocpp-listener")], {**env, "WS_ADDRESS": "127.0.0.1", "WS_PORT": str(port)}

    found = {}
    year, mon = month.split("-")
    with serving(listener, directory) as (ws_port, _), serving(dashboard, directory) as (port, proc):
        sim = subprocess.Popen([str(BIN / "shocpp-simulate"), f"ws://127.0.0.1:{ws_port}", "--id", "garage",
                                "--sessions", "1", "--session-seconds", "3600", "--meter-interval", "1", "--quiet"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            cookie = sign_in(base)
            basic = "Basic " + base64.b64encode(":".join(PERSON).encode()).decode()
            for kind, header in (("cookie", {"Cookie": cookie}), ("basic", {"Authorization": basic})):
                for path in PATHS:
                    url = base + path.format(y=year, m=mon)
                    timed(url, header)  # the first: a password checked, files read into the cache
                    found[(kind, path)] = [timed(url, header) for _ in range(count)]
            time.sleep(2)  # the session has started
            found["idle"] = idle_cpu(base, cookie, proc.pid, idle_s)
            if shutil.which("chromium"):
                found["chromium"] = in_chromium(base, proc.pid, idle_s)
        finally:
            stop(sim)
    return found


def sign_in(base):
    request = urllib.request.Request(base + "/api/login", data=json.dumps(
        {"name": PERSON[0], "password": PERSON[1]}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["Set-Cookie"].split(";")[0]


def timed(url, headers):
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        response.read()
    return 1000 * (time.perf_counter() - started)


def in_chromium(base, pid, seconds):
    """(% of a core) of headless Chromium on about:blank, then signed in to the dashboard, and of the
    dashboard's processes meanwhile, each over `seconds`."""
    import signal
    import tempfile
    import websockets
    from .common import cpu_seconds, tree

    profile = tempfile.mkdtemp(prefix="shocpp-bench-chromium-")
    chrome = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def share(measure, started_cpu, started):
        return 100 * (measure() - started_cpu) / (time.monotonic() - started)

    async def measure(socket_url):
        async with websockets.connect(socket_url, max_size=None) as ws:
            numbers = iter(range(1, 1000))

            async def call(method, **params):
                number = next(numbers)
                await ws.send(json.dumps({"id": number, "method": method, "params": params}))
                while json.loads(await ws.recv()).get("id") != number:
                    pass

            browser = lambda: cpu_seconds(tree(chrome.pid))  # noqa: E731
            await asyncio.sleep(2)
            started_cpu, started = browser(), time.monotonic()
            await asyncio.sleep(seconds)
            blank = share(browser, started_cpu, started)
            await call("Page.navigate", url=base + "/")
            await asyncio.sleep(2)
            await call("Runtime.evaluate", expression=f"document.getElementById('name').value = {json.dumps(PERSON[0])}; "
                       f"document.getElementById('password').value = {json.dumps(PERSON[1])}; "
                       "document.getElementById('signin-button').click()")
            await asyncio.sleep(5)
            started_cpu, server_cpu, started = browser(), tree_cpu(pid), time.monotonic()
            await asyncio.sleep(seconds)
            return blank, share(browser, started_cpu, started), share(lambda: tree_cpu(pid), server_cpu, started)

    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as f:
            page = [t for t in json.load(f) if t["type"] == "page"][0]
        return asyncio.run(measure(page["webSocketDebuggerUrl"]))
    finally:
        os.killpg(chrome.pid, signal.SIGKILL)
        chrome.wait()
        shutil.rmtree(profile, ignore_errors=True)


def idle_cpu(base, cookie, pid, seconds):
    """% of one core the dashboard's processes use while one page listens to the feed for `seconds`."""
    import websockets

    async def listen():
        async with websockets.connect(base.replace("http", "ws") + "/feed",
                                      additional_headers={"Cookie": cookie, "Origin": base}) as ws:
            await asyncio.wait_for(ws.recv(), 10)
            before, started = tree_cpu(pid), time.monotonic()
            messages = 0
            while time.monotonic() - started < seconds:
                try:
                    await asyncio.wait_for(ws.recv(), max(0.01, seconds - (time.monotonic() - started)))
                    messages += 1
                except asyncio.TimeoutError:
                    break
            if messages == 0:
                raise RuntimeError("the feed sent nothing while the charger sent readings")
            return 100 * (tree_cpu(pid) - before) / (time.monotonic() - started)

    return asyncio.run(listen())
