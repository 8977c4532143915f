"""The compiled predicates against jsonschema, the judge of record: they must agree on every payload.

Payloads are drawn from each schema itself (so most are valid or nearly so, which is where a
lenient predicate would hide) and then damaged at random: a value replaced by any JSON value,
an unknown property added, a required one dropped.
"""

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shocpp.protocol import schemas
from shocpp.protocol.schemas import compiler

from conftest import examples

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
@settings(max_examples=examples(50))
@given(data=st.data())
def test_agrees_with_jsonschema(action, kind, data):
    payload = data.draw(damaged(schemas.load(action, kind)))
    expected = judge(action, kind).is_valid(payload)
    assert schemas._predicate(action, kind)(payload) == expected, json.dumps(payload)


@pytest.mark.parametrize("action, kind", PAIRS, ids=[f"{a}.{k}" for a, k in PAIRS])
@settings(max_examples=examples(25))
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



@pytest.mark.parametrize("schema", [
    {"definitions": {"n": {"properties": {"next": {"$ref": "#/definitions/n"}}}}, "$ref": "#/definitions/n"},
    {"definitions": {"a": {"items": {"$ref": "#/definitions/b"}}, "b": {"$ref": "#/definitions/a"}},
     "$ref": "#/definitions/a"},
    {"definitions": {"a~1b": {"type": "string"}}, "$ref": "#/definitions/a~1b"},  # jsonschema reads "a/b"
    {"definitions": {"a%20b": {"type": "string"}}, "$ref": "#/definitions/a%20b"},  # and "a b"
])
def test_refs_refused(schema):
    with pytest.raises(ValueError, match="unsupported"):
        compiler.compile_schema(schema)


def test_a_definition_may_be_used_twice():
    schema = {"definitions": {"s": {"type": "string"}, "p": {"items": {"$ref": "#/definitions/s"}}},
              "properties": {"a": {"$ref": "#/definitions/s"}, "b": {"$ref": "#/definitions/p"}}}
    predicate = compiler.compile_schema(schema)
    assert predicate({"a": "x", "b": ["y"]}) and not predicate({"a": "x", "b": [1]})

def test_every_schema_file_compiles():
    for action, kind in PAIRS:
        assert callable(schemas._predicate(action, kind))


@pytest.mark.parametrize("value, valid", [
    ("A", True), ("B", True), ("a", False), (1, False), (None, False), (True, False), (1.5, False),
    ([], False), ({}, False),
])
def test_enum_refuses_other_types(value, valid):
    schema = {"enum": ["A", "B"]}
    assert compiler.compile_schema(schema)(value) is valid
    assert schemas._validator_class()(schema).is_valid(value) is valid



@pytest.mark.parametrize("schema", [{"minimum": 1}, {"type": "number", "maximum": 1}])
def test_limits_let_nan_through_as_jsonschema_does(schema):  # json.loads reads NaN unless told not to
    assert compiler.compile_schema(schema)(float("nan")) is True
    assert schemas._validator_class()(schema).is_valid(float("nan")) is True

# Generated schemas: small ones from the keywords the compiler supports, in combinations our
# schema files do not use (no type beside a limit, an enum without a type, a $ref at the root).

PATTERNS = ["^[A-Z]+$", "b", "^[^\\x00-\\x1f]*$", "^[0-9]{2}$", "^\\d+(\\.\\d+)?$"]
FACTORS = [0.1, 1, 0.5, 0.01, 2]
ENUM_VALUES = ["A", "B", "a", "1", "true", "", "\U0001F600"]
TRICKY = st.sampled_from([None, True, False, 0, 1, -1, 1.0, 0.5, 21.4, 1e300, float("inf"), float("nan"), "", "A", "1",
                          "2026-11-21T10:00:00Z", [], [1], {}, {"a": 1}])
REF = "#/definitions/"


