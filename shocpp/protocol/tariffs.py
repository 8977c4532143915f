"""tariffs.json: the price of a kWh, from a date on, for the site or for one account.

[{"from": "2026-01-01", "price_per_kwh": "0.3400", "currency": "EUR"},
 {"from": "2026-01-01", "account": "company-x", "price_per_kwh": "0.2950", "currency": "EUR"}]

Each entry is valid from its date until the next entry of the same scope (the site, or that
account). An account's own entries win over the site's from the first of them on. Prices are
decimal strings, read as Decimal: a binary float cannot hold 0.1.
"""

import json
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .tags import UNKNOWN_ACCOUNT

CENT = Decimal("0.01")
DECIMAL = r"^[0-9]{1,6}(\.[0-9]{1,6})?$"   # "0.2950": no sign, no exponent, no float
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
CURRENCY = r"^[A-Z]{3}$"                   # ISO 4217 letters

SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "from": {"type": "string", "pattern": DAY},
            "account": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"^[^\x00-\x1f]+$"},
            "price_per_kwh": {"type": "string", "pattern": DECIMAL},
            "currency": {"type": "string", "pattern": CURRENCY},
        },
        "required": ["from", "price_per_kwh", "currency"],
        "additionalProperties": False,
    },
}
EXAMPLE = '[{"from": "2026-01-01", "price_per_kwh": "0.3400", "currency": "EUR"}]'


class TariffsError(Exception):
    """tariffs.json is broken; the message names the file and the problem."""


@dataclass(frozen=True)
class Price:
    start: date           # valid from this day on (until the next entry of its scope)
    per_kwh: Decimal
    currency: str
    account: object = None  # None: the site's price

    @property
    def text(self):
        """The price as written in the file, '0.2950'."""
        return str(self.per_kwh)


class Tariffs:
    def __init__(self, prices):
        self._site = sorted((p for p in prices if p.account is None), key=lambda p: p.start)
        self._own = {}
        for p in sorted((p for p in prices if p.account is not None), key=lambda p: p.start):
            self._own.setdefault(p.account, []).append(p)

    def price(self, account, day):
        """The Price of a kWh for `account` on `day`, or None when no entry is valid yet."""
        own = _latest(self._own.get(account, ()), day)
        return own if own is not None else _latest(self._site, day)

    def currency(self, account):
        """The one currency the account's prices are in, or None when it has none."""
        prices = self._own.get(account, []) + self._site
        return prices[0].currency if prices else None


def _latest(prices, day):
    found = None
    for p in prices:  # a few entries: a walk beats bisecting
        if p.start > day:
            break
        found = p
    return found


def cost(energy_wh, price):
    """The cost of `energy_wh` Wh at a Decimal price per kWh: kWh x price, rounded half-up to the cent."""
    return (Decimal(energy_wh).scaleb(-3) * price).quantize(CENT, rounding=ROUND_HALF_UP)


def parse(text, accounts, source="tariffs.json"):
    """Tariffs from the text of a tariffs.json, or TariffsError naming what is wrong.

    accounts: the names an `account` entry may have (those of tags.json); `unknown` is allowed too.
    """
    try:
        entries = json.loads(text)
    except ValueError as e:
        raise TariffsError(f"{source}: not valid JSON: {e}") from None
    except RecursionError:
        raise TariffsError(f"{source}: not valid JSON: nested too deeply") from None
    _check_schema(entries, source)
    prices = [_price(entry, number, source) for number, entry in enumerate(entries, 1)]
    _check_accounts(prices, set(accounts) | {UNKNOWN_ACCOUNT}, source)
    _check_unique(prices, source)
    _check_currencies(prices, source)
    return Tariffs(prices)


def _check_schema(entries, source):
    from jsonschema import Draft4Validator  # read a few times a month: no compiled fast path

    errors = sorted(Draft4Validator(SCHEMA).iter_errors(entries), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        raise TariffsError(f"{source}: {_where(entries, list(error.absolute_path))}{_explain(error)}")


def _where(entries, path):
    if not path:
        return ""
    label = _label(entries[path[0]], path[0] + 1)
    rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
    return f"{label} {rest.lstrip('.')}: " if rest else f"{label}: "


def _label(entry, number):
    name = entry.get("account") if isinstance(entry, dict) else None
    return f"entry {number}" + (f" (account {name!r})" if isinstance(name, str) else "")


def _explain(error):
    field, value = (error.path[-1] if error.path else None), error.instance
    shown = json.dumps(value, ensure_ascii=False)
    if field == "price_per_kwh" and error.validator in ("type", "pattern"):
        return (f"{shown} is not a decimal string like \"0.2950\" (a price is written in quotes, "
                "with a dot, no sign or exponent: a binary float cannot hold every price)")
    if field == "from" and error.validator in ("type", "pattern"):
        return f"{shown} is not a date like \"2026-01-01\""
    if field == "currency" and error.validator in ("type", "pattern"):
        return f"{shown} is not a currency code of three capital letters like \"EUR\""
    if error.validator == "type" and not error.path:
        return f"must be a list of prices like {EXAMPLE}"
    if error.validator == "additionalProperties":
        return f"{error.message} (known: from, account, price_per_kwh, currency)"
    return error.message


def _price(entry, number, source):
    try:
        start = date.fromisoformat(entry["from"])
    except ValueError as e:
        raise TariffsError(f"{source}: {_label(entry, number)} from: {entry['from']!r} is no date ({e})") from None
    return Price(start, Decimal(entry["price_per_kwh"]), entry["currency"], entry.get("account"))


def _scope(account):
    return "the site" if account is None else f"account {account!r}"


def _check_accounts(prices, known, source):
    for p in prices:
        if p.account is not None and p.account not in known:
            names = ", ".join(sorted(known - {UNKNOWN_ACCOUNT})) or "none"
            raise TariffsError(f"{source}: account {p.account!r} is not in tags.json (accounts: {names}; "
                               f"{UNKNOWN_ACCOUNT!r} for unknown tags)")


def _check_unique(prices, source):
    seen = set()
    for p in prices:
        if (p.account, p.start) in seen:
            raise TariffsError(f"{source}: two prices for {_scope(p.account)} from {p.start.isoformat()}")
        seen.add((p.account, p.start))


def _check_currencies(prices, source):
    """An account's statement has one currency: its own prices and the site's, which it falls back on."""
    site = [p for p in prices if p.account is None]
    for account in [None] + sorted({p.account for p in prices if p.account is not None}):
        applying = site + [p for p in prices if account is not None and p.account == account]
        currencies = list(dict.fromkeys(p.currency for p in applying))
        if len(currencies) > 1:
            where = ", ".join(f"{c} ({_scope(next(p.account for p in applying if p.currency == c))})"
                              for c in currencies)
            what = "the site's prices are" if account is None else f"the prices for account {account!r} are"
            raise TariffsError(f"{source}: {what} in two currencies: {where}")

