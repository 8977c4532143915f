"""The operator's commands, one module per bin/ command, and what they share: the text a charger
sent is shown escaped on the operator's terminal and made inert in a spreadsheet."""

import sys

CSV_INERT = tuple("=+-@\t\r")  # what a spreadsheet would read as the start of a formula


def printable_output():
    """Print what chargers sent even when it holds lone surrogates (valid in JSON): escaped.

    Here rather than in shocpp.log, whose clock (datetime) shocpp-command need not import."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def printable(text):
    """Text for a terminal, on one line: each character that is not printable — C0 and C1 controls
    (newline, escape), DEL, bidirectional and other format controls, lone surrogates — as its
    escape (`\\x1b`, `\\u202e`), so that what a charger sent can neither draw nor forge a line."""
    text = str(text)
    return text if text.isprintable() else "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(c):
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def printable_json(data, **options):
    """json.dumps(data, ensure_ascii=False, **options) with every character that is not printable
    written as a JSON escape (`\\u001b`, `\\u202e`): the same data for a script, nothing drawn on
    a terminal. The newlines of `indent` stay."""
    import json  # here: the dashboard's refusals import shocpp.tools and need no json
    return printable_json_text(json.dumps(data, ensure_ascii=False, **options))


def printable_json_text(text):
    """JSON text (ensure_ascii=False) with its non-printable characters as \\u escapes. Outside
    strings JSON has only white space, and an encoder writes no other than spaces and newlines."""
    return "\n".join(line if line.isprintable() else "".join(c if c.isprintable() else _json_escape(c) for c in line)
                     for line in text.split("\n"))


def _json_escape(c):
    n = ord(c)
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xd800 + (n >> 10):04x}\\u{0xdc00 + (n & 0x3ff):04x}"


def inert(text):
    """A CSV cell a spreadsheet reads as text, never as a formula: a leading = + - @ tab or CR gets a quote."""
    return "'" + text if text and text.startswith(CSV_INERT) else text
