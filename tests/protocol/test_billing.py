"""What a StopTransaction bills: whole(), stop_record() and ledger_month()."""

import json
import math
import time
from datetime import datetime, timezone

import pytest
from dateutil import tz as dateutil_tz
from hypothesis import given, settings
from hypothesis import strategies as st

from shocpp.protocol import tags, transaction_id
from shocpp.protocol.billing import ledger_month, stop_record
from shocpp.protocol.numbers import whole

from conftest import examples

NOW = datetime(2026, 11, 21, 13, 52, 7, 123456, tzinfo=timezone.utc)
RECORDED_AT = "2026-11-21T13:52:07.123Z"
BERLIN = dateutil_tz.gettz("Europe/Berlin")
TID = 10_012_345                     # index 1, meterStart 12,345,678 Wh
STOP_WH = 12_350_999


@pytest.fixture(scope="module")
def site_tags():
    return tags.parse(json.dumps([
        {"index": 1, "account": "home", "ids": ["1111"]},
        {"index": 2, "account": "company-x", "ids": ["3333"]},
    ]))


# --- whole() -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (12345, 12345),
    (0, 0),
    (-7, -7),
    (2**63 - 1, 2**63 - 1),
    (12345.0, 12345),
    (12345.9, 12345),
    (-0.5, -1),
    (1e20, None),                     # beyond any register: unusable
    (9.9e18, 9_900_000_000_000_000_000),
    ("1" * 30, None),
    (-(10**19), None),
    ("12345", 12345),
    ("12345.9", 12345),
    (" 12345 ", 12345),
    ("-3.5", -4),
    ("0.000", 0),
    ("9223372036854775807", 2**63 - 1),
    (True, None),
    (False, None),
    ("abc", None),
    ("", None),
    ("12,5", None),
    ("1e3", None),
    (".5", None),
    ("12.", None),
    ("+5", None),
    ("NaN", None),
    ("Infinity", None),
    (math.nan, None),
    (math.inf, None),
    (-math.inf, None),
    (None, None),
    ([12345], None),
    ({"value": 12345}, None),
])
def test_whole(value, expected):
    assert whole(value) == expected
    assert whole(value) is None or type(whole(value)) is int


def test_whole_refuses_digits_outside_ascii():
    # '\d' in the pattern also matches e.g. Arabic-Indic digits, which Decimal() then accepts
    assert whole("١٢٣") is None
    assert whole("１２３") is None


# --- stop_record() -----------------------------------------------------------------------

def stop(**fields):
    """A StopTransaction payload for TID, with `fields` changed (None removes)."""
    payload = {"transactionId": TID, "meterStop": STOP_WH, "timestamp": "2026-11-21T13:50:00Z",
               "idTag": "1111", "reason": "Local"}
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not None}


def test_known_account(site_tags):
    # no start record: billed from the transactionId, as the charger is in chargers.json
    result = stop_record("CP001", stop(), site_tags, NOW, charger_listed=True)
    assert result == {
        "event": "stop",
        "charger": "CP001",
        "transaction_id": 10_012_345,
        "account": "home",
        "account_index": 1,
        "id_tag": "1111",
        "meter_start_kwh": 12_345,
        "meter_stop_wh": 12_350_999,
        "consumed_kwh": 5,
        "energy_wh": 5_000,
        "stop_time": "2026-11-21T13:50:00Z",
        "reason": "Local",
        "verdict": "billed",
        "flags": ["no_start"],
        "recorded_at": "2026-11-21T13:52:07.123Z",
    }
    assert list(result) == ["event", "charger", "transaction_id", "account", "account_index", "id_tag",
                            "meter_start_kwh", "meter_stop_wh", "consumed_kwh", "energy_wh", "stop_time", "reason",
                            "verdict", "flags", "recorded_at"]


