"""Our schemas compiled to plain predicates: does a payload conform, yes or no?

Most payloads do, and asking jsonschema costs more than the rest of a frame's work
(and 40 ms of imports at every start). So a payload is first put to its predicate;
only when that says no does jsonschema, the judge of record, say what is wrong. The
predicates follow Draft 4 as jsonschema does for the keywords our schema files use,
and refuse to compile a schema with any other keyword.
"""

import re

IGNORED = {"$schema", "title", "description", "definitions"}


def compile_schema(schema):
    return _compile(schema, schema.get("definitions", {}))


def is_multiple(number, factor):
    """Decimal multiples: binary floats make 21.4 no multiple of 0.1, and the spec means decimals."""
    from decimal import Decimal, InvalidOperation  # only central-system calls have multipleOf

    try:
        quotient = Decimal(str(number)) / Decimal(str(factor))
        return quotient.is_finite() and quotient == quotient.to_integral_value()
    except InvalidOperation:
        return False


def _compile(schema, definitions):
    if "$ref" in schema:  # Draft 4: a $ref's siblings do not count
        prefix, _, name = schema["$ref"].rpartition("/")
        if prefix != "#/definitions" or name not in definitions or "~" in name or "%" in name:
            raise ValueError(f"unsupported $ref {schema['$ref']!r}")  # escaped names jsonschema would decode
        rest = {other: sub for other, sub in definitions.items() if other != name}
        return _compile(definitions[name], rest)  # nor may it refer to itself: recursion is not supported
    checks = []
    for keyword in schema:
        if keyword in _KEYWORDS:
            check = _KEYWORDS[keyword](schema, definitions)
            if check is not None:
                checks.append(check)
        elif keyword not in IGNORED:
            raise ValueError(f"unsupported schema keyword {keyword!r}")
    return _all(checks)


def _all(checks):
    if len(checks) == 1:
        return checks[0]

    def check(value):
        for c in checks:
            if not c(value):
                return False
        return True
    return check


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": _is_number,
}


def _type(schema, _):
    kind = schema["type"]
    if not isinstance(kind, str) or kind not in _TYPES:
        raise ValueError(f"unsupported type {kind!r}")
    return _TYPES[kind]


def _properties(schema, definitions):
    properties = {name: _compile(sub, definitions) for name, sub in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    closed = schema.get("additionalProperties", True) is False

    def check(value):
        if not isinstance(value, dict):
            return True
        for name in required:
            if name not in value:
                return False
        for name, item in value.items():
            sub = properties.get(name)
            if sub is None:
                if closed:
                    return False
            elif not sub(item):
                return False
        return True
    return check


def _additional_properties(schema, definitions):
    if schema["additionalProperties"] is not False:
        raise ValueError("additionalProperties other than false is not supported")
    if "properties" not in schema:
        return _properties(schema, definitions)
    return None


def _required(schema, definitions):  # checked with the properties when there are any
    return None if "properties" in schema or "additionalProperties" in schema else _properties(schema, definitions)


def _enum(schema, _):
    values = schema["enum"]
    if not all(isinstance(v, str) for v in values):
        raise ValueError("only enums of strings are supported")
    allowed = frozenset(values)
    return lambda value: isinstance(value, str) and value in allowed  # jsonschema: no number equals a string


def _max_length(schema, _):
    limit = schema["maxLength"]
    return lambda value: not isinstance(value, str) or len(value) <= limit


def _min_length(schema, _):
    least = schema["minLength"]
    return lambda value: not isinstance(value, str) or len(value) >= least


def _pattern(schema, _):
    search = re.compile(schema["pattern"]).search
    return lambda value: not isinstance(value, str) or search(value) is not None


def _minimum(schema, _):
    if "exclusiveMinimum" in schema:
        raise ValueError("exclusiveMinimum is not supported")
    least = schema["minimum"]
    return lambda value: not (_is_number(value) and value < least)  # as jsonschema asks: NaN passes


def _maximum(schema, _):
    if "exclusiveMaximum" in schema:
        raise ValueError("exclusiveMaximum is not supported")
    most = schema["maximum"]
    return lambda value: not (_is_number(value) and value > most)


def _format(schema, _):
    if schema["format"] != "date-time":
        return None  # like our jsonschema format checker: only date-time is checked
    from .. import timestamps  # here: shocpp-command need not import datetime for calls without dates

    return lambda value: not isinstance(value, str) or timestamps.parse(value) is not None


def _items(schema, definitions):
    if not isinstance(schema["items"], dict):
        raise ValueError("only a single items schema is supported")
    item = _compile(schema["items"], definitions)
    return lambda value: not isinstance(value, list) or all(item(v) for v in value)


def _min_items(schema, _):
    least = schema["minItems"]
    return lambda value: not isinstance(value, list) or len(value) >= least


def _max_items(schema, _):
    most = schema["maxItems"]
    return lambda value: not isinstance(value, list) or len(value) <= most


def _multiple_of(schema, _):
    factor = schema["multipleOf"]
    return lambda value: not _is_number(value) or is_multiple(value, factor)


_KEYWORDS = {
    "type": _type,
    "properties": _properties,
    "required": _required,
    "additionalProperties": _additional_properties,
    "enum": _enum,
    "maxLength": _max_length,
    "minLength": _min_length,
    "pattern": _pattern,
    "minimum": _minimum,
    "maximum": _maximum,
    "format": _format,
    "items": _items,
    "minItems": _min_items,
    "maxItems": _max_items,
    "multipleOf": _multiple_of,
}
