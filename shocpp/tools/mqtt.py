"""shocpp-mqtt: the site on an MQTT broker, for Home Assistant and any other client.

The shell around shocpp.protocol.mqtt: every second it reads what the backends left in the run
directory (as shocpp-status does), the ledger's month (as shocpp-summary does, costs as the statements
reckon them) and the balancer's status, publishes what changed, and carries out commands through the
chargers' FIFOs (as shocpp-command does) or the balancer's control interface. It is never in the
chargers' or the ledger's path: without it, or without the broker, the site charges and bills on.
paho-mqtt (the optional group `mqtt`) is imported here only.
"""

import argparse
import json
import queue
import signal
import sys
import threading
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .. import __version__, ledger, runfiles
from .. import config as config_module
from ..exits import FAILED, OK, USAGE, describe
from ..protocol import months, timestamps
from ..protocol import mqtt as model
from ..protocol.tags import UNKNOWN_ACCOUNT
from ..watched import stamp
from . import command, printable, printable_output, status

try:  # the balancer's control interface (its own change; the bridge works without it)
    from .. import balance_control
except ImportError:
    balance_control = None

EXITS = (OK, USAGE, FAILED)
EXIT_DETAILS = {USAGE: "e.g. SHOCPP_MQTT_URL is not an mqtt:// URL", FAILED: "paho-mqtt is not installed"}
INTERVAL = 1.0          # seconds between looks at the run directory: a change is out within 2 s
COMMAND_TIMEOUT = 30.0  # seconds a charger has to answer a command
KEEPALIVE = 30
RECONNECT = (1, 30)     # the broker's reconnection backoff, seconds
STATE_DIR, LIMITS_FILE = "mqtt", "limits.json"
MAX_PENDING_EVENTS = 1000  # kept while the broker is away

EXAMPLES = """\
examples:
  SHOCPP_MQTT_URL=mqtt://shocpp@homeassistant.lan:1883 SHOCPP_MQTT_PASSWORD_FILE=/etc/shocpp/mqtt-password \\
    shocpp-mqtt                            the bridge, as the service shocpp-mqtt runs it
  shocpp-mqtt --dry-run                    print the retained messages it would publish now, and exit
  mosquitto_sub -h homeassistant.lan -u shocpp -P ... -t 'shocpp/#' -v      watch it
  mosquitto_pub ... -t shocpp/garage-left/set/limit -m 10                   limit garage-left to 10 A

settings (environment):
  SHOCPP_MQTT_URL                mqtt://user:password@host:1883 or mqtts://... (TLS); default mqtt://localhost:1883
  SHOCPP_MQTT_PASSWORD_FILE      the password in a file (its first line), instead of in the URL
  SHOCPP_MQTT_CAFILE             the CA certificates for mqtts:// (default: the system's)
  SHOCPP_MQTT_PREFIX             the topics' prefix (default shocpp)
  SHOCPP_MQTT_DISCOVERY_PREFIX   Home Assistant's discovery prefix (default homeassistant; empty: none)
  SHOCPP_MQTT_START_ACCOUNT      the account a start without one is billed to (a Home Assistant button)

"""


def log(message):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} shocpp-mqtt: {printable(message)}", file=sys.stderr, flush=True)


# -- settings ----------------------------------------------------------------------------------------

