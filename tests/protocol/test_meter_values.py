"""Walking MeterValues as chargers send them."""

from shocpp.protocol import meter_values


def test_as_list_takes_an_object_for_a_one_element_array_and_drops_the_rest():
    assert meter_values.as_list({"a": 1}) == [{"a": 1}]
    assert meter_values.as_list([1, 2]) == [1, 2]
    assert meter_values.as_list("x") == [] and meter_values.as_list(None) == []


def test_samples_walks_arrays_and_objects_and_skips_non_objects():
    first = {"timestamp": "t1", "sampledValue": [{"value": "1"}, "junk", {"value": "2"}]}
    second = {"timestamp": "t2", "sampledValue": {"value": "3"}}
    pairs = list(meter_values.samples([first, 7, second, {"sampledValue": None}]))
    assert [(e["timestamp"], s["value"]) for e, s in pairs] == [("t1", "1"), ("t1", "2"), ("t2", "3")]
    assert list(meter_values.samples(second)) == [(second, {"value": "3"})]
