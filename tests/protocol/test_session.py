"""The protocol Session, pure: lines, commands and clocks in, Steps out; no files, no processes."""

import itertools
import json
from datetime import datetime, timezone

import pytest

from shocpp.protocol import tags as tags_module
from shocpp.protocol.effects import Deliver, Record, SaveBoot, Step
from shocpp.protocol.ocppj import Call, CallError, CallResult
from shocpp.protocol.outbox import TIMEOUT
from shocpp.protocol.session import MAX_COMMAND_TIMEOUT, Session

from conftest import TAGS

NOW = datetime(2026, 11, 21, 13, 52, 7, 123000, tzinfo=timezone.utc)
TAGS_NOW = tags_module.parse(json.dumps(TAGS))


def session():
    counter = itertools.count(1)
    return Session("CP1", new_id=lambda: f"id{next(counter)}", tz=timezone.utc, heartbeat_interval=60)


def receive(s, line, mono=0.0, tags=lambda: TAGS_NOW):
    return s.receive(line, NOW, mono, tags)


def test_a_call_is_answered_with_its_reply_and_effects():
    step = receive(session(), b'[2,"b","BootNotification",{"chargePointVendor":"A","chargePointModel":"B"}]')
    assert step.replies == (CallResult("b", {"status": "Accepted", "currentTime": "2026-11-21T13:52:07.123Z",
                                             "interval": 60}),)
    assert step.effects == (SaveBoot({"chargePointVendor": "A", "chargePointModel": "B"}),)
    assert step.errors == ()


def test_a_stop_is_confirmed_only_through_its_record_which_names_the_refusal():
    line = b'[2,"p","StopTransaction",{"transactionId":10012345,"meterStop":12350999,"timestamp":"2026-11-01T12:00:00Z"}]'
    step = receive(session(), line)
    assert step.replies == (CallResult("p", {}),)
    (record,) = step.effects
    assert isinstance(record, Record) and record.month == "2026-11"
    assert (record.record["account"], record.record["consumed_kwh"]) == ("home", 5)
    assert record.refusal == CallError("p", "InternalError", "the ledger could not be written", {})


@pytest.mark.parametrize("line, step", [
    (b'[2,"a","Heartbeat",{]', Step(replies=(CallError("a", "FormationViolation", "frame is not valid JSON", {}),))),
    (b'[2,"a","Heartbeat"', Step()),  # held: the start of a frame split over lines (see below)
    (b'{"a": 1}', Step(notes=("dropped: frame is not a JSON array",))),
    (b'[7,"a"]', Step(notes=("ignored: message type 7 is not 2, 3 or 4",))),
    (b'[3,"nobody",{}]', Step(notes=("ignored: answer 'nobody' matches no call of ours",))),
    (b'[2,"x","Reset",{"type":"Soft"}]',
     Step(replies=(CallError("x", "NotSupported", "Reset is sent by a central system, not to it", {}),))),
])
def test_what_each_kind_of_line_comes_to(line, step):
    assert receive(session(), line) == step


def test_tags_are_asked_for_only_by_the_actions_that_look_them_up():
    asked = []

    def tags():
        asked.append(1)
        return TAGS_NOW
    s = session()
    receive(s, b'[2,"h","Heartbeat",{}]', tags=tags)
    receive(s, b'[2,"s","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]', tags=tags)
    assert asked == []
    assert receive(s, b'[2,"a","Authorize",{"idTag":"1111"}]', tags=tags).replies == \
        (CallResult("a", {"idTagInfo": {"status": "Accepted"}}),)
    assert asked == [1]


def test_a_failure_inside_is_an_internal_error_for_the_charger_and_an_error_for_the_operator():
    def broken():
        raise RuntimeError("tags exploded")
    step = receive(session(), b'[2,"a","Authorize",{"idTag":"1111"}]', tags=broken)
    assert step.replies == (CallError("a", "InternalError", "the central system failed", {}),)
    (error,) = step.errors
    assert error.startswith("Authorize 'a' failed: Traceback") and "RuntimeError: tags exploded" in error


REQUEST = {"action": "Reset", "payload": {"type": "Soft"}, "timeout": 10}


