"""The README's examples must be accepted: a documented command that the schema refuses is a bug."""

import re
import shlex

import pytest

from shocpp.protocol import schemas
from shocpp.tools.command import parse_payload

from conftest import ROOT, readme_block

EXAMPLES = [line for line in (ROOT / "README.md").read_text().splitlines()
            if line.startswith("bin/shocpp-command ") and "--list" not in line]


def test_the_readme_shows_commands_for_the_common_tasks():
    actions = {shlex.split(line)[-2] for line in EXAMPLES}
    assert {"RemoteStartTransaction", "RemoteStopTransaction", "Reset", "GetConfiguration",
            "ChangeConfiguration", "TriggerMessage", "SetChargingProfile"} <= actions


@pytest.mark.parametrize("line", EXAMPLES)
def test_every_documented_command_passes_the_schema(line):
    words = shlex.split(re.sub(r"\s+#.*$", "", line))
    action, payload = words[-2], words[-1]
    assert action in schemas.FROM_CENTRAL
    assert isinstance(parse_payload(action, payload), dict)


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
