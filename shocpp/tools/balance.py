"""shocpp-balance: share the site's grid connection among the charging connectors, and charge from solar surplus.

The site's one closed-loop controller of charging current. Each round reads what the run directory knows
(the connected chargers, their connectors' status and meter values), the running sessions in the ledger,
the grid meter and the operator's settings (shocpp.balance_control); decides with shocpp.protocol.balance
(what each connector draws held against its limit); and sends SetChargingProfile through the same FIFO
path as shocpp-command (shocpp.tools.command.choose and send, in-process). What it remembers between
rounds (the limits accepted, what each charger takes, refusals, the surplus timers and the closed loop,
the last good grid reading) is kept in <run>/balance/state.json: a hint between runs, never proof, so the
first round of a run sends every limit again. Each round's outcome goes to <run>/balance/status.json.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import config as config_module
from .. import balance_control, site_file
from ..exits import FAILED, OK, USAGE, describe
from ..protocol import balance, matching, timestamps
from ..protocol.site import SiteError, resolve_pointer
from . import command, printable_output, status

EXITS = (OK, USAGE, FAILED)
EXIT_DETAILS = {USAGE: "e.g. site.json is missing or broken", FAILED: "e.g. the run directory cannot be read"}
SEND_TIMEOUT = 10.0
SUMMARY_S = 3600  # a running balancer logs every decision this often, and its changes in between

EXAMPLES = """\
examples:
  shocpp-balance --once --dry-run      what it would send now, as JSON, sending nothing
  shocpp-balance --once                one round: decide, send, print the decisions
  shocpp-balance                       a round every interval_s (as the service shocpp-balance does)
  shocpp-balance --mode carport=pv     the operator's mode for a charger, applied at the next round
  shocpp-balance --max garage=10       its maximum in A (garage=site: site.json's max_a again)
  SHOCPP_SITEFILE=/etc/shocpp/site.json shocpp-balance --once

conf/site.json (SHOCPP_SITEFILE):
  {"grid_limit_a": 32, "interval_s": 30,
   "default": {"min_a": 6, "max_a": 16, "phases": 3, "mode": "fast"},
   "chargers": {"carport": {"mode": "pv", "phases": 1}},
   "grid_meter": {"file": "/run/grid-power"}}
Only the chargers named in "chargers" are balanced. Modes: off (paused, 0 A), fast, pv (surplus only),
minpv (the minimum, more with surplus), unmanaged (no profile, counted at max_a). The grid meter is a
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
            try:
                return _number(stdout)
            except ValueError:
                said = f"; on stderr: {stderr.strip()[:200]}" if stderr.strip() else ""
                output = stdout.strip()
                raise ValueError((f"its output {output[:200]!r} is not a number" if output else
                                  "it printed nothing") + said) from None
        document = json.loads(fetch(meter.source, meter.timeout_s).decode("utf-8"))
        return _number(resolve_pointer(document, meter.pointer))
    except (OSError, ValueError, KeyError, OverflowError, RecursionError, subprocess.SubprocessError,
            http.client.HTTPException) as e:
        log(f"grid meter ({meter.kind} {meter.source}): cannot read: {e}")
        return None


METER_ANSWER_MAX = 1_000_000


def fetch(url, timeout_s):
    """The body of a 200 answer to GET url, the whole request (connecting, the headers, the body) within
    timeout_s: a meter that sends a byte now and then is cut off at the deadline, not per read."""
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, parts.port, timeout=timeout_s)
    expired = threading.Event()

    def cut():
        expired.set()
        if conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)  # a blocked read returns at once
            except OSError:
                pass
    timer = threading.Timer(timeout_s, cut)
    timer.start()
    try:
        conn.request("GET", urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, "")),
                     headers={"Accept": "application/json"})
        answer = conn.getresponse()
        if answer.status != 200:
            raise ValueError(f"HTTP Error {answer.status}: {answer.reason}")
        body = answer.read(METER_ANSWER_MAX + 1)
        if len(body) > METER_ANSWER_MAX:
            raise ValueError(f"its answer is larger than {METER_ANSWER_MAX} bytes")
    except (OSError, http.client.HTTPException) as e:
        if expired.is_set():
            raise TimeoutError(f"timed out: no whole answer within {timeout_s} s") from None
        raise e
    finally:
        timer.cancel()
        conn.close()
    if expired.is_set():
        raise TimeoutError(f"timed out: no whole answer within {timeout_s} s")
    return body


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
    if isinstance(value, int) and abs(value) > 10 ** 15:
        raise ValueError(f"a number of {len(str(abs(value)))} digits is not a power reading")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise ValueError(f"not a number: {value!r}")


