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


class LedgerError(OSError):
    """The record could not be made durable; the charger must not get a confirmation."""


def encode(record):
    # Readable UTF-8 for tail -f; a lone surrogate from a charger's JSON is kept as its \u escape.
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


def same_record(a, b):
    if matching.is_start(a) != matching.is_start(b):
        return False
    return all(a.get(k) == b.get(k) for k in (START_IDENTITY if matching.is_start(a) else STOP_IDENTITY))


def month_file(directory, month):
    return Path(directory) / f"{month}.jsonl"


def append(directory, month, record):
    """Append `record` to the month's file; False if the same record is there already."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # A retransmission may be filed under a neighbouring month (another stop time, a clock fixed).
        if any(_contains(month_file(directory, m), record) for m in months.neighbours(month)):
            return False
        return _append_locked(directory, month_file(directory, month), encode(record), record)
    except OSError as e:
        raise LedgerError(e.errno, f"cannot write the ledger in {directory}: {e.strerror or e}") from e


def _append_locked(directory, path, data, record):
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = _drop_torn_tail(fd)
        if _holds(os.pread(fd, size, 0), record):
            return False
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, "short write (disk full?)")
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)
            raise
        if created:
            atomic.fsync_dir(directory)
        return True
    finally:
        os.close(fd)


def _drop_torn_tail(fd):
    """Cut an unterminated last line, left by a crash: it was never confirmed."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    data = os.pread(fd, size, 0)
    keep = data.rfind(b"\n") + 1
    os.ftruncate(fd, keep)
    return keep


def _contains(path, record):
    try:
        with open(path, "rb") as f:
            return _holds(f.read(), record)
    except FileNotFoundError:
        return False


def _holds(data, record):
    for line in _lines_with(data, [_field("transaction_id", record["transaction_id"])]):
        try:
            if same_record(json.loads(line), record):
                return True
        except ValueError:
            continue
    return False



def records(directory, month, tid, charger=None):
    """The records of a month's file that concern a transactionId (as a record's own or as a
    reconciled stop's start) or, when given, a charger; in order; lines that cannot be read are
    skipped (shocpp-summary names them). Only those lines are parsed: a busy month has thousands,
    and a StopTransaction looks at two months."""
    try:
        with open(month_file(directory, month), "rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)  # append() writes under LOCK_EX: never half a line
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as e:
        raise Unavailable(f"the ledger could not be read: {e.strerror or e}") from e
    found = []
    needles = [_field("transaction_id", tid), _field("start_transaction_id", tid)]
    if charger is not None:
        needles.append(_field("charger", charger))
    for line in _lines_with(data, needles):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found


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
