"""shocpp-summary's parsing, adding up and rendering, in-process."""

import csv
import io
import json
import re
import time
from datetime import date, datetime
from decimal import Decimal

import pytest

from shocpp.protocol import review

from shocpp import exits
from shocpp.tools import summary
from shocpp.tools.summary import BadRecord, Session, aggregate, bar, parse_legacy, parse_line

from ledgers import OCTOBER, OCTOBER_LEGACY, legacy, record, totals, write_ledger, write_legacy


NOVEMBER = [
    record("garage-left", 10012370, "home", 1, "1111", 12370, 12381400, 11, "2026-11-02T09:00:00Z"),
    record("garage-right", 20020062, "company-x", 2, "3333", 20062, 20066100, 4, "2026-11-05T10:00:00Z",
           "EVDisconnected"),
    # The meter ran backwards (replaced): summed as is, flagged.
    record("garage-right", 20020066, "company-x", 2, "3333", 20066, 20064000, -2, "2026-11-07T10:00:00Z"),
]


def stop(charger, tid, account, index, start_wh, stop_wh, start_time, stop_time, flags=(), **extra):
    """A stop line of the ledger with start and stop lines (README, 'The billing ledger'), matched to its start
    unless `no_start` is among the flags."""
    wh = stop_wh - start_wh
    rec = {"event": "stop", "charger": charger, "transaction_id": tid, "account": account, "account_index": index,
           "id_tag": "1111", "meter_start_kwh": start_wh // 1000, "meter_stop_wh": stop_wh,
           "consumed_kwh": stop_wh // 1000 - start_wh // 1000, "consumed_wh": wh}
    if "no_start" not in flags:
        seconds = datetime.fromisoformat(stop_time) - datetime.fromisoformat(start_time)  # ISO times only
        rec.update({"connector_id": 1, "start_time": start_time, "meter_start_wh": start_wh,
                    "duration_s": int(seconds.total_seconds())})
    rec.update({"energy_wh": wh, "stop_time": stop_time, "reason": "Local", "flags": list(flags),
                "recorded_at": stop_time})
    rec.update(extra)
    return rec


def start(charger, tid, account, index, start_wh, start_time):
    return {"event": "start", "charger": charger, "connector_id": 1, "transaction_id": tid, "id_tag": "1111",
            "account": account, "account_index": index, "meter_start_wh": start_wh, "start_time": start_time,
            "recorded_at": start_time}


@pytest.fixture
def ledger_dir(tmp_path):
    """October and November 2026, legacy records in October, and months around a year boundary."""
    d = tmp_path / "accounting"
    write_ledger(d, "2026-10", OCTOBER)
    write_legacy(d, "2026", "10", "1790836200-1a2b.json", OCTOBER_LEGACY)
    write_ledger(d, "2026-11", NOVEMBER)
    write_ledger(d, "2025-11", [record("garage-left", 10000100, "home", 1, "1111", 100, 200000, 100,
                                       "2025-11-20T10:00:00Z")])
    write_ledger(d, "2025-12", [record("garage-left", 2130000500, "last", 213, "9999", 500, 509000, 9,
                                       "2025-12-30T10:00:00Z")])
    write_legacy(d, "2026", "01", "1767524400-00ff.json",
                 legacy("company-x", 19990, 20000, 10, "2026-01-04 11:00:00", 1767524400))
    write_ledger(d, "2026-01", [record("garage-left", 10000509, "home", 1, "2222", 509, 513100, 4,
                                       "2026-01-20T18:00:00Z")])
    write_legacy(d, "2026", "02", "1770714000-0001.json",
                 legacy("home", 513, 713, 200, "2026-02-10 09:00:00", 1770714000))
    return d


def in_zone(monkeypatch, name):
    monkeypatch.setenv("TZ", name)
    time.tzset()


def run_main(capsys, directory, *argv, today=date(2026, 12, 3)):
    status = summary.main(list(argv), env={"SHOCPP_ACCOUNTINGDIR": str(directory)}, today=today)
    out, err = capsys.readouterr()
    return status, out, err


# --- parsing --------------------------------------------------------------------------------

def test_a_ledger_line_as_written_by_shocpp():
    line = json.dumps(OCTOBER[0])
    assert parse_line(line, "2026-10") == Session(
        account="home", energy_wh=5321, stop_time="2026-10-01T12:00:00Z", charger="garage-left", id_tag="1111",
        start_kwh=12345, stop_wh=12350999, consumed_kwh=5, consumed_wh=5321, reason="Local",
        transaction_id=10012345, source="ledger", month="2026-10", id=review.line_id(OCTOBER[0]))
    assert parse_line(line.encode()) == parse_line(line)


def test_a_ledger_line_with_unknown_energy_and_no_tag_or_reason():
    rec = dict(OCTOBER[5])
    del rec["id_tag"], rec["reason"]
    session = parse_line(json.dumps(rec))
    assert (session.account, session.energy_wh, session.flags, session.status) == ("unknown", None, (), "billed")
    assert (session.id_tag, session.reason, session.meter_start, session.meter_stop) == (None, None, None, "12370.000")


def test_a_record_of_the_bash_original():
    text = '{"localtime":"2024-03-05 18:22:10","unixtime":"1709659330","account":"company-x",' \
           '"begin_kwh":"1234","end_kwh":"1250","consumed_kwh":"16"}\n'
    assert parse_legacy(text, "2024-03") == Session(
        account="company-x", energy_wh=16000, stop_time="2024-03-05 18:22:10", start_kwh=1234, stop_kwh=1250,
        consumed_kwh=16, source="legacy", month="2024-03")


def test_the_bash_original_wrote_an_empty_account_for_an_unknown_index():
    session = parse_legacy(json.dumps(legacy("", 10, 14, 4, "2024-03-05 18:22:10", 1709659330)))
    assert (session.account, session.energy_wh) == ("unknown", 4000)


@pytest.mark.parametrize("line, problem", [
    ('{"charger": "garage-left", "transaction_id": 1001', "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"charger": "garage-left", "consumed_kwh": 5}', "no account"),
    ('{"account": "", "consumed_kwh": 5}', "no account"),
    ('{"account": "home", "meter_stop_wh": 5000}', "no energy_wh, consumed_wh or consumed_kwh"),
    ('{"event": "stop", "account": "home", "energy_wh": 5.5}', "energy_wh 5.5 is not a whole number or null"),
    ('{"event": "stop", "account": "home", "energy_wh": "546"}', 'energy_wh "546" is not a whole number or null'),
    ('{"event": "pause", "account": "home", "energy_wh": 5}', 'event "pause" is neither start, stop nor decision'),
    ('{"event": null, "account": "home", "energy_wh": 5}', "event null is neither start, stop nor decision"),
    ('{"event": "decision", "decision": "maybe", "line": "x"}', "a decision without the id of its line"),
    ('{"event": "stop", "energy_wh": 5}', "no account"),
    ('{"account": "home", "consumed_kwh": "5"}', 'consumed_kwh "5" is not a whole number or null'),
    ('{"account": "home", "consumed_kwh": 5.5}', "consumed_kwh 5.5 is not a whole number or null"),
    ('{"account": "home", "consumed_kwh": true}', "consumed_kwh true is not a whole number or null"),
    (b'{"account": "h\xffme", "consumed_kwh": 5}', "not JSON"),
    ("[" * 100_000, "not JSON"),
])
def test_a_ledger_line_that_cannot_be_used(line, problem):
    with pytest.raises(BadRecord) as caught:
        parse_line(line)
    assert str(caught.value).startswith(problem)


@pytest.mark.parametrize("text, problem", [
    ('{"localtime":"2024-03-05 18:22:10","account":"home","consumed_kwh":"1x"}', 'consumed_kwh "1x" is not'),
    ('{"localtime":"2024-03-05 18:22:10","account":"home"}', "no consumed_kwh"),
    ('{"localtime":"2024-03-05 18:22:10","consumed_kwh":"3"}', "no account"),
    ("", "not JSON"),
])
def test_a_legacy_record_that_cannot_be_used(text, problem):
    with pytest.raises(BadRecord) as caught:
        parse_legacy(text)
    assert str(caught.value).startswith(problem)


# --- adding up ------------------------------------------------------------------------------

def test_accounts_sorted_by_energy_then_name_and_unknown_apart():
    # Lines waiting for review (c, -1000 Wh; a, 1000 kWh), rejected or repeats are in no total; a flag alone
    # (no_start) does not keep a line out.
    sessions = [Session("b", 5000), Session("c", 9000), Session("a", 2000), Session("a", 3000),
                Session("unknown", 7000), Session("unknown", None),
                Session("c", -1000, status="to_review", review_reason="negative"),
                Session("b", 1, flags=("no_start",)),
                Session("a", 10**6, status="to_review", review_reason="implausible"),
                Session("a", 10, status="rejected"), Session("a", 20, status="repeat"),
                Session("c", 30, status="accepted")]
    s = aggregate(sessions, (2026, 10), (2026, 10))
    assert [(name, t.sessions, t.wh, t.kwh) for name, t in s.accounts] == [
        ("c", 2, 9030, "9.030"), ("b", 2, 5001, "5.001"), ("a", 2, 5000, "5.000")]
    assert (s.unknown.sessions, s.unknown.wh, s.unknown.unknown_energy) == (2, 7000, 1)
    assert (s.accounts_total.sessions, s.accounts_total.wh) == (6, 19031)
    assert (s.grand_total.sessions, s.grand_total.wh, s.grand_total.kwh) == (8, 26031, "26.031")
    assert (s.left_out.sessions, s.left_out.wh) == (3, 999010)
    assert [(r.account, r.energy_wh) for r in s.review] == [("c", -1000), ("a", 10**6)]
    assert len(s.counted) == 8


def eighths(text):
    return 8 * text.count("█") + sum(summary.EIGHTHS.index(c) for c in text if c != "█")


def test_bars_are_proportional_to_the_largest():
    assert bar(54, 54) == "█" * 24
    assert bar(27, 54) == "█" * 12
    assert bar(18, 54) == "█" * 8
    assert bar(7, 54) == "███▏"           # 7/54 of 192 eighths is 24.9: 25
    assert bar(1, 1000) == "▏"            # any energy at all shows
    assert bar(0, 54) == bar(-2, 54) == bar(5, 0) == ""
    for kwh in range(1, 1001, 37):
        assert eighths(bar(kwh, 1000)) == max(1, round(kwh * 192 / 1000))


# --- the table ------------------------------------------------------------------------------

def test_the_table_of_a_month(capsys, ledger_dir):
    # The issue changed this: kWh with three decimals from the Wh (home is 18.321, no longer 18), times in
    # the local zone, the columns start to note.
    status, out, err = run_main(capsys, ledger_dir, "2026", "10")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[:13] == [
        "Energy charged in October 2026",
        "",
        "account                         sessions     kWh",
        "company-x                              2  54.000  " + "█" * 24,
        "home                                   3  18.321  " + "█" * 8 + "▏",   # 18321/54000 of 192 eighths: 65
        "-" * 48,
        "accounts total                         5  72.321",
        "unknown tags                           2   7.000  ███▏",
        "grand total, with unknown tags         7  79.321",
        "",
        "1 session had unknown energy: shown as '?', counted as 0 kWh.",
        "",
        "Sessions",
    ]
    sessions = lines[14:]
    assert sessions[0].split() == ["start", "stop", "duration", "charger", "connector", "account", "tag", "meter",
                                   "start", "meter", "stop", "kWh", "note"]
    assert sessions[2].split() == ["-", "2026-10-01", "06:30", "UTC", "-", "-", "-", "home", "-", "12342", "12345",
                                   "3.000", "legacy"]
    assert sessions[3].split() == ["-", "2026-10-01", "12:00", "UTC", "-", "garage-left", "-", "home", "1111",
                                   "12345", "12350.999", "5.321"]
    assert sessions[8].split() == ["-", "2026-10-28", "22:05", "UTC", "-", "garage-left", "-", "unknown",
                                   "CAFE0001", "-", "12370.000", "?", "energy", "unknown"]
    assert len(sessions) == 2 + 7 and "To review" not in out
    header = sessions[0]
    edges = [header.index(title) + len(title) for title in ("duration", "connector", "meter start", "meter stop",
                                                            "kWh")]
    for line in sessions[2:]:
        line += " "  # a row without a note ends at its kWh
        assert [(line[edge - 1] != " ", line[edge]) for edge in edges] == [(True, " ")] * 5, line


def test_negative_consumption_is_left_out_and_listed_to_review(capsys, ledger_dir):
    # The issue changed this: an old line's negative consumption is left out of the totals (company-x 4.000,
    # no longer 2) and listed under To review.
    status, out, _ = run_main(capsys, ledger_dir, "2026", "11")
    assert status == 0
    assert "home                                   1  11.000  " + "█" * 24 in out
    assert "company-x                              1   4.000  ████████▊" in out  # 4/11 of 192 eighths: 70
    assert "grand total, with unknown tags         2  15.000" in out
    assert "1 line (-2.000 kWh) is waiting for your decision, in no total: see To review below." in out
    sessions, waiting = out.split("\nTo review\n")
    assert "20064.000" not in sessions
    assert waiting.splitlines()[-1].split()[-17:-13] == ["company-x", "3333", "20020066", "-2.000"]
    assert waiting.splitlines()[-1].endswith("the stop reading is below the start reading (a meter replaced or reset)")


def test_a_month_without_sessions(capsys, ledger_dir):
    status, out, err = run_main(capsys, ledger_dir, "2027", "03")
    assert (status, err) == (0, "")
    assert out == "Energy charged in March 2027\n\nNo sessions.\n"


# --- CSV and JSON ---------------------------------------------------------------------------

def test_csv_is_rfc_4180_and_holds_every_session(capsysbinary, ledger_dir):
    status = summary.main(["2026", "10", "--format", "csv"], env={"SHOCPP_ACCOUNTINGDIR": str(ledger_dir)})
    raw = capsysbinary.readouterr().out
    assert status == 0
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n") == 8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert list(rows[0]) == list(summary.CSV_FIELDS)
    # one column a meaning: one energy (kwh), one pair of readings, one of flags (issue 19)
    assert list(rows[0]) == ["id", "month", "start_time", "stop_time", "duration_s", "charger", "connector_id",
                             "account", "id_tag", "transaction_id", "meter_start_kwh", "meter_stop_kwh", "kwh",
                             "stop_reason", "source", "flags", "status", "review_reason", "counted"]
    assert rows[0] == {"id": "", "month": "2026-10", "start_time": "", "stop_time": "2026-10-01 06:30:00",
                       "duration_s": "", "charger": "", "connector_id": "", "account": "home", "id_tag": "",
                       "transaction_id": "", "meter_start_kwh": "12342", "meter_stop_kwh": "12345", "kwh": "3.000",
                       "stop_reason": "", "source": "legacy", "flags": "", "status": "billed", "review_reason": "",
                       "counted": "yes"}
    assert rows[1] == {"id": review.line_id(OCTOBER[0]), "month": "2026-10", "start_time": "",
                       "stop_time": "2026-10-01T12:00:00Z", "duration_s": "", "charger": "garage-left",
                       "connector_id": "", "account": "home", "id_tag": "1111", "transaction_id": "10012345",
                       "meter_start_kwh": "12345", "meter_stop_kwh": "12350.999", "kwh": "5.321",
                       "stop_reason": "Local", "source": "ledger", "flags": "", "status": "billed",
                       "review_reason": "", "counted": "yes"}
    assert rows[6]["kwh"] == ""  # energy unknown
    per_account = {}
    for row in rows:
        per_account[row["account"]] = per_account.get(row["account"], 0) + int(row["kwh"].replace(".", "") or 0)
    assert per_account == {"home": 18321, "company-x": 54000, "unknown": 7000}


def test_csv_quotes_what_needs_quoting():
    sessions = [Session("Müller, Anna", 3, stop_time="2026-10-01T12:00:00Z", id_tag='say "hi"', reason="a\nb")]
    text = summary.render_csv(aggregate(sessions, (2026, 10), (2026, 10)))
    assert text.splitlines()[1].startswith(',,,2026-10-01T12:00:00Z,,,,"Müller, Anna","say ""hi""",')
    row = list(csv.reader(io.StringIO(text, newline="")))[1]
    assert (row[12], row[13], row[-3:]) == ("0.003", "a\nb", ["billed", "", "yes"])
    assert row[7:9] == ["Müller, Anna", 'say "hi"']


def test_json_has_the_totals_and_the_sessions(capsys, ledger_dir):
    status, out, err = run_main(capsys, ledger_dir, "2026", "10", "--format", "json")
    assert (status, err) == (0, "")
    doc = json.loads(out)
    assert (doc["from"], doc["to"], doc["account_filter"], doc["skipped_lines"]) == ("2026-10", "2026-10", None, 0)
    # The issue changed this: totals in Wh with their kWh text ("72.321"), no longer whole kWh (72).
    assert totals(doc) == ([("company-x", 2, 54000), ("home", 3, 18321)], (5, 72321), (2, 7000), (7, 79321))
    assert (doc["accounts_total"]["kwh"], doc["grand_total"]["kwh"]) == ("72.321", "79.321")
    assert doc["unknown_tags"]["sessions_unknown_energy"] == 1
    assert (doc["left_out"], doc["to_review"]) == (
        {"sessions": 0, "wh": 0, "kwh": "0.000", "sessions_unknown_energy": 0}, 0)
    assert doc["sessions"][0] == {
        "month": "2026-10", "stop_time": "2026-10-01 06:30:00", "charger": None, "account": "home", "id_tag": None,
        "meter_start_kwh": 12342, "meter_stop_kwh": 12345, "consumed_kwh": 3, "consumed_wh": None, "reason": None,
        "transaction_id": None, "source": "legacy", "start_time": None, "duration_s": None,
        "connector_id": None, "meter_start_wh": None, "meter_stop_wh": None, "energy_wh": 3000, "kwh": "3.000",
        "flags": [], "id": None, "status": "billed", "review_reason": None, "repeat_of": None, "counted": True}
    assert doc["sessions"][1]["meter_stop_kwh"] == 12350.999
    assert (doc["sessions"][1]["meter_stop_wh"], doc["sessions"][1]["consumed_wh"]) == (12350999, 5321)
    assert doc["sessions"][6]["transaction_id"] == 2**63 - 1
    assert [s["consumed_kwh"] for s in doc["sessions"]] == [3, 5, 30, 10, 7, 24, None]
    assert [s["energy_wh"] for s in doc["sessions"]] == [3000, 5321, 30000, 10000, 7000, 24000, None]
    assert [s["kwh"] for s in doc["sessions"]] == ["3.000", "5.321", "30.000", "10.000", "7.000", "24.000", None]


def test_json_of_a_month_without_sessions(capsys, ledger_dir):
    _, out, _ = run_main(capsys, ledger_dir, "2027", "03", "--format", "json")
    doc = json.loads(out)
    assert (doc["sessions"], totals(doc)) == ([], ([], (0, 0), (0, 0), (0, 0)))


# --- costs ----------------------------------------------------------------------------------

# November 2026 in Europe/Berlin (UTC+1): the site's price changes on the 15th (local), company-x has its own.
PRICED_TARIFFS = [
    {"from": "2026-01-01", "price_per_kwh": "0.3400", "currency": "EUR"},
    {"from": "2026-11-15", "price_per_kwh": "0.3600", "currency": "EUR"},
    {"from": "2026-01-01", "account": "company-x", "price_per_kwh": "0.2950", "currency": "EUR"},
]
PRICED_NOVEMBER = [
    stop("garage-left", 1, "home", 1, 1000, 2125, "2026-11-14T22:30:00Z", "2026-11-14T23:30:00Z"),
    # 23:30 local on the 14th: 1.125 kWh x 0.34 = 0.3825 -> 0.38
    stop("garage-left", 2, "home", 1, 2125, 2250, "2026-11-14T23:30:00Z", "2026-11-15T01:00:00Z"),
    # 00:30 local on the 15th: 0.125 x 0.36 = 0.045 -> 0.05 (half-up)
    stop("garage-left", 3, "home", 1, 2250, 7571, "2026-11-20T10:00:00Z", "2026-11-20T12:00:00Z"),
    # 5.321 x 0.36 = 1.91556 -> 1.92; home: 0.38 + 0.05 + 1.92 = 2.35 (2.34306 unrounded: no cost of the sum)
    stop("garage-left", 4, "home", 1, 7571, 6571, "2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z",
         flags=("negative",)),                                         # left out
    stop("garage-right", 5, "company-x", 2, 0, 11000, "2026-11-03T07:00:00Z", "2026-11-03T09:00:00Z"),
    # its own price: 11 x 0.295 = 3.245 -> 3.25 (half-up)
    stop("garage-right", 6, "company-x", 2, 11000, 911000, "2026-11-04T07:00:00Z", "2026-11-04T07:10:00Z",
         flags=("implausible",)),                                      # left out
    stop("garage-left", 7, "unknown", 0, 0, 2000, "2026-11-10T12:00:00Z", "2026-11-10T13:00:00Z"),
]


def test_json_has_each_accounts_cost_as_its_statement_has_it(capsys, tmp_path, monkeypatch):
    in_zone(monkeypatch, "Europe/Berlin")
    write_ledger(tmp_path / "accounting", "2026-11", PRICED_NOVEMBER)
    tags = json.dumps([{"index": 1, "account": "home", "ids": ["1111"]}, {"index": 2, "account": "company-x",
                                                                         "ids": ["3333"]}])
    (tmp_path / "tags.json").write_text(tags)
    (tmp_path / "tariffs.json").write_text(json.dumps(PRICED_TARIFFS))
    env = {"SHOCPP_ACCOUNTINGDIR": str(tmp_path / "accounting"), "SHOCPP_TAGSFILE": str(tmp_path / "tags.json"),
           "SHOCPP_TARIFFSFILE": str(tmp_path / "tariffs.json")}

    def costs(*argv):
        assert summary.main(["2026", "11", "--format", "json", *argv], env=env, today=date(2026, 12, 3)) == 0
        doc = json.loads(capsys.readouterr().out)
        return ([(a["account"], a["wh"], a["cost"], a["currency"]) for a in doc["accounts"]],
                (doc["accounts_total"]["wh"], doc["accounts_total"]["cost"], doc["accounts_total"]["currency"]))

    assert costs() == ([("company-x", 11000, "3.25", "EUR"), ("home", 6571, "2.35", "EUR")], (17571, "5.60", "EUR"))
    for account in ("home", "company-x"):
        assert summary.main(["2026", "11", "--account", account, "--statement", "--format", "json"], env=env,
                            today=date(2026, 12, 3)) == 0
        assert json.loads(capsys.readouterr().out)["total_cost"] == {"home": "2.35", "company-x": "3.25"}[account]
    assert costs("--account", "home") == ([("home", 6571, "2.35", "EUR")], (6571, "2.35", "EUR"))

    (tmp_path / "tariffs.json").unlink()
    (tmp_path / "tags.json").unlink()  # without prices, tags.json is not read either
    assert costs() == ([("company-x", 11000, None, None), ("home", 6571, None, None)], (17571, None, None))

    # a broken tariffs file stops the JSON, as it stops a statement
    (tmp_path / "tags.json").write_text(tags)
    (tmp_path / "tariffs.json").write_text('[{"from": "2026-01-01", "price_per_kwh": 0.34, "currency": "EUR"}]')
    assert summary.main(["2026", "11", "--format", "json"], env=env, today=date(2026, 12, 3)) == exits.USAGE
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"shocpp-summary: {tmp_path / 'tariffs.json'}") and "price_per_kwh" in err


def test_accounts_in_several_currencies_have_no_total_cost():
    assert summary.total_cost({"a": (Decimal("1.05"), "EUR"), "b": (Decimal("0.00"), None)}) == (Decimal("1.05"),
                                                                                                   "EUR")
    assert summary.total_cost({"a": (Decimal("1.05"), "EUR"), "b": (Decimal("2.00"), "CHF")}) == (None, None)


# --- damaged ledgers ------------------------------------------------------------------------

def test_lines_that_cannot_be_read_are_named_skipped_and_counted(capsys, tmp_path):
    d = tmp_path / "accounting"
    good = [json.dumps(r) for r in OCTOBER[:3]]
    lines = [good[0], '{"charger": "garage-left", "transaction_id": 10012351, "acc', good[1], "",
             '{"charger": "garage-left", "consumed_kwh": 4}', good[2]]
    write_ledger(d, "2026-10", lines)
    with open(d / "2026-10.jsonl", "ab") as f:
        f.write(b'{"account": "h\xffme", "consumed_kwh": 5}\n')
    write_legacy(d, "2026", "10", "1790836200-1a2b.json", OCTOBER_LEGACY)
    broken = write_legacy(d, "2026", "10", "1790836300-1a2c.json", '{"localtime":"2026-10-01 06:31:40",\n"acc')
    status, out, err = run_main(capsys, d, "2026", "10", "--format", "json")
    assert status == 0
    ledger_file = d / "2026-10.jsonl"
    reported = err.splitlines()
    assert len(reported) == 5
    assert reported[0].startswith(f"shocpp-summary: {broken}:2: not JSON (Unterminated string")
    assert reported[1].startswith(f"shocpp-summary: {ledger_file}:2: not JSON (Unterminated string")
    assert reported[2] == f"shocpp-summary: {ledger_file}:5: no account; skipped"
    assert reported[3] == f"shocpp-summary: {ledger_file}:7: not JSON ('utf-8' codec can't decode byte 0xff " \
                          "in position 14: invalid start byte); skipped"
    assert reported[4] == "shocpp-summary: 4 lines skipped; the summary covers the rest"
    assert all(line.endswith("; skipped") for line in reported[:4])
    doc = json.loads(out)
    assert doc["skipped_lines"] == 4
    assert [(p["file"], p["line"]) for p in doc["skipped"]] == [
        (str(broken), 2), (str(ledger_file), 2), (str(ledger_file), 5), (str(ledger_file), 7)]
    assert totals(doc) == ([("company-x", 1, 30000), ("home", 3, 18321)], (4, 48321), (0, 0), (4, 48321))


def test_the_table_says_lines_were_skipped(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-10", [OCTOBER[0], "garbage"])
    _, out, err = run_main(capsys, d, "2026", "10")
    assert "1 ledger line could not be read and was skipped (named on stderr)." in out
    assert "grand total, with unknown tags         1  5.321" in out
    assert "2026-10.jsonl:2: not JSON" in err


def test_a_last_line_without_newline_was_never_confirmed(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-10", OCTOBER[:2])
    with open(d / "2026-10.jsonl", "a") as f:
        f.write(json.dumps(OCTOBER[2]))  # complete JSON, but the crash came before its newline
    _, out, err = run_main(capsys, d, "2026", "10", "--format", "json")
    assert err.splitlines()[0] == f"shocpp-summary: {d / '2026-10.jsonl'}:3: no newline at the end: a line cut " \
                                  "by a crash, never confirmed (the next append removes it); skipped"
    doc = json.loads(out)
    assert (doc["skipped_lines"], totals(doc)[3]) == (1, (2, 35321))


def test_a_missing_ledger_directory_is_an_error(capsys, tmp_path):
    status, out, err = run_main(capsys, tmp_path / "nowhere", "2026", "10")
    assert (status, out) == (exits.FAILED, "")
    assert err == f"shocpp-summary: the ledger directory {tmp_path / 'nowhere'} does not exist " \
                  "(SHOCPP_ACCOUNTINGDIR)\n"


# --- choosing months and accounts -----------------------------------------------------------

def test_account_filter(capsys, ledger_dir):
    _, out, _ = run_main(capsys, ledger_dir, "2026", "10", "--account", "home", "--format", "json")
    doc = json.loads(out)
    assert doc["account_filter"] == "home"
    assert totals(doc) == ([("home", 3, 18321)], (3, 18321), (0, 0), (3, 18321))
    assert {s["account"] for s in doc["sessions"]} == {"home"}
    _, out, _ = run_main(capsys, ledger_dir, "2026", "10", "--account", "home")
    assert out.splitlines()[:7] == [
        "Energy charged in October 2026, account home",
        "",
        "account         sessions     kWh",
        "home                   3  18.321  " + "█" * 24,
        "-" * 32,
        "accounts total         3  18.321",
        "",
    ]


def test_account_filter_unknown_tags(capsys, ledger_dir):
    _, out, _ = run_main(capsys, ledger_dir, "2026", "10", "--account", "unknown")
    assert out.splitlines()[2:5] == [
        "account       sessions    kWh",
        "unknown tags         2  7.000  " + "█" * 24,
        "",
    ]


def test_account_filter_without_sessions_names_the_accounts(capsys, ledger_dir):
    status, out, err = run_main(capsys, ledger_dir, "2026", "10", "--account", "Home")
    assert status == 0
    assert "No sessions." in out
    assert err == "shocpp-summary: no sessions of 'Home' (accounts with sessions: company-x, home, unknown)\n"


def test_from_to_across_a_year_boundary(capsys, ledger_dir):
    _, out, _ = run_main(capsys, ledger_dir, "--from", "2025-12", "--to", "2026-01", "--format", "json")
    doc = json.loads(out)
    assert (doc["from"], doc["to"]) == ("2025-12", "2026-01")
    assert totals(doc) == ([("company-x", 1, 10000), ("last", 1, 9000), ("home", 1, 4000)], (3, 23000), (0, 0),
                           (3, 23000))
    assert [(s["month"], s["source"]) for s in doc["sessions"]] == [
        ("2025-12", "ledger"), ("2026-01", "legacy"), ("2026-01", "ledger")]
    _, out, _ = run_main(capsys, ledger_dir, "--from", "2025-12", "--to", "2026-01")
    assert out.startswith("Energy charged in December 2025 to January 2026\n")


def test_from_alone_runs_to_this_month(capsys, ledger_dir):
    _, out, _ = run_main(capsys, ledger_dir, "--from", "2026-10", "--format", "json", today=date(2026, 11, 15))
    doc = json.loads(out)
    assert (doc["from"], doc["to"]) == ("2026-10", "2026-11")
    # The issue changed this: November's negative session is left out (company-x 3 sessions, 58.000 kWh).
    assert totals(doc) == ([("company-x", 3, 58000), ("home", 4, 29321)], (7, 87321), (2, 7000), (9, 94321))
    assert doc["left_out"] == {"sessions": 1, "wh": -2000, "kwh": "-2.000", "sessions_unknown_energy": 0}


@pytest.mark.parametrize("today, month, accounts", [
    (date(2026, 11, 1), "2026-10", [("company-x", 2, 54000), ("home", 3, 18321)]),
    (date(2026, 12, 31), "2026-11", [("home", 1, 11000), ("company-x", 1, 4000)]),
    (date(2026, 1, 2), "2025-12", [("last", 1, 9000)]),
])
def test_the_default_is_the_previous_month(capsys, ledger_dir, today, month, accounts):
    _, out, _ = run_main(capsys, ledger_dir, "--format", "json", today=today)
    doc = json.loads(out)
    assert (doc["from"], doc["to"]) == (month, month)
    assert totals(doc)[0] == accounts


@pytest.mark.parametrize("argv, message", [
    (["2026", "13"], "2026 13: month 13 is not 1 to 12"),
    (["2026", "0"], "2026 0: month 0 is not 1 to 12"),
    (["2026"], "YEAR needs a MONTH too, e.g. 2026 10"),
    (["26", "10"], "26 10 is not a year and month like 2026 10"),
    (["2026", "October"], "2026 October is not a year and month like 2026 10"),
    (["--from", "2026-06", "--to", "2026-01"], "--from 2026-06 is after --to 2026-01"),
    (["--from", "2027-01"], "--from 2027-01 is after this month (2026-12)"),
    (["--to", "2026-01"], "--to needs --from"),
    (["--from", "2026-1", "--to", "2026-02"], "--from '2026-1' is not a month like 2026-10"),
    (["--from", "2026-01", "--to", "2026-13"], "--to 2026-13: month 13 is not 1 to 12"),
    (["2026", "10", "--from", "2026-01"], "give either YEAR MONTH or --from/--to, not both"),
    (["2026", "10", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["2026", "10", "11"], "unrecognized arguments: 11"),
])
def test_argument_errors(capsys, ledger_dir, argv, message):
    with pytest.raises(SystemExit) as caught:
        run_main(capsys, ledger_dir, *argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: shocpp-summary")
    assert f"shocpp-summary: error: {message}" in err


# --- the ledger with start and stop lines -------------------------------------------------

def json_of(capsys, directory, *argv):
    status, out, err = run_main(capsys, directory, *argv, "--format", "json")
    assert (status, err) == (0, "")
    return json.loads(out)


def test_a_session_of_546_wh_totals_0_546_kwh(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", [stop("garage-left", 10012345, "home", 1, 12345678, 12346224,
                                     "2026-11-01T10:00:00Z", "2026-11-01T12:00:00Z")])
    doc = json_of(capsys, d, "2026", "11")
    assert totals(doc) == ([("home", 1, 546)], (1, 546), (0, 0), (1, 546))
    assert (doc["grand_total"]["kwh"], doc["sessions"][0]["kwh"]) == ("0.546", "0.546")
    _, out, _ = run_main(capsys, d, "2026", "11")
    assert "home                                   1  0.546  " + "█" * 24 in out
    assert out.splitlines()[-1].split() == ["2026-11-01", "10:00", "UTC", "2026-11-01", "12:00", "UTC", "2:00",
                                            "garage-left", "1", "home", "1111", "12345.678", "12346.224", "0.546"]


ALTERNATING = [  # home and guest take turns on one charger; whole kWh would bill 8 and 1
    stop("garage-left", 10001000, "home", 1, 1000500, 1002956, "2026-11-01T08:00:00Z", "2026-11-01T09:00:00Z"),
    stop("garage-left", 20001002, "guest", 2, 1002956, 1003289, "2026-11-01T10:00:00Z", "2026-11-01T10:20:00Z"),
    stop("garage-left", 10001003, "home", 1, 1003289, 1009501, "2026-11-02T08:00:00Z", "2026-11-02T11:00:00Z"),
    stop("garage-left", 20001009, "guest", 2, 1009501, 1010000, "2026-11-02T12:00:00Z", "2026-11-02T12:30:00Z"),
]


def test_two_accounts_alternating_on_one_charger_are_totalled_to_the_wh(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", ALTERNATING)
    doc = json_of(capsys, d, "2026", "11")
    assert totals(doc) == ([("home", 2, 8668), ("guest", 2, 832)], (4, 9500), (0, 0), (4, 9500))
    assert [a["kwh"] for a in doc["accounts"]] == ["8.668", "0.832"]
    assert [s["consumed_kwh"] for s in doc["sessions"]] == [2, 1, 6, 1]  # the ledger's whole kWh, not billed
    assert [(s["meter_start_kwh"], s["meter_stop_kwh"]) for s in doc["sessions"]] == [
        (1000.5, 1002.956), (1002.956, 1003.289), (1003.289, 1009.501), (1009.501, 1010.0)]
    assert [(s["meter_start_wh"], s["meter_stop_wh"]) for s in doc["sessions"]] == [
        (1000500, 1002956), (1002956, 1003289), (1003289, 1009501), (1009501, 1010000)]


def test_start_lines_are_not_sessions(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", [start("garage-left", 10001000, "home", 1, 1000500, "2026-11-01T08:00:00Z"),
                                ALTERNATING[0],
                                start("garage-left", 20001002, "guest", 2, 1002956, "2026-11-01T10:00:00Z"),
                                ALTERNATING[1],
                                start("garage-left", 10001003, "home", 1, 1003289, "2026-11-02T08:00:00Z")])
    doc = json_of(capsys, d, "2026", "11")
    assert (doc["skipped_lines"], len(doc["sessions"])) == (0, 2)
    assert totals(doc) == ([("home", 1, 2456), ("guest", 1, 333)], (2, 2789), (0, 0), (2, 2789))


def test_old_lines_without_event_or_energy_wh_beside_new_ones(capsys, tmp_path):
    d = tmp_path / "accounting"
    exact = record("garage-left", 10012345, "home", 1, "1111", 12345, 12350999, 5, "2026-11-01T12:00:00Z", wh=5321)
    whole = record("garage-left", 10012351, "home", 1, "2222", 12351, 12361000, 10, "2026-11-02T12:00:00Z")
    unknown = record("garage-left", 2**63 - 1, "unknown", None, "CAFE0001", None, 12370000, None,
                     "2026-11-03T12:00:00Z")
    unknown_new = stop("garage-right", 20001000, "company-x", 2, 1000000, 1000000, "2026-11-04T10:00:00Z",
                       "2026-11-04T12:00:00Z", energy_wh=None)
    write_ledger(d, "2026-11", [exact, whole, unknown, ALTERNATING[0], unknown_new])
    doc = json_of(capsys, d, "2026", "11")
    assert [(s["energy_wh"], s["kwh"], s["counted"]) for s in doc["sessions"]] == [
        (2456, "2.456", True), (5321, "5.321", True), (10000, "10.000", True), (None, None, True),
        (None, None, True)]
    assert totals(doc) == ([("home", 3, 17777), ("company-x", 1, 0)], (4, 17777), (1, 0), (5, 17777))
    _, out, _ = run_main(capsys, d, "2026", "11")
    assert "2 sessions had unknown energy: shown as '?', counted as 0 kWh." in out


def test_sessions_sorted_by_start_across_months_and_with_legacy_records(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-10", [stop("garage-left", 10001000, "home", 1, 1000000, 1001000,
                                     "2026-10-30T10:00:00Z", "2026-10-30T12:00:00Z")])
    late = stop("garage-right", 20002000, "company-x", 2, 2000000, 2004000, None, "2026-11-01T01:00:00Z",
                flags=("no_start",))
    long = stop("garage-left", 10001001, "home", 1, 1001000, 1031000, "2026-10-31T22:00:00Z", "2026-11-01T02:00:00Z")
    write_ledger(d, "2026-11", [late, long])  # the ledger's order is the stops'
    write_legacy(d, "2026", "11", "1793500200-0001.json",
                 legacy("home", 1031, 1033, 2, "2026-11-01 00:30:00", 1793500200))
    doc = json_of(capsys, d, "--from", "2026-10", "--to", "2026-11")
    assert [(s["month"], s["start_time"], s["stop_time"]) for s in doc["sessions"]] == [
        ("2026-10", "2026-10-30T10:00:00Z", "2026-10-30T12:00:00Z"),
        ("2026-11", "2026-10-31T22:00:00Z", "2026-11-01T02:00:00Z"),
        ("2026-11", None, "2026-11-01 00:30:00"),
        ("2026-11", None, "2026-11-01T01:00:00Z")]


def test_a_time_that_cannot_be_read_is_shown_as_sent_at_the_end_of_its_month(capsys, tmp_path):
    d = tmp_path / "accounting"
    odd = {**stop("garage-left", 10001000, "home", 1, 1000000, 1001000, "2026-11-01T10:00:00Z",
                  "2026-11-01T12:00:00Z"), "start_time": "soon", "stop_time": "yesterday\r\nnoon"}
    write_ledger(d, "2026-11", [odd, ALTERNATING[3]])
    write_ledger(d, "2026-12", [ALTERNATING[0] | {"start_time": "2026-12-01T08:00:00Z"}])
    doc = json_of(capsys, d, "--from", "2026-11", "--to", "2026-12")
    assert [s["stop_time"] for s in doc["sessions"]] == ["2026-11-02T12:30:00Z", "yesterday\r\nnoon",
                                                         "2026-11-01T09:00:00Z"]
    _, out, _ = run_main(capsys, d, "--from", "2026-11", "--to", "2026-12")
    rows = out.split("\nSessions\n")[1].splitlines()[3:]
    assert len(rows) == 3
    assert rows[1].split()[:3] == ["soon", "yesterday\\x0d\\x0anoon", "2:00"]


def test_times_in_the_local_zone_across_daylight_saving_time(capsys, tmp_path, monkeypatch):
    in_zone(monkeypatch, "Europe/Berlin")
    d = tmp_path / "accounting"
    write_ledger(d, "2026-03", [stop("garage-left", 10001000, "home", 1, 1000000, 1001000,
                                     "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z")])
    write_ledger(d, "2026-10", [stop("garage-left", 10001001, "home", 1, 1001000, 1002000,
                                     "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z")])
    write_legacy(d, "2026", "10", "1792000000-0001.json", legacy("home", 1002, 1003, 1, "2026-10-26 06:30:00", 0))
    _, out, _ = run_main(capsys, d, "--from", "2026-03", "--to", "2026-10")
    rows = [line.split()[:7] for line in out.split("\nSessions\n")[1].splitlines()[3:]]
    assert rows == [
        ["2026-03-29", "01:30", "CET", "2026-03-29", "03:30", "CEST", "1:00"],
        ["2026-10-25", "02:30", "CEST", "2026-10-25", "02:30", "CET", "1:00"],
        ["-", "2026-10-26", "06:30", "CET", "-", "-", "-"]]


FLAGGED = [
    stop("garage-left", 10001000, "home", 1, 1000000, 1002500, "2026-11-01T08:00:00Z", "2026-11-01T09:00:00Z"),
    stop("garage-left", 10001002, "home", 1, 1002500, 1001500, "2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z",
         flags=("negative",)),
    stop("garage-right", 20002000, "company-x", 2, 2000000, 2900000, "2026-11-03T08:00:00Z",
         "2026-11-03T08:10:00Z", flags=("implausible",)),
    stop("garage-right", 20002000, "company-x", 2, 2000000, 2007000, None, "2026-11-04T09:00:00Z",
         flags=("no_start",)),
    stop("garage-right", 20002007, "company-x", 2, 2007000, 2008000, "2026-11-05T08:00:00Z",
         "2026-11-05T09:00:00Z", flags=("reconciled", "meter_swap")),
]


def test_negative_and_implausible_are_left_out_and_the_other_flags_counted(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", FLAGGED)
    doc = json_of(capsys, d, "2026", "11")
    assert totals(doc) == ([("company-x", 2, 8000), ("home", 1, 2500)], (3, 10500), (0, 0), (3, 10500))
    assert doc["left_out"] == {"sessions": 2, "wh": 899000, "kwh": "899.000", "sessions_unknown_energy": 0}
    # only the lines waiting for a decision: a counted line that merely carries a flag is not waiting
    assert doc["to_review"] == 2
    assert [(r["id"], r["reason"]) for r in doc["review"]] == [(review.line_id(FLAGGED[1]), "negative"),
                                                              (review.line_id(FLAGGED[2]), "implausible")]
    assert [(s["flags"], s["status"], s["counted"]) for s in doc["sessions"]] == [
        ([], "billed", True), (["negative"], "to_review", False), (["implausible"], "to_review", False),
        (["no_start"], "billed", True), (["reconciled", "meter_swap"], "billed", True)]


def test_the_table_lists_flagged_sessions_to_review_and_says_what_that_means(capsys, tmp_path, monkeypatch):
    in_zone(monkeypatch, "UTC")
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", FLAGGED)
    _, out, _ = run_main(capsys, d, "2026", "11")
    assert out.split("\nSessions\n")[0].splitlines()[2:] == [
        "account                         sessions     kWh",
        "company-x                              2   8.000  " + "█" * 24,
        "home                                   1   2.500  " + "███████▌",  # 2.5/8 of 192 eighths: 60
        "------------------------------------------------",
        "accounts total                         3  10.500",
        "unknown tags                           0   0.000",
        "grand total, with unknown tags         3  10.500",
        "",
        "2 lines (899.000 kWh) are waiting for your decision, in no total: see To review below."]
    sessions, review_section = out.split("\nSessions\n")[1].split("\nTo review\n")
    assert [line.split() for line in sessions.splitlines()[3:] if line] == [
        ["2026-11-01", "08:00", "UTC", "2026-11-01", "09:00", "UTC", "1:00", "garage-left", "1", "home", "1111",
         "1000.000", "1002.500", "2.500"],
        ["-", "2026-11-04", "09:00", "UTC", "-", "garage-right", "-", "company-x", "1111", "2000", "2007.000",
         "7.000", "no_start"],
        ["2026-11-05", "08:00", "UTC", "2026-11-05", "09:00", "UTC", "1:00", "garage-right", "1", "company-x",
         "1111", "2007.000", "2008.000", "1.000", "reconciled,", "meter_swap"]]
    waiting = review_section
    assert waiting.splitlines()[1:5] == summary.REVIEW_TEXT + [""]
    cells = [re.split(" {2,}", line) for line in waiting.splitlines()[7:]]
    assert cells == [
        [review.line_id(FLAGGED[1]), "2026-11-02 09:00 UTC", "garage-left", "home", "1111", "10001002", "-1.000",
         "the stop reading is below the start reading (a meter replaced or reset)"],
        [review.line_id(FLAGGED[2]), "2026-11-03 08:10 UTC", "garage-right", "company-x", "1111", "20002000",
         "900.000", "more energy than SHOCPP_MAX_POWER_KW can deliver between the start and the stop"]]


def test_only_flagged_sessions_of_an_account(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", FLAGGED[1:2])
    status, out, err = run_main(capsys, d, "2026", "11", "--account", "home")
    assert (status, err) == (0, "")
    assert "accounts total         0  0.000" in out and "\nSessions\n" not in out
    assert out.splitlines()[-1].endswith("  -1.000  the stop reading is below the start reading (a meter replaced "
                                         "or reset)")


def test_flags_that_are_not_a_list_of_texts_are_shown_to_review():
    session = parse_line(json.dumps({**stop("c", 1, "home", 1, 0, 1000, "2026-11-01T08:00:00Z",
                                            "2026-11-01T09:00:00Z"), "flags": "odd"}))
    assert (session.flags, session.counted) == (("odd",), True)
    session = parse_line(json.dumps(stop("c", 1, "home", 1, 0, 1000, "2026-11-01T08:00:00Z",
                                         "2026-11-01T09:00:00Z", flags=["no_start", 7, None])))
    assert session.flags == ("no_start", "7", "null")


# --- what chargers send cannot forge the bill ---------------------------------------------

FORGED = stop("garage\x1b[2J", 10001000, "home", 1, 1000000, 1002500, "2026-11-01T08:00:00Z",
              "2026-11-01T09:00:00Z", id_tag="1111\n2026-11-01 08:00 UTC  x  home  0.001\u202e",
              flags=["no_start\nhome  99"])


def test_control_characters_cannot_forge_rows_in_the_table(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", [FORGED])
    _, out, _ = run_main(capsys, d, "2026", "11")
    assert "\x1b" not in out and "\u202e" not in out
    sessions = out.split("\nSessions\n")[1]
    assert "To review" not in out  # counted, with a flag: not waiting for a decision
    assert len(sessions.strip().splitlines()) == 3  # the header, the rule, one row
    row = sessions.strip().splitlines()[2]
    assert "garage\\x1b[2J" in row and "1111\\x0a2026-11-01 08:00 UTC  x  home  0.001\\u202e" in row
    assert row.endswith("no_start\\x0ahome  99")


def test_csv_cells_a_spreadsheet_would_run_are_inert(capsys, tmp_path):
    d = tmp_path / "accounting"
    odd = {**stop("=cmd|' /C calc'!A0", 10001000, "+home", 1, 1002500, 1001500, "2026-11-01T08:00:00Z",
                  "2026-11-01T09:00:00Z", id_tag="\t=1+1", reason="\r=2", flags=["negative"]),
           "start_time": "-2026", "stop_time": "@2026-11-01T09:00:00Z"}
    write_ledger(d, "2026-11", [odd])
    status = summary.main(["2026", "11", "--format", "csv"], env={"SHOCPP_ACCOUNTINGDIR": str(d)})
    assert status == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out, newline=""))
    assert [row[k] for k in ("charger", "account", "id_tag", "stop_reason", "start_time", "stop_time", "flags")] == [
        "'=cmd|' /C calc'!A0", "'+home", "'\t=1+1", "'\r=2", "'-2026", "'@2026-11-01T09:00:00Z", "negative"]
    assert [row[k] for k in ("kwh", "status", "review_reason", "counted")] == ["-1.000", "to_review", "negative", "no"]


# --- the bin script -------------------------------------------------------------------------


def test_json_output_escapes_what_would_draw_on_a_terminal(capsys, tmp_path):
    d = tmp_path / "accounting"
    odd = stop("CP\u202eevil", 10001000, "home", 1, 1000000, 1002500, "2026-11-01T08:00:00Z",
               "2026-11-01T09:00:00Z", id_tag="11\x1b[2J11\x85")
    write_ledger(d, "2026-11", [odd])
    assert summary.main(["2026", "11", "--format", "json"], env={"SHOCPP_ACCOUNTINGDIR": str(d)}) == 0
    out = capsys.readouterr().out
    assert all(line.isprintable() for line in out.splitlines())
    assert '"charger": "CP\\u202eevil"' in out and '"id_tag": "11\\u001b[2J11\\u0085"' in out
    (session,) = json.loads(out)["sessions"]
    assert (session["charger"], session["id_tag"]) == ("CP\u202eevil", "11\x1b[2J11\x85")


# --- review: --accept and --reject (issue 19) ------------------------------------------------

REVIEWED = [
    start("CP1", 30012345, "guest", 3, 12345678, "2026-11-10T08:00:00Z"),
    # another account's transactionId while the guest's session runs: to review, with the guest's start
    {**stop("CP1", 20012345, "company-x", 2, 12345000, 12355678, "2026-11-10T08:00:00Z", "2026-11-10T10:00:00Z",
            flags=("no_start",), id_tag=None), "energy_wh": 10000, "verdict": "review", "review": "account_mismatch",
     "candidate": {"charger": "CP1", "connector_id": 1, "transaction_id": 30012345, "id_tag": "4444",
                   "account": "guest", "account_index": 3, "meter_start_wh": 12345678,
                   "start_time": "2026-11-10T08:00:00Z"}},
    {**stop("intruder", 20000000, "company-x", 2, 0, 4999999000, "2026-11-11T08:00:00Z", "2026-11-11T09:00:00Z",
            flags=("no_start",)), "verdict": "review", "review": "unknown_charger"},
    {**stop("CP1", 10012345, "home", 1, 12345678, 12355679, "2026-11-12T08:00:00Z", "2026-11-12T09:00:00Z"),
     "verdict": "repeat", "repeat_of": "0123456789"},
]


def test_accept_and_reject_append_a_decision_and_the_totals_follow(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", REVIEWED)
    mismatch, forged, repeat = (review.line_id(r) for r in REVIEWED[1:])
    doc = json_of(capsys, d, "2026-11")
    assert (doc["to_review"], [r["id"] for r in doc["review"]], totals(doc)[3]) == (2, [mismatch, forged], (0, 0))
    status, out, err = run_main(capsys, d, "--accept", mismatch)
    assert (status, err) == (0, "")
    assert out == (f"accepted {mismatch}: guest's 10.000 kWh (charger CP1, transactionId 20012345, stopped "
                   "2026-11-10 10:00 UTC) counted in 2026-11\n")
    assert run_main(capsys, d, "--reject", forged)[0] == 0
    doc = json_of(capsys, d, "2026-11")
    assert (doc["to_review"], totals(doc)) == (0, ([("guest", 1, 10000)], (1, 10000), (0, 0), (1, 10000)))
    assert doc["left_out"]["sessions"] == 1
    accepted = [s for s in doc["sessions"] if s["id"] == mismatch][0]
    assert (accepted["status"], accepted["id_tag"], accepted["meter_start_wh"], accepted["duration_s"]) == (
        "accepted", "4444", 12345678, 7200)
    decisions = [json.loads(line) for line in (d / "2026-11.jsonl").read_text().splitlines()][len(REVIEWED):]
    assert [(r["event"], r["decision"], r["line"]) for r in decisions] == [
        ("decision", "accept", mismatch), ("decision", "reject", forged)]
    assert decisions[0]["start_transaction_id"] == 30012345  # the guest's start is closed by it
    # a mind changed: the newest decision counts
    assert run_main(capsys, d, "--accept", forged)[0] == 0
    assert json_of(capsys, d, "2026-11")["grand_total"]["kwh"] == "5000009.000"


def test_what_cannot_be_decided_is_refused_and_nothing_written(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", REVIEWED)
    before = (d / "2026-11.jsonl").read_bytes()
    status, out, err = run_main(capsys, d, "--accept", review.line_id(REVIEWED[3]))
    assert (status, out) == (exits.USAGE, "")
    assert err == (f"shocpp-summary: {review.line_id(REVIEWED[3])} cannot be decided: it repeats a stop already "
                   "billed (never counted)\n")
    status, _, err = run_main(capsys, d, "--reject", "abcdefabcd")
    assert status == exits.USAGE and err.startswith("shocpp-summary: no stop line with id abcdefabcd in ")
    with pytest.raises(SystemExit):
        summary.main(["--accept", "not-an-id"], env={"SHOCPP_ACCOUNTINGDIR": str(d)})
    with pytest.raises(SystemExit):
        summary.main(["2026", "11", "--accept", "abcdefabcd"], env={"SHOCPP_ACCOUNTINGDIR": str(d)})
    assert (d / "2026-11.jsonl").read_bytes() == before


def test_the_table_lists_the_lines_to_review_with_their_ids_and_the_repeats_apart(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-11", REVIEWED)
    _, out, _ = run_main(capsys, d, "2026", "11")
    waiting = out.split("\nTo review\n")[1].split("\nRepeats of a stop already billed (in no total)\n")[0]
    assert f"{review.line_id(REVIEWED[2])}  2026-11-11 09:00 UTC  intruder" in waiting
    assert "no start record, and the charger is neither in chargers.json" in waiting
    assert "1 stop repeating a stop already billed is in no total." in out
    assert "2 lines (5000009.000 kWh) are waiting for your decision, in no total: see To review below." in out


# --- issue 24, item 8 ------------------------------------------------------------------------

def test_a_month_as_yyyy_mm_is_understood_and_a_lone_year_gets_a_right_example(capsys, ledger_dir):
    assert run_main(capsys, ledger_dir, "2026-11")[1] == run_main(capsys, ledger_dir, "2026", "11")[1]
    with pytest.raises(SystemExit):
        summary.main(["2026"], env={"SHOCPP_ACCOUNTINGDIR": str(ledger_dir)})
    assert "YEAR needs a MONTH too, e.g. 2026 10 (or 2026-10)" in capsys.readouterr().err


def test_without_arguments_an_empty_last_month_points_to_this_month(capsys, tmp_path):
    d = tmp_path / "accounting"
    write_ledger(d, "2026-12", OCTOBER[:1])
    _, out, _ = run_main(capsys, d, today=date(2026, 12, 3))
    assert out == ("Energy charged in November 2026\n\nNo sessions.\n(Without arguments it shows last month; this "
                   "month so far: shocpp-summary 2026-12.)\n")
    assert "this month so far" not in run_main(capsys, d, "2026", "11")[1]


def test_a_stop_without_an_id_tag_shows_the_tag_of_its_start(capsys, tmp_path):
    d = tmp_path / "accounting"
    begun = {**start("CP1", 30012345, "guest", 3, 12345678, "2026-11-10T08:00:00Z"), "id_tag": "4444"}
    ended = stop("CP1", 30012345, "guest", 3, 12345678, 12355678, "2026-11-10T08:00:00Z", "2026-11-10T10:00:00Z")
    del ended["id_tag"]
    write_ledger(d, "2026-11", [begun, ended, {**ended, "stop_time": "2026-11-10T10:05:00Z",
                                               "start_id_tag": "5555", "transaction_id": 30012346}])
    doc = json_of(capsys, d, "2026-11")
    assert [s["id_tag"] for s in doc["sessions"]] == ["4444", "5555"]


def test_accepting_a_line_whose_session_was_billed_since_is_refused(capsys, tmp_path):
    d = tmp_path / "accounting"
    guest_stop = {**stop("CP1", 30012345, "guest", 3, 12345678, 12356000, "2026-11-10T08:00:00Z",
                         "2026-11-10T11:00:00Z"), "verdict": "billed"}
    write_ledger(d, "2026-11", REVIEWED[:2] + [guest_stop])
    mismatch = review.line_id(REVIEWED[1])
    status, out, err = run_main(capsys, d, "--accept", mismatch)
    assert (status, out) == (exits.USAGE, "")
    assert err == (f"shocpp-summary: {mismatch} cannot be accepted: the session it names (transactionId 30012345, "
                   f"started 2026-11-10 08:00 UTC) was closed since by line {review.line_id(guest_stop)}: "
                   "accepting would bill it twice; --reject it\n")
    assert run_main(capsys, d, "--reject", mismatch)[0] == 0


def test_a_rejected_stop_cannot_be_accepted_once_its_sessions_real_stop_was_billed(capsys, tmp_path):
    d = tmp_path / "accounting"
    began = start("CP1", 10012345, "home", 1, 12345678, "2026-11-10T08:00:00Z")
    bogus = {**stop("CP1", 10012345, "home", 1, 12345678, 12000000, "2026-11-10T08:00:00Z",
                    "2026-11-10T09:00:00Z"), "verdict": "review", "review": "negative"}
    write_ledger(d, "2026-11", [began, bogus])
    assert run_main(capsys, d, "--reject", review.line_id(bogus))[0] == 0
    real = {**stop("CP1", 10012345, "home", 1, 12345678, 12355678, "2026-11-10T08:00:00Z",
                   "2026-11-10T10:00:00Z"), "verdict": "billed"}
    with open(d / "2026-11.jsonl", "a") as f:
        f.write(json.dumps(real) + "\n")
    status, _, err = run_main(capsys, d, "--accept", review.line_id(bogus))
    assert status == exits.USAGE and f"was closed since by line {review.line_id(real)}" in err
