"""Splitting a byte stream into lines in bounded memory."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shocpp.protocol.linebuffer import LineBuffer

from conftest import examples

MAX = 10


def feed_all(buffer, chunks):
    lines = []
    for chunk in chunks:
        lines += buffer.feed(chunk)
    return lines + buffer.rest()


@pytest.mark.parametrize("chunks, lines", [
    ([b"abc\n"], [b"abc"]),
    ([b"ab", b"c\n"], [b"abc"]),
    ([b"a", b"b", b"c", b"\n"], [b"abc"]),
    ([b"abc", b"\n", b"def\n"], [b"abc", b"def"]),
    ([b"one\ntwo\nthree\n"], [b"one", b"two", b"three"]),
    ([b"one\ntw", b"o\nthree\nfo", b"ur\n"], [b"one", b"two", b"three", b"four"]),
    ([b"\n\n"], [b"", b""]),
    ([b"a\r\n"], [b"a\r"]),                       # only \n ends a line; \r is decode()'s business
    ([b"x" * MAX + b"\n"], [b"x" * MAX]),          # exactly max: intact
    ([b"x" * 5, b"x" * 5, b"\n"], [b"x" * MAX]),
    ([b"last"], [b"last"]),                        # rest() at EOF
    ([b"a\nla", b"st"], [b"a", b"last"]),
    ([], []),
    ([b""], []),
    ([b"a\n", b""], [b"a"]),
])
def test_lines(chunks, lines):
    assert feed_all(LineBuffer(MAX), chunks) == lines


def test_feed_returns_complete_lines_only():
    buffer = LineBuffer(MAX)
    assert buffer.feed(b"ab") == []
    assert buffer.feed(b"c\nde") == [b"abc"]
    assert buffer.feed(b"f\n") == [b"def"]
    assert buffer.rest() == []


def test_rest_empties_the_buffer():
    buffer = LineBuffer(MAX)
    assert buffer.feed(b"tail") == []
    assert buffer.rest() == [b"tail"]
    assert buffer.rest() == []


@pytest.mark.parametrize("chunks", [
    [b"y" * 25, b"y" * 5 + b"\n", b"next\n"],              # over-long across feeds
    [b"y" * 11, b"y" * 19 + b"\nnext\n"],
    [b"y" * 5, b"y" * 5, b"y", b"y" * 19, b"\n", b"next\n"],
    [b"y" * 8, b"y" * 22 + b"\nnext\n"],                   # becomes over-long in the feed that ends it
    [b"y" * 30 + b"\nnext\n"],                             # over-long inside one feed
    [b"y" * 30 + b"\n", b"next\n"],
])
def test_over_long_line_comes_out_once_cut_to_max_plus_one(chunks):
    assert feed_all(LineBuffer(MAX), chunks) == [b"y" * (MAX + 1), b"next"]


def test_over_long_line_without_newline_at_eof():
    buffer = LineBuffer(MAX)
    assert buffer.feed(b"z" * 25) == [b"z" * (MAX + 1)]
    assert buffer.feed(b"z" * 25) == []
    assert buffer.rest() == []


def test_two_over_long_lines_in_a_row():
    buffer = LineBuffer(MAX)
    assert buffer.feed(b"a" * 15) == [b"a" * 11]
    assert buffer.feed(b"a\n" + b"b" * 15) == [b"b" * 11]
    assert buffer.feed(b"\nok\n") == [b"ok"]


def test_memory_stays_bounded_for_an_endless_line():
    max_line, chunk = 64 * 1024, 4 * 1024
    buffer = LineBuffer(max_line)
    out = []
    for _ in range(1024 * 1024 // chunk):
        out += buffer.feed(b"x" * chunk)
        assert len(buffer._pending) <= max_line + chunk
    assert out == [b"x" * (max_line + 1)]
    assert buffer.feed(b"x\n" + b"[2,\"1\",\"Heartbeat\",{}]\n") == [b'[2,"1","Heartbeat",{}]']
    assert len(buffer._pending) == 0


lines_under_max = st.lists(st.binary(max_size=MAX).map(lambda b: b.replace(b"\n", b"")), max_size=20)


@settings(max_examples=examples(200))
@given(lines_under_max, st.data())
def test_any_chunking_gives_back_the_lines(lines, data):
    stream = b"".join(line + b"\n" for line in lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=15)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    assert feed_all(LineBuffer(MAX), chunks) == lines


@settings(max_examples=examples(200))
@given(lines_under_max, st.binary(min_size=1, max_size=MAX).map(lambda b: b.replace(b"\n", b"x")), st.data())
def test_any_chunking_with_last_line_unterminated(lines, last, data):
    stream = b"".join(line + b"\n" for line in lines) + last
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=15)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    assert feed_all(LineBuffer(MAX), chunks) == [*lines, last]


@settings(max_examples=examples(200))
@given(st.lists(st.binary(max_size=3 * MAX).map(lambda b: b.replace(b"\n", b"")), max_size=10), st.data())
def test_any_chunking_cuts_every_over_long_line(lines, data):
    stream = b"".join(line + b"\n" for line in lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=15)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    assert feed_all(LineBuffer(MAX), chunks) == [line[:MAX + 1] for line in lines]


def test_memory_stays_bounded_for_an_endless_line_at_the_backends_bound():
    from shocpp.protocol.ocppj import MAX_STOP_LINE
    buffer, chunk = LineBuffer(MAX_STOP_LINE), b"x" * 65536  # the backend's bound and read size
    out = []
    for _ in range(3 * MAX_STOP_LINE // len(chunk)):
        out += buffer.feed(chunk)
        assert len(buffer._pending) <= MAX_STOP_LINE + len(chunk)
    assert [len(line) for line in out] == [MAX_STOP_LINE + 1]
    assert buffer.feed(b"\n[]\n") == [b"[]"] and len(buffer._pending) == 0
