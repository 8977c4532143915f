"""OCPP-J framing: decode() of every kind of line, encode() and the round trip."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shocpp.protocol import ocppj
from shocpp.protocol.ocppj import Call, CallError, CallResult, Ignored, Malformed, decode, encode

from conftest import examples

FRAME_CLASSES = (Call, CallResult, CallError, Malformed, Ignored)

NOT_JSON = "frame is not valid JSON"
NOT_UTF8 = "frame is not valid UTF-8"
NO_ID = "unique id is missing or not a string"
NOT_INT = "message type is not an integer"
BAD_RESULT = "a CALLRESULT is [3, id, {payload}]"
BAD_ERROR = "a CALLERROR is [4, id, code, description, {details}]"


# --- valid frames -------------------------------------------------------------------------

@pytest.mark.parametrize("line, frame", [
    ('[2,"19223201","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]',
     Call("19223201", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})),
    ('[2, "a", "Heartbeat", {}]', Call("a", "Heartbeat", {})),
    ('[3,"19223201",{"currentTime":"2026-11-21T13:52:07.123Z","interval":300,"status":"Accepted"}]',
     CallResult("19223201", {"currentTime": "2026-11-21T13:52:07.123Z", "interval": 300,
                             "status": "Accepted"})),
    ('[3,"x",{}]', CallResult("x", {})),
    ('[4,"162376037","NotSupported","SetDisplayMessage not supported",{}]',
     CallError("162376037", "NotSupported", "SetDisplayMessage not supported", {})),
    ('[4,"e","GenericError","",{"why":[1,2]}]', CallError("e", "GenericError", "", {"why": [1, 2]})),
    # a 36-character unique id is the longest allowed
    ('[2,"' + "u" * 36 + '","Heartbeat",{}]', Call("u" * 36, "Heartbeat", {})),
    # non-ASCII text inside the payload
    ('[2,"1","DataTransfer",{"vendorId":"Größe ✓"}]', Call("1", "DataTransfer", {"vendorId": "Größe ✓"})),
])
def test_decode_valid_frames(line, frame):
    assert decode(line) == frame
    assert decode(line.encode("utf-8")) == frame


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r\n\r\n", "\r"])
def test_decode_strips_line_ending(ending):
    line = '[2,"7","Heartbeat",{}]' + ending
    assert decode(line) == Call("7", "Heartbeat", {})
    assert decode(line.encode()) == Call("7", "Heartbeat", {})


# --- lines that are no JSON array ---------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    # not JSON, but the CALL's id is readable from the start of the line: answer it
    (b'[2,"abc","Heartbeat",{', Malformed(NOT_JSON, "abc")),
    (b'  [ 2 , "abc" ,"Heartbeat",{]', Malformed(NOT_JSON, "abc")),
    (b'[2,"' + b"i" * 36 + b'",', Malformed(NOT_JSON, "i" * 36)),
    (b'[2,"abc"', Malformed(NOT_JSON, "abc")),
    # not JSON and no readable id
    (b"hello", Malformed(NOT_JSON)),
    (b'[3,"abc",{', Malformed(NOT_JSON)),            # a broken CALLRESULT is not answered
    (b'[2,abc,"Heartbeat",{}]', Malformed(NOT_JSON)),
    (b'[2,"ab\\"c","Heartbeat",{', Malformed(NOT_JSON)),
    (b'[2,"' + b"i" * 37 + b'",', Malformed(NOT_JSON)),
    (b'[2,"","Heartbeat",{', Malformed(NOT_JSON)),
    # NaN and the infinities are no JSON
    (b'[2,"n1","MeterValues",{"v":NaN}]', Malformed(NOT_JSON, "n1")),
    (b'[2,"n2","MeterValues",{"v":Infinity}]', Malformed(NOT_JSON, "n2")),
    (b'[2,"n3","MeterValues",{"v":-Infinity}]', Malformed(NOT_JSON, "n3")),
    (b"NaN", Malformed(NOT_JSON)),
    # invalid UTF-8, with and without a readable id
    (b'[2,"u1","DataTransfer",{"data":"\xff"}]', Malformed(NOT_UTF8, "u1")),
    (b'[3,"u1",{"data":"\xc3"}]', Malformed(NOT_UTF8)),
    (b'[2,"\xff\xfe","Heartbeat",{}]', Malformed(NOT_UTF8)),
    (b"\x80", Malformed(NOT_UTF8)),
    # empty and whitespace-only lines
    (b"", Malformed("empty line")),
    (b"\n", Malformed("empty line")),
    (b"\r\n", Malformed("empty line")),
    (b"   \t ", Malformed("empty line")),
    (b" \r\n", Malformed("empty line")),
    # JSON, but not an array
    (b'{"2":"Heartbeat"}', Malformed("frame is not a JSON array")),
    (b'"[2,\\"a\\",\\"Heartbeat\\",{}]"', Malformed("frame is not a JSON array")),
    (b"2", Malformed("frame is not a JSON array")),
    (b"null", Malformed("frame is not a JSON array")),
    (b"[]", Malformed("frame is an empty array")),
    (b" [ ] ", Malformed("frame is an empty array")),
])
def test_decode_broken_lines(line, expected):
    assert decode(line) == expected


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400 + ".0"])
def test_decode_number_overflowing_to_infinity_is_not_valid_json(number):
    # json.loads turns these into float('inf') without calling parse_constant; a frame
    # holding one cannot be encoded (or written to a run file) as JSON again.
    line = '[2,"big","MeterValues",{"v":' + number + "}]"
    assert decode(line) == Malformed(NOT_JSON, "big")


def test_decode_str_with_lone_surrogate_is_not_utf8():
    assert decode('[2,"s1","Heartbeat",{"x":"\ud800"}]') == Malformed(NOT_UTF8, "s1")


def test_decode_deeply_nested_arrays_do_not_escape_recursion_error():
    assert decode(b"[" * 30_000 + b"]" * 30_000) == Malformed(NOT_JSON)
    deep_call = b'[2,"deep","DataTransfer",{"data":' + b"[" * 30_000 + b"]" * 30_000 + b"}]"
    assert decode(deep_call) == Malformed(NOT_JSON, "deep")


def test_decode_over_long_line_is_malformed_with_id_from_prefix():
    payload = json.dumps({"data": "x" * ocppj.MAX_LINE})
    line = '[2,"big-1","DataTransfer",' + payload + "]"
    assert len(line) > ocppj.MAX_LINE
    expected = Malformed("frame longer than 65536 bytes", "big-1")
    assert decode(line) == expected
    assert decode(line.encode() + b"\r\n") == expected
    # too long and not even a CALL: no id to answer with
    assert decode(b"[3," + b" " * ocppj.MAX_LINE + b'"r",{}]') == Malformed("frame longer than 65536 bytes")


def test_decode_line_of_exactly_max_length_is_parsed_one_more_byte_is_not():
    head, tail = '[2,"fits","DataTransfer",{"data":"', '"}]'
    data = "x" * (ocppj.MAX_LINE - len(head) - len(tail))
    line = head + data + tail
    assert len(line) == ocppj.MAX_LINE
    assert decode(line + "\n") == Call("fits", "DataTransfer", {"data": data})
    longer = head + data + "x" + tail
    assert decode(longer + "\n") == Malformed("frame longer than 65536 bytes", "fits")


# --- arrays that are no usable frame ------------------------------------------------------

@pytest.mark.parametrize("message, expected", [
    # message types outside 2..4 are ignored (OCPP-J 1.6, 4.1.3)
    ([5, "a", {}], Ignored(5)),
    ([0], Ignored(0)),
    ([-1, "a", "b", {}], Ignored(-1)),
    ([99, "a"], Ignored(99)),
    # a message type that is not an integer is malformed, never a CALL
    (["2", "a", "Heartbeat", {}], Malformed(NOT_INT)),
    ([True, "a", "Heartbeat", {}], Malformed(NOT_INT)),
    ([2.0, "a", "Heartbeat", {}], Malformed(NOT_INT)),
    ([None, "a", "Heartbeat", {}], Malformed(NOT_INT)),
    ([[2], "a", "Heartbeat", {}], Malformed(NOT_INT)),
    # unique id missing, not a string, or empty
    ([2], Malformed(NO_ID)),
    ([3], Malformed(NO_ID)),
    ([4], Malformed(NO_ID)),
    ([2, 17, "Heartbeat", {}], Malformed(NO_ID)),
    ([2, None, "Heartbeat", {}], Malformed(NO_ID)),
    ([2, ["a"], "Heartbeat", {}], Malformed(NO_ID)),
    ([2, "", "Heartbeat", {}], Malformed(NO_ID)),
    ([3, 17, {}], Malformed(NO_ID)),
    ([4, "", "GenericError", "", {}], Malformed(NO_ID)),
    # a CALL's unique id longer than 36 characters: answered with that id
    ([2, "u" * 37, "Heartbeat", {}], Malformed("unique id longer than 36 characters", "u" * 37)),
    # CALL with the wrong number of elements: answered
    ([2, "c"], Malformed("a CALL has 4 elements, this one has 2", "c")),
    ([2, "c", "Heartbeat"], Malformed("a CALL has 4 elements, this one has 3", "c")),
    ([2, "c", "Heartbeat", {}, {}], Malformed("a CALL has 4 elements, this one has 5", "c")),
    # CALL whose action is not a string, or whose payload is not an object: answered
    ([2, "c", 7, {}], Malformed("action is not a string", "c")),
    ([2, "c", None, {}], Malformed("action is not a string", "c")),
    ([2, "c", "", {}], Malformed("action is not a string", "c")),
    ([2, "c", "Heartbeat", []], Malformed("payload is not a JSON object", "c")),
    ([2, "c", "Heartbeat", None], Malformed("payload is not a JSON object", "c")),
    ([2, "c", "Heartbeat", "{}"], Malformed("payload is not a JSON object", "c")),
    # CALLRESULT with the wrong number of elements or payload: not answered
    ([3, "r"], Malformed(BAD_RESULT)),
    ([3, "r", {}, {}], Malformed(BAD_RESULT)),
    ([3, "r", []], Malformed(BAD_RESULT)),
    ([3, "r", None], Malformed(BAD_RESULT)),
    # CALLERROR with the wrong number of elements or types: not answered
    ([4, "e"], Malformed(BAD_ERROR)),
    ([4, "e", "GenericError"], Malformed(BAD_ERROR)),
    ([4, "e", "GenericError", ""], Malformed(BAD_ERROR)),
    ([4, "e", "GenericError", "", {}, {}], Malformed(BAD_ERROR)),
    ([4, "e", 1, "", {}], Malformed(BAD_ERROR)),
    ([4, "e", "GenericError", None, {}], Malformed(BAD_ERROR)),
    ([4, "e", "GenericError", "", []], Malformed(BAD_ERROR)),
])
def test_decode_bad_arrays(message, expected):
    assert decode(json.dumps(message)) == expected


# --- encode -------------------------------------------------------------------------------

@pytest.mark.parametrize("frame, line", [
    (Call("1", "Heartbeat", {}), '[2,"1","Heartbeat",{}]'),
    (Call("abc-1", "RemoteStartTransaction", {"idTag": "1111", "connectorId": 1}),
     '[2,"abc-1","RemoteStartTransaction",{"idTag":"1111","connectorId":1}]'),
    (CallResult("19223201", {"status": "Accepted", "interval": 300}),
     '[3,"19223201",{"status":"Accepted","interval":300}]'),
    (CallResult("x", {}), '[3,"x",{}]'),
    (CallError("9", "NotImplemented", "Requested Action is not known by receiver", {}),
     '[4,"9","NotImplemented","Requested Action is not known by receiver",{}]'),
    (CallError("9", "GenericError"), '[4,"9","GenericError","",{}]'),
    (CallResult("u", {"text": "Größe \"q\""}), '[3,"u",{"text":"Gr\\u00f6\\u00dfe \\"q\\""}]'),
])
def test_encode_exact_lines(frame, line):
    assert encode(frame) == line
    assert decode(encode(frame)) == frame


def test_encoded_line_has_no_newline():
    line = encode(CallResult("n", {"text": "a\nb\r\n"}))
    assert line == '[3,"n",{"text":"a\\nb\\r\\n"}]'
    assert "\n" not in line and "\r" not in line


# --- properties ---------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.text() \
    | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=10,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=5)
unique_ids = st.text(min_size=1, max_size=36)


@settings(max_examples=examples(100))
@given(st.one_of(
    st.builds(Call, unique_ids, st.text(min_size=1), json_objects),
    st.builds(CallResult, st.text(min_size=1), json_objects),
    st.builds(CallError, st.text(min_size=1), st.sampled_from(ocppj.ERROR_CODES), st.text(), json_objects),
))
def test_decode_encode_round_trip(frame):
    line = encode(frame)
    assert "\n" not in line
    assert decode(line) == frame
    assert decode(line.encode("utf-8") + b"\r\n") == frame


@settings(max_examples=examples(300))
@given(st.binary(max_size=300))
def test_decode_never_raises_for_arbitrary_bytes(data):
    assert isinstance(decode(data), FRAME_CLASSES)


@settings(max_examples=examples(300))
@given(st.text(st.characters(blacklist_categories=()), max_size=200))
def test_decode_never_raises_for_arbitrary_text(text):
    assert isinstance(decode(text), FRAME_CLASSES)


@settings(max_examples=examples(150))
@given(json_values)
def test_decode_never_raises_for_arbitrary_json(value):
    frame = decode(json.dumps(value))
    assert isinstance(frame, FRAME_CLASSES)
    if not isinstance(value, list) or not value:
        assert isinstance(frame, Malformed) and frame.unique_id is None


@settings(max_examples=examples(100))
@given(st.sampled_from([2, 3, 4]), st.lists(json_values, max_size=5))
def test_decode_never_raises_for_frame_shaped_arrays(kind, rest):
    frame = decode(json.dumps([kind, *rest]))
    assert isinstance(frame, FRAME_CLASSES)
    assert not isinstance(frame, Ignored)
    if isinstance(frame, Malformed) and frame.unique_id is not None:
        assert kind == 2 and frame.unique_id == rest[0]


# --- size limits: a StopTransaction may be longer --------------------------------------------

def stop_line(size, uid="p", action="StopTransaction"):
    """A CALL of exactly `size` bytes, padded in its transactionData."""
    head = '[2,"%s","%s",{"transactionId":5,"meterStop":9,"timestamp":"2026-11-01T12:00:00Z",' \
           '"transactionData":[{"timestamp":"2026-11-01T12:00:00Z","sampledValue":[{"value":"' % (uid, action)
    tail = '"}]}]}]'
    return (head + "x" * (size - len(head) - len(tail)) + tail).encode()


def test_a_stop_transaction_up_to_2_mib_is_parsed():
    assert ocppj.MAX_STOP_LINE == 2 * 1024 * 1024
    for size in (ocppj.MAX_LINE + 1, 1_200_000, ocppj.MAX_STOP_LINE):
        frame = decode(stop_line(size) + b"\r\n")
        assert isinstance(frame, Call) and frame.action == "StopTransaction" and frame.payload["meterStop"] == 9
        assert len(frame.payload["transactionData"][0]["sampledValue"][0]["value"]) > size - 200


def test_a_stop_transaction_over_2_mib_is_refused_with_its_id():
    assert decode(stop_line(ocppj.MAX_STOP_LINE + 1)) == Malformed("frame longer than 2097152 bytes", "p")


@pytest.mark.parametrize("line", [
    stop_line(ocppj.MAX_LINE + 1, action="MeterValues"),
    stop_line(ocppj.MAX_LINE + 1, action="stopTransaction"),
    stop_line(ocppj.MAX_LINE + 1, action="Stop\\u0054ransaction"),  # the action is read as written
    stop_line(ocppj.MAX_LINE + 1).replace(b"[2,", b"[3,", 1),
])
def test_other_frames_over_64_kib_stay_formation_violations(line):
    assert decode(line).reason == "frame longer than 65536 bytes"


def test_the_stop_limit_is_read_from_the_start_pretty_printed_too():
    assert ocppj.limit(b'[2,"p","StopTransaction",{') == ocppj.MAX_STOP_LINE
    assert ocppj.limit(b'[\n    2,\n    "p",\n    "StopTransaction",\n    {') == ocppj.MAX_STOP_LINE
    assert ocppj.limit(b'[2,"p","Heartbeat",{') == ocppj.MAX_LINE
    assert ocppj.limit(b" " * 200 + b'[2,"p","StopTransaction",{') == ocppj.MAX_LINE


# --- unfinished lines: the start of a frame split over lines --------------------------------

@pytest.mark.parametrize("line, unfinished", [
    (b"[", True),
    (b"  [ \r", True),
    (b'[2,"x2","Heartbeat",', True),
    (b'[2,"a"', True),
    (b'[1, 12 ', True),
    (b'[2,"a","DataTransfer",{"data":[{"k":', True),
    (b'[2,"abc', False),              # inside a string: a string holds no newline
    (b'[2, 1e', False),               # inside a token
    (b'[2, tru', False),
    (b'[2,"a",NaN', False),
    (b'[2,"a",{"x":1e400', False),
    (b'[2,"a"]]', False),
    (b'{"a":', False),                # not an array
    (b'\x0c[2,', False),
    (b'[2,"a",{"x":"\xff"', False),   # not UTF-8
    (b"[" * 100000, False),           # too deep to tell
])
def test_decode_says_whether_a_broken_line_is_an_unfinished_array(line, unfinished):
    frame = decode(line)
    assert isinstance(frame, Malformed) and frame.unfinished is unfinished
