"""What the MQTT bridge publishes for a snapshot of the site, and what it makes of a command (pure).

The shell (shocpp/tools/mqtt.py) reads the run directory, the ledger, tags.json and the balancer's files
into a Snapshot; here that becomes the retained messages it should find on the broker (`retained`:
state topics and Home Assistant discovery configs), the events since the last snapshot (`events`), and
what to send for a message on a command topic (`command`). `changes` is what to publish to go from what
was published to what is wanted: only what differs, and an empty retained message for what is gone.

Topics, under the prefix P (charger C, connector N, account A, each as `slug` makes it):
  P/bridge             online / offline (the bridge's own availability, its last will)
  P/C/availability     online / offline (the charger's connection)
  P/C/state            the charger (JSON)           P/C/N/state    one connector (JSON)
  P/account/A/state    an account's month (JSON)    P/site/state   the balancer (JSON)
  P/event              events (not retained)        P/C/result     answers to commands (not retained)
  P/C/set/limit|start|stop|mode                     commands
"""

import hashlib
import json
import re
from decimal import Decimal, InvalidOperation

from .plain import plain
from .meter_values import samples
from .numbers import decimal as decimal_or_none
from .timestamps import format_utc, parse as parse_time

SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")
STATUSES = ("Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
            "Unavailable", "Faulted")
DRAWING = ("Charging", "SuspendedEV", "SuspendedEVSE")  # a power reading counts only in these
LIMIT_RANGE = (6, 32)      # amperes a limit may have when site.json names no range for the charger
MODES = ("off", "fast", "minpv", "pv")  # the balancer's
COMMANDS = ("limit", "start", "stop", "mode")
PRESS = "PRESS"            # what a Home Assistant button sends
CLEAR = ("none", "clear")  # a limit command that lifts the limit
PROFILE_ID = 1             # the operator's limit, the same profile as the dashboard's
MAX_PAYLOAD = 200
ORIGIN_NAME = "shocpp"
RESERVED = ("account", "site", "bridge", "event")  # the bridge's topics beside the chargers' (P/<charger>)
ONLINE, OFFLINE = "online", "offline"


class Snapshot(plain("Snapshot", [
        "now",          # str, UTC ISO 8601: when it was taken
        "chargers",     # [dict]: shocpp-status's JSON of each charger (its `chargers` list)
        "known",        # frozenset: the identities of chargers.json (empty: no file)
        "offered",      # {identity: {connector id: amperes}}: Current.Offered of the latest MeterValues
        "refusals",     # {identity: refused.json}: the latest tag refused to an Authorize
        "month",        # "YYYY-MM": the month of the account totals
        "accounts",     # {account: {"wh", "sessions", "cost" (Decimal or None), "currency"}}
        "stops",        # [dict]: this month's sessions in the ledger (key, charger, account, energy_wh, cost...)
        "tags",         # {account: its first tag}: what a start is sent with
        "default_account",  # the account a start without one uses (None: none configured)
        "limits",       # {identity: amperes}: limits the bridge set (no balancer); None: lifted
        "ranges",       # {identity: (min, max)}: the limit's range from site.json
        "balancer",     # balance_control.status() while the balancer runs, else None
        "version",      # shocpp's, for the discovery's origin
    ], defaults=(frozenset(), {}, {}, "", {}, (), {}, None, {}, {}, None, ""))):
    __slots__ = ()


class Names(plain("Names", ["prefix", "discovery"])):
    """The topic prefix (SHOCPP_MQTT_PREFIX) and the discovery prefix ('' : no discovery)."""
    __slots__ = ()

    @property
    def bridge(self):
        return f"{self.prefix}/bridge"

    @property
    def event(self):
        return f"{self.prefix}/event"

    @property
    def discovery_status(self):
        return f"{self.discovery}/status" if self.discovery else None

    @property
    def commands(self):
        return f"{self.prefix}/+/set/+"

    def charger(self, identity):
        return f"{self.prefix}/{charger_slug(identity)}"

    def result(self, name):
        return f"{self.prefix}/{name}/result"

    @property
    def node(self):
        return slug(self.prefix)


class Command(plain("Command", ["what", "charger", "value", "via", "action", "payload"])):
    """An accepted command: `via` 'ocpp' (send `action` with `payload` through the charger's FIFO) or
    'balancer' (`action` 'set_max' or 'set_mode' of its control interface, with `value`)."""
    __slots__ = ()