def connectors(run_dir, accounting_dir, state, site):
    """([balance.Connector], {charger: its connection 'identity@pid'}): the connected chargers' connectors,
    and those of the site's chargers that are gone while a session of theirs still runs in the ledger."""
    sessions = running_sessions(accounting_dir)
    failed = state.get("failed") or {}
    found, connection_of = [], {}
    for charger in status.load(run_dir, live_only=True):
        connection = f"{charger.identity}@{charger.pid}"
        connection_of[charger.identity] = connection
        refused = (failed.get(charger.identity) or {}).get("connection") == connection
        for k in charger.connectors:
            start = sessions.get((charger.identity, k.connector_id)) or {}
            tid = start.get("transaction_id")
            currents = tuple((p, a) for p, a in k.current_a.items() if p in balance.PHASES)
            received = timestamps.parse(k.meter_received_at)
            found.append(balance.Connector(charger.identity, k.connector_id, k.status, k.power_w,
                                           str(start.get("start_time") or ""),
                                           tid if type(tid) is int else None, refused, currents, True,
                                           accepted(state, charger.identity, k.connector_id),
                                           received.timestamp() if received else None))
    for (charger, connector_id), start in sorted(sessions.items(), key=lambda item: str(item[0])):
        if charger in site.chargers and charger not in connection_of and type(connector_id) is int:
            found.append(balance.Connector(charger, connector_id, None, None, str(start.get("start_time") or ""),
                                           None, connected=False, accepted=accepted(state, charger, connector_id)))
    return found, connection_of


def accepted(state, charger, connector_id):
    """The limit the charger last accepted on a connector (balance.Sent), or None."""
    entry = ((state.get("accepted") or {}).get(charger) or {}).get(str(connector_id))
    try:
        return balance.Sent(**entry) if isinstance(entry, dict) else None
    except TypeError:
        return None


def _keyed(mapping, kind):
    found = {}
    for key, fields in (mapping or {}).items():
        charger, _, connector = key.rpartition("/")
        try:
            found[(charger, int(connector))] = kind(**fields)
        except (TypeError, ValueError):
            continue
    return found


# -- one round -------------------------------------------------------------------------------------

def round_(settings, site, state, now, dry_run=False, timeout=SEND_TIMEOUT, run="", verbose=False):
    """Decide and (unless dry_run) send; the decisions and the new state. run: this run of the
    balancer (a limit sent by another run is a hint, sent again); verbose: log every decision, not
    only those that changed."""
    found, connection_of = connectors(settings.run_dir, settings.accounting_dir, state, site)
    grid_state = balance.GridState(**(state.get("grid") or {}))
    grid_w, meter_failed, note = None, False, None
    if site.grid_meter is not None:
        value = read_grid_meter(site.grid_meter)
        grid_state, grid_w, note = balance.grid_step(grid_state, now, value, site.interval_s, site.grid_limit_a)
        meter_failed = grid_w is None
        if note:
            log(note)
    profiled = {(c.charger, c.connector_id) for c in found if c.connected and c.accepted is not None}
    controls = balance_control.controls(settings.run_dir)
    outcome = balance.decide(site, found, grid_w, _keyed(state.get("surplus"), balance.Surplus), now, meter_failed,
                             note, profiled, controls, _keyed(state.get("loops"), balance.Loop), run, connection_of)
    decisions = outcome.decisions
    state = {**state, "grid": asdict(grid_state),
             "surplus": {f"{c}/{k}": asdict(s) for (c, k), s in outcome.surplus.items()},
             "loops": {f"{c}/{k}": asdict(s) for (c, k), s in outcome.loops.items()}}
    live = set(connection_of.values())
    state["failed"] = {c: v for c, v in (state.get("failed") or {}).items()
                       if isinstance(v, dict) and v.get("connection") in live}
    _log_round(state, decisions, outcome.notes, verbose)
    if not dry_run:
        send_profiles(settings.run_dir, site, decisions, connection_of, state, now, timeout, run)
    return decisions, state