@pytest.mark.parametrize("changes, expected", [
    # an index that is no longer in tags.json: unknown account, index kept
    ({"transactionId": 90_012_345}, {"transaction_id": 90_012_345, "account": "unknown", "account_index": 9,
                                     "verdict": "review", "review": "unknown_account"}),
    # index 0: the tag was unknown when the transaction started
    ({"transactionId": 12_345}, {"transaction_id": 12_345, "account": "unknown", "account_index": 0,
                                 "verdict": "review", "review": "unknown_account"}),
    ({"transactionId": 20_012_345, "idTag": "3333"}, {"transaction_id": 20_012_345, "account": "company-x",
                                                     "account_index": 2, "id_tag": "3333"}),
    # home's tag on company-x's transactionId, no start to tell whose: to review
    ({"transactionId": 20_012_345}, {"transaction_id": 20_012_345, "account": "company-x", "account_index": 2,
                                     "verdict": "review", "review": "tag_of_other_account"}),
    # an id no encode() made: no account index, no start, nothing consumed
    ({"transactionId": 2**63 - 1}, {"transaction_id": 2**63 - 1, "account": "unknown",
                                    "account_index": None, "meter_start_kwh": None, "consumed_kwh": None,
                                    "energy_wh": None, "verdict": "review", "review": "unknown_account"}),
    ({"transactionId": -1}, {"transaction_id": -1, "account": "unknown", "account_index": None,
                             "meter_start_kwh": None, "consumed_kwh": None, "energy_wh": None,
                             "verdict": "review", "review": "unknown_account"}),
    # numbers as strings and floats
    ({"transactionId": "10012345", "meterStop": "12350999.7"}, {}),
    ({"transactionId": 10012345.0, "meterStop": 12350999.0}, {}),
    # idTag and reason only when sent
    ({"idTag": None}, {"id_tag": "-"}),
    ({"reason": None}, {"reason": "-"}),
    ({"idTag": None, "reason": None}, {"id_tag": "-", "reason": "-"}),
    # a tag that is not the account's: the stop without its start is not trusted
    ({"idTag": "unknown-tag", "reason": "EVDisconnected"}, {"id_tag": "unknown-tag", "reason": "EVDisconnected",
                                                           "verdict": "review", "review": "tag_of_other_account"}),
    # the stop time is copied as sent, None when missing
    ({"timestamp": None}, {"stop_time": None}),
    ({"timestamp": "garbage"}, {"stop_time": "garbage"}),
    # across the meter's wrap-around and backwards
    ({"meterStop": 10_012_350_999}, {"meter_stop_wh": 10_012_350_999}),
    ({"meterStop": 12_000_000}, {"meter_stop_wh": 12_000_000, "consumed_kwh": -345, "energy_wh": -345_000,
                                 "verdict": "review", "review": "negative"}),
])
def test_stop_record(site_tags, changes, expected):
    want = {
        "event": "stop", "charger": "CP001", "transaction_id": TID, "account": "home", "account_index": 1,
        "id_tag": "1111", "meter_start_kwh": 12_345, "meter_stop_wh": STOP_WH, "consumed_kwh": 5,
        "energy_wh": 5_000, "stop_time": "2026-11-21T13:50:00Z", "reason": "Local", "verdict": "billed",
        "flags": ["no_start"], "recorded_at": RECORDED_AT,
    }
    want.update(expected)
    want = {k: v for k, v in want.items() if v != "-"}
    assert stop_record("CP001", stop(**changes), site_tags, NOW, charger_listed=True) == want


def begin(value, **fields):
    """transactionData with one Transaction.Begin sampled value."""
    sampled = {"value": value, "context": "Transaction.Begin", **fields}
    return [{"timestamp": "2026-11-21T12:00:00Z", "sampledValue": [sampled]}]


