"""shocpp-listener: websocketd in the foreground, one shocpp-backend per charger connection."""

import argparse
import os
import shlex
import shutil
import sys
import textwrap

from .. import chargers_file
from .. import config as config_module
from ..config import ROOT
from ..exits import NOT_INSTALLED, OK, USAGE, describe
from ..protocol.authentication import ChargersError
from ..protocol.tags import TagsError
from ..tags_file import load

BACKEND = ROOT / "bin" / "shocpp-backend"
PASSED_ALWAYS = ("PATH", "LD_LIBRARY_PATH", "TZ", "LANG", "LC_ALL")
EXITS = (OK, USAGE, NOT_INSTALLED)
EXIT_DETAILS = {OK: "--print-command; otherwise it becomes websocketd",
                USAGE: "not started: a setting, tags.json or chargers.json is broken"}
INSTALL_HINT = ("websocketd is not installed. It is the Debian package 'websocketd': "
                "sudo apt-get install websocketd (or run 'make run', which installs it).")


def command(env, websocketd="websocketd"):
    """The websocketd command line for the settings in `env`."""
    config = config_module.from_env(env)
    passed = [n for n in PASSED_ALWAYS if n in env] + sorted(n for n in env if n.startswith("SHOCPP_"))
    return [
        websocketd,
        f"--address={env.get('WS_ADDRESS') or '0.0.0.0'}",
        f"--port={_port(env)}",
        f"--passenv={','.join(passed)}",
        "--header-ws=Sec-WebSocket-Protocol: ocpp1.6",
        "--closems=2000",  # room to finish a ledger write after the charger went away
        *_tls(config),
        *([f"--maxforks={config.max_chargers}"] if config.max_chargers else []),
        str(BACKEND),
    ]


def _tls(config):
    if not (config.tls_cert or config.tls_key):
        return []
    if not (config.tls_cert and config.tls_key):
        raise config_module.ConfigError("SHOCPP_TLS_CERT and SHOCPP_TLS_KEY go together: set both or neither")
    for path in (config.tls_cert, config.tls_key):
        if not os.access(path, os.R_OK):
            raise config_module.ConfigError(f"cannot read the TLS file {path}")
    return ["--ssl", f"--sslcert={config.tls_cert}", f"--sslkey={config.tls_key}"]


def authentication_note(config):
    """What the operator should know about charger authentication; ChargersError for a broken file."""
    if not config.chargers_file.exists():
        return (f"chargers are NOT authenticated: no {config.chargers_file} "
                "(create it with bin/shocpp-passwd <chargerId>)")
    return f"{len(chargers_file.load(config.chargers_file))} chargers allowed, by HTTP Basic auth ({config.chargers_file})"


def _port(env):
    text = env.get("WS_PORT") or "8080"
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise config_module.ConfigError(f"WS_PORT={text!r} is not a port number (1..65535)")
    return int(text)


DESCRIPTION = ("Accept OCPP 1.6J chargers on ws://WS_ADDRESS:WS_PORT/<chargerId> (websocketd, one shocpp-backend "
               "process per charger). Runs in the foreground; stop it with Ctrl-C.")
SETTINGS = ("Settings (environment): WS_ADDRESS (0.0.0.0), WS_PORT (8080), SHOCPP_TAGSFILE (conf/tags.json), "
            "SHOCPP_ACCOUNTINGDIR (accounting/), SHOCPP_RUNDIR (run/), SHOCPP_LOGDIR (log/), "
            "SHOCPP_HEARTBEAT_INTERVAL (300), SHOCPP_STRICT (0), SHOCPP_CHARGERSFILE (conf/chargers.json), "
            "SHOCPP_TLS_CERT and SHOCPP_TLS_KEY (serve wss://), SHOCPP_MAX_CHARGERS (0: no limit), "
            "SHOCPP_MAX_POWER_KW (50: more energy in a session is flagged implausible). "
            "The frame log is LOGDIR/shocpp.log.")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="shocpp-listener", description=textwrap.fill(DESCRIPTION, 100),
        epilog=textwrap.fill(SETTINGS, 100) + "\n\n" + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--print-command", action="store_true",
                        help="print the websocketd command line instead of running it")
    return parser.parse_args(argv)


def main(argv=None, env=None):
    args = parse_args(argv)
    env = dict(os.environ if env is None else env)
    try:
        config = config_module.from_env(env)
        argv_ws = command(env)
        load(config.tags_file)
        note = authentication_note(config)
    except (config_module.ConfigError, TagsError, ChargersError) as e:
        print(f"shocpp-listener: not started: {e}", file=sys.stderr)
        return USAGE
    if args.print_command:
        print(shlex.join(argv_ws))
        return OK
    websocketd = shutil.which("websocketd", path=env.get("PATH"))
    if websocketd is None:
        print(f"shocpp-listener: {INSTALL_HINT}", file=sys.stderr)
        return NOT_INSTALLED
    from .. import housekeeping
    removed = housekeeping.remove_leftovers(config.run_dir)
    scheme = "wss" if config.tls_cert else "ws"
    print(f"shocpp-listener: {scheme}://{env.get('WS_ADDRESS') or '0.0.0.0'}:{_port(env)}/<chargerId>, "
          f"tags {config.tags_file}, ledger {config.accounting_dir}, log {config.log_dir}/shocpp.log\n"
          f"shocpp-listener: {note}"
          + (f"\nshocpp-listener: removed {len(removed)} run directories left by backends that are gone"
             if removed else ""), file=sys.stderr, flush=True)
    os.execv(websocketd, [websocketd] + argv_ws[1:])


if __name__ == "__main__":
    sys.exit(main())
