"""Small JSON files replaced atomically: a reader sees the old file or the new one, whole."""

import json
import os

CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
ATTEMPTS = 5  # another temporary name when one is taken (a crash's leftover, a planted link)


def write_json(path, data, mode=0o640, fsync=False, indent=None, dir_fd=None):
    """Replace `path` with `data` as ASCII JSON and a newline; the file has exactly `mode`.

    The content goes into a new file of its own beside `path`, created with `mode` (never
    wider, whatever the umask; no existing file or link is opened) and then renamed over
    `path`. fsync: file and rename are on disk when this returns. dir_fd: `path` is a name in
    that open directory (whatever its path has come to lead to since it was opened).
    """
    # ASCII: whatever a charger sent can be written, even lone surrogates.
    write_bytes(path, (json.dumps(data, indent=indent) + "\n").encode("ascii"), mode, fsync, dir_fd)


def write_bytes(path, content, mode=0o640, fsync=False, dir_fd=None):
    """Replace `path` with `content` (bytes), as write_json does."""
    path = os.fspath(path)
    fd, temporary = _create(path, mode, dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # the umask may have narrowed it
            f.write(content)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        if dir_fd is None:
            os.replace(temporary, path)
        else:
            os.replace(temporary, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _unlink(temporary, dir_fd)
        raise
    if fsync:
        if dir_fd is None:
            fsync_dir(os.path.dirname(path) or ".")
        else:
            os.fsync(dir_fd)


def fsync_dir(directory):
    """Make a file's creation or rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(path, mode, dir_fd=None):
    head, name = os.path.split(path)
    for attempt in range(ATTEMPTS):
        temporary = os.path.join(head, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return (os.open(temporary, CREATE, mode) if dir_fd is None
                    else os.open(temporary, CREATE, mode, dir_fd=dir_fd)), temporary
        except FileExistsError:
            if attempt == ATTEMPTS - 1:
                raise


def _unlink(path, dir_fd=None):
    try:
        os.unlink(path) if dir_fd is None else os.unlink(path, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
