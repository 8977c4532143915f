"""The dashboard's HTTP API, one CGI request a process (websocketd --cgidir runs the wrappers that
bin/shocpp-dashboard writes; each execs `python -m shocpp.tools.dashboard_api ENDPOINT`).

  GET  /api/status                      what `shocpp-status --json` prints
  GET  /api/summary?year=YYYY&month=MM  what `shocpp-summary YYYY MM --format json` prints
  GET  /api/accounts                    the accounts of tags.json, each with its first tag (to start a session)
  POST /api/command                     {"charger": ID, "action": ..., "payload": {...}}: what shocpp-command does

Every request needs an operator's HTTP Basic credentials (401 with WWW-Authenticate otherwise), checked
before its body is read; a POST whose Origin is not the dashboard's own is refused (403). Over
SHOCPP_DASHBOARD_LOGIN_RATE requests a second (all clients together) a request gets 503 before its
password costs a scrypt. `handle` is the whole request without I/O of
its own beyond the files and the command it serves; `main` reads the CGI environment and writes the answer.
"""

import os
import sys

from .. import config as config_module
from ..exits import AMBIGUOUS, FAILED, NO_CHARGER, NO_SUCH_CHARGER, STALE, USAGE

# What a request over SHOCPP_DASHBOARD_LOGIN_RATE imports is only this (and shocpp.rate): the rest
# where it is used, so that a refusal costs little more than Python's start.

