"""shocpp-listener: websocketd in the foreground, one shocpp-backend per charger connection."""

import argparse
import os
from collections import namedtuple
import shlex
import shutil
import sys
import textwrap

from .. import chargers_file, runfiles
from .. import config as config_module
from ..config import ROOT
from ..exits import FAILED, NOT_INSTALLED, OK, USAGE, describe
from ..protocol.authentication import ChargersError
from ..last_good import LastGood
from ..protocol.tags import TagsError
from ..tags_file import load, load_or_last_good

BACKEND = ROOT / "bin" / "shocpp-backend"
FRONT_CONFIG = ROOT / "misc" / "shocpp-front.cfg"
# The subprotocols shocpp speaks, and the version each one's backends are told (SHOCPP_OCPP_VERSION).
SUBPROTOCOLS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1"}
NO_LIMIT = 100000
PASSED_ALWAYS = ("PATH", "LD_LIBRARY_PATH", "TZ", "LANG", "LC_ALL")
EXITS = (OK, USAGE, FAILED, NOT_INSTALLED)
EXIT_DETAILS = {OK: "--print-command, --check found nothing wrong; otherwise it runs until stopped",
                NOT_INSTALLED: "websocketd is not installed, or this Python lacks shocpp's dependencies",
                USAGE: "not started: a setting is broken, or tags.json or chargers.json is broken and there is "
                       "no last good copy; --check: something is wrong",
                FAILED: "websocketd or HAProxy could not start or ended: all were stopped"}
INSTALL_HINT = ("websocketd is not installed. It is the Debian package 'websocketd': "
                "sudo apt-get install websocketd (or run 'make run', which installs it).")


def command(env, websocketd="websocketd", subprotocol="ocpp1.6", address=None, port=None):
    """The websocketd command line for the settings in `env`: by default the public one of 1.6 alone."""
    config = config_module.from_env(env)
    passed = [n for n in PASSED_ALWAYS if n in env] + sorted(n for n in env if n.startswith("SHOCPP_"))
    return [
        websocketd,
        f"--address={address or env.get('WS_ADDRESS') or '0.0.0.0'}",
        f"--port={port or _port(env)}",
        f"--passenv={','.join(passed)}",
        f"--header-ws=Sec-WebSocket-Protocol: {subprotocol}",
        "--closems=2000",  # room to finish a ledger write after the charger went away
        "--loglevel=error",  # websocketd's stderr carries errors only, as the backends' does
        *tls_arguments(config),
        *([f"--maxforks={config.max_chargers}"] if config.max_chargers else []),
        str(BACKEND),
    ]


class Part(namedtuple("Part", ["name", "argv", "env", "address", "port"])):
    """One process of the listener: its command line, its environment, the loopback port it serves."""
    __slots__ = ()


def parts(env, websocketd="websocketd", haproxy="haproxy", ports=None):
    """Both protocols on one URL: a websocketd per subprotocol on loopback (`ports`, free ones by
    default), each starting backends of its version, and HAProxy on WS_ADDRESS:WS_PORT routing each
    connection to the first subprotocol of the charger's list that shocpp speaks."""
    ports = ports or [free_port() for _ in SUBPROTOCOLS]
    found = []
    for (subprotocol, version), port in zip(SUBPROTOCOLS.items(), ports):
        own = {**env, "SHOCPP_OCPP_VERSION": version, "SHOCPP_FRONT": "1"}
        found.append(Part(f"websocketd {subprotocol}",
                          command(own, websocketd, subprotocol, "127.0.0.1", port), own, "127.0.0.1", port))
    limit = config_module.from_env(env).max_chargers or NO_LIMIT
    front = {**env, "WS_ADDRESS": env.get("WS_ADDRESS") or "0.0.0.0", "WS_PORT": str(_port(env)),
             "SHOCPP_FRONT_MAXCONN": str(limit), "SHOCPP_V16_PORT": str(ports[0]),
             "SHOCPP_V201_PORT": str(ports[1])}
    public = front["WS_ADDRESS"]
    found.append(Part("haproxy", [haproxy, "-db", "-f", str(FRONT_CONFIG)], front,
                      "127.0.0.1" if public in ("0.0.0.0", "::") else public, _port(env)))
    return found


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_haproxy(env):
    return shutil.which("haproxy", path=f"{env.get('PATH', '')}:/usr/local/sbin:/usr/sbin:/sbin")