def test_a_command_goes_out_at_once_and_its_answer_is_delivered():
    s = session()
    step = s.command("r1", REQUEST, mono=100.0)
    assert step.replies == (Call("id1", "Reset", {"type": "Soft"}),)
    assert step.notes == ("command r1: Reset queued",)
    assert s.next_deadline() == 110.0
    assert receive(s, b'[3,"id1",{"status":"Accepted"}]', mono=101.0) == \
        Step(effects=(Deliver("r1", {"status": "result", "payload": {"status": "Accepted"}}),))
    assert s.next_deadline() is None


def test_a_second_command_waits_for_the_first_and_a_timeout_lets_it_go():
    s = session()
    s.command("r1", REQUEST, mono=0.0)
    assert s.command("r2", {**REQUEST, "timeout": 60}, mono=1.0).replies == ()
    assert s.tick(9.9) == Step()
    assert s.tick(10.0) == Step(replies=(Call("id2", "Reset", {"type": "Soft"}),),
                                effects=(Deliver("r1", TIMEOUT),))


@pytest.mark.parametrize("request_, message", [
    ({"action": "Reset", "payload": {"type": "Sideways"}, "timeout": 10}, "Reset payload refused: type: "),
    ({"action": "Heartbeat", "payload": {}, "timeout": 10}, "unknown action 'Heartbeat'"),
    ({**REQUEST, "timeout": 0}, "bad timeout"),
    ({**REQUEST, "timeout": MAX_COMMAND_TIMEOUT + 1}, "bad timeout"),
    ({**REQUEST, "timeout": "nan"}, "bad timeout"),
])
def test_a_command_the_charger_must_not_get_is_refused_and_nothing_is_sent(request_, message):
    s = session()
    step = s.command("r1", request_, mono=0.0)
    assert step.replies == ()
    (deliver,) = step.effects
    assert deliver.request_id == "r1" and deliver.answer["status"] == "refused"
    assert deliver.answer["message"].startswith(message)
    assert s.next_deadline() is None


@pytest.mark.parametrize("request_", [[], {"action": "Reset"}, {**REQUEST, "timeout": None}, {**REQUEST, "timeout": "x"}])
def test_a_request_that_is_no_request_is_only_noted(request_):
    step = session().command("r1", request_, mono=0.0)
    assert (step.replies, step.effects) == ((), ())
    (note,) = step.notes
    assert note.startswith("command r1 ignored: ")


START = (b'[2,"t","StartTransaction",{"connectorId":1,"idTag":"1111","meterStart":12345678,'
         b'"timestamp":"2026-11-01T10:00:00Z"}]')
STOP = b'[2,"p","StopTransaction",{"transactionId":10012345,"meterStop":12350999,"timestamp":"2026-11-01T12:00:00Z"}]'


def test_a_start_is_confirmed_only_through_its_start_record():
    step = receive(session(), START)
    assert step.replies == (CallResult("t", {"idTagInfo": {"status": "Accepted"}, "transactionId": 10012345}),)
    (record,) = step.effects
    assert record.month == "2026-11" and record.record["event"] == "start"
    assert record.refusal == CallError("t", "InternalError", "the ledger could not be written", {})


def test_a_stop_looks_for_its_start_in_its_month_and_the_one_before():
    asked = []
    start = receive(session(), START).effects[0].record

    def records(month, tid, charger=None):
        asked.append((month, tid, charger))
        return [start] if month == "2026-11" else []
    step = session().receive(STOP, NOW, 0.0, lambda: TAGS_NOW, records)
    assert asked == [("2026-10", 10012345, None), ("2026-11", 10012345, None)]
    (record,) = step.effects
    assert (record.record["energy_wh"], record.record["flags"], record.record["duration_s"]) == (5321, [], 7200)


def test_a_stop_that_names_no_account_asks_for_the_chargers_records_too():
    asked = []
    start = receive(session(), START).effects[0].record

    def records(month, tid, charger=None):
        asked.append((month, tid, charger))
        return [start] if month == "2026-11" else []
    minus_one = STOP.replace(b"10012345", b"-1")
    step = session().receive(minus_one, NOW, 0.0, lambda: TAGS_NOW, records)
    # its transactionId's records first; as no start of it is on this charger, the charger's records too
    assert asked == [("2026-10", -1, None), ("2026-11", -1, None), ("2026-10", -1, "CP1"), ("2026-11", -1, "CP1")]
    (record,) = step.effects
    assert (record.record["start_transaction_id"], record.record["energy_wh"], record.record["flags"]) == \
        (10012345, 5321, ["reconciled"])