ENDPOINTS = ("status", "summary", "accounts", "command")
REALM = 'Basic realm="shocpp dashboard", charset="UTF-8"'
MAX_BODY = 64 * 1024
MAX_TIMEOUT = 60.0
RATE_FILE = "dashboard-rate"  # in the run directory: the token bucket of SHOCPP_DASHBOARD_LOGIN_RATE
SCHEME = "SHOCPP_DASHBOARD_SCHEME"  # http or https, set by bin/shocpp-dashboard in the wrappers
# shocpp-command's exit statuses as HTTP statuses
HTTP_OF = {USAGE: 400, AMBIGUOUS: 400, NO_SUCH_CHARGER: 404, NO_CHARGER: 404, STALE: 409, FAILED: 500}
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class Answer:
    def __init__(self, status, body, headers=()):
        self.status, self.body, self.headers = status, body, list(headers)

    def cgi(self):
        """The CGI response: Status and headers, a blank line, the JSON body."""
        if isinstance(self.body, str):
            data = self.body.encode()
        else:
            from . import printable_json
            data = printable_json(self.body).encode()
        head = [f"Status: {self.status} {REASONS.get(self.status, '')}".rstrip(),
                "Content-Type: application/json; charset=utf-8", "Cache-Control: no-store",
                "X-Content-Type-Options: nosniff", *self.headers, f"Content-Length: {len(data)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def error(status, message, **extra):
    return Answer(status, {"error": message, **extra})


def handle(endpoint, environ, body, env):
    """The Answer to one request. environ: the CGI variables; body: the request's bytes; env: the
    settings (SHOCPP_*)."""
    config, refused = admitted(endpoint, environ, env)
    return refused or serve(endpoint, environ, body, env, config)


def admitted(endpoint, environ, env):
    """(the settings, None) for a request that may be served, read and answered; (None, the Answer)
    for one refused before its body is read: a client that has not signed in never gets that far."""
    from .. import operators_file
    from ..protocol import authentication
    try:
        config = config_module.from_env(env)
        operators = operators_file.load(config.operators_file) if config.operators_file.exists() else {}
    except (config_module.ConfigError, operators_file.OperatorsError) as e:
        return None, error(500, f"the dashboard's settings are broken: {e}")
    if authentication.operator(operators, environ.get("HTTP_AUTHORIZATION")) is None:
        message = ("an operator's name and password are needed" if operators else
                   f"no operators file {config.operators_file}: create one with shocpp-passwd --operator NAME")
        return None, Answer(401, {"error": message}, [f"WWW-Authenticate: {REALM}"])
    method = environ.get("REQUEST_METHOD", "GET")
    if method == "POST" and not same_origin(environ, env):
        return None, error(403, "a POST must come from the dashboard's own page (Origin)")
    wanted = "POST" if endpoint == "command" else "GET"
    if method != wanted:
        return None, Answer(405, {"error": f"/api/{endpoint} takes {wanted}"}, [f"Allow: {wanted}"])
    return config, None


def serve(endpoint, environ, body, env, config):
    if endpoint == "status":
        return status(env)
    if endpoint == "summary":
        return summary(environ.get("QUERY_STRING", ""), env)
    if endpoint == "accounts":
        return accounts(config)
    return command(body, config)


def over_rate(env):
    """The 503 Answer when the requests of all clients together exceed SHOCPP_DASHBOARD_LOGIN_RATE,
    before any scrypt; logged (stderr: websocketd's log) once when the refusals begin."""
    from .. import rate
    limit = config_module.limits(env).dashboard_login_rate
    run_dir = config_module.from_env(env).run_dir
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        passed, first = rate.take(run_dir / RATE_FILE, limit)
    except OSError as e:
        print(f"shocpp-dashboard: cannot keep the login rate in {run_dir}: {e}", file=sys.stderr)
        return None
    if passed:
        return None
    if first:
        print(f"shocpp-dashboard: over SHOCPP_DASHBOARD_LOGIN_RATE ({limit} requests a second): refusing with "
              f"503 until the rate drops", file=sys.stderr, flush=True)
    # JSON written here: a refusal imports no json
    return Answer(503, f'{{"error": "too many requests: more than {limit} a second (SHOCPP_DASHBOARD_LOGIN_RATE); '
                       f'try again in a second"}}', ["Retry-After: 1"])


def same_origin(environ, env):
    """A browser's POST names its page's origin: it must be this dashboard's. A client that sends no
    Origin (curl, Home Assistant) is no browser page of another site."""
    origin = environ.get("HTTP_ORIGIN")
    if origin is None:
        return True
    scheme = env.get(SCHEME, "http")
    host = environ.get("HTTP_HOST", "")
    from urllib.parse import urlsplit
    parts = urlsplit(origin)
    return bool(host) and parts.scheme == scheme and parts.netloc.lower() == host.lower() and not parts.path


def status(env):
    import io
    import json
    from . import status as status_tool
    out, err = io.StringIO(), io.StringIO()
    saved, sys.stderr = sys.stderr, err
    try:
        code = status_tool.main(["--json"], env, out)
    finally:
        sys.stderr = saved
    if code not in (0, NO_CHARGER):
        return error(500, err.getvalue().strip() or f"shocpp-status exited {code}")
    return Answer(200, json.loads(out.getvalue()))


def summary(query, env):
    import subprocess
    from urllib.parse import parse_qs
    fields = parse_qs(query)
    year, month = (fields.get(k, [""])[0] for k in ("year", "month"))
    if not (year.isdigit() and len(year) == 4 and month.isdigit() and 1 <= int(month) <= 12):
        return error(400, "give year=YYYY and month=MM")
    done = subprocess.run([sys.executable, "-m", "shocpp.tools.summary", year, f"{int(month):02d}",
                           "--format", "json"], capture_output=True, env=env, timeout=120)
    if done.returncode != 0:
        return error(500 if done.returncode == FAILED else 400,
                     done.stderr.decode(errors="replace").strip() or f"shocpp-summary exited {done.returncode}")
    return Answer(200, done.stdout.decode())


def accounts(config):
    from ..protocol.tags import TagsError
    from ..tags_file import load
    try:
        tags = load(config.tags_file)
    except (TagsError, OSError) as e:
        return error(500, f"cannot read tags.json: {e}")
    return Answer(200, {"accounts": [{"account": name, "id_tag": (tags.ids(name) or [None])[0]}
                                     for name in tags.accounts]})


def command(body, config):
    import json
    from . import command as command_tool
    try:
        request = json.loads(body)
    except ValueError as e:
        return error(400, f"the body is not JSON: {e}")
    if not isinstance(request, dict) or not isinstance(request.get("action"), str):
        return error(400, 'give {"charger": ID, "action": ..., "payload": {...}}')
    charger, action, payload = request.get("charger"), request["action"], request.get("payload", {})
    timeout = request.get("timeout", 30)
    if charger is not None and not isinstance(charger, str):
        return error(400, "charger must be a charger's identity")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT:
        return error(400, f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    try:
        command_tool.early_check(action, json.dumps(payload))
        conn = command_tool.choose(config.run_dir, charger)
        ocpp = command_tool.version(conn)  # the call as the charger's protocol has it
        action, payload = command_tool.for_charger(action, payload, ocpp)
        payload = command_tool.parse_payload(action, json.dumps(payload), ocpp)
        if action in command_tool.AROUND_THE_BALANCER:
            instead = operator_limit(config.run_dir, conn.identity, action, payload)
            if instead is not None:
                return instead
        answer = command_tool.send(config.run_dir, conn, action, payload, float(timeout))
    except command_tool.Failure as e:
        return error(HTTP_OF.get(e.status, 500), str(e))
    except OSError as e:
        return error(500, str(e))
    kind = answer.get("status")
    if kind == "result":
        return Answer(200, {"answer": answer["payload"], "charger": conn.identity})
    if kind == "error":
        return error(502, f"{conn.identity} answered {action} with CALLERROR {answer.get('code')}",
                     code=answer.get("code"), description=answer.get("description"), details=answer.get("details"))
    if kind == "refused":
        return error(400, f"the backend refused the call: {answer.get('message')} (nothing was sent)")
    return error(504, f"no answer from {conn.identity} to {action} within {timeout:g} s")


def operator_limit(run_dir, charger, action, payload):
    """A limit set or cleared while shocpp-balance runs and balances the charger: the charger's maximum
    (balance_control.set_max), which the balancer applies at its next round, never a profile sent
    around it. None when the balancer does not run or balance it."""
    import time
    from .. import balance_control
    last = balance_control.status(run_dir)
    if not balance_control.running(run_dir, time.time(), last) or charger not in last.get("chargers", {}):
        return None
    max_a = None
    if action == "SetChargingProfile":
        schedule = (payload["csChargingProfiles"]["chargingSchedule"] if "csChargingProfiles" in payload
                    else payload["chargingProfile"]["chargingSchedule"][0])  # 2.0.1: a list of schedules
        period = schedule["chargingSchedulePeriod"][0]
        volts = 230 * (period.get("numberPhases") or 3)
        max_a = int(period["limit"] if schedule["chargingRateUnit"] == "A" else period["limit"] / volts)
    try:
        balance_control.set_max(run_dir, charger, max_a)
    except ValueError as e:
        return error(400, str(e))
    said = "site.json's maximum" if max_a is None else f"a maximum of {max_a} A"
    return Answer(200, {"answer": {"status": "Accepted", "balancer": f"shocpp-balance balances {charger}: "
                                   f"{said} set, applied at its next round"}, "charger": charger})


def read_body(environ, stream):
    text = environ.get("CONTENT_LENGTH") or "0"
    length = int(text) if text.isdigit() else 0
    if length > MAX_BODY:
        return None
    return stream.read(length) if length else b""


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    endpoint = argv[0] if argv and argv[0] in ENDPOINTS else None
    environ = dict(os.environ)
    out = sys.stdout.buffer
    try:
        if endpoint is None:
            answer = error(404, "no such endpoint")
        else:
            answer = over_rate(environ)
            if answer is None:
                config, answer = admitted(endpoint, environ, environ)
            if answer is None:
                body = read_body(environ, sys.stdin.buffer)
                answer = error(413, "the body is too long") if body is None else \
                    serve(endpoint, environ, body, environ, config)
    except Exception as e:  # noqa: BLE001 — a CGI answers, whatever happened
        answer = error(500, f"{type(e).__name__}: {e}")
    out.write(answer.cgi())
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
