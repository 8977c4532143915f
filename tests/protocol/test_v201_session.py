"""The Session with the 2.0.1 protocol, pure (mirrors test_session.py): its frames, its error spellings,
the commands checked against the 2.0.1 schemas; and 1.6 frames on a 2.0.1 connection, or the reverse,
answered with errors and never billed."""

import itertools
import json
from datetime import datetime, timezone

from shocpp.protocol import tags as tags_module
from shocpp.protocol.effects import Deliver, SaveBoot
from shocpp.protocol.ocppj import Call, CallError, CallResult
from shocpp.protocol.session import Session
from shocpp.protocol.v201 import PROTOCOL

from conftest import TAGS

NOW = datetime(2026, 11, 21, 13, 52, 7, 123000, tzinfo=timezone.utc)
TAGS_NOW = tags_module.parse(json.dumps(TAGS))
EVENT = {"eventType": "Started", "timestamp": "2026-11-01T10:00:00Z", "triggerReason": "Authorized", "seqNo": 0,
         "transactionInfo": {"transactionId": "tx"}, "idToken": {"idToken": "1111", "type": "ISO14443"}}


def session(protocol=PROTOCOL):
    counter = itertools.count(1)
    kind = {} if protocol is None else {"protocol": protocol}
    return Session("CS1", new_id=lambda: f"id{next(counter)}", tz=timezone.utc, heartbeat_interval=60, **kind)


def receive(s, line):
    return s.receive(line, NOW, 0.0, lambda: TAGS_NOW, lambda month, tid, charger=None: [])


def test_a_boot_is_answered_in_2_0_1():
    step = receive(session(), json.dumps([2, "b", "BootNotification", {
        "chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}]))
    assert step.replies == (CallResult("b", {"status": "Accepted", "currentTime": "2026-11-21T13:52:07.123Z",
                                             "interval": 60}),)
    assert step.effects == (SaveBoot({"chargePointVendor": "V", "chargePointModel": "M", "reason": "PowerUp"}),)


def test_frames_broken_or_of_another_type_get_2_0_1_errors():
    s = session()
    assert receive(s, '[5,"x",{}]').replies == (CallError("x", "MessageTypeNotSupported",
                                                          "message type 5 is not 2, 3 or 4", {}),)
    assert receive(s, '[5,{}]').replies == ()  # no id to answer with
    assert receive(s, '[2,"y","Heartbeat",[]]').replies == (CallError("y", "FormatViolation",
                                                                      "payload is not a JSON object", {}),)
    assert receive(s, '[2,"z","Heartbeat",{}').replies == ()  # held: the next line may finish it
    assert receive(s, "[3,\"q\",{}]").notes == ("ignored: answer 'q' matches no call of ours",)


def test_1_6_frames_on_a_2_0_1_connection_and_the_reverse_are_errors_not_billing():
    start16 = '[2,"s","StartTransaction",{"connectorId":1,"idTag":"1111","meterStart":0,"timestamp":"2026-11-01T10:00:00Z"}]'
    step = receive(session(), start16)
    assert step.replies[0].code == "NotImplemented" and step.effects == ()
    step = receive(session(None), json.dumps([2, "e", "TransactionEvent", EVENT]))
    assert step.replies[0].code == "NotImplemented" and step.effects == ()
    step = receive(session(None), '[5,"x",{}]')  # 1.6 ignores an unknown message type
    assert step.replies == () and step.notes == ("ignored: message type 5 is not 2, 3 or 4",)


def test_commands_are_checked_against_the_2_0_1_schemas():
    s = session()
    refused = s.command("r1", {"action": "Reset", "payload": {"type": "Hard"}, "timeout": 5}, 0.0)
    assert refused.effects == (Deliver("r1", {"status": "refused", "message":
                                              "Reset payload refused: type: 'Hard' is not one of "
                                              "['Immediate', 'OnIdle']"}),)
    sent = s.command("r2", {"action": "Reset", "payload": {"type": "OnIdle"}, "timeout": 5}, 0.0)
    assert sent.replies == (Call("id1", "Reset", {"type": "OnIdle"}),)
    unknown = s.command("r3", {"action": "RemoteStartTransaction", "payload": {"idTag": "1"}, "timeout": 5}, 0.0)
    assert unknown.effects[0].answer["message"].startswith("unknown action 'RemoteStartTransaction'")
