"""tags.json: parsing, the errors that name the problem, and reloading on change."""

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from shocpp import config, tags_file
from shocpp.protocol import tags
from shocpp.protocol.tags import Account, TagsError
from shocpp.tags_file import TagsFile


NOT_A_LIST = 'tags.json: must be a list of accounts like [{"index": 1, "account": "name", "ids": ["tag"]}]'
RANGE = " is outside 1..213 (the range every transactionId fits in)"

GOOD = [
    {"index": 1, "account": "home", "ids": ["1111", "04a2b9c1d23e80"]},
    {"index": 7, "account": "company-x", "ids": ["AbCd"]},
    {"index": 213, "account": "nobody yet", "ids": []},
]


def entries(*changes):
    """GOOD with the first entry changed: each change is (key, value), value None removes it."""
    first = dict(GOOD[0])
    for key, value in changes:
        if value is None:
            del first[key]
        else:
            first[key] = value
    return [first, *GOOD[1:]]


def parse_error(data_or_text, source="tags.json"):
    text = data_or_text if isinstance(data_or_text, str) else json.dumps(data_or_text)
    with pytest.raises(TagsError) as caught:
        tags.parse(text, source)
    return str(caught.value)


# --- a good file -------------------------------------------------------------------------

@pytest.mark.parametrize("id_tag, account", [
    ("1111", Account(1, "home")),
    ("04A2B9C1D23E80", Account(1, "home")),
    ("04a2b9c1d23e80", Account(1, "home")),
    ("abcd", Account(7, "company-x")),
    ("ABCD", Account(7, "company-x")),
    ("AbCd", Account(7, "company-x")),
    ("9999", None),
    ("", None),
    ("1111 ", None),
    (1111, None),
    (None, None),
])
def test_lookup_is_case_insensitive(id_tag, account):
    assert tags.parse(json.dumps(GOOD)).lookup(id_tag) == account


@pytest.mark.parametrize("index, name", [
    (1, "home"), (7, "company-x"), (213, "nobody yet"), (0, "unknown"), (2, "unknown"), (None, "unknown"),
])
def test_account_name(index, name):
    assert tags.parse(json.dumps(GOOD)).account_name(index) == name


def test_by_index():
    assert tags.parse(json.dumps(GOOD)).by_index == {
        1: Account(1, "home"), 7: Account(7, "company-x"), 213: Account(213, "nobody yet"),
    }


def test_empty_list_and_same_tag_twice_in_one_account_are_fine():
    assert tags.parse("[]").by_index == {}
    same = tags.parse('[{"index": 2, "account": "a", "ids": ["x1", "X1", "x1"]}]')
    assert same.lookup("X1") == Account(2, "a")


def test_shipped_tags_file_loads():
    shipped = tags_file.load(config.ROOT / "conf" / "tags.json")
    assert shipped.by_index == {1: Account(1, "home"), 2: Account(2, "company-x"), 3: Account(3, "guest")}
    assert shipped.lookup("04a2b9c1d23e80") == Account(2, "company-x")


