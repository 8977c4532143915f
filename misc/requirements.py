"""Print the requirements in pyproject.toml, one per line: the dependencies, then those of the
optional groups named as arguments (e.g. `test sim`). For pip install -r without installing
shocpp itself: bin/ and the tests find it in the tree, and an installed copy's import hook would
cost every process start."""

import ast
import re
import sys
from pathlib import Path


def requirements(text, groups=()):
    found = _list(text, "dependencies")
    optional = text.split("[project.optional-dependencies]", 1)[-1].split("\n[", 1)[0]
    for group in groups:
        found += _list(optional, group)
    return list(dict.fromkeys(found))


def _list(text, name):
    match = re.search(rf"^{re.escape(name)}\s*=\s*(\[[^]]*\])", text, re.M)
    if not match:
        raise SystemExit(f"pyproject.toml has no list {name!r}")
    return ast.literal_eval(match.group(1))


if __name__ == "__main__":
    here = Path(__file__).resolve().parent.parent
    print(*requirements((here / "pyproject.toml").read_text(), sys.argv[1:]), sep="\n")
