"""The README's examples must be accepted: a documented command that the schema refuses is a bug."""

import re
import shlex

import pytest

from shocpp.protocol import schemas
from shocpp.tools.command import parse_payload

from conftest import ROOT

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
