"""The dashboard API's long-lived process: websocketd's --cgidir runs, for each API request, a small
bash wrapper (written by shocpp-dashboard) that hands the request to this process over loopback TCP
and copies its answer back. A Python process is started once, not once a request, and a verified
HTTP Basic header is remembered for a minute (dashboard_auth): an answer costs a few milliseconds.

The wrapper's request, lines ending in LF:
    the dashboard's secret (a connection without it is dropped: the port is loopback, but every
    local user may reach it), the endpoint, then NAME=VALUE lines (m method, q query, l length,
    a Authorization, c Cookie, o Origin, h Host, p the page's X-Shocpp-Page) and an empty line.
This process answers at once with the CGI answer (a refusal: nobody, a wrong role, a wrong method,
a body too long), or with the line `continue`, upon which the wrapper sends the body: a request
that is refused never has its body read. Then the CGI answer, and the connection closes.
"""

import hmac
import os
import socketserver
import threading

from . import dashboard_api

FIELDS = {"m": "method", "q": "query", "a": "authorization", "c": "cookie", "o": "origin", "h": "host"}
MAX_HEAD = 64 * 1024


def parse_head(lines):
    """(endpoint, Request fields, content length) from the wrapper's lines after the secret."""
    endpoint, *rest = lines
    fields, length = {}, 0
    for line in rest:
        key, _, value = line.partition("=")
        if key in FIELDS and value:
            fields[FIELDS[key]] = value
        elif key == "l":
            length = int(value) if value.isdigit() else 0
        elif key == "p":
            fields["page"] = bool(value)
    return dashboard_api.Request(endpoint, **{"method": "GET", **fields}), length


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self):
        try:
            answer = self.answer()
        except (OSError, ValueError, UnicodeDecodeError):
            return
        except Exception as e:  # noqa: BLE001 — a request answers, whatever happened
            answer = dashboard_api.error(500, f"{type(e).__name__}: {e}")
        if answer is not None:
            self.wfile.write(answer.cgi())

    def answer(self):
        lines, size = [], 0
        while True:
            line = self.rfile.readline(MAX_HEAD)
            size += len(line)
            if not line.endswith(b"\n") or size > MAX_HEAD:
                return None
            if line == b"\n":
                break
            lines.append(line[:-1].decode("utf-8", "surrogateescape"))
        if len(lines) < 2 or not hmac.compare_digest(lines[0].encode("utf-8", "surrogateescape"), self.server.secret):
            return None
        request, length = parse_head(lines[1:])
        dashboard = self.server.dashboard
        person, refused = dashboard.admit(request)
        if refused is not None:
            return refused
        if length > dashboard_api.MAX_BODY:
            return dashboard_api.error(413, "the body is too long")
        body = b""
        if request.method == "POST":
            self.wfile.write(b"continue\n")
            self.wfile.flush()
            body = self.rfile.read(length)
            if len(body) != length:
                return None
        return dashboard.serve(request, person, body)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, dashboard, secret, address=("127.0.0.1", 0)):
        self.dashboard, self.secret = dashboard, secret
        super().__init__(address, Handler)


def start(env, secret):
    """A running Server (in a thread of its own) for the settings `env`; .server_address[1] is its port."""
    server = Server(dashboard_api.Dashboard(env), secret)
    threading.Thread(target=server.serve_forever, name="dashboard-api", daemon=True).start()
    return server


WRAPPER = """#!/bin/bash
# written by shocpp-dashboard at start: hands the request to the dashboard's API process
exec 3<>/dev/tcp/127.0.0.1/{port} 2>/dev/null || {{
  printf 'Status: 503 Service Unavailable\\r\\nContent-Type: application/json\\r\\n\\r\\n'
  printf '{{"error": "the dashboard API process is not running"}}\\n'; exit 0; }}
printf '%s\\n' '{secret}' {endpoint} "m=$REQUEST_METHOD" "q=$QUERY_STRING" "l=$CONTENT_LENGTH" \\
  "a=$HTTP_AUTHORIZATION" "c=$HTTP_COOKIE" "o=$HTTP_ORIGIN" "h=$HTTP_HOST" "p=$HTTP_X_SHOCPP_PAGE" '' >&3
IFS= read -r first <&3
if [ "$first" = continue ]; then
  [ "${{CONTENT_LENGTH:-0}}" -gt 0 ] 2>/dev/null && head -c "$CONTENT_LENGTH" >&3
else
  printf '%s\\n' "$first"
fi
exec cat <&3
"""


def wrapper(port, secret, endpoint):
    """The bash text of one endpoint's CGI program (secret: hex text)."""
    return WRAPPER.format(port=int(port), secret=secret, endpoint=endpoint)


def new_secret():
    return os.urandom(16).hex()