class Refused(plain("Refused", ["what", "name", "reason"])):
    """A command refused before anything reached a charger; `name`: the charger's part of the topic."""
    __slots__ = ()


def slug(text):
    """A name Home Assistant accepts in topics and ids ([A-Za-z0-9_-]): the text itself when it is one,
    else its other characters as '_' and a hash of the whole, so that two names never meet."""
    if SAFE.fullmatch(text):
        return text
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:48] + "_" + _digest(text)


def charger_slug(identity):
    """A charger's slug, never one of the bridge's own names (P/site, P/account/..., their devices)."""
    name = slug(identity)
    if name in RESERVED or name.startswith("account_"):
        return f"{name[:48]}_{_digest(identity)}"
    return name


def _digest(text):
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def encode(data):
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def kwh(wh):
    """Wh as kWh, a JSON number that reads exactly (to the Wh: 12345.678); None stays None."""
    if wh is None:
        return None
    value = Decimal(str(wh)).scaleb(-3)
    return int(value) if value == value.to_integral_value() else float(value)


def money(amount):
    return None if amount is None else str(amount)


# -- what to publish ---------------------------------------------------------------------------------

def devices(snapshot):
    """The chargers that are devices: with a chargers.json, those it lists and any connected; without,
    every charger shocpp-status lists."""
    return [c for c in snapshot.chargers
            if not snapshot.known or c["identity"] in snapshot.known or c.get("connected")]


def retained(snapshot, names):
    """{topic: payload text}: every retained message the broker should hold for this snapshot."""
    wanted = {names.bridge: ONLINE}
    balancer = snapshot.balancer
    for charger in devices(snapshot):
        base = names.charger(charger["identity"])
        wanted[f"{base}/availability"] = ONLINE if charger.get("connected") else OFFLINE
        wanted[f"{base}/state"] = encode(charger_state(snapshot, charger))
        for connector in outlets(charger):
            wanted[f"{base}/{connector['connector_id']}/state"] = encode(connector_state(snapshot, charger, connector))
        if names.discovery:
            wanted[discovery_topic(names, charger_slug(charger["identity"]))] = \
                encode(charger_discovery(snapshot, names, charger))
    for account in sorted(snapshot.accounts):
        wanted[f"{names.prefix}/account/{slug(account)}/state"] = encode(account_state(snapshot, account))
        if names.discovery:
            wanted[discovery_topic(names, "account_" + slug(account))] = \
                encode(account_discovery(snapshot, names, account))
    wanted[f"{names.prefix}/site/state"] = encode(site_state(balancer))
    if names.discovery and balancer is not None:
        wanted[discovery_topic(names, "site")] = encode(site_discovery(snapshot, names))
    return wanted


def changes(published, wanted):
    """[(topic, payload)] to publish, retained, to go from `published` to `wanted` ({topic: text}): what is
    new or differs, and '' (which removes a retained message) for what is no longer wanted."""
    found = [(topic, text) for topic, text in wanted.items() if published.get(topic) != text]
    return found + [(topic, "") for topic in published if topic not in wanted and published[topic] != ""]


def charger_state(snapshot, charger):
    identity = charger["identity"]
    control = ((snapshot.balancer or {}).get("chargers") or {}).get(identity) or {}
    return {
        "charger": identity, "connected": bool(charger.get("connected")), "last_seen": last_seen(charger),
        "connected_at": charger.get("connected_at") if charger.get("connected") else None,
        "vendor": charger.get("vendor"), "model": charger.get("model"), "serial": charger.get("serial"),
        "firmware": charger.get("firmware"),
        "status": next((c.get("status") for c in charger.get("connectors") or () if c["connector_id"] == 0), None),
        "connectors": [c["connector_id"] for c in outlets(charger)],
        "limit_a": control.get("max_a") if snapshot.balancer is not None else snapshot.limits.get(identity),
        "mode": control.get("mode"),
    }


def outlets(charger):
    """The connectors that are devices' entities: those a car plugs into, not connector 0 (the charger as a
    whole), unless it is the only one the charger reports."""
    found = [c for c in charger.get("connectors") or () if c["connector_id"] != 0]
    return found or list(charger.get("connectors") or ())


