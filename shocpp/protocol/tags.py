"""tags.json: the accounts and the RFID tags that belong to them.

[{"index": 1, "account": "company-x", "ids": ["1111", "2222"]}, ...]
The index is what a transactionId carries; tags are CiString20, compared without case.
"""

import json
from functools import lru_cache

from .plain import plain
from .schemas.compiler import compile_schema
from .transaction_id import MAX_INDEX

UNKNOWN_ACCOUNT = "unknown"

SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "index": {"type": "integer", "minimum": 1, "maximum": MAX_INDEX},
            "account": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"^[^\x00-\x1f]+$"},
            "ids": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 20}},
        },
        "required": ["index", "account", "ids"],
        "additionalProperties": False,
    },
}


class TagsError(Exception):
    """tags.json is missing or broken; the message names the file and the problem."""


class Account(plain("Account", ["index", "name"])):
    __slots__ = ()


class Tags:
    def __init__(self, entries):
        self.by_index = {e["index"]: Account(e["index"], e["account"]) for e in entries}
        self._by_tag = {tag.casefold(): self.by_index[e["index"]] for e in entries for tag in e["ids"]}
        self._ids = {e["account"]: tuple(e["ids"]) for e in entries}

    @property
    def accounts(self):
        """The account names, in the file's order."""
        return list(self._ids)

    def ids(self, account):
        """The tags of an account as written in the file; () for one that is not in it."""
        return self._ids.get(account, ())

    def lookup(self, id_tag):
        """The account of a tag, or None for a tag nobody has."""
        if not isinstance(id_tag, str):
            return None
        return self._by_tag.get(id_tag.casefold())

    def account_name(self, index):
        account = self.by_index.get(index)
        return account.name if account else UNKNOWN_ACCOUNT


def parse(text, source="tags.json"):
    """Tags from the text of a tags.json, or TagsError naming what is wrong."""
    try:
        entries = json.loads(text)
    except ValueError as e:
        raise TagsError(f"{source}: not valid JSON: {e}") from None
    _check_schema(entries, source)
    _check_unique(entries, source)
    return Tags(entries)


@lru_cache(maxsize=None)
def conforms():
    return compile_schema(SCHEMA)


def _check_schema(entries, source):
    if conforms()(entries):
        return
    from jsonschema import Draft4Validator  # only to say what is wrong

    errors = sorted(Draft4Validator(SCHEMA).iter_errors(entries), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = _where(entries, list(error.absolute_path))
        raise TagsError(f"{source}: {where}{_explain(error)}")


def _where(entries, path):
    if not path:
        return ""
    entry = entries[path[0]]
    name = entry.get("account") if isinstance(entry, dict) else None
    label = f"entry {path[0] + 1}" + (f" (account {name!r})" if isinstance(name, str) else "")
    rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
    return f"{label} {rest.lstrip('.')}: " if rest else f"{label}: "


def _explain(error):
    if error.validator in ("minimum", "maximum") and error.path and error.path[-1] == "index":
        return f"index {error.instance} is outside 1..{MAX_INDEX} (the range every transactionId fits in)"
    if error.validator == "type" and not error.path:
        return "must be a list of accounts like [{\"index\": 1, \"account\": \"name\", \"ids\": [\"tag\"]}]"
    return error.message


def _check_unique(entries, source):
    seen_index, seen_tag = {}, {}
    for entry in entries:
        account, index = entry["account"], entry["index"]
        if account.casefold() == UNKNOWN_ACCOUNT:
            raise TagsError(f"{source}: account name {UNKNOWN_ACCOUNT!r} is reserved for unknown tags")
        if index in seen_index:
            raise TagsError(f"{source}: index {index} is used twice ({seen_index[index]!r} and {account!r})")
        seen_index[index] = account
        for tag in entry["ids"]:
            other = seen_tag.setdefault(tag.casefold(), index)
            if other != index:
                raise TagsError(f"{source}: tag {tag!r} is listed under two accounts "
                                f"(index {other} {seen_index[other]!r} and index {index} {account!r})")
