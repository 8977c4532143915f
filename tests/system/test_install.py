"""`make install PREFIX=...`: the installed tree runs on its own, with its own .venv and defaults under PREFIX."""

import asyncio
import json
import os
import shutil
import signal
import subprocess

from pathlib import Path

import pytest
import websockets

from conftest import ROOT, free_port, run, wait_for_port

# Run installed commands from a directory without a shocpp/ package: `python -m` looks in the
# current directory first.
MAKE_ENV = {k: v for k, v in os.environ.items()
            if not k.startswith(("SHOCPP_", "WS_", "GATEWAY_", "MAKE", "MFLAGS", "PYTHONPATH", "VIRTUAL_ENV"))}
PLAIN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TZ": "UTC", "LANG": "C.UTF-8"}


def make_install(prefix, *extra, source=ROOT, allow_home=True):
    """make install; allow_home: with ALLOW_HOME_PYTHON=1, as the tests' Python may be a pyenv one under
    /root (make install refuses that for a service, test_a_python_in_a_home_directory_is_refused)."""
    flags = ["ALLOW_HOME_PYTHON=1"] if allow_home else []
    return subprocess.run(["make", "--no-print-directory", "-C", str(source), "install", f"PREFIX={prefix}", *flags,
                           *extra], capture_output=True, text=True, env=MAKE_ENV, timeout=300)


