"""Fuzzing the frame handling: the protocol Session driven directly, its steps carried out by the
shell's `apply` on a real ledger and real run files.

Hypothesis generates batches of frames: structured OCPP-J frames (CALLs of the ten charger actions
with valid, near-valid and random payloads, CALLRESULTs, CALLERRORs, other message types), byte
mutations of valid frames, raw bytes, a few lines over 64 KiB (StopTransactions up to and over
2 MiB), and frames pretty-printed (json.dumps with an indent) and split at their newlines as
websocketd passes them on, whole, cut short or with one line mutated. Each batch goes through one
Session with a fresh ledger directory, line by line, then its end of input. The oracle (`Frames`,
`Expect`) says which frames each line completes: none while a frame split over lines is held, the
line's own, or a held fragment given up and then the line's own. For every line and the end:

1. no exception escapes Session.receive or Session.finish or the carrying out of their steps;
2. every line written is one well-formed OCPP-J reply, [3, id, {}] or [4, id, code, "text", {}]
   with one of the ten OCPP-J 1.6 error codes, ending with its only newline;
3. a CALL whose unique id can be read is answered exactly once, with that id, in the step of the
   line that completes it or shows it will not be completed (or at the end), in order; other
   frames are not answered (the oracle classifies the bytes itself; it does not ask ocppj);
4. the ledger holds only stops the batch sent with a usable transactionId and meterStop, none of
   them twice, and every StopTransaction that was confirmed; and no start record twice;
5. a StopTransaction with a usable transactionId and meterStop is confirmed; every valid frame of
   the ten charger actions, on one line or pretty-printed, is taken as a frame of its own (no broken
   fragment swallows it) and gets a CALLRESULT; nothing gets InternalError (the ledger is writable).

`make test` feeds 2,000 lines (a few seconds). The long run feeds at least SHOCPP_FUZZ_FRAMES lines
and, with -s, prints how many, how long it took and what the lines got:

    SHOCPP_FUZZ_FRAMES=100000 .venv/bin/python -m pytest tests/test_fuzz.py -s

A failure prints the shrunk batch and a @reproduce_failure decorator that replays it.
"""

import io
import json
import math
import os
import re
import shutil
import string
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shocpp import backend, config, runfiles
from shocpp.protocol import billing, ocppj
from shocpp.log import Log
from shocpp.tags_file import TagsFile

from conftest import TAGS

FRAMES = int(os.environ.get("SHOCPP_FUZZ_FRAMES") or 2000)
BATCH = 12
CHARGER = "CP-fuzz"

# --- the oracle: written from OCPP-J 1.6 and the README, not from shocpp.protocol.ocppj ----------------

MAX_LINE = 64 * 1024
MAX_STOP_LINE = 2 * 1024 * 1024  # a StopTransaction, by its first 200 bytes, may be this long
MAX_ID = 36
ERROR_CODES = {  # OCPP-J 1.6, 4.2.3
    "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
    "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
    "TypeConstraintViolation", "GenericError",
}
CHARGER_ACTIONS = (
    "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
    "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
    "StatusNotification", "StopTransaction",
)
CENTRAL_ACTIONS = (
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache", "Reset",
    "RemoteStartTransaction", "RemoteStopTransaction", "TriggerMessage", "UnlockConnector",
)
ID_PREFIX_WINDOW = 200  # a broken line's CALL id is looked for in its first 200 bytes
PREFIX_SPACE = b" \t\n\r\x0b\x0c"
NOT_IN_ID = b'"\\' + bytes(range(0x20))


class NotJson(ValueError):
    pass


def _refuse_constant(name):
    raise NotJson(name)


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise NotJson(text)  # a number no double holds (1e400) is no usable JSON number
    return value


