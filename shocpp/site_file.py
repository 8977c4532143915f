"""The file side of site.json (shocpp-balance): reading it, and keeping the last good one after a broken edit."""

from .protocol.site import SiteError, parse, warnings as site_warnings
from .watched import Watched


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise SiteError(f"{path}: cannot read: {e}") from None
    return parse(text, str(path))


class SiteFile(Watched):
    """site.json as it is now: reloaded when it changes; a broken edit keeps the last good one."""

    def __init__(self, path):
        super().__init__(path, lambda p: (load(p), None), SiteError, "site.json")

    @property
    def site(self):
        return self.value


def warnings(path):
    """site_warnings() of the site.json at `path`; none when it is missing or broken (said elsewhere)."""
    try:
        return site_warnings(load(path))
    except SiteError:
        return []