# What a developer's conf/ holds after following the README and testing: none of it is installed.
DEVELOPMENT_FILES = {"conf/key.pem": "-----BEGIN PRIVATE KEY-----\nnot a real one\n",
                     "conf/cert.pem": "-----BEGIN CERTIFICATE-----\n", "conf/server.key": "secret\n",
                     "conf/chargers.json": "[]\n"}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A copy of the tree to install from, its conf/ as a developer leaves it."""
    where = tmp_path_factory.mktemp("source") / "shocpp"
    for name in ("bin", "shocpp", "misc", "conf"):
        shutil.copytree(ROOT / name, where / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Makefile", "README.md", "pyproject.toml"):
        shutil.copy(ROOT / name, where / name)
    for name, text in DEVELOPMENT_FILES.items():
        (where / name).write_text(text)
    return where


@pytest.fixture(scope="module")
def prefix(tmp_path_factory, source):
    where = tmp_path_factory.mktemp("install") / "prefix"
    done = make_install(where, source=source)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"installed in {where}" in done.stdout
    return where


def installed(prefix, command, *args, input=None, env=None):
    return subprocess.run([str(prefix / "bin" / command), *args], input=input, capture_output=True, text=True,
                          cwd=prefix.parent, env={**PLAIN_ENV, **(env or {})}, timeout=60)


def test_the_tree_is_installed_with_its_directories(prefix):
    for path in ("bin/shocpp-listener", "bin/shocpp-backend", "bin/shocpp-command", "bin/shocpp-status",
                 "bin/shocpp-balance", "misc/shocpp-balance.service", "bin/shocpp-dashboard",
                 "bin/shocpp-mqtt", "misc/shocpp-mqtt.service",
                 "misc/shocpp-dashboard.service", "shocpp/tools/dashboard_static/index.html",
                 "shocpp/backend.py", "shocpp/protocol/schemas/BootNotification.req.json", "conf/tags.json",
                 "misc/shocpp.service", "misc/shocpp.logrotate", "misc/shocpp.default", "misc/shocpp-stop",
                 "misc/shocpp-statements.service", "misc/shocpp-statements.timer", "README.md", "pyproject.toml"):
        assert (prefix / path).is_file(), path
    assert json.loads((prefix / "conf/tags.json").read_text()) == json.loads((ROOT / "conf/tags.json").read_text())
    for d in ("accounting", "run", "log", "statements"):
        assert (prefix / d).is_dir() and not any((prefix / d).iterdir())
    assert os.access(prefix / "bin/shocpp-status", os.X_OK) and os.access(prefix / "misc/shocpp-stop", os.X_OK)
    assert sorted(p.name for p in (prefix / "shocpp").glob("*.py")) == \
        sorted(p.name for p in (ROOT / "shocpp").glob("*.py"))


def test_no_private_key_password_file_or_simulator_is_installed(prefix):
    assert sorted(p.name for p in (prefix / "conf").iterdir()) == ["tags.json"]
    assert not (prefix / "bin/shocpp-simulate").exists()  # it needs websockets, which the venv has not
    assert not (prefix / "shocpp_sim").exists()
    assert sorted(p.name for p in (prefix / "bin").iterdir()) == \
        ["shocpp-backend", "shocpp-balance", "shocpp-command", "shocpp-dashboard", "shocpp-listener", "shocpp-mqtt",
         "shocpp-passwd", "shocpp-status", "shocpp-summary"]


def test_the_venv_has_the_runtime_dependencies_only(prefix):
    py = str(prefix / ".venv/bin/python")
    assert subprocess.run([py, "-c", "import jsonschema, dateutil"], cwd=prefix.parent).returncode == 0
    for test_only in ("ocpp", "pytest", "websockets", "hypothesis", "shocpp"):
        done = subprocess.run([py, "-c", f"import {test_only}"], cwd=prefix.parent, capture_output=True)
        assert done.returncode == 1, test_only
    # the MQTT bridge's client (the optional group mqtt, INSTALL_EXTRAS), for misc/shocpp-mqtt.service
    assert subprocess.run([py, "-c", "import paho.mqtt.client"], cwd=prefix.parent).returncode == 0


def test_the_installed_backend_answers_a_heartbeat_over_a_pipe(prefix):
    done = installed(prefix, "shocpp-backend", input='[2,"hb-1","Heartbeat",{}]\n')
    assert done.returncode == 0 and done.stderr == ""
    ((kind, unique_id, payload),) = [json.loads(line) for line in done.stdout.splitlines()]
    assert (kind, unique_id, list(payload)) == (3, "hb-1", ["currentTime"])
    assert payload["currentTime"].endswith("Z")
    log = (prefix / "log/shocpp.log").read_text()  # the defaults are under PREFIX
    assert ' < [2,"hb-1","Heartbeat",{}]\n' in log and '> [3,"hb-1",{"currentTime":' in log


def test_the_installed_listener_runs_the_installed_backend(prefix):
    done = installed(prefix, "shocpp-listener", "--print-command", env={"WS_PORT": "8181"})
    assert (done.returncode, done.stderr) == (0, "")
    v16, v201, front = done.stdout.splitlines()  # a websocketd per protocol on loopback, HAProxy on the port
    assert v16.startswith("websocketd --address=127.0.0.1 ") and v16.endswith(f" {prefix}/bin/shocpp-backend")
    assert v201.startswith("websocketd --address=127.0.0.1 ") and v201.endswith(f" {prefix}/bin/shocpp-backend")
    assert front.endswith(f"haproxy -db -f {prefix}/misc/shocpp-front.cfg")


def test_misc_files_name_the_prefix(prefix):
    service = (prefix / "misc/shocpp.service").read_text()
    assert f"ExecStart={prefix}/bin/shocpp-listener\n" in service
    assert f"ReadWritePaths={prefix}/accounting {prefix}/run {prefix}/log\n" in service
    assert f"{prefix}/log/shocpp.log {{" in (prefix / "misc/shocpp.logrotate").read_text()
    assert f"ExecStart={prefix}/bin/shocpp-balance\n" in (prefix / "misc/shocpp-balance.service").read_text()
    assert f"ExecStart={prefix}/bin/shocpp-mqtt\n" in (prefix / "misc/shocpp-mqtt.service").read_text()
    statements = (prefix / "misc/shocpp-statements.service").read_text()
    assert f"ExecStart={prefix}/bin/shocpp-summary --statements {prefix}/statements\n" in statements
    assert f"ReadWritePaths={prefix}/statements\n" in statements
    for name in ("shocpp.service", "shocpp-balance.service", "shocpp.logrotate", "shocpp.default",
                 "shocpp-statements.service", "shocpp-mqtt.service"):
        assert "/opt/shocpp" in (ROOT / "misc" / name).read_text()
        assert "/opt/shocpp" not in (prefix / "misc" / name).read_text()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
@pytest.mark.parametrize("units", [["shocpp.service"], ["shocpp-balance.service"], ["shocpp-mqtt.service"],
                                   ["shocpp-statements.timer", "shocpp-statements.service"]])
def test_the_unit_files_are_valid(prefix, units):
    done = subprocess.run(["systemd-analyze", "verify", *(str(prefix / "misc" / unit) for unit in units)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert [line for line in (done.stdout + done.stderr).splitlines() if "shocpp" in line] == []


def test_stopping_lets_the_backends_finish_on_their_own(prefix):
    """misc/shocpp-stop (the unit's ExecStop): websocketd goes, each backend reads EOF and exits cleanly."""
    port = free_port()
    out = open(prefix.parent / "listener.out", "wb")
    listener = subprocess.Popen([str(prefix / "bin/shocpp-listener")], stdout=out, stderr=subprocess.STDOUT,
                                cwd=prefix.parent, start_new_session=True,
                                env={**PLAIN_ENV, "WS_ADDRESS": "127.0.0.1", "WS_PORT": str(port)})
    try:
        wait_for_port(port, listener)

        async def body():
            async with websockets.connect(f"ws://127.0.0.1:{port}/CP-stop", subprotocols=["ocpp1.6"]) as ws:
                await ws.send('[2,"b1","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"Box"}]')
                answer = json.loads(await ws.recv())
                (backend_dir,) = (prefix / "run").glob("CP-stop@*")
                status = await asyncio.create_subprocess_exec(
                    str(prefix / "bin/shocpp-status"), "--json", cwd=prefix.parent, env=PLAIN_ENV,
                    stdout=asyncio.subprocess.PIPE)
                before = json.loads((await status.communicate())[0])
                stop = await asyncio.create_subprocess_exec(
                    str(prefix / "misc/shocpp-stop"), "10", cwd=prefix.parent,
                    env={**PLAIN_ENV, "MAINPID": str(listener.pid)})
                return answer, backend_dir, before, await stop.wait()
        answer, backend_dir, before, stop_status = run(body())
        assert answer[:2] == [3, "b1"] and answer[2]["status"] == "Accepted"
        # known chargers that are not connected (seen by an earlier test of the install) are listed too
        assert [c["identity"] for c in before["chargers"] if c["connected"]] == ["CP-stop"]
        assert stop_status == 0
        assert listener.wait(timeout=10) == -signal.SIGTERM  # websocketd, which the listener exec'd
        assert not backend_dir.exists()  # the backend removed it: it was not killed
        pid = backend_dir.name.rpartition("@")[2]
        assert f" CP-stop[{pid}] - disconnected\n" in (prefix / "log/shocpp.log").read_text()
        done = installed(prefix, "shocpp-status")
        # the backend left run/seen/CP-stop.json: the gone charger is listed, not connected
        assert done.returncode == 5 and done.stdout.startswith("CP-stop\n  NOT CONNECTED, last seen 20")
        assert "  charger     Acme Box\n\n" in done.stdout and done.stdout.endswith("\nno charger is connected\n")
    finally:
        try:
            os.killpg(listener.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        listener.wait(timeout=10)
        out.close()


def test_the_installed_monthly_job_writes_the_statements(prefix):
    """What shocpp-statements.service runs, as it runs it: the previous month of the installed ledger."""
    import datetime

    from shocpp.protocol import months

    label = months.label(months.previous(months.of(datetime.date.today())))
    line = {"event": "stop", "charger": "garage-left", "transaction_id": 10001000, "account": "home",
            "account_index": 1, "id_tag": "1111", "meter_start_kwh": 1000, "meter_stop_wh": 1002500,
            "consumed_kwh": 2, "consumed_wh": 2500, "energy_wh": 2500, "stop_time": f"{label}-10T10:00:00Z",
            "flags": []}
    ledger = prefix / f"accounting/{label}.jsonl"
    ledger.write_text(json.dumps(line) + "\n")
    try:
        unit = (prefix / "misc/shocpp-statements.service").read_text()
        command = unit.split("\nExecStart=", 1)[1].split("\n", 1)[0].split()
        done = subprocess.run(command, capture_output=True, text=True, cwd=prefix, env=PLAIN_ENV, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [f"wrote {prefix}/statements/{label}-home.html",
                                            f"wrote {prefix}/statements/{label}-home.csv"]
        assert "Energy</th><td>2.500 kWh</td>" in (prefix / f"statements/{label}-home.html").read_text()
    finally:
        ledger.unlink()
        for made in (prefix / "statements").glob(f"{label}-*"):
            made.unlink()


def test_installing_again_upgrades_the_code_and_keeps_the_data(prefix):
    tags = [{"index": 7, "account": "site", "ids": ["ABCD"]}]
    (prefix / "conf/tags.json").write_text(json.dumps(tags))
    (prefix / "accounting/2026-11.jsonl").write_text('{"kept": true}\n')
    (prefix / "shocpp/removed_module.py").write_text("")
    done = make_install(prefix)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"kept {prefix}/conf/tags.json (not overwritten)" in done.stdout
    assert json.loads((prefix / "conf/tags.json").read_text()) == tags
    assert (prefix / "accounting/2026-11.jsonl").read_text() == '{"kept": true}\n'
    assert not (prefix / "shocpp/removed_module.py").exists()
    assert installed(prefix, "shocpp-backend", input='[2,"2","Heartbeat",{}]\n').stdout.startswith('[3,"2",')


def test_a_python_in_a_home_directory_is_refused(tmp_path):
    """#24 item 6: a venv made from a Python under /root (pyenv's) or /home cannot start under the units'
    ProtectHome=yes: make install says so and what to do, and installs nothing."""
    import sys
    import tempfile
    home = Path(tempfile.mkdtemp(prefix="shocpp-test-python-", dir="/root"))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--copies", "--without-pip", str(home / "venv")], check=True,
                       timeout=120)
        python = home / "venv" / "bin" / "python"
        done = make_install(tmp_path / "prefix", f"INSTALL_PYTHON={python}", allow_home=False)
        assert done.returncode != 0
        assert (f"make install: INSTALL_PYTHON={python} is the Python {python}, under /root: the service runs with "
                f"ProtectHome=yes, which hides it, so the installed shocpp could not start. Use a Python outside "
                f"home directories: make install INSTALL_PYTHON=/usr/bin/python3") in done.stderr
        assert not (tmp_path / "prefix").exists()
    finally:
        shutil.rmtree(home)


def test_a_wrapper_never_falls_back_to_another_python_when_the_installs_cannot_run(tmp_path):
    """Under ProtectHome the install's .venv/bin/python pointed at nothing, and the wrappers ran the
    system's python3 without the dependencies: now they refuse, saying why."""
    for name in ("bin", "shocpp"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to("/root/.hidden-by-protecthome/python3")
    for command in ("shocpp-listener", "shocpp-backend", "shocpp-status"):
        done = subprocess.run([str(tmp_path / "bin" / command), "--help"], capture_output=True, text=True,
                              env=PLAIN_ENV, timeout=30)
        assert (done.returncode, done.stdout) == (9, "")
        assert done.stderr.startswith(f"{command}: cannot run {tmp_path}/bin/../.venv/bin/python: its interpreter "
                                      f"is missing or hidden from this user")


def test_a_relative_prefix_is_refused(tmp_path):
    done = make_install("opt/shocpp")
    assert done.returncode != 0 and "PREFIX must be an absolute path" in done.stderr
    assert not (ROOT / "opt").exists()


def test_the_requirements_are_those_of_pyproject():
    import sys
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = list(dict.fromkeys(project["dependencies"] + project["optional-dependencies"]["test"]
                                  + project["optional-dependencies"]["sim"]))
    done = subprocess.run([sys.executable, "misc/requirements.py", "test", "sim"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.stdout.splitlines() == expected
    refused = subprocess.run([sys.executable, "misc/requirements.py", "nonesuch"], cwd=ROOT,
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "no list 'nonesuch'" in refused.stderr
