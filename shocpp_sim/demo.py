"""make demo: shocpp at work without a charger, in well under a minute.

Starts bin/shocpp-listener on a free loopback port with conf/tags.json and its own
temporary ledger, run and log directories (your accounting/ is not touched), runs a
simulated charger through an RFID session, then a remote start and a remote stop
with bin/shocpp-command, then an OCPP 2.0.1 station through a session on the same URL, prints
the ledger lines and the summary, and stops
everything it started, also on an error or Ctrl-C.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"
CHARGER = "garage-left"
STATION = "carport-201"  # an OCPP 2.0.1 station
WAIT = 30  # seconds for any one step; the whole demo takes about 15


class DemoError(Exception):
    pass


def say(text=""):
    print(text, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"the listener exited with status {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise DemoError(f"the listener does not listen on port {port}")


def demo_env(tmp, port):
    """The environment of the listener and the commands: this demo's own directories only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOCPP_", "WS_"))}
    env.update({
        "WS_ADDRESS": "127.0.0.1", "WS_PORT": str(port),
        "SHOCPP_TAGSFILE": str(ROOT / "conf" / "tags.json"),
        "SHOCPP_ACCOUNTINGDIR": str(tmp / "accounting"),
        "SHOCPP_RUNDIR": str(tmp / "run"),
        "SHOCPP_LOGDIR": str(tmp / "log"),
        "SHOCPP_CHARGERSFILE": str(tmp / "chargers.json"),  # absent: no charger passwords
        "SHOCPP_HEARTBEAT_INTERVAL": "5",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    return env


class Relay:
    """Shows the simulator's lines as they come and lets the demo wait for one."""

    def __init__(self, stream):
        self.lines, self.done = [], False
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream):
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\n")
            say(f"    {line}")
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.done = True
            self.changed.notify_all()

    def mark(self):
        with self.changed:
            return len(self.lines)

    def wait_for(self, pattern, after=0, seconds=WAIT):
        """The first match of `pattern` in a line from index `after` on, and the index after it."""
        regex, deadline = re.compile(pattern), time.monotonic() + seconds
        with self.changed:
            while True:
                for i in range(after, len(self.lines)):
                    match = regex.search(self.lines[i])
                    if match:
                        return match, i + 1
                remaining = deadline - time.monotonic()
                if self.done or remaining <= 0:
                    raise DemoError(f"the simulator did not show {pattern!r} "
                                    f"({'it exited' if self.done else f'within {seconds} s'})")
                self.changed.wait(remaining)


def command(env, *args):
    shown = " ".join(a if re.fullmatch(r"[\w./:=-]+", a) else f"'{a}'" for a in args)
    say(f"  $ bin/shocpp-command {shown}")
    done = subprocess.run([str(BIN / "shocpp-command"), *args], env=env, capture_output=True, text=True,
                          timeout=WAIT + 10)
    for line in (done.stdout + done.stderr).splitlines():
        say(f"    {line}")
    if done.returncode != 0:
        raise DemoError(f"shocpp-command exited with status {done.returncode}")
    return json.loads(done.stdout)


def ledger_records(accounting):
    records = []
    for path in sorted(accounting.glob("*.jsonl")):
        records += [(path, line) for line in path.read_text().splitlines() if line.strip()]
    return records


def stops(accounting):
    return [line for _, line in ledger_records(accounting) if json.loads(line).get("event", "stop") == "stop"]


def wait_for_ledger(accounting, count, seconds=WAIT):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(stops(accounting)) >= count:
            return
        time.sleep(0.1)
    raise DemoError(f"the ledger has not got {count} stop lines within {seconds} s")


def print_summary(env, accounting):
    months = sorted({path.stem for path, _ in ledger_records(accounting)})
    for month in months:
        year, number = month.split("-")
        say(f"  $ bin/shocpp-summary {year} {int(number)}")
        done = subprocess.run([str(BIN / "shocpp-summary"), year, str(int(number))], env=env, capture_output=True,
                              text=True, timeout=WAIT)
        for line in (done.stdout + done.stderr).splitlines():
            say(f"    {line}")
        if done.returncode != 0:
            raise DemoError(f"shocpp-summary exited with status {done.returncode}")


def stop_simulator(sim, seconds=15):
    """Ctrl-C for the simulator (it stops a running session first), then SIGKILL if it hangs."""
    if sim.poll() is None:
        sim.send_signal(signal.SIGINT)
        try:
            sim.wait(seconds)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait()


def stop_listener(listener):
    """The listener's process group: websocketd and the backends."""
    try:
        os.killpg(listener.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        listener.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(listener.pid, signal.SIGKILL)
        listener.wait()


def run(tmp):
    port = free_port()
    env = demo_env(tmp, port)
    accounting = Path(env["SHOCPP_ACCOUNTINGDIR"])
    url = f"ws://127.0.0.1:{port}"
    listener = sim = None
    listener_out = open(tmp / "listener.out", "wb")
    try:
        say(f"1. The central system: bin/shocpp-listener on {url}/<chargerId>, accounts from conf/tags.json,")
        say(f"   ledger, run files and log in {tmp} (removed at the end).")
        listener = subprocess.Popen([str(BIN / "shocpp-listener")], env=env, stdout=listener_out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(port, listener)
        say()
        say(f"2. A simulated charger, {CHARGER}: an RFID session with tag 1111 (account 'home'), 11 kW for 4 s.")
        say("   --time-scale 900 makes those 4 s charge as much as an hour: 11 kWh.")
        sim = subprocess.Popen(
            [str(BIN / "shocpp-simulate"), url, "--id", CHARGER, "--tag", "1111", "--sessions", "1",
             "--session-seconds", "4", "--meter-interval", "1", "--power", "11000", "--time-scale", "900",
             "--duration", "120"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        relay = Relay(sim.stdout)
        _, at = relay.wait_for(r"→ StopTransaction")
        _, at = relay.wait_for(r"→ StatusNotification connectorId=1 Available", after=at)
        relay.wait_for(r"← ", after=at)
        wait_for_ledger(accounting, 1)
        say()
        say("3. A remote start with tag 2222 from the central system, and a remote stop 3 s later:")
        at = relay.mark()
        command(env, "--charger", CHARGER, "RemoteStartTransaction", '{"idTag":"2222"}')
        match, at = relay.wait_for(r"← transactionId=(\d+) Accepted", after=at)
        transaction_id = int(match.group(1))
        relay.wait_for(r"→ MeterValues", after=at)
        time.sleep(2)
        at = relay.mark()
        command(env, "--charger", CHARGER, "RemoteStopTransaction", json.dumps({"transactionId": transaction_id}))
        _, at = relay.wait_for(r"→ StopTransaction", after=at)
        relay.wait_for(r"→ StatusNotification connectorId=1 Available", after=at)
        wait_for_ledger(accounting, 2)
        say()
        say("4. The simulator stops (like Ctrl-C) and prints what it did:")
        stop_simulator(sim)
        relay.thread.join(5)
        if sim.returncode != 0:
            raise DemoError(f"the simulator exited with status {sim.returncode}")
        say()
        say(f"5. An OCPP 2.0.1 station on the same URL, {STATION}: an RFID session with tag 3333 (account")
        say("   'company-x'): TransactionEvent Started, Updated, Ended; billed to the Wh in the same ledger.")
        station = subprocess.run(
            [str(BIN / "shocpp-simulate"), url, "--ocpp", "2.0.1", "--id", STATION, "--tag", "3333", "--sessions",
             "1", "--session-seconds", "3", "--meter-interval", "1", "--power", "11000", "--time-scale", "900"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=WAIT + 30)
        for line in station.stdout.splitlines():
            say(f"    {line}")
        if station.returncode != 0:
            raise DemoError(f"the 2.0.1 simulator exited with status {station.returncode}")
        wait_for_ledger(accounting, 3)
        say()
        say("6. The ledger (accounting/YYYY-MM.jsonl), a start and a stop line per session:")
        for _, line in ledger_records(accounting):
            say(f"    {line}")
        say()
        say("7. The summary of the month:")
        print_summary(env, accounting)
        say()
        say("Done. Try it yourself: 'make run' in one terminal and, in another,")
        say(f"  bin/shocpp-simulate ws://localhost:8080 --id {CHARGER} --sessions 1 --session-seconds 20")
        say("and follow the ledger with 'tail -f accounting/*.jsonl'.")
    except (DemoError, subprocess.TimeoutExpired) as e:
        listener_out.flush()
        say(f"\nshocpp demo: failed: {e}")
        output = (tmp / "listener.out").read_text(errors="replace").strip()
        if output:
            say("the listener said:\n" + "\n".join(f"    {line}" for line in output.splitlines()[-20:]))
        return 1
    finally:
        if sim is not None:
            stop_simulator(sim)
        if listener is not None:
            stop_listener(listener)
        listener_out.close()
    return 0


def main():
    with tempfile.TemporaryDirectory(prefix="shocpp-demo-") as tmp:
        try:
            return run(Path(tmp))
        except KeyboardInterrupt:
            say("\nshocpp demo: interrupted; everything it started is stopped")
            return 130


if __name__ == "__main__":
    sys.exit(main())
