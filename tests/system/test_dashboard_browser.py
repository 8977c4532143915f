"""The dashboard's page in headless Chromium, against the real listener, dashboard, balancer and
simulated chargers (bin/shocpp-simulate). Chromium is driven over its DevTools protocol
(--remote-debugging-port) with the websockets client the tests already use: no Selenium.

An operator signs in once, starts a session and sees it and its energy pushed within a second of
each of the charger's readings without any polling, its power chart drawn, stops it after a
confirmation, sees it in the month and downloads the statement; switches a charger's mode and sees
the balancer apply it; adds an unknown card to an account and charges with it. A driver sees only
its account, a viewer can send nothing, and nothing shows without signing in. With
SHOCPP_WRITE_DOCS=1 the mode test also writes docs/dashboard.png (a phone-sized screenshot).
"""

import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from datetime import datetime, timezone

import pytest
import websockets

from conftest import BIN, DRIVER, OPERATOR, ROOT, VIEWER, run_backend

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="chromium missing: 'make test' installs it")
PHONE = {"width": 390, "height": 1000, "deviceScaleFactor": 1, "mobile": True}


class Browser:
    """Headless Chromium with a fresh profile; every process it starts is gone afterwards."""

    def __init__(self, tmp_path):
        self.profile = tmp_path / f"profile-{time.monotonic_ns()}"
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def page_socket(self):
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                port = int(port_file.read_text().split()[0])
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as f:
                    pages = [t for t in json.load(f) if t["type"] == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.2)
        raise AssertionError("Chromium's DevTools did not come up")

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


class Page:
    """One tab over the DevTools protocol: a reader task matches answers to calls and keeps events."""

    def __init__(self, ws):
        self.ws, self.ids, self.waiting = ws, itertools.count(1), {}
        self.reader = asyncio.get_running_loop().create_task(self.read())

    async def read(self):
        async for text in self.ws:
            message = json.loads(text)
            if "id" in message:
                self.waiting.pop(message["id"]).set_result(message)

    async def send(self, method, **params):
        number = next(self.ids)
        self.waiting[number] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"id": number, "method": method, "params": params}))
        message = await self.waiting[number]
        assert "error" not in message, message
        return message["result"]

    async def js(self, expression):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, (expression, result)
        return result["result"].get("value")

    async def until(self, expression, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value not in (None, False, "", 0):  # a node comes back as {}
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}; the page shows: "
                             f"{await self.js('document.body.innerText')}")

    async def sign_in(self, credentials):
        name, password = credentials
        await self.until("document.getElementById('state')?.textContent === 'not signed in'")
        await self.js(f"document.getElementById('name').value = {json.dumps(name)}; "
                      f"document.getElementById('password').value = {json.dumps(password)}; "
                      "document.getElementById('signin-button').click()")

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


# Counts the page's requests: the page must not poll
COUNT_FETCHES = """window.__fetches = []; const __fetch = window.fetch;
window.fetch = (...a) => { window.__fetches.push([Date.now(), String(a[0])]); return __fetch(...a); };"""


async def open_dashboard(browser, url, credentials=None):
    """The dashboard in a phone-sized tab, signed in with `credentials` (name, password) when given."""
    ws = await websockets.connect(browser.page_socket(), max_size=None)
    page = Page(ws)
    await page.send("Emulation.setDeviceMetricsOverride", **PHONE)
    await page.send("Page.enable")
    await page.send("Page.addScriptToEvaluateOnNewDocument", source=COUNT_FETCHES)
    await page.send("Page.navigate", url=url + "/")
    if credentials:
        await page.sign_in(credentials)
        await page.until("!document.body.classList.contains('out') && document.getElementById('state')"
                         ".textContent.startsWith('live')")
    return page


def run_and_stop(scenario, seconds, browser, *processes):
    """The scenario's result within `seconds`; then the browser is closed and each (process, signal) stopped."""
    try:
        return asyncio.run(asyncio.wait_for(scenario, seconds))
    finally:
        browser.close()
        for process, number in processes:
            process.send_signal(number)
            process.wait(timeout=30)


