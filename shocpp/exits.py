"""The exit statuses of the shocpp commands: each number means the same in every command.

Each command in shocpp/tools names the statuses it can return in EXITS; its --help ends
with describe(EXITS). argparse exits with USAGE (2) by itself.
"""

OK = 0
CALLERROR = 1
USAGE = 2
TIMEOUT = 3
NO_SUCH_CHARGER = 4
NO_CHARGER = 5
STALE = 6
AMBIGUOUS = 7
FAILED = 8
NOT_INSTALLED = 9
REJECTED = 10

MEANINGS = {
    OK: "done",
    CALLERROR: "the charger answered with a CALLERROR",
    USAGE: "bad usage, payload, setting or conf file; nothing was done",
    TIMEOUT: "no answer in time",
    NO_SUCH_CHARGER: "no such charger",
    NO_CHARGER: "no charger is connected",
    STALE: "only a stale FIFO of a killed backend (removed)",
    AMBIGUOUS: "several chargers connected (choose with --charger)",
    FAILED: "another failure",
    NOT_INSTALLED: "a program it needs is not installed (websocketd)",
    REJECTED: "the charger answered Rejected",
}


def describe(statuses, details=None):
    """The end of a command's --help: 'exit status:' and a line for each status it returns.

    details: {status: what it means for this command}, in parentheses after the meaning.
    """
    details = details or {}
    return "exit status:\n" + "".join(
        f"  {code} {MEANINGS[code]}" + (f" ({details[code]})" if code in details else "") + "\n"
        for code in sorted(statuses))
