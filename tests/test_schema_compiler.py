"""The compiled predicates against jsonschema, the judge of record: they must agree on every payload.

Payloads are drawn from each schema itself (so most are valid or nearly so, which is where a
lenient predicate would hide) and then damaged at random: a value replaced by any JSON value,
an unknown property added, a required one dropped.
"""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shocpp.protocol import schemas
from shocpp.protocol.schemas import compiler

PAIRS = [(action, kind) for action in schemas.ALL_ACTIONS for kind in schemas.KINDS]

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)
DATE_TIMES = st.sampled_from(["2026-11-21T10:00:00Z", "2026-11-21T10:00:00.123+01:00", "2026-11-21T10:00",
                              "2026-11-21", "yesterday", "2026-13-40T99:00:00Z", ""])


def resolve(schema, root):
    if "$ref" in schema:
        return root["definitions"][schema["$ref"].rpartition("/")[2]]
    return schema


def instances(schema, root):
    """Values for `schema`, mostly conforming, sometimes at or just over its limits."""
    schema = resolve(schema, root)
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | st.sampled_from([v.lower() for v in schema["enum"]])
    if kind == "string" and schema.get("format") == "date-time":
        return DATE_TIMES
    if kind == "string":
        limit = schema.get("maxLength", 30)
        return st.text(min_size=max(0, limit - 1), max_size=limit + 1) | st.text(max_size=3)
    if kind == "integer":
        return st.integers(-5, 10**6) | st.just(1.0)
    if kind == "number":
        return st.integers(-5, 500) | st.floats(-100, 1000) | st.sampled_from([21.4, 0.1, 16.05, 32.0])
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(instances(schema["items"], root), min_size=0, max_size=3)
    return objects(schema, root)


def objects(schema, root):
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fields = {name: instances(sub, root) for name, sub in properties.items()}
    return st.fixed_dictionaries(
        {name: s for name, s in fields.items() if name in required},
        optional={name: s for name, s in fields.items() if name not in required})


@st.composite
def damaged(draw, schema):
    payload = draw(instances(schema, schema))
    how = draw(st.sampled_from(["none", "none", "replace", "unknown", "drop"]))
    if isinstance(payload, dict) and payload:
        name = draw(st.sampled_from(sorted(payload)))
        if how == "replace":
            payload[name] = draw(ANY_JSON)
        elif how == "drop":
            del payload[name]
        elif how == "unknown":
            payload["extra" + name] = draw(ANY_JSON)
    return payload


def judge(action, kind):
    return schemas._validator(action, kind)


@pytest.mark.parametrize("action, kind", PAIRS, ids=[f"{a}.{k}" for a, k in PAIRS])
@settings(max_examples=50)
@given(data=st.data())
def test_agrees_with_jsonschema(action, kind, data):
    payload = data.draw(damaged(schemas.load(action, kind)))
    expected = judge(action, kind).is_valid(payload)
    assert schemas._predicate(action, kind)(payload) == expected, json.dumps(payload)


@pytest.mark.parametrize("action, kind", PAIRS, ids=[f"{a}.{k}" for a, k in PAIRS])
@settings(max_examples=25)
@given(payload=ANY_JSON)
def test_agrees_on_any_json(action, kind, payload):
    assert schemas._predicate(action, kind)(payload) == judge(action, kind).is_valid(payload)


@pytest.mark.parametrize("schema, value, valid", [
    ({"type": "integer"}, 1.0, False),          # Draft 4: a float is no integer, even a whole one
    ({"type": "integer"}, True, False),
    ({"type": "number"}, False, False),
    ({"type": "number", "multipleOf": 0.1}, 21.4, True),   # decimal, not binary, multiples
    ({"type": "number", "multipleOf": 0.1}, 21.45, False),
    ({"type": "string", "maxLength": 2}, "\U0001F600\U0001F600", True),  # code points, not bytes
    ({"type": "string", "maxLength": 2}, "abc", False),
    ({"type": "string", "format": "date-time"}, "2026-11-21T10:00:00Z", True),
    ({"type": "string", "format": "date-time"}, "2026-11-21", False),
    ({"type": "string", "format": "uri"}, "not a uri", True),  # only date-time formats are checked
    ({"type": "array", "items": {"type": "integer"}, "minItems": 1}, [], False),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"b": 1}, False),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, {}, False),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, {"a": "x", "b": 1}, True),
    ({"type": "integer", "minimum": 1, "maximum": 213}, 1, True),
    ({"type": "integer", "minimum": 1, "maximum": 213}, 0, False),
    ({"type": "integer", "minimum": 1, "maximum": 213}, 214, False),
    ({"type": "string", "minLength": 1}, "", False),
    ({"type": "string", "pattern": "^[^\\x00-\\x1f]+$"}, "a\tb", False),
    ({"type": "string", "pattern": "b"}, "abc", True),  # a pattern is searched for, not matched whole
])
def test_keywords(schema, value, valid):
    assert compiler.compile_schema(schema)(value) is valid
    assert schemas._validator_class()(schema, format_checker=schemas._format_checker()).is_valid(value) is valid


@pytest.mark.parametrize("schema, problem", [
    ({"type": "integer", "minItems": 0, "uniqueItems": True}, "unsupported schema keyword 'uniqueItems'"),
    ({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, "exclusiveMinimum is not supported"),
    ({"type": ["integer", "null"]}, "unsupported type"),
    ({"enum": [1, 2]}, "only enums of strings"),
    ({"$ref": "http://example.com/s.json"}, "unsupported $ref"),
    ({"type": "object", "additionalProperties": {"type": "string"}}, "additionalProperties other than false"),
])
def test_unsupported_schemas_refused(schema, problem):
    with pytest.raises(ValueError, match=problem.replace("$", r"\$")):
        compiler.compile_schema(schema)


def test_every_schema_file_compiles():
    for action, kind in PAIRS:
        assert callable(schemas._predicate(action, kind))
