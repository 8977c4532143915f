"""A watched configuration file: loaded again on change, the last value kept when an edit breaks it."""

import os

from shocpp.watched import Watched, stamp


class Broken(ValueError):
    pass


def load(path):
    text = path.read_text()
    if not text.isdigit():
        raise Broken(f"{path.name}: {text!r} is no number")
    return int(text), ("odd" if int(text) % 2 else None)


def test_a_change_is_loaded_and_a_broken_edit_keeps_the_value_before(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("4")
    watched = Watched(path, load, Broken, "number")
    assert (watched.value, watched.problem, watched.current()) == (4, None, (4, None))
    path.write_text("7")
    os.utime(path, ns=(1, 1))  # a new stamp even within the same clock tick
    assert watched.current() == (7, "odd")
    path.write_text("x")
    assert watched.current() == (7, "n.txt: 'x' is no number; still using the number loaded before")
    assert watched.current() == (7, None)  # said once, until the file changes again


def test_the_stamp_of_a_file_that_is_gone_is_none(tmp_path):
    assert stamp(tmp_path / "missing") is None
    (tmp_path / "here").write_text("1")
    assert stamp(tmp_path / "here")[1] == 1
