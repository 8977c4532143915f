"""The billing ledger: `<dir>/YYYY-MM.jsonl`, one JSON record a line, append-only: the start
and the stop record of every session.

A record is confirmed to the charger only after append() returned: the line is
then on disk (fsync), whole (one write under flock) and there once, however
often the charger retransmits the same StartTransaction or StopTransaction.
"""

import fcntl
import json
import os
from pathlib import Path

from . import atomic
from .protocol import matching, months
from .protocol.effects import Unavailable

# What makes a retransmission the same message: a charger resends it unchanged.
STOP_IDENTITY = ("charger", "transaction_id", "meter_stop_wh", "stop_time")
START_IDENTITY = ("charger", "connector_id", "id_tag", "meter_start_wh", "start_time")
# An operator's decision is the same only when it is the same decision, made at the same moment.
DECISION_IDENTITY = ("line", "decision", "recorded_at")
CHUNK = 1 << 20  # bytes a lookup reads at a time
# A month file is made YOUNG (0600) and becomes MODE once its name is durable (directory synced).
YOUNG, MODE = 0o600, 0o640


class LedgerError(OSError):
    """The record could not be made durable; the charger must not get a confirmation."""


def encode(record):
    # Readable UTF-8 for tail -f; a lone surrogate from a charger's JSON is kept as its \u escape.
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


def same_record(a, b):
    if a.get("event", "stop") != b.get("event", "stop"):
        return False
    identity = START_IDENTITY if matching.is_start(a) else DECISION_IDENTITY if matching.is_decision(a) \
        else STOP_IDENTITY
    return all(a.get(k) == b.get(k) for k in identity)


def month_file(directory, month):
    return Path(directory) / f"{month}.jsonl"


def append(directory, month, record):
    """Append `record` to the month's file; False if the same record is there already."""
    directory = Path(directory)
    try:
        _make_durable_dir(directory)
        # A retransmission may be filed under a neighbouring month (another stop time, a clock fixed).
        if any(_contains(month_file(directory, m), record) for m in months.neighbours(month)):
            return False
        return _append_locked(directory, month_file(directory, month), encode(record), record)
    except OSError as e:
        raise LedgerError(e.errno, f"cannot write the ledger in {directory}: {e.strerror or e}") from e


def _append_locked(directory, path, data, record):
    """The month so far is searched under a shared lock, which other searches share and appends wait
    for; only what was appended since is searched again under the exclusive lock of the write, so
    appends of many chargers are not serialised behind whole-month scans."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, YOUNG)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        searched = _complete_lines(fd)
        if _holds(fd, 0, searched, record):
            return False
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = _drop_torn_tail(fd)
        if _holds(fd, searched, size, record):
            return False
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, "short write (disk full?)")
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)
            raise
        _settle(fd, directory)
        return True
    finally:
        os.close(fd)


def _settle(fd, directory):
    """Make a young month file's name durable before its first confirmation, whoever appends first:
    the process that created the file may still be waiting for the lock when another one, which
    found the file there, has written and would confirm a line whose file a crash could lose. The
    directory's own entry is synced too, as it may be as new as the file."""
    if os.fstat(fd).st_mode & 0o777 != YOUNG:
        return
    atomic.fsync_dir(directory)
    atomic.fsync_dir(directory.parent)
    try:
        os.fchmod(fd, MODE)
    except PermissionError:
        pass  # another user's file: it stays young, and each append syncs the directories again


def _make_durable_dir(directory):
    """The ledger's directory, made if missing with its entry in its parent synced: a confirmed line
    must not live in a directory that a crash forgets."""
    if directory.is_dir():
        return
    _make_durable_dir(directory.parent)
    try:
        directory.mkdir()
    except FileExistsError:
        return  # made by another appender: a young month file in it syncs it in its parent
    atomic.fsync_dir(directory.parent)


