"""The pure core stays pure: no module under shocpp/protocol/ imports I/O, or the shell around it."""

import ast
from pathlib import Path

import pytest

PROTOCOL = Path(__file__).resolve().parents[2] / "shocpp" / "protocol"
FORBIDDEN = {"os", "io", "time", "fcntl", "selectors", "signal", "subprocess", "socket", "pathlib",
             "shutil", "tempfile", "select", "sys"}
MODULES = sorted(PROTOCOL.rglob("*.py"))


def imported(path):
    """(module name, level) of every import statement in the file, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


def absolute(path, name, level):
    if level == 0:
        return name
    package = list(path.relative_to(PROTOCOL.parent.parent).with_suffix("").parts[:-1])
    base = package[:len(package) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def test_the_walk_sees_every_module():
    assert {p.name for p in MODULES} >= {"session.py", "ocppj.py", "handlers.py", "billing.py", "compiler.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PROTOCOL)))
def test_no_io_and_no_shell_in_the_pure_core(path):
    for name, level in imported(path):
        module = absolute(path, name, level)
        assert module.split(".")[0] not in FORBIDDEN, f"{path.name} imports {module}"
        if module.split(".")[0] == "shocpp":
            assert module.startswith("shocpp.protocol"), f"{path.name} imports the shell: {module}"


def test_the_walk_would_catch_an_offender(tmp_path):
    offender = PROTOCOL / "billing.py"
    assert absolute(offender, "runfiles", 2) == "shocpp.runfiles"
    assert absolute(offender, "", 1) == "shocpp.protocol"
    assert absolute(PROTOCOL / "schemas" / "compiler.py", "timestamps", 2) == "shocpp.protocol.timestamps"
    sample = tmp_path / "sample.py"
    sample.write_text("import json\ndef f():\n    import os.path\nfrom time import monotonic\n")
    assert sorted(name for name, _ in imported(sample)) == ["json", "os.path", "time"]
