"""shocpp-status: the chargers, their connectors, latest meter readings and running sessions.

Sans-I/O: `charger_status(info, statuses, meters, running, now)` turns what a backend wrote in
its run directory (info.json, status-<c>.json, meter-<c>.json, already loaded) and the charger's
running sessions (open start records of the ledger) into a ChargerStatus; `render_text` and
`render_json` turn those into text. Only `load` and `main` touch files.
"""

import argparse
import sys
from datetime import datetime, timedelta, timezone
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from .. import config as config_module
from . import printable, printable_json, printable_output
from ..protocol import meter_values, months, numbers, sessions, timestamps
from .. import ledger, runfiles
from ..exits import FAILED, NO_CHARGER, NO_SUCH_CHARGER, OK, USAGE, describe

EXITS = (OK, USAGE, NO_CHARGER, NO_SUCH_CHARGER, FAILED)
EXIT_DETAILS = {OK: "at least one charger is connected; --forget: forgotten",
                USAGE: "also --forget of a connected charger or of one chargers.json lists",
                NO_SUCH_CHARGER: "--forget: no such charger is listed",
                NO_CHARGER: "known chargers that are not connected are listed all the same",
                FAILED: "the run directory cannot be read"}

EXAMPLES = """\
examples:
  shocpp-status                      one block per connected charger
  shocpp-status --json               the same as JSON, for scripts
  shocpp-status --json | jq '.chargers[] | {identity, power: [.connectors[].power_w]}'
  watch -n 10 shocpp-status
  shocpp-status --forget default     no longer list a charger that is gone (until it comes back)

Power is in W (Power.Active.Import), energy in Wh (Energy.Active.Import.Register, the meter
register, also when the charger names no measurand), current in A per phase (Current.Import);
readings in kW and kWh are converted. Times are as the charger or the backend wrote them (UTC);
a session's start is also shown in local time (TZ).
A running session is a start record without its stop in the ledger (this month's and last month's);
its energy so far is the latest energy register minus its start reading.
Chargers that are not connected are listed when chargers.json names them or they were seen in the
last 30 days (at a disconnect, or in the ledger), with when they were last seen and what they last
reported; files left by a killed backend are ignored. --forget ID stops listing one of them (a test
charger, one replaced) until it connects again or the ledger has a newer record of it.

"""

Number = Union[int, float]

PHASES = ("L1", "L2", "L3")
UNPHASED = "unphased"  # the key of a Current.Import sample that names no phase

# measurand -> (what it is, base unit, {unit in lower case: factor to the base unit})
MEASURANDS = {
    "Power.Active.Import": ("power", "W", {"w": 1, "kw": 1000}),
    "Energy.Active.Import.Register": ("energy", "Wh", {"wh": 1, "kwh": 1000}),
    "Current.Import": ("current", "A", {"a": 1}),
}
DEFAULT_MEASURAND = "Energy.Active.Import.Register"  # OCPP 1.6, SampledValue.measurand
KNOWN_FOR = timedelta(days=30)  # a charger seen this recently is listed when it is not connected
PREFERRED_LOCATIONS = (None, "Outlet")  # Outlet is the default location; Inlet, Cable, EV only when alone


@dataclass(frozen=True)
class Connector:
    connector_id: int
    status: Optional[str] = None
    error_code: Optional[str] = None
    info: Optional[str] = None
    vendor_error_code: Optional[str] = None
    status_time: Optional[str] = None          # the StatusNotification's timestamp, else when it arrived
    meter_time: Optional[str] = None           # the newest meterValue timestamp used, else when it arrived
    meter_received_at: Optional[str] = None    # when the backend received those MeterValues (its clock)
    power_w: Optional[Number] = None
    energy_wh: Optional[Number] = None
    current_a: Dict[str, Number] = field(default_factory=dict)   # L1, L2, L3 (and 'unphased')
    session: Optional[dict] = None   # the running session (sessions.session), None without one
    balance: Optional[dict] = None   # the running balancer's word on it: mode, limit_a, draw_a, honouring, reason


