"""A site made for the statement's tests (tests/tools/test_statement.py, tests/system/test_statement_browser.py).

October 2026 in Europe/Berlin: the site's price changes on the 15th (local), company-x has its own
price; lines written before start records and a record of the bash original; a negative and an
implausible session; an idTag a spreadsheet would run; a session of an unknown tag. The expected
figures below are worked out by hand, not by the code under test.
"""

import json
from datetime import datetime

ZONE = "Europe/Berlin"
SITE = "Hof 7"
TAGS = [
    {"index": 1, "account": "home", "ids": ["1111", "2222"]},
    {"index": 2, "account": "company-x", "ids": ["3333", "=1+1"]},
]
TARIFFS = [
    {"from": "2026-01-01", "price_per_kwh": "0.3400", "currency": "EUR"},
    {"from": "2026-10-15", "price_per_kwh": "0.3600", "currency": "EUR"},
    {"from": "2026-01-01", "account": "company-x", "price_per_kwh": "0.2950", "currency": "EUR"},
    {"from": "2026-11-01", "account": "company-x", "price_per_kwh": "0.3100", "currency": "EUR"},
]
FORMULA_TAG = '=HYPERLINK("http://x.invalid","pay")'


def stop(charger, tid, account, index, tag, start_wh, stop_wh, start_time, stop_time, flags=(), **extra):
    """A stop line as shocpp writes it since start records (README, 'The billing ledger')."""
    wh = stop_wh - start_wh
    seconds = datetime.fromisoformat(stop_time) - datetime.fromisoformat(start_time)
    rec = {"event": "stop", "charger": charger, "transaction_id": tid, "account": account, "account_index": index,
           "id_tag": tag, "meter_start_kwh": start_wh // 1000, "meter_stop_wh": stop_wh,
           "consumed_kwh": stop_wh // 1000 - start_wh // 1000, "consumed_wh": wh, "connector_id": 1,
           "start_time": start_time, "meter_start_wh": start_wh, "duration_s": int(seconds.total_seconds()),
           "energy_wh": wh, "stop_time": stop_time, "reason": "Local", "flags": list(flags),
           "recorded_at": stop_time}
    rec.update(extra)
    return rec


def old_stop(charger, tid, account, index, tag, start_kwh, stop_wh, consumed_wh, stop_time):
    """A line written before start records: no event, start, duration or energy_wh."""
    return {"charger": charger, "transaction_id": tid, "account": account, "account_index": index, "id_tag": tag,
            "meter_start_kwh": start_kwh, "meter_stop_wh": stop_wh,
            "consumed_kwh": stop_wh // 1000 - start_kwh, "consumed_wh": consumed_wh, "stop_time": stop_time,
            "reason": "Local", "recorded_at": stop_time}


OCTOBER = [
    # home: the site's price, 0.3400 until the 14th, 0.3600 from the 15th (local days)
    stop("garage-left", 10001000, "home", 1, "1111", 1000000, 1005321, "2026-10-02T08:00:00Z",
         "2026-10-02T10:00:00Z"),                                     # 5.321 kWh x 0.34 = 1.809114 -> 1.81
    stop("garage-right", 20002000, "company-x", 2, FORMULA_TAG, 2000000, 2011000, "2026-10-03T07:00:00Z",
         "2026-10-03T09:00:00Z"),                                     # 11 kWh x 0.295 = 3.245 -> 3.25 (half-up)
    {"event": "start", "charger": "garage-right", "connector_id": 1, "transaction_id": 20002011, "id_tag": "3333",
     "account": "company-x", "account_index": 2, "meter_start_wh": 2011000, "start_time": "2026-10-16T07:00:00Z",
     "recorded_at": "2026-10-16T07:00:00Z"},
    stop("garage-left", 40, "unknown", 0, "DEADBEEF", 3000000, 3002000, "2026-10-10T12:00:00Z",
         "2026-10-10T13:00:00Z"),                                     # unknown tag: 2 kWh x 0.34 = 0.68
    stop("garage-left", 10001008, "home", 1, "2222", 1008000, 1009125, "2026-10-14T21:30:00Z",
         "2026-10-14T22:30:00Z"),                                     # 23:30 on the 14th: 1.125 x 0.34 = 0.3825 -> 0.38
    stop("garage-left", 10001009, "home", 1, "1111", 1009125, 1009250, "2026-10-14T22:30:00Z",
         "2026-10-15T01:00:00Z"),                                     # 00:30 on the 15th: 0.125 x 0.36 = 0.045 -> 0.05
    stop("garage-right", 20002011, "company-x", 2, "3333", 2011000, 2012500, "2026-10-16T07:00:00Z",
         "2026-10-16T08:00:00Z"),                                     # its own price: 1.5 x 0.295 = 0.4425 -> 0.44
    stop("garage-right", 20002012, "company-x", 2, "3333", 2012500, 2912500, "2026-10-17T07:00:00Z",
         "2026-10-17T07:10:00Z", flags=("implausible",)),             # to review: 900 kWh x 0.295 = 265.50
    old_stop("garage-left", 10001009, "home", 1, "1111", 1009, 1016750, 7500,
             "2026-10-20T19:40:00Z"),                                 # before start records: 7.5 x 0.36 = 2.70
    stop("garage-left", 10001016, "home", 1, "1111", 1016750, 1015750, "2026-10-21T08:00:00Z",
         "2026-10-21T09:00:00Z", flags=("negative",)),                # to review: -1 kWh x 0.36 = -0.36
    stop("garage-left", 10001015, "home", 1, "2222", 1015750, 1015750, "2026-10-26T08:00:00Z",
         "2026-10-26T09:00:00Z", energy_wh=None),                     # energy unknown: no cost
]
# The bash original's record: its localtime is the stop, local. 3 kWh x 0.34 = 1.02
LEGACY = ("2026", "10", "1791181800-0001.json",
          {"localtime": "2026-10-05 06:30:00", "unixtime": "1791181800", "account": "home", "begin_kwh": "1005",
           "end_kwh": "1008", "consumed_kwh": "3"})