class Settings:
    def __init__(self, host, port, tls, username, password, cafile, names, start_account):
        self.host, self.port, self.tls = host, port, tls
        self.username, self.password, self.cafile = username, password, cafile
        self.names, self.start_account = names, start_account

    @property
    def where(self):
        """The broker as the log names it: never the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def settings_from_env(env):
    """The bridge's Settings; ConfigError naming the variable that is wrong (never showing a password)."""
    text = env.get("SHOCPP_MQTT_URL") or "mqtt://localhost:1883"
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError:
        raise config_module.ConfigError("SHOCPP_MQTT_URL is not a URL like mqtt://user:password@host:1883") from None
    if url.scheme not in ("mqtt", "mqtts") or not url.hostname or url.path not in ("", "/") or url.query:
        raise config_module.ConfigError(f"SHOCPP_MQTT_URL must be mqtt://[user[:password]@]host[:port] or "
                                        f"mqtts://..., not {url.scheme}://{url.hostname or ''}{url.path}")
    tls = url.scheme == "mqtts"
    password = unquote(url.password) if url.password is not None else None
    password_file = env.get("SHOCPP_MQTT_PASSWORD_FILE")
    if password_file:
        try:
            with open(password_file, encoding="utf-8") as f:
                password = f.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as e:
            raise config_module.ConfigError(f"SHOCPP_MQTT_PASSWORD_FILE: cannot read {password_file}: "
                                            f"{getattr(e, 'strerror', None) or e}") from None
    prefix = env.get("SHOCPP_MQTT_PREFIX", "shocpp").strip() or "shocpp"
    discovery = env.get("SHOCPP_MQTT_DISCOVERY_PREFIX", "homeassistant").strip()
    for name, value in (("SHOCPP_MQTT_PREFIX", prefix), ("SHOCPP_MQTT_DISCOVERY_PREFIX", discovery)):
        if any(c in value for c in "+#\0") or value.startswith("/") or value.endswith("/") or len(value) > 100:
            raise config_module.ConfigError(f"{name}={value!r}: a topic prefix without +, #, a leading or a "
                                            f"trailing /, at most 100 characters")
    cafile = env.get("SHOCPP_MQTT_CAFILE") or None
    if cafile and not Path(cafile).is_file():
        raise config_module.ConfigError(f"SHOCPP_MQTT_CAFILE: no such file: {cafile}")
    return Settings(url.hostname, port or (8883 if tls else 1883), tls,
                    unquote(url.username) if url.username else None, password, cafile,
                    model.Names(prefix, discovery), env.get("SHOCPP_MQTT_START_ACCOUNT") or None)


# -- what the site looks like now --------------------------------------------------------------------

class Reader:
    """Reads a Snapshot; the month's ledger is read again only when its file changed."""

    def __init__(self, config, settings, limits=None):
        self.config, self.settings = config, settings
        self.limits = dict(limits or {})
        self._month = None  # (the month file's (label, mtime, size), tariffs, accounts), (its totals)
        self._files = {}  # {what: ((the file's stamp, key), what was loaded)}
        self.said = {}

    def snapshot(self, now=None):
        now = now or datetime.now(timezone.utc)
        config = self.config
        known = status.known_chargers(config.chargers_file)
        try:
            chargers = status.load(config.run_dir, config.accounting_dir, known, now)
        except ledger.Unavailable as e:
            self.say_once("ledger", f"the ledger cannot be read, no running sessions shown: {e}")
            chargers = status.load(config.run_dir, None, known, now)
        tags = self._tags()
        month, accounts, stops = self._month_totals(now, tags)
        balancer = self._balancer(now)
        offered, refusals = self._live_files()
        return model.Snapshot(
            now=timestamps.format_utc(now), chargers=[asdict(c) for c in chargers], known=frozenset(known),
            offered=offered, refusals=refusals, month=month, accounts=accounts, stops=stops,
            tags={name: ids[0] for name, ids in ((n, tags.ids(n)) for n in tags.accounts) if ids} if tags else {},
            default_account=self.settings.start_account, limits=dict(self.limits),
            ranges=self._ranges([c.identity for c in chargers]), balancer=balancer, version=__version__)

    def _cached(self, what, path, load, *key):
        """load(path), again only when the file (or `key`) changed; None, said once, when it cannot be used."""
        found = (stamp(path), key)
        if self._files.get(what, (None,))[0] != found:
            try:
                value = None if found[0] is None else load(path)
                self.said.pop(what, None)
            except Exception as e:  # noqa: BLE001 — each file's own error (TagsError, TariffsError, SiteError)
                self.say_once(what, f"{path}: cannot be used: {e}")
                value = None
            self._files[what] = (found, value)
        return self._files[what][1]

    def _tags(self):
        from .. import tags_file
        return self._cached("tags", self.config.tags_file, tags_file.load)

    def _month_totals(self, now, tags):
        """(month label, {account: totals}, [stop dicts]) of this month's ledger, as shocpp-summary adds
        it up and the statements reckon the costs."""
        from . import statement, summary
        month = months.of(now.astimezone())
        label = months.label(month)
        tariffs = self._tariffs(tags)
        names = tuple(tags.accounts) if tags else ()
        key = (label, stamp(ledger.month_file(self.config.accounting_dir, label)),
               self._files.get("tariffs", (None,))[0], names)
        if self._month is not None and self._month[0] == key:
            return self._month[1]
        sessions, _ = summary.read_sessions(self.config.accounting_dir, [month])
        totals = summary.add_costs(summary.aggregate(sessions, month, month), tariffs)
        accounts = {name: {"wh": 0, "sessions": 0, "cost": None, "currency": None} for name in names}
        for name, tally in totals.accounts + ([(UNKNOWN_ACCOUNT, totals.unknown)] if totals.unknown.sessions else []):
            cost, currency = (totals.costs or {}).get(name, (None, None))
            accounts[name] = {"wh": tally.wh, "sessions": tally.sessions, "cost": cost, "currency": currency}
        stops = []
        for s in sessions:
            priced = statement.build([s], s.account, month, month, "", tariffs=tariffs) if tariffs else None
            stops.append({"key": f"{s.charger}/{s.transaction_id}/{s.stop_time}", "charger": s.charger,
                          "connector_id": s.connector_id, "transaction_id": s.transaction_id, "account": s.account,
                          "id_tag": s.id_tag, "energy_wh": s.energy_wh, "reason": s.reason, "stop_time": s.stop_time,
                          "cost": priced.total_cost if priced and priced.lines else None,
                          "currency": priced.currency if priced else None})
        found = (label, accounts, stops)
        self._month = (key, found)
        return found

    def _tariffs(self, tags):
        from .. import tariffs_file
        if tags is None:
            return None
        return self._cached("tariffs", self.config.tariffs_file, lambda p: tariffs_file.load(p, tags.accounts),
                            tuple(tags.accounts))

    def _balancer(self, now):
        if balance_control is None:
            return None
        try:
            if not balance_control.running(self.config.run_dir, now.timestamp()):
                return None
            return balance_control.status(self.config.run_dir)
        except (OSError, ValueError) as e:
            self.say_once("balancer", f"the balancer's status cannot be read: {e}")
            return None

    def _live_files(self):
        """({identity: {connector: Current.Offered}}, {identity: refused.json}) of the live backends, the
        refusals also of those gone (a charger refused a tag may leave at once)."""
        offered = {}
        refusals = {identity: data["refused"] for identity, data in runfiles.seen_chargers(self.config.run_dir).items()
                    if isinstance(data.get("refused"), dict)}
        for identity, conn in runfiles.live_chargers(self.config.run_dir).items():
            currents = {c: model.offered_current(p) for c, p in status.connector_files(conn.path, "meter").items()}
            offered[identity] = {c: a for c, a in currents.items() if a is not None}
            try:
                refused = runfiles.read_json(conn.path / runfiles.REFUSED)
            except (OSError, ValueError):
                continue
            if isinstance(refused, dict):
                refusals[identity] = refused
        return offered, refusals

    def _ranges(self, identities):
        """The limit's range of each charger from site.json, when there is one."""
        from .. import site_file
        site = self._cached("site", self.config.site_file, site_file.load)
        return {} if site is None else {i: (site.settings(i).min_a, site.settings(i).max_a) for i in identities}

    def say_once(self, what, message):
        if self.said.get(what) != message:
            self.said[what] = message
            log(message)