@dataclass(frozen=True)
class ChargerStatus:
    identity: str
    pid: Optional[int] = None
    remote_addr: Optional[str] = None
    connected_at: Optional[str] = None
    booted_at: Optional[str] = None
    vendor: Optional[str] = None
    model: Optional[str] = None
    serial: Optional[str] = None
    firmware: Optional[str] = None
    connectors: Tuple[Connector, ...] = ()
    connected: bool = True
    last_seen: Optional[str] = None            # now for a connected charger; else when it was last seen
    ocpp: str = "1.6"                          # the protocol its backend speaks; 2.0.1: connectors are EVSEs


# -- extraction (pure) -----------------------------------------------------------------------------

def charger_status(info, statuses, meters, running=None, now=None, connected=True, last_seen=None):
    """The ChargerStatus for a backend's info.json and its status and meter files by connector id;
    running: {connector id: open start record}; now: an aware datetime (the sessions' durations)."""
    boot = info.get("boot") if isinstance(info.get("boot"), dict) else {}
    running = running or {}
    now = now or datetime.now(timezone.utc)
    ids = sorted(set(statuses) | set(meters) | set(running))
    return ChargerStatus(
        identity=str(info.get("charger", "?")),
        connected=connected,
        last_seen=last_seen,
        pid=info.get("pid") if isinstance(info.get("pid"), int) else None,
        remote_addr=_text(info.get("remote_addr")),
        connected_at=_text(info.get("connected_at")),
        booted_at=_text(info.get("booted_at")),
        vendor=_text(boot.get("chargePointVendor")),
        model=_text(boot.get("chargePointModel")),
        serial=_text(boot.get("chargePointSerialNumber") or boot.get("chargeBoxSerialNumber")),
        firmware=_text(boot.get("firmwareVersion")),
        connectors=tuple(connector_status(c, statuses.get(c), meters.get(c), running.get(c), now) for c in ids),
        ocpp="2.0.1" if info.get("ocpp") == "2.0.1" else "1.6",
    )


def connector_status(connector_id, status, meter, start=None, now=None):
    """One connector from its StatusNotification and MeterValues payloads (each may be None) and the
    start record of its running session (None without one)."""
    status = status if isinstance(status, dict) else {}
    readings = meter_readings(meter) if isinstance(meter, dict) else Readings()
    return Connector(
        connector_id=connector_id,
        status=_text(status.get("status")),
        error_code=_text(status.get("errorCode")),
        info=_text(status.get("info")),
        vendor_error_code=_text(status.get("vendorErrorCode")),
        status_time=_text(status.get("timestamp") or status.get("received_at")),
        meter_time=readings.time,
        meter_received_at=_text(meter.get("received_at")) if isinstance(meter, dict) else None,
        power_w=readings.power_w,
        energy_wh=readings.energy_wh,
        current_a=readings.current_a,
        session=None if start is None else sessions.session(
            start, now or datetime.now(timezone.utc), readings.energy_wh, readings.power_w, readings.time),
    )


@dataclass(frozen=True)
class Readings:
    power_w: Optional[Number] = None
    energy_wh: Optional[Number] = None
    current_a: Dict[str, Number] = field(default_factory=dict)
    time: Optional[str] = None


@dataclass(frozen=True)
class _Sample:
    value: Decimal           # in the base unit
    preferred: bool          # measured at the outlet (or no location given)
    moment: object           # aware datetime or None
    timestamp: Optional[str]


def meter_readings(payload):
    """The power, energy and currents in a MeterValues payload (plus received_at), in W, Wh and A.

    Per measurand and phase the newest sample wins (by timestamp; in array order when a timestamp
    is missing or unreadable); samples at the outlet win over others. Power and energy are the
    samples without a phase, or the sum of the L1..L3 samples when the charger sends only those.
    """
    best = {}   # (kind, phase) -> _Sample
    for entry, sample in meter_values.samples(payload.get("meterValue")):
        stamp = _text(entry.get("timestamp"))
        parsed = _sample(sample, stamp, timestamps.parse(stamp))
        if parsed is None:
            continue
        key, candidate = parsed
        if _better(candidate, best.get(key)):
            best[key] = candidate
    dated = [s for s in best.values() if s.moment is not None]
    if dated:
        time = max(dated, key=lambda s: s.moment).timestamp
    else:
        time = _text(payload.get("received_at")) if best else None
    currents = {phase: _plain(best[("current", phase)].value)
                for phase in PHASES + (UNPHASED,) if ("current", phase) in best}
    return Readings(power_w=_total(best, "power"), energy_wh=_total(best, "energy"),
                    current_a=currents, time=time)


