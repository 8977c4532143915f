"""shocpp-command: send an OCPP 1.6 call to a connected charger and print its answer.

The client side of the commands FIFO: the request goes into a directory of its
own under <run>/commands/, its id through the charger's FIFO (one short line, so
concurrent commands never interleave), and the answer comes back as a file with
a wake-up on a FIFO of its own.
"""

import errno
import json
import os
import select
import stat
import sys
import time
from collections import namedtuple

from .. import config as config_module
from .. import runfiles
from ..exits import (AMBIGUOUS, CALLERROR, FAILED, NO_CHARGER, NO_SUCH_CHARGER, OK, REJECTED, STALE, TIMEOUT, USAGE,
                     describe)
from ..protocol import schemas
from . import printable, printable_json, printable_output

EXITS = (OK, CALLERROR, USAGE, TIMEOUT, NO_SUCH_CHARGER, NO_CHARGER, STALE, AMBIGUOUS, FAILED, REJECTED)
EXIT_DETAILS = {OK: "the charger confirmed", NO_SUCH_CHARGER: "none of that name is connected",
                FAILED: "e.g. no permission on the run directory",
                USAGE: "also: a tag not in tags.json without --force, no or several running sessions",
                REJECTED: "to a RemoteStartTransaction or RemoteStopTransaction"}
REMOTE_START, REMOTE_STOP = "RemoteStartTransaction", "RemoteStopTransaction"
REQUEST_START, REQUEST_STOP = "RequestStartTransaction", "RequestStopTransaction"  # 2.0.1's names
STARTS, STOPS = (REMOTE_START, REQUEST_START), (REMOTE_STOP, REQUEST_STOP)
# The gentle Reset, when no payload is given.
RESET_DEFAULT = {"1.6": {"type": "Soft"}, "2.0.1": {"type": "OnIdle"}}
GRACE = 2.0  # the backend reports its own timeout; give it a moment to arrive

EXAMPLES = """\
examples:
  shocpp-command RemoteStartTransaction '{"idTag":"1111"}'
  shocpp-command --charger garage-left Reset '{"type":"Soft"}'
  shocpp-command --charger garage-left --timeout 10 GetConfiguration '{}'
  shocpp-command TriggerMessage '{"requestedMessage":"MeterValues"}'
  shocpp-command --list
  shocpp-command --charger garage-left RemoteStartTransaction --account home
  shocpp-command --charger garage-left RemoteStopTransaction          the running session
  shocpp-command --charger garage-left --connector 2 RemoteStopTransaction
  shocpp-command --charger wallbox-201 GetVariables \
      '{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}'

A charger is sent the calls of the protocol it speaks (OCPP 1.6 or 2.0.1), checked against that
protocol's schemas. The conveniences work for both, under either name: RemoteStopTransaction or
RequestStopTransaction without a payload stops the charger's running session (a start record without
its stop in the ledger, this month's or last month's); with several, choose with --connector (the
EVSE id for 2.0.1). RemoteStartTransaction or RequestStartTransaction --account NAME uses the
account's first tag in tags.json; a tag that is not in tags.json is refused (it would be billed to
"unknown") unless --force. Reset without a payload is the gentle one (1.6 Soft, 2.0.1 OnIdle).

"""


class Failure(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


Args = namedtuple("Args", ["action", "payload", "charger", "timeout", "list", "account", "connector", "force"],
                  defaults=(None, None, False))


def parse_args(argv):
    return _common_args(argv) or _argparse_args(argv)


def _common_args(argv):
    """The arguments in their common forms, without argparse (whose import, with gettext's, is about
    2 ms of every command): options spelled out in full (--charger ID, --charger=ID, --timeout S,
    --timeout=S, --list), then the action and the payload. None for anything else (--help, an
    abbreviation, an option after the action, a mistake): argparse parses that, or refuses it."""
    charger, timeout, listing = None, 30.0, False
    words = list(argv)
    while words and words[0].startswith("-"):
        name, equals, value = words.pop(0).partition("=")
        if name == "--list" and not equals:
            listing = True
            continue
        if name not in ("--charger", "--timeout"):
            return None
        if not equals:
            if not words or words[0].startswith("-"):
                return None
            value = words.pop(0)
        if name == "--charger":
            charger = value
            continue
        try:
            timeout = float(value)  # what argparse's type=float does
        except ValueError:
            return None
    if len(words) > 2 or any(word.startswith("-") for word in words):
        return None
    action = words[0] if words else None
    payload = words[1] if len(words) == 2 else None
    if not (listing or action) or not 0 < timeout <= 3600:
        return None
    return Args(action, payload, charger, timeout, listing)


def _argparse_args(argv):
    import argparse

    parser = argparse.ArgumentParser(
        prog="shocpp-command", epilog=EXAMPLES + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Send an OCPP call (1.6 or 2.0.1, as the charger speaks) to a connected charger and print "
                    "its confirmation as JSON.")
    parser.add_argument("action", nargs="?", help=f"OCPP 1.6: {', '.join(schemas.FROM_CENTRAL)}; OCPP 2.0.1: "
                                                  f"{', '.join(_v201().FROM_CENTRAL)}")
    parser.add_argument("payload", nargs="?", help="the call's payload as JSON (default {}; for "
                        "RemoteStopTransaction the running session's, for RemoteStartTransaction with --account "
                        "the account's first tag)")
    parser.add_argument("--charger", metavar="ID", help="the charger's identity (needed when several are connected)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds to wait for the charger's answer (default 30)")
    parser.add_argument("--list", action="store_true", help="list the connected chargers")
    parser.add_argument("--account", metavar="NAME",
                        help="RemoteStartTransaction without a payload: with this account's first tag")
    parser.add_argument("--connector", type=int, metavar="N",
                        help="RemoteStartTransaction/RemoteStopTransaction without a payload: this connector")
    parser.add_argument("--force", action="store_true",
                        help="send a RemoteStartTransaction with a tag that is not in tags.json")
    args = parser.parse_args(argv)
    if not args.list and not args.action:
        parser.error("an action is needed (or --list)")
    if not 0 < args.timeout <= 3600:
        parser.error("--timeout must be more than 0 and at most 3600 seconds")
    if args.account is not None and args.action not in STARTS:
        parser.error("--account is for RemoteStartTransaction (RequestStartTransaction)")
    if args.account is not None and args.payload is not None:
        parser.error("--account or a payload, not both")
    if args.connector is not None and (args.action not in STARTS + STOPS or args.payload is not None):
        parser.error("--connector is for RemoteStartTransaction --account and RemoteStopTransaction without a payload")
    return Args(args.action, args.payload, args.charger, args.timeout, args.list, args.account, args.connector,
                args.force)


def _v201():
    from ..protocol.v201 import schemas as v201  # only for 2.0.1 chargers and --help
    return v201


def version(conn):
    """The OCPP version the charger's backend speaks (its info.json; none: 1.6)."""
    return "2.0.1" if conn is not None and conn.info.get("ocpp") == "2.0.1" else "1.6"


def schema_set(ocpp):
    return _v201().SET if ocpp == "2.0.1" else schemas.V16


def action_for(action, ocpp):
    """The action under the charger's protocol's name: the conveniences' names work for both."""
    if action in STARTS:
        return REQUEST_START if ocpp == "2.0.1" else REMOTE_START
    if action in STOPS:
        return REQUEST_STOP if ocpp == "2.0.1" else REMOTE_STOP
    return action


def for_charger(action, payload, ocpp):
    """(action, payload) for the charger's protocol: the conveniences' names as its own, and a call
    given in 1.6's terms to a 2.0.1 charger as its 2.0.1 counterpart (when that payload is no 2.0.1 one)."""
    own = action_for(action, ocpp)
    if ocpp != "2.0.1" or action not in schemas.FROM_CENTRAL or not isinstance(payload, dict):
        return own, payload
    if schemas.check(action, "req", payload):
        return own, payload  # not a 1.6 payload: it is checked as it is
    if own in _v201().FROM_CENTRAL and not _v201().check(own, "req", payload):
        return own, payload  # good in both (DataTransfer, ClearCache): nothing to translate
    from ..protocol.v201 import from_v16
    return from_v16.call(action, payload, int(time.time()) % 2**31) or (own, payload)


def parse_payload(action, text, ocpp="1.6"):
    try:
        payload = json.loads(text)
    except ValueError as e:
        raise Failure(USAGE, f"the payload is not JSON: {e}") from None
    problem = schema_set(ocpp).outgoing_problem(action, payload)
    if problem:
        raise Failure(USAGE, f"{problem} (nothing was sent)")
    return payload


def stop_payload(records, charger, connector=None):
    """The RemoteStopTransaction payload for the running session of `charger` (on `connector`, when
    given) among its ledger records, oldest first; Failure (USAGE) for none, or for several."""
    from ..protocol import sessions
    running = sessions.running_on(records, charger, connector)
    where = f"{charger}" + (f" connector {connector}" if connector is not None else "")
    if not running:
        raise Failure(USAGE, f"no running session on {where} in the ledger (nothing was sent); "
                             f"give the payload, e.g. '{{\"transactionId\":10012345}}'")
    if len(running) > 1:
        raise Failure(USAGE, f"several connectors of {charger} are charging: "
                             + ", ".join(f"connector {r['connector_id']} (transactionId {r['transaction_id']})"
                                         for r in running) + "; choose one with --connector N (nothing was sent)")
    return {"transactionId": running[0]["transaction_id"]}


def early_check(action, text):
    """Failure (USAGE) unless the payload is good for the action in one of the protocols: which one the
    charger speaks is known only once it is chosen, and it is checked again then."""
    problems = []
    for ocpp in ("1.6", "2.0.1"):
        try:
            return parse_payload(action_for(action, ocpp), text, ocpp)
        except Failure as e:
            problems.append(e)
    raise problems[0] if action in schemas.FROM_CENTRAL or action in STARTS + STOPS else problems[1]


def start_payload(tags, account, connector=None, ocpp="1.6", remote_start_id=None):
    """The RemoteStartTransaction (2.0.1: RequestStartTransaction) payload with the first tag of
    `account`; Failure (USAGE) for an account without tags or not in tags.json."""
    ids = tags.ids(account)
    if not ids:
        raise Failure(USAGE, f"account {account!r} is not in tags.json or has no tag; accounts: "
                             + (", ".join(tags.accounts) or "none") + " (nothing was sent)")
    if ocpp == "2.0.1":
        payload = {"idToken": {"idToken": ids[0], "type": "Central"},
                   "remoteStartId": int(time.time()) % 2**31 if remote_start_id is None else remote_start_id}
        if connector is not None:
            payload["evseId"] = connector
        return payload
    payload = {"idTag": ids[0]}
    if connector is not None:
        payload["connectorId"] = connector
    return payload


def start_tag(payload):
    """The tag a start call names (1.6 idTag, 2.0.1 idToken.idToken), or None."""
    token = payload.get("idToken")
    return token.get("idToken") if isinstance(token, dict) else payload.get("idTag")


def check_tag(tags, payload):
    """Failure (USAGE) for a RemoteStartTransaction whose tag is not in tags.json: its session would
    be billed to 'unknown'."""
    tag = start_tag(payload)
    if tags.lookup(tag) is None:
        raise Failure(USAGE, f"tag {tag!r} is not in tags.json: its session would be billed to 'unknown' "
                             "(nothing was sent; --force sends it all the same)")


def charger_records(accounting_dir, charger):
    """The ledger records of `charger` of last month and this month (local months, as the ledger's)."""
    from datetime import datetime
    from .. import ledger
    from ..protocol import months
    month = months.of(datetime.now().astimezone())
    try:
        return [r for m in (months.previous(month), month)
                for r in ledger.records(accounting_dir, months.label(m), None, charger)]
    except ledger.Unavailable as e:
        raise Failure(FAILED, f"{e} (nothing was sent)") from None


def load_tags(path):
    from .. import tags_file
    from ..protocol.tags import TagsError
    try:
        return tags_file.load(path)
    except TagsError as e:
        raise Failure(USAGE, f"{e}: the tag cannot be checked (nothing was sent; --force sends it unchecked)") \
            from None


def payload_for(args, config, conn):
    """The payload to send: the one given (checked against the charger's protocol's schema), or the one
    the conveniences make; a start's tag checked against tags.json unless --force."""
    ocpp = version(conn)
    action = action_for(args.action, ocpp)
    if action in STOPS and args.payload is None:
        return stop_payload(charger_records(config.accounting_dir, conn.identity), conn.identity, args.connector)
    if action in STARTS and args.account is not None:
        payload = start_payload(load_tags(config.tags_file), args.account, args.connector, ocpp)
    elif action == "Reset" and args.payload is None:
        payload = RESET_DEFAULT[ocpp]
    else:
        given = early_check(args.action, "{}" if args.payload is None else args.payload)
        action, payload = for_charger(args.action, given, ocpp)
        payload = parse_payload(action, json.dumps(payload), ocpp)
    if action in STARTS and not args.force and isinstance(start_tag(payload), str):
        check_tag(load_tags(config.tags_file), payload)
    return payload


def choose(run_dir, wanted):
    """The live connection to send to, or Failure saying why there is none."""
    found = runfiles.connections(run_dir)
    live = runfiles.live_chargers(run_dir)
    if wanted is None:
        if len(live) == 1:
            return next(iter(live.values()))
        if len(live) > 1:
            raise Failure(AMBIGUOUS, "several chargers are connected, choose one with --charger: "
                                     + ", ".join(sorted(live)))
        if any(not c.alive for c in found):
            raise Failure(STALE, stale_message(found))
        raise Failure(NO_CHARGER, "no charger is connected")
    if wanted in live:
        return live[wanted]
    if any(c.identity == wanted for c in found):
        raise Failure(STALE, stale_message([c for c in found if c.identity == wanted]))
    names = ", ".join(sorted(live)) or "none"
    raise Failure(NO_SUCH_CHARGER, f"charger {wanted!r} is not connected (connected: {names})")


def stale_message(found):
    stale = [c for c in found if not c.alive]
    for conn in stale:
        if not _pid_alive(conn.pid):
            import shutil  # seldom: not for every command (2 ms)
            shutil.rmtree(conn.path, ignore_errors=True)
    names = ", ".join(f"{c.identity} (pid {c.pid})" for c in stale)
    return f"stale FIFO left by a killed backend: {names}; removed. The charger is not connected."


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def send(run_dir, conn, action, payload, timeout):
    """The backend's answer for one call: result, error, timeout or refused.

    The request's directory and files are made and read relative to the open directories, no
    link followed: a member of the service's group cannot make root's command write elsewhere."""
    request_id = os.urandom(16).hex()
    service = runfiles.service_uid(run_dir)
    commands = _commands_dir(run_dir, service)
    try:
        os.mkdir(request_id, 0o700, dir_fd=commands)
        where = runfiles.open_dir(request_id, commands)
        try:
            os.fchmod(where, runfiles.REQUEST_MODE)
            runfiles.atomic.write_json(runfiles.REQUEST, {"action": action, "payload": payload, "timeout": timeout},
                                       mode=runfiles.FILE_MODE, dir_fd=where)
            os.mkfifo(runfiles.WAKE, runfiles.FIFO_MODE, dir_fd=where)
            os.chmod(runfiles.WAKE, runfiles.FIFO_MODE, dir_fd=where)
            _share_with_service(run_dir, where)
            mine = os.geteuid()
            wake = runfiles.open_owned(runfiles.WAKE, os.O_RDONLY | os.O_NONBLOCK, where, mine, stat.S_ISFIFO, "wake")
            # no EOF before the backend writes
            keep_open = runfiles.open_owned(runfiles.WAKE, os.O_WRONLY, where, mine, stat.S_ISFIFO, "wake")
            try:
                _post(conn, request_id)
                return _await(where, service, wake, time.monotonic() + timeout + GRACE)
            finally:
                os.close(wake)
                os.close(keep_open)
        finally:
            _remove_request(where, commands, request_id)
    finally:
        os.close(commands)


def _commands_dir(run_dir, service):
    """run/commands, open: the listener makes it (the service's, setgid); made here when missing
    (a run directory no listener prepared). Neither a link nor another member's directory is used."""
    run_fd = runfiles.open_dir(os.fspath(run_dir))
    try:
        try:
            os.mkdir(runfiles.COMMANDS, 0o700, dir_fd=run_fd)
            made = True
        except FileExistsError:
            made = False
        fd = runfiles.open_dir(runfiles.COMMANDS, run_fd)
    finally:
        os.close(run_fd)
    st = os.fstat(fd)
    if made:
        group = os.stat(run_dir).st_gid
        os.fchown(fd, service if os.geteuid() == 0 else -1, group)
        os.fchmod(fd, runfiles.COMMANDS_MODE)
    elif st.st_uid not in (service, os.geteuid()):
        os.close(fd)
        raise Failure(FAILED, f"{run_dir}/{runfiles.COMMANDS} belongs to uid {st.st_uid}, not to the service's "
                              f"user: refused (restarting the listener makes it anew)")
    return fd


def _remove_request(where, commands, request_id):
    """shutil.rmtree for the request's directory, which holds files only: through the open
    directory, without importing shutil (and its compression modules), 2 ms of every command."""
    try:
        for name in os.listdir(where):
            try:
                os.unlink(name, dir_fd=where)
            except OSError:
                pass
        os.rmdir(request_id, dir_fd=commands)
    except OSError:
        pass
    finally:
        os.close(where)


def _share_with_service(run_dir, where):
    """Give the request the run directory's group, so that the service's backend can read it and
    answer, also when an operator in that group sends the command. `where`: the open directory."""
    group = os.stat(run_dir).st_gid
    if os.fstat(where).st_gid != group:
        os.fchown(where, -1, group)
    for name in (runfiles.REQUEST, runfiles.WAKE):
        if os.stat(name, dir_fd=where, follow_symlinks=False).st_gid != group:
            os.chown(name, -1, group, dir_fd=where, follow_symlinks=False)


def _post(conn, request_id):
    """The request id into the backend's FIFO: a FIFO of the service's user in a directory of its,
    never a link (a fake run/<id>@<pid>/commands would make root write elsewhere)."""
    try:
        fd = conn.open_fifo(os.O_WRONLY | os.O_NONBLOCK)
    except runfiles.Untrusted as e:
        raise Failure(FAILED, f"charger {conn.identity}: {e}") from None
    except OSError as e:
        if e.errno in (errno.ENXIO, errno.ENOENT):
            raise Failure(STALE, stale_message([conn])) from None
        raise
    try:
        os.write(fd, f"{request_id}\n".encode())  # shorter than PIPE_BUF: atomic
    finally:
        os.close(fd)


def _await(where, service, wake, deadline):
    """The answer, once the backend has written it: a file of the service's user (a group member's
    answer.json in the request directory is no answer)."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return {"status": "timeout"}
        ready, _, _ = select.select([wake], [], [], remaining)
        if not ready:
            continue
        try:
            fd = runfiles.open_owned(runfiles.ANSWER, os.O_RDONLY, where, service, stat.S_ISREG, "the answer")
        except (FileNotFoundError, runfiles.Untrusted):
            _drain(wake)  # none yet, or not the backend's: wait on for its own
            continue
        with os.fdopen(fd, encoding="utf-8") as f:
            return json.load(f)


def _drain(fd):
    try:
        os.read(fd, 64)
    except BlockingIOError:
        pass


def report(action, answer, charger, timeout, out=None, err=None, ocpp="1.6"):
    """Print the answer; the exit status. What the charger sent (a description, a payload) is
    escaped where it would draw on the terminal; the JSON on stdout is the same data for a script."""
    out, err = out or sys.stdout, err or sys.stderr
    status = answer.get("status")
    if status == "result":
        for v in schema_set(ocpp).check(action, "conf", answer["payload"]):
            say(f"warning: {charger}'s {action} confirmation deviates from the schema: {v.describe()}", err)
        print(printable_json(answer["payload"], indent=2), file=out)
        if action in STARTS + STOPS and isinstance(answer["payload"], dict) \
                and answer["payload"].get("status") == "Rejected":
            say(f"{charger} rejected the {action}: nothing was "
                + ("started" if action in STARTS else "stopped"), err)
            return REJECTED
        return OK
    if status == "error":
        say(f"{charger} answered {action} with CALLERROR {answer['code']}: "
            f"{answer['description'] or '(no description)'}", err)
        if answer.get("details"):
            print(printable_json(answer["details"]), file=err)
        return CALLERROR
    if status == "refused":
        say(f"the backend refused the call: {answer.get('message')} (nothing was sent)", err)
        return USAGE
    say(f"no answer from {charger} to {action} within {timeout:g} s", err)
    return TIMEOUT


AROUND_THE_BALANCER = ("SetChargingProfile", "ClearChargingProfile")


def warn_balanced(run_dir, charger, err=None):
    """True, after a warning, when a running shocpp-balance balances the charger: it owns its limits."""
    import time
    from .. import balance_control  # only for these two actions
    last = balance_control.status(run_dir)
    if not (balance_control.running(run_dir, time.time(), last) and charger in last.get("chargers", {})):
        return False
    say(f"WARNING: shocpp-balance is running and owns the limits of {charger}: it corrects this profile at "
        f"its next round. Set the charger's maximum or mode instead: shocpp-balance --max {charger}=AMPS, "
        f"--mode {charger}=off|fast|minpv|pv", err)
    return True


def sent_around(run_dir, charger):
    """Tell the balancer that a profile went to the charger around it: it sends its limit again next round."""
    import time
    from .. import balance_control
    try:
        balance_control.sent_around(run_dir, charger, time.time())
    except OSError:
        pass  # a member of the group may not write there: the closed loop still sees what it draws


def say(message, err=None):
    """A message on stderr, on one line and with nothing in it that draws on the terminal."""
    print(f"shocpp-command: {printable(message)}", file=err or sys.stderr)


def list_chargers(run_dir, out=None):
    """One line a live charger, tab-separated: identity, since, address, vendor model serial; each
    field printable(), so that a serial number can neither draw nor forge a line or a field."""
    out = out or sys.stdout
    live = runfiles.live_chargers(run_dir)
    for identity, conn in sorted(live.items()):
        boot = conn.info.get("boot") or {}
        device = " ".join(str(boot[k]) for k in ("chargePointVendor", "chargePointModel", "chargePointSerialNumber")
                          if k in boot)
        fields = (identity, f"connected {conn.info.get('connected_at', '?')}", conn.info.get("remote_addr") or "-",
                  device or "-")
        print("\t".join(printable(f) for f in fields), file=out)
    if not live:
        print("no charger is connected", file=sys.stderr)
    return OK if live else NO_CHARGER


def main(argv=None, env=None):
    printable_output()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run_dir = config_module.from_env(env).run_dir
        if args.list:
            return list_chargers(run_dir)
        if args.payload is not None or args.action not in STARTS + STOPS + ("Reset",):
            early_check(args.action, "{}" if args.payload is None else args.payload)  # before looking for chargers
        conn = choose(run_dir, args.charger)
        payload = payload_for(args, config_module.from_env(env), conn)
        action = action_for(args.action, version(conn))
        balanced = action in AROUND_THE_BALANCER and warn_balanced(run_dir, conn.identity)
        answer = send(run_dir, conn, action, payload, args.timeout)
        if balanced:
            sent_around(run_dir, conn.identity)
        return report(action, answer, conn.identity, args.timeout, ocpp=version(conn))
    except Failure as e:
        say(str(e))
        return e.status
    except (OSError, config_module.ConfigError) as e:
        say(str(e))
        return USAGE if isinstance(e, config_module.ConfigError) else FAILED


if __name__ == "__main__":
    sys.exit(main())