def last_seen(charger):
    """When the charger last reported something, in UTC (what Home Assistant's timestamps need, whatever
    zone the charger wrote): for a connected one the newest time in its files (not now, which would change
    every second), else when it was last seen."""
    times = [charger.get("last_seen")]
    if charger.get("connected"):
        times = [charger.get("connected_at"), charger.get("booted_at")]
        for c in charger.get("connectors") or ():
            times += [c.get("status_time"), c.get("meter_time")]
    moments = [m for m in map(parse_time, times) if m is not None]
    return format_utc(max(moments)) if moments else None


def connector_state(snapshot, charger, connector):
    identity, number = charger["identity"], connector["connector_id"]
    status = connector.get("status")
    session = connector.get("session") or {}
    energy = session.get("energy_wh")
    if energy is not None and energy < 0:  # a register read before the start's (Wallbox): nothing charged yet
        energy = 0
    allotted = ((((snapshot.balancer or {}).get("chargers") or {}).get(identity) or {}).get("connectors") or {}) \
        .get(str(number)) or {}
    return {
        "status": status, "error_code": connector.get("error_code"),
        "power_w": (connector.get("power_w") if status in DRAWING else 0) if status is not None else None,
        "energy_wh": connector.get("energy_wh"), "energy_kwh": kwh(connector.get("energy_wh")),
        "current_a": connector.get("current_a") or {},
        "current_offered_a": (snapshot.offered.get(identity) or {}).get(number),
        "limit_a": allotted.get("limit_a"),
        "session_transaction_id": session.get("transaction_id"),
        "session_account": session.get("account"),
        "session_id_tag": session.get("id_tag"),
        "session_start": session.get("start_time"),
        "session_duration_s": session_duration(session, connector),
        "session_energy_wh": energy,
        "session_energy_kwh": kwh(energy),
    }


def session_duration(session, connector):
    """Seconds from the session's start to the connector's latest reading: it moves when the charger
    reports, not with the clock (so that nothing is published again when nothing happened)."""
    if not session or session.get("duration_s") is None:
        return None
    began, read = parse_time(session.get("start_time")), parse_time(connector.get("meter_time"))
    if began is None or read is None or read < began:
        return 0
    return int((read - began).total_seconds())


def account_state(snapshot, account):
    totals = snapshot.accounts[account]
    return {"account": account, "month": snapshot.month, "energy_wh": totals["wh"], "energy_kwh": kwh(totals["wh"]),
            "sessions": totals["sessions"], "cost": money(totals.get("cost")), "currency": totals.get("currency")}


def site_state(balancer):
    if balancer is None:
        return {"balancer": False}
    allocated = sum(c.get("limit_a") or 0 for charger in (balancer.get("chargers") or {}).values()
                    for c in (charger.get("connectors") or {}).values())
    return {"balancer": True, "updated_at": balancer.get("updated_at"), "grid_limit_a": balancer.get("grid_limit_a"),
            "grid_power_w": balancer.get("grid_power_w"), "surplus_w": balancer.get("surplus_w"),
            "allocated_a": allocated,
            "modes": {c: (v or {}).get("mode") for c, v in sorted((balancer.get("chargers") or {}).items())}}


def offered_current(meter_payload):
    """Current.Offered (A) in a MeterValues payload, the newest sample without a phase; None without one."""
    found = None
    for _, sample in samples((meter_payload or {}).get("meterValue")):
        if sample.get("measurand") == "Current.Offered" and sample.get("phase") in (None, ""):
            value = decimal_or_none(sample.get("value"))
            if value is not None:
                found = int(value) if value == value.to_integral_value() else float(value)
    return found


# -- Home Assistant discovery ------------------------------------------------------------------------

def discovery_topic(names, name):
    """The device's config topic; `name` is made of slugs already."""
    return f"{names.discovery}/device/{names.node}_{name}/config"


def origin(snapshot):
    return {"name": ORIGIN_NAME, "sw": snapshot.version}


def _entity(platform, uid, name, **fields):
    return {"p": platform, "unique_id": uid, "object_id": uid, "name": name, **fields}


def _sensor(uid, name, topic, key, **fields):
    return _entity("sensor", uid, name, state_topic=topic, value_template="{{ value_json.%s }}" % key, **fields)


