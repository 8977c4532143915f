"""The calls to the charger, one outstanding at a time, pure."""

import itertools

from shocpp.protocol.ocppj import Call, CallError, CallResult
from shocpp.protocol.effects import Deliver
from shocpp.protocol.outbox import TIMEOUT, Outbox


def outbox():
    counter = itertools.count(1)
    return Outbox(new_id=lambda: f"id{next(counter)}")


def test_a_request_is_sent_at_once_and_its_answer_delivered():
    box = outbox()
    assert box.submit("r1", "Reset", {"type": "Soft"}, deadline=10, now=0) == \
        [Call("id1", "Reset", {"type": "Soft"})]
    assert box.on_answer(CallResult("id1", {"status": "Accepted"}), now=1) == \
        [Deliver("r1", {"status": "result", "payload": {"status": "Accepted"}})]
    assert box.current is None


def test_a_callerror_is_delivered_with_code_description_and_details():
    box = outbox()
    box.submit("r1", "ClearCache", {}, 10, 0)
    assert box.on_answer(CallError("id1", "NotImplemented", "no", {"a": 1}), 1) == [
        Deliver("r1", {"status": "error", "code": "NotImplemented", "description": "no", "details": {"a": 1}})]


def test_one_call_at_a_time_the_rest_queue_in_order():
    box = outbox()
    assert len(box.submit("r1", "ClearCache", {}, 10, 0)) == 1
    assert box.submit("r2", "Reset", {"type": "Hard"}, 10, 0) == []
    assert box.submit("r3", "ClearCache", {}, 10, 0) == []
    assert box.on_answer(CallResult("id1", {"status": "Accepted"}), 1)[1:] == [Call("id2", "Reset", {"type": "Hard"})]
    assert box.on_answer(CallResult("id2", {"status": "Accepted"}), 2)[1:] == [Call("id3", "ClearCache", {})]


def test_an_answer_to_no_call_of_ours_is_none_and_changes_nothing():
    box = outbox()
    box.submit("r1", "ClearCache", {}, 10, 0)
    assert box.on_answer(CallResult("other", {}), 1) is None
    assert box.current.unique_id == "id1"
    assert outbox().on_answer(CallResult("id1", {}), 1) is None


def test_a_call_without_answer_times_out_and_the_next_is_sent():
    box = outbox()
    box.submit("r1", "ClearCache", {}, 5, 0)
    box.submit("r2", "Reset", {"type": "Soft"}, 50, 0)
    assert box.tick(4.9) == []
    assert box.next_deadline() == 5
    assert box.tick(5) == [Deliver("r1", TIMEOUT), Call("id2", "Reset", {"type": "Soft"})]
    # a late answer to the timed-out call is not taken for the new one
    assert box.on_answer(CallResult("id1", {}), 6) is None
    assert box.current.request_id == "r2"


def test_a_queued_request_whose_command_gave_up_is_never_sent():
    box = outbox()
    box.submit("r1", "ClearCache", {}, 100, 0)
    box.submit("r2", "Reset", {"type": "Soft"}, 3, 0)
    box.submit("r3", "ClearCache", {}, 100, 0)
    actions = box.on_answer(CallResult("id1", {"status": "Accepted"}), 4)
    assert actions[1:] == [Deliver("r2", TIMEOUT), Call("id2", "ClearCache", {})]
    sent = [a for a in actions if isinstance(a, Call)]
    assert [s.action for s in sent] == ["ClearCache"]


def test_every_call_gets_a_fresh_unique_id():
    box = outbox()
    ids = []
    for n in range(5):
        (send,) = box.submit(f"r{n}", "ClearCache", {}, 10, 0)
        ids.append(send.unique_id)
        box.on_answer(CallResult(send.unique_id, {"status": "Accepted"}), 0)
    assert ids == ["id1", "id2", "id3", "id4", "id5"]
