"""shocpp-summary: the energy charged per account in a month or a range of months.

Reads the ledger, `<dir>/YYYY-MM.jsonl`, and the records of the bash original,
`<dir>/YYYY/MM/*.json`, and prints a table, CSV or JSON. Parsing, adding up and
rendering are pure functions; only read_sessions() and main() do I/O.
"""

import argparse
import csv
import fcntl
import io
import json
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Optional

from .. import config as config_module
from . import printable_output
from .. import ledger
from ..exits import FAILED, OK, USAGE, describe
from ..protocol import months, numbers
from ..protocol.tags import UNKNOWN_ACCOUNT

EXITS = (OK, USAGE, FAILED)
EXIT_DETAILS = {FAILED: "the ledger cannot be read"}
BAR_WIDTH = 24
EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
LEGACY, LEDGER = "legacy", "ledger"
NEGATIVE, UNKNOWN_ENERGY = "negative", "unknown_energy"
CSV_FIELDS = ("month", "stop_time", "charger", "account", "id_tag", "meter_start_kwh", "meter_stop_kwh",
              "consumed_kwh", "consumed_wh", "reason", "transaction_id", "source", "flag")

EXAMPLES = """\
examples:
  shocpp-summary                          the previous month
  shocpp-summary 2026 10                  October 2026
  shocpp-summary 2026 10 --format csv     the sessions as CSV, for a spreadsheet
  shocpp-summary 2026 10 --format json    totals and sessions as JSON, for scripts
  shocpp-summary --from 2026-01 --to 2026-06 --account company-x

Sessions under the account 'unknown' (charged with unknown tags) are totalled on a line of
their own, outside the accounts' total and inside the grand total. Ledger lines that cannot be
read are named on stderr and skipped.

"""


class BadRecord(ValueError):
    def __init__(self, message, line=1):
        super().__init__(message)
        self.line = line


@dataclass
class Session:
    account: str
    consumed_kwh: Optional[int]
    stop_time: Optional[str] = None
    charger: Optional[str] = None
    id_tag: Optional[str] = None
    start_kwh: Optional[int] = None
    stop_kwh: Optional[str] = None  # the reading as text: '12350.999', legacy '1250'
    consumed_wh: Optional[int] = None
    reason: Optional[str] = None
    transaction_id: Optional[int] = None
    source: str = LEDGER
    month: Optional[str] = None

    @property
    def flag(self):
        if self.consumed_kwh is None:
            return UNKNOWN_ENERGY
        return NEGATIVE if self.consumed_kwh < 0 else None


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Tally:
    sessions: int = 0
    kwh: int = 0
    unknown_energy: int = 0
    negative: int = 0

    def add(self, session):
        self.sessions += 1
        if session.consumed_kwh is None:
            self.unknown_energy += 1
        else:
            self.kwh += session.consumed_kwh
            self.negative += session.consumed_kwh < 0

    def __add__(self, other):
        return Tally(self.sessions + other.sessions, self.kwh + other.kwh,
                     self.unknown_energy + other.unknown_energy, self.negative + other.negative)


@dataclass
class Summary:
    first: tuple
    last: tuple
    account: Optional[str]
    accounts: list  # [(name, Tally)], most kWh first
    unknown: Tally
    sessions: list
    skipped: list = field(default_factory=list)

    @property
    def accounts_total(self):
        return sum((tally for _, tally in self.accounts), Tally())

    @property
    def grand_total(self):
        return self.accounts_total + self.unknown


# --- months ---------------------------------------------------------------------------------

def parse_month(text, option):
    try:
        month = months.parse(text)
    except ValueError as e:
        raise ValueError(f"{option} {text}: {e}") from None
    if month is None:
        raise ValueError(f"{option} {text!r} is not a month like 2026-10")
    return month


def _checked(year, month, what):
    try:
        return months.checked(year, month)
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None


def month_range(year, month, first, last, today):
    """(first, last) months from the arguments; ValueError saying what is wrong."""
    if year is not None:
        if first or last:
            raise ValueError("give either YEAR MONTH or --from/--to, not both")
        if month is None:
            raise ValueError(f"YEAR needs a MONTH too, e.g. {year} 10")
        if not re.fullmatch(r"[0-9]{4}", year, re.ASCII) or not re.fullmatch(r"[0-9]{1,2}", month, re.ASCII):
            raise ValueError(f"{year} {month} is not a year and month like 2026 10")
        one = _checked(int(year), int(month), f"{year} {month}")
        return one, one
    if last and not first:
        raise ValueError("--to needs --from")
    if not first:
        previous = months.previous(months.of(today))
        return previous, previous
    start = parse_month(first, "--from")
    end = parse_month(last, "--to") if last else months.of(today)
    if start > end:
        raise ValueError(f"--from {months.label(start)} is after "
                         + (f"--to {months.label(end)}" if last else f"this month ({months.label(end)})"))
    return start, end


