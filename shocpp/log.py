"""The frame log: `<logdir>/shocpp.log`, every frame in and out and every event, one line each.

Many backends append to the same file: each line is one write() to an O_APPEND
descriptor, so lines never interleave. stderr gets errors only (websocketd
reports each stderr line as an error). A connection writes at most SHOCPP_LOG_RATE bytes
a second and nothing once the file is over SHOCPP_LOG_MAX_BYTES; each is said once.
"""

import json
import os
import re
import sys
import time
from datetime import datetime, timezone

from .config import LOG_MAX_BYTES, LOG_RATE
from .rate import Budget
from .protocol import timestamps

MAX_LOGGED = 4096
BURST_SECONDS = 16  # a reconnecting charger's replay passes; a flood of padded frames does not
MASK = "********"
# The configuration key that holds a charger's password (Security Profile 1); OCPP keys ignore case.
_SECRET_KEY = re.compile(r"authorizationkey", re.IGNORECASE)


def masked(data):
    """The text with the value of every AuthorizationKey replaced by MASK: the log is group-readable, and
    shocpp-passwd tells the operator to send the key in a ChangeConfiguration. A frame is masked
    field by field; text that is not JSON (a note, a broken frame) is cut at the key's name."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "backslashreplace")
    found = _SECRET_KEY.search(data)
    if found is None:
        return data
    try:
        return json.dumps(_mask(json.loads(data)), ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError):
        return f"{data[:found.end()]}... (the rest is not logged: it may hold a secret)"


def _mask(value):
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if not isinstance(value, dict):
        return value
    secret = isinstance(value.get("key"), str) and _SECRET_KEY.fullmatch(value["key"].strip())
    return {k: MASK if (secret and k == "value") or _SECRET_KEY.fullmatch(k) else _mask(v)
            for k, v in value.items()}


def printable(data):
    if isinstance(data, bytes):
        data = data.decode("utf-8", "backslashreplace")
    data = data.replace("\n", "\\n").replace("\r", "\\r")
    if len(data) > MAX_LOGGED:
        data = f"{data[:MAX_LOGGED]}... ({len(data)} characters)"
    return data


class Log:
    def __init__(self, log_dir, charger, pid=None, stderr=sys.stderr, rate=LOG_RATE, max_bytes=LOG_MAX_BYTES,
                 clock=time.monotonic):
        self.prefix = f"{charger}[{pid or os.getpid()}]"
        self.stderr = stderr
        self.budget, self.max_bytes = Budget(rate, rate * BURST_SECONDS, clock), max_bytes
        self.left_out = 0  # lines over the budget since the last one written
        self.full = False  # the file is over max_bytes: said once, then nothing more until it shrinks
        self.fd = None
        try:
            os.makedirs(log_dir, mode=0o750, exist_ok=True)
            self.fd = os.open(os.path.join(log_dir, "shocpp.log"),
                              os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except OSError as e:
            self._stderr(f"cannot open the log in {log_dir}: {e}")

    def incoming(self, line):
        self._write("<", printable(masked(line)))

    def outgoing(self, line):
        self._write(">", printable(masked(line)))

    def note(self, text):
        self._write("-", printable(masked(text)))

    def error(self, text):
        self._write("!", printable(masked(text)))
        self._stderr(masked(text))

    def _write(self, mark, text):
        if self.fd is None:
            return
        stamp = timestamps.format_utc(datetime.now(timezone.utc))
        line = f"{stamp} {self.prefix} {mark} {text}\n".encode("utf-8", "backslashreplace")
        try:
            if self._over_size():
                return
            if not self.budget.take(len(line)):
                if not self.left_out:
                    os.write(self.fd, f"{stamp} {self.prefix} ! frame log: this connection writes more than "
                                      f"SHOCPP_LOG_RATE ({self.budget.rate} bytes a second): lines left out until "
                                      f"it slows down\n".encode())
                self.left_out += 1
                return
            if self.left_out:
                line = f"{stamp} {self.prefix} - frame log: {self.left_out} lines left out\n".encode() + line
                self.left_out = 0
            os.write(self.fd, line)
        except OSError:
            pass  # a full disk must not stop charging; the ledger reports its own failures

    def _over_size(self):
        """Whether the file is over max_bytes (logrotate only looks when it runs): said once, in the file
        and on stderr, and no more lines until it is rotated."""
        full = os.fstat(self.fd).st_size >= self.max_bytes
        if full and not self.full:
            message = (f"frame log: the file is over SHOCPP_LOG_MAX_BYTES ({self.max_bytes} bytes): this connection "
                       f"writes no more lines until it is rotated")
            stamp = timestamps.format_utc(datetime.now(timezone.utc))
            os.write(self.fd, f"{stamp} {self.prefix} ! {message}\n".encode())
            self._stderr(message)
        self.full = full
        return full

    def _stderr(self, text):
        try:
            self.stderr.write(f"shocpp {self.prefix}: {printable(text)}\n")
            self.stderr.flush()
        except (OSError, ValueError):
            pass

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
