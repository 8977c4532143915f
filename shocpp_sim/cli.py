"""shocpp-simulate: one or more OCPP 1.6J (or 2.0.1) chargers in a terminal."""

import argparse
import asyncio
import signal
import ssl
import sys
from urllib.parse import quote, unquote, urlsplit

from .stats import Stats, summary

OK, ERRORS, USAGE, MISSING = 0, 1, 2, 3

EXAMPLES = """\
examples:
  shocpp-simulate ws://localhost:8080 --id garage-left --sessions 1 --session-seconds 20
      one charger, one RFID session (tag 1111, 11 kW, 20 s), then it stops
  shocpp-simulate ws://localhost:8080/ocpp/garage-left
      a charger that boots, sends heartbeats and answers shocpp-command until Ctrl-C
  shocpp-simulate ws://localhost:8080 --sessions 1 --session-seconds 6 --time-scale 600
      6 seconds that charge as much as an hour: 11 kWh
  shocpp-simulate ws://localhost:8080 --chargers 50 --sessions 3 --session-seconds 5 --meter-interval 1 --quiet
      load: 50 chargers sim-1..sim-50, 3 sessions each, only the summary at the end
  shocpp-simulate wss://shocpp.example.lan:8080 --id garage-left --password KEY --cafile conf/cert.pem
  shocpp-simulate ws://localhost:8080 --ocpp 2.0.1 --id station-1 --sessions 1 --session-seconds 10
      an OCPP 2.0.1 station: TransactionEvent Started, Updated, Ended

The identity is appended to the URL (--id, default 'sim'; with --chargers N: <id>-1..<id>-N).
Without --id, a URL with a path is used as it is and its last part is the identity.
Sessions: Preparing, Authorize, StartTransaction, Charging with MeterValues (energy register and
power), StopTransaction with Transaction.Begin/End readings, Finishing, Available. The register
rises by exactly power x seconds x time-scale / 3600 Wh per session (from --meter-start).
The charger answers the central system's calls (Reset, RemoteStart/StopTransaction, Get/ChangeConfiguration,
TriggerMessage, SetChargingProfile, ...); a remote-started session runs until RemoteStopTransaction.
Without --duration it runs until its --sessions are done, or with --sessions 0 until Ctrl-C; Ctrl-C
stops a running session first (StopTransaction) and then disconnects.

exit status: 0 no errors, 1 errors (CALLERRORs, timeouts, connection failures, refused tags),
2 bad usage, 3 the Python package websockets is missing.
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="shocpp-simulate", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Connect to an OCPP 1.6J central system as one or more simulated chargers: boot, "
                    "heartbeats, RFID charging sessions, and answers to the central system's calls.")
    parser.add_argument("url", help="ws://host:port or wss://host:port, optionally with a path")
    parser.add_argument("--id", metavar="ID", help="the charger's identity, appended to the URL (default sim)")
    parser.add_argument("--chargers", type=int, default=1, metavar="N",
                        help="run N chargers at once, <id>-1 .. <id>-N (default 1)")
    parser.add_argument("--password", metavar="KEY", help="HTTP Basic auth with the identity as user (Profile 1)")
    parser.add_argument("--cafile", metavar="PEM", help="trust this CA or certificate for wss://")
    parser.add_argument("--insecure", action="store_true", help="wss:// without checking the certificate")
    parser.add_argument("--tag", default="1111", help="the RFID tag of the sessions (default 1111)")
    parser.add_argument("--sessions", type=int, default=0, metavar="N",
                        help="RFID sessions per charger, one after the other (default 0)")
    parser.add_argument("--session-seconds", type=float, default=30, metavar="S",
                        help="length of a session (default 30)")
    parser.add_argument("--pause", type=float, default=2, metavar="S", help="between sessions (default 2)")
    parser.add_argument("--power", type=float, default=11000, metavar="W",
                        help="charging power, less when a charging profile limits it (default 11000)")
    parser.add_argument("--phases", type=int, choices=(1, 3), default=3,
                        help="the phases it is wired for; a charging profile's numberPhases may use fewer (default 3)")
    parser.add_argument("--ignore-profiles", action="store_true",
                        help="accept every charging profile and ignore it (as some chargers in the field do)")
    parser.add_argument("--reject-tx-default-profile", action="store_true",
                        help="answer Rejected to a TxDefaultProfile, take a TxProfile (as an ABB Terra AC)")
    parser.add_argument("--rate-unit", choices=("A", "W"),
                        help="take charging profiles only in this unit (ChargingScheduleAllowedChargingRateUnit)")
    parser.add_argument("--meter-interval", type=float, default=10, metavar="S",
                        help="MeterValues while charging every S seconds, 0: none (default 10)")
    parser.add_argument("--meter-start", type=int, default=12_345_678, metavar="WH",
                        help="the energy register at the start, Wh (default 12345678)")
    parser.add_argument("--time-scale", type=float, default=1, metavar="X",
                        help="energy charged as if every second were X seconds, and a session's clock "
                             "running as fast, ending at the real time (default 1)")
    parser.add_argument("--heartbeat", type=float, metavar="S",
                        help="heartbeat interval (default: what the BootNotification answer says)")
    parser.add_argument("--timeout", type=float, default=30, metavar="S",
                        help="how long to wait for an answer to a call (default 30)")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--ramp", type=float, default=0, metavar="S",
                        help="spread the chargers' connections over S seconds (default 0)")
    parser.add_argument("--quiet", action="store_true", help="print only problems and the summary at the end")
    parser.add_argument("--ocpp", choices=("1.6", "2.0.1"), default="1.6",
                        help="the protocol the chargers speak (default 1.6); 2.0.1: TransactionEvent sessions")
    args = parser.parse_args(argv)
    checks = [(args.chargers >= 1, "--chargers must be at least 1"),
              (args.sessions >= 0, "--sessions must not be negative"),
              (args.session_seconds > 0, "--session-seconds must be more than 0"),
              (args.pause >= 0 and args.ramp >= 0, "--pause and --ramp must not be negative"),
              (args.power >= 0, "--power must not be negative"),
              (args.meter_interval >= 0, "--meter-interval must not be negative"),
              (args.meter_start >= 0, "--meter-start must not be negative"),
              (args.time_scale > 0, "--time-scale must be more than 0"),
              (args.heartbeat is None or args.heartbeat > 0, "--heartbeat must be more than 0"),
              (args.timeout > 0, "--timeout must be more than 0"),
              (args.duration is None or args.duration > 0, "--duration must be more than 0"),
              (not (args.cafile and args.insecure), "--cafile and --insecure do not go together")]
    for ok, message in checks:
        if not ok:
            parser.error(message)
    try:
        args.targets = charger_urls(args.url, args.id, args.chargers)
    except ValueError as e:
        parser.error(str(e))
    if urlsplit(args.url).scheme == "ws" and (args.cafile or args.insecure):
        parser.error("--cafile and --insecure are for wss:// URLs")
    return args


def charger_urls(url, identity=None, chargers=1):
    """[(identity, URL)] of the chargers: the identity appended, or the URL's last path part."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"{url!r} is not a ws:// or wss:// URL")
    path = parts.path.rstrip("/")
    if identity is None and path.rsplit("/", 1)[-1]:
        base_path, _, last = path.rpartition("/")
        identity = unquote(last)
    else:
        base_path, identity = path, identity or "sim"
    if not identity:
        raise ValueError("the identity must not be empty")
    base = f"{parts.scheme}://{parts.netloc}{base_path}"
    names = [identity] if chargers == 1 else [f"{identity}-{n}" for n in range(1, chargers + 1)]
    return [(name, f"{base}/{quote(name, safe='')}") for name in names]