def parse_json(frame):
    """The JSON value of a frame's bytes (strict UTF-8, RFC 8259), or NotJson."""
    try:
        return json.loads(frame.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise NotJson(str(e)) from None


def prefix_id(frame):
    """The CALL id of a line that cannot be parsed: `[2,"<id>"` at its start, the id 1..36 bytes
    of UTF-8 with no quote, backslash or control character, all in the first 200 bytes."""
    found = read_prefix(frame)
    return None if found is None else found[0]


def limit(frame):
    """The longest frame allowed: a StopTransaction's, when its first 200 bytes read
    `[2,"<id>","StopTransaction"` (white space between the tokens), else 64 KiB."""
    found = read_prefix(frame)
    if found is None:
        return MAX_LINE
    head, i = frame[:ID_PREFIX_WINDOW], found[1]
    while i < len(head) and head[i] in PREFIX_SPACE:
        i += 1
    if head[i:i + 1] != b",":
        return MAX_LINE
    i += 1
    while i < len(head) and head[i] in PREFIX_SPACE:
        i += 1
    return MAX_STOP_LINE if head[i:i + 17] == b'"StopTransaction"' else MAX_LINE


def read_prefix(frame):
    """(the id, the index after its closing quote) of `[2,"<id>"` at the frame's start, or None."""
    head, i = frame[:ID_PREFIX_WINDOW], 0

    def skip_space(i):
        while i < len(head) and head[i] in PREFIX_SPACE:
            i += 1
        return i

    for token in (b"[", b"2", b",", b'"'):
        i = skip_space(i)
        if head[i:i + 1] != token:
            return None
        i += 1
    end = i
    while end < len(head) and head[end] not in NOT_IN_ID:
        end += 1
    if head[end:end + 1] != b'"' or not 1 <= end - i <= MAX_ID:
        return None
    try:
        return head[i:end].decode("utf-8"), end + 1
    except UnicodeDecodeError:
        return None


class Expect:
    """What the backend owes one line: the id to answer (or None) and, for a CALL, its parts."""

    def __init__(self, line):
        frame = line.rstrip(b"\r")  # a CR before the newline belongs to the line ending
        self.text, self.reply_id, self.call, self.parsed = line, None, None, False
        message = None
        if len(frame) <= limit(frame):
            try:
                message = parse_json(frame)
                self.parsed = True
            except NotJson:
                pass
        if not self.parsed:
            self.reply_id = prefix_id(frame)
            return
        if not (isinstance(message, list) and len(message) >= 2 and type(message[0]) is int
                and message[0] == 2 and isinstance(message[1], str) and message[1]):
            return
        # Any non-empty string id is answered, also one over 36 characters (decided in
        # test_ocppj: "a CALL's unique id longer than 36 characters: answered with that id").
        self.reply_id = message[1]
        if (len(message) == 4 and len(message[1]) <= MAX_ID and isinstance(message[2], str)
                and message[2] and isinstance(message[3], dict)):
            self.call = (message[1], message[2], message[3])

    @classmethod
    def over_long(cls, text):
        """A frame put together from lines that grew over its limit: answered if its id is readable."""
        expect = cls(b"")
        expect.text, expect.reply_id = text, prefix_id(text)
        return expect

    def usable_stop(self):
        """(transactionId, meterStop) as whole numbers for a StopTransaction that can be billed."""
        if self.call is None or self.call[1] != "StopTransaction":
            return None
        payload = self.call[2]
        tid, meter = reading(payload.get("transactionId")), reading(payload.get("meterStop"))
        return None if tid is None or meter is None else (tid, meter)


_READING = re.compile(r"[ \t\n\r\f\v]*-?[0-9]+(\.[0-9]+)?[ \t\n\r\f\v]*")
LARGEST = 10**19  # a reading or transactionId beyond +-10^19 is no meter's: unusable
LONGEST_TEXT = 63


def reading(value):
    """A meter reading or transactionId as chargers send it (an integer, a float, a decimal string
    of at most 63 characters), floored to a whole number inside +-10^19; None when unusable."""
    number = None
    if type(value) is int:
        number = value
    elif type(value) is float:
        number = math.floor(value)
    elif isinstance(value, str) and len(value) <= LONGEST_TEXT and _READING.fullmatch(value):
        number = math.floor(Decimal(value))
    return number if number is not None and -LARGEST < number < LARGEST else None


# --- frames split over lines (README, "How it answers chargers") --------------------------------------

JSON_SPACE = b" \t\r\n"
ENDINGS = (b"", b" 0", b" :0", b' "k":0')  # what an unfinished JSON text may lack before its brackets


def parses(frame):
    try:
        parse_json(frame)
        return True
    except NotJson:
        return False


def open_brackets(frame):
    """The closing brackets the frame lacks, innermost first; None when it ends inside a string."""
    stack, i = [], 0
    while i < len(frame):
        c = frame[i:i + 1]
        if c == b'"':
            i = string_end(frame, i)
            if i is None:
                return None
            continue
        if c in b"[{":
            stack.append(b"]" if c == b"[" else b"}")
        elif c in b"]}" and stack:
            stack.pop()
        i += 1
    return b"".join(reversed(stack))


def string_end(frame, i):
    """The index after the JSON string starting at frame[i], or None if it does not end on the line."""
    i += 1
    while i < len(frame):
        c = frame[i]
        if c == 0x22:
            return i + 1
        if c < 0x20:
            return None
        if c == 0x5C:
            if frame[i + 1:i + 2] == b"u":
                if not re.fullmatch(rb"[0-9a-fA-F]{4}", frame[i + 2:i + 6]):
                    return None
                i += 6
                continue
            if frame[i + 1:i + 2] == b"" or frame[i + 1:i + 2] not in b'"\\/bfnrt':
                return None
            i += 2
            continue
        i += 1
    return None


def unfinished(line):
    """A line that begins a frame split over lines: an array, not JSON yet, that some ending completes."""
    frame = line.rstrip(b"\r")
    if len(frame) > limit(frame) or not frame.lstrip(JSON_SPACE).startswith(b"[") or parses(frame):
        return False
    closers = open_brackets(frame)
    return closers is not None and any(parses(frame + ending + closers) for ending in ENDINGS)


def number_end(line, i):
    """The index after the JSON number at line[i] (the longest one), or None."""
    found = re.match(rb"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", line[i:])
    return None if found is None else i + found.end()


def json_tokens(line):
    """Whether the line is JSON tokens and white space only, each token the longest that fits."""
    i = 0
    while i < len(line):
        c = line[i:i + 1]
        if c in b" \t\r[]{},:":
            i += 1
        elif c == b'"':
            i = string_end(line, i)
        elif c in b"-0123456789":
            i = number_end(line, i)
        else:
            word = next((w for w in (b"true", b"false", b"null") if line.startswith(w, i)), None)
            i = None if word is None else i + len(word)
        if i is None:
            return False
    return True


def continues(line):
    """A line that may be the next part of a held frame: JSON tokens, and no "[" first."""
    return not line.lstrip(b" \t\r").startswith(b"[") and json_tokens(line)


def depth(text):
    """Brackets opened less brackets closed, outside strings."""
    n, i = 0, 0
    while i < len(text):
        c = text[i:i + 1]
        if c == b'"':
            i = string_end(text, i)
            continue
        n += (c in b"[{") - (c in b"]}")
        i += 1
    return n


class Frames:
    """Which frames the lines come to, and when: the Expects owed after each line and at the end."""

    def __init__(self):
        self.held = []

    def line(self, line):
        owed = []
        if self.held:
            if continues(line):
                text = b"\n".join(self.held + [line])
                if len(text) > limit(text):
                    self.held = []
                    return [Expect.over_long(text)]
                self.held.append(line)
                if depth(text) > 0:
                    return []
                self.held = []
                return [Expect(text)]
            owed = self.finish()
        if unfinished(line):
            self.held = [line]
            return owed
        return owed + [Expect(line)]

    def finish(self):
        held, self.held = self.held, []
        return [Expect(b"\n".join(held))] if held else []


def check_reply(data):
    """The reply in one write(): well-formed OCPP-J, one line."""
    assert isinstance(data, bytes) and data.endswith(b"\n") and data.count(b"\n") == 1, data[:200]
    assert b"\r" not in data, data[:200]
    reply = json.loads(data.decode("utf-8"))
    assert isinstance(reply, list) and reply and type(reply[0]) is int, reply
    if reply[0] == 3:
        assert len(reply) == 3 and isinstance(reply[1], str) and isinstance(reply[2], dict), reply
    else:
        assert reply[0] == 4 and len(reply) == 5, reply
        assert isinstance(reply[1], str) and reply[2] in ERROR_CODES, reply
        assert isinstance(reply[3], str) and isinstance(reply[4], dict), reply
    return reply


# --- generators ---------------------------------------------------------------------------------
# Strategies are built once, here: building them inside the composites costs more than drawing.

CHARACTERS = st.characters(max_codepoint=0x1FFFF, exclude_categories=("Cs",))  # surrogates: see near_valid


def text(max_size, min_size=0):
    return st.text(CHARACTERS, min_size=min_size, max_size=max_size)


def one_of(*values):
    return st.sampled_from(tuple(values))


plain = st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=12)
json_scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | text(12)
                | st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(text(8), inner, max_size=3), max_leaves=6)

