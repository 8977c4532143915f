"""shocpp-balance: share the site's grid connection among the charging connectors, and charge from solar surplus.

Stateless like the backends: each round reads what the run directory knows (the connected chargers, their
connectors' status and meter values), the running sessions in the ledger and the grid meter; decides with
shocpp.protocol.balance; and sends SetChargingProfile through the same FIFO path as shocpp-command
(shocpp.tools.command.choose and send, in-process). What it must remember between rounds (the profiles
sent, each connection's stack level or refusal, the surplus timers, the last good grid reading) is kept
in <run>/balance/state.json, so a restart changes nothing at the chargers.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import config as config_module
from .. import balance_control, site_file
from ..exits import FAILED, OK, USAGE, describe
from ..protocol import balance, matching
from ..protocol.site import SiteError, resolve_pointer
from . import command, printable_output, status

EXITS = (OK, USAGE, FAILED)
EXIT_DETAILS = {USAGE: "e.g. site.json is missing or broken", FAILED: "e.g. the run directory cannot be read"}
SEND_TIMEOUT = 10.0

EXAMPLES = """\
examples:
  shocpp-balance --once --dry-run      what it would send now, as JSON, sending nothing
  shocpp-balance --once                one round: decide, send, print the decisions
  shocpp-balance                       a round every interval_s (as the service shocpp-balance does)
  SHOCPP_SITEFILE=/etc/shocpp/site.json shocpp-balance --once

conf/site.json (SHOCPP_SITEFILE):
  {"grid_limit_a": 32, "interval_s": 30,
   "default": {"min_a": 6, "max_a": 16, "phases": 3, "mode": "fast"},
   "chargers": {"carport": {"mode": "pv", "phases": 1}},
   "grid_meter": {"file": "/run/grid-power"}}
Modes: off, fast, pv (surplus only), minpv (the minimum, more with surplus). The grid meter is a
command, a url with a JSON pointer, or a file; its value is the grid power in W, negative when exporting.

