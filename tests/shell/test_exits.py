"""One table of exit statuses: every command's --help and code agree with shocpp/exits.py."""

import ast
import contextlib
import inspect
import io
import pkgutil
import re
from datetime import date
from importlib import import_module
from pathlib import Path

import pytest

from shocpp import exits, tools

BIN = Path(tools.__file__).resolve().parents[2] / "bin"
# The commands: the modules of shocpp/tools that a bin/ script runs (statement is summary's helper).
TOOLS = sorted({m[1] for script in BIN.iterdir()
                for m in re.finditer(r"shocpp\.tools\.([a-z_]+)", script.read_text())})
HELPERS = sorted(m.name for m in pkgutil.iter_modules(tools.__path__) if m.name not in TOOLS)
STATUSES = {name: value for name, value in vars(exits).items() if name.isupper() and type(value) is int}


def help_text(module):
    args = (["--help"], date.today()) if "today" in inspect.signature(module.parse_args).parameters else (["--help"],)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        module.parse_args(*args)
    assert done.value.code in (0, None)
    return out.getvalue()


def listed(text):
    """[(status, its text)] from the lines after the help's 'exit status:', which come last."""
    section = text.split("\nexit status:\n")[-1]
    return [(int(m[1]), m[2]) for m in re.finditer(r"^  ([0-9]+) (.*)$", section, re.MULTILINE)]


def test_each_status_has_one_number_and_a_meaning():
    assert sorted(STATUSES.values()) == list(range(len(STATUSES)))
    assert set(exits.MEANINGS) == set(STATUSES.values()) and all(exits.MEANINGS.values())
    assert exits.OK == 0 and exits.USAGE == 2  # what the shell and argparse mean by them


def test_every_command_is_checked():
    assert TOOLS == ["balance", "command", "dashboard", "listener", "mqtt", "passwd", "status", "summary"]
    # the dashboard's CGI program; summary's model (the ledger read into sessions) and statements
    assert HELPERS == ["dashboard_api", "ledger_sessions", "statement"]


@pytest.mark.parametrize("name", TOOLS)
def test_the_help_lists_the_statuses_of_the_command_with_the_table_meanings(name):
    module = import_module(f"shocpp.tools.{name}")
    shown = listed(help_text(module))
    assert [code for code, _ in shown] == sorted(module.EXITS)
    details = getattr(module, "EXIT_DETAILS", {})
    for code, words in shown:
        assert words == exits.MEANINGS[code] + (f" ({details[code]})" if code in details else "")


@pytest.mark.parametrize("name", TOOLS)
def test_the_code_returns_only_the_statuses_it_lists_and_no_bare_numbers(name):
    module = import_module(f"shocpp.tools.{name}")
    tree = ast.parse(inspect.getsource(module))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "exits"
                for alias in node.names if alias.name in STATUSES}
    assert {STATUSES[n] for n in imported} == set(module.EXITS)
    bare = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Return)
            and isinstance(node.value, ast.Constant) and type(node.value.value) is int]
    assert bare == [], f"{name}: return a status from shocpp.exits, not a number (lines {bare})"


def test_summary_fails_like_the_others_when_the_ledger_cannot_be_read():
    from shocpp.tools import command, status, summary
    assert summary.FAILED == status.FAILED == command.FAILED == 8
