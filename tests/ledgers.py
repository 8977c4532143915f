"""Ledgers made for the tests: lines as shocpp and the bash original wrote them, and writing them."""

import json

from shocpp.tools import summary


def record(charger, tid, account, index, tag, start_kwh, stop_wh, kwh, stop_time, reason="Local", wh=None):
    """A ledger line as shocpp writes it (README, 'The billing ledger')."""
    rec = {"charger": charger, "transaction_id": tid, "account": account, "account_index": index,
           "id_tag": tag, "meter_start_kwh": start_kwh, "meter_stop_wh": stop_wh, "consumed_kwh": kwh}
    if wh is not None:
        rec["consumed_wh"] = wh
    rec.update({"stop_time": stop_time, "reason": reason, "recorded_at": stop_time[:-1] + ".412Z"})
    return rec


def legacy(account, begin, end, kwh, localtime, unixtime):
    """A record file of the bash original: string values only."""
    return {"localtime": localtime, "unixtime": str(unixtime), "account": account,
            "begin_kwh": str(begin), "end_kwh": str(end), "consumed_kwh": str(kwh)}


OCTOBER = [
    record("garage-left", 10012345, "home", 1, "1111", 12345, 12350999, 5, "2026-10-01T12:00:00Z", wh=5321),
    record("garage-right", 20020000, "company-x", 2, "3333", 20000, 20030500, 30, "2026-10-03T08:15:00Z",
           "EVDisconnected"),
    record("garage-left", 10012351, "home", 1, "2222", 12351, 12361000, 10, "2026-10-09T19:40:00Z"),
    record("garage-right", 20030, "unknown", 0, "DEADBEEF", 20030, 20037200, 7, "2026-10-12T07:00:00Z", "Remote"),
    record("garage-right", 20020037, "company-x", 2, "04A2B9C1D23E80", 20037, 20061999, 24, "2026-10-20T17:30:00Z"),
    # A transactionId no encoding makes (some chargers send 2**63-1): energy unknown.
    record("garage-left", 2**63 - 1, "unknown", None, "CAFE0001", None, 12370000, None, "2026-10-28T22:05:00Z"),
]


OCTOBER_LEGACY = legacy("home", 12342, 12345, 3, "2026-10-01 06:30:00", 1790836200)


def write_ledger(directory, month, lines):
    directory.mkdir(parents=True, exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    (directory / f"{month}.jsonl").write_text(text)


def write_legacy(directory, year, month, name, rec):
    where = directory / year / month
    where.mkdir(parents=True, exist_ok=True)
    path = where / name
    path.write_text(rec if isinstance(rec, str) else json.dumps(rec, separators=(",", ":")) + "\n")
    return path


def totals(doc):
    """[(account, sessions, Wh)] and the other totals, (sessions, Wh), from the JSON output; checks every
    total's kWh text is its Wh."""
    for t in doc["accounts"] + [doc[k] for k in ("accounts_total", "unknown_tags", "grand_total", "left_out")]:
        assert t["kwh"] == summary.kwh_text(t["wh"])
    accounts = [(a["account"], a["sessions"], a["wh"]) for a in doc["accounts"]]
    pick = lambda t: (t["sessions"], t["wh"])  # noqa: E731
    return accounts, pick(doc["accounts_total"]), pick(doc["unknown_tags"]), pick(doc["grand_total"])


def ledger_stop(tid=10012345, stop=12350000, stop_time="2026-11-01T12:00:00Z", charger="CP1", **more):
    return {"charger": charger, "transaction_id": tid, "account": "home", "account_index": 1,
            "meter_start_kwh": 12345, "meter_stop_wh": stop, "consumed_kwh": stop // 1000 - 12345,
            "stop_time": stop_time, "recorded_at": "2026-11-21T10:00:00.000Z", **more}


def lines(path):
    return [json.loads(l) for l in path.read_text().splitlines()]
