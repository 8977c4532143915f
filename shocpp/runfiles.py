"""The run directory: what connected chargers and waiting commands share.

`<run>/<identity>@<pid>/` belongs to one backend: `info.json`, `status-<c>.json`,
`meter-<c>.json`, `refused.json` and the FIFO `commands` it reads (`<identity>@<pid>.<hex>` when that
name is taken). Each backend removes only its own, so a reconnecting charger's new
backend and its half-dead predecessor never touch each other's files.
`<run>/commands/<id>/` belongs to one shocpp-command call: its `request.json`, the
`answer.json` the backend writes, and the FIFO `wake`.

The run directory is shared with the service's group, so what is in it may have been put
there by another member of that group: everything in it is opened without following
symbolic links, relative to the open directory (`dir_fd`), and a backend's directory and
FIFO, and an answer, count only when they belong to the service's user (the run directory's
owner); a request's files only when they belong to the owner of the request's directory.
"""

import errno
import json
import os
import re
import stat
import time
from pathlib import Path

from . import atomic
from .config import SEEN_MAX_BYTES, SEEN_MAX_FILES

INFO = "info.json"
REFUSED = "refused.json"  # the latest tag refused to an Authorize, with received_at (the MQTT bridge's events)
SEEN = "seen"  # <run>/seen/<identity>.json: what a backend left at disconnect, for shocpp-status
SEEN_DAYS = 30  # a seen file older than this is removed (shocpp-status shows a charger this long)
COMMANDS_FIFO = "commands"
COMMANDS = "commands"  # <run>/commands: the requests of shocpp-command
REQUEST, ANSWER, WAKE = "request.json", "answer.json", "wake"
REQUEST_ID = re.compile(r"[0-9a-f]{32}")
DIR_MODE, FILE_MODE = 0o750, 0o640
# A FIFO is read by its owner alone: the group may write (a request id to a backend, a wake-up to a
# command) but never read, or a member could swallow what was meant for the owner.
FIFO_MODE = 0o620
# The group may create in run/ and run/commands/, but the sticky bit keeps each member (and the
# service) from removing or renaming what another made; run/commands/ is setgid, so that every
# request gets the service's group.
RUN_MODE, COMMANDS_MODE, REQUEST_MODE = 0o1770, 0o3770, 0o770
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NAME_ATTEMPTS = 8  # another name for a backend's directory when one is taken


class Untrusted(PermissionError):
    """Something in the run directory that is not what it should be (a symbolic link, a file of
    another user, not a FIFO): refused, never written to."""


def write_json(path, data):
    """Replace a run file atomically, readable by the service's group (no fsync: a restart makes them anew)."""
    atomic.write_json(path, data, mode=FILE_MODE)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def make_fifo(path):
    os.mkfifo(path)
    os.chmod(path, FIFO_MODE)  # whatever the umask