"""


def log(message):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} shocpp-balance: {message}", file=sys.stderr, flush=True)


# -- the state kept in the run directory ----------------------------------------------------------

def load_state(run_dir):
    data = balance_control.read(run_dir, balance_control.STATE)
    return data if isinstance(data, dict) else {}


def save_state(run_dir, state):
    """state.json in <run>/balance/: never through a link (balance_control.write)."""
    balance_control.write(run_dir, balance_control.STATE, state)


def _surplus_states(state):
    found = {}
    for key, fields in (state.get("surplus") or {}).items():
        charger, _, connector = key.rpartition("/")
        try:
            found[(charger, int(connector))] = balance.Surplus(**fields)
        except (TypeError, ValueError):
            continue
    return found


# -- reading what is there -------------------------------------------------------------------------

def running_sessions(accounting_dir):
    """{(charger, connector_id): start record} of the sessions running now (a start without its stop),
    from the two newest month files of the ledger."""
    records = []
    for path in sorted(Path(accounting_dir).glob("*.jsonl"))[-2:]:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return {(r.get("charger"), r.get("connector_id")): r for r in matching.open_starts(records)}


def read_grid_meter(meter):
    """The grid power in W, or None when it cannot be read (the reason is logged)."""
    try:
        if meter.kind == "file":
            text = Path(meter.source).read_text(encoding="utf-8")
            return _number(text)
        if meter.kind == "command":
            returncode, stdout, stderr = _run_meter_command(meter.source, meter.timeout_s)
            if returncode != 0:
                raise ValueError(f"the command exited with {returncode}: {stderr.strip()[:200]}")
            return _number(stdout)
        import urllib.request
        with urllib.request.urlopen(meter.source, timeout=meter.timeout_s) as answer:
            document = json.loads(answer.read(1_000_000).decode("utf-8"))
        return _number(resolve_pointer(document, meter.pointer))
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
        log(f"grid meter ({meter.kind} {meter.source}): cannot read: {e}")
        return None


def _run_meter_command(line, timeout_s):
    """(exit status, output, errors) of a grid meter command; one that takes longer than timeout_s is
    killed together with everything it started (its own process group), so that a hung meter leaves
    no process behind, round after round."""
    proc = subprocess.Popen(["/bin/sh", "-c", line], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise
    return proc.returncode, stdout, stderr


def _number(value):
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise ValueError(f"not a number: {value!r}")


def connectors(run_dir, accounting_dir, state):
    """([balance.Connector], {charger: its connection 'identity@pid'}) of the connected chargers."""
    sessions = running_sessions(accounting_dir)
    failed = state.get("connections") or {}
    found, connection_of = [], {}
    for charger in status.load(run_dir):
        connection = f"{charger.identity}@{charger.pid}"
        connection_of[charger.identity] = connection
        refused = bool((failed.get(connection) or {}).get("failed"))
        for k in charger.connectors:
            start = sessions.get((charger.identity, k.connector_id)) or {}
            tid = start.get("transaction_id")
            found.append(balance.Connector(charger.identity, k.connector_id, k.status, k.power_w,
                                           str(start.get("start_time") or ""),
                                           tid if type(tid) is int else None, refused))
    return found, connection_of


# -- one round -------------------------------------------------------------------------------------

def round_(settings, site, state, now, dry_run=False, timeout=SEND_TIMEOUT):
    """Decide and (unless dry_run) send; the decisions and the new state."""
    found, connection_of = connectors(settings.run_dir, settings.accounting_dir, state)
    grid_state = balance.GridState(**(state.get("grid") or {}))
    grid_w, meter_failed, note = None, False, None
    if site.grid_meter is not None:
        value = read_grid_meter(site.grid_meter)
        grid_state, grid_w, note = balance.grid_step(grid_state, now, value, site.interval_s, site.grid_limit_a)
        meter_failed = grid_w is None
        if note:
            log(note)
    sent = state.get("sent") or {}
    profiled = {(c.charger, c.connector_id) for c in found
                if str(c.connector_id) in (sent.get(connection_of.get(c.charger)) or {})}
    decisions, surplus = balance.decide(site, found, grid_w, _surplus_states(state), now, meter_failed, note,
                                        profiled)
    state = {**state, "grid": asdict(grid_state),
             "surplus": {f"{c}/{k}": asdict(s) for (c, k), s in surplus.items()}}
    live = set(connection_of.values())
    state["connections"] = {k: v for k, v in (state.get("connections") or {}).items() if k in live}
    state["sent"] = {k: v for k, v in (state.get("sent") or {}).items() if k in live}
    for d in decisions:
        log(f"{d.charger} connector {d.connector_id}: "
            f"{'no profile' if d.limit_a is None else f'{d.limit_a} A'} on {d.phases} phase(s): {d.reason}")
    if not dry_run:
        send_profiles(settings.run_dir, site, decisions, connection_of, state, now, timeout)
    return decisions, state


def round_status(site, decisions, state, now):
    """What balance_control.status() gives other tools: this round's limits and their reasons."""
    chargers = {}
    controls = state.get("controls") or {}
    for d in decisions:
        s = site.settings(d.charger)
        entry = chargers.setdefault(d.charger, {"mode": (controls.get(d.charger) or {}).get("mode") or s.mode,
                                                "max_a": s.max_a, "connectors": {}})
        entry["connectors"][str(d.connector_id)] = {
            "limit_a": d.limit_a, "phases": d.phases, "draw_a": getattr(d, "draw_a", None),
            "honouring": getattr(d, "honouring", True), "reason": d.reason}
    grid = state.get("grid") or {}
    return {"updated_at": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds"),
            "pid": os.getpid(), "interval_s": site.interval_s, "grid_limit_a": site.grid_limit_a,
            "grid_power_w": grid.get("last_w") if grid.get("at") == now else None,
            "surplus_w": None, "chargers": chargers}


def _sent(state, connection, connector_id):
    entry = (state["sent"].get(connection) or {}).get(str(connector_id))
    try:
        return balance.Sent(**entry) if entry else None
    except TypeError:
        return None


def send_profiles(run_dir, site, decisions, connection_of, state, now, timeout):
    """The profiles that changed: every lowering first (all chargers at once), the raises only when
    every lowering was confirmed, so the sum never exceeds the limit even for a moment."""
    lower, raise_ = {}, {}
    for d in decisions:
        connection = connection_of.get(d.charger)
        last = _sent(state, connection, d.connector_id)
        why = balance.should_send(last, d, now)
        if connection is None or why is None:
            continue
        going_down = last is None or d.limit_a < last.limit_a or d.phases != last.phases
        (lower if going_down else raise_).setdefault(d.charger, []).append((d, why))
    if not _send_all(run_dir, site, lower, connection_of, state, now, timeout):
        if raise_:
            log("a lower limit was not confirmed: no limit is raised this round")
        return
    _send_all(run_dir, site, raise_, connection_of, state, now, timeout)


