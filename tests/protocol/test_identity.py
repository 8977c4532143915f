"""The charger identity from the URL path: only a safe alphabet gets through."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shocpp.protocol.identity import DEFAULT, MAX_LENGTH, BadIdentity, from_path

from conftest import examples

SAFE = re.compile(r"[A-Za-z0-9._:-]{1,48}")


@pytest.mark.parametrize("path, identity", [
    ("", "default"),
    (None, "default"),
    ("/", "default"),
    ("///", "default"),
    ("/CP001", "CP001"),
    ("/ocpp/CP001", "CP001"),
    ("/ocpp/CP001/", "CP001"),
    ("/ocpp//CP001//", "CP001"),
    ("/ocpp/../CP001", "CP001"),        # only the last segment counts
    ("CP001", "CP001"),
    ("/CP%2D1", "CP-1"),
    ("/cp%3a01", "cp:01"),
    ("/a.b_c-d:e", "a.b_c-d:e"),
    ("/...a", "...a"),
    ("/" + "x" * 48, "x" * 48),
    ("/" + "%41" * 48, "A" * 48),
])
def test_accepted(path, identity):
    assert from_path(path) == identity


@pytest.mark.parametrize("path", [
    "/CP%2F1",                 # a slash inside the identity
    "/ocpp/%2F",
    "/..",
    "/ocpp/..",
    "/.",
    "/...",
    "/%2E%2E",
    "/%2e",
    "/CP%001",                 # NUL
    "/CP\x001",
    "/CP 1",
    "/CP%201",
    "/CP%0A1",
    "/CP%FF",                  # not UTF-8 once decoded
    "/CP%C3",
    "/" + "x" * 49,
    "/" + "%41" * 49,
    "/Größe",
    "/CP%C3%A9",               # é, percent-encoded
    "/ＣＰ１",                   # full-width letters and digits
    "/٣",                      # a digit outside ASCII
    "/CP\\1",
    "/CP%5C1",
    "/CP*",
    "/%",
    "/CP%",
])
def test_refused(path):
    with pytest.raises(BadIdentity):
        from_path(path)


def test_refusal_message_names_the_segment_and_the_rule():
    with pytest.raises(BadIdentity) as caught:
        from_path("/ocpp/CP%2F1")
    assert str(caught.value) == "charger identity 'CP%2F1' is not 1 to 48 letters, digits and ._-:"


def test_refusal_message_is_cut_to_100_characters():
    with pytest.raises(BadIdentity) as caught:
        from_path("/" + "y" * 500)
    assert str(caught.value) == f"charger identity '{'y' * 100}' is not 1 to 48 letters, digits and ._-:"


def test_bad_identity_is_a_value_error():
    assert issubclass(BadIdentity, ValueError)
    assert (DEFAULT, MAX_LENGTH) == ("default", 48)


path_alphabet = st.sampled_from("/%.:-_ aZ09\x00\\") | st.characters(blacklist_categories=())


@settings(max_examples=examples(300))
@given(st.text(path_alphabet, max_size=60) | st.text(max_size=60))
def test_any_path_gives_a_safe_identity_or_bad_identity(path):
    try:
        identity = from_path(path)
    except BadIdentity:
        return
    assert SAFE.fullmatch(identity)
    assert identity not in (".", "..")
    assert "/" not in identity


@settings(max_examples=examples(200))
@given(st.text("ABCxyz019._:-", min_size=1, max_size=48).filter(lambda s: set(s) != {"."}),
       st.text("abc/", max_size=10))
def test_safe_identity_round_trips(identity, prefix):
    assert from_path(prefix + "/" + identity) == identity
    assert from_path(prefix + "/" + identity + "/") == identity