def period(first, last):
    return months.name(first) if first == last else f"{months.name(first)} to {months.name(last)}"


# --- parsing --------------------------------------------------------------------------------

def parse_line(line, month=None):
    """A Session from one ledger line (str or bytes); BadRecord saying what is wrong."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise BadRecord(f"not JSON ({e})") from None
    if type(record) is not dict:
        raise BadRecord("not a JSON object")
    account = record.get("account")
    if type(account) is not str or not account:
        raise BadRecord("no account")
    if "consumed_kwh" not in record:
        raise BadRecord("no consumed_kwh")
    kwh = record["consumed_kwh"]
    if kwh is not None and type(kwh) is not int:
        raise BadRecord(f"consumed_kwh {json.dumps(kwh)} is not a whole number or null")
    get = record.get
    return Session(
        account, kwh, _text(get("stop_time")), _text(get("charger")), _text(get("id_tag")),
        _int_or_none(get("meter_start_kwh")), kwh_text(_int_or_none(get("meter_stop_wh"))),
        _int_or_none(get("consumed_wh")), _text(get("reason")), _int_or_none(get("transaction_id")), LEDGER, month)


def parse_legacy(text, month=None):
    """A Session from a record file of the bash original (string values); BadRecord if unusable."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadRecord(f"not JSON ({e})", e.lineno) from None
    except ValueError as e:
        raise BadRecord(f"not JSON ({e})") from None
    if type(record) is not dict:
        raise BadRecord("not a JSON object")
    account = record.get("account")
    if not isinstance(account, str):
        raise BadRecord("no account")
    if "consumed_kwh" not in record:
        raise BadRecord("no consumed_kwh")
    kwh = numbers.integer(record["consumed_kwh"])
    if kwh is None:
        raise BadRecord(f"consumed_kwh {json.dumps(record['consumed_kwh'])} is not a whole number")
    end_kwh = numbers.integer(record.get("end_kwh"))
    # The original wrote an empty account for an index missing from tags.json.
    return Session(account or UNKNOWN_ACCOUNT, kwh, _text(record.get("localtime")),
                   start_kwh=numbers.integer(record.get("begin_kwh")),
                   stop_kwh=None if end_kwh is None else str(end_kwh), source=LEGACY, month=month)


def kwh_text(wh):
    """Wh as exact kWh text, '12350.999'; None for None."""
    if wh is None:
        return None
    kwh, rest = divmod(abs(wh), 1000)
    return f"{'-' if wh < 0 else ''}{kwh}.{rest:03d}"


def _int_or_none(value):
    return value if type(value) is int else None


def _text(value):
    return value if value is None or type(value) is str else json.dumps(value, ensure_ascii=False)


# --- reading --------------------------------------------------------------------------------

def read_sessions(directory, wanted):
    """The sessions of the months wanted, in order (legacy records first in a month), and the problems."""
    sessions, problems = [], []
    for month in wanted:
        label = months.label(month)
        year, number = label.split("-")
        for path in sorted((Path(directory) / year / number).glob("*.json")):
            _read_legacy(path, label, sessions, problems)
        _read_ledger(ledger.month_file(directory, label), label, sessions, problems)
    return sessions, problems


def _read_ledger(path, label, sessions, problems):
    try:
        with open(path, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)  # ledger.append() writes under LOCK_EX: never half a line
            data = f.read()
    except FileNotFoundError:
        return
    lines = _lines(data)
    for number, line in enumerate(lines[:-1], 1):
        if not line.strip():
            continue
        try:
            sessions.append(parse_line(line, label))
        except BadRecord as e:
            problems.append(Problem(str(path), number, str(e)))
    if lines[-1].strip():
        problems.append(Problem(str(path), len(lines), "no newline at the end: a line cut by a crash, never "
                                                       "confirmed (the next append removes it)"))


def _lines(data):
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError:  # keep the bad lines as bytes: parse_line() names them
        return [_utf8_or_bytes(line) for line in data.split(b"\n")]


def _utf8_or_bytes(line):
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line


def _read_legacy(path, label, sessions, problems):
    try:
        sessions.append(parse_legacy(path.read_bytes(), label))
    except BadRecord as e:
        problems.append(Problem(str(path), e.line, str(e)))


# --- adding up ------------------------------------------------------------------------------