unique_ids = plain | st.uuids().map(str) | text(MAX_ID, min_size=1) \
    | one_of('a"b', "a\\b", "tab\there", "\x00", "ü", "x" * 36, "é" * 36, "\u2028")
odd_ids = one_of("", "u" * 37, "é" * 37, 7, None, ["a"], 2.5)
any_ids = unique_ids | odd_ids

ZONES = (timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-14)),
         timezone(timedelta(hours=14)))
FIRST, LAST = datetime(1, 1, 2, tzinfo=timezone.utc), datetime(9999, 12, 30, tzinfo=timezone.utc)


def iso_time(seconds, how):
    """An ISO 8601 date-time `seconds` after 0001-01-02, in one of four zones, Z or +00:00, ms or not."""
    moment = (FIRST + timedelta(seconds=seconds / 1000)).astimezone(ZONES[how % 4])
    text_ = moment.isoformat(timespec=("seconds", "milliseconds")[how // 4 % 2])
    return text_.replace("+00:00", "Z") if how // 8 % 2 else text_


# Mostly around now: the ledger month is the stop time's when it is plausible (2015 .. tomorrow).
valid_times = st.builds(iso_time, st.integers(0, int((LAST - FIRST).total_seconds() * 1000))
                        | st.integers(63_530_000_000_000, 64_000_000_000_000), st.integers(0, 15))
# Small pools make retransmissions (the same stop twice) common.
stop_times = one_of("2026-11-01T12:00:00Z", "2026-11-01T12:00:00.000Z", "2026-12-01T00:30:00+01:00",
                    "2014-12-31T23:59:59Z", "2099-01-01T00:00:00Z") | valid_times
tags = one_of("1111", "2222", "3333", "04a2b9c1d23e80", "9999", "5555", "x" * 20) | text(20)
meter_ints = one_of(0, 12345678, 12350999, 2**31 - 1, 9_999_999_999) | st.integers(-2**63, 2**63)
transaction_ids = one_of(10012345, 20000000, 2139999999, 0, 2**31, 2**63 - 1, -1) | st.integers(-2**63, 2**63)
connectors = st.integers(0, 4) | st.integers(-2**40, 2**40)

ENUMS = {
    "DiagnosticsStatusNotification": ("Idle", "Uploaded", "UploadFailed", "Uploading"),
    "FirmwareStatusNotification": ("Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed",
                                   "Installing", "Installed"),
    "errorCode": ("ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
                  "InternalError", "LocalListConflict", "NoError", "OtherError", "OverCurrentFailure",
                  "OverVoltage", "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure",
                  "UnderVoltage", "WeakSignal"),
    "status": ("Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
               "Unavailable", "Faulted"),
    "reason": ("EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss", "Reboot",
               "Remote", "SoftReset", "UnlockCommand", "DeAuthorized"),
    "context": ("Interruption.Begin", "Interruption.End", "Other", "Sample.Clock", "Sample.Periodic",
                "Transaction.Begin", "Transaction.End", "Trigger"),
    "measurand": ("Energy.Active.Import.Register", "Energy.Active.Export.Register", "Power.Active.Import",
                  "Current.Import", "Voltage", "SoC", "Temperature"),
    "unit": ("Wh", "kWh", "W", "kW", "A", "V", "Celsius", "Percent"),
    "phase": ("L1", "L2", "L3", "N", "L1-N", "L1-L2"),
    "location": ("Body", "Cable", "EV", "Inlet", "Outlet"),
    "format": ("Raw", "SignedData"),
}
MAX_LENGTH = {"idTag": 20, "chargePointVendor": 20, "chargePointModel": 20, "chargePointSerialNumber": 25,
              "chargeBoxSerialNumber": 25, "firmwareVersion": 50, "iccid": 20, "imsi": 20, "meterType": 25,
              "meterSerialNumber": 25, "vendorId": 255, "messageId": 50, "info": 50, "vendorErrorCode": 50}


def enum(name):
    return st.sampled_from(ENUMS[name])


def up_to(name):
    """A CiString within its limit (the long ones drawn shorter: near_valid makes them too long)."""
    return text(min(MAX_LENGTH[name], 25))


def payloads(required, **optional):
    return st.fixed_dictionaries(required, optional=optional)


sampled_values = payloads(
    {"value": one_of("12345678", "12345.678", "0", "230.1") | text(10)},
    context=enum("context"), measurand=enum("measurand"), unit=enum("unit"), phase=enum("phase"),
    location=enum("location"), format=enum("format"))
meter_value_lists = st.lists(payloads({"timestamp": valid_times,
                                       "sampledValue": st.lists(sampled_values, min_size=1, max_size=3)}),
                             min_size=1, max_size=2)

VALID = {  # OCPP 1.6, section 6: the requests a charger sends
    "Authorize": payloads({"idTag": tags}),
    "BootNotification": payloads(
        {"chargePointVendor": up_to("chargePointVendor"), "chargePointModel": up_to("chargePointModel")},
        **{name: up_to(name) for name in ("chargePointSerialNumber", "chargeBoxSerialNumber", "firmwareVersion",
                                          "iccid", "imsi", "meterType", "meterSerialNumber")}),
    "DataTransfer": payloads({"vendorId": up_to("vendorId")}, messageId=up_to("messageId"), data=text(40)),
    "DiagnosticsStatusNotification": payloads({"status": enum("DiagnosticsStatusNotification")}),
    "FirmwareStatusNotification": payloads({"status": enum("FirmwareStatusNotification")}),
    "Heartbeat": st.just({}),
    "MeterValues": payloads({"connectorId": connectors, "meterValue": meter_value_lists},
                            transactionId=transaction_ids),
    "StartTransaction": payloads(
        {"connectorId": connectors, "idTag": tags, "meterStart": meter_ints, "timestamp": valid_times},
        reservationId=st.integers(-10, 10**6)),
    "StatusNotification": payloads(
        {"connectorId": connectors, "errorCode": enum("errorCode"), "status": enum("status")},
        info=up_to("info"), timestamp=valid_times, vendorId=up_to("vendorId"),
        vendorErrorCode=up_to("vendorErrorCode")),
    "StopTransaction": payloads(
        {"transactionId": transaction_ids, "meterStop": meter_ints, "timestamp": stop_times},
        idTag=tags, reason=enum("reason"), transactionData=meter_value_lists),
}
# StopTransaction three times as often as the others: the ledger is what matters most.
valid_calls = st.one_of([st.tuples(st.just(action), VALID[action])
                         for action in CHARGER_ACTIONS + ("StopTransaction",) * 2])

# Readings as chargers should not send them: text, floats, and around the +-10^19 a reading may be.
odd_numbers = one_of(" 12350999 ", "12350999.5", "-5", "1e5", "0x10", "１２３", "", "12,5", "٣", "9" * 19,
                     "1" + "0" * 19, " " * 50 + "1234567890123", " " * 51 + "1234567890123", "1" * 4301,
                     "9" * 5000 + ".5", 10**19 - 1, 10**19, 1 - 10**19, -10**19, 1e19, 9.999e18, -0.5) \
    | st.floats(allow_nan=False, allow_infinity=False)
surrogates = one_of("\ud800", "\udfff", "ok\ud83d", "\ude00x")
DEVIATIONS = ("drop", "wrong type", "too long", "enum", "unknown", "number as text", "object for array",
              "surrogate", "random")
deviations = st.lists(st.tuples(st.sampled_from(DEVIATIONS), st.integers(0, 2**16)), min_size=1, max_size=3)
small = st.integers(0, 2**16)


@st.composite
def near_valid(draw, payload):
    """The payload with one to three deviations from the schema."""
    payload = dict(payload)
    for how, pick in draw(deviations):
        keys = sorted(payload)
        key = keys[pick % len(keys)] if keys else None
        value = payload.get(key)
        if how == "unknown" or key is None:
            payload[draw(text(12))] = draw(json_values)
        elif how == "drop":
            del payload[key]
        elif how == "wrong type":
            other = draw(json_values)
            payload[key] = other if type(other) is not type(value) else [other]
        elif how == "too long":
            payload[key] = "x" * (MAX_LENGTH.get(key, 50) + 1 + pick % 300)
        elif how == "enum" and isinstance(value, str) and value:
            at = pick % len(value)
            payload[key] = (value[:at] + value[at + 1:], value[:at] + "x" + value[at:],
                            value[:at] + chr(ord(value[at]) ^ 1) + value[at + 1:], value.lower(),
                            value.upper())[draw(small) % 5]
        elif how == "number as text":
            payload[key] = str(value) if type(value) in (int, float) and pick % 2 else draw(odd_numbers)
        elif how == "object for array" and isinstance(value, list):
            payload[key] = value[0] if value and pick % 2 else {}
        elif how == "surrogate":
            payload[key] = draw(surrogates)
        else:
            payload[key] = draw(json_values)
    return payload


MESSAGE_KINDS = ("valid",) * 5 + ("near",) * 5 + ("random payload", "odd call", "action", "result", "error",
                                                   "type", "not array")
actions = st.sampled_from(CENTRAL_ACTIONS) | plain | one_of("", "heartbeat", "Heartbeat ") | json_values
error_codes = st.sampled_from(sorted(ERROR_CODES)) | plain
not_arrays = json_values | one_of({"2": "id"}, [], "[2]", 2)
message_types = one_of(0, 1, 5, 6, -2, 2.0, "2", True, None, 10**30, [2])


@st.composite
def messages(draw):
    """An OCPP-J message (a JSON value) and whether it is a valid CALL of a charger action."""
    kind = draw(st.sampled_from(MESSAGE_KINDS))
    action, payload = draw(valid_calls)
    uid = draw(unique_ids)
    if kind == "valid":
        return [2, uid, action, payload], True
    if kind == "near":
        return [2, uid, action, draw(near_valid(payload))], False
    if kind == "random payload":
        return [2, uid, action, draw(json_values)], False
    if kind == "odd call":
        frame, cut = [2, draw(any_ids), action, payload], draw(small) % 6
        return (frame[:cut] if cut < 4 else frame + [draw(json_values)] * (cut - 3)), False
    if kind == "action":
        return [2, uid, draw(actions), payload], False
    if kind == "result":
        return ([3, uid, payload], [3, uid], [3, uid, [payload]], [3, uid, payload, {}])[draw(small) % 4], False
    if kind == "error":
        code = draw(error_codes)
        shapes = ([4, uid, code, "why", {}], [4, uid, code, {}], [4, uid, code, "", payload, 1])
        return shapes[draw(small) % 3], False
    if kind == "type":
        return [draw(message_types), uid, action, payload], False
    return draw(not_arrays), False


BEFORE = (b"", b"", b" ", b"\t", b"\x0c")  # form feed: no JSON white space
AFTER = (b"", b"", b"\r", b" ")
framings = st.tuples(st.booleans(), st.booleans(), st.sampled_from(BEFORE), st.sampled_from(AFTER))


def serialize(message, draw):
    """The message's bytes, and whether they are still JSON; a lone surrogate unescaped is invalid UTF-8."""
    ascii_only, compact, before, after = draw(framings)
    data = json.dumps(message, ensure_ascii=ascii_only, separators=(",", ":") if compact else (", ", ": "))
    return before + data.encode("utf-8", "surrogatepass") + after, before != b"\x0c"


BAD_BYTES = (b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80", b"\r", b"\x00",
             b'"', b"\\", b"NaN", b"1e400", b"-Infinity", b"[", b"}")
MUTATIONS = ("flip", "insert", "bad", "delete", "truncate", "duplicate")
mutations = st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 2**20), small),
                     min_size=1, max_size=4)
