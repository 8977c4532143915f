"""Plain records: named tuples that equal only their own kind."""

from shocpp.protocol.effects import Deliver, Step
from shocpp.protocol.ocppj import CallError, CallResult, Malformed
from shocpp.protocol.plain import plain


def test_records_of_two_kinds_with_the_same_fields_are_not_equal():
    assert CallResult("a", {}) != Deliver("a", {})
    assert not CallResult("a", {}) == Deliver("a", {})
    assert CallResult("a", {}) == CallResult("a", {}) and CallResult("a", {}) != CallResult("b", {})
    assert CallResult("a", {}) != ("a", {})


def test_only_the_fields_that_count_are_compared_and_hashed():
    Point = plain("Point", ["x", "y", "label"], defaults=("",), compare=["x", "y"])
    assert Point(1, 2, "a") == Point(1, 2, "b") and hash(Point(1, 2, "a")) == hash(Point(1, 2, "b"))
    assert Point(1, 2) != Point(2, 1)
    assert Malformed("frame is not valid JSON", "a", True) == Malformed("frame is not valid JSON", "a")


def test_a_callerror_gets_its_own_details():
    first, second = CallError("1", "GenericError"), CallError("2", "GenericError")
    assert first.details == {} and first.details is not second.details
    assert first.description == ""


def test_steps_add_up_field_by_field():
    one = Step(replies=(CallResult("a", {}),), notes=("x",))
    two = Step(effects=(Deliver("r", {}),), errors=("y",))
    assert one + two == Step((CallResult("a", {}),), (Deliver("r", {}),), ("x",), ("y",))
    assert sum([one, two], Step()) == one + two
