"""shocpp-dashboard: a second websocketd serving the dashboard's page and its API.

The page (dashboard_static/index.html, served by --staticdir without authentication, so it holds no
data) polls the API; the API is CGI (--cgidir). websocketd hands a CGI program none of its own
environment, so the CGI directory is written at start, in a private temporary directory: one small
sh wrapper an endpoint, holding the settings and exec'ing `python -m shocpp.tools.dashboard_api`.
It is removed when the dashboard stops.
"""

import argparse
import ipaddress
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from .. import config as config_module
from .. import operators_file
from ..config import ROOT
from ..exits import NOT_INSTALLED, OK, USAGE, describe
from . import dashboard_api
from .listener import PASSED_ALWAYS, find_websocketd, tls_arguments

STATIC = Path(__file__).resolve().parent / "dashboard_static"
EXITS = (OK, USAGE, NOT_INSTALLED)
EXIT_DETAILS = {USAGE: "a setting is broken, the operators file is broken, or the address is not loopback and "
                       "there is no operators file"}
DESCRIPTION = ("Serve the dashboard (chargers, running sessions, the month's energy per account, commands) and its "
               "JSON API on http://DASHBOARD_ADDRESS:DASHBOARD_PORT/ (https:// with SHOCPP_TLS_CERT and "
               "SHOCPP_TLS_KEY). Every API request needs an operator's password (shocpp-passwd --operator NAME). "
               "Runs in the foreground; stop it with Ctrl-C.")
SETTINGS = ("Settings (environment): DASHBOARD_ADDRESS (127.0.0.1), DASHBOARD_PORT (8081), SHOCPP_OPERATORSFILE "
            "(conf/operators.json), SHOCPP_DASHBOARD_MAX_FORKS (16: API requests served at once), "
            "SHOCPP_DASHBOARD_LOGIN_RATE (5: API requests a second, all clients together; more get 503), and the listener's SHOCPP_* settings (the run directory, tags.json, the "
            "ledger).")


DEFAULT_MAX_FORKS = config_module.limits({}).dashboard_max_forks
# As bin/shocpp-backend starts Python (shocpp/startup.py): a request refused over the login rate costs
# little more than the interpreter's start.
STARTUP = 'from shocpp import startup; startup.main("shocpp.tools.dashboard_api")'


def address(env):
    return env.get("DASHBOARD_ADDRESS") or "127.0.0.1"


def port(env):
    text = env.get("DASHBOARD_PORT") or "8081"
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise config_module.ConfigError(f"DASHBOARD_PORT={text!r} is not a port number (1..65535)")
    return int(text)


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def checked(env):
    """The settings, or ConfigError / OperatorsError saying why the dashboard may not start."""
    config = config_module.from_env(env)
    config_module.limits(env)
    port(env)
    if config.operators_file.exists():
        if not operators_file.load(config.operators_file):
            print(f"shocpp-dashboard: WARNING: no operator in {config.operators_file}: every request is refused",
                  file=sys.stderr)
    elif not is_loopback(address(env)):
        raise config_module.ConfigError(
            f"no operators file {config.operators_file}: refusing to listen on {address(env)} (beyond loopback); "
            f"create one with shocpp-passwd --operator NAME")
    else:
        print(f"shocpp-dashboard: WARNING: no operators file {config.operators_file}: every request is refused "
              f"until you create one with shocpp-passwd --operator NAME", file=sys.stderr)
    return config


def write_cgi(directory, env, scheme, python=sys.executable):
    """The CGI wrappers, one an endpoint, under directory/api/."""
    passed = {n: env[n] for n in PASSED_ALWAYS if n in env}
    passed.update({n: v for n, v in env.items() if n.startswith("SHOCPP_")})
    passed[dashboard_api.SCHEME] = scheme
    passed.update(PYTHONSAFEPATH="1", PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    exports = "".join(f"export {n}={shlex.quote(v)}\n" for n, v in sorted(passed.items()))
    api = Path(directory) / "api"
    api.mkdir(mode=0o700)
    for endpoint in dashboard_api.ENDPOINTS:
        path = api / endpoint
        path.write_text(f"#!/bin/sh\n# written by shocpp-dashboard at start\n{exports}"
                        f"exec {shlex.quote(python)} -S -c {shlex.quote(STARTUP)} {endpoint}\n")
        path.chmod(0o700)


def command(env, cgi_dir, websocketd="websocketd"):
    config = config_module.from_env(env)
    return [websocketd, f"--address={address(env)}", f"--port={port(env)}", f"--staticdir={STATIC}",
            f"--cgidir={cgi_dir}", f"--maxforks={config_module.limits(env).dashboard_max_forks}",
            "--loglevel=error", "--header-http=X-Frame-Options: DENY",
            "--header-http=Referrer-Policy: no-referrer", *tls_arguments(config)]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="shocpp-dashboard", description=textwrap.fill(DESCRIPTION, 100),
        epilog=textwrap.fill(SETTINGS, 100) + "\n\n" + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--print-command", action="store_true",
                        help="print the websocketd command line (with a placeholder CGI directory) and exit")
    return parser.parse_args(argv)


def main(argv=None, env=None):
    args = parse_args(argv)
    env = dict(os.environ if env is None else env)
    try:
        config = checked(env)
        argv_ws = command(env, "CGI_DIR")
    except (config_module.ConfigError, operators_file.OperatorsError) as e:
        print(f"shocpp-dashboard: not started: {e}", file=sys.stderr)
        return USAGE
    if args.print_command:
        print(shlex.join(argv_ws))
        return OK
    websocketd = find_websocketd(env, "shocpp-dashboard")
    if websocketd is None:
        return NOT_INSTALLED
    scheme = "https" if config.tls_cert else "http"
    cgi_dir = tempfile.mkdtemp(prefix="shocpp-dashboard-")
    try:
        write_cgi(cgi_dir, env, scheme)
        shown = address(env) if ":" not in address(env) else f"[{address(env)}]"
        print(f"shocpp-dashboard: {scheme}://{shown}:{port(env)}/ (operators {config.operators_file})",
              file=sys.stderr, flush=True)
        proc = subprocess.Popen([websocketd] + command(env, cgi_dir)[1:], env=env)
        stop = lambda signum, frame: proc.send_signal(signal.SIGTERM)  # noqa: E731
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, stop)
        return proc.wait()
    finally:
        shutil.rmtree(cgi_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
