"""shocpp-passwd: give a charger its AuthorizationKey (OCPP Security Profile 1)."""

import argparse
import json
import sys

from .. import chargers_file
from .. import config as config_module
from ..exits import FAILED, NO_SUCH_CHARGER, OK, USAGE, describe
from ..protocol.authentication import ChargersError
from ..protocol.identity import MAX_LENGTH, is_safe

EXITS = (OK, USAGE, NO_SUCH_CHARGER, FAILED)
EXIT_DETAILS = {USAGE: "also a broken chargers file", NO_SUCH_CHARGER: "--remove: not in the chargers file",
                FAILED: "the chargers file cannot be read or written"}
EXAMPLES = "examples:\n  shocpp-passwd garage-left\n  shocpp-passwd --remove garage-left\n  shocpp-passwd --list\n\n"


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
    parser.add_argument("--list", action="store_true", help="list the chargers in the file")
    args = parser.parse_args(argv)
    if not args.list and not args.charger:
        parser.error("a charger identity is needed (or --list)")
    if args.charger and not is_safe(args.charger):
        parser.error(f"{args.charger!r} is not 1 to {MAX_LENGTH} letters, digits and ._-:")
    return args


def _existing(path):
    return chargers_file.load(path) if path.exists() else {}


def main(argv=None, env=None, out=None):
    args = parse_args(argv)
    out = out or sys.stdout
    try:
        path = config_module.from_env(env).chargers_file
        known = _existing(path)
        if args.list:
            print("\n".join(sorted(known)) or f"no chargers in {path}", file=out)
            return OK
        if args.remove:
            if known.pop(args.charger, None) is None:
                print(f"shocpp-passwd: {args.charger!r} is not in {path}", file=sys.stderr)
                return NO_SUCH_CHARGER
            chargers_file.save(path, known)
            print(f"removed {args.charger} from {path}", file=out)
            return OK
        key = chargers_file.new_key()
        known[args.charger] = chargers_file.new_hash(key)
        chargers_file.save(path, known)
    except (ChargersError, config_module.ConfigError, OSError) as e:
        print(f"shocpp-passwd: {e}", file=sys.stderr)
        return FAILED if isinstance(e, OSError) else USAGE
    payload = json.dumps({"key": "AuthorizationKey", "value": key}, separators=(",", ":"))
    print(f"AuthorizationKey of {args.charger} (shown once, only its hash is stored in {path}):\n\n  {key}\n\n"
          f"Enter it in the charger's OCPP settings (password / AuthorizationKey), or set it on the connected "
          f"charger:\n\n  bin/shocpp-command --charger {args.charger} ChangeConfiguration '{payload}'\n", file=out)
    return OK


if __name__ == "__main__":
    sys.exit(main())
