"""shocpp-summary: the energy charged per account in a month or a range of months.

Reads the ledger, `<dir>/YYYY-MM.jsonl`, and the records of the bash original,
`<dir>/YYYY/MM/*.json`, and prints a table, CSV or JSON. Parsing, adding up and
rendering are pure functions; only read_sessions() and main() do I/O. Energy is
integer Wh throughout and printed as exact kWh text, never through a float.
"""

import argparse
import csv
import fcntl
import io
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Optional, Union

from .. import config as config_module
from . import inert, printable, printable_json_text, printable_output
from .. import ledger
from ..exits import FAILED, OK, USAGE, describe
from ..protocol import months, numbers, timestamps
from ..protocol.tags import UNKNOWN_ACCOUNT

EXITS = (OK, USAGE, FAILED)
EXIT_DETAILS = {USAGE: "or a broken tags.json or tariffs.json for a statement or --format json",
                FAILED: "the ledger cannot be read, or a statement cannot be written"}
BAR_WIDTH = 24
EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
LEGACY, LEDGER = "legacy", "ledger"
START, STOP = "start", "stop"
NEGATIVE, IMPLAUSIBLE, UNKNOWN_ENERGY = "negative", "implausible", "unknown_energy"
LEFT_OUT = frozenset((NEGATIVE, IMPLAUSIBLE))  # flags whose energy no account is billed
TIME_FORMAT = "%Y-%m-%d %H:%M %Z"
CSV_FIELDS = ("month", "stop_time", "charger", "account", "id_tag", "meter_start_kwh", "meter_stop_kwh",
              "consumed_kwh", "consumed_wh", "reason", "transaction_id", "source", "flag",
              "start_time", "duration_s", "connector_id", "meter_start_wh", "meter_stop_wh", "energy_wh", "kwh",
              "flags", "counted")

EXAMPLES = """\
examples:
  shocpp-summary                          the previous month
  shocpp-summary 2026 10                  October 2026
  shocpp-summary 2026 10 --format csv     the sessions as CSV, for a spreadsheet
  shocpp-summary 2026 10 --format json    totals and sessions as JSON, for scripts
  shocpp-summary --from 2026-01 --to 2026-06 --account company-x

statements (energy and cost per session, to hand to whoever pays):
  shocpp-summary 2026 10 --account company-x --statement                  text, in the terminal
  shocpp-summary 2026 10 --account company-x --statement --format html > company-x.html
  shocpp-summary --from 2026-01 --to 2026-12 --account home --statement --format csv
  shocpp-summary --statements /opt/shocpp/statements    every account's of the previous month,
                                                         as HTML and CSV (the monthly job)

Sessions under the account 'unknown' (charged with unknown tags) are totalled on a line of
their own, outside the accounts' total and inside the grand total. Sessions flagged negative or
implausible are left out of every total and listed under 'To review' with the other flagged
ones. Times are shown in the local time zone (TZ). Ledger lines that cannot be read are named on
stderr and skipped.

A statement's prices come from SHOCPP_TARIFFSFILE (default conf/tariffs.json; without the file,
no price and cost): the price valid on the local day each session started. Its header names the
site (SHOCPP_SITE_NAME, default the host name) and the account's tags (SHOCPP_TAGSFILE). The
account 'unknown' gets a statement of its own, so that energy nobody claimed is seen.

"""

class BadRecord(ValueError):
    def __init__(self, message, line=1):
        super().__init__(message)
        self.line = line