def ssl_context(args):
    if urlsplit(args.url).scheme != "wss":
        return None
    context = ssl.create_default_context(cafile=args.cafile)
    if args.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def simulate(args, stats, output):
    from .charger import Charger, Options, wait_event
    if args.ocpp == "2.0.1":
        from .charger201 import Charger201 as Charger
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    context = ssl_context(args)
    chargers = [Charger(Options(
        url=url, identity=identity, password=args.password, ssl=context, heartbeat=args.heartbeat, tag=args.tag,
        sessions=args.sessions, session_seconds=args.session_seconds, power=args.power,
        meter_interval=args.meter_interval, pause=args.pause, time_scale=args.time_scale,
        meter_start=args.meter_start, timeout=args.timeout, phases=args.phases, ignore_profiles=args.ignore_profiles,
        reject_tx_default=args.reject_tx_default_profile, rate_unit=args.rate_unit), stats, output)
        for identity, url in args.targets]

    async def start(charger, delay):
        if delay and await wait_event(stop, delay):
            charger.sessions_done.set()
            return
        await charger.run(stop)

    spread = args.ramp / len(chargers)
    runs = [asyncio.ensure_future(start(c, n * spread)) for n, c in enumerate(chargers)]

    def on_signal():
        if stop.is_set():  # a second Ctrl-C: at once
            for run in runs:
                run.cancel()
        else:
            print("shocpp-simulate: stopping (running sessions first; Ctrl-C again to quit at once)",
                  file=sys.stderr, flush=True)
            stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    timer = loop.call_later(args.duration, stop.set) if args.duration else None

    async def when_sessions_done():
        await asyncio.gather(*(c.sessions_done.wait() for c in chargers))
        stop.set()

    ender = asyncio.ensure_future(when_sessions_done()) if args.sessions and not args.duration else None
    try:
        await asyncio.gather(*runs, return_exceptions=True)
    finally:
        for task in (ender,):
            if task is not None:
                task.cancel()
        if timer is not None:
            timer.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def main(argv=None):
    args = parse_args(argv)
    try:
        import websockets  # noqa: F401
        from .charger import Output
    except ImportError:
        print("shocpp-simulate: the Python package 'websockets' is missing: run 'make deps' "
              "(or pip install websockets)", file=sys.stderr)
        return MISSING
    stats, output = Stats(), Output(quiet=args.quiet)
    asyncio.run(simulate(args, stats, output))
    print(summary(stats, len(args.targets)), flush=True)
    return OK if stats.errors == 0 else ERRORS