def _sample(sample, stamp, moment):
    """((kind, phase), _Sample) for a sample shocpp-status shows, else None."""
    if sample.get("format") == "SignedData":
        return None
    measurand = sample.get("measurand") or DEFAULT_MEASURAND
    if not isinstance(measurand, str) or measurand not in MEASURANDS:
        return None
    kind, base, factors = MEASURANDS[measurand]
    unit = sample.get("unit")
    factor = factors.get(base.lower() if unit in (None, "") else str(unit).lower())
    number = numbers.decimal(sample.get("value"))
    if factor is None or number is None:
        return None
    phase = _phase(sample.get("phase"))
    if phase is None:
        return None
    location = sample.get("location")
    return (kind, phase), _Sample(number * factor, location in PREFERRED_LOCATIONS, moment, stamp)


def _phase(phase):
    """'L1'..'L3' (also from 'L1-N'), UNPHASED for none, None for a phase not shown (N, L1-L2)."""
    if phase in (None, ""):
        return UNPHASED
    if phase in PHASES:
        return phase
    if isinstance(phase, str) and phase.endswith("-N") and phase[:-2] in PHASES:
        return phase[:-2]
    return None


def _better(candidate, current):
    if current is None:
        return True
    if candidate.preferred != current.preferred:
        return candidate.preferred
    return not _later(current, candidate)


def _later(a, b):
    """True when a's timestamp is after b's; False when either cannot be compared."""
    return a.moment is not None and b.moment is not None and a.moment > b.moment


def _total(best, kind):
    if (kind, UNPHASED) in best:
        return _plain(best[(kind, UNPHASED)].value)
    phased = [best[(kind, p)].value for p in PHASES if (kind, p) in best]
    return _plain(sum(phased, Decimal(0))) if phased else None


def _plain(number):
    """An int when the value is whole, else a float: what JSON and people read best."""
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _text(value):
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


# -- rendering (pure) ------------------------------------------------------------------------------

def render_json(chargers):
    return printable_json({"chargers": [asdict(c) for c in chargers]}, indent=2) + "\n"


def unknown_cards(config):
    """The unknown RFID cards the backends met in the last 30 days (shocpp.unknown_tags), newest first."""
    from .. import tags_file, unknown_tags
    from ..protocol.tags import TagsError
    try:
        tags = tags_file.load(config.tags_file)
    except TagsError:
        tags = None
    return unknown_tags.recent(config.run_dir, datetime.now(timezone.utc), tags)


def render_cards(cards):
    if not cards:
        return ""
    lines = [f"  {printable(c['id_tag'])} at {printable(str(c['charger']))}, "
             f"{_local(c['seen_at'])}: {c['outcome']}" for c in cards]
    return "\nunknown cards (last 30 days; add one to an account in tags.json or on the dashboard):\n" \
        + "\n".join(lines) + "\n"


def render_text(chargers):
    if not chargers:
        return "no charger is connected\n"
    blocks = "\n".join(_block(c) for c in chargers)
    return blocks if any(c.connected for c in chargers) else blocks + "\nno charger is connected\n"


