"""atomic.write_json: the one writer of JSON files that are replaced whole (run files, chargers.json)."""

import json
import os
import stat
import threading

import pytest

from shocpp import atomic, chargers_file, runfiles


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_the_file_is_ascii_json_with_a_newline_and_nothing_else_is_left(tmp_path):
    path = tmp_path / "a.json"
    atomic.write_json(path, {"vendor": "Äcme\ud83d"})
    assert path.read_bytes() == b'{"vendor": "\\u00c4cme\\ud83d"}\n'
    atomic.write_json(str(path), [1, 2], indent=2)
    assert json.loads(path.read_text("ascii")) == [1, 2]
    assert os.listdir(tmp_path) == ["a.json"]


@pytest.mark.parametrize("umask", [0o077, 0o000])
@pytest.mark.parametrize("wanted", [0o640, 0o600])
def test_the_mode_is_exact_whatever_the_umask_and_never_wider(tmp_path, monkeypatch, umask, wanted):
    created = []
    real_fchmod = os.fchmod
    monkeypatch.setattr(os, "fchmod", lambda fd, m: created.append(stat.S_IMODE(os.fstat(fd).st_mode))
                        or real_fchmod(fd, m))
    old = os.umask(umask)
    try:
        atomic.write_json(tmp_path / "a.json", {}, mode=wanted)
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.json") == wanted
    assert len(created) == 1 and not created[0] & ~wanted


def test_a_link_at_the_path_is_replaced_and_its_target_untouched(tmp_path):
    target = tmp_path / "secret"
    target.write_text("keep")
    (tmp_path / "a.json").symlink_to(target)
    atomic.write_json(tmp_path / "a.json", {"x": 1})
    assert target.read_text() == "keep"
    assert not (tmp_path / "a.json").is_symlink() and json.loads((tmp_path / "a.json").read_text()) == {"x": 1}


def test_a_taken_temporary_name_is_not_opened(tmp_path, monkeypatch):
    target = tmp_path / "secret"
    target.write_text("keep")
    names = iter([b"\x00" * 6, b"\x00" * 6, b"\x01" * 6])
    monkeypatch.setattr(os, "urandom", lambda n: next(names))
    (tmp_path / ".a.json.000000000000.tmp").symlink_to(target)   # planted, or a crash's leftover
    atomic.write_json(tmp_path / "a.json", {"x": 1})
    assert target.read_text() == "keep"
    assert sorted(os.listdir(tmp_path)) == [".a.json.000000000000.tmp", "a.json", "secret"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    atomic.write_json(path, {"x": 1})
    with pytest.raises(TypeError):
        atomic.write_json(path, {"x": {1, 2}})
    monkeypatch.setattr(os, "replace", lambda *_: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(OSError):
        atomic.write_json(path, {"x": 2})
    assert json.loads(path.read_text()) == {"x": 1}
    assert os.listdir(tmp_path) == ["a.json"]


def test_fsync_syncs_the_file_and_then_its_directory(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(stat.S_ISDIR(os.fstat(fd).st_mode)) or real_fsync(fd))
    atomic.write_json(tmp_path / "a.json", {})
    assert synced == []
    atomic.write_json(tmp_path / "a.json", {}, fsync=True)
    assert synced == [False, True]


def test_readers_see_the_old_or_the_new_file_whole(tmp_path):
    path = tmp_path / "a.json"
    atomic.write_json(path, {"n": 0})
    done = threading.Event()

    def write():
        for n in range(1, 300):
            atomic.write_json(path, {"n": n, "padding": "x" * (n * 37 % 5000)})
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen = []
    while not done.is_set():
        seen.append(json.loads(path.read_bytes())["n"])
    writer.join()
    assert seen == sorted(seen)


def test_run_files_and_chargers_json_are_written_by_it(tmp_path, monkeypatch):
    calls = []
    real = atomic.write_json
    monkeypatch.setattr(atomic, "write_json", lambda *a, **k: calls.append((os.path.basename(a[0]), k))
                        or real(*a, **k))
    runfiles.write_json(tmp_path / "info.json", {"charger": "CP1"})
    chargers_file.save(tmp_path / "chargers.json", {"CP1": "hash"})
    assert calls == [("info.json", {"mode": runfiles.FILE_MODE}),
                     ("chargers.json", {"mode": 0o640, "fsync": True, "indent": 2})]
    assert (tmp_path / "chargers.json").read_text() == '[\n  {\n    "id": "CP1",\n    "password_hash": "hash"\n  }\n]\n'