def _log_round(state, decisions, notes, verbose):
    """Log the decisions that changed (limit, phases, mode, honouring) and new notes; all with verbose."""
    before = state.get("logged") or {}
    logged = {}
    for d in decisions:
        key = f"{d.charger}/{d.connector_id}"
        logged[key] = [d.limit_a, d.phases, d.mode, d.honouring]
        if verbose or before.get(key) != logged[key] or d.resend:
            log(f"{d.charger} connector {d.connector_id}: "
                f"{'no profile' if d.limit_a is None else f'{d.limit_a} A'} on {d.phases} phase(s): {d.reason}")
    for note in notes:
        if verbose or note not in (state.get("notes") or ()):
            log(note)
    state["logged"], state["notes"] = logged, list(notes)


def round_status(site, decisions, state, now, controls):
    """What balance_control.status() gives other tools: this round's limits, draws and reasons."""
    chargers = {}
    for name in site.chargers:
        s = balance.effective(site, controls, name)
        chargers[name] = {"mode": s.mode, "max_a": s.max_a, "connectors": {}}
    for d in decisions:
        entry = chargers.get(d.charger)
        if entry is not None:
            entry["connectors"][str(d.connector_id)] = {
                "limit_a": d.limit_a, "phases": d.phases, "draw_a": d.draw_a, "honouring": d.honouring,
                "reason": d.reason}
    grid = state.get("grid") or {}
    return {"updated_at": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds"),
            "pid": os.getpid(), "interval_s": site.interval_s, "grid_limit_a": site.grid_limit_a,
            "grid_power_w": grid.get("last_w") if grid.get("at") == now else None,
            "surplus_w": -grid["last_w"] if grid.get("at") == now and grid.get("last_w") is not None else None,
            "chargers": chargers}


def send_profiles(run_dir, site, decisions, connection_of, state, now, timeout, run=""):
    """The profiles that changed: every lowering first (all chargers at once), the raises only when
    every lowering was confirmed, so the sum never exceeds the limit even for a moment. A limit
    this run has not sent on this connection counts as a lowering."""
    lower, raise_ = {}, {}
    around = balance_control.around(run_dir)
    for d in decisions:
        connection = connection_of.get(d.charger)
        last = accepted(state, d.charger, d.connector_id)
        why = balance.should_send(last, d, now, run, connection, around.get(d.charger))
        if connection is None or why is None:
            continue
        going_down = last is None or last.run != run or last.connection != connection or d.resend \
            or d.limit_a < last.limit_a or d.phases != last.phases or why == balance.AROUND
        (lower if going_down else raise_).setdefault(d.charger, []).append((d, why))
    if not _send_all(run_dir, site, lower, connection_of, state, now, timeout, run):
        if raise_:
            log("a lower limit was not confirmed: no limit is raised this round")
        return
    _send_all(run_dir, site, raise_, connection_of, state, now, timeout, run)


def _send_all(run_dir, site, by_charger, connection_of, state, now, timeout, run):
    """Send each charger's profiles in a thread of its own; True when all were accepted."""
    results = {}
    lock = threading.Lock()

    def work(charger, items):
        results[charger] = _send_charger(run_dir, site, charger, items, connection_of[charger], state, now,
                                         timeout, lock, run)

    threads = [threading.Thread(target=work, args=(c, items), daemon=True) for c, items in by_charger.items()]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 3 * (timeout + command.GRACE) + 1
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return all(results.get(c) for c in by_charger)


def _learn(run_dir, conn, charger, state, timeout, lock):
    """What the charger takes (stack level, unit), asked once with GetConfiguration and remembered."""
    with lock:
        known = (state.get("learned") or {}).get(charger)
    if isinstance(known, dict) and "stack_level" in known:
        return known
    if command.version(conn) == "2.0.1":  # its device model: SmartChargingCtrlr's RateUnit, ProfileStackLevel
        from ..protocol.v201 import profiles
        answer = command.send(run_dir, conn, "GetVariables", profiles.LEARN, timeout)
        found = profiles.learned(answer.get("payload")) if answer.get("status") == "result" else None
    else:
        answer = command.send(run_dir, conn, "GetConfiguration", {"key": balance.CONFIGURATION_KEYS}, timeout)
        found = {"stack_level": balance.stack_level(answer.get("payload")),
                 "unit": balance.rate_unit(answer.get("payload"))} if answer.get("status") == "result" else None
    if found is not None:
        known = found
        log(f"{charger}: stack level {known['stack_level']}"
            + (f", takes {known['unit']} only" if known["unit"] else ""))
    else:
        asked = "GetVariables" if command.version(conn) == "2.0.1" else "GetConfiguration"
        log(f"{charger}: {asked}: {_describe(answer)}; using stack level 0 and site.json's unit")
        known = {"stack_level": 0, "unit": None}
        if answer.get("status") != "error":
            return known  # no answer: asked again next time
    with lock:
        state.setdefault("learned", {})[charger] = {**((state.get("learned") or {}).get(charger) or {}), **known}
    return known


