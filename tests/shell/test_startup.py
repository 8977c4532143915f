"""shocpp.startup in-process: the site-packages added when a dependency is first imported."""

import re
import tomllib

from shocpp import startup

from conftest import ROOT


def test_the_dependencies_are_those_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.match(r"[A-Za-z0-9_.-]+", d).group() for d in project["dependencies"]}
    assert {"python-dateutil" if n == "dateutil" else n for n in startup.DEPENDENCIES} == names