few_bytes = st.binary(min_size=1, max_size=4)


@st.composite
def mutated(draw, data):
    """A valid frame's bytes flipped, cut, spliced, duplicated, with invalid UTF-8, CR or NUL."""
    data = bytearray(data)
    for how, at, n in draw(mutations):
        at %= len(data) + 1
        if how == "flip" and at < len(data):
            data[at] ^= 1 << n % 8
        elif how == "insert":
            data[at:at] = draw(few_bytes)
        elif how == "bad":
            data[at:at] = BAD_BYTES[n % len(BAD_BYTES)]
        elif how == "delete":
            del data[at:at + 1 + n % 8]
        elif how == "truncate":
            del data[at:]
        elif how == "duplicate":
            data[at:at] = data[at:at + 1 + n % 40]
    return bytes(data).replace(b"\n", b"")


HUGE_SIZES = (MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, MAX_LINE + 2, 70_000, 200_000, MAX_STOP_LINE,
              MAX_STOP_LINE + 1)
huge_shapes = st.tuples(unique_ids, st.sampled_from(HUGE_SIZES), one_of("frame", "stop", "junk", "spaces"),
                        meter_ints, st.booleans())


def huge(draw):
    """A line near or over 64 KiB: a whole frame padded to a size around the limit, or junk after an id."""
    uid, size, how, meter, cr = draw(huge_shapes)
    if how == "junk":
        head = json.dumps([2, uid]).encode("utf-8", "surrogatepass")[:-1]
        return head + b"x" * (size - len(head))
    if how == "spaces":
        return b"[2," + b" " * size + json.dumps(uid).encode() + b',"Heartbeat",{}]'
    if how == "stop":
        payload = {"transactionId": 10012345, "meterStop": meter, "timestamp": "2026-11-01T12:00:00Z", "idTag": ""}
        frame, pad_key = [2, uid, "StopTransaction", payload], "idTag"
    else:
        payload = {"vendorId": "v", "data": ""}
        frame, pad_key = [2, uid, "DataTransfer", payload], "data"
    base = len(json.dumps(frame, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    payload[pad_key] = "p" * max(0, size - base)
    return json.dumps(frame, separators=(",", ":")).encode("utf-8", "surrogatepass") + (b"\r" if cr else b"")


# 1 line in 200 is over 64 KiB: those cost time. (Not at either end: Hypothesis favours the ends.)
LINE_KINDS = ("structured",) * 120 + ("mutated",) * 29 + ("huge",) + ("mutated",) * 30 + ("raw", "raw prefix") * 10
raw_lines = st.binary(max_size=300).map(lambda b: b.replace(b"\n", b""))
raw_prefixed = st.binary(max_size=60).map(lambda b: (b'[2,"' + b).replace(b"\n", b""))


@st.composite
def lines(draw):
    """One line (no newline), and whether it is a valid CALL of a charger action, untouched."""
    kind = draw(st.sampled_from(LINE_KINDS))
    if kind == "raw":
        return draw(raw_lines), False
    if kind == "raw prefix":
        return draw(raw_prefixed), False
    if kind == "huge":
        return huge(draw), False
    message, valid = draw(messages())
    data, still_json = serialize(message, draw)
    if kind == "mutated":
        return draw(mutated(data)), False
    return data, valid and still_json


PIECE_KINDS = ("line",) * 8 + ("pretty", "pretty cut", "pretty mutated")
pretty_styles = st.tuples(one_of(0, 1, 2, 4, "\t", " \r"), st.booleans())


@st.composite
def pieces(draw):
    """What one text frame of a charger comes to: one line, or (pretty-printed) several; and
    whether it is a valid CALL of a charger action, untouched. A cut frame is one a charger gave up."""
    kind = draw(st.sampled_from(PIECE_KINDS))
    if kind == "line":
        line, valid = draw(lines())
        return [line], valid
    message, valid = draw(messages())
    indent, ascii_only = draw(pretty_styles)
    split = json.dumps(message, indent=indent, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass").split(b"\n")
    at = draw(small) % len(split)
    if kind == "pretty cut":
        return split[:max(1, at)], False
    if kind == "pretty mutated":
        split[at] = draw(mutated(split[at]))
        return split, False
    return split, valid


repeats = st.lists(st.tuples(small, small), max_size=3)


@st.composite
def batches(draw):
    """Frames, and some of them again later: a charger retransmits what was not confirmed in time."""
    batch = draw(st.lists(pieces(), min_size=1, max_size=BATCH))
    for at, which in draw(repeats):
        batch.insert(at % (len(batch) + 1), batch[which % len(batch)])
    return batch


# --- the run ------------------------------------------------------------------------------------

class Site:
    """tags.json, a run directory and a log shared by the batches; each batch has a ledger of its own."""

    def __init__(self, root):
        self.root = root
        (root / "tags.json").write_text(json.dumps(TAGS))
        self.config = config.from_env({"SHOCPP_TAGSFILE": str(root / "tags.json"),
                                       "SHOCPP_RUNDIR": str(root / "run"), "SHOCPP_LOGDIR": str(root / "log")})
        self.tags_file = TagsFile(self.config.tags_file)
        self.connection = runfiles.Connection(self.config.run_dir, CHARGER, os.getpid())
        self.connection.create({})
        self.log = Log(self.config.log_dir, CHARGER, stderr=io.StringIO())
        self.batches = self.fed = 0
        self.seen = Counter()  # what the lines were and got, for the summary

    def backend(self, write):
        """A Backend writing to `write`, with a new, empty ledger directory; the log emptied."""
        self.batches += 1
        os.ftruncate(self.log.fd, 0)
        self.log.stderr.seek(0)
        self.log.stderr.truncate()
        cfg = self.config._replace(accounting_dir=self.root / f"ledger-{self.batches}")
        return backend.Backend(cfg, CHARGER, self.log, write, self.connection, self.tags_file)


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("fuzz"))
    yield site
    site.log.close()
    site.connection.remove()


def ledger_records(directory):
    records = []
    for path in sorted(directory.glob("*.jsonl")):
        data = path.read_bytes()
        assert data.endswith(b"\n"), path
        # split at b"\n" only: str.splitlines() would also cut at U+0085 or U+2028 inside a string
        records += [json.loads(line) for line in data[:-1].split(b"\n")]
    return records


def start_identity(record):
    return json.dumps([record[k] for k in ("charger", "connector_id", "id_tag", "meter_start_wh", "start_time")])


def identity(record):
    return (record["charger"], record["transaction_id"], record["meter_stop_wh"], record["stop_time"])


def feed(site, batch):
    """Run one batch through a Session with a fresh ledger and check every property."""
    shell = site.backend(None)
    frames = Frames()
    valid_texts = {b"\n".join(piece) for piece, valid in batch if valid}
    answered_valid = set()
    try:
        stops = []  # (identity, confirmed)
        for line in (line for piece, _ in batch for line in piece):
            assert b"\n" not in line
            owed = frames.line(line)
            step = shell.session.receive(line, backend.now_utc(), time.monotonic(), shell.tags)  # 1.
            site.fed += 1
            site.seen["over 64 KiB"] += len(line) > MAX_LINE
            stops += check_step(site, shell, step, owed, valid_texts, answered_valid)
        stops += check_step(site, shell, shell.session.finish(), frames.finish(), valid_texts, answered_valid)
        assert answered_valid == valid_texts, ("a valid frame was not taken alone", valid_texts - answered_valid)
        written = ledger_records(shell.config.accounting_dir)  # 4.
        starts = [start_identity(r) for r in written if r.get("event") == "start"]
        assert len(set(starts)) == len(starts), ("a start twice", starts)
        records = [identity(r) for r in written if r.get("event", "stop") == "stop"]
        site.seen["usable stops"] += len(stops)
        site.seen["ledger records"] += len(records)
        for i, record in enumerate(records):
            assert any(record == sent for sent, _ in stops), ("not sent", record)
            assert record not in records[:i], ("twice", record)
        for sent, confirmed in stops:
            if confirmed:
                assert sent in records, ("confirmed, not in the ledger", sent)
    finally:
        shutil.rmtree(shell.config.accounting_dir, ignore_errors=True)


def check_step(site, shell, step, owed, valid_texts, answered_valid):
    """Carry out the step of one line (or of the end); check its replies against what the oracle says
    the line completed. The usable stops among them, with whether each was confirmed."""
    frames = shell.apply(step)
    shell.write_run_files()
    written = [(ocppj.encode(frame) + "\n").encode() for frame in frames]
    replies = [check_reply(data) for data in written]  # 2.
    answered = [expect for expect in owed if expect.reply_id is not None]
    texts = [expect.text[:300] for expect in owed]
    assert [reply[1] for reply in replies] == [expect.reply_id for expect in answered], (texts, replies)  # 3.
    site.seen["not answered"] += len(owed) - len(answered)
    site.seen["put together from lines"] += sum(b"\n" in expect.text for expect in owed)
    stops = []
    for expect, reply in zip(answered, replies):
        site.seen["CALLRESULT" if reply[0] == 3 else reply[2]] += 1
        if not expect.parsed:
            assert reply[0] == 4 and reply[2] == "FormationViolation", (expect.text[:300], reply)
        assert reply[2:3] != ["InternalError"], (expect.text[:300], reply)  # the ledger can be written
        if expect.text in valid_texts:  # 5.
            assert reply[0] == 3, (expect.text[:300], reply)
            answered_valid.add(expect.text)
        usable = expect.usable_stop()
        if usable:
            # the ledger keeps a stop time as text of at most 64 characters (a list sent as one, as its text)
            stop_time = billing.bounded(expect.call[2].get("timestamp"), billing.TIME_LENGTH)
            stops.append(((CHARGER, *usable, stop_time), reply[0] == 3))
            assert reply[0] == 3, (expect.text[:300], reply)  # 5.
    return stops


def run_round(site, examples):
    @settings(max_examples=examples, database=None, deadline=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(batches())
    def round_(batch):
        feed(site, batch)

    round_()


def test_fuzzed_lines_are_answered_once_and_billed_only_from_usable_stops(fuzz_site):
    started, examples = time.monotonic(), 0
    while fuzz_site.fed < FRAMES:
        per_example = fuzz_site.fed / examples if examples else 6  # lines in a batch, on average
        more = max(10, min(2000, math.ceil((FRAMES - fuzz_site.fed) / per_example)))
        before = fuzz_site.fed
        run_round(fuzz_site, more)
        examples += more
        assert fuzz_site.fed > before, "a round fed no lines"
    print(f"\nfuzz: {fuzz_site.fed} lines in {examples} batches, {time.monotonic() - started:.1f} s;",
          ", ".join(f"{n} {what}" for what, n in fuzz_site.seen.most_common()))
    assert fuzz_site.fed >= FRAMES


# --- the oracle itself, on lines whose answer is known (see test_backend.HOSTILE) ----------------

@pytest.mark.parametrize("line, reply_id", [
    (b'[2,"a","Heartbeat",{}]', "a"),
    (b'  [ 2 , "a" , "Heartbeat"', "a"),  # not JSON: the id read from the start
    (b'\x0c[2,"a","Heartbeat",{}]', "a"),  # a form feed is no JSON white space
    (b'[2,"a\\"b","Heartbeat",{}]', 'a"b'),  # JSON: any id string
    (b'[2,"a\\"b","Heartbeat",{]', None),  # not JSON: no escapes in a readable id
    (b'[2,"' + b"u" * 37 + b'","Heartbeat",{}]', "u" * 37),
    (b'[2,"' + b"u" * 36 + b'","Heartbeat",{]', "u" * 36),
    (b'[2,"' + b"u" * 37 + b'","Heartbeat",{]', None),
    (b'[2,"\xc3\xa9","Heartbeat",{}]\xff', "\u00e9"),
    (b'[2,"\xc3","Heartbeat",{}]', None),
    (b'[2,"","Heartbeat",{}]', None),
    (b'[2,5,"Heartbeat",{}]', None),
    (b'[2.0,"a","Heartbeat",{}]', None),
    (b'[true,"a","Heartbeat",{}]', None),
    (b'[2,"a"]', "a"),
    (b'[3,"a",{}]', None),
    (b'[4,"a","GenericError","",{}]', None),
    (b'[2,"a","Heartbeat",NaN]', "a"),
    (b'[2,"a\\u0041","Heartbeat",{"x":1e400}]', None),  # overflows a double: not JSON, id escaped
    (b'[2,"r6","Heartbeat",{"pad":"' + b"x" * 70000 + b'"}]', "r6"),
    (b'[2,"\\u0041","Heartbeat",{"pad":"' + b"x" * 70000 + b'"}]', None),
    (b" " * 200 + b'[2,"a",', None),
    (b"", None),
    (b"\r", None),
    (b"[" * 100000, None),
])
def test_the_oracle_knows_which_lines_are_answered(line, reply_id):
    assert Expect(line).reply_id == reply_id


def test_the_oracle_reads_stops_as_the_readme_describes():
    stop = b'[2,"p","StopTransaction",{"transactionId":"10012345","meterStop":12350999.7,"timestamp":"t"}]'
    assert Expect(stop).usable_stop() == (10012345, 12350999)
    assert Expect(stop.replace(b'"10012345"', b"true")).usable_stop() is None
    assert Expect(stop.replace(b'"10012345"', b'"1e7"')).usable_stop() is None
    assert Expect(stop.replace(b'"p"', b'"' + b"p" * 37 + b'"')).usable_stop() is None


@pytest.mark.parametrize("lines, owed", [
    ([b'[2,"a","Heartbeat",{}]'], [["a"]]),
    ([b"[", b'  2,', b'  "a",', b'  "Heartbeat",', b"  {}", b"]"], [[], [], [], [], [], ["a"]]),
    ([b'[2,"x",', b'[2,"a","Heartbeat",{}]'], [[], ["x", "a"]]),       # given up by a frame
    ([b'[2,"x",', b"  NaN"], [[], ["x", None]]),                        # by a line of no JSON tokens
    ([b'[2,"x",', b'"open'], [[], ["x", None]]),
    ([b'[2,"x",', b"{} {}]"], [[], ["x"]]),                             # brackets closed, no JSON
    ([b'[2,"x",', b"{}", b"\t]"], [[], [], ["x"]]),
    ([b'[2,"x"'], [[]]),                                                # held at the end: see finish
    ([b"[", b"  [1]"], [[], [None, None]]),
    ([b'[2,"x","DataTransfer",{"d":"', b'"]'], [["x"], [None]]),        # a string does not end: alone
])
def test_the_oracle_puts_frames_split_over_lines_together(lines, owed):
    frames = Frames()
    assert [[e.reply_id for e in frames.line(line)] for line in lines] == owed


def test_the_oracle_gives_up_what_is_held_at_the_end_and_when_it_grows_too_long():
    frames = Frames()
    frames.line(b'[2,"x","Heartbeat",')
    assert [e.reply_id for e in frames.finish()] == ["x"] and frames.finish() == []
    frames.line(b'[2,"big","DataTransfer",{"data":"' + b"x" * 65500 + b'",')
    (over,) = frames.line(b'"k":"' + b"y" * 100 + b'"}]')
    assert (over.reply_id, over.parsed) == ("big", False)
    stop = b'[2,"p","StopTransaction",{"data":"' + b"x" * 65500 + b'",'
    assert frames.line(stop) == [] and frames.line(b'"k":"' + b"y" * 100 + b'"}]')[0].reply_id == "p"


# --- found by this fuzzer: regression tests --------------------------------------------------------

def answer(site, line):
    written = []
    site.backend(written.append).on_line(line)
    return [json.loads(data) for data in written]


STOP = '[2,"p","StopTransaction",{"transactionId":10012345,"meterStop":%s,"timestamp":"2026-11-01T12:00:00Z"%s}]'


def test_a_stop_with_a_lone_surrogate_in_its_id_tag_is_billed(fuzz_site):
    # was InternalError: ledger.encode could not write "\ud800" as UTF-8, so the stop was never billed
    assert answer(fuzz_site, (STOP % ("12350999", r',"idTag":"\ud800"')).encode())[0][0] == 3
    (record,) = ledger_records(fuzz_site.root / f"ledger-{fuzz_site.batches}")
    assert record["id_tag"] == "\ud800"


def test_a_boot_notification_with_a_lone_surrogate_is_accepted(fuzz_site):
    # was InternalError: runfiles.write_json could not write it, and the charger could not boot
    line = rb'[2,"b","BootNotification",{"chargePointVendor":"Acme\ud83d","chargePointModel":"Box"}]'
    assert answer(fuzz_site, line)[0][0] == 3


def test_a_stop_with_a_reading_of_5000_digits_is_refused_not_failed(fuzz_site):
    # was InternalError: json.dumps cannot write an int of over 4300 digits; now the reading is unusable
    (reply,) = answer(fuzz_site, (STOP % ('"' + "1" * 5000 + '"', "")).encode())
    assert reply[:3] == [4, "p", "TypeConstraintViolation"]