def _block(c):
    """A charger's lines. Every text in them is the charger's or its backend's: escaped, so that a
    control character or a newline in a serial number can neither draw nor forge a line."""
    c = _escaped(c)
    lines = [c.identity]
    where = f" from {c.remote_addr}" if c.remote_addr else ""
    pid = f" (backend pid {c.pid})" if c.pid else ""
    if c.connected:
        lines.append(f"  connected   {c.connected_at or '?'}{where}{pid}")
    else:
        lines.append(f"  NOT CONNECTED, last seen {c.last_seen or 'never (listed in chargers.json)'}")
    if c.booted_at is None:
        if c.connected:
            lines.append("  charger     no BootNotification yet")
    else:
        device = " ".join(x for x in (c.vendor, c.model) if x) or "?"
        extra = "".join(f", {label} {value}" for label, value in (("serial", c.serial), ("firmware", c.firmware))
                        if value)
        lines.append(f"  charger     {device}{extra}" + (", OCPP 2.0.1" if c.ocpp == "2.0.1" else ""))
    if not c.connectors and c.connected:
        lines.append("  connectors  no StatusNotification or MeterValues yet")
    for k in c.connectors:
        head = f"  {'evse' if c.ocpp == '2.0.1' else 'connector'} {k.connector_id}".ljust(14)
        lines.append(head + _status_line(k))
        meter = _meter_line(k)
        if meter:
            lines.append(" " * 14 + meter)
        if k.session is not None:
            lines.append(" " * 14 + session_line(k.session))
        if k.balance is not None:
            lines.append(" " * 14 + balance_line(k.balance))
    return "\n".join(lines) + "\n"


def _local(text):
    """A time the charger or a backend wrote, in local time (TZ); as written when it cannot be read."""
    moment = timestamps.parse(text)
    return (moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if moment is not None
            else printable(text) if text is not None else "?")


def session_line(s):
    """A running session on one line: transactionId, account, tag, start in local time, duration,
    energy so far in kWh (three decimals) and power; what the charger sent escaped."""
    start = _local(s["start_time"])
    parts = [f"session {s['transaction_id']}", f"account {printable(s['account'])}",
             f"tag {printable(s['id_tag'])}", f"since {start}"]
    if s["duration_s"] is not None:
        hours, rest = divmod(s["duration_s"], 3600)
        parts.append(f"for {hours}:{rest // 60:02d}:{rest % 60:02d}")
    if s["energy_wh"] is not None:
        parts.append(f"{s['energy_wh'] / 1000:.3f} kWh so far")
    if s["power_w"] is not None:
        parts.append(f"{s['power_w']} W")
    if s.get("stale"):
        parts.append("STALE: no stop for longer than a session can last (its stop was lost; not charging)")
    return ", ".join(parts)


def balance_line(b):
    """The balancer's limit for a connector, its mode, and whether the connector honours it."""
    limit = "no limit sent" if b.get("limit_a") is None else f"limit {b['limit_a']} A"
    text = f"balancer    {limit} ({printable(b.get('mode'))})"
    if isinstance(b.get("draw_a"), (int, float)):
        text += f", draws {b['draw_a']:g} A"
    return text + ("" if b.get("honouring", True) else ": NOT HONOURING ITS LIMIT")


def with_balance(chargers, last):
    """The chargers with the running balancer's last round (balance_control.status()) on their connectors."""
    shown = []
    for c in chargers:
        entry = (last or {}).get("chargers", {}).get(c.identity) if isinstance(last, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("connectors"), dict):
            shown.append(c)
            continue
        connectors = []
        for k in c.connectors:
            round_ = entry["connectors"].get(str(k.connector_id))
            connectors.append(k if not isinstance(round_, dict) else replace(k, balance={
                "mode": entry.get("mode"), "limit_a": round_.get("limit_a"), "draw_a": round_.get("draw_a"),
                "honouring": round_.get("honouring") is not False, "reason": round_.get("reason")}))
        shown.append(replace(c, connectors=tuple(connectors)))
    return shown


def _escaped(c):
    """The ChargerStatus with each of its texts printable() (on one line, nothing that draws)."""
    texts = {name: printable(value) for name, value in asdict(c).items() if isinstance(value, str)}
    connectors = tuple(replace(k, **{name: printable(value) for name, value in asdict(k).items()
                                     if isinstance(value, str)}) for k in c.connectors)
    return replace(c, **texts, connectors=connectors)


def _status_line(k):
    if k.status is None and k.error_code is None:
        return "no StatusNotification yet"
    text = f"{k.status or '?'}, {k.error_code or '?'}"
    details = [x for x in (k.info, f"vendor code {k.vendor_error_code}" if k.vendor_error_code else None) if x]
    if details:
        text += f" ({'; '.join(details)})"
    return text + (f", since {k.status_time}" if k.status_time else "")


