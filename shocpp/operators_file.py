"""The dashboard's people (SHOCPP_OPERATORSFILE, default conf/operators.json): chargers.json's form and
scrypt hashes, with a role and, for a driver, the account it is bound to:

    [{"id": "alice", "password_hash": "scrypt$...", "role": "operator"},
     {"id": "ha", "password_hash": "scrypt$...", "role": "viewer"},
     {"id": "bob", "password_hash": "scrypt$...", "role": "driver", "account": "bob-car"}]

An entry without a role is an operator (the files written before roles existed). `load` gives
{name: password_hash} for protocol.authentication.operator; `people` gives each one's Person.
"""

import json
from collections import namedtuple

from . import atomic
from .protocol.authentication import ChargersError, parse

OperatorsError = ChargersError
MIN_PASSWORD = 12  # characters, for a password given on standard input
ROLES = ("operator", "viewer", "driver")
Person = namedtuple("Person", ["name", "password_hash", "role", "account"])


def parse_people(text, source="operators.json"):
    """{name: Person} from the file's text, or OperatorsError naming the problem."""
    try:
        entries = json.loads(text)
    except ValueError as e:
        raise OperatorsError(f"{source}: not valid JSON: {e}") from None
    if not isinstance(entries, list):
        raise OperatorsError(f'{source}: must be a list like [{{"id": "alice", "password_hash": "scrypt$..."}}]')
    bare = [{k: v for k, v in e.items() if k in ("id", "password_hash")} if isinstance(e, dict) else e
            for e in entries]
    hashes = parse(json.dumps(bare), source)
    people = {}
    for number, entry in enumerate(entries, 1):
        where = f"{source}: entry {number} ({entry['id']})"
        extra = set(entry) - {"id", "password_hash", "role", "account"}
        if extra:
            raise OperatorsError(f"{where}: unknown field {sorted(extra)[0]!r}")
        role, account = entry.get("role", "operator"), entry.get("account")
        if role not in ROLES:
            raise OperatorsError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        if (role == "driver") != (account is not None):
            raise OperatorsError(f"{where}: a driver needs an account, and only a driver has one")
        if account is not None and (not isinstance(account, str) or not account or not account.isprintable()):
            raise OperatorsError(f"{where}: account {account!r} is not an account's name")
        people[entry["id"]] = Person(entry["id"], hashes[entry["id"]], role, account)
    return people


def read_people(path):
    try:
        with open(path, encoding="utf-8") as f:
            return parse_people(f.read(), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise OperatorsError(f"{path}: cannot read: {e}") from None


def load(path):
    """{name: password_hash}."""
    return {name: p.password_hash for name, p in read_people(path).items()}


def save_people(path, people):
    """Write [Person] atomically, readable by the service's group only."""
    entries = []
    for p in sorted(people.values(), key=lambda p: p.name):
        entry = {"id": p.name, "password_hash": p.password_hash, "role": p.role}
        if p.account is not None:
            entry["account"] = p.account
        entries.append(entry)
    atomic.write_json(path, entries, mode=0o640, fsync=True, indent=2)