# -- the limits the bridge set (no balancer) ---------------------------------------------------------

def load_limits(run_dir):
    try:
        data = runfiles.read_json(Path(run_dir) / STATE_DIR / LIMITS_FILE)
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if type(v) is int} if isinstance(data, dict) else {}


def save_limits(run_dir, limits):
    runfiles.ensure_dir(Path(run_dir) / STATE_DIR)
    runfiles.write_json(Path(run_dir) / STATE_DIR / LIMITS_FILE, {k: v for k, v in limits.items() if v is not None})


# -- carrying out a command --------------------------------------------------------------------------

def carry_out(config, cmd, timeout=COMMAND_TIMEOUT):
    """The answer to an accepted Command: the backend's (through the charger's FIFO), or the balancer's."""
    if cmd.via == "balancer":
        if balance_control is None:
            return {"status": "error", "description": "the balancer's control interface is not installed"}
        try:
            if cmd.action == "set_max":
                balance_control.set_max(config.run_dir, cmd.charger, cmd.value)
            else:
                balance_control.set_mode(config.run_dir, cmd.charger, cmd.value)
        except (ValueError, OSError) as e:
            return {"status": "error", "description": str(e)}
        return {"status": "result"}
    try:
        conn = command.choose(config.run_dir, cmd.charger)
        ocpp = command.version(conn)  # a 2.0.1 charger gets the 2.0.1 counterpart of the bridge's 1.6 call
        action, payload = command.for_charger(cmd.action, cmd.payload, ocpp)
        return command.send(config.run_dir, conn, action, command.parse_payload(action, json.dumps(payload), ocpp),
                            timeout)
    except command.Failure as e:
        return {"status": "refused", "message": str(e)}
    except OSError as e:
        return {"status": "refused", "message": f"cannot send: {e}"}


