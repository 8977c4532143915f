"""The bin/ wrappers start python -S and find their install (processes)."""

import subprocess


from conftest import BIN, ROOT


def python_s(code):
    """What the wrappers run: the project's interpreter without site, shocpp found through PYTHONPATH."""
    interpreter = ROOT / ".venv" / "bin" / "python"
    return subprocess.run([str(interpreter), "-S", "-c", code], capture_output=True, text=True, cwd="/",
                          env={"PATH": "/usr/bin:/bin", "PYTHONSAFEPATH": "1", "PYTHONPATH": str(ROOT)})


def test_without_site_the_dependencies_are_found_when_first_imported():
    done = python_s("import sys\n"
                    "from shocpp import startup\n"
                    "startup.late_site()\n"
                    "import json, pathlib\n"  # the standard library's failed tries (nt) do not run site
                    "assert 'site' not in sys.modules, 'site ran early'\n"
                    "import jsonschema, dateutil.parser\n"
                    "print(jsonschema.__name__, dateutil.parser.__name__)")
    assert (done.returncode, done.stdout, done.stderr) == (0, "jsonschema dateutil.parser\n", "")


def test_without_late_site_they_are_not():
    done = python_s("import jsonschema")
    assert done.returncode == 1 and "No module named 'jsonschema'" in done.stderr


def test_a_missing_module_is_still_missing():
    done = python_s("from shocpp import startup\nstartup.late_site()\nimport jsonschema.nonesuch")
    assert done.returncode == 1 and "No module named 'jsonschema.nonesuch'" in done.stderr


def test_the_wrappers_of_backend_and_command_start_python_without_site():
    for name, module in (("shocpp-backend", "shocpp.backend"), ("shocpp-command", "shocpp.tools.command")):
        assert f"-S -c 'from shocpp import startup; startup.main(\"{module}\")'" in (BIN / name).read_text()


def test_the_wrappers_find_the_install_through_a_symlink_and_from_a_relative_path(tmp_path):
    (tmp_path / "shocpp-command").symlink_to(BIN / "shocpp-command")
    env = {"PATH": "/usr/bin:/bin", "SHOCPP_RUNDIR": str(tmp_path / "run")}
    for argv, cwd in (([str(tmp_path / "shocpp-command"), "--list"], "/"),
                      (["bin/shocpp-command", "--list"], ROOT),
                      (["./shocpp-command", "--list"], BIN),
                      (["sh", "shocpp-command", "--list"], BIN)):
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        assert (done.returncode, done.stderr) == (5, "no charger is connected\n"), argv
