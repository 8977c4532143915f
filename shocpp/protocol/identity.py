"""The charger's identity: the last non-empty segment of the URL path, percent-decoded.

It names files under the run directory, so only a safe alphabet gets through.
"""

import re
from urllib.parse import unquote

DEFAULT = "default"
MAX_LENGTH = 48
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,%d}" % MAX_LENGTH)


class BadIdentity(ValueError):
    """The URL names a charger identity that cannot be used safely."""


def from_path(path_info):
    """The identity for PATH_INFO; DEFAULT for an empty path; BadIdentity otherwise."""
    segments = [s for s in (path_info or "").split("/") if s]
    if not segments:
        return DEFAULT
    try:
        identity = unquote(segments[-1], errors="strict")
    except UnicodeDecodeError:
        identity = ""
    if not is_safe(identity):
        raise BadIdentity(f"charger identity {segments[-1][:100]!r} is not 1 to {MAX_LENGTH} "
                          "letters, digits and ._-:")
    return identity



def is_safe(identity):
    """Letters, digits and ._-: only, at most MAX_LENGTH, and not a '.' or '..' path."""
    return isinstance(identity, str) and bool(_SAFE.fullmatch(identity)) and set(identity) != {"."}
