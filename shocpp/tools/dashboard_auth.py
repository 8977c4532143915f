"""Who is asking the dashboard: a signed-in browser's session cookie, or HTTP Basic credentials.

The password is checked (one scrypt) when a browser signs in, and then the browser holds a cookie
(HttpOnly, SameSite=Strict, Secure over https) that names the person and its expiry, signed with
HMAC-SHA256 under the dashboard's secret (<run>/dashboard/secret, made at the first start, the
service user's alone). The signature also covers the person's password hash, role and account: a
new password, another role or the person's removal ends every session of theirs at once. Scripts
and Home Assistant send HTTP Basic credentials with every request instead; a long-lived process
remembers a header it verified for CACHE_S, so that it costs one scrypt a minute, not one a request.
"""

import base64
import hashlib
import hmac
import json
import os
import threading
import time

from .. import operators_file, runfiles
from ..protocol import authentication

COOKIE = "shocpp_session"
SESSION_S = 12 * 3600
CACHE_S = 60
SECRET = "secret"
DIR = "dashboard"


def secret_path(run_dir):
    return run_dir / DIR / SECRET


def ensure_secret(run_dir):
    """The dashboard's signing key, made (32 random bytes, mode 0600) when there is none."""
    path = secret_path(run_dir)
    runfiles.ensure_dir(run_dir)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return read_secret(run_dir)
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(32).hex().encode())
    return read_secret(run_dir)


def read_secret(run_dir):
    with open(os.open(secret_path(run_dir), os.O_RDONLY | os.O_NOFOLLOW), "rb") as f:
        return f.read().strip()


def cookie_value(headers):
    """The session cookie's value in a Cookie header, or None."""
    for part in (headers or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


class Gate:
    """The people of the operators file (re-read when it changes) and the checks of a request."""

    def __init__(self, operators_path, secret, clock=time.time):
        self.path, self.secret, self.clock = operators_path, secret, clock
        self._seen, self._people, self._basic = None, {}, {}
        self._lock = threading.Lock()

    def people(self):
        """{name: Person}; OperatorsError for a broken file; {} without one."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        seen = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            if seen != self._seen:
                self._people, self._seen, self._basic = operators_file.read_people(self.path), seen, {}
            return self._people

    def basic(self, authorization):
        """The Person whose HTTP Basic credentials these are, or None (one scrypt, or none when remembered)."""
        if not authorization:
            return None
        people = self.people()
        key = hashlib.sha256(authorization.encode("utf-8", "surrogateescape")).digest()
        now = self.clock()
        with self._lock:
            known = self._basic.get(key)
        if known and known[1] > now and people.get(known[0].name) == known[0]:
            return known[0]
        name = authentication.operator({n: p.password_hash for n, p in people.items()}, authorization)
        if name is None:
            return None
        with self._lock:
            if len(self._basic) > 1000:
                self._basic.clear()
            self._basic[key] = (people[name], now + CACHE_S)
        return people[name]

    def basic_known(self, authorization):
        """True when these Basic credentials were verified within CACHE_S (no scrypt needed)."""
        key = hashlib.sha256(authorization.encode("utf-8", "surrogateescape")).digest()
        with self._lock:
            known = self._basic.get(key)
        return bool(known) and known[1] > self.clock()

    def sign_in(self, name, password):
        """The Person for a name and password (one scrypt), or None."""
        header = "Basic " + base64.b64encode(f"{name}:{password}".encode("utf-8", "surrogateescape")).decode()
        people = self.people()
        found = authentication.operator({n: p.password_hash for n, p in people.items()}, header)
        return people.get(found) if found is not None else None

    def cookie_for(self, person):
        expires = int(self.clock()) + SESSION_S
        payload = base64.urlsafe_b64encode(json.dumps([person.name, expires]).encode()).decode().rstrip("=")
        return f"{payload}.{self._mac(payload, person)}"

    def session(self, value):
        """The Person a session cookie's value names, while it holds; None otherwise."""
        payload, dot, mac = (value or "").partition(".")
        if not dot or len(value) > 1000:
            return None
        try:
            name, expires = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, TypeError):
            return None
        person = self.people().get(name) if isinstance(name, str) else None
        if person is None or not isinstance(expires, int) or expires < self.clock():
            return None
        return person if hmac.compare_digest(mac, self._mac(payload, person)) else None

    def who(self, cookie_header, authorization):
        """The Person asking: Basic credentials when given, else the session cookie; None for nobody."""
        if authorization:
            return self.basic(authorization)
        return self.session(cookie_value(cookie_header))

    def _mac(self, payload, person):
        message = json.dumps([payload, person.password_hash, person.role, person.account]).encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()