@dataclass(slots=True)
class Session:
    account: str
    energy_wh: Optional[int]          # the figure billed; None: unknown
    stop_time: Optional[str] = None   # as recorded: the charger's text, legacy: local time
    start_time: Optional[str] = None
    duration_s: Optional[int] = None
    charger: Optional[str] = None
    connector_id: Optional[int] = None
    id_tag: Optional[str] = None
    start_wh: Optional[int] = None    # meter readings in Wh, when known to the Wh
    stop_wh: Optional[int] = None
    start_kwh: Optional[int] = None   # whole kWh: old lines, the bash original
    stop_kwh: Optional[int] = None
    consumed_kwh: Optional[int] = None  # the ledger's own figures, passed on to CSV and JSON
    consumed_wh: Optional[int] = None
    reason: Optional[str] = None
    transaction_id: Optional[Union[int, str]] = None  # 2.0.1: the charger's text
    flags: tuple = ()
    source: str = LEDGER
    month: Optional[str] = None

    @property
    def counted(self):
        return LEFT_OUT.isdisjoint(self.flags)

    @property
    def flag(self):
        """The one flag of the CSV before flags came: unknown_energy or negative."""
        if self.energy_wh is None:
            return UNKNOWN_ENERGY
        return NEGATIVE if self.energy_wh < 0 else None

    @property
    def meter_start(self):
        return kwh_text(self.start_wh) if self.start_wh is not None else _str_or_none(self.start_kwh)

    @property
    def meter_stop(self):
        return kwh_text(self.stop_wh) if self.stop_wh is not None else _str_or_none(self.stop_kwh)


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
    wh: int = 0
    unknown_energy: int = 0

    def add(self, session):
        self.sessions += 1
        if session.energy_wh is None:
            self.unknown_energy += 1
        else:
            self.wh += session.energy_wh

    def __add__(self, other):
        return Tally(self.sessions + other.sessions, self.wh + other.wh, self.unknown_energy + other.unknown_energy)

    @property
    def kwh(self):
        return kwh_text(self.wh)


