"""tariffs.json: which price applies to a session, the cost to the cent, and errors that name the problem."""

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shocpp import tariffs_file
from shocpp.protocol import tariffs
from shocpp.protocol.tariffs import Price, TariffsError, cost

ACCOUNTS = ["home", "company-x", "guest"]
GOOD = [
    {"from": "2026-01-01", "price_per_kwh": "0.3400", "currency": "EUR"},
    {"from": "2026-01-01", "account": "company-x", "price_per_kwh": "0.2950", "currency": "EUR"},
    {"from": "2026-10-15", "price_per_kwh": "0.3600", "currency": "EUR"},
    {"from": "2026-11-01", "account": "company-x", "price_per_kwh": "0.3100", "currency": "EUR"},
    {"from": "2026-07-01", "account": "unknown", "price_per_kwh": "0.5", "currency": "EUR"},
]


def parse(entries, accounts=ACCOUNTS):
    return tariffs.parse(json.dumps(entries), accounts)


def price_text(t, account, day):
    found = t.price(account, date.fromisoformat(day))
    return None if found is None else found.text


def test_each_price_is_valid_from_its_date_until_the_next_of_its_scope():
    t = parse(GOOD)
    assert [price_text(t, "home", d) for d in ("2025-12-31", "2026-01-01", "2026-10-14", "2026-10-15",
                                                "2027-05-01")] == [None, "0.3400", "0.3400", "0.3600", "0.3600"]
    # The account's own prices win over the site's, the site's change does not touch them.
    assert [price_text(t, "company-x", d) for d in ("2025-12-31", "2026-01-01", "2026-10-20", "2026-10-31",
                                                     "2026-11-01")] == [None, "0.2950", "0.2950", "0.2950",
                                                                        "0.3100"]
    # Before an account's first own price, the site's applies.
    assert [price_text(t, "unknown", d) for d in ("2026-06-30", "2026-07-01")] == ["0.3400", "0.5"]
    assert t.price("guest", date(2026, 3, 1)) == Price(date(2026, 1, 1), Decimal("0.3400"), "EUR")
    assert (t.currency("home"), t.currency("company-x"), t.currency("nobody")) == ("EUR", "EUR", "EUR")


def test_order_in_the_file_does_not_matter():
    assert [price_text(parse(list(reversed(GOOD))), "company-x", d) for d in ("2026-06-01", "2026-12-01")] == \
        ["0.2950", "0.3100"]


def test_an_account_with_own_prices_only_and_no_site_price():
    t = parse([{"from": "2026-01-01", "account": "home", "price_per_kwh": "0.25", "currency": "CHF"}])
    assert (price_text(t, "home", "2026-02-01"), price_text(t, "guest", "2026-02-01")) == ("0.25", None)
    assert (t.currency("home"), t.currency("guest")) == ("CHF", None)
    assert parse([]).price("home", date(2026, 1, 1)) is None


@pytest.mark.parametrize("wh, price, expected", [
    (5321, "0.2950", "1.57"),      # 1.569695
    (1000, "0.3400", "0.34"),
    (15, "0.3400", "0.01"),        # 0.0051: half a cent and a bit
    (14, "0.3400", "0.00"),        # 0.00476
    (25, "0.2000", "0.01"),        # 0.005 exactly: half-up, not to even
    (75, "0.2000", "0.02"),        # 0.015: half-up (half-even would give 0.02 too), see next
    (125, "0.2000", "0.03"),       # 0.025: half-up gives 0.03, half-even 0.02
    (0, "0.34", "0.00"),
    (-1000, "0.2950", "-0.30"),    # 0.295 away from zero
    (100_000_000, "0.3400", "34000.00"),
])
def test_cost_is_kwh_times_price_rounded_half_up_to_the_cent(wh, price, expected):
    assert str(cost(wh, Decimal(price))) == expected


@given(st.integers(0, 10**9), st.decimals(min_value=0, max_value=10, places=4))
def test_cost_is_exact_decimal_arithmetic(wh, price):
    result = cost(wh, price)
    exact = Decimal(wh) * price / 1000
    assert result.as_tuple().exponent == -2
    assert abs(result - exact) <= Decimal("0.005")
    assert (result - exact) != Decimal("-0.005")  # a half cent goes up