def leaves(names):
    string = st.fixed_dictionaries({"type": st.just("string")}, optional={
        "maxLength": st.integers(0, 4), "minLength": st.integers(0, 3), "pattern": st.sampled_from(PATTERNS),
        "format": st.sampled_from(["date-time", "uri"]), "enum": st.lists(st.sampled_from(ENUM_VALUES), max_size=3)})
    number = st.fixed_dictionaries({"type": st.sampled_from(["integer", "number"])}, optional={
        "minimum": st.integers(-3, 3) | st.sampled_from([0.5, -1.5]), "maximum": st.integers(0, 30) | st.just(21.5),
        "multipleOf": st.sampled_from(FACTORS)})
    untyped = st.fixed_dictionaries({}, optional={  # each keyword applies to its own type only
        "enum": st.lists(st.sampled_from(ENUM_VALUES), min_size=1, max_size=3), "maxLength": st.integers(0, 3),
        "pattern": st.sampled_from(PATTERNS), "minimum": st.integers(-1, 2), "maximum": st.integers(0, 30),
        "multipleOf": st.sampled_from(FACTORS), "format": st.just("date-time"), "minItems": st.integers(0, 2)})
    found = string | number | st.just({"type": "boolean"}) | untyped
    if names:
        found |= st.sampled_from(names).map(lambda name: {"$ref": REF + name})
    return found


def subschemas(names, depth):
    if depth == 0:
        return leaves(names)
    inner = subschemas(names, depth - 1)
    return leaves(names) | objects_of(inner) | arrays_of(inner)


@st.composite
def objects_of(draw, inner):
    properties = draw(st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3))
    schema = {"type": "object"} if draw(st.booleans()) else {}
    if properties or draw(st.booleans()):
        schema["properties"] = properties
    required = draw(st.lists(st.sampled_from(["a", "b", "d"]), unique=True, max_size=2))
    if required:
        schema["required"] = required
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


def arrays_of(inner):
    return st.fixed_dictionaries({"type": st.just("array")}, optional={"items": inner, "minItems": st.integers(0, 2)})


@st.composite
def generated_schemas(draw):
    definitions = {}
    for i in range(draw(st.integers(0, 2))):  # each may refer to the ones before it: no cycles
        definitions[f"d{i}"] = draw(subschemas(sorted(definitions), 1))
    schema = draw(subschemas(sorted(definitions), 2))
    if definitions:
        schema["definitions"] = definitions
    return schema


@st.composite
def near(draw, schema, root):
    """A value for `schema`: mostly conforming or at its limits, now and then anything at all."""
    if draw(st.integers(0, 7)) == 0:
        return draw(TRICKY | ANY_JSON)
    if "$ref" in schema:
        return draw(near(root["definitions"][schema["$ref"][len(REF):]], root))
    kind = schema.get("type")
    if "enum" in schema and schema["enum"] and draw(st.booleans()):
        return draw(st.sampled_from(schema["enum"]))
    if kind == "object" or "properties" in schema:
        return draw(near_object(schema, root))
    if kind == "array" or "items" in schema:
        items = near(schema.get("items", {}), root)
        least = schema.get("minItems", 0)
        return draw(st.lists(items, min_size=max(0, least - 1), max_size=least + 2))
    if kind in ("integer", "number"):
        return draw(near_number(schema, kind))
    if kind == "boolean":
        return draw(st.booleans())
    return draw(near_string(schema) | near_number(schema, "number") | TRICKY)


def near_string(schema):
    found = st.text(max_size=schema.get("maxLength", 5) + 1) | st.sampled_from(ENUM_VALUES)
    if schema.get("format") == "date-time":
        found |= DATE_TIMES
    if "pattern" in schema:
        found |= st.from_regex(schema["pattern"])
    return found


def near_number(schema, kind):
    found = st.integers(-5, 40) | st.sampled_from([schema.get("minimum", 0), schema.get("maximum", 0)])
    if "multipleOf" in schema:
        factor = Decimal(str(schema["multipleOf"]))
        found |= st.integers(-30, 300).map(lambda k: float(k * factor))
    if kind == "number":
        found |= st.floats(-10, 40) | st.sampled_from([21.4, 0.1, 16.05, 2.5, 32.0, float("inf"), float("nan")])
    return found


@st.composite
def near_object(draw, schema, root):
    properties = schema.get("properties", {})
    value = {name: draw(near(properties.get(name, {}), root))
             for name in schema.get("required", ()) if draw(st.integers(0, 9))}
    for name in sorted(properties):
        if name not in value and draw(st.booleans()):
            value[name] = draw(near(properties[name], root))
    if draw(st.integers(0, 5)) == 0:
        value["unknown"] = draw(ANY_JSON)
    return value


@settings(max_examples=examples(300))
@given(data=st.data())
def test_generated_schemas_agree_with_jsonschema(data):
    schema = data.draw(generated_schemas(), label="schema")
    instance = data.draw(near(schema, schema), label="instance")
    validator = schemas._validator_class()(schema, format_checker=schemas._format_checker())
    assert compiler.compile_schema(schema)(instance) == (not any(validator.iter_errors(instance)))