def _send_all(run_dir, site, by_charger, connection_of, state, now, timeout):
    """Send each charger's profiles in a thread of its own; True when all were accepted."""
    results = {}
    lock = threading.Lock()

    def work(charger, items):
        ok = _send_charger(run_dir, site, charger, items, connection_of[charger], state, now, timeout, lock)
        results[charger] = ok

    threads = [threading.Thread(target=work, args=(c, items), daemon=True) for c, items in by_charger.items()]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 2 * (timeout + command.GRACE) + 1
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return all(results.get(c) for c in by_charger)


def shaped(payload, ocpp):
    """The SetChargingProfile payload in the shape of the charger's protocol."""
    if ocpp != "2.0.1":
        return payload
    from ..protocol.v201 import profiles
    return profiles.from_v16(payload)


def _send_charger(run_dir, site, charger, items, connection, state, now, timeout, lock):
    settings = site.settings(charger)
    try:
        conn = command.choose(run_dir, charger)
    except command.Failure as e:
        log(f"{charger}: {e}")
        return False
    ocpp = command.version(conn)
    with lock:
        known = (state["connections"].get(connection) or {}).get("stack_level")
    if known is None and ocpp == "2.0.1":
        known = 0  # 2.0.1 has no GetConfiguration; stack level 0 is accepted by every station
    if known is None:
        answer = command.send(run_dir, conn, "GetConfiguration", {"key": ["ChargeProfileMaxStackLevel"]}, timeout)
        if answer.get("status") != "result":
            log(f"{charger}: GetConfiguration ChargeProfileMaxStackLevel: {_describe(answer)}; using stack level 0")
            known = 0
        else:
            known = balance.stack_level(answer.get("payload"))
        with lock:
            state["connections"].setdefault(connection, {})["stack_level"] = known
    start = (datetime.fromtimestamp(now, timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ok = True
    for d, why in items:
        payload = shaped(balance.charging_profile(d, settings, known, start), ocpp)
        answer = command.send(run_dir, conn, "SetChargingProfile", payload, timeout)
        accepted = answer.get("status") == "result" and (answer.get("payload") or {}).get("status") == "Accepted"
        if accepted:
            log(f"{charger} connector {d.connector_id}: sent {d.limit_a} A on {d.phases} phase(s) ({why})")
            with lock:
                state["sent"].setdefault(connection, {})[str(d.connector_id)] = asdict(
                    balance.Sent(d.limit_a, d.phases, now))
            continue
        ok = False
        if answer.get("status") in ("result", "error"):
            log(f"{charger} connector {d.connector_id}: SetChargingProfile {_describe(answer)}: counted at its "
                f"max and left alone until it reconnects")
            with lock:
                state["connections"].setdefault(connection, {})["failed"] = _describe(answer)
            return False
        log(f"{charger} connector {d.connector_id}: SetChargingProfile {_describe(answer)}; tried again next round")
    return ok


def _describe(answer):
    kind = answer.get("status")
    if kind == "result":
        return f"answered {(answer.get('payload') or {}).get('status')!r}"
    if kind == "error":
        return f"answered CALLERROR {answer.get('code')}: {answer.get('description') or ''}".rstrip(": ")
    if kind == "refused":
        return f"refused by the backend: {answer.get('message')}"
    return "no answer in time"


# -- the command -----------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="shocpp-balance", epilog=EXAMPLES + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Share the site's grid connection (site.json) among the charging connectors and charge "
                    "from solar surplus: every interval_s, decide each connector's limit and send the "
                    "changed ones as charging profiles (as shocpp-command would). Every decision is logged "
                    "with its reason on stderr.")
    parser.add_argument("--once", action="store_true", help="one round; print its decisions as JSON")
    parser.add_argument("--dry-run", action="store_true", help="decide, log and print, but send nothing")
    parser.add_argument("--mode", action="append", default=[], metavar="CHARGER=MODE",
                        help=f"set a charger's mode ({', '.join(balance_control.MODES)}, or site: site.json's) "
                             "and exit; the running balancer applies it at its next round, also after a restart")
    parser.add_argument("--max", action="append", default=[], metavar="CHARGER=AMPS",
                        help="set a charger's maximum in A (or site: site.json's max_a) and exit")
    parser.add_argument("--timeout", type=float, default=SEND_TIMEOUT, metavar="S",
                        help=f"seconds to wait for a charger's answer (default {SEND_TIMEOUT:g})")
    args = parser.parse_args(argv)
    if not 0 < args.timeout <= 600:
        parser.error("--timeout must be more than 0 and at most 600 seconds")
    args.settings = []
    for option, items in (("--mode", args.mode), ("--max", args.max)):
        for item in items:
            charger, equals, value = item.rpartition("=")
            if not equals or not charger or not value:
                parser.error(f"{option} {item!r}: expected CHARGER={'MODE' if option == '--mode' else 'AMPS'}")
            try:
                args.settings.append(_control(option, charger, value))
            except ValueError as e:
                parser.error(f"{option} {item!r}: {e}")
    if args.settings and (args.once or args.dry_run):
        parser.error("--mode and --max set and exit: not with --once or --dry-run")
    return args


def _control(option, charger, value):
    """(setter, charger, value) of a --mode or --max, checked."""
    if option == "--mode":
        mode = None if value == "site" else value
        if mode is not None and mode not in balance_control.MODES:
            raise ValueError(f"unknown mode {value!r}: one of {', '.join(balance_control.MODES)} or site")
        return balance_control.set_mode, charger, mode
    if value == "site":
        return balance_control.set_max, charger, None
    if not value.isdigit() or not 0 <= int(value) <= balance_control.MAX_A:
        raise ValueError(f"a whole number of A from 0 to {balance_control.MAX_A}, or site")
    return balance_control.set_max, charger, int(value)


def apply_controls(settings, site, items, out):
    """--mode and --max: write them for the running balancer (only for chargers site.json names)."""
    unknown = sorted({charger for _, charger, _ in items if charger not in site.chargers})
    if unknown:
        print(f"shocpp-balance: not in site.json's chargers (only those are balanced): {', '.join(unknown)}; "
              f"nothing was set", file=sys.stderr)
        return USAGE
    for setter, charger, value in items:
        setter(settings.run_dir, charger, value)
        what = "mode" if setter is balance_control.set_mode else "maximum"
        shown = "site.json's" if value is None else (f"{value} A" if what == "maximum" else value)
        out.write(f"{charger}: {what} {shown}\n")
    if not balance_control.running(settings.run_dir, time.time()):
        out.write("(no balancer is running now: it applies these when it starts)\n")
    return OK


def main(argv=None, env=None, out=None, clock=time.time):
    printable_output()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    try:
        settings = config_module.from_env(env)
        source = site_file.SiteFile(settings.site_file)
    except (config_module.ConfigError, SiteError) as e:
        print(f"shocpp-balance: {e}", file=sys.stderr)
        return USAGE
    if args.settings:
        try:
            return apply_controls(settings, source.site, args.settings, out)
        except (OSError, ValueError) as e:
            print(f"shocpp-balance: {e}", file=sys.stderr)
            return FAILED
    stopping = threading.Event()
    if not args.once:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stopping.set())
    while True:
        site, problem = source.current()
        if problem:
            log(problem)
        started = clock()
        try:
            state = load_state(settings.run_dir)
            decisions, state = round_(settings, site, state, started, args.dry_run, args.timeout)
            if not args.dry_run:
                save_state(settings.run_dir, state)
                balance_control.write(settings.run_dir, balance_control.STATUS,
                                      round_status(site, decisions, state, started))
        except OSError as e:
            print(f"shocpp-balance: {e}", file=sys.stderr)
            if args.once:
                return FAILED
            decisions = None
        if args.once:
            out.write(json.dumps([d.as_json() for d in decisions], indent=2, ensure_ascii=False) + "\n")
            return OK
        if stopping.wait(max(0.0, site.interval_s - (clock() - started))):
            return OK


if __name__ == "__main__":
    sys.exit(main())
