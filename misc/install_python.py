"""Run by `make install` with the Python the install's venv is (or would be) made from: exit 1 with
what to do when that Python lies in a home directory, which the units' ProtectHome=yes hides from
the service (a venv only links to its interpreter): the wrappers could not start it. Arguments: the
venv's or interpreter's name for the message, and --allow-home to only warn."""

import os
import sys

HIDDEN = ("/home", "/root", "/run/user")  # what ProtectHome=yes makes inaccessible


def hidden(path):
    real = os.path.realpath(path)
    return next((top for top in HIDDEN if real == top or real.startswith(top + "/")), None)


def main(argv):
    what, allow = argv[0], "--allow-home" in argv[1:]
    for path in (sys.executable, sys.base_prefix):
        top = hidden(path)
        if top is None:
            continue
        message = (f"{what} is the Python {os.path.realpath(path)}, under {top}: the service runs with "
                   f"ProtectHome=yes, which hides it, so the installed shocpp could not start. Use a Python "
                   f"outside home directories: make install INSTALL_PYTHON=/usr/bin/python3 (Debian: apt-get "
                   f"install python3-venv; remove PREFIX/.venv first if it was made from this one), or give "
                   f"ALLOW_HOME_PYTHON=1 and set ProtectHome=no in the units.")
        print(f"make install: {'WARNING: ' if allow else ''}{message}", file=sys.stderr)
        return 0 if allow else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
