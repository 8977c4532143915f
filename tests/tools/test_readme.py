"""The README's examples must be accepted: a documented command that the schema refuses is a bug."""

import re
import shlex

import pytest

from shocpp.protocol import schemas
from shocpp.tools import command
from shocpp.tools.command import parse_payload

from conftest import ROOT, readme_block

EXAMPLES = [line for line in (ROOT / "README.md").read_text().splitlines()
            if line.startswith("bin/shocpp-command ") and "--list" not in line]


def arguments(line):
    return command.parse_args(shlex.split(re.sub(r"\s+#.*$", "", line))[1:])


def test_the_readme_shows_commands_for_the_common_tasks():
    actions = {arguments(line).action for line in EXAMPLES}
    assert {"RemoteStartTransaction", "RemoteStopTransaction", "Reset", "GetConfiguration",
            "ChangeConfiguration", "TriggerMessage", "SetChargingProfile", "GetVariables",
            "RequestStopTransaction"} <= actions


@pytest.mark.parametrize("line", EXAMPLES)
def test_every_documented_command_passes_the_schema(line):
    args = arguments(line)
    if args.payload is None:  # a convenience: the payload is made for the charger's protocol
        assert args.action in command.STARTS + command.STOPS + ("Reset",)
    elif args.action in schemas.FROM_CENTRAL and line.split()[2] != "carport":  # carport speaks 2.0.1
        assert isinstance(parse_payload(args.action, args.payload), dict)
    else:
        assert isinstance(parse_payload(args.action, args.payload, "2.0.1"), dict)


def test_the_readme_tariffs_example_is_a_valid_tariffs_file():
    from shocpp.protocol import tariffs

    example = readme_block("### Prices: tariffs.json", "json")
    parsed = tariffs.parse(example, ["home", "company-x"])
    assert parsed.currency("company-x") == "EUR"


def test_the_readme_statement_is_what_the_command_prints(capsys, tmp_path, monkeypatch):
    import time
    from datetime import date

    import statement_ledger
    from shocpp.tools import summary

    env = statement_ledger.write_site(tmp_path)
    monkeypatch.setenv("TZ", statement_ledger.ZONE)
    time.tzset()
    assert summary.main(["2026", "10", "--account", "home", "--statement"], env=env, today=date(2026, 12, 1)) == 0
    printed = capsys.readouterr().out.splitlines()
    shown = readme_block("## Statements: energy and cost per account", "").splitlines()
    assert shown[0] == printed[0] and "..." in shown
    cut = shown.index("...")
    assert shown[:cut] == printed[:cut]
    assert shown[cut + 1:] == printed[len(printed) - (len(shown) - cut - 1):]


def test_no_heading_of_the_readme_is_empty():
    """#24 item 8: a heading followed straight by another of the same or a higher level has nothing."""
    headings = [(n, len(line) - len(line.lstrip("#")), line) for n, line in
                enumerate((ROOT / "README.md").read_text().splitlines()) if re.match(r"#+ ", line)]
    lines = (ROOT / "README.md").read_text().splitlines()
    empty = [line for (n, level, line), (m, next_level, _) in zip(headings, headings[1:])
             if next_level <= level and not any(text.strip() for text in lines[n + 1:m])]
    assert empty == []


def review_example(directory):
    """November 2026 of the README's summary: billed, no_start, clock_off, a repeat and two lines to review,
    each stop judged by the core as the backend would (billing.stop_record)."""
    from datetime import datetime, timezone

    from shocpp import ledger
    from shocpp.protocol import billing, tags, transaction_id

    site = tags.parse('[{"index": 1, "account": "home", "ids": ["1111"]}, {"index": 2, "account": "company-x", '
                      '"ids": ["3333"]}, {"index": 3, "account": "guest", "ids": ["4444"]}]')
    records = []

    def at(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)

    def started(charger, tag, wh, when, connector=1):
        account = site.lookup(tag)
        record = billing.start_record(charger, {"connectorId": connector, "idTag": tag, "meterStart": wh,
                                                "timestamp": when}, account, transaction_id.encode(account.index, wh),
                                      at(when))
        records.append(record)
        ledger.append(directory, "2026-11", record)
        return record["transaction_id"]

    def stopped(charger, tid, wh, when, received=None, tag=None):
        payload = {"transactionId": tid, "meterStop": wh, "timestamp": when, **({"idTag": tag} if tag else {})}
        record = billing.stop_record(charger, payload, site, at(received or when), records, charger_listed=True,
                                     tz=timezone.utc)
        records.append(record)
        ledger.append(directory, "2026-11", record)

    tid = started("garage-left", "1111", 1_000_000, "2026-11-01T08:00:00Z")
    stopped("garage-left", tid, 1_002_500, "2026-11-01T09:00:00Z")
    stopped("garage-left", tid, 1_002_501, "2026-11-01T09:10:00Z", "2026-11-03T07:00:00Z")  # rebuilt: a repeat
    stopped("garage-right", 20_002_000, 2_007_000, "2026-11-04T09:00:00Z", tag="3333")  # its start was lost
    tid = started("garage-right", "3333", 2_007_000, "2026-11-05T08:00:00Z")
    stopped("garage-right", tid, 2_008_000, "2019-06-01T12:00:00Z", "2026-11-05T09:00:00Z")  # a clock gone back
    tid = started("garage-left", "1111", 1_002_500, "2026-11-06T08:00:00Z")
    stopped("garage-left", tid, 1_001_500, "2026-11-06T09:00:00Z")  # the meter was replaced
    started("garage-left", "4444", 1_001_500, "2026-11-07T08:00:00Z")
    stopped("garage-left", 20_001_001, 1_011_500, "2026-11-07T10:00:00Z")  # company-x's id, the guest charging


def test_the_readme_summary_is_what_the_command_prints(capsys, tmp_path, monkeypatch):
    import time
    from datetime import date

    from shocpp.tools import summary

    review_example(tmp_path)
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    assert summary.main(["2026-11"], env={"SHOCPP_ACCOUNTINGDIR": str(tmp_path)}, today=date(2026, 12, 1)) == 0
    printed = capsys.readouterr().out.splitlines()
    assert readme_block("## The monthly bill: shocpp-summary", "").splitlines() == printed