def test_a_ledger_that_cannot_be_read_is_an_internal_error_and_nothing_is_recorded():
    from shocpp.protocol.effects import Unavailable

    def unreadable(month, tid, charger=None):
        raise Unavailable("the ledger could not be read: Permission denied")
    step = session().receive(STOP, NOW, 0.0, lambda: TAGS_NOW, unreadable)
    assert step.replies == (CallError("p", "InternalError", "the ledger could not be read: Permission denied", {}),)
    assert step.effects == ()
    assert step.errors == ("StopTransaction 'p' not confirmed, the charger will retry: "
                           "the ledger could not be read: Permission denied",)


# --- frames split over lines --------------------------------------------------------------

BOOT = [2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}]
BOOT_REPLY = CallResult("b", {"status": "Accepted", "currentTime": "2026-11-21T13:52:07.123Z", "interval": 60})
HEARTBEAT = b'[2,"h","Heartbeat",{}]'
HEARTBEAT_REPLY = CallResult("h", {"currentTime": "2026-11-21T13:52:07.123Z"})


def pretty(message, indent=2):
    return json.dumps(message, indent=indent).encode().split(b"\n")


def feed_lines(s, lines, mono=0.0):
    return [receive(s, line, mono) for line in lines]


@pytest.mark.parametrize("indent", [0, 2, 4, "\t"])
def test_a_pretty_printed_frame_is_put_back_together_and_answered_with_its_last_line(indent):
    s = session()
    lines = pretty(BOOT, indent)
    steps = feed_lines(s, lines)
    assert steps[:-1] == [Step()] * (len(lines) - 1)
    assert steps[-1].replies == (BOOT_REPLY,)
    assert steps[-1].effects == (SaveBoot({"chargePointVendor": "A", "chargePointModel": "B"}),)
    assert s.next_deadline() is None
    assert receive(s, HEARTBEAT).replies == (HEARTBEAT_REPLY,)


def test_a_pretty_printed_stop_is_billed():
    stop = [2, "p", "StopTransaction", {"transactionId": 10012345, "meterStop": 12350999,
                                        "timestamp": "2026-11-01T12:00:00Z", "transactionData": [
                                            {"timestamp": "2026-11-01T11:00:00Z", "sampledValue": [{"value": "1"}]}]}]
    *held, last = feed_lines(session(), pretty(stop) + [HEARTBEAT])
    assert held[-1].replies == (CallResult("p", {}),)
    (record,) = held[-1].effects
    assert (record.record["transaction_id"], record.record["meter_stop_wh"]) == (10012345, 12350999)
    assert last.replies == (HEARTBEAT_REPLY,)


def test_a_frame_in_two_parts_and_crlf_endings():
    steps = feed_lines(session(), [b'[2,"h","Heartbeat",\r', b"  {}]\r"])
    assert steps == [Step(), Step(replies=(HEARTBEAT_REPLY,))]


def test_an_unfinished_line_is_answered_when_the_next_line_shows_it_was_not_continued():
    s = session()
    assert receive(s, b'[2,"x2","Heartbeat",') == Step()
    assert receive(s, b'[2,"x3","Heartbeat",{}]').replies == (
        CallError("x2", "FormationViolation", "frame is not valid JSON", {}),
        CallResult("x3", {"currentTime": "2026-11-21T13:52:07.123Z"}))
    assert s.next_deadline() is None


@pytest.mark.parametrize("next_line", [
    HEARTBEAT,                                  # a whole frame is never swallowed
    b"  " + HEARTBEAT,
    b"[",                                       # nor the start of the next pretty-printed frame
])
def test_a_line_that_begins_with_a_bracket_is_a_frame_of_its_own(next_line):
    s = session()
    receive(s, b"[")
    receive(s, b"  2,")
    receive(s, b'  "lost",')
    step = receive(s, next_line)
    assert step.replies[0] == CallError("lost", "FormationViolation", "frame is not valid JSON", {})
    assert step.replies[1:] == ((HEARTBEAT_REPLY,) if next_line != b"[" else ())


