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
    (b'[2,"a","Heartbeat"', Step(replies=(CallError("a", "FormationViolation", "frame is not valid JSON", {}),))),
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

    def records(month, charger, tid):
        asked.append((month, charger, tid))
        return [start] if month == "2026-11" else []
    step = session().receive(STOP, NOW, 0.0, lambda: TAGS_NOW, records)
    assert asked == [("2026-10", "CP1", 10012345), ("2026-11", "CP1", 10012345)]
    (record,) = step.effects
    assert (record.record["energy_wh"], record.record["flags"], record.record["duration_s"]) == (5321, [], 7200)


def test_a_ledger_that_cannot_be_read_is_an_internal_error_and_nothing_is_recorded():
    from shocpp.protocol.effects import Unavailable

    def unreadable(month, charger, tid):
        raise Unavailable("the ledger could not be read: Permission denied")
    step = session().receive(STOP, NOW, 0.0, lambda: TAGS_NOW, unreadable)
    assert step.replies == (CallError("p", "InternalError", "the ledger could not be read: Permission denied", {}),)
    assert step.effects == ()
    assert step.errors == ("StopTransaction 'p' not confirmed, the charger will retry: "
                           "the ledger could not be read: Permission denied",)