def aggregate(sessions, first, last, account=None, skipped=()):
    if account is not None:
        sessions = [s for s in sessions if s.account == account]
    tallies, unknown = {}, Tally()
    for session in sessions:
        if session.account == UNKNOWN_ACCOUNT:
            unknown.add(session)
        else:
            tally = tallies.get(session.account)
            if tally is None:
                tally = tallies[session.account] = Tally()
            tally.add(session)
    accounts = sorted(tallies.items(), key=lambda item: (-item[1].kwh, item[0]))
    return Summary(first, last, account, accounts, unknown, list(sessions), list(skipped))


# --- rendering ------------------------------------------------------------------------------

def bar(kwh, largest, width=BAR_WIDTH):
    """Blocks in eighths of a character, `width` for the largest; a sliver for any positive amount."""
    if largest <= 0 or kwh <= 0:
        return ""
    eighths = max(1, (kwh * width * 16 + largest) // (largest * 2))
    return "█" * (eighths // 8) + EIGHTHS[eighths % 8]


def render_table(summary):
    title = f"Energy charged in {period(summary.first, summary.last)}"
    if summary.account is not None:
        title += f", account {summary.account}"
    lines = [title, ""]
    if summary.sessions:
        lines += _totals_table(summary) + [""] + _notes(summary)
        lines += ["Sessions", ""] + _sessions_table(summary.sessions)
    else:
        lines += ["No sessions."] + _notes(summary)
    return "\n".join(lines) + "\n"


def _totals_table(summary):
    show_unknown = summary.account in (None, UNKNOWN_ACCOUNT)
    largest = max([t.kwh for _, t in summary.accounts] + [summary.unknown.kwh])
    rows = [("account", "sessions", "kWh", "")]
    rows += [(name, str(t.sessions), str(t.kwh), bar(t.kwh, largest)) for name, t in summary.accounts]
    if summary.account != UNKNOWN_ACCOUNT:
        total = summary.accounts_total
        rows += [None, ("accounts total", str(total.sessions), str(total.kwh), "")]
    if show_unknown:
        unknown = summary.unknown
        rows.append(("unknown tags", str(unknown.sessions), str(unknown.kwh), bar(unknown.kwh, largest)))
    if summary.account is None:
        total = summary.grand_total
        rows.append(("grand total, with unknown tags", str(total.sessions), str(total.kwh), ""))
    return _layout(rows, "<>><")


def _notes(summary):
    total = summary.grand_total
    notes = []
    if total.unknown_energy:
        notes.append(f"{_count(total.unknown_energy, 'session')} had unknown energy (transactionId not "
                     "decodable): shown as '?', counted as 0 kWh.")
    if total.negative:
        notes.append(f"{_count(total.negative, 'session')} had negative consumption (meter replaced or "
                     "reset?): summed as is, noted below.")
    if summary.skipped:
        notes.append(f"{_count(len(summary.skipped), 'ledger line')} could not be read and "
                     f"{'was' if len(summary.skipped) == 1 else 'were'} skipped (named on stderr).")
    return notes + [""] if notes else []


def _sessions_table(sessions):
    exact = any(s.consumed_wh is not None for s in sessions)
    header = ("stop time", "charger", "account", "tag", "start kWh", "stop kWh", "kWh") + \
        (("exact kWh",) if exact else ()) + ("reason", "note")
    rows = [header, None]
    for s in sessions:
        row = [s.stop_time or "-", s.charger or "-", s.account, s.id_tag or "-", _or_dash(s.start_kwh),
               s.stop_kwh or "-", "?" if s.consumed_kwh is None else str(s.consumed_kwh)]
        if exact:
            row.append(kwh_text(s.consumed_wh) or "-")
        row += [s.reason or "-", _note(s)]
        rows.append(row)
    return _layout(rows, "<<<<>>>" + (">" if exact else "") + "<<")


_NOTES = {(LEDGER, None): "", (LEDGER, NEGATIVE): "negative", (LEDGER, UNKNOWN_ENERGY): "energy unknown",
          (LEGACY, None): "legacy", (LEGACY, NEGATIVE): "legacy, negative",
          (LEGACY, UNKNOWN_ENERGY): "legacy, energy unknown"}


def _note(session):
    return _NOTES[session.source, session.flag]


def _or_dash(value):
    return "-" if value is None else str(value)


def _count(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _layout(rows, aligns):
    """Rows of text cells in columns padded to their widest cell, `aligns` '<' or '>' each; None is a rule."""
    widths = [max(map(len, column)) for column in zip(*(row for row in rows if row is not None))]
    form = "  ".join(f"{{:{a}{w}}}" for a, w in zip(aligns, widths)).format
    rule = "-" * (sum(widths[:-1]) + 2 * (len(widths) - 2))  # up to the last column
    return [rule if row is None else form(*row).rstrip() for row in rows]


def render_csv(summary):
    """One row a session (RFC 4180: header, CRLF); sum the kWh per account in the spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for s in summary.sessions:
        writer.writerow(["" if v is None else v for v in _session_values(s)])
    return out.getvalue()


def _session_values(s):
    return (s.month, s.stop_time, s.charger, s.account, s.id_tag, s.start_kwh, s.stop_kwh, s.consumed_kwh,
            s.consumed_wh, s.reason, s.transaction_id, s.source, s.flag)


def render_json(summary):
    head = {
        "from": months.label(summary.first),
        "to": months.label(summary.last),
        "account_filter": summary.account,
        "accounts": [{"account": name, **_tally_dict(t)} for name, t in summary.accounts],
        "accounts_total": _tally_dict(summary.accounts_total),
        "unknown_tags": _tally_dict(summary.unknown),
        "grand_total": _tally_dict(summary.grand_total),
        "skipped_lines": len(summary.skipped),
        "skipped": [{"file": p.path, "line": p.line, "problem": p.message} for p in summary.skipped],
    }
    text = json.dumps(head, indent=2, ensure_ascii=False)
    # One session a line: the indenting encoder is pure Python, too slow for 100,000 sessions.
    encode = json.JSONEncoder(ensure_ascii=False).encode
    sessions = ",\n    ".join([encode(_session_dict(s)) for s in summary.sessions])
    listed = f"[\n    {sessions}\n  ]" if sessions else "[]"
    return f'{text[:-2]},\n  "sessions": {listed}\n}}\n'


def _tally_dict(tally):
    return {"sessions": tally.sessions, "kwh": tally.kwh,
            "sessions_unknown_energy": tally.unknown_energy, "sessions_negative": tally.negative}


def _session_dict(s):
    values = dict(zip(CSV_FIELDS, _session_values(s)))
    if s.stop_kwh is not None:
        values["meter_stop_kwh"] = float(s.stop_kwh) if "." in s.stop_kwh else int(s.stop_kwh)
    return values


RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json}


# --- command line ---------------------------------------------------------------------------

def parse_args(argv, today):
    parser = argparse.ArgumentParser(
        prog="shocpp-summary", epilog=EXAMPLES + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The energy charged per account in a month (default: the previous month), with\n"
                    "every session, from the ledger in SHOCPP_ACCOUNTINGDIR.")
    parser.add_argument("year", nargs="?", help="the year, e.g. 2026")
    parser.add_argument("month", nargs="?", help="the month, 1 to 12")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM", help="the first month of a range")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM",
                        help="the last month of the range (default: this month)")
    parser.add_argument("--account", metavar="NAME", help="only this account ('unknown': unknown tags)")
    parser.add_argument("--format", choices=tuple(RENDERERS), default="table",
                        help="table (default), csv (one row a session) or json")
    args = parser.parse_args(argv)
    try:
        args.first, args.last = month_range(args.year, args.month, args.first, args.last, today)
    except ValueError as e:
        parser.error(str(e))
    return args


def main(argv=None, env=None, today=None):
    printable_output()
    args = parse_args(argv, today or date.today())
    return _run(args, env)


def _run(args, env):
    try:
        directory = config_module.from_env(env).accounting_dir
        if not directory.is_dir():
            raise FileNotFoundError(f"the ledger directory {directory} does not exist (SHOCPP_ACCOUNTINGDIR)")
        sessions, problems = read_sessions(directory, months.between(args.first, args.last))
    except (OSError, config_module.ConfigError) as e:
        print(f"shocpp-summary: {e}", file=sys.stderr)
        return USAGE if isinstance(e, config_module.ConfigError) else FAILED
    for problem in problems:
        print(f"shocpp-summary: {problem}; skipped", file=sys.stderr)
    if problems:
        print(f"shocpp-summary: {_count(len(problems), 'line')} skipped; the summary covers the rest",
              file=sys.stderr)
    summary = aggregate(sessions, args.first, args.last, args.account, problems)
    if args.account is not None and not summary.sessions:
        names = ", ".join(sorted({s.account for s in sessions})) or "none"
        print(f"shocpp-summary: no sessions of {args.account!r} (accounts with sessions: {names})",
              file=sys.stderr)
    return _write(RENDERERS[args.format](summary))


def _write(text):
    # UTF-8 whatever the locale (JSON must be, spreadsheets expect it), and CSV's CRLF untranslated.
    out = getattr(sys.stdout, "buffer", None)
    try:
        if out is None:
            sys.stdout.write(text)
        else:
            out.write(text.encode("utf-8"))
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader that stopped early (| head) is no failure; keep Python quiet at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return OK


if __name__ == "__main__":
    sys.exit(main())
