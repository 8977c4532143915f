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


def save(path, chargers):
    """Write {identity: hash} atomically, readable by the service's group only."""
    entries = [{"id": i, "password_hash": h} for i, h in sorted(chargers.items())]
    atomic.write_json(path, entries, mode=0o640, fsync=True, indent=2)