@pytest.mark.parametrize("transaction_data, consumed_wh", [
    (begin("12345678"), 5_321),
    (begin("12345678", unit="Wh"), 5_321),
    (begin("12345678", unit="Wh", measurand="Energy.Active.Import.Register"), 5_321),
    (begin("12345.678", unit="kWh"), 5_321),
    (begin(12345.678, unit="kWh"), 5_321),
    (begin(12345678), 5_321),
    (begin("12345678.9"), 5_321),
    (begin("12345000"), 5_999),                         # any reading within the start kWh
    (begin("12345999"), 5_000),
    # a sampledValue or meterValue given as an object instead of an array
    ({"timestamp": "2026-11-21T12:00:00Z",
      "sampledValue": {"value": "12345678", "context": "Transaction.Begin"}}, 5_321),
    ([{"timestamp": "2026-11-21T12:00:00Z",
       "sampledValue": {"value": "12345678", "context": "Transaction.Begin"}}], 5_321),
    # the first Transaction.Begin energy reading counts; other values around it are skipped
    ([{"sampledValue": [{"value": "7", "context": "Transaction.Begin", "measurand": "Power.Active.Import"},
                        {"value": "12345678", "context": "Transaction.Begin"}]},
      {"sampledValue": [{"value": "12345001", "context": "Transaction.Begin"}]}], 5_321),
    ([{"sampledValue": [{"value": "12350999", "context": "Transaction.End"}]},
      "junk", {"sampledValue": None}, {"sampledValue": ["junk"]},
      {"sampledValue": [{"value": "12345500", "context": "Transaction.Begin"}]}], 5_499),
    # ignored: not energy, not the begin, an unknown unit, a value that is no number
    (begin("12345678", measurand="Power.Active.Import"), None),
    (begin("12345678", measurand="Energy.Active.Export.Register"), None),
    ([{"sampledValue": [{"value": "12345678", "context": "Sample.Periodic"}]}], None),
    ([{"sampledValue": [{"value": "12345678"}]}], None),
    (begin("12345678", unit="W"), None),
    (begin("12345678", unit=None), None),
    (begin("abc"), None),
    (begin(True), None),
    (begin(None), None),
    # a begin reading that does not fit the start kWh in the transactionId
    (begin("99999000"), None),
    (begin("12346000"), None),
    (begin("12345.678", unit="Wh"), None),
    # no usable transactionData
    (None, None),
    ([], None),
    ("junk", None),
    (42, None),
    ([{"sampledValue": []}], None),
])
def test_consumed_wh_from_begin_register(site_tags, transaction_data, consumed_wh):
    payload = stop(transactionData=transaction_data)
    result = stop_record("CP001", payload, site_tags, NOW)
    assert result.get("consumed_wh", "absent") == ("absent" if consumed_wh is None else consumed_wh)
    assert (result["meter_start_kwh"], result["consumed_kwh"]) == (12_345, 5)


def test_consumed_wh_across_the_wrap_around(site_tags):
    payload = stop(meterStop=10_012_350_999, transactionData=begin("10012345678"))
    result = stop_record("CP001", payload, site_tags, NOW)
    assert (result["meter_start_kwh"], result["consumed_kwh"], result["consumed_wh"]) == (12_345, 5, 5_321)


def test_consumed_wh_key_order(site_tags):
    result = stop_record("CP001", stop(transactionData=begin("12345678")), site_tags, NOW, charger_listed=True)
    assert list(result) == ["event", "charger", "transaction_id", "account", "account_index", "id_tag",
                            "meter_start_kwh", "meter_stop_wh", "consumed_kwh", "consumed_wh", "energy_wh",
                            "stop_time", "reason", "verdict", "flags", "recorded_at"]


def test_undecodable_id_uses_the_begin_register(site_tags):
    payload = {"transactionId": 2**63 - 1, "meterStop": STOP_WH, "timestamp": "2026-11-21T13:50:00Z",
               "transactionData": begin("12345678")}
    assert stop_record("CP002", payload, site_tags, NOW) == {
        "event": "stop",
        "charger": "CP002",
        "transaction_id": 2**63 - 1,
        "account": "unknown",
        "account_index": None,
        "meter_start_kwh": 12_345,
        "meter_stop_wh": 12_350_999,
        "consumed_kwh": 5,
        "consumed_wh": 5_321,
        "energy_wh": 5_321,
        "stop_time": "2026-11-21T13:50:00Z",
        "verdict": "review",
        "review": "unknown_account",
        "flags": ["no_start"],
        "recorded_at": RECORDED_AT,
    }


