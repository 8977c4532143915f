"""Shared fixtures: a site (tags, ledger, run and log directories) and helpers to run bin/ commands."""

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets
from hypothesis import HealthCheck, settings
from ocpp.v16 import ChargePoint

from shocpp_sim.demo import free_port, wait_for_port  # noqa: F401 (tests import free_port from here)

# CI machines are small and busy: judge properties by their examples, never by speed.
# `make quick` (SHOCPP_QUICK=1): a tenth of the examples, for the edit loop; `make test` runs them all.
QUICK = os.environ.get("SHOCPP_QUICK") == "1"
settings.register_profile("shocpp", deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          max_examples=10 if QUICK else 100)
settings.load_profile("shocpp")


def examples(count):
    """The examples a property test runs: `count`, a tenth of it under make quick."""
    return max(10, count // 10) if QUICK else count

ROOT = Path(__file__).resolve().parent.parent


# In-process tests read local times in UTC, whatever the machine's zone; a test wanting another sets TZ.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture(autouse=True)
def zone_restored():
    """A test that changes TZ (monkeypatch, then time.tzset) leaves the process's zone as it found it."""
    yield
    time.tzset()
BIN = ROOT / "bin"

TAGS = [
    {"index": 1, "account": "home", "ids": ["1111", "2222"]},
    {"index": 2, "account": "company-x", "ids": ["3333", "04A2B9C1D23E80"]},
    {"index": 213, "account": "last", "ids": ["9999"]},
]


# One charger's session over a connection, frame by frame (the tests over pipes and in-process).
SESSION = [
    '[2,"b","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"Wallbox 1"}]',
    '[2,"s","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Preparing"}]',
    '[2,"a","Authorize",{"idTag":"1111"}]',
    '[2,"t","StartTransaction",{"connectorId":1,"idTag":"1111","meterStart":12345678,'
    '"timestamp":"2026-11-01T10:00:00Z"}]',
    '[2,"m","MeterValues",{"connectorId":1,"transactionId":10012345,"meterValue":[{"timestamp":'
    '"2026-11-01T11:00:00Z","sampledValue":[{"value":"12349000","measurand":"Energy.Active.Import.Register",'
    '"unit":"Wh"}]}]}]',
    '[2,"p","StopTransaction",{"transactionId":10012345,"meterStop":12350999,'
    '"timestamp":"2026-11-01T12:00:00Z","idTag":"1111","reason":"Local"}]',
]


@dataclass
class Site:
    root: Path
    env: dict

    @property
    def tags_file(self):
        return Path(self.env["SHOCPP_TAGSFILE"])

    @property
    def accounting(self):
        return Path(self.env["SHOCPP_ACCOUNTINGDIR"])

    @property
    def run_dir(self):
        return Path(self.env["SHOCPP_RUNDIR"])

    @property
    def log_file(self):
        return Path(self.env["SHOCPP_LOGDIR"]) / "shocpp.log"

    def ledger_lines(self):
        """Every ledger record of the site, in file order, month files in name order."""
        records = []
        for path in sorted(self.accounting.glob("*.jsonl")):
            records += [json.loads(line) for line in path.read_bytes().split(b"\n") if line]
        return records

    def stop_lines(self):
        """The ledger's stop records: the lines that bill (a line without `event` is a stop)."""
        return [r for r in self.ledger_lines() if r.get("event", "stop") == "stop"]

    def start_lines(self):
        return [r for r in self.ledger_lines() if r.get("event") == "start"]


@pytest.fixture
def site(tmp_path):
    tags_file = tmp_path / "tags.json"
    tags_file.write_text(json.dumps(TAGS))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOCPP_", "WS_", "GATEWAY_"))}
    env.update({
        "SHOCPP_TAGSFILE": str(tags_file),
        "SHOCPP_ACCOUNTINGDIR": str(tmp_path / "accounting"),
        "SHOCPP_RUNDIR": str(tmp_path / "run"),
        "SHOCPP_LOGDIR": str(tmp_path / "log"),
        "SHOCPP_CHARGERSFILE": str(tmp_path / "chargers.json"),
        "TZ": "UTC",
    })
    # bin/ scripts use .venv/bin/python when it exists; make them use the interpreter running the tests.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return Site(tmp_path, env)


def run_backend(site, lines, extra_env=None, timeout=30):
    """Feed lines (bytes or str) to bin/shocpp-backend over pipes; its CompletedProcess."""
    data = b"".join((l if isinstance(l, bytes) else l.encode()) + b"\n" for l in lines)
    return subprocess.run([str(BIN / "shocpp-backend")], input=data, capture_output=True,
                          env={**site.env, **(extra_env or {})}, timeout=timeout)


def replies(completed):
    return [json.loads(line) for line in completed.stdout.decode().splitlines()]


@contextlib.contextmanager
def servers(site):
    """start(program, env, port): bin/<program> serving on a free loopback port, its output in the site;
    every one stopped (its whole process group) at the end."""
    started = []

    def start(program, env, port):
        out = open(site.root / f"{program}-{port}.out", "wb")
        proc = subprocess.Popen([str(BIN / program)], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        started.append((proc, out))
        wait_for_port(port, proc)

    try:
        yield start
    finally:
        for proc, out in started:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
            out.close()


def readme_block(marker, fence):
    """The text of the first fenced block (```fence) after `marker` in the README."""
    text = (ROOT / "README.md").read_text()
    lines = text[text.index(marker):].splitlines()
    opening = [n for n, line in enumerate(lines) if line.startswith("```")][::2]  # every other fence opens
    first = next(n for n in opening if lines[n] == f"```{fence}")
    end = next(n for n in range(first + 1, len(lines)) if lines[n] == "```")
    return "\n".join(lines[first + 1:end])


HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/local/sbin:/usr/sbin")


@contextlib.contextmanager
def haproxy(config, env, port, out_path):
    """The real HAProxy with `config` (checked first) in the foreground, listening on `port`; stopped at the end."""
    assert HAPROXY, "haproxy is missing: 'make test' installs it"
    check = subprocess.run([HAPROXY, "-c", "-f", str(config)], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, proc)
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)


@pytest.fixture
def start_listener(site):
    """Start bin/shocpp-listener on a free loopback port with extra settings; its base URL."""
    assert shutil.which("websocketd"), "websocketd is missing: 'make test' installs it"
    with servers(site) as serve:
        def start(extra_env=None, scheme="ws"):
            port = free_port()
            serve("shocpp-listener", {**site.env, "WS_ADDRESS": "127.0.0.1", "WS_PORT": str(port),
                                      **(extra_env or {})}, port)
            return f"{scheme}://127.0.0.1:{port}"

        yield start


@pytest.fixture
def listener_url(start_listener):
    return start_listener()


@contextlib.asynccontextmanager
async def charger(url, identity, kind=ChargePoint, subprotocols=("ocpp1.6",), path="ocpp/", **connect_options):
    """A connected `ocpp` ChargePoint (of class `kind`) running its receive loop, served in the first of
    its `subprotocols`."""
    async with websockets.connect(f"{url}/{path}{identity}", subprotocols=list(subprotocols),
                                  **connect_options) as ws:
        assert ws.subprotocol == subprotocols[0]
        cp = kind(identity, ws, response_timeout=10)
        task = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


OPERATOR = ("operator", "a long enough password")
VIEWER = ("ha", "a viewer's long password")
DRIVER = ("bob", "a driver's long password")  # of the account home


@pytest.fixture
def start_dashboard(site):
    """Start bin/shocpp-dashboard on a free loopback port with an operator (OPERATOR); its base URL.
    Stopped (with its websocketd) at the end."""
    assert shutil.which("websocketd"), "websocketd is missing: 'make test' installs it"
    with servers(site) as serve:
        def start(extra_env=None, operator=True, roles=False):
            """roles: a viewer (VIEWER) and a driver of the account home (DRIVER) too."""
            env = {**site.env, "SHOCPP_OPERATORSFILE": str(site.root / "operators.json"), **(extra_env or {})}
            if operator and not Path(env["SHOCPP_OPERATORSFILE"]).exists():
                people = [(OPERATOR, [])] + ([(VIEWER, ["--role", "viewer"]),
                                              (DRIVER, ["--role", "driver", "--account", "home"])] if roles else [])
                for (name, password), extra in people:
                    subprocess.run([str(BIN / "shocpp-passwd"), "--operator", name, "--password-stdin", *extra],
                                   input=password.encode(), env=env, check=True, capture_output=True, timeout=30)
            port = free_port()
            serve("shocpp-dashboard", {**env, "DASHBOARD_ADDRESS": "127.0.0.1", "DASHBOARD_PORT": str(port)}, port)
            return f"http://127.0.0.1:{port}"

        yield start


@pytest.fixture
def chargers(site):
    """Connected chargers as backend directories in the site's run directory (the balancer's tests)."""
    from balance_site import Chargers  # the balancer's tests only

    found = Chargers(site.run_dir)
    yield found
    found.close()