def simulated(site, listener_url, *extra, env=None, ocpp="1.6"):
    return subprocess.Popen([str(BIN / "shocpp-simulate"), listener_url, "--id", "garage", "--timeout", "10",
                             "--duration", "120", "--meter-interval", "1", "--time-scale", "2", "--quiet",
                             "--ocpp", ocpp, *extra],
                            env=env or site.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


CONNECTOR = "document.querySelector('[data-connector=\"garage/1\"]')"
SESSION = CONNECTOR + "?.querySelector('.session')"
# each change of the session's energy (in Wh) on the page, with the time it was made (the browser's clock)
WATCH_ENERGY = """window.__energy = []; new MutationObserver(() => {
  const e = document.querySelector('[data-connector="garage/1"] .session .energy');
  const text = e ? e.dataset.wh : null;
  if (text && (!window.__energy.length || window.__energy[window.__energy.length - 1][1] !== text))
    window.__energy.push([Date.now(), text]);
}).observe(document.getElementById('chargers'), {subtree: true, childList: true, characterData: true}); true"""


def meter_writes(site, seconds):
    """The times (epoch seconds) the backend wrote the connector's latest reading, for `seconds`."""
    found, last, deadline = [], None, time.time() + seconds
    while time.time() < deadline:
        for path in site.run_dir.glob("garage@*/meter-1.json"):
            try:
                stamp = path.stat().st_mtime
            except FileNotFoundError:
                continue
            if stamp != last:
                found.append(stamp)
                last = stamp
        time.sleep(0.01)
    return found[1:]  # the first is older than the watch


@pytest.mark.parametrize("ocpp", ["1.6", "2.0.1"])
def test_an_operator_signs_in_once_and_sees_a_session_pushed_then_stops_it_and_downloads_its_statement(
        site, tmp_path, listener_url, start_dashboard, ocpp):
    url = start_dashboard()
    # a forged stop from an identity nobody knows: kept, in no total, waiting for review (issue 19)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    forged = run_backend(site, [f'[2,"f","StopTransaction",{{"transactionId":20000000,"meterStop":4999999000,'
                                f'"timestamp":"{now}"}}]'], {"PATH_INFO": "/intruder"})
    assert forged.returncode == 0
    sim = simulated(site, listener_url, ocpp=ocpp)
    browser = Browser(tmp_path)
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    async def scenario():
        page = await open_dashboard(browser, url, OPERATOR)
        try:
            await page.until("document.getElementById('to-review')?.hidden === false")
            assert (await page.js("document.getElementById('to-review').textContent")).startswith(
                "1 line waits for review, in no total: shocpp-summary ")
            await page.until(CONNECTOR + "?.querySelector('button.start')")
            assert await page.js("document.querySelector('[data-charger=garage] .badge').textContent") == "online"
            assert await page.js(CONNECTOR + ".querySelector('strong').textContent") == \
                ("EVSE 1" if ocpp == "2.0.1" else "Connector 1")
            # an idle connector shows no power; connector 0 (the charger as a whole) is not shown
            assert await page.js(CONNECTOR + ".querySelector('.power-now')") is None
            assert await page.js("document.querySelector('[data-connector=\"garage/0\"]')") is None
            await page.js(CONNECTOR + ".querySelector('select').value = '3333'; "
                          + CONNECTOR + ".querySelector('select').dispatchEvent(new Event('change'))")
            await page.js(CONNECTOR + ".querySelector('button.start').click()")
            await page.until(CONNECTOR + "?.querySelector('.answer').textContent === "
                             "'RemoteStartTransaction: The charger accepted.'")
            assert await page.until(SESSION + "?.querySelector('.account').textContent") == "company-x"
            # the site's time (TZ=UTC here) on a 24-hour clock
            since = await page.js(SESSION + ".querySelector('.muted').textContent")
            started = datetime.now(timezone.utc).strftime("%H:%M")
            assert since.startswith("since ") and "M" not in since.split(",")[-1] and " · card 3333" in since, since
            assert started[:2] in since, (since, started)
            await page.until(f"parseFloat({SESSION}?.querySelector('.energy').textContent) > 0")
            # every reading of the charger is on the page within a second, and the page asks for nothing
            await page.js(WATCH_ENERGY)
            fetched = await page.js("window.__fetches.length")
            writes = await asyncio.get_running_loop().run_in_executor(None, meter_writes, site, 5)
            await asyncio.sleep(1.2)
            shown = await page.js("window.__energy")
            asked = await page.js(f"window.__fetches.slice({fetched}).map(f => f[1])")
            assert len(writes) >= 3 and len(shown) >= 3, (writes, shown)
            late = [w for w in writes if not any(w <= t / 1000 <= w + 1.0 for t, _ in shown)]
            assert late == [], (writes, shown)
            assert all(path.startswith("/api/samples?") for path in asked), asked
            # its power over time, drawn from the charger's samples
            assert int(await page.until(SESSION + "?.querySelector('svg.power-chart')?.dataset.points")) >= 2
            transaction = await page.until(SESSION + "?.dataset.transaction")
            # stopping asks first
            await page.js(CONNECTOR + ".querySelector('button.stop').click()")
            await page.until(CONNECTOR + "?.querySelector('button.confirm-stop')")
            assert await page.js(SESSION + " !== null")
            await page.js(CONNECTOR + ".querySelector('button.confirm-stop').click()")
            await page.until("!" + SESSION, 30)
            row = f"document.querySelector('#sessions tr[data-transaction=\"{transaction}\"]')"
            await page.until(row, 30)
            assert await page.js(row + ".children[1].textContent") == "company-x"
            assert "company-x" in await page.js("[...document.querySelectorAll('.bar-account')].map(e => e.textContent)")
            assert float(await page.js("Math.max(...[...document.querySelectorAll('rect.day')].map(r => "
                                       "Number(r.dataset.wh)))")) > 0
            # the statement as CSV, downloaded by the browser with its session
            await page.send("Page.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
            await page.until("[...document.querySelectorAll('#statements a.csv')].find(a => a.href.includes('company-x'))")
            await page.js("[...document.querySelectorAll('#statements a.csv')].find(a => "
                          "a.href.includes('company-x')).click()")
            deadline = time.monotonic() + 15
            while not list(downloads.glob("*.csv")) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            return transaction
        finally:
            await page.close()

    transaction = run_and_stop(scenario(), 150, browser, (sim, signal.SIGINT))
    tid = transaction if ocpp == "2.0.1" else int(transaction)  # 2.0.1: the station's text
    stops = [r for r in site.stop_lines() if r["transaction_id"] == tid]
    assert [(r["account"], r["reason"]) for r in stops] == [("company-x", "Remote")] and stops[0]["energy_wh"] > 0
    month = datetime.now().strftime("%Y-%m")
    assert [p.name for p in downloads.iterdir()] == [f"{month}-company-x.csv"]
    text = (downloads / f"{month}-company-x.csv").read_text(encoding="utf-8-sig")
    session = [line for line in text.splitlines() if line.startswith("session,") and ",garage,1,3333," in line]
    assert len(session) == 1 and f",{stops[0]['energy_wh'] / 1000:.3f}," in session[0], text


def test_without_signing_in_nothing_shows_and_a_wrong_password_is_refused(site, tmp_path, listener_url,
                                                                            start_dashboard):
    url = start_dashboard()
    sim = simulated(site, listener_url)
    browser = Browser(tmp_path)

    async def scenario():
        page = await open_dashboard(browser, url)
        try:
            await page.sign_in((OPERATOR[0], "not the password"))
            await page.until("document.getElementById('signin-error').textContent")
            await asyncio.sleep(1)
            return await page.js("({chargers: document.getElementById('chargers').textContent, "
                                 "bars: document.getElementById('bars').textContent, "
                                 "rows: document.querySelectorAll('#sessions tr').length, "
                                 "error: document.getElementById('signin-error').textContent, "
                                 "state: document.getElementById('state').textContent})")
        finally:
            await page.close()

    shown = run_and_stop(scenario(), 90, browser, (sim, signal.SIGINT))
    assert shown == {"chargers": "", "bars": "", "rows": 0, "error": "wrong name or password", "state": "not signed in"}


def test_a_charger_s_mode_switched_on_the_page_is_applied_by_the_balancer(site, tmp_path, listener_url,
                                                                          start_dashboard):
    """shocpp-balance runs (a 10 A site, a 16 A charger): the page shows the site's figures, the
    charger's mode and its allocated current; the off button sets its mode and the balancer applies it
    (a 0 A limit, which the simulated charger follows)."""
    site_file = site.root / "site.json"
    site_file.write_text(json.dumps({"grid_limit_a": 10, "interval_s": 1, "ramp_s": 1,
                                     "chargers": {"garage": {"min_a": 6, "max_a": 16}}}))
    env = {**site.env, "SHOCPP_SITEFILE": str(site_file)}
    url = start_dashboard()
    sim = simulated(site, listener_url, "--sessions", "1", "--session-seconds", "120", env=env)
    balancer = subprocess.Popen([str(BIN / "shocpp-balance")], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    browser = Browser(tmp_path)
    balance = CONNECTOR + "?.querySelector('.balance')"
    mode = "document.querySelector('[data-charger=garage] .modes button.on')?.dataset.mode"

    async def scenario():
        page = await open_dashboard(browser, url, OPERATOR)
        try:
            text = await page.until(balance + "?.textContent.startsWith('Allocated 10 A · draws') && "
                                    + balance + ".textContent", 40)
            assert "NOT HONOURING" not in text
            assert await page.js("document.querySelector('#site .grid-limit').textContent") == "10 A"
            assert await page.js(mode) == "fast"
            # the README's picture: a balanced charger charging, its power chart drawn
            await page.until("Number(" + SESSION + "?.querySelector('svg.power-chart')?.dataset.points) >= 3", 20)
            png = base64.b64decode((await page.send("Page.captureScreenshot", format="png"))["data"])
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            if os.environ.get("SHOCPP_WRITE_DOCS") == "1":
                (ROOT / "docs" / "dashboard.png").write_bytes(png)
            await page.js("document.querySelector('[data-charger=garage] .modes button[data-mode=off]').click()")
            await page.until("document.querySelector('[data-charger=garage] .answer')?.textContent"
                             ".startsWith('garage: mode off set, applied at the balancer')")
            await page.until(mode + " === 'off'", 20)
            await page.until(balance + "?.textContent.startsWith('Allocated 0 A') && " + balance + ".textContent", 20)
            await page.until(SESSION + "?.querySelector('.power').textContent === '0.0 kW'", 20)
        finally:
            await page.close()

    run_and_stop(scenario(), 120, browser, (balancer, signal.SIGTERM), (sim, signal.SIGINT))
    from shocpp import balance_control
    assert balance_control.controls(site.run_dir) == {"garage": {"mode": "off", "max_a": None}}
    assert balance_control.status(site.run_dir)["chargers"]["garage"]["connectors"]["1"]["limit_a"] == 0


def test_an_unknown_card_added_to_an_account_charges_and_roles_see_what_they_may(site, tmp_path, listener_url,
                                                                                start_dashboard):
    url = start_dashboard(roles=True)
    sim = simulated(site, listener_url, "--tag", "CAFE0001", "--sessions", "40", "--session-seconds", "20",
                    "--pause", "1")
    browser = Browser(tmp_path)
    card = "document.querySelector('.unknown-card[data-tag=CAFE0001]')"

    async def scenario():
        operator = await open_dashboard(browser, url, OPERATOR)
        try:
            await operator.until(card, 30)
            assert "refused" in await operator.js(card + ".textContent")
            await operator.js(card + ".querySelector('select').value = 'home'")
            await operator.js(card + ".querySelector('button.add-tag').click()")
            await operator.until(card + "?.querySelector('.answer')?.textContent === 'tag CAFE0001 added to the "
                                 "account home'")
            # its next try charges, billed to home
            assert await operator.until(SESSION + "?.querySelector('.account').textContent", 30) == "home"
            await operator.until("document.querySelector('#tags li[data-account=home]').textContent.includes("
                                 "'CAFE0001')", 10)
            await operator.js("document.getElementById('signout').click()")
            await operator.until("document.body.classList.contains('out')")
        finally:
            await operator.close()
        viewer = await open_dashboard(browser, url, VIEWER)
        try:
            await viewer.until(SESSION)
            seen = await viewer.js("({buttons: [...document.querySelectorAll('#chargers button')].filter(b => "
                                   "b.offsetParent && !b.disabled).length, text: document.body.innerText})")
            assert seen["buttons"] == 0 and "CAFE0001" not in seen["text"]
            await viewer.js("document.getElementById('signout').click()")
            await viewer.until("document.body.classList.contains('out')")
            assert (await viewer.js("fetch('/api/status', {headers: {'X-Shocpp-Page': '1'}}).then(r => r.status)")) == 401
        finally:
            await viewer.close()
        driver = await open_dashboard(browser, url, DRIVER)
        try:
            await driver.until(SESSION)
            await driver.until("document.getElementById('bars').textContent.includes('home') || "
                               "document.getElementById('bars').textContent.includes('no session')")
            return await driver.js("({account: " + SESSION + ".querySelector('.account').textContent, "
                                   "stop: !!" + CONNECTOR + ".querySelector('button.stop'), "
                                   "accounts: [...document.querySelectorAll('#tags li')].map(l => l.dataset.account), "
                                   "text: document.body.innerText})")
        finally:
            await driver.close()

    shown = run_and_stop(scenario(), 150, browser, (sim, signal.SIGINT))
    assert shown["account"] == "home" and shown["stop"] and shown["accounts"] == ["home"]
    assert "company-x" not in shown["text"] and "3333" not in shown["text"]
    starts = [r for r in site.start_lines() if r["id_tag"] == "CAFE0001"]
    assert starts and starts[0]["account"] == "home"


def test_a_charger_that_ignores_its_limit_is_shown_and_its_limit_button_sets_the_balancers_maximum(
        site, tmp_path, listener_url, start_dashboard):
    """The simulated charger accepts the balancer's profiles and ignores them (16 A on a 10 A site): the
    page says NOT HONOURING ITS LIMIT; Set maximum sets the charger's maximum for the balancer
    instead of sending a profile around it."""
    site_file = site.root / "site.json"
    site_file.write_text(json.dumps({"grid_limit_a": 10, "interval_s": 1, "ramp_s": 1,
                                     "chargers": {"garage": {"min_a": 6, "max_a": 16}}}))
    env = {**site.env, "SHOCPP_SITEFILE": str(site_file)}
    url = start_dashboard()
    sim = simulated(site, listener_url, "--sessions", "1", "--session-seconds", "120", "--ignore-profiles", env=env)
    balancer = subprocess.Popen([str(BIN / "shocpp-balance")], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    browser = Browser(tmp_path)
    balance = CONNECTOR + "?.querySelector('.balance')"

    async def scenario():
        page = await open_dashboard(browser, url, OPERATOR)
        try:
            text = await page.until(balance + "?.textContent.includes('NOT HONOURING') && " + balance + ".textContent", 40)
            assert text.startswith("Allocated 10 A · draws 15.9 A"), text
            await page.js(CONNECTOR + ".querySelector('input[type=number]').value = '8'; "
                          + CONNECTOR + ".querySelector('input[type=number]').dispatchEvent(new Event('input'))")
            await page.js(CONNECTOR + ".querySelector('button.limit').click()")
            return await page.until(CONNECTOR + "?.querySelector('.answer').textContent.includes('balances') && "
                                    + CONNECTOR + ".querySelector('.answer').textContent")
        finally:
            await page.close()

    answer = run_and_stop(scenario(), 120, browser, (balancer, signal.SIGTERM), (sim, signal.SIGINT))
    assert answer == "shocpp-balance balances garage: a maximum of 8 A set, applied at its next round"
    from shocpp import balance_control
    assert balance_control.controls(site.run_dir) == {"garage": {"mode": None, "max_a": 8}}