def test_undecodable_id_with_begin_register_in_kwh_past_the_wrap(site_tags):
    payload = {"transactionId": 2**31, "meterStop": 20_000_002_500,
               "transactionData": begin("19999999.5", unit="kWh")}
    result = stop_record("CP002", payload, site_tags, NOW)
    assert {k: result[k] for k in ("account_index", "meter_start_kwh", "consumed_kwh", "consumed_wh",
                                    "stop_time")} == {
        "account_index": None, "meter_start_kwh": 9_999_999, "consumed_kwh": 3, "consumed_wh": 3_000,
        "stop_time": None,
    }


@pytest.mark.parametrize("now, recorded_at", [
    (datetime(2026, 11, 21, 13, 52, 7, 123456, tzinfo=timezone.utc), "2026-11-21T13:52:07.123Z"),
    (datetime(2026, 11, 21, 14, 52, 7, 999999, tzinfo=BERLIN), "2026-11-21T13:52:07.999Z"),
    (datetime(2026, 7, 1, 0, 30, tzinfo=BERLIN), "2026-06-30T22:30:00.000Z"),
])
def test_recorded_at_is_utc_with_milliseconds(site_tags, now, recorded_at):
    assert stop_record("CP001", stop(), site_tags, now)["recorded_at"] == recorded_at


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=4,
)
sampled_values = st.fixed_dictionaries({}, optional={
    "value": json_scalars | st.from_regex(r"-?[0-9]{1,12}(\.[0-9]{1,4})?", fullmatch=True),
    "context": st.sampled_from(["Transaction.Begin", "Sample.Periodic"]) | json_scalars,
    "measurand": st.sampled_from(["Energy.Active.Import.Register", "Power.Active.Import"]) | json_scalars,
    "unit": st.sampled_from(["Wh", "kWh", "W"]) | json_scalars,
})
transaction_datas = json_values | st.lists(
    st.fixed_dictionaries({}, optional={"sampledValue": st.lists(sampled_values, max_size=3) | sampled_values}),
    max_size=2)


@settings(max_examples=examples(100))
@given(
    tid=st.integers(-(2**63), 2**63) | st.integers(0, transaction_id.INT32_MAX),
    meter_stop=st.integers(0, 10**14),
    extra=st.fixed_dictionaries({}, optional={
        "idTag": json_values, "reason": json_values, "timestamp": json_values,
        "transactionData": transaction_datas}),
)
def test_stop_record_never_raises(site_tags, tid, meter_stop, extra):
    payload = {"transactionId": tid, "meterStop": meter_stop, **extra}
    result = stop_record("CP001", payload, site_tags, NOW)
    assert (result["transaction_id"], result["meter_stop_wh"]) == (tid, meter_stop)
    assert "2015-01" <= ledger_month(payload.get("timestamp"), NOW, BERLIN) <= "2026-11"
    json.dumps(result, allow_nan=False)  # the record can be written as JSON


# --- ledger_month() ----------------------------------------------------------------------

UTC = timezone.utc


@pytest.mark.parametrize("stop_time, now, zone, month", [
    # a plausible stop time: its month in the site's zone
    ("2026-10-31T23:30:00Z", NOW, BERLIN, "2026-11"),
    ("2026-10-31T23:30:00Z", NOW, UTC, "2026-10"),
    ("2026-10-31T22:30:00Z", NOW, BERLIN, "2026-10"),
    ("2026-10-31T23:30:00+02:00", NOW, BERLIN, "2026-10"),
    ("2026-06-30T22:30:00.000Z", NOW, BERLIN, "2026-07"),          # summer time, UTC+2
    ("2026-06-30T21:59:59.999Z", NOW, BERLIN, "2026-06"),
    # a time without zone is taken as UTC
    ("2026-10-31T23:30:00", NOW, BERLIN, "2026-11"),
    ("2026-10-31T23:30:00", NOW, UTC, "2026-10"),
    ("2026-10-31T23:30", NOW, BERLIN, "2026-11"),
    # the plausible range: 2015-01-01 up to now, not after: a fast clock at the month's end
    # must not move a session into a bill that is not due yet
    ("2015-01-01T00:00:00Z", NOW, UTC, "2015-01"),
    ("2014-12-31T23:59:59Z", NOW, UTC, "2026-11"),
    ("2026-11-30T12:00:00Z", datetime(2026, 11, 30, 12, 0, tzinfo=UTC), UTC, "2026-11"),
    ("2026-12-01T00:00:00Z", datetime(2026, 11, 30, 23, 0, tzinfo=UTC), UTC, "2026-11"),
    ("2026-10-31T23:00:01Z", datetime(2026, 10, 31, 23, 0, tzinfo=UTC), BERLIN, "2026-11"),
])
def test_ledger_month_of_a_plausible_stop_time(stop_time, now, zone, month):
    assert ledger_month(stop_time, now, zone) == month


