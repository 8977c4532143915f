"""shocpp-summary --statement and --statements: prices, costs and totals, in every format, in-process."""

import csv
import io
import json
import re
import time
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pytest

from shocpp import exits
from shocpp.protocol import tariffs as tariffs_module
from shocpp.tools import statement, summary
from shocpp.tools.summary import Session

import statement_ledger as L


@pytest.fixture
def site_env(tmp_path, monkeypatch):
    env = L.write_site(tmp_path)
    monkeypatch.setenv("TZ", L.ZONE)
    time.tzset()
    return env


def run(capsys, env, *argv, today=date(2026, 12, 3)):
    status = summary.main(list(argv), env=env, today=today)
    out, err = capsys.readouterr()
    return status, out, err


def run_bytes(capsysbinary, env, *argv):
    status = summary.main(list(argv), env=env, today=date(2026, 12, 3))
    captured = capsysbinary.readouterr()
    return status, captured.out, captured.err.decode()


def recomputed(energy_wh, price):
    """The cost as the issue defines it, worked out here independently: kWh x price, half-up to the cent."""
    kwh = Decimal(energy_wh) / Decimal(1000)
    return (kwh * Decimal(price)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def wh(kwh):
    """Wh of an exact kWh text, '5.321' -> 5321."""
    return int(Decimal(kwh) * 1000)


def figures(rows):
    return [(r["start_time"], r["stop_time"], r["energy_wh"], r["price_per_kwh"], r["cost"]) for r in rows]


# --- JSON -----------------------------------------------------------------------------------

@pytest.mark.parametrize("account, sessions, review, total, tags", [
    ("home", L.HOME, L.HOME_REVIEW, L.HOME_TOTAL, ["1111", "2222"]),
    ("company-x", L.COMPANY, L.COMPANY_REVIEW, L.COMPANY_TOTAL, ["3333", "=1+1"]),
    ("unknown", L.UNKNOWN, [], (1, 2000, "0.68"), []),
])
def test_json_has_every_figure_exact(capsys, site_env, account, sessions, review, total, tags):
    status, out, err = run(capsys, site_env, "2026", "10", "--account", account, "--statement", "--format", "json")
    assert (status, err) == (0, "")
    doc = json.loads(out)
    assert (doc["site"], doc["account"], doc["tags"], doc["from"], doc["to"], doc["currency"]) == (
        "Hof 7", account, tags, "2026-10", "2026-10", "EUR")
    assert figures(doc["sessions"]) == sessions
    assert figures(doc["to_review"]) == review
    assert (doc["total_sessions"], doc["total_energy_wh"], doc["total_cost"]) == total
    assert doc["total_kwh"] == summary.kwh_text(total[1])
    # recompute from what the document says: each cost, and the totals as the sum of the rows
    for row in doc["sessions"] + doc["to_review"]:
        if row["energy_wh"] is not None:
            assert Decimal(row["cost"]) == recomputed(row["energy_wh"], row["price_per_kwh"])
        assert row["cost"] is None or re.fullmatch(r"-?[0-9]+\.[0-9]{2}", row["cost"])
    assert sum(r["energy_wh"] or 0 for r in doc["sessions"]) == doc["total_energy_wh"]
    assert sum(Decimal(r["cost"]) for r in doc["sessions"] if r["cost"]) == Decimal(doc["total_cost"])


def test_json_sessions_have_the_shape_of_the_issue(capsys, site_env):
    _, out, _ = run(capsys, site_env, "2026", "10", "--account", "home", "--statement", "--format", "json")
    doc = json.loads(out)
    first, legacy, old = doc["sessions"][0], doc["sessions"][1], doc["sessions"][4]
    assert {k: first[k] for k in ("start_time", "stop_time", "duration_s", "charger", "connector_id", "id_tag",
                                  "meter_start_wh", "meter_stop_wh", "energy_wh", "price_per_kwh", "cost")} == {
        "start_time": "2026-10-02T10:00:00+02:00", "stop_time": "2026-10-02T12:00:00+02:00", "duration_s": 7200,
        "charger": "garage-left", "connector_id": 1, "id_tag": "1111", "meter_start_wh": 1000000,
        "meter_stop_wh": 1005321, "energy_wh": 5321, "price_per_kwh": "0.3400", "cost": "1.81"}
    # The bash original's record: whole kWh readings, no charger, tag or start.
    assert (legacy["source"], legacy["start_time"], legacy["charger"], legacy["meter_start_wh"],
            legacy["meter_start_kwh"], legacy["meter_stop_kwh"]) == ("legacy", None, None, None, "1005", "1008")
    # A line written before start records: priced by its stop's local day.
    assert (old["start_time"], old["duration_s"], old["meter_start_kwh"], old["meter_stop_kwh"]) == (
        None, None, "1009", "1016.750")
    assert doc["sessions"][5]["energy_wh"] is None and doc["sessions_unknown_energy"] == 1
    assert doc["to_review"][0]["flags"] == ["negative"]
    assert (doc["sessions_without_price"], doc["skipped_lines"]) == (0, 0)


def test_a_year_of_statements_uses_each_price_of_the_range(capsys, site_env):
    _, out, _ = run(capsys, site_env, "--from", "2026-01", "--to", "2026-12", "--account", "company-x",
                    "--statement", "--format", "json")
    doc = json.loads(out)
    assert (doc["from"], doc["to"]) == ("2026-01", "2026-12")
    assert [(r["energy_wh"], r["price_per_kwh"], r["cost"]) for r in doc["sessions"]] == [
        (11000, "0.2950", "3.25"), (1500, "0.2950", "0.44"), (10000, "0.3100", "3.10")]
    assert (doc["total_sessions"], doc["total_energy_wh"], doc["total_cost"]) == L.COMPANY_YEAR_TOTAL


def test_without_tariffs_there_is_no_price_or_cost(capsys, tmp_path, monkeypatch):
    env = L.write_site(tmp_path, tariffs=False)
    monkeypatch.setenv("TZ", L.ZONE)
    time.tzset()
    status, out, err = run(capsys, env, "2026", "10", "--account", "home", "--statement", "--format", "json")
    assert status == 0
    assert err == f"shocpp-summary: no tariffs file {tmp_path / 'tariffs.json'} (SHOCPP_TARIFFSFILE): the " \
                  "statements have no prices and costs\n"
    doc = json.loads(out)
    assert (doc["currency"], doc["total_cost"], doc["total_energy_wh"]) == (None, None, 17071)
    assert {(r["price_per_kwh"], r["cost"]) for r in doc["sessions"] + doc["to_review"]} == {(None, None)}
    _, text, _ = run(capsys, env, "2026", "10", "--account", "home", "--statement")
    assert "Prices    none (no tariffs file: no price and cost)" in text
    assert "Cost      - (no prices)" in text
    _, raw, _ = run(capsys, env, "2026", "10", "--account", "home", "--statement", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert {(r["price_per_kwh"], r["currency"], r["cost"]) for r in rows} == {("", "", "")}


# --- CSV ------------------------------------------------------------------------------------

def test_csv_adds_up_and_its_formula_cell_is_inert(capsysbinary, site_env):
    status, raw, err = run_bytes(capsysbinary, site_env, "2026", "10", "--account", "company-x", "--statement",
                                 "--format", "csv")
    assert (status, err) == (0, "")
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n") == 5  # header, 2 + 1 rows, total
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert list(rows[0]) == list(statement.CSV_FIELDS)
    sessions = [r for r in rows if r["section"] == "session"]
    review = [r for r in rows if r["section"] == "to review"]
    (total,) = [r for r in rows if r["section"] == "total"]
    assert rows[-1] is total
    # one column a meaning: the energy once, as exact kWh; the duration once, as hours:minutes
    assert list(rows[0]) == ["section", "start", "stop", "duration", "charger", "connector", "tag",
                             "meter_start_kwh", "meter_stop_kwh", "kwh", "price_per_kwh", "currency", "cost", "note"]
    assert [(r["start"], r["stop"], wh(r["kwh"]), r["price_per_kwh"], r["cost"]) for r in sessions] == \
        L.COMPANY
    assert [(r["start"], wh(r["kwh"]), r["cost"], r["note"]) for r in review] == [
        ("2026-10-17T09:00:00+02:00", 900000, "265.50", "implausible")]
    # The idTag a spreadsheet would run is text; figures stay figures.
    assert sessions[0]["tag"] == "'" + L.FORMULA_TAG
    assert not any(cell.startswith(tuple("=+@\t\r")) for row in rows for cell in row.values())
    for row in sessions + review:
        assert Decimal(row["cost"]) == recomputed(wh(row["kwh"]), row["price_per_kwh"])
        assert row["currency"] == "EUR" and re.fullmatch(r"[0-9]+:[0-9]{2}", row["duration"])
    assert sum(Decimal(r["cost"]) for r in sessions) == Decimal(total["cost"]) == Decimal("3.69")
    assert sum(wh(r["kwh"]) for r in sessions) == wh(total["kwh"]) == 12500
    assert (total["kwh"], total["currency"], total["note"]) == ("12.500", "EUR", "2 sessions")


def test_csv_of_old_lines_and_unknown_energy(capsys, site_env):
    _, raw, _ = run(capsys, site_env, "2026", "10", "--account", "home", "--statement", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [(r["section"], r["start"], r["meter_start_kwh"], r["meter_stop_kwh"], r["kwh"], r["cost"], r["note"])
            for r in rows] == [
        ("session", "2026-10-02T10:00:00+02:00", "1000.000", "1005.321", "5.321", "1.81", ""),
        ("session", "", "1005", "1008", "3.000", "1.02", "legacy"),
        ("session", "2026-10-14T23:30:00+02:00", "1008.000", "1009.125", "1.125", "0.38", ""),
        ("session", "2026-10-15T00:30:00+02:00", "1009.125", "1009.250", "0.125", "0.05", ""),
        ("session", "", "1009", "1016.750", "7.500", "2.70", ""),
        ("session", "2026-10-26T09:00:00+01:00", "1015.750", "1015.750", "", "", "energy unknown"),
        ("to review", "2026-10-21T10:00:00+02:00", "1016.750", "1015.750", "-1.000", "-0.36", "negative"),
        ("total", "", "", "", "17.071", "5.96", "6 sessions")]


# --- text -----------------------------------------------------------------------------------

def test_text_is_readable_in_a_terminal(capsys, site_env):
    status, out, err = run(capsys, site_env, "2026", "10", "--account", "home", "--statement")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[:8] == [
        "Charging statement: home, October 2026",
        "",
        "Site      Hof 7",
        "Account   home",
        "Period    October 2026",
        "Tags      1111, 2222",
        "Prices    EUR per kWh (tariffs.json), the price valid on the local day a session started",
        "",
    ]
    sessions = out.split("\nSessions\n\n")[1].split("\n\nTo review")[0].splitlines()
    assert sessions[0].split() == ["start", "stop", "duration", "charger", "connector", "tag", "meter", "start",
                                   "meter", "stop", "kWh", "price/kWh", "cost", "note"]
    assert sessions[2].split() == ["2026-10-02", "10:00", "CEST", "2026-10-02", "12:00", "CEST", "2:00",
                                   "garage-left", "1", "1111", "1000.000", "1005.321", "5.321", "0.3400", "1.81"]
    assert sessions[3].split() == ["-", "2026-10-05", "06:30", "CEST", "-", "-", "-", "-", "1005", "1008", "3.000",
                                   "0.3400", "1.02", "legacy"]
    assert sessions[7].split()[-6:] == ["1015.750", "?", "0.3600", "-", "energy", "unknown"]
    assert len(sessions) == 8
    review = out.split("\nTo review: waiting for the operator's decision, not in the totals\n\n")[1]
    assert review.splitlines()[2].split()[-5:] == ["1015.750", "-1.000", "0.3600", "-0.36", "negative"]
    assert out.split("\nTotals\n\n")[1].splitlines()[:4] == [
        "Sessions  6", "Energy    17.071 kWh", "Cost      EUR 5.96", ""]
    assert "1 session had unknown energy: shown as '?', counted as 0 kWh, no cost." in out
    assert "1 session waiting for review (-1.000 kWh) is listed under To review and not in the " \
           "totals." in out


def test_text_escapes_what_a_charger_sent(capsys, site_env):
    forged = L.stop("garage\x1b[2J", 10001030, "home", 1, "1111\n2026-10-30  x  0.01", 1020000, 1021000,
                    "2026-10-30T08:00:00Z", "2026-10-30T09:00:00Z")
    with open(site_env["SHOCPP_ACCOUNTINGDIR"] + "/2026-10.jsonl", "a") as f:
        f.write(json.dumps(forged) + "\n")
    _, out, _ = run(capsys, site_env, "2026", "10", "--account", "home", "--statement")
    assert "\x1b" not in out
    assert "garage\\x1b[2J" in out and "1111\\x0a2026-10-30  x  0.01" in out


# --- HTML -----------------------------------------------------------------------------------

class Page(HTMLParser):
    """The page's text, and every tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_one_self_contained_page(capsys, site_env):
    status, out, err = run(capsys, site_env, "2026", "10", "--account", "company-x", "--statement",
                           "--format", "html")
    assert (status, err) == (0, "")
    page = Page()
    page.feed(out)
    names = [tag for tag, _ in page.tags]
    assert out.startswith("<!DOCTYPE html>") and names.count("table") == 4
    assert "script" not in names and "link" not in names and "img" not in names
    assert not any(key in ("src", "href") or key.startswith("on") for _, attrs in page.tags for key in attrs)
    assert "url(" not in out and "@import" not in out
    assert "@page { size: A4" in out and "table-header-group" in out
    text = " ".join(" ".join(page.text).split())
    assert "Site Hof 7 Account company-x Period October 2026 Tags 3333, =1+1" in text
    assert L.FORMULA_TAG in text  # escaped in the markup, shown as sent
    assert "&quot;http://x.invalid&quot;" in out
    assert text.endswith("Totals Sessions 2 Energy 12.500 kWh Cost EUR 3.69 1 session waiting for review "
                         "(900.000 kWh) is listed under To review and not in the totals.")
    # the totals come after the sessions and the ones to review
    assert out.index("Sessions</h2>") < out.index("To review") < out.index("Totals</h2>")


def test_html_escapes_everything_from_charger_data(capsys, site_env):
    forged = L.stop("<script>alert(1)</script>", 10001030, "home", 1, "\"><img src=x onerror=alert(2)>",
                    1020000, 1021000, "2026-10-30T08:00:00Z", "2026-10-30T09:00:00Z",
                    flags=["<b>bold</b>&amp;"])
    with open(site_env["SHOCPP_ACCOUNTINGDIR"] + "/2026-10.jsonl", "a") as f:
        f.write(json.dumps(forged) + "\n")
    env = {**site_env, "SHOCPP_SITE_NAME": "Hof </style><script>x</script>"}
    _, out, _ = run(capsys, env, "2026", "10", "--account", "home", "--statement", "--format", "html")
    page = Page()
    page.feed(out)
    assert [tag for tag, _ in page.tags if tag in ("script", "img", "b")] == []
    assert out.count("</style>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "&lt;b&gt;bold&lt;/b&gt;&amp;amp;" in out
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in out


# --- the monthly job ------------------------------------------------------------------------

def test_statements_writes_one_per_account_as_html_and_csv(capsys, site_env, tmp_path):
    target = tmp_path / "statements" / "2026"
    status, out, err = run(capsys, site_env, "2026", "10", "--statements", str(target))
    assert (status, err) == (0, "")
    stems = ["2026-10-company-x", "2026-10-home", "2026-10-unknown"]
    assert out.splitlines() == [f"wrote {target / (stem + suffix)}" for stem in stems for suffix in (".html", ".csv")]
    assert sorted(p.name for p in target.iterdir()) == sorted(s + x for s in stems for x in (".csv", ".html"))
    # energy nobody claimed has its statement
    rows = list(csv.DictReader(io.StringIO((target / "2026-10-unknown.csv").read_text(), newline="")))
    assert [(r["section"], r["tag"], r["kwh"], r["cost"]) for r in rows] == [
        ("session", "DEADBEEF", "2.000", "0.68"), ("total", "", "2.000", "0.68")]
    _, html_one, _ = run(capsys, site_env, "2026", "10", "--account", "home", "--statement", "--format", "html")
    assert (target / "2026-10-home.html").read_text() == html_one
    _, csv_one, _ = run(capsys, site_env, "2026", "10", "--account", "home", "--statement", "--format", "csv")
    assert (target / "2026-10-home.csv").read_bytes() == csv_one.encode()


def test_statements_default_to_the_previous_month_and_ranges_name_their_files(capsys, site_env, tmp_path):
    status, out, _ = run(capsys, site_env, "--statements", str(tmp_path / "s"), today=date(2026, 11, 1))
    assert status == 0 and "2026-10-home.html" in out
    status, out, _ = run(capsys, site_env, "--from", "2026-10", "--to", "2026-11", "--statements",
                         str(tmp_path / "y"))
    assert status == 0 and f"wrote {tmp_path / 'y' / '2026-10_2026-11-company-x.csv'}" in out
    status, out, err = run(capsys, site_env, "2026", "03", "--statements", str(tmp_path / "m"))
    assert (status, out) == (0, "")
    assert err == "shocpp-summary: no sessions in March 2026: no statements written\n"


def test_statements_that_cannot_be_written(capsys, site_env, tmp_path):
    (tmp_path / "file").write_text("")
    status, _, err = run(capsys, site_env, "2026", "10", "--statements", str(tmp_path / "file" / "x"))
    assert status == exits.FAILED
    assert err.startswith("shocpp-summary: cannot write the statements: ")


def test_file_names_for_any_account_name():
    assert statement.file_stem("company-x", (2026, 10), (2026, 10)) == "2026-10-company-x"
    assert statement.file_stem("../Müller & Co", (2026, 1), (2026, 12)) == "2026-01_2026-12-.._M_ller___Co"
    assert statement.file_stem("a/b", (2026, 10), (2026, 10), {"2026-10-a_b"}) == "2026-10-a_b-2"
    assert "/" not in statement.file_stem("/", (2026, 10), (2026, 10))


# --- which price: the model -----------------------------------------------------------------

TARIFFS = tariffs_module.parse(json.dumps(L.TARIFFS), ["home", "company-x"])


def line_of(session):
    return statement.build([session], session.account, (2026, 10), (2026, 10), "site", (), TARIFFS).lines[0]


def test_the_price_is_that_of_the_local_day_of_the_start_else_the_stop(monkeypatch):
    monkeypatch.setenv("TZ", L.ZONE)
    time.tzset()
    late = Session("home", 1000, stop_time="2026-10-15T08:00:00Z", start_time="2026-10-14T21:59:00Z")
    midnight = Session("home", 1000, stop_time="2026-10-15T08:00:00Z", start_time="2026-10-14T22:00:00Z")
    no_start = Session("home", 1000, stop_time="2026-10-14T22:00:00Z")
    legacy = Session("home", 1000, stop_time="2026-10-15 00:10:00", source="legacy")
    assert [(line_of(s).day, line_of(s).price_text, str(line_of(s).cost)) for s in
            (late, midnight, no_start, legacy)] == [
        (date(2026, 10, 14), "0.3400", "0.34"), (date(2026, 10, 15), "0.3600", "0.36"),
        (date(2026, 10, 15), "0.3600", "0.36"), (date(2026, 10, 15), "0.3600", "0.36")]
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    assert line_of(midnight).day == date(2026, 10, 14)


def test_a_session_without_a_readable_time_is_priced_on_the_last_day_of_its_month():
    odd = Session("home", 2000, stop_time="yesterday", month="2026-10")
    line = line_of(odd)
    assert (line.day, line.price_text, str(line.cost), line.start, line.stop) == (
        date(2026, 10, 31), "0.3600", "0.72", None, None)
    assert statement._note(line) == "time unknown"


def test_a_session_before_every_price_has_none_and_is_not_in_the_total_cost():
    early = Session("home", 2000, stop_time="2025-12-31T10:00:00Z", start_time="2025-12-31T08:00:00Z")
    later = Session("home", 1000, stop_time="2026-01-02T10:00:00Z", start_time="2026-01-02T08:00:00Z")
    made = statement.build([early, later], "home", (2025, 12), (2026, 1), "site", ("1111",), TARIFFS)
    assert [(line.price_text, line.cost) for line in made.lines] == [(None, None), ("0.3400", Decimal("0.34"))]
    assert (made.total_energy_wh, made.total_cost, made.without_price) == (3000, Decimal("0.34"), 1)
    assert "1 session had no price valid on its day in tariffs.json: no cost, not in the total cost." in \
        statement.render_text(made)


def test_iso_local_times_carry_the_offset_of_their_moment(monkeypatch):
    monkeypatch.setenv("TZ", L.ZONE)
    time.tzset()
    assert statement.iso_local("2026-10-25T00:30:00Z") == "2026-10-25T02:30:00+02:00"
    assert statement.iso_local("2026-10-25T01:30:00Z") == "2026-10-25T02:30:00+01:00"  # the hour that repeats
    assert statement.iso_local("2026-10-05 06:30:00", local=True) == "2026-10-05T06:30:00+02:00"
    assert statement.iso_local("soon") is statement.iso_local(None) is None
    assert datetime.fromisoformat(statement.iso_local("2026-03-29T01:30:00Z")).utcoffset().seconds == 7200


# --- the command line -----------------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["2026", "10", "--statement"], "--statement needs --account NAME (--statements DIR writes every account's)"),
    (["2026", "10", "--format", "html"], "--format html is for a statement: add --account NAME --statement"),
    (["2026", "10", "--statements", "d", "--format", "csv"], "--statements DIR writes every account's statement"),
    (["2026", "10", "--statements", "d", "--account", "home"], "--statements DIR writes every account's statement"),
    (["2026", "10", "--account", "home", "--statement", "--statements", "d"],
     "give either --statement (one account's, on stdout) or --statements DIR (every account's)"),
    (["2026", "10", "--statements", ""], "--statements needs a directory"),
])
def test_argument_errors(capsys, site_env, argv, message):
    with pytest.raises(SystemExit) as caught:
        run(capsys, site_env, *argv)
    assert caught.value.code == exits.USAGE
    assert f"shocpp-summary: error: {message}" in capsys.readouterr().err


def test_text_is_the_summary_table_and_table_the_statement_text(capsys, site_env):
    assert run(capsys, site_env, "2026", "10", "--format", "text")[1] == run(capsys, site_env, "2026", "10")[1]
    assert run(capsys, site_env, "2026", "10", "--account", "home", "--statement", "--format", "table")[1] == \
        run(capsys, site_env, "2026", "10", "--account", "home", "--statement")[1]


@pytest.mark.parametrize("entries, message", [
    ([{"from": "2026-01-01", "price_per_kwh": 0.34, "currency": "EUR"}],
     "entry 1 price_per_kwh: 0.34 is not a decimal string"),
    ([L.TARIFFS[0], L.TARIFFS[0]], "two prices for the site from 2026-01-01"),
    ([{"from": "2026-01-01", "account": "compnay-x", "price_per_kwh": "0.3", "currency": "EUR"}],
     "account 'compnay-x' is not in tags.json (accounts: company-x, home;"),
    ([L.TARIFFS[0], {**L.TARIFFS[2], "currency": "CHF"}],
     "the prices for account 'company-x' are in two currencies: EUR (the site), CHF (account 'company-x')"),
])
def test_a_broken_tariffs_file_stops_the_statement_naming_the_problem(capsys, site_env, entries, message):
    with open(site_env["SHOCPP_TARIFFSFILE"], "w") as f:
        json.dump(entries, f)
    for argv in (["--account", "home", "--statement"], ["--statements", site_env["SHOCPP_TARIFFSFILE"] + ".d"]):
        status, out, err = run(capsys, site_env, "2026", "10", *argv)
        assert (status, out) == (exits.USAGE, "")
        assert err == f"shocpp-summary: {site_env['SHOCPP_TARIFFSFILE']}: {message}" + err.split(message)[1]
        assert err.endswith("\n") and err.count("\n") == 1


def test_a_broken_tags_file_stops_the_statement(capsys, site_env):
    with open(site_env["SHOCPP_TAGSFILE"], "w") as f:
        f.write("[")
    status, out, err = run(capsys, site_env, "2026", "10", "--account", "home", "--statement")
    assert (status, out) == (exits.USAGE, "")
    assert err.startswith(f"shocpp-summary: {site_env['SHOCPP_TAGSFILE']}: not valid JSON")
    assert run(capsys, site_env, "2026", "10")[0] == 0  # the summary itself does not need tags.json


def test_an_account_without_sessions_gets_an_empty_statement_and_a_word_on_stderr(capsys, site_env):
    status, out, err = run(capsys, site_env, "2026", "10", "--account", "guest", "--statement")
    assert status == 0
    assert "No sessions." in out and "Tags      none in tags.json" in out
    assert out.endswith("Totals\n\nSessions  0\nEnergy    0.000 kWh\nCost      EUR 0.00\n")
    assert err == "shocpp-summary: no sessions of 'guest' (accounts with sessions: company-x, home, unknown)\n"


def test_help_shows_the_statement_options_with_examples(capsys):
    with pytest.raises(SystemExit):
        summary.main(["--help"])
    out = capsys.readouterr().out
    assert "--statement " in out and "--statements DIR" in out and "{table,text,csv,json,html}" in out
    assert "shocpp-summary 2026 10 --account company-x --statement --format html > company-x.html" in out
    assert "shocpp-summary --statements /opt/shocpp/statements" in out
    assert "SHOCPP_TARIFFSFILE" in out and "SHOCPP_SITE_NAME" in out


def test_the_tag_of_a_stop_without_one_is_its_starts(capsys, site_env, tmp_path):
    # issue 24, item 8: the stop carries no idTag, the start record has it
    began = {"event": "start", "charger": "garage-left", "connector_id": 1, "transaction_id": 10001000,
             "id_tag": "2222", "account": "home", "account_index": 1, "meter_start_wh": 1_000_000,
             "start_time": "2026-12-01T08:00:00Z", "recorded_at": "2026-12-01T08:00:00.100Z"}
    ended = {"event": "stop", "charger": "garage-left", "transaction_id": 10001000, "account": "home",
             "account_index": 1, "meter_start_kwh": 1000, "meter_stop_wh": 1_002_000, "consumed_kwh": 2,
             "consumed_wh": 2000, "connector_id": 1, "start_time": "2026-12-01T08:00:00Z",
             "meter_start_wh": 1_000_000, "duration_s": 3600, "energy_wh": 2000, "stop_time": "2026-12-01T09:00:00Z",
             "verdict": "billed", "flags": [], "recorded_at": "2026-12-01T09:00:00.100Z"}
    path = tmp_path / "accounting" / "2026-12.jsonl"
    path.write_text(json.dumps(began) + "\n" + json.dumps(ended) + "\n")
    status, out, _ = run(capsys, site_env, "2026", "12", "--account", "home", "--statement", "--format", "json")
    assert status == 0
    assert [line["id_tag"] for line in json.loads(out)["sessions"]] == ["2222"]
    _, text, _ = run(capsys, site_env, "2026", "12", "--account", "home", "--statement")
    (row,) = [line for line in text.splitlines() if "garage-left" in line]
    assert re.split(" {2,}", row)[3:5] == ["garage-left", "1"] and " 2222 " in row
