"""The dashboard's operators (SHOCPP_OPERATORSFILE, default conf/operators.json): the same form and
scrypt hashes as chargers.json, [{"id": "alice", "password_hash": "scrypt$..."}, ...]."""

from . import chargers_file
from .protocol.authentication import UNKNOWN_HASH, ChargersError, _basic, verify

OperatorsError = ChargersError
MIN_PASSWORD = 12  # characters, for a password given on standard input


def load(path):
    """{name: hash}; OperatorsError for a file that cannot be read or is broken."""
    try:
        with open(path, encoding="utf-8") as f:
            from .protocol.authentication import parse
            return parse(f.read(), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise OperatorsError(f"{path}: cannot read: {e}") from None


def save(path, operators):
    chargers_file.save(path, operators)


def operator(operators, authorization):
    """The operator an HTTP Authorization header names with the right password, or None. Always one
    scrypt, also for an unknown name or a header that cannot be read."""
    user, password, problem = _basic(authorization)
    name = user.decode("utf-8", "replace") if user is not None else None
    stored = operators.get(name) if name is not None else None
    matches = verify(b"" if password is None else password, stored or UNKNOWN_HASH)
    return name if stored is not None and not problem and matches else None