@pytest.mark.parametrize("stop_time, month", [
    ("2026-10-31T23:30:00Z", "2026-11"),   # winter time, UTC+1
    ("2026-06-30T22:30:00Z", "2026-07"),   # summer time, UTC+2
    ("2026-06-30T21:59:59Z", "2026-06"),
])
def test_ledger_month_without_zone_is_in_the_machines_zone_at_that_moment(stop_time, month, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert ledger_month(stop_time, NOW, None) == month
    finally:
        monkeypatch.undo()
        time.tzset()


LATE_NOW = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)    # already December in Berlin


@pytest.mark.parametrize("stop_time", [
    None,
    "",
    "garbage",
    "2026-10-31",                          # a date is not a date-time
    "2026-13-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "2099-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "2026-12-02T00:00:00Z",                # after now
    "2026-11-30T23:30:01Z",                # a second after now
    1793000000,
    ["2026-10-31T23:30:00Z"],
    "2026-10-31T23:30:00Z" + " " * 60,     # longer than 64 characters
])
def test_ledger_month_falls_back_to_now_in_the_site_zone(stop_time):
    assert ledger_month(stop_time, LATE_NOW, BERLIN) == "2026-12"
    assert ledger_month(stop_time, LATE_NOW, UTC) == "2026-11"


@settings(max_examples=examples(200))
@given(st.text(max_size=70) | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.+Z-]{2,20}", fullmatch=True))
def test_ledger_month_never_raises(stop_time):
    month = ledger_month(stop_time, NOW, BERLIN)
    assert "2015-01" <= month <= "2026-11"
    assert len(month) == 7 and month[4] == "-"


# --- start records and stops tied to them ---------------------------------------------------------

START_PAYLOAD = {"connectorId": 2, "idTag": "1111", "meterStart": 12_345_678, "timestamp": "2026-11-21T12:00:00Z"}


def test_the_start_record_holds_what_the_start_knows(site_tags):
    from shocpp.protocol.billing import start_record
    record = start_record("CP001", START_PAYLOAD, site_tags.lookup("1111"), TID, NOW)
    assert record == {"event": "start", "charger": "CP001", "connector_id": 2, "transaction_id": TID,
                      "id_tag": "1111", "account": "home", "account_index": 1, "meter_start_wh": 12_345_678,
                      "start_time": "2026-11-21T12:00:00Z", "recorded_at": RECORDED_AT}
    unknown = start_record("CP001", {**START_PAYLOAD, "idTag": 4711, "connectorId": "1"}, None, 12_345, NOW)
    assert (unknown["account"], unknown["account_index"], unknown["id_tag"], unknown["connector_id"]) == \
        ("unknown", 0, "4711", 1)


def start_of(site_tags, **changes):
    from shocpp.protocol.billing import start_record
    payload = {**START_PAYLOAD, **changes}
    account = site_tags.lookup(payload["idTag"])
    return start_record("CP001", payload, account,
                        transaction_id.encode(account.index if account else 0, payload["meterStart"]), NOW)


def test_a_stop_tied_to_its_start_is_billed_to_the_wh(site_tags):
    start = start_of(site_tags)
    result = stop_record("CP001", stop(), site_tags, NOW, [start])
    assert {k: result[k] for k in ("connector_id", "start_time", "duration_s", "meter_start_wh", "consumed_kwh",
                                   "consumed_wh", "energy_wh", "flags")} == {
        "connector_id": 2, "start_time": "2026-11-21T12:00:00Z", "duration_s": 6600, "meter_start_wh": 12_345_678,
        "consumed_kwh": 5, "consumed_wh": 5_321, "energy_wh": 5_321, "flags": []}