def _complete_lines(fd):
    """The size of the file up to its last newline: what a crash's torn tail cannot change."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    return _last_newline_end(fd, size)


def _drop_torn_tail(fd):
    """Cut an unterminated last line, left by a crash: it was never confirmed."""
    size = os.fstat(fd).st_size
    end = _complete_lines(fd)
    if end != size:
        os.ftruncate(fd, end)
    return end


def _last_newline_end(fd, size):
    end = size
    while end > 0:  # back to the last newline, a chunk at a time
        start = max(0, end - CHUNK)
        at = os.pread(fd, end - start, start).rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0


def retransmitted_start(directory, month, record):
    """The start record already in the ledger (the month's file or a neighbour's) that `record`
    retransmits (same charger, connector, idTag, meterStart and start time), or None. Beside append():
    a retransmission must get the transactionId its original got, whatever tags.json says now."""
    needle = [_field("meter_start_wh", record.get("meter_start_wh"))]
    for label in (month, *months.neighbours(month)):
        try:
            with open(month_file(directory, label), "rb") as f:
                fcntl.flock(f, fcntl.LOCK_SH)
                lines = _scan(f.fileno(), os.fstat(f.fileno()).st_size, needle)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as e:
            raise Unavailable(f"the ledger could not be read: {e.strerror or e}") from e
        for parsed in map(_parsed, lines):
            if isinstance(parsed, dict) and same_record(parsed, record):
                return parsed
    return None


def _contains(path, record):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        return _holds(fd, 0, os.fstat(fd).st_size, record)
    finally:
        os.close(fd)


def _holds(fd, start, size, record):
    """Whether the file's bytes from `start` (a line's start) to `size` hold the same record."""
    for line in _scan(fd, size, [_field("transaction_id", record["transaction_id"])], start):
        parsed = _parsed(line)
        if isinstance(parsed, dict) and same_record(parsed, record):
            return True
    return False


def _parsed(line):
    """The line's JSON, or None for a line that cannot be read: skipped here, named by shocpp-summary.
    Not only ValueError: a value nested a thousand deep is a RecursionError, and one such line must
    not make every later record of its transactionId an InternalError."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _scan(fd, size, needles, offset=0):
    """The lines of the file's bytes from `offset` (a line's start) to `size` that hold any of the
    needles, in order.

    Reads CHUNK bytes at a time (plus the line a chunk ends inside), so a lookup holds at most a chunk
    and the longest line in memory, however big the month's file: the time is linear in the file, at
    the speed of bytes.find. Nothing is skipped: a retransmission can come days after its original
    (a charger offline with its queue), so reading only the tail could bill a session twice.
    """
    found = []
    carry = b""
    while offset < size:
        data = os.pread(fd, min(CHUNK, size - offset), offset)
        if not data:
            break
        offset += len(data)
        data = carry + data
        cut = len(data) if offset >= size else data.rfind(b"\n") + 1
        carry = data[cut:]
        found += _lines_with(data[:cut], needles)
    if carry:
        found += _lines_with(carry, needles)
    return found


def records(directory, month, tid, charger=None):
    """The records of a month's file that concern a transactionId (as a record's own or as a
    reconciled stop's start) or, when given, a charger; in order; lines that cannot be read are
    skipped (shocpp-summary names them). Only those lines are parsed: a busy month has thousands,
    and a StopTransaction looks at two months. tid None: no transactionId (only the charger's lines);
    tid and charger None: every record of the month."""
    try:
        with open(month_file(directory, month), "rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)  # append() writes under LOCK_EX: never half a line
            needles = [] if tid is None else [_field("transaction_id", tid), _field("start_transaction_id", tid)]
            if tid is None and charger is None:
                needles.append(b"{")  # every line that can be a record
            if charger is not None:
                needles.append(_field("charger", charger))
            lines = _scan(f.fileno(), os.fstat(f.fileno()).st_size, needles)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as e:
        raise Unavailable(f"the ledger could not be read: {e.strerror or e}") from e
    return [record for record in map(_parsed, lines) if isinstance(record, dict)]


def _field(name, value):
    """The bytes a record with this value has for the field, as encode() writes it."""
    return encode({name: value})[1:-2] + b","


def _lines_with(data, needles):
    """The lines of `data` holding any of the needles, in order, each once."""
    starts = {}
    for needle in needles:
        at = data.find(needle)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            starts[start] = data[start:end]
            at = data.find(needle, end)
    return [starts[k] for k in sorted(starts)]
