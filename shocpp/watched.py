"""A configuration file kept up to date while a process runs: loaded again when it changes on disk,
and what was loaded before kept when an edit breaks it."""

import os


def stamp(path):
    """What changes when the file is edited or replaced: (inode, size, mtime); None when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class Watched:
    """`load(path)` gives (value, problem: a line for the log, or None) and raises `error` when nothing
    can be used; `what` names the value in the message that says the one before is kept."""

    def __init__(self, path, load, error, what):
        self.path, self._load, self._error, self._what = path, load, error, what
        self._stamp = stamp(path)
        self.value, self.problem = load(path)

    def current(self):
        """The value, and a message when a changed file could not be used (None: all is well)."""
        now = stamp(self.path)
        if now == self._stamp:
            return self.value, None
        self._stamp = now
        try:
            self.value, problem = self._load(self.path)
        except self._error as e:
            return self.value, f"{e}; still using the {self._what} loaded before"
        return self.value, problem
