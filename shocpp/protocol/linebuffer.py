"""Splits a byte stream into lines, in bounded memory whatever the peer sends."""


class LineBuffer:
    def __init__(self, max_line):
        self.max_line = max_line
        self._pending = bytearray()
        self._overlong = False

    def feed(self, data):
        """The complete lines in `data` (without newline). An over-long line comes out
        cut to max_line + 1 bytes, so that it is seen to be too long."""
        lines = []
        self._pending += data
        while True:
            end = self._pending.find(b"\n")
            if end < 0:
                break
            line = bytes(self._pending[:min(end, self.max_line + 1)])
            del self._pending[:end + 1]
            if self._overlong:
                self._overlong = False
            else:
                lines.append(line)
        if len(self._pending) > self.max_line and not self._overlong:
            lines.append(bytes(self._pending[:self.max_line + 1]))
            self._overlong = True
        if self._overlong:
            self._pending.clear()
        return lines

    def rest(self):
        """What is left at end of input: a last line without newline."""
        rest, self._pending = bytes(self._pending), bytearray()
        return [] if self._overlong or not rest else [rest]
