"""Plain records for the core's data: named tuples that equal only their own kind.

As with dataclasses, and unlike bare named tuples, a Deliver never equals a CallResult with the same
fields; but nothing is imported or built at start beyond a named tuple (dataclasses cost every
backend's start about 15 ms of imports and class building).
"""

from collections import namedtuple


def plain(name, fields, defaults=None, compare=None):
    """A named-tuple base class; its instances are equal when of one class and equal in `compare`
    (the names of the fields that count, default all)."""
    base = namedtuple(name, fields, defaults=defaults)
    counted = tuple(base._fields.index(f) for f in (compare or base._fields))

    def key(self):
        return tuple(self[i] for i in counted)

    def __eq__(self, other):
        return type(self) is type(other) and key(self) == key(other)

    def __ne__(self, other):
        return not __eq__(self, other)

    def __hash__(self):
        return hash(key(self))

    return type(name, (base,), {"__slots__": (), "__eq__": __eq__, "__ne__": __ne__, "__hash__": __hash__})