def _send_charger(run_dir, site, charger, items, connection, state, now, timeout, lock, run):
    settings = site.settings(charger)
    try:
        conn = command.choose(run_dir, charger)
    except command.Failure as e:
        log(f"{charger}: {e}")
        return False
    learned = _learn(run_dir, conn, charger, state, timeout, lock)
    start = (datetime.fromtimestamp(now, timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ok = True
    for d, why in items:
        purpose = learned.get("purpose") or settings.purpose
        if learned.get("purpose") == "TxProfile" and d.transaction_id is None:
            continue  # it takes no TxDefaultProfile: the next session gets its TxProfile once it has started
        answer = _set_profile(run_dir, conn, d, settings, learned, purpose, start, timeout)
        if _refused(answer) and purpose == "TxDefaultProfile" and d.transaction_id is not None:
            log(f"{charger} connector {d.connector_id}: TxDefaultProfile {_describe(answer)}: a TxProfile for "
                f"transaction {d.transaction_id} instead (remembered for this charger)")
            purpose = "TxProfile"
            answer = _set_profile(run_dir, conn, d, settings, learned, purpose, start, timeout)
            if not _refused(answer):
                with lock:
                    state.setdefault("learned", {}).setdefault(charger, {})["purpose"] = purpose
        if answer.get("status") == "result" and (answer.get("payload") or {}).get("status") == "Accepted":
            log(f"{charger} connector {d.connector_id}: sent {d.limit_a} A on {d.phases} phase(s) ({why})")
            with lock:
                state.setdefault("accepted", {}).setdefault(charger, {})[str(d.connector_id)] = asdict(
                    balance.Sent(d.limit_a, d.phases, now, run, connection,
                                 purpose if d.transaction_id is not None else "TxDefaultProfile", d.transaction_id))
            continue
        ok = False
        if _refused(answer):
            log(f"{charger} connector {d.connector_id}: SetChargingProfile {_describe(answer)}: counted at its "
                f"max and left alone until it reconnects")
            with lock:
                state.setdefault("failed", {})[charger] = {"connection": connection, "why": _describe(answer)}
                (state.get("learned") or {}).pop(charger, None)  # asked again when it reconnects
            return False
        log(f"{charger} connector {d.connector_id}: SetChargingProfile {_describe(answer)}; tried again next round")
    return ok


def _set_profile(run_dir, conn, d, settings, learned, purpose, start, timeout):
    payload = shaped(balance.charging_profile(d, settings, learned.get("stack_level", 0), start, purpose,
                                              learned.get("unit")), command.version(conn))
    return command.send(run_dir, conn, "SetChargingProfile", payload, timeout)


def shaped(payload, ocpp):
    """The SetChargingProfile payload in the shape of the charger's protocol."""
    if ocpp != "2.0.1":
        return payload
    from ..protocol.v201 import profiles
    return profiles.from_v16(payload)


def _refused(answer):
    return answer.get("status") == "error" or (
        answer.get("status") == "result" and (answer.get("payload") or {}).get("status") != "Accepted")


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
                    "from solar surplus: every interval_s, compare what each connector draws with its limit, "
                    "decide each connector's limit and send the changed ones as charging profiles (as "
                    "shocpp-command would). Decisions that change are logged with their reason on stderr.")
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
    for warning in site_file.warnings(settings.site_file):
        log(f"site.json: {warning}")
    run = f"{os.getpid()}-{os.urandom(4).hex()}"  # limits sent by an earlier run are hints, sent again
    stopping = threading.Event()
    if not args.once:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stopping.set())
    summary_at = None  # every decision is logged in the first round and every SUMMARY_S, else the changes
    while True:
        site, problem = source.current()
        if problem:
            log(problem)
        started = clock()
        summary = summary_at is None or started - summary_at >= SUMMARY_S
        summary_at = started if summary else summary_at
        try:
            state = load_state(settings.run_dir)
            decisions, state = round_(settings, site, state, started, args.dry_run, args.timeout, run, summary)
            if not args.dry_run:
                save_state(settings.run_dir, state)
                balance_control.write(settings.run_dir, balance_control.STATUS, round_status(
                    site, decisions, state, started, balance_control.controls(settings.run_dir)))
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