def _meter_line(k):
    parts = []
    if k.power_w is not None:
        parts.append(f"power {k.power_w} W")
    if k.energy_wh is not None:
        parts.append(f"energy {k.energy_wh} Wh")
    if k.current_a:
        parts.append("current " + " / ".join(
            (f"{amps} A" if phase == UNPHASED else f"{phase} {amps} A") for phase, amps in k.current_a.items()))
    if not parts:
        return None
    return ", ".join(parts) + (f", at {k.meter_time}" if k.meter_time else "")


# -- I/O -------------------------------------------------------------------------------------------

def connector_files(directory, prefix):
    """{connector id: payload} from `<prefix>-<id>.json` files; files that vanish or are torn are skipped."""
    found = {}
    for path in Path(directory).glob(f"{prefix}-*.json"):
        number = path.name[len(prefix) + 1:-len(".json")]
        try:
            connector = int(number)
            data = runfiles.read_json(path)
        except (ValueError, OSError, RecursionError):
            continue
        if isinstance(data, dict):
            found[connector] = data
    return found


def load(run_dir, accounting_dir=None, known=(), now=None, live_only=False):
    """The ChargerStatus of every charger with a live backend (the newest one), and of each known
    charger that is not connected (in `known`, the identities of chargers.json, or seen in the last
    30 days; none with live_only), by identity; with the running sessions of the ledger in
    `accounting_dir` (None: none)."""
    now = now or datetime.now(timezone.utc)
    records = ledger_records(accounting_dir, now) if accounting_dir is not None else []
    running = sessions.running(records)
    shown = {}
    for identity, conn in runfiles.live_chargers(run_dir).items():
        statuses = connector_files(conn.path, "status")
        meters = connector_files(conn.path, "meter")
        if not conn.path.is_dir():
            continue  # disconnected while we looked
        shown[identity] = _shown(identity, conn.info, statuses, meters, running.get(identity), now,
                                 True, timestamps.format_utc(now))
    if live_only:
        return [shown[identity] for identity in sorted(shown)]
    since = now - KNOWN_FOR
    every_seen = runfiles.seen_chargers(run_dir)
    seen = {identity: data for identity, data in every_seen.items()
            if _recent(data.get("last_seen"), since) or identity in known}
    in_ledger = sessions.last_records(records, since)
    forgotten = {identity for identity, data in every_seen.items() if identity not in known
                 and _forgotten(data, in_ledger.get(identity, {}).get("recorded_at"))}
    for identity in (set(known) | set(seen) | set(in_ledger)) - set(shown) - forgotten:
        data = seen.get(identity, {})
        times = [t for t in (data.get("last_seen"), in_ledger.get(identity, {}).get("recorded_at"))
                 if timestamps.parse(t) is not None]
        last_seen = max(times, key=timestamps.parse) if times else None
        info = data.get("info") if isinstance(data.get("info"), dict) else {}
        shown[identity] = _shown(identity, info, _by_connector(data.get("statuses")),
                                 _by_connector(data.get("meters")), running.get(identity), now, False, last_seen)
    chargers = [shown[identity] for identity in sorted(shown)]
    from .. import balance_control
    last = balance_control.status(run_dir)
    return with_balance(chargers, last) if balance_control.running(run_dir, now, last) else chargers


def ledger_records(accounting_dir, now):
    """Every record of this month's and last month's ledger files (local months, as the ledger's)."""
    month = months.of(now.astimezone())
    return [r for m in (months.previous(month), month) for r in ledger.records(accounting_dir, months.label(m), None)]


def _forgotten(data, last_recorded):
    """Whether --forget was asked after the charger's last record in the ledger (or it has none)."""
    at = timestamps.parse(data.get("forgotten_at"))
    if at is None:
        return False
    recorded = timestamps.parse(last_recorded)
    return recorded is None or recorded <= at