# --- broken files ------------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    # not a list
    ({"index": 1}, NOT_A_LIST),
    ("1111", NOT_A_LIST),
    (None, NOT_A_LIST),
    # an entry that is not an object
    (["1111"], "tags.json: entry 1: '1111' is not of type 'object'"),
    # missing fields
    (entries(("ids", None)), "tags.json: entry 1 (account 'home'): 'ids' is a required property"),
    (entries(("index", None)), "tags.json: entry 1 (account 'home'): 'index' is a required property"),
    (entries(("account", None)), "tags.json: entry 1: 'account' is a required property"),
    # unknown field
    (entries(("colour", "red")),
     "tags.json: entry 1 (account 'home'): Additional properties are not allowed ('colour' was unexpected)"),
    # index out of range or not an integer
    (entries(("index", 0)), "tags.json: entry 1 (account 'home') index: index 0" + RANGE),
    (entries(("index", 214)), "tags.json: entry 1 (account 'home') index: index 214" + RANGE),
    (entries(("index", -3)), "tags.json: entry 1 (account 'home') index: index -3" + RANGE),
    (entries(("index", "1")), "tags.json: entry 1 (account 'home') index: '1' is not of type 'integer'"),
    (entries(("index", 1.5)), "tags.json: entry 1 (account 'home') index: 1.5 is not of type 'integer'"),
    (entries(("index", 1.0)), "tags.json: entry 1 (account 'home') index: 1.0 is not of type 'integer'"),
    (entries(("index", True)), "tags.json: entry 1 (account 'home') index: True is not of type 'integer'"),
    # account name
    (entries(("account", "")), "tags.json: entry 1 (account '') account: '' should be non-empty"),
    (entries(("account", 5)), "tags.json: entry 1 account: 5 is not of type 'string'"),
    # tags
    (entries(("ids", "1111")), "tags.json: entry 1 (account 'home') ids: '1111' is not of type 'array'"),
    (entries(("ids", ["1111", "x" * 21])),
     f"tags.json: entry 1 (account 'home') ids[1]: '{'x' * 21}' is too long"),
    (entries(("ids", [""])), "tags.json: entry 1 (account 'home') ids[0]: '' should be non-empty"),
    (entries(("ids", [1111])), "tags.json: entry 1 (account 'home') ids[0]: 1111 is not of type 'string'"),
    # the second entry is named in the message
    ([GOOD[0], {"index": 2, "account": "b", "ids": ["y" * 21]}],
     f"tags.json: entry 2 (account 'b') ids[0]: '{'y' * 21}' is too long"),
    # uniqueness and the reserved name
    ([GOOD[0], {"index": 1, "account": "other", "ids": []}],
     "tags.json: index 1 is used twice ('home' and 'other')"),
    ([GOOD[0], {"index": 2, "account": "other", "ids": ["1111"]}],
     "tags.json: tag '1111' is listed under two accounts (index 1 'home' and index 2 'other')"),
    ([GOOD[0], {"index": 2, "account": "other", "ids": ["04A2B9C1D23E80"]}],
     "tags.json: tag '04A2B9C1D23E80' is listed under two accounts (index 1 'home' and index 2 'other')"),
    ([{"index": 5, "account": "unknown", "ids": []}],
     "tags.json: account name 'unknown' is reserved for unknown tags"),
])
def test_broken_file_names_the_problem(data, expected):
    assert parse_error(data) == expected


@pytest.mark.parametrize("text, expected", [
    ("", "tags.json: not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    ('[\n  {"index": 1,\n  }\n]', "tags.json: not valid JSON: Expecting property name enclosed in "
                                  "double quotes: line 3 column 3 (char 19)"),
    ("[{'index': 1}]", "tags.json: not valid JSON: Expecting property name enclosed in double quotes: "
                       "line 1 column 3 (char 2)"),
])
def test_not_json_names_line_and_column(text, expected):
    assert parse_error(text) == expected


def test_source_names_the_file():
    assert parse_error("[1", source="/etc/shocpp/tags.json").startswith("/etc/shocpp/tags.json: not valid JSON:")


def test_load_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nothing-here.json"
    with pytest.raises(TagsError, match=r"nothing-here\.json: cannot read: .*No such file or directory"):
        tags_file.load(path)
    assert str(path) in _load_error(path)


def test_load_non_utf8_file(tmp_path):
    path = tmp_path / "tags.json"
    path.write_bytes(b'[{"index": 1, "account": "h\xe4user", "ids": []}]')
    assert _load_error(path).startswith(f"{path}: cannot read: 'utf-8' codec can't decode byte 0xe4")


def test_load_broken_file_names_the_path(tmp_path):
    path = tmp_path / "tags.json"
    path.write_text('[{"index": 0, "account": "a", "ids": []}]', encoding="utf-8")
    assert _load_error(path) == f"{path}: entry 1 (account 'a') index: index 0" + RANGE


