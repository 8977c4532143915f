"""The dashboard's operators (SHOCPP_OPERATORSFILE, default conf/operators.json): the same form and
scrypt hashes as chargers.json, [{"id": "alice", "password_hash": "scrypt$..."}, ...], read and
written as that file is; protocol.authentication.operator checks a login."""

from . import chargers_file
from .protocol.authentication import ChargersError

OperatorsError = ChargersError
load, save = chargers_file.load, chargers_file.save
MIN_PASSWORD = 12  # characters, for a password given on standard input