def forget(config, identity, now=None, out=sys.stdout):
    """--forget: leave `run/seen/<identity>.json` saying that the charger is forgotten from now on (a
    backend of it overwrites that at its next disconnect); the exit status."""
    from ..protocol.identity import is_safe
    now = now or datetime.now(timezone.utc)
    if not is_safe(identity):
        print(f"shocpp-status: {identity!r} is not a charger's identity", file=sys.stderr)
        return USAGE
    if identity in runfiles.live_chargers(config.run_dir):
        print(f"shocpp-status: {identity} is connected now: nothing to forget", file=sys.stderr)
        return USAGE
    if identity in known_chargers(config.chargers_file):
        print(f"shocpp-status: {identity} is listed in {config.chargers_file} and always shown: remove it with "
              f"shocpp-passwd --remove {identity}", file=sys.stderr)
        return USAGE
    listed = {c.identity for c in load(config.run_dir, config.accounting_dir, (), now)}
    if identity not in listed:
        print(f"shocpp-status: no charger {identity!r} is listed", file=sys.stderr)
        return NO_SUCH_CHARGER
    runfiles.leave_seen(config.run_dir, identity, {"charger": identity, "last_seen": None, "info": {},
                                                   "statuses": {}, "meters": {},
                                                   "forgotten_at": timestamps.format_utc(now)})
    print(f"forgot {identity}: it is listed again when it connects or the ledger has a newer record of it",
          file=out)
    return OK


def _recent(text, since):
    moment = timestamps.parse(text)
    return moment is not None and moment >= since


def _by_connector(payloads):
    """{connector id: payload} from a seen file's {"1": payload}; what is not that is left out."""
    if not isinstance(payloads, dict):
        return {}
    return {int(k): v for k, v in payloads.items() if isinstance(k, str) and k.isdigit() and isinstance(v, dict)}


def known_chargers(chargers_file):
    """The identities chargers.json lists; none when there is no file or it cannot be read."""
    from ..protocol.authentication import ChargersError, parse
    try:
        with open(chargers_file, encoding="utf-8") as f:
            return set(parse(f.read(), str(chargers_file)))
    except (OSError, UnicodeDecodeError, ChargersError):
        return set()


def _shown(identity, info, statuses, meters, running, now, connected, last_seen):
    """The charger's status; one that its files make fail is shown without them (and named on stderr),
    so that one charger's odd files never hide the others."""
    try:
        return charger_status({**info, "charger": identity}, statuses, meters, running, now, connected, last_seen)
    except Exception as e:  # whatever a charger managed to put in its files
        print(f"shocpp-status: {identity}: its status or meter files cannot be shown: {e!r}"[:300], file=sys.stderr)
    try:
        return charger_status({**info, "charger": identity}, {}, {}, running, now, connected, last_seen)
    except Exception:
        return ChargerStatus(identity, connected=connected, last_seen=last_seen)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="shocpp-status", epilog=EXAMPLES + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Show the connected chargers: identity, address, connected since, vendor, model and "
                    "serial from the BootNotification, each connector's status (StatusNotification) "
                    "and its latest meter readings (MeterValues).")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--forget", metavar="ID", help="no longer list the charger ID that is gone (until it comes "
                                                       "back); as the service's user or root")
    return parser.parse_args(argv)


def main(argv=None, env=None, out=None):
    printable_output()
    args = parse_args(argv)
    out = out or sys.stdout
    try:
        config = config_module.from_env(env)
        if args.forget is not None:
            return forget(config, args.forget, out=out)
        try:
            chargers = load(config.run_dir, config.accounting_dir, known_chargers(config.chargers_file))
        except ledger.Unavailable as e:
            print(f"shocpp-status: WARNING: no running sessions shown: {e}", file=sys.stderr)
            chargers = load(config.run_dir, None, known_chargers(config.chargers_file))
    except (OSError, config_module.ConfigError) as e:
        print(f"shocpp-status: {e}", file=sys.stderr)
        return USAGE if isinstance(e, config_module.ConfigError) else FAILED
    cards = unknown_cards(config)
    if args.json:
        out.write(render_json(chargers) if not cards else
                  printable_json({"chargers": [asdict(c) for c in chargers], "unknown_cards": cards}, indent=2) + "\n")
    else:
        out.write(render_text(chargers) + render_cards(cards))
    from ..last_good import problems  # a broken tags.json or chargers.json, served from its last good copy
    for problem in problems(config_module.from_env(env).run_dir):
        print(f"shocpp-status: WARNING: {problem}", file=sys.stderr)
    return OK if any(c.connected for c in chargers) else NO_CHARGER


if __name__ == "__main__":
    sys.exit(main())
