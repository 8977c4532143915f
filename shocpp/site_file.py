"""The file side of site.json (shocpp-balance): reading it, and keeping the last good one after a broken edit."""

import os

from .protocol.site import SiteError, parse


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise SiteError(f"{path}: cannot read: {e}") from None
    return parse(text, str(path))


class SiteFile:
    """site.json as it is now: reloaded when it changes; a broken edit keeps the last good one."""

    def __init__(self, path):
        self.path = path
        self._stamp = self._stat()
        self.site = load(path)

    def current(self):
        """The site, and an error message when a changed file could not be used."""
        stamp = self._stat()
        if stamp == self._stamp:
            return self.site, None
        self._stamp = stamp
        try:
            self.site = load(self.path)
        except SiteError as e:
            return self.site, f"{e}; still using the site.json loaded before"
        return self.site, None

    def _stat(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns
