"""RFID cards nobody has, as the backends met them: <run>/unknown-tags.json,
{tag: {"charger", "seen_at", "outcome": "refused"|"billed to unknown", "times"}}, the last MAX_TAGS
cards of the last KEEP_DAYS days. The dashboard and shocpp-status list them; adding a card to an
account (tags.json) takes it off the list they show."""

import fcntl
import json
import os
from datetime import timedelta

from . import atomic, runfiles
from .protocol import timestamps

NAME, LOCK = "unknown-tags.json", "unknown-tags.lock"
MAX_TAGS = 200
KEEP_DAYS = 30
REFUSED, BILLED_TO_UNKNOWN = "refused", "billed to unknown"


def read(run_dir):
    try:
        with open(run_dir / NAME, encoding="utf-8") as f:
            found = json.load(f)
    except (OSError, ValueError):
        return {}
    return {t: e for t, e in found.items() if isinstance(e, dict)} if isinstance(found, dict) else {}


def recent(run_dir, now, tags=None):
    """[{"id_tag", "charger", "seen_at", "outcome", "times"}] seen within KEEP_DAYS of `now` (aware),
    newest first; `tags` (a Tags): the cards it knows by now are left out."""
    since = now - timedelta(days=KEEP_DAYS)
    shown = []
    for tag, e in read(run_dir).items():
        moment = timestamps.parse(e.get("seen_at"))
        if moment is None or moment < since or (tags is not None and tags.lookup(tag) is not None):
            continue
        shown.append({"id_tag": tag, "charger": e.get("charger"), "seen_at": e.get("seen_at"),
                      "outcome": e.get("outcome"), "times": e.get("times")})
    return sorted(shown, key=lambda e: e["seen_at"], reverse=True)


def note(run_dir, tag, charger, now, outcome):
    """Remember that `charger` met the unknown card `tag` at `now` (aware), with `outcome`."""
    runfiles.ensure_dir(run_dir)
    fd = os.open(run_dir / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        found = read(run_dir)
        since = timestamps.format_utc(now - timedelta(days=KEEP_DAYS))
        times = found.pop(tag, {}).get("times", 0)
        found[tag] = {"charger": charger, "seen_at": timestamps.format_utc(now), "outcome": outcome,
                      "times": (times if isinstance(times, int) else 0) + 1}
        kept = sorted(((t, e) for t, e in found.items() if str(e.get("seen_at")) >= since),
                      key=lambda item: str(item[1].get("seen_at")))[-MAX_TAGS:]
        atomic.write_json(run_dir / NAME, dict(kept), mode=0o640)
    finally:
        os.close(fd)


ACTIONS = ('"StartTransaction"', '"Authorize"', '"TransactionEvent"')


def met(line, tags):
    """(tag, outcome) when the frame `line` (a charger's CALL, text) brings a card that `tags` does not
    know: a 1.6 StartTransaction (billed to unknown; a refused 1.6 Authorize comes as the backend's
    SaveRefusal), a 2.0.1 Authorize (refused) or a 2.0.1 TransactionEvent Started (billed to unknown).
    None otherwise, cheaply for every other frame."""
    if tags is None or not any(action in line for action in ACTIONS):
        return None
    try:
        kind, _, action, payload = json.loads(line)
    except (ValueError, TypeError):
        return None
    if kind != 2 or not isinstance(payload, dict):
        return None
    token = payload.get("idToken")
    token = token.get("idToken") if isinstance(token, dict) else None
    if action == "StartTransaction":
        tag, outcome = payload.get("idTag"), BILLED_TO_UNKNOWN
    elif action == "Authorize" and token is not None:
        tag, outcome = token, REFUSED
    elif action == "TransactionEvent" and payload.get("eventType") == "Started":
        tag, outcome = token, BILLED_TO_UNKNOWN
    else:
        return None
    if not isinstance(tag, str) or tags.lookup(tag) is not None:
        return None
    return tag, outcome
