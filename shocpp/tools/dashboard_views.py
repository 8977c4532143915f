"""What the dashboard shows each role, as plain data: the API's answers and the feed's messages.

An operator sees everything; a viewer everything but RFID tags; a driver only what belongs to its
account: its sessions, its month, its tags. A session of another account reaches a driver as the
connector's status alone (no account, tag, energy or transaction).
"""

import json
import os
from dataclasses import asdict
from datetime import datetime, timezone

from .. import balance_control, ledger
from . import status as status_tool

TAG_KEYS = ("id_tag", "start_id_tag")


def without_tags(data):
    """`data` (JSON-like) with every RFID tag left out."""
    if isinstance(data, dict):
        return {k: without_tags(v) for k, v in data.items() if k not in TAG_KEYS}
    if isinstance(data, (list, tuple)):  # asdict() keeps a dataclass's tuples
        return [without_tags(v) for v in data]
    return data


def site(config, now=None):
    """{"chargers": [...], "balancer": {...} or None, "problems": [...], "time_zone": TZ}: what
    shocpp-status shows, with the balancer's site figures and its modes."""
    now = now or datetime.now(timezone.utc)
    known = status_tool.known_chargers(config.chargers_file)
    try:
        chargers = status_tool.load(config.run_dir, config.accounting_dir, known, now)
        problems = []
    except ledger.Unavailable as e:
        chargers = status_tool.load(config.run_dir, None, known, now)
        problems = [f"no running sessions shown: {e}"]
    from ..last_good import problems as last_good_problems
    return {"chargers": [asdict(c) for c in chargers], "balancer": balancer(config.run_dir, now),
            "problems": problems + last_good_problems(config.run_dir), "time_zone": time_zone()}


def balancer(run_dir, now):
    """The balancer's site figures and each balanced charger's mode, or None when it does not run."""
    last = balance_control.status(run_dir)
    if not balance_control.running(run_dir, now, last):
        return None
    controls = balance_control.controls(run_dir)
    chargers = {}
    for charger, entry in last.get("chargers", {}).items():
        if isinstance(entry, dict):
            chargers[charger] = {"mode": entry.get("mode"), "max_a": entry.get("max_a"),
                                 "mode_set": (controls.get(charger) or {}).get("mode")}
    return {"grid_limit_a": last.get("grid_limit_a"), "grid_power_w": last.get("grid_power_w"),
            "surplus_w": last.get("surplus_w"), "updated_at": last.get("updated_at"), "modes": balance_control.MODES,
            "chargers": chargers}


def time_zone():
    """The services' time zone (TZ, as shocpp-status uses it), as an IANA name when known."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and not tz.startswith("/"):
        return tz if os.path.exists(os.path.join("/usr/share/zoneinfo", tz)) else None
    try:
        link = os.readlink(tz if tz.startswith("/") else "/etc/localtime")
        return link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else None
    except OSError:
        return None


def site_for(person, shown):
    """The site as `person` may see it."""
    if person.role == "operator":
        return shown
    if person.role == "viewer":
        return without_tags(shown)
    chargers = []
    for c in shown["chargers"]:
        connectors = []
        for k in c["connectors"]:
            s = k.get("session")
            if s is not None and s.get("account") != person.account:
                k = {**k, "session": None, "in_use": True}
            connectors.append(k)
        chargers.append({**c, "connectors": connectors})
    return {**shown, "chargers": chargers}


def summary_for(person, summary):
    """A month's summary (shocpp-summary's JSON, parsed) as `person` may see it."""
    if person.role == "operator":
        return summary
    if person.role == "viewer":
        return without_tags(summary)
    own = lambda rows: [r for r in rows if r.get("account") == person.account]  # noqa: E731
    return {"from": summary["from"], "to": summary["to"], "account_filter": person.account,
            "accounts": own(summary["accounts"]), "sessions": own(summary["sessions"]),
            "review": own(summary["review"]), "to_review": len(own(summary["review"]))}


def running_session(shown, charger, connector):
    """The running session on a charger's connector in site()'s data, or None."""
    for c in shown["chargers"]:
        if c["identity"] == charger:
            for k in c["connectors"]:
                if k["connector_id"] == connector:
                    return k.get("session")
    return None


def encode(data):
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True, default=str)