def supervise(processes, out=sys.stderr):
    """Run the parts until one ends or a signal asks to stop: then stop them all; the exit status.
    websocketd dies at once on SIGTERM; its backends read EOF and finish on their own."""
    import signal
    import subprocess
    import time

    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    started = []
    try:
        for part in processes:
            started.append((part, subprocess.Popen(part.argv, env=part.env, preexec_fn=_die_with_parent)))
            if not _listening(part.address, part.port, started[-1][1], stopping):
                return _ended(started, out, f"{part.name} did not listen on port {part.port}")
        while not stopping:
            for part, proc in started:
                if proc.poll() is not None:
                    return _ended(started, out, f"{part.name} exited with status {proc.returncode}")
            time.sleep(0.2)
    finally:
        for _, proc in started:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in started:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    # Ended by the signal, as websocketd alone was before: the service manager sees a clean stop.
    signal.signal(stopping[0], signal.SIG_DFL)
    os.kill(os.getpid(), stopping[0])
    return OK


def _die_with_parent():
    """In the child, before exec: SIGTERM when the listener dies, even by SIGKILL, so that no websocketd
    or HAProxy is left holding the ports a restarted listener needs (Linux's PR_SET_PDEATHSIG)."""
    import ctypes
    import signal
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # 1: PR_SET_PDEATHSIG


def _listening(address, port, proc, stopping, seconds=10):
    import socket
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stopping and proc.poll() is None:
        with socket.socket() as s:
            if s.connect_ex((address, port)) == 0:
                return True
        time.sleep(0.02)
    return False


def _ended(started, out, why):
    print(f"shocpp-listener: stopping: {why}", file=out, flush=True)
    return FAILED


def find_websocketd(env, program):
    """The websocketd to run, or None once `program`'s user has been told how to install it."""
    found = shutil.which("websocketd", path=env.get("PATH"))
    if found is None:
        print(f"{program}: {INSTALL_HINT}", file=sys.stderr)
    return found


def tls_arguments(config):
    if not (config.tls_cert or config.tls_key):
        return []
    if not (config.tls_cert and config.tls_key):
        raise config_module.ConfigError("SHOCPP_TLS_CERT and SHOCPP_TLS_KEY go together: set both or neither")
    for path in (config.tls_cert, config.tls_key):
        if not os.access(path, os.R_OK):
            raise config_module.ConfigError(f"cannot read the TLS file {path}")
    return ["--ssl", f"--sslcert={config.tls_cert}", f"--sslkey={config.tls_key}"]


def dependencies():
    """The interpreter and the dependencies it imports; OSError naming what it lacks. A listener whose
    Python lacks them would start backends that answer a frame needing them with InternalError."""
    import importlib
    from ..startup import DEPENDENCIES
    missing = []
    for name in DEPENDENCIES:
        try:
            importlib.import_module(name)
        except ImportError as e:
            missing.append(f"{name} ({e})")
    if missing:
        raise OSError(f"{sys.executable} lacks {', '.join(missing)}: run the install's own Python "
                      f"(make install, or make deps in a development tree)")
    return f"{sys.executable} with {', '.join(DEPENDENCIES)}"


def authentication_note(config):
    """What the operator should know about charger authentication; ChargersError for a broken file
    without a last good copy."""
    last_good = LastGood(config.run_dir, "chargers.json")
    if not config.chargers_file.exists():
        last_good.forget()
        return (f"chargers are NOT authenticated: no {config.chargers_file} "
                "(create it with bin/shocpp-passwd <chargerId>)")
    allowed, problem = chargers_file.load_or_last_good(config.chargers_file, last_good)
    note = f"{len(allowed)} chargers allowed, by HTTP Basic auth ({config.chargers_file})"
    if not allowed:
        note += f"\nshocpp-listener: WARNING: {config.chargers_file} {EMPTY_CHARGERS}"
    return f"{note}\nshocpp-listener: WARNING: {problem}" if problem else note


def tags_note(config):
    """A warning when tags.json is broken and its last good copy is used; TagsError without one."""
    _, problem = load_or_last_good(config.tags_file, LastGood(config.run_dir, "tags.json"))
    return f"\nshocpp-listener: WARNING: {problem}" if problem else ""


def _file_errors():
    from ..protocol.site import SiteError
    from ..protocol.tariffs import TariffsError
    return SiteError, TariffsError


def _setting(env, name):
    """ConfigError when the setting cannot be used."""
    if name == "WS_PORT":
        _port(env)
    else:
        config_module.from_env({name: env[name]})
        config_module.limits({name: env[name]})


