"""shocpp-passwd: give a charger its AuthorizationKey (OCPP Security Profile 1)."""

import argparse
import json
import re
import sys
from datetime import datetime

from .. import chargers_file, operators_file, runfiles
from .. import config as config_module
from ..exits import FAILED, NO_SUCH_CHARGER, OK, USAGE, describe
from ..protocol import months
from ..protocol.authentication import ChargersError, can_authenticate
from ..protocol.identity import MAX_LENGTH, is_safe

EXITS = (OK, USAGE, NO_SUCH_CHARGER, FAILED)
EXIT_DETAILS = {USAGE: "also a broken chargers file, and --remove of the last charger without --force", NO_SUCH_CHARGER: "--remove: not in the chargers file",
                FAILED: "the chargers file cannot be read or written"}
EXAMPLES = ("examples:\n  shocpp-passwd garage-left\n  shocpp-passwd --remove garage-left\n  shocpp-passwd --list\n"
            "  shocpp-passwd --operator alice                 a dashboard operator, with a new random password\n"
            "  printf '%s' \"$PW\" | shocpp-passwd --operator alice --password-stdin\n"
            "  shocpp-passwd --operator alice --remove\n\n")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="shocpp-passwd",
        description="Create or replace a charger's entry in the chargers file (SHOCPP_CHARGERSFILE, default "
                    "conf/chargers.json) with a new random AuthorizationKey, and print the key once. Only its "
                    "hash is stored. Once the file exists, only the chargers listed in it may connect.",
        epilog=EXAMPLES + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("charger", nargs="?", help="the charger's identity (the last part of its URL)")
    parser.add_argument("--remove", action="store_true", help="remove the charger instead")
    parser.add_argument("--force", action="store_true",
                        help="--remove: remove the last charger too (an empty chargers file refuses every charger)")
    parser.add_argument("--list", action="store_true", help="list the chargers in the file")
    parser.add_argument("--operator", metavar="NAME",
                        help="a dashboard operator instead of a charger, in SHOCPP_OPERATORSFILE (default "
                             "conf/operators.json); with --remove, removes it")
    parser.add_argument("--password-stdin", action="store_true",
                        help=f"--operator: read the password from standard input (at least "
                             f"{operators_file.MIN_PASSWORD} characters) instead of making one")
    args = parser.parse_args(argv)
    if args.operator is not None:
        if args.charger or args.list:
            parser.error("--operator NAME takes no charger identity and no --list")
        if not is_safe(args.operator) or not can_authenticate(args.operator):
            parser.error(f"{args.operator!r} is not 1 to {MAX_LENGTH} letters, digits and ._-")
        return args
    if args.password_stdin:
        parser.error("--password-stdin goes with --operator (a charger's key is always made here)")
    if not args.list and not args.charger:
        parser.error("a charger identity is needed (or --list)")
    if args.charger and not is_safe(args.charger):
        parser.error(f"{args.charger!r} is not 1 to {MAX_LENGTH} letters, digits and ._-:")
    if args.charger and not can_authenticate(args.charger):
        parser.error(f"{args.charger!r} has a ':': HTTP Basic auth cannot carry it in the user name, so the "
                     "charger could never connect; give it an identity without ':'")
    return args


_CHARGER = re.compile(rb'"charger": "([A-Za-z0-9._:-]{1,%d})"' % MAX_LENGTH)


def recent_chargers(config, now=None):
    """The identities seen recently: in the ledger of this month and the last (its start and stop
    records name the charger) and connected now. Cheap and honest: a charger that only booted and sent
    heartbeats is in neither, and the log is not read (it is rotated and may be large)."""
    this = months.of(now or datetime.now())
    seen = set(runfiles.live_chargers(config.run_dir))
    for month in (months.previous(this), this):
        try:
            with open(config.accounting_dir / f"{months.label(month)}.jsonl", "rb") as f:
                for line in f:
                    found = _CHARGER.search(line)
                    if found:
                        seen.add(found[1].decode())
        except OSError:
            continue
    return seen


def _existing(path):
    return chargers_file.load(path) if path.exists() else {}


