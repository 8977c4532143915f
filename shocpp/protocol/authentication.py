"""Charger authentication: the chargers allowed to connect, with the hash of each one's password
(OCPP 1.6 Security Profile 1: HTTP Basic auth, user = charger identity, password = AuthorizationKey).

[{"id": "garage-left", "password_hash": "scrypt$16384$8$1$<salt>$<hash>"}, ...]
Only hashes are stored; passwords are compared by their slow salted hash, in constant time.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re

from .identity import MAX_LENGTH, is_safe

KEY_BYTES = 20  # the AuthorizationKey: 20 bytes, written as 40 hexadecimal characters
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
# The hash an unknown identity's password is checked against, so that a refusal costs one scrypt
# whatever is wrong: the time of an answer must not tell which identities exist. No key has it.
UNKNOWN_HASH = "scrypt$16384$8$1$9wm54UW3I93ajRl6ua1pTg==$ZoifLb5QHZ9scTxKOxAZtfYqOumG4uc1+MT/ndHBynM="
_HASH = re.compile(r"scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)")


class ChargersError(Exception):
    """chargers.json is broken; the message names the file and the problem."""


def _normalise(password):
    """The key as hex text, whether the charger sends the 20 raw bytes or the 40 hex characters."""
    if len(password) == KEY_BYTES * 2 and re.fullmatch(rb"[0-9A-Fa-f]+", password):
        return password.lower()
    if len(password) == KEY_BYTES:
        return binascii.hexlify(password)
    return password


def hash_password(password, salt):
    if isinstance(password, str):
        password = password.encode("utf-8")
    digest = hashlib.scrypt(_normalise(password), salt=salt, dklen=32, **SCRYPT)
    b64 = lambda b: base64.b64encode(b).decode()
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${b64(salt)}${b64(digest)}"


def verify(password, stored):
    n, r, p, salt, digest = _HASH.fullmatch(stored).groups()
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(_normalise(password), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                            dklen=len(expected))
    return hmac.compare_digest(actual, expected)


def parse(text, source="chargers.json"):
    """{identity: password_hash} from the text of a chargers.json, or ChargersError."""
    try:
        entries = json.loads(text)
    except ValueError as e:
        raise ChargersError(f"{source}: not valid JSON: {e}") from None
    if not isinstance(entries, list):
        raise ChargersError(f'{source}: must be a list like [{{"id": "garage-left", "password_hash": "scrypt$..."}}]')
    chargers = {}
    for number, entry in enumerate(entries, 1):
        ident, stored = _entry(entry, f"{source}: entry {number}")
        if ident in chargers:
            raise ChargersError(f"{source}: charger {ident!r} is listed twice")
        chargers[ident] = stored
    return chargers


def _entry(entry, where):
    if not isinstance(entry, dict) or set(entry) != {"id", "password_hash"}:
        raise ChargersError(f"{where}: must have exactly the fields id and password_hash")
    ident, stored = entry["id"], entry["password_hash"]
    if not is_safe(ident):
        raise ChargersError(f"{where}: id {ident!r} is not 1 to {MAX_LENGTH} letters, digits and ._-:")
    if not can_authenticate(ident):
        raise ChargersError(f"{where}: id {ident!r} has a ':', which an HTTP Basic user name cannot carry")
    if not isinstance(stored, str) or not _HASH.fullmatch(stored):
        raise ChargersError(f"{where} ({ident}): password_hash is not a scrypt hash made by shocpp-passwd")
    return ident, stored


def can_authenticate(identity):
    """An HTTP Basic user name ends at its first ':', so an identity with one can never log in."""
    return ":" not in identity


def refusal(chargers, identity, authorization):
    """Why a connection may not go on (never naming the password), or None when it may.

    Every answer costs one scrypt, with the stored hash or, for an identity not listed (or a header
    that cannot be read), with UNKNOWN_HASH: refusing an unknown identity takes as long as refusing
    a known one with a wrong password."""
    stored = chargers.get(identity)
    user, password, problem = _basic(authorization)
    matches = verify(b"" if password is None else password, stored or UNKNOWN_HASH)
    if stored is None:
        return f"charger {identity!r} is not listed in the chargers file"
    if problem:
        return problem
    if user != identity.encode():
        return f"the user name {user.decode('utf-8', 'replace')[:60]!r} is not the charger identity in the URL"
    if not matches:
        return "wrong password"
    return None


def operator(operators, authorization):
    """The operator (of the dashboard) an HTTP Authorization header names with the right password, or
    None. One scrypt for every answer, also for an unknown name or a header that cannot be read."""
    user, password, problem = _basic(authorization)
    name = user.decode("utf-8", "replace") if user is not None else None
    stored = operators.get(name) if name is not None else None
    matches = verify(b"" if password is None else password, stored or UNKNOWN_HASH)
    return name if stored is not None and not problem and matches else None


def _basic(authorization):
    """(user, password, None) from an Authorization header, or (user, None, why it cannot be used)."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, None, "no HTTP Basic authorization"
    try:
        user, colon, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
    except (binascii.Error, ValueError):
        return None, None, "malformed HTTP Basic authorization"
    if not colon:
        return user, None, (f"the user name {user.decode('utf-8', 'replace')[:60]!r} is not the charger "
                            "identity in the URL")
    return user, password, None
