"""The ledger read once into sessions: what shocpp-summary's tables and an account's statement show.

read_sessions() reads the months' ledger files (`<dir>/YYYY-MM.jsonl`: start records, stop lines and
the operator's decisions) and the records of the bash original (`<dir>/YYYY/MM/*.json`) into Sessions,
one a stop line, each with its status (protocol/review.py): billed, to review, accepted, rejected or a
repeat, and the tag of its start when the stop carries none. Everything else here is pure: parsing a
line, times in the local zone, and the text helpers the views share. Energy is integer Wh throughout
and printed as exact kWh text, never through a float.
"""

import fcntl
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Optional, Union

from .. import ledger
from ..protocol import matching, months, numbers, review, timestamps, transaction_id, verdicts
from ..protocol.tags import UNKNOWN_ACCOUNT
from . import printable

LEGACY, LEDGER = "legacy", "ledger"
START, STOP, DECISION = "start", "stop", "decision"
NEGATIVE, IMPLAUSIBLE, UNKNOWN_ENERGY = "negative", "implausible", "unknown_energy"
TIME_FORMAT = "%Y-%m-%d %H:%M %Z"


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
    id_tag: Optional[str] = None      # the start's tag, else the stop's
    start_wh: Optional[int] = None    # meter readings in Wh, when known to the Wh
    stop_wh: Optional[int] = None
    start_kwh: Optional[int] = None   # whole kWh: old lines, the bash original
    stop_kwh: Optional[int] = None
    consumed_kwh: Optional[int] = None  # the ledger's own figures, passed on to JSON
    consumed_wh: Optional[int] = None
    reason: Optional[str] = None      # why the charger stopped, as it said
    transaction_id: Optional[Union[int, str]] = None  # 2.0.1: the charger's text
    flags: tuple = ()
    source: str = LEDGER
    month: Optional[str] = None
    id: Optional[str] = None          # the line's id (review.line_id), None for the bash original's
    status: str = review.BILLED       # review.BILLED, TO_REVIEW, ACCEPTED, REJECTED or REPEAT
    review_reason: Optional[str] = None  # why it went to review (verdicts.REASONS)
    repeat_of: Optional[str] = None   # a repeat: the id of the line it repeats

    @property
    def counted(self):
        return self.status in review.COUNTED

    @property
    def waiting(self):
        """Waiting for the operator's decision."""
        return self.status == review.TO_REVIEW

    @property
    def meter_start(self):
        return kwh_text(self.start_wh) if self.start_wh is not None else _str_or_none(self.start_kwh)

    @property
    def meter_stop(self):
        return kwh_text(self.stop_wh) if self.stop_wh is not None else _str_or_none(self.stop_kwh)


def reason_text(session):
    """Why a session waits (or waited) for a decision, in words."""
    return verdicts.REASONS.get(session.review_reason, session.review_reason)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.message}"



# --- parsing --------------------------------------------------------------------------------

def parse_line(line, month=None, decided=None, start_tags=None):
    """A Session from one ledger line (str or bytes), None for a start or decision line; BadRecord
    saying what is wrong. decided: {line id: decision record}; start_tags: {start key: its idTag}."""
    return session_of(parse_record(line), month, decided, start_tags)


def parse_record(line):
    """The JSON object of a ledger line; BadRecord when it is none."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise BadRecord(f"not JSON ({e})") from None
    if type(record) is not dict:
        raise BadRecord("not a JSON object")
    event = record.get("event", STOP)
    if event not in (START, STOP, DECISION):
        raise BadRecord(f"event {json.dumps(event, ensure_ascii=False)} is neither start, stop nor decision")
    if event == DECISION and (type(record.get("line")) is not str
                              or record.get("decision") not in (review.ACCEPT, review.REJECT)):
        raise BadRecord("a decision without the id of its line, or neither accept nor reject")
    return record


def session_of(record, month=None, decided=None, start_tags=None):
    """The Session of a stop record (None for another record), as the decisions have it."""
    get = record.get
    if get("event", STOP) != STOP:
        return None
    account = get("account")
    if type(account) is not str or not account:
        raise BadRecord("no account")
    wh = _energy(record)
    flags = _flags(get("flags"), None if "verdict" in record else wh)
    verdict, reason = review.verdict_of(record if "verdict" in record else {"flags": list(flags)})
    line = review.line_id(record)
    status = review.status(verdict, (decided or {}).get(line))
    kwh = get("consumed_kwh")
    session = Session(
        account, wh, _text(get("stop_time")), _text(get("start_time")), _int_or_none(get("duration_s")),
        _text(get("charger")), _int_or_none(get("connector_id")), _text(get("id_tag")),
        _int_or_none(get("meter_start_wh")), _int_or_none(get("meter_stop_wh")),
        _int_or_none(get("meter_start_kwh")), None, kwh if type(kwh) is int else None,
        _int_or_none(get("consumed_wh")), _text(get("reason")), _transaction_id(get("transaction_id")),
        flags, LEDGER, month, line, status, reason, _text(get("repeat_of")))
    start_tag = get("start_id_tag")
    if start_tag is None and start_tags and "meter_start_wh" in record:  # lines written before start_id_tag
        start_tag = start_tags.get(matching.start_key(record))
    if start_tag is not None:
        session.id_tag = _text(start_tag)
    candidate = get("candidate")
    if status == review.ACCEPTED and isinstance(candidate, dict):
        _billed_to(session, candidate)
    return session


def _billed_to(session, start):
    """An accepted stop with a candidate start is billed as that start's session: its account, reading, tag."""
    session.account = _text(start.get("account")) or UNKNOWN_ACCOUNT
    session.connector_id, session.start_time = _int_or_none(start.get("connector_id")), _text(start.get("start_time"))
    session.id_tag = _text(start.get("id_tag")) or session.id_tag
    begin = _int_or_none(start.get("meter_start_wh"))
    if begin is not None and session.stop_wh is not None:
        session.start_wh = begin
        session.energy_wh = session.consumed_wh = transaction_id.consumed_wh(begin, session.stop_wh)
    began, ended = moment(session.start_time), moment(session.stop_time)
    if began is not None and ended is not None and ended >= began:
        session.duration_s = int(ended - began)


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