def check(env, out):
    """--check: every configuration file and setting, each named with what is wrong; the exit status."""
    import ssl
    problems = []

    def judge(what, test):
        try:
            detail = test()
        except (config_module.ConfigError, TagsError, ChargersError, OSError, ssl.SSLError, ValueError, ImportError,
                *_file_errors()) as e:
            problems.append(what)
            print(f"broken  {what}: {e}", file=out)
        else:
            print(f"ok      {what}" + (f": {detail}" if detail else ""), file=out)

    judge("Python", dependencies)
    for name in sorted(n for n in env if n.startswith("SHOCPP_") or n == "WS_PORT"):
        judge(f"setting {name}={env[name]!r}", lambda name=name: _setting(env, name))
    # The files named by the settings that can be used (a broken setting falls back to its default).
    config = config_module.from_env({n: v for n, v in env.items() if f"setting {n}={v!r}" not in problems})
    last = "; until it is fixed, the running service uses its last good copy {} (a restart too)"
    none = "; there is no last good copy {}: a restart would refuse to start"

    def with_copy(loader, name):
        def test():
            try:
                return loader()
            except (TagsError, ChargersError) as e:
                copy = LastGood(config.run_dir, name)
                raise ValueError(f"{e}" + (last if copy.read() is not None else none).format(copy.copy)) from None
        return test

    judge("tags.json",
          with_copy(lambda: f"{len(load(config.tags_file).by_index)} accounts", "tags.json"))
    if config.chargers_file.exists():
        judge("chargers.json", with_copy(lambda: _chargers(config.chargers_file), "chargers.json"))
    else:
        print(f"ok      chargers.json: no {config.chargers_file}, chargers are NOT authenticated", file=out)
    for name, path, absent, test in _other_files(config):
        if path.exists():
            judge(name, test)
        else:
            print(f"ok      {name}: no {path}, {absent}", file=out)
    from .. import site_file  # shocpp-balance's; only here
    for warning in site_file.warnings(config.site_file):
        print(f"warning site.json: {warning}", file=out)
    if config.tls_cert or config.tls_key:
        def tls():
            tls_arguments(config)
            try:
                ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(config.tls_cert, config.tls_key)
            except ssl.SSLError as e:
                raise ValueError(f"{config.tls_cert} and {config.tls_key} are not a PEM certificate (chain) and "
                                 f"its private key: {e}") from None
            return "a PEM certificate and its private key"
        judge("TLS SHOCPP_TLS_CERT, SHOCPP_TLS_KEY", tls)
    haproxy = find_haproxy(env)
    if haproxy and not config.tls_cert:
        print(f"ok      OCPP 1.6 and 2.0.1 on one URL: HAProxy {haproxy} in front", file=out)
    else:
        print("note    OCPP 1.6 only: " + ("websocketd's own TLS serves one subprotocol" if haproxy
                                          else "haproxy is not installed"), file=out)
    if problems:
        print(f"shocpp-listener: {len(problems)} problems; fix them before (re)starting", file=out)
        return USAGE
    print("shocpp-listener: the configuration is good", file=out)
    return OK


def _chargers(path):
    """What --check says of chargers.json; ValueError for one that lists nobody (every charger refused)."""
    allowed = chargers_file.load(path)
    if not allowed:
        raise ValueError(f"{path} {EMPTY_CHARGERS}")
    return f"{len(allowed)} chargers"


EMPTY_CHARGERS = ("lists no charger: every charger is refused (add one with shocpp-passwd ID, or remove "
                  "the file to let every charger in)")


def _other_files(config):
    """(name, path, what its absence means, test) of the files the other services read."""
    from .. import operators_file, site_file, tariffs_file

    def operators():
        return f"{len(operators_file.load(config.operators_file))} operators"

    def tariffs():
        tariffs_file.load(config.tariffs_file, load(config.tags_file).accounts)
        return "prices for statements"

    def site():
        return f"grid limit {site_file.load(config.site_file).grid_limit_a} A"

    return [("operators.json", config.operators_file, "the dashboard refuses every request", operators),
            ("tariffs.json", config.tariffs_file, "statements show no prices", tariffs),
            ("site.json", config.site_file, "shocpp-balance cannot run", site)]


def prepared(run_dir):
    """Make the run directory ready (sticky bit, the shared run/commands of the service): what
    was repaired, or why it could not be (the backends then say so when they start)."""
    try:
        return runfiles.prepare(run_dir)
    except OSError as e:
        return [f"warning: cannot prepare the run directory {run_dir}: {e}"]


def _port(env):
    text = env.get("WS_PORT") or "8080"
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise config_module.ConfigError(f"WS_PORT={text!r} is not a port number (1..65535)")
    return int(text)