def _load_error(path):
    with pytest.raises(TagsError) as caught:
        tags_file.load(path)
    return str(caught.value)


# --- TagsFile ----------------------------------------------------------------------------

class TagsOnDisk:
    """A tags.json whose every write gets a new, distinct mtime."""

    def __init__(self, path):
        self.path = path
        self.mtime_ns = 1_700_000_000_000_000_000

    def write(self, text):
        self.path.write_text(text, encoding="utf-8")
        self.mtime_ns += 1_000_000_000
        os.utime(self.path, ns=(self.mtime_ns, self.mtime_ns))


@pytest.fixture
def disk(tmp_path):
    disk = TagsOnDisk(tmp_path / "tags.json")
    disk.write('[{"index": 1, "account": "home", "ids": ["1111"]}]')
    return disk


def test_tags_file_reloads_after_change(disk):
    tags_file = TagsFile(disk.path)
    current, error = tags_file.current()
    assert (current.lookup("1111"), current.lookup("2222"), error) == (Account(1, "home"), None, None)

    disk.write('[{"index": 1, "account": "home", "ids": ["2222"]}]')   # same size, new mtime
    current, error = tags_file.current()
    assert (current.lookup("1111"), current.lookup("2222"), error) == (None, Account(1, "home"), None)


def test_tags_file_unchanged_returns_the_same_tags(disk):
    tags_file = TagsFile(disk.path)
    first, _ = tags_file.current()
    assert tags_file.current() == (first, None)
    assert tags_file.current()[0] is first


def test_tags_file_keeps_last_good_tags_then_picks_up_fixed_file(disk):
    tags_file = TagsFile(disk.path)
    good, _ = tags_file.current()

    disk.write('[{"index": 1, "account": "home", "ids": ["1111"]')
    current, error = tags_file.current()
    assert current is good
    assert error == (f"{disk.path}: not valid JSON: Expecting ',' delimiter: line 1 column 49 (char 48); "
                     "still using the tags loaded before")
    # the error is reported once, for the change; the last good tags stay in use
    assert tags_file.current() == (good, None)

    disk.write('[{"index": 2, "account": "guest", "ids": ["1111"]}]')
    current, error = tags_file.current()
    assert error is None
    assert current.lookup("1111") == Account(2, "guest")


def test_tags_file_removed_keeps_last_good_tags(disk):
    tags_file = TagsFile(disk.path)
    good, _ = tags_file.current()
    disk.path.unlink()
    current, error = tags_file.current()
    assert current is good
    assert error.startswith(f"{disk.path}: cannot read: ")
    assert error.endswith("; still using the tags loaded before")

    disk.write('[{"index": 3, "account": "back", "ids": ["1111"]}]')
    current, error = tags_file.current()
    assert (current.lookup("1111"), error) == (Account(3, "back"), None)


def test_tags_file_missing_at_start_raises(tmp_path):
    with pytest.raises(TagsError, match="missing.json: cannot read"):
        TagsFile(tmp_path / "missing.json")


ENTRY_VALUES = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=3), st.lists(st.integers()))
ENTRIES = st.lists(st.fixed_dictionaries(
    {"index": st.integers(-2, 216) | ENTRY_VALUES,
     "account": st.text(max_size=4) | st.sampled_from(["", "a\tb", "x" * 100, "x" * 101]) | ENTRY_VALUES,
     "ids": st.lists(st.text(max_size=2) | st.sampled_from(["", "x" * 20, "x" * 21]) | ENTRY_VALUES, max_size=3)},
    optional={"extra": st.integers()}), max_size=3) | ENTRY_VALUES


@given(ENTRIES)
def test_the_fast_check_agrees_with_jsonschema(entries):
    # The compiled schema decides alone when tags.json is fine; jsonschema must agree.
    assert tags.conforms()(entries) == Draft4Validator(tags.SCHEMA).is_valid(entries)
