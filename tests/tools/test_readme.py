"""The README's examples must be accepted: a documented command that the schema refuses is a bug."""

import re
import shlex

import pytest

from shocpp.protocol import schemas
from shocpp.tools import command
from shocpp.tools.command import parse_payload

from conftest import ROOT

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


def _block_after(marker, fence):
    """The text of the first fenced block (```fence) after `marker` in the README."""
    text = (ROOT / "README.md").read_text()
    lines = text[text.index(marker):].splitlines()
    opening = [n for n, line in enumerate(lines) if line.startswith("```")][::2]  # every other fence opens
    first = next(n for n in opening if lines[n] == f"```{fence}")
    end = next(n for n in range(first + 1, len(lines)) if lines[n] == "```")
    return "\n".join(lines[first + 1:end])


def test_the_readme_tariffs_example_is_a_valid_tariffs_file():
    from shocpp.protocol import tariffs

    example = _block_after("### Prices: tariffs.json", "json")
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
    shown = _block_after("## Statements: energy and cost per account", "").splitlines()
    assert shown[0] == printed[0] and "..." in shown
    cut = shown.index("...")
    assert shown[:cut] == printed[:cut]
    assert shown[cut + 1:] == printed[len(printed) - (len(shown) - cut - 1):]
