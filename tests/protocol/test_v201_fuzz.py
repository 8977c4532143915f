"""Fuzzing the 2.0.1 frame handling (mirrors test_fuzz.py, smaller): a 2.0.1 Session driven directly, its
steps carried out by the shell's `apply` on a real ledger and real run files.

Hypothesis generates batches of lines: TransactionEvents of a few transactions with valid and damaged
payloads, retransmitted and out of order, other station messages with random payloads, frames of
other message types, byte mutations and raw bytes. For every line:

TransactionEvents deviate from the schema in what billing does not need (a vendor's trigger reason, a
seqNo as text, odd chargingState, evse or meterValue) and are billed all the same.

1. no exception escapes Session.receive or the carrying out of its step;
2. every line written is one well-formed reply, [3, id, {...}] or [4, id, code, "text", {}] with one of
   the twelve OCPP-J 2.0.1 error codes, and nothing gets InternalError (the ledger is writable);
3. a CALL (or a frame of another message type) whose unique id can be read is answered once, with that
   id, when the line that completes it comes (1.6's oracle `Frames` says when: a line that begins a
   frame is held until the next shows whether it goes on); other frames are not answered, but for
   at most a FormatViolation;
4. every answer of a known station action is valid by our schema and by the `ocpp` package's;
5. the ledger holds at most one stop line per transaction, and no start record twice.
"""

import json
import os
from datetime import datetime, timezone

from hypothesis import example, given, strategies as st

from shocpp import backend, config, runfiles
from shocpp.log import Log
from shocpp.protocol.v201 import PROTOCOL, schemas
from shocpp.protocol.v201.errors import ERROR_CODES
from shocpp.tags_file import TagsFile

from conftest import TAGS, examples
from judge201 import judge_accepts
from test_fuzz import Frames

ACTIONS = schemas.FROM_CHARGER + ("StartTransaction", "Reset", "Bogus")
TIDS = ("tx-a", "tx-b", "x" * 36)

numbers = st.one_of(st.integers(-10, 10**7), st.floats(-1e6, 1e7, allow_nan=False), st.text(max_size=5))
sample = st.fixed_dictionaries({"value": numbers}, optional={
    "context": st.sampled_from(["Transaction.Begin", "Transaction.End", "Sample.Periodic", "Bogus"]),
    "unitOfMeasure": st.fixed_dictionaries({}, optional={"unit": st.sampled_from(["Wh", "kWh", "W"]),
                                                         "multiplier": st.integers(-5, 12)})})
meter = st.lists(st.fixed_dictionaries({"timestamp": st.just("2026-11-01T10:00:00Z"),
                                        "sampledValue": st.lists(sample, min_size=1, max_size=3)}), max_size=2)