NOVEMBER = [
    stop("garage-right", 20002912, "company-x", 2, "3333", 2912500, 2922500, "2026-11-02T07:00:00Z",
         "2026-11-02T09:00:00Z"),                                     # its new price: 10 x 0.31 = 3.10
]

# (start, stop in the site's zone, energy_wh, price, cost), by start; None: unknown
HOME = [
    ("2026-10-02T10:00:00+02:00", "2026-10-02T12:00:00+02:00", 5321, "0.3400", "1.81"),
    (None, "2026-10-05T06:30:00+02:00", 3000, "0.3400", "1.02"),
    ("2026-10-14T23:30:00+02:00", "2026-10-15T00:30:00+02:00", 1125, "0.3400", "0.38"),
    ("2026-10-15T00:30:00+02:00", "2026-10-15T03:00:00+02:00", 125, "0.3600", "0.05"),
    (None, "2026-10-20T21:40:00+02:00", 7500, "0.3600", "2.70"),
    ("2026-10-26T09:00:00+01:00", "2026-10-26T10:00:00+01:00", None, "0.3600", None),
]
HOME_REVIEW = [("2026-10-21T10:00:00+02:00", "2026-10-21T11:00:00+02:00", -1000, "0.3600", "-0.36")]
HOME_TOTAL = (6, 17071, "5.96")
COMPANY = [
    ("2026-10-03T09:00:00+02:00", "2026-10-03T11:00:00+02:00", 11000, "0.2950", "3.25"),
    ("2026-10-16T09:00:00+02:00", "2026-10-16T10:00:00+02:00", 1500, "0.2950", "0.44"),
]
COMPANY_REVIEW = [("2026-10-17T09:00:00+02:00", "2026-10-17T09:10:00+02:00", 900000, "0.2950", "265.50")]
COMPANY_TOTAL = (2, 12500, "3.69")
COMPANY_YEAR_TOTAL = (3, 22500, "6.79")   # with November's session at its new price
UNKNOWN = [("2026-10-10T14:00:00+02:00", "2026-10-10T15:00:00+02:00", 2000, "0.3400", "0.68")]


def write_site(root, tariffs=True):
    """The ledger, tags.json and (unless not wanted) tariffs.json under root; the environment to use them."""
    accounting = root / "accounting"
    accounting.mkdir(parents=True, exist_ok=True)
    for month, lines in (("2026-10", OCTOBER), ("2026-11", NOVEMBER)):
        (accounting / f"{month}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    year, month, name, record = LEGACY
    (accounting / year / month).mkdir(parents=True, exist_ok=True)
    (accounting / year / month / name).write_text(json.dumps(record, separators=(",", ":")) + "\n")
    (root / "tags.json").write_text(json.dumps(TAGS))
    if tariffs:
        (root / "tariffs.json").write_text(json.dumps(TARIFFS, indent=1))
    return {"SHOCPP_ACCOUNTINGDIR": str(accounting), "SHOCPP_TAGSFILE": str(root / "tags.json"),
            "SHOCPP_TARIFFSFILE": str(root / "tariffs.json"), "SHOCPP_SITE_NAME": SITE, "TZ": ZONE}