def charger_discovery(snapshot, names, charger):
    identity = charger["identity"]
    base, uid = names.charger(identity), f"{names.node}_{charger_slug(identity)}"
    bridge = [{"topic": names.bridge}]
    state = f"{base}/state"
    cmps = {
        f"{uid}_connected": _entity("binary_sensor", f"{uid}_connected", "Connected", state_topic=state,
                                    value_template="{{ value_json.connected }}", payload_on="True",
                                    payload_off="False", device_class="connectivity", availability=bridge),
        f"{uid}_last_seen": _sensor(f"{uid}_last_seen", "Last seen", state, "last_seen", device_class="timestamp",
                                    availability=bridge, entity_category="diagnostic"),
    }
    low, high = snapshot.ranges.get(identity, LIMIT_RANGE)
    cmps[f"{uid}_limit"] = _entity("number", f"{uid}_limit", "Current limit", state_topic=state,
                                   value_template="{{ value_json.limit_a }}", command_topic=f"{base}/set/limit",
                                   min=low, max=high, step=1, unit_of_measurement="A", device_class="current",
                                   mode="slider")
    cmps[f"{uid}_start"] = _entity("button", f"{uid}_start", "Start charging", command_topic=f"{base}/set/start",
                                   payload_press=PRESS)
    cmps[f"{uid}_stop"] = _entity("button", f"{uid}_stop", "Stop charging", command_topic=f"{base}/set/stop",
                                  payload_press=PRESS)
    if snapshot.balancer is not None:
        cmps[f"{uid}_mode"] = _entity("select", f"{uid}_mode", "Charging mode", state_topic=state,
                                      value_template="{{ value_json.mode }}", command_topic=f"{base}/set/mode",
                                      options=list(MODES))
    plugs = outlets(charger)
    for connector in plugs:
        number = connector["connector_id"]
        cmps.update(_connector_entities(f"{uid}_{number}", f"{base}/{number}/state",
                                        f"Connector {number} " if len(plugs) > 1 else ""))
    device = {"identifiers": [uid], "name": identity, "manufacturer": charger.get("vendor"),
              "model": charger.get("model"), "sw_version": charger.get("firmware"),
              "serial_number": charger.get("serial")}
    return {"dev": {k: v for k, v in device.items() if v is not None}, "o": origin(snapshot), "cmps": cmps,
            "availability": bridge + [{"topic": f"{base}/availability"}], "availability_mode": "all", "qos": 1}


def _connector_entities(uid, topic, label):
    return {
        f"{uid}_status": _sensor(f"{uid}_status", f"{label}Status", topic, "status", device_class="enum",
                                 options=list(STATUSES)),
        f"{uid}_power": _sensor(f"{uid}_power", f"{label}Power", topic, "power_w", device_class="power",
                                state_class="measurement", unit_of_measurement="W"),
        f"{uid}_energy": _sensor(f"{uid}_energy", f"{label}Energy meter", topic, "energy_kwh",
                                 device_class="energy", state_class="total_increasing",
                                 unit_of_measurement="kWh"),
        f"{uid}_session_energy": _sensor(f"{uid}_session_energy", f"{label}Session energy", topic,
                                         "session_energy_kwh", device_class="energy", state_class="total",
                                         unit_of_measurement="kWh"),
        f"{uid}_session_duration": _sensor(f"{uid}_session_duration", f"{label}Session duration", topic,
                                           "session_duration_s", device_class="duration", unit_of_measurement="s"),
        f"{uid}_session_account": _sensor(f"{uid}_session_account", f"{label}Session account", topic,
                                          "session_account"),
        f"{uid}_current_offered": _sensor(f"{uid}_current_offered", f"{label}Current offered", topic,
                                          "current_offered_a", device_class="current", state_class="measurement",
                                          unit_of_measurement="A"),
    }


def account_discovery(snapshot, names, account):
    uid = f"{names.node}_account_{slug(account)}"
    topic = f"{names.prefix}/account/{slug(account)}/state"
    cmps = {
        f"{uid}_energy": _sensor(f"{uid}_energy", "Energy this month", topic, "energy_kwh", device_class="energy",
                                 state_class="total_increasing", unit_of_measurement="kWh"),
        f"{uid}_sessions": _sensor(f"{uid}_sessions", "Sessions this month", topic, "sessions",
                                   state_class="total_increasing"),
    }
    currency = snapshot.accounts[account].get("currency")
    if currency:
        cmps[f"{uid}_cost"] = _sensor(f"{uid}_cost", "Cost this month", topic, "cost", device_class="monetary",
                                      state_class="total", unit_of_measurement=currency)
    return {"dev": {"identifiers": [uid], "name": f"Account {account}", "manufacturer": ORIGIN_NAME,
                    "model": "account"},
            "o": origin(snapshot), "cmps": cmps, "availability": [{"topic": names.bridge}], "qos": 1}


