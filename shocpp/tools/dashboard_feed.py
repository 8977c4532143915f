"""The dashboard's WebSocket feed: websocketd runs one of these for each open page (the same Unix model
as the backends: one process a connection, its stdout the messages, one JSON object a line).

The person is the page's session cookie (or HTTP Basic credentials) when it connects, checked
again every CHECK_S; without one the feed says {"type": "signed_out"} and ends. Then it watches the
run directory and the ledger (a stat of their few files every TICK_S) and, when something changed,
sends the site as that person may see it, if it differs from the last sent:

    {"type": "hello", "me": {"name", "role", "account"}}
    {"type": "site", "site": {...}}        what GET /api/status answers
    {"type": "ledger"}                     a ledger file changed: the month's figures are worth asking again
    {"type": "signed_out"}                 the session ended (expired, the person removed or changed)

An idle page costs this process a few stat calls a tick and nothing on the page's side.
"""

import os
import select
import sys
import time
from datetime import datetime

from .. import config as config_module
from ..operators_file import OperatorsError
from ..protocol import months
from . import dashboard_auth, dashboard_views

TICK_S = 0.2
CHECK_S = 30


def signature(config):
    """What changes when a charger's frame was handled, a balancer round ended or the ledger grew."""
    found = []
    for name, st in _entries(config.run_dir):
        found.append((name, st))
        if "@" in name:
            found.extend(_entries(config.run_dir / name))
    found.extend(_entries(config.run_dir / "balance"))
    return tuple(found), ledger_signature(config)


def ledger_signature(config):
    label = months.label(months.of(datetime.now().astimezone()))
    try:
        st = os.stat(config.accounting_dir / f"{label}.jsonl")
        return st.st_mtime_ns, st.st_size
    except OSError:
        return None


def _entries(directory):
    try:
        with os.scandir(directory) as found:
            return sorted((e.name, _stamp(e)) for e in found)
    except OSError:
        return []


def _stamp(entry):
    try:
        st = entry.stat(follow_symlinks=False)
        return st.st_mtime_ns, st.st_size
    except OSError:
        return None


def send(out, message):
    out.write(dashboard_views.encode(message) + "\n")
    out.flush()


def run(env, stdin, out, clock=time.monotonic):
    config = config_module.from_env(env)
    try:
        gate = dashboard_auth.Gate(config.operators_file, dashboard_auth.read_secret(config.run_dir))
        person = gate.who(env.get("HTTP_COOKIE"), env.get("HTTP_AUTHORIZATION"))
    except (OSError, ValueError, OperatorsError):
        person = None
    if person is None:
        send(out, {"type": "signed_out"})
        return 0
    send(out, {"type": "hello", "me": {"name": person.name, "role": person.role, "account": person.account}})
    seen, sent, checked = None, None, clock()
    while True:
        ready, _, _ = select.select([stdin], [], [], TICK_S)
        if ready and not os.read(stdin.fileno(), 4096):
            return 0  # the page went away
        if clock() - checked > CHECK_S:
            checked = clock()
            if still(gate, env) not in (person, None):
                send(out, {"type": "signed_out"})
                return 0
        now = signature(config)
        if now == seen:
            continue
        if seen is not None and now[1] != seen[1]:
            send(out, {"type": "ledger"})
        seen = now
        text = dashboard_views.encode(dashboard_views.site_for(person, dashboard_views.site(config)))
        if text != sent:
            out.write('{"type":"site","site":' + text + "}\n")
            out.flush()
            sent = text


def still(gate, env):
    """The person the page's credentials name now: False for nobody; None while the operators file
    is broken (an edit under way: the page goes on as the person it was)."""
    try:
        return gate.who(env.get("HTTP_COOKIE"), env.get("HTTP_AUTHORIZATION")) or False
    except OperatorsError:
        return None


def main():
    try:
        return run(dict(os.environ), sys.stdin, sys.stdout)
    except (BrokenPipeError, KeyboardInterrupt):
        return 0


if __name__ == "__main__":
    sys.exit(main())