def ensure_dir(path, mode=RUN_MODE):
    """Create a shared directory with exactly `mode` (not the umask's idea of it)."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)


def service_uid(run_dir):
    """The service's user: the run directory's owner."""
    return os.stat(run_dir).st_uid


def open_dir(name, dir_fd=None):
    """An open directory that is no symbolic link (relative to dir_fd); Untrusted for a link."""
    try:
        return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Untrusted(e.errno, f"not a directory (a symbolic link?): {name}") from None
        raise


def open_owned(name, flags, dir_fd, owner, kind, what):
    """os.open(name, flags | O_NOFOLLOW, dir_fd=dir_fd), checked: of file type `kind`
    (stat.S_ISFIFO, S_ISREG, S_ISDIR) and owned by `owner`; Untrusted otherwise."""
    try:
        fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Untrusted(e.errno, f"{what} is a symbolic link: refused") from None
        raise
    st = os.fstat(fd)
    if not kind(st.st_mode) or st.st_uid != owner:
        os.close(fd)
        problem = "is not a " + {stat.S_ISFIFO: "FIFO", stat.S_ISREG: "file", stat.S_ISDIR: "directory"}[kind] \
            if not kind(st.st_mode) else f"belongs to uid {st.st_uid}, not {owner}"
        raise Untrusted(errno.EPERM, f"{what} {problem}: refused")
    return fd


def prepare(run_dir):
    """What the listener does before any charger connects: the run directory with the sticky bit,
    and the shared request directory run/commands, the service's (setgid, its group). Notes for
    the operator about what was repaired."""
    notes = []
    ensure_dir(run_dir, RUN_MODE)
    st = os.stat(run_dir)
    if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) & 0o1000 == 0:
        os.chmod(run_dir, stat.S_IMODE(st.st_mode) | 0o1000)
        notes.append(f"gave {run_dir} the sticky bit (chmod +t)")
    run_fd = open_dir(os.fspath(run_dir))
    try:
        try:
            found = os.stat(COMMANDS, dir_fd=run_fd, follow_symlinks=False)
        except FileNotFoundError:
            found = None
        if found is not None and not (stat.S_ISDIR(found.st_mode) and found.st_uid == os.geteuid()):
            aside = f"{COMMANDS}.foreign-{os.urandom(4).hex()}"
            os.rename(COMMANDS, aside, src_dir_fd=run_fd, dst_dir_fd=run_fd)
            notes.append(f"{run_dir}/{COMMANDS} was not the service's (uid {found.st_uid}): moved to {aside}")
            found = None
        if found is None:
            os.mkdir(COMMANDS, 0o700, dir_fd=run_fd)
        fd = open_dir(COMMANDS, run_fd)
        try:
            if os.fstat(fd).st_gid != st.st_gid:
                os.fchown(fd, -1, st.st_gid)
            os.fchmod(fd, COMMANDS_MODE)
        finally:
            os.close(fd)
    finally:
        os.close(run_fd)
    return notes


def fifo_has_reader(path, owner=None):
    """True if a process has the FIFO open for reading; False for a stale one or none, and for
    one that is not a FIFO of `owner` (when given)."""
    path = Path(path)
    try:
        directory = open_dir(os.fspath(path.parent))
        try:
            fd = open_owned(path.name, os.O_WRONLY | os.O_NONBLOCK, directory,
                            os.geteuid() if owner is None else owner, stat.S_ISFIFO, str(path))
        finally:
            os.close(directory)
    except Untrusted:
        return False
    except OSError as e:
        if e.errno in (errno.ENXIO, errno.ENOENT):
            return False
        raise
    os.close(fd)
    return True


class Connection:
    """The directory of one backend, `<run>/<identity>@<pid>`.

    Its backend makes it at connect and removes it at disconnect (create, update_info, save,
    remove); shocpp-command and shocpp-status find it with connections(). `alive`, as found: a
    backend reads its FIFO; False: stale, its backend was killed. (A plain class: dataclasses would
    cost every backend's start and every command about 15 ms of imports.)
    """

    def __init__(self, run_dir, identity, pid, info=None, alive=True, path=None):
        self.run_dir = Path(run_dir)
        self.identity, self.pid, self.alive = identity, pid, alive
        self.info = {} if info is None else info
        self.path = self.run_dir / f"{identity}@{pid}" if path is None else path
        self.dir_fd = None  # the directory, open, for its backend

    def __repr__(self):
        return f"Connection({self.identity!r}, pid {self.pid}, {self.path}, alive={self.alive})"

    @property
    def fifo(self):
        return self.path / COMMANDS_FIFO

    @property
    def started_ns(self):
        return self.info.get("started_ns", 0)

    def create(self, info):
        """Make the backend's directory, under another name when `<identity>@<pid>` is taken (another
        user's directory, a link: never used), with its FIFO and info.json, all relative to it."""
        ensure_dir(self.run_dir)
        run_fd = open_dir(os.fspath(self.run_dir))
        try:
            for attempt in range(NAME_ATTEMPTS):
                name = f"{self.identity}@{self.pid}" + (f".{os.urandom(4).hex()}" if attempt else "")
                try:
                    os.mkdir(name, 0o700, dir_fd=run_fd)
                except FileExistsError:
                    continue
                break
            else:
                raise FileExistsError(errno.EEXIST, f"no free name for {self.identity}@{self.pid} in {self.run_dir}")
            self.dir_fd = open_owned(name, os.O_RDONLY | os.O_DIRECTORY, run_fd, os.geteuid(), stat.S_ISDIR,
                                     f"{self.run_dir}/{name}")
        finally:
            os.close(run_fd)
        self.path = self.run_dir / name
        os.fchmod(self.dir_fd, DIR_MODE)
        os.mkfifo(COMMANDS_FIFO, FIFO_MODE, dir_fd=self.dir_fd)
        os.chmod(COMMANDS_FIFO, FIFO_MODE, dir_fd=self.dir_fd)  # whatever the umask; the directory is ours
        self.update_info(started_ns=time.time_ns(), **info)

    def open_fifo(self, flags, owner=None):
        """The directory's FIFO `commands`, opened with `flags`: no link followed, and only when the
        directory and the FIFO belong to `owner` (default: the service's user, the run directory's)."""
        owner = service_uid(self.run_dir) if owner is None else owner
        if self.dir_fd is not None:
            return open_owned(COMMANDS_FIFO, flags, self.dir_fd, owner, stat.S_ISFIFO, str(self.fifo))
        run_fd = open_dir(os.fspath(self.run_dir))
        try:
            directory = open_owned(self.path.name, os.O_RDONLY | os.O_DIRECTORY, run_fd, owner, stat.S_ISDIR,
                                   str(self.path))
        finally:
            os.close(run_fd)
        try:
            return open_owned(COMMANDS_FIFO, flags, directory, owner, stat.S_ISFIFO, str(self.fifo))
        finally:
            os.close(directory)

    def update_info(self, **fields):
        self.info.update(fields)
        self.save(INFO, self.info)

    def save(self, name, data):
        if self.dir_fd is None:
            write_json(self.path / name, data)
        else:
            atomic.write_json(name, data, mode=FILE_MODE, dir_fd=self.dir_fd)

    def keep_seen(self, last_seen, max_bytes=SEEN_MAX_BYTES, max_files=SEEN_MAX_FILES):
        """Leave `<run>/seen/<identity>.json` (info, the connectors' latest status and meter payloads,
        the latest refused tag, `last_seen`) before the directory goes: what shocpp-status shows of a charger that is gone.
        Read from the backend's own open directory; written only into a directory of this user that
        is no link. At most `max_bytes` (what does not fit is left out, and said); then the seen files
        older than SEEN_DAYS, and the oldest beyond `max_files`, are removed. What was cut or removed,
        for the log."""
        found = {"status": {}, "meter": {}}
        refused = None
        for name in os.listdir(self.dir_fd):
            prefix, dash, rest = name.partition("-")
            if (prefix in found and dash and rest.endswith(".json") and rest[:-5].isdigit()) or name == REFUSED:
                fd = open_owned(name, os.O_RDONLY, self.dir_fd, os.geteuid(), stat.S_ISREG, name)
                with os.fdopen(fd, encoding="utf-8") as f:
                    if name == REFUSED:
                        refused = json.load(f)
                    else:
                        found[prefix][rest[:-5]] = json.load(f)
        data, cut = bounded_seen({"charger": self.identity, "last_seen": last_seen, "info": self.info,
                                  "statuses": found["status"], "meters": found["meter"], "refused": refused},
                                 max_bytes)
        seen = _open_seen(self.run_dir, os.geteuid())
        try:
            atomic.write_json(f"{self.identity}.json", data, mode=FILE_MODE, dir_fd=seen)
            removed = prune_seen(seen, time.time(), max_files)
        finally:
            os.close(seen)
        return ([f"{self.run_dir}/{SEEN}/{self.identity}.json: {cut}"] if cut else []) + \
            ([f"removed {len(removed)} files of chargers not seen for {SEEN_DAYS} days or beyond "
              f"SHOCPP_SEEN_MAX_FILES ({max_files}) from {self.run_dir}/{SEEN}"] if removed else [])

    def remove(self):
        import shutil  # here, not at the top: shocpp-command imports this module and never needs it
        shutil.rmtree(self.path, ignore_errors=True)
        if self.dir_fd is not None:
            os.close(self.dir_fd)
            self.dir_fd = None


def _open_seen(run_dir, owner):
    """<run>/seen, open, made if missing: a directory of `owner` that is no link."""
    run_fd = open_dir(os.fspath(run_dir))
    try:
        try:
            os.mkdir(SEEN, DIR_MODE, dir_fd=run_fd)
            if os.geteuid() != owner:
                os.chown(SEEN, owner, -1, dir_fd=run_fd, follow_symlinks=False)
        except FileExistsError:
            pass
        return open_owned(SEEN, os.O_RDONLY | os.O_DIRECTORY, run_fd, owner, stat.S_ISDIR, f"{run_dir}/{SEEN}")
    finally:
        os.close(run_fd)


def leave_seen(run_dir, identity, data):
    """Write `<run>/seen/<identity>.json` as the service's user would (shocpp-status --forget, run by
    that user or root): only a file of the service's user is read back."""
    owner = service_uid(run_dir)
    seen = _open_seen(run_dir, owner)
    try:
        atomic.write_json(f"{identity}.json", data, mode=FILE_MODE, dir_fd=seen)
        if os.geteuid() != owner:
            os.chown(f"{identity}.json", owner, os.fstat(seen).st_gid, dir_fd=seen, follow_symlinks=False)
    finally:
        os.close(seen)


def bounded_seen(data, max_bytes):
    """(the seen data in at most `max_bytes` of JSON, what was left out or None): the meters first,
    then the statuses, then the boot payload go, and `cut` says so."""
    if len(json.dumps(data)) <= max_bytes:
        return data, None
    for left_out in (("meters",), ("meters", "statuses"), ("meters", "statuses", "boot")):
        smaller = {**data, **{k: {} for k in left_out if k != "boot"},
                   "info": {k: v for k, v in data["info"].items() if k not in left_out}}
        smaller["cut"] = f"over SHOCPP_SEEN_MAX_BYTES ({max_bytes}): left out {', '.join(left_out)}"
        if len(json.dumps(smaller)) <= max_bytes:
            return smaller, smaller["cut"]
    cut = f"over SHOCPP_SEEN_MAX_BYTES ({max_bytes}): only the identity and when it was last seen kept"
    return {"charger": data["charger"], "last_seen": data["last_seen"], "info": {}, "statuses": {}, "meters": {},
            "cut": cut}, cut


def prune_seen(seen_fd, now, max_files=SEEN_MAX_FILES):
    """Remove from the open seen directory the files older than SEEN_DAYS and, beyond `max_files`, the
    oldest: a charger that has not come back in that time is no longer shown. The names removed."""
    found = []
    for name in os.listdir(seen_fd):
        if name.endswith(".json") and not name.startswith("."):
            try:
                found.append((os.stat(name, dir_fd=seen_fd, follow_symlinks=False).st_mtime, name))
            except FileNotFoundError:
                continue
    found.sort(reverse=True)
    old = [name for at, name in found if now - at > SEEN_DAYS * 86400]
    removed = sorted(set(old) | {name for _, name in found[max_files:]})
    for name in removed:
        try:
            os.unlink(name, dir_fd=seen_fd)
        except FileNotFoundError:
            pass
    return removed


def connections(run_dir):
    """Every charger connection under the run directory, newest first; stale ones have alive False.
    Only directories of the service's user count: not a link, nor what another user made."""
    run_dir = Path(run_dir)
    try:
        owner = service_uid(run_dir)
        entries = list(os.scandir(run_dir))
    except FileNotFoundError:
        return []
    found = []
    for entry in entries:
        identity, at, pid = entry.name.rpartition("@")
        if not at or not identity:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != owner:
                continue
            info = _read_owned_json(entry.path, INFO, owner)
        except (OSError, ValueError):
            continue  # being created or removed, or not the service's
        if not isinstance(info, dict):
            continue
        number = pid.partition(".")[0]  # <identity>@<pid>.<hex>: a name taken, another chosen
        found.append(Connection(run_dir, identity, int(number) if number.isdigit() else 0, info,
                                fifo_has_reader(Path(entry.path) / COMMANDS_FIFO, owner), Path(entry.path)))
    return sorted(found, key=lambda c: c.started_ns, reverse=True)


def _read_owned_json(directory, name, owner):
    """A JSON file of `owner` in a directory of `owner`, no link followed."""
    dir_fd = open_owned(os.fspath(directory), os.O_RDONLY | os.O_DIRECTORY, None, owner, stat.S_ISDIR,
                        os.fspath(directory))
    try:
        fd = open_owned(name, os.O_RDONLY, dir_fd, owner, stat.S_ISREG, f"{directory}/{name}")
    finally:
        os.close(dir_fd)
    with os.fdopen(fd, encoding="utf-8") as f:
        return json.load(f)


def seen_chargers(run_dir):
    """{identity: what its last backend left at disconnect}: the files of `<run>/seen/` that belong to
    the service's user (none of another member of the group), no link followed; unreadable ones skipped."""
    found = {}
    try:
        owner = service_uid(run_dir)
        entries = list(os.scandir(Path(run_dir) / SEEN))
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        if not entry.name.endswith(".json"):
            continue
        try:
            data = _read_owned_json(Path(run_dir) / SEEN, entry.name, owner)
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(data, dict) and data.get("charger") == entry.name[:-len(".json")]:
            found[data["charger"]] = data
    return found


def live_chargers(run_dir):
    """The live connection of each charger: the newest, when a reconnect left an older one."""
    newest = {}
    for conn in connections(run_dir):
        if conn.alive:
            newest.setdefault(conn.identity, conn)
    return newest


def commands_dir(run_dir):
    return Path(run_dir) / COMMANDS


def request_dir(run_dir, request_id):
    if not REQUEST_ID.fullmatch(request_id):
        raise ValueError(f"not a request id: {request_id!r}")
    return commands_dir(run_dir) / request_id


def open_request(run_dir, request_id):
    """(fd of the request's directory, its owner): run/commands/<id>, no link followed."""
    request_dir(run_dir, request_id)  # checks the id
    run_fd = open_dir(os.fspath(run_dir))
    try:
        commands = open_dir(COMMANDS, run_fd)
    finally:
        os.close(run_fd)
    try:
        fd = open_dir(request_id, commands)
    finally:
        os.close(commands)
    return fd, os.fstat(fd).st_uid


def read_request(run_dir, request_id):
    """The request a command wrote: its request.json, a file of the request directory's owner."""
    fd, owner = open_request(run_dir, request_id)
    try:
        file_fd = open_owned(REQUEST, os.O_RDONLY, fd, owner, stat.S_ISREG, f"request {request_id}")
    finally:
        os.close(fd)
    with os.fdopen(file_fd, encoding="utf-8") as f:
        return json.load(f)


def deliver(run_dir, request_id, answer):
    """Hand an answer to a waiting command; False when the command is gone. Written only into the
    request's own directory, and the wake-up only into a FIFO of the same owner (Untrusted else)."""
    try:
        fd, owner = open_request(run_dir, request_id)
    except FileNotFoundError:
        return False
    try:
        atomic.write_json(ANSWER, answer, mode=FILE_MODE, dir_fd=fd)
        wake = open_owned(WAKE, os.O_WRONLY | os.O_NONBLOCK, fd, owner, stat.S_ISFIFO, f"request {request_id}: {WAKE}")
    except Untrusted:
        os.close(fd)
        raise
    except OSError as e:
        if e.errno not in (errno.ENXIO, errno.ENOENT):
            os.close(fd)
            raise
        _remove_request(fd, run_dir, request_id)
        return False
    os.close(fd)
    try:
        os.write(wake, b"\n")
    finally:
        os.close(wake)
    return True


def _remove_request(fd, run_dir, request_id):
    """Remove a gone command's request: its files, through the open directory, then the directory."""
    try:
        for name in os.listdir(fd):
            try:
                os.unlink(name, dir_fd=fd)
            except OSError:
                pass
    finally:
        os.close(fd)
    try:
        os.rmdir(request_dir(run_dir, request_id))
    except OSError:
        pass