# -- the bridge --------------------------------------------------------------------------------------

class Bridge:
    """The loop: read, publish what changed, take commands; paho's thread only queues what it hears."""

    def __init__(self, config, settings, client):
        self.config, self.settings, self.names = config, settings, settings.names
        self.client = client
        self.reader = Reader(config, settings, load_limits(config.run_dir))
        self.inbox = queue.Queue()
        self.published = {}
        self.pending = []          # events while the broker is away
        self.connected = False
        self.previous = None
        self.trouble_said = None   # the last refusal or unreachability logged: said once until connected
        self.lock = threading.Lock()
        self.workers = []

    # paho's callbacks (its thread)
    def on_connect(self, client, userdata, flags, reason_code, properties=None):
        self.inbox.put(("connect", reason_code))

    def on_connect_fail(self, client, userdata):
        self.inbox.put(("unreachable", None))

    def on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        self.inbox.put(("disconnect", reason_code))

    def on_message(self, client, userdata, message):
        self.inbox.put(("message", message))

    # the loop (the main thread)
    def run(self, stopping):
        next_look = 0.0
        while not stopping.is_set():
            try:
                kind, item = self.inbox.get(timeout=max(0.0, min(INTERVAL, next_look - time.monotonic())))
            except queue.Empty:
                kind = None
            if kind == "connect":
                self.connect_answered(item)
            elif kind == "disconnect":
                self.lost(item)
            elif kind == "unreachable" and self.trouble_said != "unreachable":
                self.trouble_said = "unreachable"
                log(f"cannot reach the broker {self.settings.where}"
                    + (" (or its certificate is not trusted: SHOCPP_MQTT_CAFILE)" if self.settings.tls else "")
                    + "; trying again")
            elif kind == "message":
                self.heard(item)
            if time.monotonic() >= next_look:
                self.look()
                next_look = time.monotonic() + INTERVAL

    def connect_answered(self, reason_code):
        if reason_code.is_failure:
            self.connected = False
            said = str(reason_code)
            if self.trouble_said != said:
                self.trouble_said = said
                log(f"the broker {self.settings.where} refused the connection: {said} (check the user and the "
                    f"password: SHOCPP_MQTT_URL, SHOCPP_MQTT_PASSWORD_FILE); trying again")
            return
        self.trouble_said = None
        self.connected = True
        self.published = {}  # the broker may have lost what it held: everything again
        log(f"connected to {self.settings.where}")
        subscriptions = [(self.names.commands, 1)]
        if self.names.discovery:
            subscriptions += [(self.names.discovery_status, 1), (f"{self.names.discovery}/device/+/config", 1)]
        self.client.subscribe(subscriptions)
        self.look()

    def lost(self, reason_code):
        if self.connected:
            log(f"lost the broker {self.settings.where} ({reason_code}); reconnecting")
        self.connected = False

    def heard(self, message):
        topic = message.topic
        if self.names.discovery and topic == self.names.discovery_status:
            if message.payload.strip() == b"online":
                log("Home Assistant is online: publishing the discovery again")
                self.published = {t: p for t, p in self.published.items()
                                  if not t.startswith(self.names.discovery + "/")}
                self.look()
            return
        if self.names.discovery and topic.startswith(f"{self.names.discovery}/device/{self.names.node}_"):
            if message.retain:  # held by the broker from before: cleared when no longer wanted
                self.published.setdefault(topic, message.payload.decode("utf-8", "replace"))
            return
        self.take(topic, message.payload, message.retain)

    def take(self, topic, payload, retained=False):
        try:
            with self.lock:  # now, not as of the last look: a charger may have connected since
                snapshot = self.reader.snapshot()
        except (OSError, ValueError):
            snapshot = self.previous or model.Snapshot(now="", chargers=[])
        found = model.command(self.names, topic, payload, snapshot, retained)
        if found is None:
            return
        if isinstance(found, model.Refused):
            log(f"{topic}: refused: {found.reason}")
            self.publish(self.names.result(found.name), model.encode(model.refusal(found)))
            return
        log(f"{topic}: {found.what} {found.value if found.value is not None else ''}".rstrip()
            + f" -> {found.action} ({found.via})")
        worker = threading.Thread(target=self.work, args=(found,), daemon=True)
        self.workers = [w for w in self.workers if w.is_alive()] + [worker]
        worker.start()

    def work(self, cmd):
        answer = carry_out(self.config, cmd)
        message = model.result(cmd, answer)
        if cmd.what == "limit" and cmd.via == "ocpp" and message["accepted"]:
            with self.lock:
                self.reader.limits[cmd.charger] = cmd.value
                try:
                    save_limits(self.config.run_dir, self.reader.limits)
                except OSError as e:
                    log(f"cannot keep the limits for the next start: {e}")
        log(f"{cmd.charger}: {cmd.what}: " + ("accepted" if message["accepted"] else
                                              f"not accepted: {message.get('reason') or message.get('answer')}"))
        self.publish(self.names.result(model.charger_slug(cmd.charger)), model.encode(message))

    def look(self):
        try:
            with self.lock:
                snapshot = self.reader.snapshot()
        except (OSError, ValueError) as e:  # the run directory or the ledger unreadable: said once, tried again
            self.reader.say_once("snapshot", f"cannot read the site: {e}")
            return
        self.reader.said.pop("snapshot", None)
        for event in model.events(self.previous, snapshot):
            self.pending = (self.pending + [model.encode(event)])[-MAX_PENDING_EVENTS:]
        self.previous = snapshot
        if not self.connected:
            return
        while self.pending:
            self.publish(self.names.event, self.pending.pop(0))
        wanted = model.retained(snapshot, self.names)
        for topic, payload in model.changes(self.published, wanted):
            self.publish(topic, payload, retain=True)
            self.published[topic] = payload

    def publish(self, topic, payload, retain=False):
        self.client.publish(topic, payload, qos=1, retain=retain)

    def stop(self):
        for worker in self.workers:
            worker.join(COMMAND_TIMEOUT + command.GRACE)
        if self.connected:
            self.client.publish(self.names.bridge, model.OFFLINE, qos=1, retain=True).wait_for_publish(5)


