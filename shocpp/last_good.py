"""The last good copies of tags.json and chargers.json: a broken edit never takes chargers offline.

Whoever reads a configuration file and finds it good (the listener at its start, each backend) keeps
a copy in `<run>/last-good/<name>`, atomically; whoever finds it broken uses that copy, and leaves the
problem in `<run>/last-good/<name>.problem` for shocpp-status until the file is good again. Only
with no good copy at all is a broken file refused.
"""

import os
from pathlib import Path

from . import atomic, runfiles

DIR = "last-good"
MODE = 0o640  # as conf/: tags are bearer secrets, chargers.json holds hashes


class LastGood:
    def __init__(self, run_dir, name):
        self.run_dir = Path(run_dir)
        self.copy = self.run_dir / DIR / name
        self.marker = self.run_dir / DIR / f"{name}.problem"

    def read(self):
        """The copy's text, or None without one."""
        try:
            with open(self.copy, encoding="utf-8") as f:
                return f.read()
        except (OSError, UnicodeDecodeError):
            return None

    def keep(self, text):
        """Keep `text`, read from a good file, as the copy, and clear the problem; an OSError's text or None."""
        try:
            if self.read() != text:
                runfiles.ensure_dir(self.run_dir)
                runfiles.ensure_dir(self.copy.parent, 0o750)
                atomic.write_bytes(self.copy, text.encode("utf-8"), mode=MODE, fsync=True)
            _unlink(self.marker)
        except OSError as e:
            return f"cannot keep a copy of the good file in {self.copy}: {e}"
        return None

    def report(self, problem):
        """Leave `problem` (the file is broken, its copy is used) for shocpp-status."""
        try:
            if not self.marker.exists() or self.marker.read_text(encoding="utf-8", errors="replace") != problem + "\n":
                atomic.write_bytes(self.marker, (problem + "\n").encode("utf-8"), mode=MODE)
        except OSError:
            pass  # the log has said it already

    def forget(self):
        """The file was removed on purpose: no copy may bring it back."""
        for path in (self.copy, self.marker):
            try:
                _unlink(path)
            except OSError:
                pass


def problems(run_dir):
    """The problems left by the processes that use a last good copy now: [text]."""
    found = []
    for path in sorted((Path(run_dir) / DIR).glob("*.problem")):
        try:
            found.append(path.read_text(encoding="utf-8", errors="replace").strip())
        except OSError:
            continue
    return found


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
