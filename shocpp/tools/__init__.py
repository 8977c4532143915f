"""The operator's commands, one module per bin/ command."""

import sys


def printable_output():
    """Print what chargers sent even when it holds lone surrogates (valid in JSON): escaped.

    Here rather than in shocpp.log, whose clock (datetime) shocpp-command need not import."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
