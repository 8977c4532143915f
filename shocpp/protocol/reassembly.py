"""Frames that came as several lines. websocketd hands each line of a text frame to the backend as
a line of its own, and some charger stacks send their frames pretty-printed, newlines between the
JSON tokens. The lines are put back together here, in bounded memory and bounded time:

- a line that is an unfinished JSON array (valid so far, brackets still open) is held;
- a following line continues it when it consists of JSON tokens and does not begin with `[` (a line
  that does is always a frame of its own); it is appended, with its newline, and once the brackets
  are closed the text is decoded as one frame;
- a held fragment is given up, as the malformed frame it is, when the next line does not continue
  it, when it grows over its size limit, at end of input, and WAIT seconds after its first line.
"""

import re

from . import ocppj

WAIT = 1.0  # websocketd writes the lines of one frame together: they come at once

_TOKENS = re.compile(rb'(?:[ \t\r]++|"(?:[^"\\\x00-\x1f]++|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*+"'
                     rb'|-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+|true|false|null'
                     rb'|[\[\]{},:])*+')
_STRINGS = re.compile(rb'"(?:[^"\\]++|\\.)*+"')


class Reassembly:
    """At most one held fragment: its lines, size, open brackets and deadline."""

    def __init__(self, wait=WAIT):
        self.wait = wait
        self._clear()

    def receive(self, line, mono):
        """The frames `line` completes, in order: none (it is held), one, or a fragment given up and one."""
        if self._parts:
            return self._after_held(_bytes(line), mono)
        frame = ocppj.decode(line)
        if frame.__class__ is ocppj.Malformed and frame.unfinished:
            self._hold(_bytes(line), mono)
            return ()
        return (frame,)

    def _after_held(self, line, mono):
        if _continues(line):
            return self._append(line)
        return self.finish() + self.receive(line, mono)

    def _hold(self, line, mono):
        self._parts, self._size, self._depth = [line], len(line), _depth(line)
        self._head, self._deadline = line[:ocppj.PREFIX_WINDOW], mono + self.wait

    def tick(self, mono):
        """The fragment given up once its time is over."""
        return self.finish() if self._deadline is not None and mono >= self._deadline else ()

    def next_deadline(self):
        return self._deadline

    def finish(self):
        """The held fragment, given up (end of input, or a line that does not continue it)."""
        if not self._parts:
            return ()
        text = b"\n".join(self._parts)
        self._clear()
        return (ocppj.decode(text),)

    def _append(self, line):
        if len(self._head) < ocppj.PREFIX_WINDOW:
            self._head = (self._head + b"\n" + line)[:ocppj.PREFIX_WINDOW]
        self._size += 1 + len(line)
        if self._size > ocppj.limit(self._head):
            head = self._head
            self._clear()
            return (ocppj.over_long(head),)
        self._parts.append(line)
        self._depth += _depth(line)
        if self._depth > 0:
            return ()
        text = b"\n".join(self._parts)
        self._clear()
        return (ocppj.decode(text),)

    def _clear(self):
        self._parts, self._size, self._depth, self._head, self._deadline = [], 0, 0, b"", None


def _bytes(line):
    return line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line


def _continues(line):
    return not line.lstrip(b" \t\r").startswith(b"[") and _TOKENS.fullmatch(line) is not None


def _depth(line):
    """Brackets the line opens, less those it closes, outside strings."""
    bare = _STRINGS.sub(b"", line)
    return bare.count(b"[") + bare.count(b"{") - bare.count(b"]") - bare.count(b"}")