def site_discovery(snapshot, names):
    uid, topic = f"{names.node}_site", f"{names.prefix}/site/state"
    return {"dev": {"identifiers": [uid], "name": "Site", "manufacturer": ORIGIN_NAME, "model": "balancer"},
            "o": origin(snapshot), "availability": [{"topic": names.bridge}], "qos": 1,
            "cmps": {
                f"{uid}_grid_power": _sensor(f"{uid}_grid_power", "Grid power", topic, "grid_power_w",
                                             device_class="power", state_class="measurement",
                                             unit_of_measurement="W"),
                f"{uid}_surplus": _sensor(f"{uid}_surplus", "Solar surplus", topic, "surplus_w",
                                          device_class="power", state_class="measurement", unit_of_measurement="W"),
                f"{uid}_allocated": _sensor(f"{uid}_allocated", "Allocated current", topic, "allocated_a",
                                            device_class="current", state_class="measurement",
                                            unit_of_measurement="A")}}


# -- events ------------------------------------------------------------------------------------------

def events(before, after):
    """The events between two snapshots, in order: chargers connected or gone, sessions started and
    stopped, tags refused. None before: the first snapshot, which is no news."""
    if before is None:
        return []
    found = []
    was = {c["identity"]: c for c in before.chargers}
    for charger in after.chargers:
        identity, old = charger["identity"], was.get(charger["identity"], {})
        if charger.get("connected") and not old.get("connected"):
            found.append({"event": "charger_connected", "charger": identity, "time": charger.get("connected_at")})
        elif old.get("connected") and not charger.get("connected"):
            found.append({"event": "charger_gone", "charger": identity, "time": last_seen(charger)})
    running = _running(before)
    for key, (identity, connector, session) in _running(after).items():
        if key not in running:
            found.append({"event": "session_started", "charger": identity, "connector_id": connector,
                          "transaction_id": session.get("transaction_id"), "account": session.get("account"),
                          "id_tag": session.get("id_tag"), "time": session.get("start_time")})
    stopped = {s["key"] for s in before.stops}
    for stop in after.stops:
        if stop["key"] not in stopped:
            found.append({"event": "session_stopped", "charger": stop.get("charger"),
                          "connector_id": stop.get("connector_id"), "transaction_id": stop.get("transaction_id"),
                          "account": stop.get("account"), "id_tag": stop.get("id_tag"),
                          "energy_wh": stop.get("energy_wh"), "kwh": kwh(stop.get("energy_wh")),
                          "cost": money(stop.get("cost")), "currency": stop.get("currency"),
                          "reason": stop.get("reason"), "time": stop.get("stop_time")})
    for identity, refusal in sorted(after.refusals.items()):
        if refusal != before.refusals.get(identity):
            found.append({"event": "tag_refused", "charger": identity, "id_tag": refusal.get("idTag"),
                          "status": refusal.get("status"), "time": refusal.get("received_at")})
    return found


def _running(snapshot):
    found = {}
    for charger in snapshot.chargers:
        for connector in charger.get("connectors") or ():
            session = connector.get("session")
            if session:
                key = (charger["identity"], connector["connector_id"], session.get("transaction_id"),
                       session.get("start_time"))
                found[key] = (charger["identity"], connector["connector_id"], session)
    return found


# -- commands ----------------------------------------------------------------------------------------

def command(names, topic, payload, snapshot, retained=False):
    """A Command to carry out, a Refused with the reason, or None for a topic that is no command and for
    an empty payload (what clears a retained message: never a command). A retained command is refused:
    the broker would hand it over again at every reconnect."""
    prefix = names.prefix + "/"
    if not topic.startswith(prefix):
        return None
    name, _, rest = topic[len(prefix):].partition("/set/")
    if not name or "/" in name or rest not in COMMANDS:
        return None
    if not payload:
        return None
    refuse = lambda reason: Refused(rest, name, reason)  # noqa: E731
    if retained:
        return refuse("a retained command is not carried out (the broker would hand it over at every "
                      "reconnect): publish it without retain, and clear it with an empty retained message")
    chargers = {charger_slug(c["identity"]): c for c in devices(snapshot)}
    charger = chargers.get(name)
    if charger is None:
        return refuse(f"no charger {name!r} (chargers: {', '.join(sorted(chargers)) or 'none'})")
    if not charger.get("connected"):
        return refuse(f"charger {charger['identity']!r} is not connected")
    try:
        text = payload.decode("utf-8").strip() if isinstance(payload, bytes) else str(payload).strip()
    except UnicodeDecodeError:
        return refuse("the payload is not UTF-8 text")
    if len(text) > MAX_PAYLOAD:
        return refuse(f"the payload is longer than {MAX_PAYLOAD} characters")
    return {"limit": _limit, "start": _start, "stop": _stop, "mode": _mode}[rest](snapshot, charger, text, refuse)