def test_a_546_wh_session_is_546_wh_not_one_kwh(site_tags):
    start = start_of(site_tags, meterStart=1_000_454)
    result = stop_record("CP001", stop(transactionId=10_001_000, meterStop=1_001_000), site_tags, NOW, [start])
    # consumed_kwh, kept for old scripts, says 1: whole kWh cross a kWh boundary
    assert (result["consumed_kwh"], result["energy_wh"], result["flags"]) == (1, 546, [])


def test_two_accounts_alternating_on_one_charger_are_billed_to_the_wh(site_tags):
    records, billed = [], []
    reading = 5_000_700
    for tag, tid_index, wh in [("1111", 1, 546), ("3333", 2, 1_061), ("1111", 1, 61), ("3333", 2, 999)]:
        start = start_of(site_tags, idTag=tag, meterStart=reading)
        records.append(start)
        tid = transaction_id.encode(tid_index, reading)
        reading += wh
        record = stop_record("CP001", stop(transactionId=tid, meterStop=reading, idTag=tag), site_tags, NOW, records)
        records.append(record)
        billed.append((record["account"], record["energy_wh"], record["flags"]))
    assert billed == [("home", 546, []), ("company-x", 1_061, []), ("home", 61, []), ("company-x", 999, [])]


def test_a_stop_with_id_minus_one_is_reconciled_with_the_chargers_open_session(site_tags):
    start = start_of(site_tags, idTag="3333")
    result = stop_record("CP001", stop(transactionId=-1, idTag=None), site_tags, NOW, [start])
    assert {k: result[k] for k in ("transaction_id", "account", "account_index", "consumed_kwh", "energy_wh",
                                   "flags")} == {
        "transaction_id": -1, "account": "company-x", "account_index": 2, "consumed_kwh": None,
        "energy_wh": 5_321, "flags": ["reconciled"]}


@pytest.mark.parametrize("meter_stop, stop_time, review, flags", [
    (12_345_000, "2026-11-21T13:50:00Z", "negative", []),               # the meter ran backwards
    (12_345_678 + 50_000 * 6600 // 3600, "2026-11-21T13:50:00Z", None, []),   # exactly 50 kW for 6,600 s
    (12_345_678 + 50_000 * 6600 // 3600 + 1, "2026-11-21T13:50:00Z", "implausible", []),
    # a stop before its start: the charger's clock was off, the receipt time counts (6,727 s)
    (12_350_999, "2026-11-21T11:59:59Z", None, ["clock_off"]),
    (12_345_678 + 50_000 * 6727 // 3600 + 1, "2026-11-21T11:59:59Z", "implausible", ["clock_off"]),
    (12_345_000, "2026-11-21T11:00:00Z", "negative", ["clock_off"]),
    (12_350_999, "garbage", None, []),                                  # no duration: nothing to judge by
])
def test_energy_no_meter_can_give_goes_to_review(site_tags, meter_stop, stop_time, review, flags):
    result = stop_record("CP001", stop(meterStop=meter_stop, timestamp=stop_time), site_tags, NOW,
                         [start_of(site_tags)])
    assert (result.get("review"), result["verdict"], result["flags"]) == (review, "review" if review else "billed",
                                                                         flags)
    assert result["energy_wh"] == meter_stop - 12_345_678  # lines to review are written all the same


def test_the_power_limit_is_a_setting(site_tags):
    over = stop(meterStop=12_345_678 + 60_000 * 6600 // 3600)
    assert stop_record("CP001", over, site_tags, NOW, [start_of(site_tags)])["review"] == "implausible"
    assert stop_record("CP001", over, site_tags, NOW, [start_of(site_tags)], max_power_kw=60)["verdict"] == "billed"


def test_consumed_wh_wraps_like_consumed_kwh():
    assert transaction_id.consumed_wh(9_999_999_999_500, 10_000_000_000_500) == 1_000
    assert transaction_id.consumed_wh(12_345_678, 12_000_000) == -345_678
