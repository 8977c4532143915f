"""The dashboard's HTTP API, served by one long-lived process (tools/dashboard_server.py) behind
websocketd's --cgidir.

  POST /api/login                       {"name", "password"}: a session cookie for the browser
  POST /api/logout                      the cookie cleared
  GET  /api/me                          {"name", "role", "account"}
  GET  /api/status                      what `shocpp-status --json` prints, with the balancer's site figures
  GET  /api/summary?year=YYYY&month=MM  what `shocpp-summary YYYY MM --format json` prints
  GET  /api/accounts                    the accounts of tags.json, each with its first tag (to start a session)
  POST /api/command                     {"charger": ID, "action": ..., "payload": {...}}: what shocpp-command does
  POST /api/mode                        {"charger": ID, "mode": off|fast|minpv|pv|null}: the balancer's mode
  GET  /api/tags                        accounts with their tags, and the unknown cards seen in 30 days
  POST /api/tags                        {"account": NAME, "id_tag": TAG}: the tag added to the account
  GET  /api/statement?account=NAME&year=YYYY&month=MM&format=html|csv   an account's statement
  GET  /api/samples?charger=ID&connector=N   the running session's power samples

Every request but a sign-in needs a person: HTTP Basic credentials, or the browser's session cookie
(401 otherwise, with WWW-Authenticate unless the page asked: it shows its own sign-in). Each endpoint
says which roles may use it (403 otherwise); what an answer holds depends on the role
(dashboard_views). A POST whose Origin is not the dashboard's own is refused (403).
"""

import json
import sys
import time
from collections import namedtuple
from urllib.parse import parse_qs, urlsplit

from .. import balance_control
from .. import config as config_module
from .. import operators_file, rate
from ..exits import AMBIGUOUS, FAILED, NO_CHARGER, NO_SUCH_CHARGER, STALE, USAGE
from . import dashboard_auth, dashboard_history, dashboard_views, printable_json

REALM = 'Basic realm="shocpp dashboard", charset="UTF-8"'
MAX_BODY = 64 * 1024
MAX_TIMEOUT = 60.0
SCHEME = "SHOCPP_DASHBOARD_SCHEME"  # http or https, set by bin/shocpp-dashboard
ALL = ("operator", "viewer", "driver")
# (endpoint, method): the roles that may use it; None: anyone (signing in)
ROUTES = {("login", "POST"): None, ("logout", "POST"): ALL, ("me", "GET"): ALL, ("status", "GET"): ALL,
          ("summary", "GET"): ALL, ("accounts", "GET"): ALL, ("command", "POST"): ("operator", "driver"),
          ("mode", "POST"): ("operator",), ("tags", "GET"): ("operator", "driver"), ("tags", "POST"): ("operator",),
          ("statement", "GET"): ("operator", "driver"), ("samples", "GET"): ALL}
ENDPOINTS = tuple(dict.fromkeys(e for e, _ in ROUTES))
# shocpp-command's exit statuses as HTTP statuses
HTTP_OF = {USAGE: 400, AMBIGUOUS: 400, NO_SUCH_CHARGER: 404, NO_CHARGER: 404, STALE: 409, FAILED: 500}
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
Request = namedtuple("Request", ["endpoint", "method", "query", "authorization", "cookie", "origin", "host",
                                 "page"], defaults=("", None, None, None, "", False))


class Answer:
    def __init__(self, status, body, headers=(), content_type="application/json; charset=utf-8"):
        self.status, self.body, self.headers, self.content_type = status, body, list(headers), content_type

    def data(self):
        return (self.body if isinstance(self.body, str) else printable_json(self.body)).encode()

    def cgi(self):
        """The CGI response: Status and headers, a blank line, the body."""
        data = self.data()
        head = [f"Status: {self.status} {REASONS.get(self.status, '')}".rstrip(),
                f"Content-Type: {self.content_type}", "Cache-Control: no-store",
                "X-Content-Type-Options: nosniff", *self.headers, f"Content-Length: {len(data)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def error(status, message, **extra):
    return Answer(status, {"error": message, **extra})


class Dashboard:
    """The API of one dashboard: its settings, who may ask, and the answers."""

    def __init__(self, env, secret=None):
        self.env = dict(env)
        self.config = config_module.from_env(self.env)
        self.scheme = self.env.get(SCHEME, "http")
        secret = secret if secret is not None else dashboard_auth.ensure_secret(self.config.run_dir)
        self.gate = dashboard_auth.Gate(self.config.operators_file, secret)
        self.login_rate = config_module.limits(self.env).dashboard_login_rate
        self.logins = rate.Budget(self.login_rate, self.login_rate)

    def password_allowed(self):
        """Whether a password may be checked now (one scrypt): SHOCPP_DASHBOARD_LOGIN_RATE a second, all
        clients together; the refusals are logged (stderr, websocketd's log) once as they begin."""
        refusing = self.logins.bucket.refusing
        if self.logins.take():
            return True
        if not refusing:
            print(f"shocpp-dashboard: over SHOCPP_DASHBOARD_LOGIN_RATE ({self.login_rate} passwords a second): "
                  f"refusing with 503 until the rate drops", file=sys.stderr, flush=True)
        return False

    def over_rate(self):
        return Answer(503, {"error": f"too many passwords: more than {self.login_rate} a second "
                                     f"(SHOCPP_DASHBOARD_LOGIN_RATE); try again in a second"}, ["Retry-After: 1"])

    # -- before the body ---------------------------------------------------------------------------

    def admit(self, req):
        """(person, None) for a request that may be served; (None, the Answer) for one refused
        before its body is read."""
        methods = [m for e, m in ROUTES if e == req.endpoint]
        if not methods:
            return None, error(404, "no such endpoint")
        if req.method not in methods:
            return None, Answer(405, {"error": f"/api/{req.endpoint} takes {' or '.join(methods)}"},
                                [f"Allow: {', '.join(methods)}"])
        if req.method == "POST" and not self.same_origin(req):
            return None, error(403, "a POST must come from the dashboard's own page (Origin)")
        roles = ROUTES[(req.endpoint, req.method)]
        if roles is None:
            return None, None
        try:
            if req.authorization and not self.gate.basic_known(req.authorization) and not self.password_allowed():
                return None, self.over_rate()
            person = self.gate.who(req.cookie, req.authorization)
        except operators_file.OperatorsError as e:
            return None, error(500, f"the operators file is broken: {e}")
        if person is None:
            return None, self.unauthorized(req)
        if person.role not in roles:
            return None, error(403, f"a {person.role} may not use {req.method} /api/{req.endpoint}")
        return person, None

    def unauthorized(self, req):
        people = self.config.operators_file.exists()
        message = ("sign in, or give a name and password (HTTP Basic)" if people else
                   f"no operators file {self.config.operators_file}: create one with shocpp-passwd --operator NAME")
        return Answer(401, {"error": message}, [] if req.page else [f"WWW-Authenticate: {REALM}"])

    def same_origin(self, req):
        """A browser's POST names its page's origin: it must be this dashboard's. A client that sends no
        Origin (curl, Home Assistant) is no browser page of another site."""
        if req.origin is None:
            return True
        parts = urlsplit(req.origin)
        return bool(req.host) and parts.scheme == self.scheme and parts.netloc.lower() == req.host.lower() \
            and not parts.path

    # -- the answers -------------------------------------------------------------------------------

    def serve(self, req, person, body=b""):
        if req.endpoint == "login":
            return self.login(body)
        query = {k: v[0] for k, v in parse_qs(req.query or "").items()}
        if req.method == "POST":
            try:
                body = json.loads(body or b"null")
            except ValueError as e:
                return error(400, f"the body is not JSON: {e}")
            if not isinstance(body, dict):
                return error(400, "the body must be a JSON object")
        try:
            return getattr(self, f"{req.method.lower()}_{req.endpoint}")(person, query if req.method == "GET" else body)
        except dashboard_history.HistoryError as e:
            return error(e.status, str(e))

    def login(self, body):
        try:
            given = json.loads(body or b"null")
        except ValueError:
            given = None
        if not isinstance(given, dict) or not all(isinstance(given.get(k), str) for k in ("name", "password")):
            return error(400, 'give {"name": ..., "password": ...}')
        if not self.password_allowed():
            return self.over_rate()
        try:
            person = self.gate.sign_in(given["name"], given["password"])
        except operators_file.OperatorsError as e:
            return error(500, f"the operators file is broken: {e}")
        if person is None:
            return error(401, "wrong name or password")
        secure = "; Secure" if self.scheme == "https" else ""
        cookie = (f"Set-Cookie: {dashboard_auth.COOKIE}={self.gate.cookie_for(person)}; Path=/; HttpOnly; "
                  f"SameSite=Strict; Max-Age={dashboard_auth.SESSION_S}{secure}")
        return Answer(200, self.me(person), [cookie])

    def post_logout(self, person, _):
        return Answer(200, {"signed_out": person.name},
                      [f"Set-Cookie: {dashboard_auth.COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"])

    def me(self, person):
        return {"name": person.name, "role": person.role, "account": person.account}

    def get_me(self, person, _):
        return Answer(200, self.me(person))

    def get_status(self, person, _):
        return Answer(200, dashboard_views.site_for(person, dashboard_views.site(self.config)))

    def get_summary(self, person, query):
        month = dashboard_history.month_of(query.get("year", ""), query.get("month", ""))
        return Answer(200, dashboard_views.summary_for(person, dashboard_history.summary(self.config, month)))

    def tags(self):
        from .. import tags_file
        from ..protocol.tags import TagsError
        try:
            return tags_file.load(self.config.tags_file)
        except TagsError as e:
            raise dashboard_history.HistoryError(500, f"cannot read tags.json: {e}") from None

    def get_accounts(self, person, _):
        tags = self.tags()
        names = [a for a in tags.accounts if person.role != "driver" or a == person.account]
        if person.role == "viewer":
            return Answer(200, {"accounts": [{"account": name} for name in names]})
        return Answer(200, {"accounts": [{"account": name, "id_tag": (tags.ids(name) or [None])[0]} for name in names]})

    def get_statement(self, person, query):
        account, kind = query.get("account", ""), query.get("format", "html")
        if person.role == "driver" and account != person.account:
            return error(403, "a driver sees its own account's statements only")
        if kind not in ("html", "csv") or not account:
            return error(400, "give account=NAME, year=YYYY, month=MM and format=html or csv")
        month = dashboard_history.month_of(query.get("year", ""), query.get("month", ""))
        text, content_type, name = dashboard_history.statement(self.config, month, account, kind)
        disposition = "attachment" if kind == "csv" else "inline"
        return Answer(200, text, [f'Content-Disposition: {disposition}; filename="{name}"'],
                      f"{content_type}; charset=utf-8")

    def post_mode(self, person, body):
        charger, mode = body.get("charger"), body.get("mode")
        if not isinstance(charger, str) or (mode is not None and mode not in balance_control.MODES):
            return error(400, f'give {{"charger": ID, "mode": one of {", ".join(balance_control.MODES)} or null}}')
        try:
            balance_control.set_mode(self.config.run_dir, charger, mode)
        except ValueError as e:
            return error(400, str(e))
        running = balance_control.running(self.config.run_dir, time.time())
        said = "site.json's mode" if mode is None else f"mode {mode}"
        return Answer(200, {"charger": charger, "mode": mode, "balancer_running": running,
                            "answer": f"{charger}: {said} set" + (", applied at the balancer's next round" if running
                                                                  else "; shocpp-balance is not running")})

    def post_command(self, person, body):
        from . import dashboard_command
        return dashboard_command.command(self, person, body)

    def get_tags(self, person, _):
        from . import dashboard_tags
        return dashboard_tags.listing(self, person)

    def post_tags(self, person, body):
        from . import dashboard_tags
        return dashboard_tags.add(self, body)

    def get_samples(self, person, query):
        from .. import samples
        charger, connector = query.get("charger", ""), query.get("connector", "")
        if not charger or not connector.isdigit():
            return error(400, "give charger=ID and connector=N")
        session = dashboard_views.running_session(dashboard_views.site(self.config), charger, int(connector))
        if person.role == "driver" and (session is None or session.get("account") != person.account):
            return error(403, "a driver sees its own sessions' samples only")
        found = samples.read(self.config.run_dir, charger, int(connector))
        if session is not None:
            found = [s for s in found if s.get("transaction_id") in (None, session.get("transaction_id"))]
        return Answer(200, {"charger": charger, "connector": int(connector),
                            "transaction_id": None if session is None else session.get("transaction_id"),
                            "samples": [[s["t"], s["w"]] for s in found]})