def _limit(snapshot, charger, text, refuse):
    identity = charger["identity"]
    low, high = snapshot.ranges.get(identity, LIMIT_RANGE)
    if text.lower() in CLEAR:
        amps = None
    else:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return refuse(f"the limit {text!r} is not a number of amperes (or 'none' to lift it)")
        if not number.is_finite() or number != number.to_integral_value():
            return refuse(f"the limit {text!r} is not a whole number of amperes")
        if not low <= number <= high:
            return refuse(f"the limit {text} A is outside {low}..{high} A")
        amps = int(number)
    if snapshot.balancer is not None:
        return Command("limit", identity, amps, "balancer", "set_max", None)
    if amps is None:
        return Command("limit", identity, None, "ocpp", "ClearChargingProfile",
                       {"id": PROFILE_ID})
    profile = {"chargingProfileId": PROFILE_ID, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Relative",
               "chargingSchedule": {"chargingRateUnit": "A",
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}]}}
    return Command("limit", identity, amps, "ocpp", "SetChargingProfile",
                   {"connectorId": 0, "csChargingProfiles": profile})


def _start(snapshot, charger, text, refuse):
    account = snapshot.default_account if text == PRESS else text
    if account is None:
        return refuse("no account given and no default account configured (SHOCPP_MQTT_START_ACCOUNT)")
    tag = snapshot.tags.get(account)
    if tag is None:
        return refuse(f"account {account!r} is not in tags.json or has no tag "
                      f"(accounts: {', '.join(sorted(snapshot.tags)) or 'none'})")
    if outlets(charger) and all(c.get("session") for c in outlets(charger)):
        return refuse(f"charger {charger['identity']!r} is charging already")
    return Command("start", charger["identity"], account, "ocpp", "RemoteStartTransaction", {"idTag": tag})


def _stop(snapshot, charger, text, refuse):
    running = [c for c in outlets(charger) if c.get("session")]
    if text != PRESS:
        running = [c for c in running if str(c["connector_id"]) == text]
    if not running:
        return refuse(f"no running session on charger {charger['identity']!r}"
                      + ("" if text == PRESS else f" connector {text}"))
    if len(running) > 1:
        return refuse("several connectors are charging: send the connector's number ("
                      + ", ".join(str(c["connector_id"]) for c in running) + ")")
    tid = running[0]["session"].get("transaction_id")
    return Command("stop", charger["identity"], tid, "ocpp", "RemoteStopTransaction", {"transactionId": tid})


def _mode(snapshot, charger, text, refuse):
    if snapshot.balancer is None:
        return refuse("the balancer is not running: there is no mode to set")
    if text not in MODES:
        return refuse(f"the mode {text!r} is not one of {', '.join(MODES)}")
    return Command("mode", charger["identity"], text, "balancer", "set_mode", None)


def result(command_, answer):
    """The message on P/C/result for a command carried out (`answer`: the backend's, for 'ocpp'; for
    'balancer' {"status": "result"} or {"status": "error", "description": ...})."""
    base = {"command": command_.what, "charger": command_.charger, "value": command_.value}
    kind = answer.get("status")
    if command_.via == "balancer":
        return {**base, "accepted": kind == "result", "via": "balancer",
                **({"reason": answer.get("description")} if kind != "result" else {})}
    found = {**base, "via": "ocpp", "action": command_.action, "status": kind}
    if kind == "result":
        confirmation = answer.get("payload")
        status = confirmation.get("status") if isinstance(confirmation, dict) else None
        return {**found, "accepted": status in (None, "Accepted"), "answer": confirmation}
    if kind == "error":
        return {**found, "accepted": False, "reason": f"CALLERROR {answer.get('code')}: {answer.get('description')}"}
    if kind == "refused":
        return {**found, "accepted": False, "reason": f"the backend refused it: {answer.get('message')}"}
    return {**found, "accepted": False, "reason": "no answer from the charger in time"}


def refusal(refused):
    return {"command": refused.what, "charger": refused.name, "accepted": False, "reason": refused.reason}
