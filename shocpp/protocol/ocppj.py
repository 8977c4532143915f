"""OCPP-J 1.6 framing: one line in, a typed frame out; frames back to lines.

Decoding never raises: whatever a line holds, the result says what it is and,
for a broken CALL whose unique id can be read, carries the id to answer with.
"""

import json
import math
import re

from .plain import plain

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_LINE = 64 * 1024
# A StopTransaction carries the session's transactionData (~100 KB for a long one): refusing it would
# lose the bill. 2 MiB is 20 such sessions; a hostile frame of this size parses into ~55 MB at most.
MAX_STOP_LINE = 2 * 1024 * 1024
MAX_UNIQUE_ID = 36
PREFIX_WINDOW = 200  # a line's CALL id and action are read from its first bytes

# The CALLERROR codes (OCPP-J 1.6, 4.2.3), spelled as the specification spells them ("Occurence").
NOT_IMPLEMENTED = "NotImplemented"
NOT_SUPPORTED = "NotSupported"
INTERNAL_ERROR = "InternalError"
PROTOCOL_ERROR = "ProtocolError"
SECURITY_ERROR = "SecurityError"
FORMATION_VIOLATION = "FormationViolation"
PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
GENERIC_ERROR = "GenericError"
ERROR_CODES = (
    NOT_IMPLEMENTED, NOT_SUPPORTED, INTERNAL_ERROR, PROTOCOL_ERROR, SECURITY_ERROR, FORMATION_VIOLATION,
    PROPERTY_CONSTRAINT_VIOLATION, OCCURENCE_CONSTRAINT_VIOLATION, TYPE_CONSTRAINT_VIOLATION, GENERIC_ERROR,
)

# Reads the id of a CALL from a line that is not valid JSON (or too long to parse).
_CALL_PREFIX = re.compile(rb'^\s*\[\s*2\s*,\s*"([^"\\\x00-\x1f]{1,36})"')
_STOP_PREFIX = re.compile(rb'^\s*\[\s*2\s*,\s*"[^"\\\x00-\x1f]{1,36}"\s*,\s*"StopTransaction"')


class Call(plain("Call", ["unique_id", "action", "payload"])):
    __slots__ = ()


class CallResult(plain("CallResult", ["unique_id", "payload"])):
    __slots__ = ()


class CallError(plain("CallError", ["unique_id", "code", "description", "details"])):
    __slots__ = ()

    def __new__(cls, unique_id, code, description="", details=None):
        return super().__new__(cls, unique_id, code, description, {} if details is None else details)


class Malformed(plain("Malformed", ["reason", "unique_id", "unfinished"], defaults=(None, False),
                      compare=["reason", "unique_id"])):
    """A line that is no usable frame. With a unique_id it was a CALL: answer it. `unfinished`: the
    line is an array whose JSON is valid as far as it goes, but ends before its last bracket."""
    __slots__ = ()


class Ignored(plain("Ignored", ["message_type", "unique_id"], defaults=(None,), compare=["message_type"])):
    """A frame with a message type other than 2, 3 or 4 (OCPP-J 1.6, 4.1.3, ignores it); its unique id
    when one can be read (2.0.1 answers MessageTypeNotSupported)."""
    __slots__ = ()


def decode(line):
    """The frame in one line (bytes or str, with or without its newline)."""
    if isinstance(line, str):
        line = line.encode("utf-8", "surrogatepass")
    line = line.rstrip(b"\r\n")
    if len(line) > MAX_LINE and len(line) > limit(line):
        return over_long(line)
    if not line.strip():
        return Malformed("empty line")
    try:
        text = line.decode("utf-8")
        message = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError:
        return Malformed("frame is not valid UTF-8", _readable_id(line))
    except json.JSONDecodeError as e:
        return Malformed("frame is not valid JSON", _readable_id(line), _unfinished(text, e))
    except (ValueError, RecursionError):
        return Malformed("frame is not valid JSON", _readable_id(line))
    if not isinstance(message, list):
        return Malformed("frame is not a JSON array")
    if not message:
        return Malformed("frame is an empty array")
    return _from_list(message)


def limit(line):
    """The most bytes the frame starting with `line` may have: a StopTransaction may have more."""
    return MAX_STOP_LINE if _STOP_PREFIX.match(line[:PREFIX_WINDOW]) else MAX_LINE


def over_long(line):
    """The frame (its start in `line`) is longer than its limit."""
    return Malformed(f"frame longer than {limit(line)} bytes", _readable_id(line))


def _unfinished(text, error):
    # json stops at the first byte that cannot belong to a JSON text: at the end, nothing was wrong yet
    return error.pos == len(text) and text.lstrip(" \t\r\n").startswith("[")


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _readable_id(line):
    found = _CALL_PREFIX.match(line[:PREFIX_WINDOW])
    if not found:
        return None
    try:
        return found.group(1).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _from_list(message):
    kind = message[0]
    if not _is_int(kind):
        return Malformed("message type is not an integer")
    unique_id = message[1] if len(message) > 1 else None
    if kind not in (CALL, CALLRESULT, CALLERROR):
        readable = isinstance(unique_id, str) and 0 < len(unique_id) <= MAX_UNIQUE_ID
        return Ignored(kind, unique_id if readable else None)
    if not isinstance(unique_id, str) or not unique_id:
        return Malformed("unique id is missing or not a string")
    if kind == CALL:
        return _call(message, unique_id)
    if kind == CALLRESULT:
        return _call_result(message, unique_id)
    return _call_error(message, unique_id)


def _call(message, unique_id):
    if len(unique_id) > MAX_UNIQUE_ID:
        return Malformed(f"unique id longer than {MAX_UNIQUE_ID} characters", unique_id)
    if len(message) != 4:
        return Malformed(f"a CALL has 4 elements, this one has {len(message)}", unique_id)
    action, payload = message[2], message[3]
    if not isinstance(action, str) or not action:
        return Malformed("action is not a string", unique_id)
    if not isinstance(payload, dict):
        return Malformed("payload is not a JSON object", unique_id)
    return Call(unique_id, action, payload)


def _call_result(message, unique_id):
    if len(message) != 3 or not isinstance(message[2], dict):
        return Malformed("a CALLRESULT is [3, id, {payload}]")
    return CallResult(unique_id, message[2])


def _call_error(message, unique_id):
    if len(message) != 5 or not all(isinstance(x, str) for x in message[2:4]) \
            or not isinstance(message[4], dict):
        return Malformed("a CALLERROR is [4, id, code, description, {details}]")
    return CallError(unique_id, message[2], message[3], message[4])


def encode(frame):
    """The line (without newline) for a Call, CallResult or CallError."""
    if isinstance(frame, Call):
        message = [CALL, frame.unique_id, frame.action, frame.payload]
    elif isinstance(frame, CallResult):
        message = [CALLRESULT, frame.unique_id, frame.payload]
    else:
        message = [CALLERROR, frame.unique_id, frame.code, frame.description, frame.details]
    return json.dumps(message, separators=(",", ":"))