DESCRIPTION = ("Accept OCPP 1.6J and 2.0.1 chargers on ws://WS_ADDRESS:WS_PORT/<chargerId>: HAProxy answers with the "
               "first subprotocol of the charger's list that shocpp speaks and passes the connection to the "
               "websocketd of that protocol on loopback (one shocpp-backend process per charger). Without "
               "haproxy, or with websocketd's own TLS, 1.6 alone. Runs in the foreground; stop it with Ctrl-C.")
SETTINGS = ("Settings (environment): WS_ADDRESS (0.0.0.0), WS_PORT (8080), SHOCPP_TAGSFILE (conf/tags.json), "
            "SHOCPP_ACCOUNTINGDIR (accounting/), SHOCPP_RUNDIR (run/), SHOCPP_LOGDIR (log/), "
            "SHOCPP_HEARTBEAT_INTERVAL (300), SHOCPP_STRICT (0), SHOCPP_CHARGERSFILE (conf/chargers.json), "
            "SHOCPP_TLS_CERT and SHOCPP_TLS_KEY (serve wss://), SHOCPP_MAX_CHARGERS (100; 0: no limit), "
            "SHOCPP_MAX_POWER_KW (50: more energy in a session is flagged implausible). "
            "The frame log is LOGDIR/shocpp.log.")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="shocpp-listener", description=textwrap.fill(DESCRIPTION, 100),
        epilog=textwrap.fill(SETTINGS, 100) + "\n\n" + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--print-command", action="store_true",
                        help="print the command lines (websocketd, and HAProxy in front) instead of running them")
    parser.add_argument("--check", action="store_true",
                        help="check every configuration file (tags.json, chargers.json, operators.json, tariffs.json, "
                             "site.json, the TLS files) and setting, "
                             "say what is wrong, and exit: for use before a restart")
    return parser.parse_args(argv)


def main(argv=None, env=None):
    args = parse_args(argv)
    env = dict(os.environ if env is None else env)
    if args.check:
        return check(env, sys.stdout)
    haproxy = find_haproxy(env)
    try:
        config = config_module.from_env(env)
        both = haproxy is not None and not config.tls_cert
        processes = parts(env, "websocketd", haproxy) if both else [Part("websocketd", command(env), env, None, None)]
        note = tags_note(config)
        note = authentication_note(config) + note + _protocols_note(both, haproxy)
    except (config_module.ConfigError, TagsError, ChargersError) as e:
        print(f"shocpp-listener: not started: {e}", file=sys.stderr)
        return USAGE
    if args.print_command:
        for part in processes:
            print(shlex.join(part.argv))
        return OK
    websocketd = find_websocketd(env, "shocpp-listener")
    if websocketd is None:
        return NOT_INSTALLED
    try:
        dependencies()
    except OSError as e:
        print(f"shocpp-listener: not started: {e}", file=sys.stderr)
        return NOT_INSTALLED
    for line in prepared(config.run_dir):
        print(f"shocpp-listener: {line}", file=sys.stderr)
    from .. import housekeeping
    removed = housekeeping.remove_leftovers(config.run_dir)
    scheme = "wss" if config.tls_cert else "ws"
    print(f"shocpp-listener: {scheme}://{env.get('WS_ADDRESS') or '0.0.0.0'}:{_port(env)}/<chargerId>, "
          f"tags {config.tags_file}, ledger {config.accounting_dir}, log {config.log_dir}/shocpp.log\n"
          f"shocpp-listener: {note}"
          + (f"\nshocpp-listener: removed {len(removed)} run directories left by backends that are gone"
             if removed else ""), file=sys.stderr, flush=True)
    if both:
        return supervise([p._replace(argv=[websocketd, *p.argv[1:]]) if p.name.startswith("websocketd") else p
                          for p in processes])
    os.execv(websocketd, [websocketd] + processes[0].argv[1:])


def _protocols_note(both, haproxy):
    if both:
        return "\nshocpp-listener: OCPP 1.6 and 2.0.1 on the same URL (HAProxy routes on the subprotocol)"
    why = ("websocketd's own TLS (SHOCPP_TLS_CERT) serves one subprotocol; for both use the HAProxy TLS front, "
           "misc/shocpp-tls.cfg" if haproxy else "haproxy is not installed (sudo apt-get install haproxy)")
    return f"\nshocpp-listener: WARNING: OCPP 1.6 only, 2.0.1 chargers cannot connect: {why}"


if __name__ == "__main__":
    sys.exit(main())