def main(argv=None, env=None, out=None, stdin=None):
    args = parse_args(argv)
    out = out or sys.stdout
    if args.operator is not None:
        return _operator(args, env, out, stdin or sys.stdin)
    try:
        config = config_module.from_env(env)
        path = config.chargers_file
        first = not path.exists()
        known = _existing(path)
        if args.list:
            if first:
                print(f"no chargers file {path}: chargers are NOT authenticated, every charger may connect "
                      "(shocpp-passwd <chargerId> creates it)", file=out)
            else:
                print("\n".join(sorted(known)) or f"no chargers in {path}: every charger is refused", file=out)
            return OK
        if args.remove:
            return _remove(args, path, known, out)
        key = chargers_file.new_key()
        known[args.charger] = chargers_file.new_hash(key)
        chargers_file.save(path, known)
    except (ChargersError, config_module.ConfigError, OSError) as e:
        print(f"shocpp-passwd: {e}", file=sys.stderr)
        return FAILED if isinstance(e, OSError) else USAGE
    if first:
        _warn_first(config, args.charger, path)
    payload = json.dumps({"key": "AuthorizationKey", "value": key}, separators=(",", ":"))
    print(f"AuthorizationKey of {args.charger} (shown once, only its hash is stored in {path}):\n\n  {key}\n\n"
          f"Enter it in the charger's OCPP settings (password / AuthorizationKey), or set it on the connected "
          f"charger:\n\n  bin/shocpp-command --charger {args.charger} ChangeConfiguration '{payload}'\n", file=out)
    return OK


def _remove(args, path, known, out):
    if known.pop(args.charger, None) is None:
        print(f"shocpp-passwd: {args.charger!r} is not in {path}", file=sys.stderr)
        return NO_SUCH_CHARGER
    if not known:
        last = (f"{args.charger} is the last charger in {path}: without it the file lists no charger and "
                f"every charger is refused")
        if not args.force:
            print(f"shocpp-passwd: not removed: {last}. Give --force to remove it anyway, or delete {path} to "
                  f"let every charger in without a password.", file=sys.stderr)
            return USAGE
        print(f"shocpp-passwd: WARNING: {last}.", file=sys.stderr)
    chargers_file.save(path, known)
    print(f"removed {args.charger} from {path}", file=out)
    return OK


def _operator(args, env, out, stdin):
    """Add, replace or remove a dashboard operator; the password is printed once when made here."""
    try:
        path = config_module.from_env(env).operators_file
        known = operators_file.load(path) if path.exists() else {}
        if args.remove:
            if known.pop(args.operator, None) is None:
                print(f"shocpp-passwd: operator {args.operator!r} is not in {path}", file=sys.stderr)
                return NO_SUCH_CHARGER
            operators_file.save(path, known)
            print(f"removed the operator {args.operator} from {path}", file=out)
            return OK
        if args.password_stdin:
            password = stdin.read().rstrip("\r\n")
            if len(password) < operators_file.MIN_PASSWORD or not password.isprintable():
                print(f"shocpp-passwd: the password must be one line of at least {operators_file.MIN_PASSWORD} "
                      "printable characters", file=sys.stderr)
                return USAGE
        else:
            password = chargers_file.new_key()
        known[args.operator] = chargers_file.new_hash(password)
        operators_file.save(path, known)
    except (ChargersError, config_module.ConfigError, OSError) as e:
        print(f"shocpp-passwd: {e}", file=sys.stderr)
        return FAILED if isinstance(e, OSError) else USAGE
    if args.password_stdin:
        print(f"operator {args.operator} saved in {path} (only the password's hash is stored)", file=out)
    else:
        print(f"password of the dashboard operator {args.operator} (shown once, only its hash is stored in "
              f"{path}):\n\n  {password}\n", file=out)
    return OK


def _warn_first(config, charger, path):
    locked_out = sorted(recent_chargers(config) - {charger})
    seen = (f"chargers seen in the ledger of the last two months or connected now that are not listed and "
            f"will be refused: {', '.join(locked_out)}" if locked_out else
            "no other charger was seen in the ledger of the last two months or is connected now")
    print(f"shocpp-passwd: {path} is new: from now on only the chargers listed in it may connect, each with "
          f"its key; every other charger is refused at its next connection.\nshocpp-passwd: {seen}.\n"
          f"shocpp-passwd: give each of them a key with shocpp-passwd <chargerId> (before they reconnect), "
          f"or remove {path} to let every charger in again.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