@pytest.mark.parametrize("entries, message", [
    ("not json", "tariffs.json: not valid JSON: "),
    ({"from": "2026-01-01"}, 'tariffs.json: must be a list of prices like [{"from": '),
    ([{"from": "2026-01-01", "price_per_kwh": 0.34, "currency": "EUR"}],
     'tariffs.json: entry 1 price_per_kwh: 0.34 is not a decimal string like "0.2950" (a price is written in quotes'),
    ([GOOD[0], {"from": "2026-01-01", "account": "home", "price_per_kwh": "0,34", "currency": "EUR"}],
     "tariffs.json: entry 2 (account 'home') price_per_kwh: \"0,34\" is not a decimal string like \"0.2950\""),
    ([{"from": "2026-01-01", "price_per_kwh": "-0.34", "currency": "EUR"}], 'tariffs.json: entry 1 price_per_kwh: "-0.34" is not a decimal string'),
    ([{"from": "2026-01-01", "price_per_kwh": "3.4e-1", "currency": "EUR"}], 'tariffs.json: entry 1 price_per_kwh: "3.4e-1" is not a decimal string'),
    ([{"from": "2026-01-01", "price_per_kwh": "NaN", "currency": "EUR"}], 'tariffs.json: entry 1 price_per_kwh: "NaN" is not a decimal string'),
    ([{"from": "2026-1-1", "price_per_kwh": "0.34", "currency": "EUR"}],
     'tariffs.json: entry 1 from: "2026-1-1" is not a date like "2026-01-01"'),
    ([{"from": "2026-02-30", "price_per_kwh": "0.34", "currency": "EUR"}],
     "tariffs.json: entry 1 from: '2026-02-30' is no date (day is out of range for month)"),
    ([{"from": "2026-01-01", "price_per_kwh": "0.34", "currency": "euro"}],
     'tariffs.json: entry 1 currency: "euro" is not a currency code of three capital letters like "EUR"'),
    ([{"from": "2026-01-01", "price_per_kwh": "0.34"}], "tariffs.json: entry 1: 'currency' is a required property"),
    ([{"from": "2026-01-01", "price_per_kwh": "0.34", "currency": "EUR", "vat": "19"}],
     "tariffs.json: entry 1: Additional properties are not allowed ('vat' was unexpected) (known: from, account,"),
    ([GOOD[0], {**GOOD[0], "price_per_kwh": "0.35"}], "tariffs.json: two prices for the site from 2026-01-01"),
    ([GOOD[1], {**GOOD[1], "price_per_kwh": "0.30"}],
     "tariffs.json: two prices for account 'company-x' from 2026-01-01"),
    ([GOOD[0], {"from": "2026-01-01", "account": "compnay-x", "price_per_kwh": "0.30", "currency": "EUR"}],
     "tariffs.json: account 'compnay-x' is not in tags.json (accounts: company-x, guest, home; 'unknown' for"),
    ([GOOD[0], {**GOOD[2], "currency": "CHF"}],
     "tariffs.json: the site's prices are in two currencies: EUR (the site), CHF (the site)"),
    ([GOOD[0], {**GOOD[1], "currency": "CHF"}],
     "tariffs.json: the prices for account 'company-x' are in two currencies: EUR (the site), "
     "CHF (account 'company-x')"),
    ([{**GOOD[1], "currency": "USD"}, {**GOOD[3], "currency": "CHF"}],
     "tariffs.json: the prices for account 'company-x' are in two currencies: USD"),
])
def test_a_broken_file_is_refused_naming_the_problem(entries, message):
    with pytest.raises(TariffsError) as caught:
        tariffs.parse(entries if isinstance(entries, str) else json.dumps(entries), ACCOUNTS)
    assert str(caught.value).startswith(message)


def test_the_file_side(tmp_path):
    path = tmp_path / "tariffs.json"
    assert tariffs_file.load(path, ACCOUNTS) is None  # optional: no file, no prices
    path.write_text(json.dumps(GOOD))
    assert price_text(tariffs_file.load(path, ACCOUNTS), "home", "2026-11-01") == "0.3600"
    path.write_text(json.dumps(GOOD[:1] * 2))
    with pytest.raises(TariffsError) as caught:
        tariffs_file.load(path, ACCOUNTS)
    assert str(caught.value) == f"{path}: two prices for the site from 2026-01-01"
    path.write_bytes(b"\xff")
    with pytest.raises(TariffsError) as caught:
        tariffs_file.load(path, ACCOUNTS)
    assert str(caught.value).startswith(f"{path}: cannot read: ")