@dataclass
class Summary:
    first: tuple
    last: tuple
    account: Optional[str]
    accounts: list  # [(name, Tally)], most Wh first
    unknown: Tally
    sessions: list  # all of them, by start (by stop when the start is unknown)
    skipped: list = field(default_factory=list)
    left_out: Tally = field(default_factory=Tally)
    costs: Optional[dict] = None  # {account: (cost, currency)} as its statement reckons them; None: no tariffs

    @property
    def accounts_total(self):
        return sum((tally for _, tally in self.accounts), Tally())

    @property
    def grand_total(self):
        return self.accounts_total + self.unknown

    @property
    def counted(self):
        return [s for s in self.sessions if s.counted]

    @property
    def review(self):
        return [s for s in self.sessions if s.flags]


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
    """A Session from one ledger line (str or bytes), None for a start line; BadRecord saying what is wrong."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise BadRecord(f"not JSON ({e})") from None
    if type(record) is not dict:
        raise BadRecord("not a JSON object")
    get = record.get
    event = get("event", STOP)
    if event != STOP:
        if event == START:
            return None
        raise BadRecord(f"event {json.dumps(event, ensure_ascii=False)} is neither start nor stop")
    account = get("account")
    if type(account) is not str or not account:
        raise BadRecord("no account")
    wh = _energy(record)
    kwh = get("consumed_kwh")
    return Session(
        account, wh, _text(get("stop_time")), _text(get("start_time")), _int_or_none(get("duration_s")),
        _text(get("charger")), _int_or_none(get("connector_id")), _text(get("id_tag")),
        _int_or_none(get("meter_start_wh")), _int_or_none(get("meter_stop_wh")),
        _int_or_none(get("meter_start_kwh")), None, kwh if type(kwh) is int else None,
        _int_or_none(get("consumed_wh")), _text(get("reason")), _transaction_id(get("transaction_id")),
        _flags(get("flags"), wh), LEDGER, month)


def _transaction_id(value):
    """1.6's number, or 2.0.1's text (made by the charger)."""
    return _text(value) if isinstance(value, str) else _int_or_none(value)


def _energy(record):
    """The Wh to bill: energy_wh; before it was written, consumed_wh, else consumed_kwh in Wh."""
    if "energy_wh" in record:
        wh = record["energy_wh"]
        if wh is not None and type(wh) is not int:
            raise BadRecord(f"energy_wh {json.dumps(wh)} is not a whole number or null")
        return wh
    wh = record.get("consumed_wh")
    if type(wh) is int:
        return wh
    if "consumed_kwh" not in record:
        raise BadRecord("no energy_wh, consumed_wh or consumed_kwh")
    kwh = record["consumed_kwh"]
    if kwh is not None and type(kwh) is not int:
        raise BadRecord(f"consumed_kwh {json.dumps(kwh)} is not a whole number or null")
    return None if kwh is None else kwh * 1000


def _flags(flags, wh):
    """The flags as texts; a line written before flags were, or a meter that ran backwards, gets `negative`."""
    if not flags:
        flags = ()
    elif type(flags) is list:
        flags = tuple(f if type(f) is str else json.dumps(f, ensure_ascii=False) for f in flags)
    else:
        flags = (_text(flags),)  # not a list: shown for review rather than dropped
    if wh is not None and wh < 0 and NEGATIVE not in flags:
        flags += (NEGATIVE,)
    return flags


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
    # The original wrote an empty account for an index missing from tags.json.
    return Session(account or UNKNOWN_ACCOUNT, kwh * 1000, _text(record.get("localtime")),
                   start_kwh=numbers.integer(record.get("begin_kwh")), stop_kwh=numbers.integer(record.get("end_kwh")),
                   consumed_kwh=kwh, flags=_flags((), kwh), source=LEGACY, month=month)


def kwh_text(wh):
    """Wh as exact kWh text, '12350.999'; None for None."""
    if wh is None:
        return None
    kwh, rest = divmod(abs(wh), 1000)
    return f"{'-' if wh < 0 else ''}{kwh}.{rest:03d}"


def _int_or_none(value):
    return value if type(value) is int else None


def _str_or_none(value):
    return None if value is None else str(value)


def _text(value):
    return value if value is None or type(value) is str else json.dumps(value, ensure_ascii=False)


# --- times ----------------------------------------------------------------------------------

def moment(text, local=False):
    """POSIX seconds of a recorded time, or None; zone-less means UTC (as the backend reads it), or the
    local zone when `local` (the bash original's localtime)."""
    if text is None or not 16 <= len(text) <= 64:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None if local else timestamps.parse(text)  # the rarer forms chargers send
        if value is None:
            return None
    if value.tzinfo is None and not local:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def local_time(text, local=False):
    """A recorded time in the local zone, '2026-11-01 11:00 CET'; a time that cannot be read as sent."""
    seconds = moment(text, local)
    if seconds is not None:
        try:
            return time.strftime(TIME_FORMAT, time.localtime(seconds))
        except (OverflowError, OSError, ValueError):
            pass
    return "-" if text is None else _cell(text)


def order(session):
    """The sort key: the start, else the stop; a session without either at the end of its month."""
    seconds = moment(session.start_time)
    if seconds is None:
        seconds = moment(session.stop_time, session.source == LEGACY)
    return _month_end(session.month) if seconds is None else seconds


@lru_cache(maxsize=None)
def _month_end(label):
    month = months.parse(label) if label else None
    if month is None:
        return float("inf")
    year, number = months.shift(month, 1)
    return datetime(year, number, 1).timestamp() - 0.5 if year <= 9999 else float("inf")


def duration(seconds):
    """'2:05' (hours and minutes) for 7500 s; '-' for None."""
    if seconds is None:
        return "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{'-' if seconds < 0 else ''}{hours}:{minutes:02d}"


# --- reading --------------------------------------------------------------------------------

def read_sessions(directory, wanted):
    """The sessions of the months wanted, as read (legacy records first in a month), and the problems."""
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
            session = parse_line(line, label)
        except BadRecord as e:
            problems.append(Problem(str(path), number, str(e)))
        else:
            if session is not None:
                sessions.append(session)
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
    """Totals of the sessions counted, per account, sorted most Wh first; the sessions sorted by start."""
    if account is not None:
        sessions = [s for s in sessions if s.account == account]
    sessions = sorted(sessions, key=order)
    tallies, unknown, left_out = {}, Tally(), Tally()
    for session in sessions:
        if not session.counted:
            left_out.add(session)
        elif session.account == UNKNOWN_ACCOUNT:
            unknown.add(session)
        else:
            tally = tallies.get(session.account)
            if tally is None:
                tally = tallies[session.account] = Tally()
            tally.add(session)
    accounts = sorted(tallies.items(), key=lambda item: (-item[1].wh, item[0]))
    return Summary(first, last, account, accounts, unknown, sessions, list(skipped), left_out)


def add_costs(summary, tariffs):
    """The Summary with each account's cost: the total of its statement (the price valid on the local day a
    session started, each session's cost to the cent, the left-out sessions not in it) and its currency."""
    if tariffs is None:
        summary.costs = None
        return summary
    from . import statement
    mine = {}
    for session in summary.sessions:
        mine.setdefault(session.account, []).append(session)
    summary.costs = {}
    for name, _ in summary.accounts:
        made = statement.build(mine[name], name, summary.first, summary.last, "", tariffs=tariffs)
        summary.costs[name] = (made.total_cost, made.currency)
    return summary


def total_cost(costs):
    """(the accounts' costs added up, their one currency); (None, None) when they are in several."""
    currencies = {currency for _, currency in costs.values() if currency is not None}
    if len(currencies) > 1:
        return None, None
    return (sum((cost for cost, _ in costs.values() if cost is not None), Decimal("0.00")),
            next(iter(currencies), None))


# --- rendering ------------------------------------------------------------------------------

REVIEW_TEXT = [
    "Sessions the backend flagged: check them before the bill goes out (the flags are explained in",
    "the README, 'The billing ledger').",
    "- not counted: flagged negative or implausible; their energy is in no total above.",
    "- counted: flagged otherwise (no_start, other_charger, reconciled, or a flag this version does",
    "  not know); their energy is in the totals, and they are listed under Sessions too.",
]
SESSION_HEADER = ("start", "stop", "duration", "charger", "connector", "account", "tag", "meter start",
                  "meter stop", "kWh", "note")
SESSION_ALIGNS = "<<><><<>>><"


def bar(wh, largest, width=BAR_WIDTH):
    """Blocks in eighths of a character, `width` for the largest; a sliver for any positive amount."""
    if largest <= 0 or wh <= 0:
        return ""
    eighths = max(1, (wh * width * 16 + largest) // (largest * 2))
    return "█" * (eighths // 8) + EIGHTHS[eighths % 8]


def render_table(summary):
    title = f"Energy charged in {period(summary.first, summary.last)}"
    if summary.account is not None:
        title += f", account {_cell(summary.account)}"
    lines = [title, ""]
    if not summary.sessions:
        return "\n".join(lines + ["No sessions."] + _notes(summary)) + "\n"
    lines += _totals_table(summary) + [""] + _notes(summary)
    counted, review = summary.counted, summary.review
    if counted:
        lines += ["Sessions", ""] + _sessions_table(counted, _note)
    if review:
        lines += ([""] if counted else []) + ["To review", ""] + REVIEW_TEXT + [""]
        lines += _sessions_table(review, _review_note)
    return "\n".join(lines) + "\n"


def _totals_table(summary):
    show_unknown = summary.account in (None, UNKNOWN_ACCOUNT)
    largest = max([t.wh for _, t in summary.accounts] + [summary.unknown.wh])
    rows = [("account", "sessions", "kWh", "")]
    rows += [(_cell(name), str(t.sessions), t.kwh, bar(t.wh, largest)) for name, t in summary.accounts]
    if summary.account != UNKNOWN_ACCOUNT:
        total = summary.accounts_total
        rows += [None, ("accounts total", str(total.sessions), total.kwh, "")]
    if show_unknown:
        unknown = summary.unknown
        rows.append(("unknown tags", str(unknown.sessions), unknown.kwh, bar(unknown.wh, largest)))
    if summary.account is None:
        total = summary.grand_total
        rows.append(("grand total, with unknown tags", str(total.sessions), total.kwh, ""))
    return _layout(rows, "<>><")


def _notes(summary):
    unknown_energy = summary.grand_total.unknown_energy + summary.left_out.unknown_energy
    left_out, flagged = summary.left_out.sessions, sum(1 for s in summary.counted if s.flags)
    notes = []
    if unknown_energy:
        notes.append(f"{_count(unknown_energy, 'session')} had unknown energy: shown as '?', counted as 0 kWh.")
    if left_out:
        notes.append(f"{_count(left_out, 'session')} flagged negative or implausible ({summary.left_out.kwh} kWh) "
                     f"{_be(left_out)} left out of the totals: see To review below.")
    if flagged:
        notes.append(f"{_count(flagged, 'session')} counted in the totals {_be(flagged)} flagged too: "
                     "see To review below.")
    if summary.skipped:
        notes.append(f"{_count(len(summary.skipped), 'ledger line')} could not be read and "
                     f"{'was' if len(summary.skipped) == 1 else 'were'} skipped (named on stderr).")
    return notes + [""] if notes else []


def _sessions_table(sessions, note):
    rows = [SESSION_HEADER, None]
    rows += [_session_row(s, note(s)) for s in sessions]
    return _layout(rows, SESSION_ALIGNS)


def _session_row(s, note):
    return (local_time(s.start_time), local_time(s.stop_time, s.source == LEGACY), duration(s.duration_s),
            _cell(s.charger or "-"), _or_dash(s.connector_id), _cell(s.account), _cell(s.id_tag or "-"),
            s.meter_start or "-", s.meter_stop or "-", "?" if s.energy_wh is None else kwh_text(s.energy_wh), note)


def _note(session):
    if session.source == LEDGER and session.energy_wh is not None and not session.flags:
        return ""
    parts = [LEGACY] if session.source == LEGACY else []
    if session.energy_wh is None:
        parts.append("energy unknown")
    return _cell(", ".join(parts + list(session.flags)))


def _review_note(session):
    return ("counted: " if session.counted else "not counted: ") + _note(session)


def _cell(text):
    """Text for a terminal: a character that is not printable (newline, escape, bidi control) as its escape."""
    return printable(text)


def _or_dash(value):
    return "-" if value is None else str(value)


def _count(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _be(n):
    return "is" if n == 1 else "are"


def _layout(rows, aligns):
    """Rows of text cells in columns padded to their widest cell, `aligns` '<' or '>' each; None is a rule."""
    widths = [max(map(len, column)) for column in zip(*(row for row in rows if row is not None))]
    form = "  ".join(f"{{:{a}{w}}}" for a, w in zip(aligns, widths)).format
    rule = "-" * (sum(widths[:-1]) + 2 * (len(widths) - 2))  # up to the last column
    return [rule if row is None else form(*row).rstrip() for row in rows]


def render_csv(summary):
    """One row a session (RFC 4180: header, CRLF), counted or not; sum `energy_wh` where `counted` is yes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    writer.writerows([["" if v is None else v for v in _csv_values(s)] for s in summary.sessions])
    return out.getvalue()


def _csv_values(s):
    return (s.month, _inert(s.stop_time), _inert(s.charger), _inert(s.account), _inert(s.id_tag), s.meter_start,
            s.meter_stop, s.consumed_kwh, s.consumed_wh, _inert(s.reason), s.transaction_id, s.source, s.flag,
            _inert(s.start_time), s.duration_s, s.connector_id, s.start_wh, s.stop_wh, s.energy_wh,
            kwh_text(s.energy_wh), _inert(" ".join(s.flags)), "yes" if s.counted else "no")


_inert = inert


def render_json(summary):
    head = {
        "from": months.label(summary.first),
        "to": months.label(summary.last),
        "account_filter": summary.account,
        "accounts": [{"account": name, **_tally_dict(t), **_cost_dict(summary.costs, name)}
                     for name, t in summary.accounts],
        "accounts_total": {**_tally_dict(summary.accounts_total), **_cost_dict(summary.costs)},
        "unknown_tags": _tally_dict(summary.unknown),
        "grand_total": _tally_dict(summary.grand_total),
        "left_out": _tally_dict(summary.left_out),
        "to_review": len(summary.review),
        "skipped_lines": len(summary.skipped),
        "skipped": [{"file": p.path, "line": p.line, "problem": p.message} for p in summary.skipped],
    }
    text = json.dumps(head, indent=2, ensure_ascii=False)
    # One session a line: the indenting encoder is pure Python, too slow for 100,000 sessions.
    encode = json.JSONEncoder(ensure_ascii=False).encode
    sessions = ",\n    ".join([encode(_session_dict(s)) for s in summary.sessions])
    listed = f"[\n    {sessions}\n  ]" if sessions else "[]"
    # What a charger sent (a tag, a name) as \u escapes when it would draw on a terminal.
    return printable_json_text(f'{text[:-2]},\n  "sessions": {listed}\n}}\n')


def _tally_dict(tally):
    return {"sessions": tally.sessions, "wh": tally.wh, "kwh": tally.kwh,
            "sessions_unknown_energy": tally.unknown_energy}


def _cost_dict(costs, account=None):
    """cost (decimal text) and currency of an account, or of all (account None); null without tariffs."""
    if costs is None:
        return {"cost": None, "currency": None}
    cost, currency = costs[account] if account is not None else total_cost(costs)
    return {"cost": None if cost is None else str(cost), "currency": currency}


def _session_dict(s):
    return {
        "month": s.month, "stop_time": s.stop_time, "charger": s.charger, "account": s.account, "id_tag": s.id_tag,
        "meter_start_kwh": _number(s.meter_start), "meter_stop_kwh": _number(s.meter_stop),
        "consumed_kwh": s.consumed_kwh, "consumed_wh": s.consumed_wh, "reason": s.reason,
        "transaction_id": s.transaction_id, "source": s.source, "flag": s.flag, "start_time": s.start_time,
        "duration_s": s.duration_s, "connector_id": s.connector_id, "meter_start_wh": s.start_wh,
        "meter_stop_wh": s.stop_wh, "energy_wh": s.energy_wh, "kwh": kwh_text(s.energy_wh), "flags": list(s.flags),
        "counted": s.counted}


def _number(text):
    # A reading for reading, '12350.999' as 12350.999; the exact figures are the *_wh integers beside it.
    return None if text is None else float(text) if "." in text else int(text)


RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json}


# --- command line ---------------------------------------------------------------------------

FORMATS = ("table", "text", "csv", "json", "html")


def parse_args(argv, today):
    parser = argparse.ArgumentParser(
        prog="shocpp-summary", epilog=EXAMPLES + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The energy charged per account in a month (default: the previous month), with\n"
                    "every session, from the ledger in SHOCPP_ACCOUNTINGDIR; or an account's statement.")
    parser.add_argument("year", nargs="?", help="the year, e.g. 2026")
    parser.add_argument("month", nargs="?", help="the month, 1 to 12")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM", help="the first month of a range")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM",
                        help="the last month of the range (default: this month)")
    parser.add_argument("--account", metavar="NAME", help="only this account ('unknown': unknown tags)")
    parser.add_argument("--format", choices=FORMATS,
                        help="table (default; text is the same), csv (one row a session) or json; a statement: "
                             "text (default), csv, json or html (a page that prints on A4)")
    parser.add_argument("--statement", action="store_true",
                        help="the statement of the --account: every session with its price and cost, totals")
    parser.add_argument("--statements", metavar="DIR",
                        help="write the statement of every account with sessions into DIR, as HTML and CSV "
                             "(<month>-<account>.html and .csv)")
    args = parser.parse_args(argv)
    try:
        args.first, args.last = month_range(args.year, args.month, args.first, args.last, today)
    except ValueError as e:
        parser.error(str(e))
    if args.statement and args.statements:
        parser.error("give either --statement (one account's, on stdout) or --statements DIR (every account's)")
    if args.statement and args.account is None:
        parser.error("--statement needs --account NAME (--statements DIR writes every account's)")
    if args.statements is not None:
        if args.account is not None or args.format is not None:
            parser.error("--statements DIR writes every account's statement as HTML and CSV: "
                         "no --account or --format (use --statement for one)")
        if not args.statements:
            parser.error("--statements needs a directory")
    elif args.statement:
        args.format = "text" if args.format in (None, "table") else args.format
    else:
        if args.format == "html":
            parser.error("--format html is for a statement: add --account NAME --statement")
        args.format = "table" if args.format in (None, "text") else args.format
    return args


def main(argv=None, env=None, today=None):
    printable_output()
    args = parse_args(argv, today or date.today())
    return _run(args, env)


def _run(args, env):
    try:
        settings = config_module.from_env(env)
        directory = settings.accounting_dir
        if not directory.is_dir():
            raise FileNotFoundError(f"the ledger directory {directory} does not exist (SHOCPP_ACCOUNTINGDIR)")
        sessions, problems = read_sessions(directory, months.between(args.first, args.last))
    except (OSError, config_module.ConfigError) as e:
        print(f"shocpp-summary: {e}", file=sys.stderr)
        return USAGE if isinstance(e, config_module.ConfigError) else FAILED
    for problem in problems:
        print(f"shocpp-summary: {printable(problem)}; skipped", file=sys.stderr)
    if problems:
        print(f"shocpp-summary: {_count(len(problems), 'line')} skipped; the summary covers the rest",
              file=sys.stderr)
    if args.statement or args.statements:
        return _statements(args, settings, sessions, problems)
    summary = aggregate(sessions, args.first, args.last, args.account, problems)
    if args.format == "json":
        from ..protocol.tags import TagsError
        from ..protocol.tariffs import TariffsError
        try:
            add_costs(summary, _load_tariffs(settings))
        except (TagsError, TariffsError) as e:
            print(f"shocpp-summary: {e}", file=sys.stderr)
            return USAGE
    if args.account is not None and not summary.sessions:
        _no_sessions(args.account, sessions)
    return _write(RENDERERS[args.format](summary))


def _load_tariffs(settings):
    """The Tariffs of SHOCPP_TARIFFSFILE, checked against the accounts of tags.json; None without the file."""
    from .. import tags_file, tariffs_file
    if not settings.tariffs_file.exists():
        return None  # tags.json is not read: a summary without prices needs none of it
    return tariffs_file.load(settings.tariffs_file, tags_file.load(settings.tags_file).accounts)


def _no_sessions(account, sessions):
    names = ", ".join(sorted({_cell(s.account) for s in sessions})) or "none"
    print(f"shocpp-summary: no sessions of {account!r} (accounts with sessions: {names})", file=sys.stderr)


def _statements(args, settings, sessions, problems):
    """One account's statement on stdout, or every account's into a directory (HTML and CSV)."""
    from .. import tags_file, tariffs_file  # only statements read them
    from ..protocol.tags import TagsError
    from ..protocol.tariffs import TariffsError
    from . import statement

    try:
        tags = tags_file.load(settings.tags_file)
        tariffs = tariffs_file.load(settings.tariffs_file, tags.accounts)
    except (TagsError, TariffsError) as e:
        print(f"shocpp-summary: {e}", file=sys.stderr)
        return USAGE
    if tariffs is None:
        print(f"shocpp-summary: no tariffs file {settings.tariffs_file} (SHOCPP_TARIFFSFILE): "
              "the statements have no prices and costs", file=sys.stderr)

    def make(account):
        return statement.build(sessions, account, args.first, args.last, settings.site_name, tags.ids(account),
                               tariffs, len(problems))

    if args.statement:
        made = make(args.account)
        if not made.lines and not made.review:
            _no_sessions(args.account, sessions)
        return _write(statement.RENDERERS[args.format](made))
    target = Path(args.statements)
    taken = set()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for account in statement.accounts_of(sessions):
            made = make(account)
            stem = statement.file_stem(account, args.first, args.last, taken)
            taken.add(stem)
            for suffix, render in ((".html", statement.render_html), (".csv", statement.render_csv)):
                _write_file(target / (stem + suffix), render(made))
                print(f"wrote {target / (stem + suffix)}")
    except OSError as e:
        print(f"shocpp-summary: cannot write the statements: {e}", file=sys.stderr)
        return FAILED
    if not taken:
        print(f"shocpp-summary: no sessions in {period(args.first, args.last)}: no statements written",
              file=sys.stderr)
    return OK


def _write_file(path, text):
    """Replace `path` with `text` (UTF-8) whole: a reader, a mailer, never sees half a statement."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


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