def make_client(settings, bridge_name):
    import paho.mqtt.client as mqtt
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=bridge_name, clean_session=True)
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls:
        client.tls_set(ca_certs=settings.cafile)
    client.will_set(settings.names.bridge, model.OFFLINE, qos=1, retain=True)
    client.reconnect_delay_set(*RECONNECT)
    return client


# -- the command -------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="shocpp-mqtt", epilog=EXAMPLES + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Publish the chargers, their sessions and the accounts' month on an MQTT broker, with "
                    "Home Assistant discovery, and take commands (limit, start, stop, the balancer's mode) "
                    "from it. Runs until stopped (SIGTERM); see 'Home Assistant' in README.md.")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the retained messages it would publish now (JSON: topic -> payload), and exit")
    return parser.parse_args(argv)


def main(argv=None, env=None, out=None):
    printable_output()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    env = env if env is not None else __import__("os").environ
    try:
        config = config_module.from_env(env)
        settings = settings_from_env(env)
    except config_module.ConfigError as e:
        print(f"shocpp-mqtt: {e}", file=sys.stderr)
        return USAGE
    if args.dry_run:
        wanted = model.retained(Reader(config, settings, load_limits(config.run_dir)).snapshot(), settings.names)
        (out or sys.stdout).write(json.dumps(wanted, indent=2, ensure_ascii=False) + "\n")
        return OK
    try:
        client = make_client(settings, f"shocpp-mqtt-{settings.names.node}")
    except ImportError:
        print("shocpp-mqtt: paho-mqtt is not installed: make install installs it (INSTALL_EXTRAS=mqtt), or "
              "pip install 'paho-mqtt>=2,<3' into the Python that runs shocpp", file=sys.stderr)
        return FAILED
    bridge = Bridge(config, settings, client)
    client.on_connect, client.on_disconnect, client.on_message = bridge.on_connect, bridge.on_disconnect, \
        bridge.on_message
    client.on_connect_fail = bridge.on_connect_fail
    stopping = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.set())
    log(f"publishing under {settings.names.prefix}/ on {settings.where}"
        + (f", discovery under {settings.names.discovery}/" if settings.names.discovery else ", no discovery"))
    client.connect_async(settings.host, settings.port, KEEPALIVE)
    client.loop_start()
    try:
        bridge.run(stopping)
    finally:
        bridge.stop()
        client.disconnect()
        client.loop_stop()
    log("stopped")
    return OK


if __name__ == "__main__":
    sys.exit(main())