json_values = st.recursive(st.none() | st.booleans() | numbers, lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
transaction_event = st.fixed_dictionaries({
    "eventType": st.sampled_from(["Started", "Updated", "Ended"]),
    "timestamp": st.sampled_from(["2026-11-01T10:00:00Z", "2026-10-31T23:59:00+01:00", "garbage"]),
    "triggerReason": st.one_of(st.sampled_from(["Authorized", "EVDeparted", "MeterValuePeriodic"]), st.text(max_size=5)),
    "seqNo": st.one_of(st.integers(0, 5), json_values),
    "transactionInfo": st.fixed_dictionaries({"transactionId": st.sampled_from(TIDS)}, optional={
        "chargingState": st.one_of(st.sampled_from(["Charging", "SuspendedEV", "Idle"]), json_values),
        "stoppedReason": json_values}),
}, optional={"meterValue": st.one_of(meter, json_values), "offline": st.booleans(),
             "evse": st.fixed_dictionaries({"id": st.one_of(st.integers(-1, 3), json_values)}),
             "idToken": st.fixed_dictionaries({"idToken": st.sampled_from(["3333", "1111", "nope"]),
                                               "type": st.sampled_from(["ISO14443", "Central"])})})
unique_ids = st.text(min_size=1, max_size=40).filter(lambda t: '"' not in t and "\\" not in t)


@st.composite
def lines(draw):
    kind = draw(st.integers(0, 9))
    uid = draw(unique_ids)
    if kind <= 4:
        frame = [2, uid, "TransactionEvent", draw(transaction_event)]
    elif kind <= 6:
        frame = [2, uid, draw(st.sampled_from(ACTIONS)), draw(st.dictionaries(st.text(max_size=8), json_values))]
    elif kind == 7:
        frame = [draw(st.integers(-1, 9)), uid, draw(json_values)]
    elif kind == 8:
        text = json.dumps([2, uid, "TransactionEvent", draw(transaction_event)])
        at = draw(st.integers(0, len(text) - 1))
        return text[:at] + draw(st.text(max_size=3)) + text[at + 1:]
    else:
        return draw(st.text(max_size=30))
    return json.dumps(frame)


def expected_id(line):
    """The unique id a line must be answered with, or None (the oracle reads the JSON itself)."""
    try:
        frame = json.loads(line)
    except ValueError:
        return None
    if not isinstance(frame, list) or len(frame) < 2 or type(frame[0]) is not int or frame[0] in (3, 4):
        return None
    uid = frame[1]
    return uid if isinstance(uid, str) and 0 < len(uid) <= 36 else None


def matched(replies, owed):
    """The frame text each reply answers, in order, when the replies are what the frames completed by a
    line are owed: exactly one with the id of each whose id can be read, and for each other at most a
    FormatViolation (a broken CALL whose id its first bytes show); else None."""
    found, i = [], 0
    for text in owed:
        uid = expected_id(text)
        reply = replies[i] if i < len(replies) else None
        if uid is not None:
            if reply is None or reply[1] != uid:
                return None
        elif reply is None or reply[:1] != [4] or reply[2] != "FormatViolation":
            continue
        found.append(text)
        i += 1
    return found if i == len(replies) else None


# Found by this fuzzer: a CALL cut short before its last bracket is held for the next line, and given
# up (a FormatViolation with the id its first bytes show) when that line is a frame of its own.
CUT_SHORT = ('[2, "0", "TransactionEvent", {"eventType": "Ended", "timestamp": "2026-11-01T10:00:00Z", '
             '"triggerReason": "Authorized", "seqNo": 0, "transactionInfo": {"transactionId": "tx-a"}}')
STARTED = ('[2, "1", "TransactionEvent", {"eventType": "Started", "timestamp": "2026-11-01T10:00:00Z", '
           '"triggerReason": "Authorized", "seqNo": 0, "transactionInfo": {"transactionId": "tx-a"}}]')


@example(batch=[CUT_SHORT, STARTED])
@given(st.lists(lines(), min_size=1, max_size=12))
def test_v201_frames(tmp_path_factory, batch):
    root = tmp_path_factory.mktemp("fuzz201")
    (root / "tags.json").write_text(json.dumps(TAGS))
    cfg = config.from_env({"SHOCPP_TAGSFILE": str(root / "tags.json"), "SHOCPP_ACCOUNTINGDIR": str(root / "acc"),
                           "SHOCPP_RUNDIR": str(root / "run"), "SHOCPP_LOGDIR": str(root / "log")})
    written = []
    connection = runfiles.Connection(cfg.run_dir, "CS-fuzz", os.getpid())
    connection.create({"charger": "CS-fuzz"})
    shell = backend.Backend(cfg, "CS-fuzz", Log(cfg.log_dir, "CS-fuzz"), written.append, connection,
                            TagsFile(cfg.tags_file), lambda: datetime(2026, 11, 21, tzinfo=timezone.utc),
                            protocol=PROTOCOL)
    frames = Frames()  # 1.6's oracle of frames split over lines: the reassembly is shared
    try:
        for line in batch:
            written.clear()
            data = line.encode("utf-8", "surrogatepass")
            shell.on_lines([data])
            replies = [json.loads(r) for r in b"".join(written).decode().splitlines()]
            owed = [e.text.decode("utf-8", "surrogatepass") for e in frames.line(data)]
            assert matched(replies, owed) is not None, (line, owed, replies)
            for reply, text in zip(replies, matched(replies, owed)):
                assert reply[0] in (3, 4), reply
                if reply[0] == 4:
                    assert reply[2] in ERROR_CODES and reply[2] != "InternalError", reply
                    assert isinstance(reply[3], str) and isinstance(reply[4], dict)
                else:
                    action = json.loads(text)[2]
                    assert schemas.check(action, "conf", reply[2]) == [] and judge_accepts(action, "conf", reply[2])
        records = [json.loads(x) for f in sorted((root / "acc").glob("*.jsonl")) for x in f.read_text().splitlines()]
        stops = [r["transaction_id"] for r in records if r["event"] == "stop"]
        assert len(stops) == len(set(stops))
        starts = [json.dumps({k: v for k, v in r.items() if k != "recorded_at"}, sort_keys=True)
                  for r in records if r["event"] == "start"]
        assert len(starts) == len(set(starts))
    finally:
        connection.remove()


test_v201_frames = __import__("hypothesis").settings(max_examples=examples(200))(test_v201_frames)



def test_the_oracle_owes_a_frame_cut_short_when_the_next_line_does_not_continue_it():
    frames = Frames()
    assert frames.line(CUT_SHORT.encode()) == []
    owed = [e.text.decode() for e in frames.line(STARTED.encode())]
    assert owed == [CUT_SHORT, STARTED]
    replies = [[4, "0", "FormatViolation", "frame is not valid JSON", {}], [3, "1", {}]]
    assert matched(replies, owed) == owed
    assert matched(replies[:1], owed) is None  # the whole frame's id can be read: it must be answered
    assert matched([[3, "0", {}]] + replies[1:], owed) is None  # a broken frame gets no CALLRESULT