def _transaction_id(value):
    """1.6's number, or 2.0.1's text (made by the charger)."""
    return _text(value) if isinstance(value, str) else _int_or_none(value)


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
    return "-" if text is None else cell(text)


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
    """The sessions of the months wanted, as read (legacy records first in a month), and the problems.
    The ledger is read once: its start records give the stops their tags, its decisions their status."""
    sessions, problems, read = [], [], []
    for month in wanted:
        label = months.label(month)
        year, number = label.split("-")
        found = [_read_legacy(path, label) for path in sorted((Path(directory) / year / number).glob("*.json"))]
        read.append((label, found + _read_ledger(ledger.month_file(directory, label))))
    records = [r for _, found in read for r in found if type(r) is dict]
    decided = review.decisions(records)
    start_tags = {matching.start_key(r): r.get("id_tag") for r in records if matching.is_start(r)}
    for label, found in read:
        for item in found:
            if isinstance(item, (Session, Problem)):
                (sessions if isinstance(item, Session) else problems).append(item)
            if type(item) is not tuple:
                continue
            record, path, number = item
            try:
                session = session_of(record, label, decided, start_tags)
            except BadRecord as e:
                problems.append(Problem(path, number, str(e)))
            else:
                if session is not None:
                    sessions.append(session)
    return sessions, problems


def _read_ledger(path):
    """What a month's file holds, in order: each stop line as (record, path, line number), the start and
    decision records as they are, and a Problem for each line that cannot be read."""
    try:
        with open(path, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)  # ledger.append() writes under LOCK_EX: never half a line
            data = f.read()
    except FileNotFoundError:
        return []
    lines, found = _lines(data), []
    for number, line in enumerate(lines[:-1], 1):
        if not line.strip():
            continue
        try:
            record = parse_record(line)
        except BadRecord as e:
            found.append(Problem(str(path), number, str(e)))
        else:
            found.append(record if record.get("event", STOP) != STOP else (record, str(path), number))
    if lines[-1].strip():
        found.append(Problem(str(path), len(lines), "no newline at the end: a line cut by a crash, never "
                                                    "confirmed (the next append removes it)"))
    return found


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


def _read_legacy(path, label):
    """The Session of a record file of the bash original, or the Problem with it."""
    try:
        return parse_legacy(path.read_bytes(), label)
    except BadRecord as e:
        return Problem(str(path), e.line, str(e))



# --- text the views share -----------------------------------------------------------------------

def cell(text):
    """Text for a terminal: a character that is not printable (newline, escape, bidi control) as its escape."""
    return printable(text)


def or_dash(value):
    return "-" if value is None else str(value)


def count(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def be(n):
    return "is" if n == 1 else "are"


def layout(rows, aligns):
    """Rows of text cells in columns padded to their widest cell, `aligns` '<' or '>' each; None is a rule."""
    widths = [max(map(len, column)) for column in zip(*(row for row in rows if row is not None))]
    form = "  ".join(f"{{:{a}{w}}}" for a, w in zip(aligns, widths)).format
    rule = "-" * (sum(widths[:-1]) + 2 * (len(widths) - 2))  # up to the last column
    return [rule if row is None else form(*row).rstrip() for row in rows]


def period(first, last):
    return months.name(first) if first == last else f"{months.name(first)} to {months.name(last)}"
