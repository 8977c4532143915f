"""bin/shocpp-summary as a process."""

import json
import subprocess

from conftest import BIN
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


# --- parsing --------------------------------------------------------------------------------


# --- adding up ------------------------------------------------------------------------------


# --- the table ------------------------------------------------------------------------------


# --- CSV and JSON ---------------------------------------------------------------------------


# --- damaged ledgers ------------------------------------------------------------------------


# --- choosing months and accounts -----------------------------------------------------------


# --- the ledger with start and stop lines -------------------------------------------------


# --- what chargers send cannot forge the bill ---------------------------------------------


# --- the bin script -------------------------------------------------------------------------

def test_help_of_the_bin_script(site):
    done = subprocess.run([str(BIN / "shocpp-summary"), "--help"], capture_output=True, text=True,
                          env=site.env, timeout=30)
    assert (done.returncode, done.stderr) == (0, "")
    assert "shocpp-summary --from 2026-01 --to 2026-06 --account company-x" in done.stdout
    assert "--format {table,text,csv,json,html}" in done.stdout
    assert "--statements DIR" in done.stdout


def test_the_bin_script_reads_the_site_ledger(site):
    write_ledger(site.accounting, "2026-10", OCTOBER)
    write_legacy(site.accounting, "2026", "10", "1790836200-1a2b.json", OCTOBER_LEGACY)
    done = subprocess.run([str(BIN / "shocpp-summary"), "2026", "10", "--format", "json"], capture_output=True,
                          text=True, env=site.env, timeout=30)
    assert (done.returncode, done.stderr) == (0, "")
    assert totals(json.loads(done.stdout)) == ([("company-x", 2, 54000), ("home", 3, 18321)], (5, 72321),
                                               (2, 7000), (7, 79321))
    table = subprocess.run([str(BIN / "shocpp-summary"), "2026", "10"], capture_output=True, env=site.env,
                           timeout=30)
    assert "company-x                              2  54.000  ████████████████████████" in table.stdout.decode()
