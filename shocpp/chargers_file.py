"""The file side of chargers.json (SHOCPP_CHARGERSFILE): reading and writing it, new keys and salts."""

import os
import secrets

from . import atomic
from .protocol.authentication import KEY_BYTES, ChargersError, hash_password, parse


def new_key():
    return secrets.token_hex(KEY_BYTES)


def new_hash(password):
    """The stored form of a password, with a fresh salt."""
    return hash_password(password, os.urandom(16))


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return parse(f.read(), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise ChargersError(f"{path}: cannot read: {e}") from None


def load_or_last_good(path, last_good):
    """({identity: hash}, problem): the file's chargers, kept as the last good copy; for a broken file,
    its last good copy's, and what is wrong (left for shocpp-status too). ChargersError without a
    good copy: then nobody is let in."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        chargers = parse(text, str(path))
    except (OSError, UnicodeDecodeError, ChargersError) as e:
        problem = e if isinstance(e, ChargersError) else f"{path}: cannot read: {e}"
        copy = last_good.read()
        if copy is None:
            raise ChargersError(f"{problem} (and there is no last good copy in {last_good.copy})") from None
        try:
            chargers = parse(copy, str(last_good.copy))
        except ChargersError:
            raise ChargersError(f"{problem} (and the last good copy {last_good.copy} is broken too)") from None
        message = f"{problem}; authenticating with the last good copy {last_good.copy} until it is fixed"
        last_good.report(message)
        return chargers, message
    return chargers, last_good.keep(text)


def save(path, chargers):
    """Write {identity: hash} atomically, readable by the service's group only."""
    entries = [{"id": i, "password_hash": h} for i, h in sorted(chargers.items())]
    atomic.write_json(path, entries, mode=0o640, fsync=True, indent=2)