@pytest.mark.parametrize("next_line", [b"  NaN", b'  "open', b"  1e", b"\x0c{}", b'"\xff"' + b"\x01", b"tru"])
def test_a_line_that_is_no_json_tokens_gives_the_fragment_up_and_is_taken_alone(next_line):
    s = session()
    receive(s, b'[2,"x","Heartbeat",')
    step = receive(s, next_line)
    assert step.replies == (CallError("x", "FormationViolation", "frame is not valid JSON", {}),)
    (note,) = step.notes
    assert note in ("dropped: frame is not valid JSON", "dropped: frame is not valid UTF-8")


def test_a_fragment_without_readable_id_is_dropped_with_a_note():
    s = session()
    receive(s, b"[")
    assert receive(s, HEARTBEAT) == Step(replies=(HEARTBEAT_REPLY,), notes=("dropped: frame is not valid JSON",))


def test_a_fragment_whose_brackets_close_but_is_no_json_is_a_formation_violation():
    steps = feed_lines(session(), [b'[2,"x","Heartbeat",', b"{} {}]"])
    assert steps == [Step(), Step(replies=(CallError("x", "FormationViolation", "frame is not valid JSON", {}),))]


def test_a_fragment_waits_one_second_then_tick_gives_it_up():
    s = session()
    receive(s, b'[2,"x","Heartbeat",', mono=100.0)
    assert s.next_deadline() == 101.0
    assert s.tick(100.9) == Step()
    assert s.tick(101.0) == Step(replies=(CallError("x", "FormationViolation", "frame is not valid JSON", {}),))
    assert s.next_deadline() is None and s.tick(200.0) == Step()
    assert receive(s, b"{}]", mono=200.0) == Step(notes=("dropped: frame is not valid JSON",))


def test_the_fragment_deadline_and_a_command_deadline_the_earlier_wins():
    s = session()
    s.command("r1", REQUEST, mono=100.0)
    receive(s, b"[", mono=100.5)
    assert s.next_deadline() == 101.5
    s.tick(101.5)
    assert s.next_deadline() == 110.0


def test_at_end_of_input_a_held_fragment_is_given_up():
    s = session()
    assert s.finish() == Step()
    receive(s, b'[2,"x","Heartbeat",')
    assert s.finish() == Step(replies=(CallError("x", "FormationViolation", "frame is not valid JSON", {}),))
    assert s.finish() == Step()


def test_a_fragment_over_64_kib_is_given_up_and_its_id_answered():
    s = session()
    assert receive(s, b'[2,"big","DataTransfer",{"vendorId":"v",') == Step()
    assert receive(s, b'"data":"' + b"x" * 60000 + b'",') == Step()
    step = receive(s, b'"more":"' + b"x" * 6000 + b'",')
    assert step == Step(replies=(CallError("big", "FormationViolation", "frame longer than 65536 bytes", {}),))
    assert s.next_deadline() is None  # nothing is held any more


def test_a_pretty_printed_stop_may_grow_to_2_mib_and_no_further():
    s = session()
    head = pretty([2, "p", "StopTransaction", {}])[:-2] + [b'  {"transactionId": 1, "meterStop": 2,',
                                                          b'   "timestamp": "2026-11-01T12:00:00Z", "x": [']
    feed_lines(s, head)
    pad = b'"' + b"y" * 99_990 + b'",'
    assert feed_lines(s, [pad] * 20) == [Step()] * 20  # 2 MB held
    step = receive(s, pad)
    assert step.replies == (CallError("p", "FormationViolation", "frame longer than 2097152 bytes", {}),)


def test_a_stop_split_over_lines_of_1_mib_is_billed():
    s = session()
    lines = pretty([2, "p", "StopTransaction", {"transactionId": 10012345, "meterStop": 12350999,
                                                "timestamp": "2026-11-01T12:00:00Z",
                                                "transactionData": [{"timestamp": "2026-11-01T11:00:00Z",
                                                                     "sampledValue": [{"value": "1"}] * 25000}]}])
    assert sum(map(len, lines)) > 1024 * 1024
    steps = feed_lines(s, lines)
    assert steps[-1].replies == (CallResult("p", {}),)
    assert all(step == Step() for step in steps[:-1])
