"""The file side of tags.json: reading it, and keeping up with edits while a charger is connected."""

import os

from .protocol.tags import TagsError, parse


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise TagsError(f"{path}: cannot read: {e}") from None
    return parse(text, str(path))


class TagsFile:
    """tags.json as it is now: reloaded when it changes; a broken edit keeps the last good one."""

    def __init__(self, path):
        self.path = path
        self._stamp = self._stat()
        self.tags = load(path)

    def current(self):
        """The tags, and an error message when a changed file could not be used."""
        stamp = self._stat()
        if stamp == self._stamp:
            return self.tags, None
        self._stamp = stamp
        try:
            self.tags = load(self.path)
        except TagsError as e:
            return self.tags, f"{e}; still using the tags loaded before"
        return self.tags, None

    def _stat(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns
