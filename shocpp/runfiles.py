"""The run directory: what connected chargers and waiting commands share.

`<run>/<identity>@<pid>/` belongs to one backend: `info.json`, `status-<c>.json`,
`meter-<c>.json` and the FIFO `commands` it reads. Each backend removes only its
own, so a reconnecting charger's new backend and its half-dead predecessor never
touch each other's files. `<run>/commands/<id>/` belongs to one shocpp-command call:
its `request.json`, the `answer.json` the backend writes, and the FIFO `wake`.
"""

import errno
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import atomic

INFO = "info.json"
COMMANDS_FIFO = "commands"
REQUEST, ANSWER, WAKE = "request.json", "answer.json", "wake"
REQUEST_ID = re.compile(r"[0-9a-f]{32}")
DIR_MODE, FILE_MODE, FIFO_MODE = 0o750, 0o640, 0o660  # commands come from the service's user and group


def write_json(path, data):
    """Replace a run file atomically, readable by the service's group (no fsync: a restart makes them anew)."""
    atomic.write_json(path, data, mode=FILE_MODE)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def make_fifo(path):
    os.mkfifo(path)
    os.chmod(path, FIFO_MODE)  # whatever the umask


def ensure_dir(path, mode=0o770):
    """Create a shared directory with exactly `mode` (not the umask's idea of it)."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)


def fifo_has_reader(path):
    """True if a process has the FIFO open for reading; False for a stale one or none."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno in (errno.ENXIO, errno.ENOENT):
            return False
        raise
    os.close(fd)
    return True


@dataclass(eq=False)
class Connection:
    """The directory of one backend, `<run>/<identity>@<pid>`.

    Its backend makes it at connect and removes it at disconnect (create, update_info, save,
    remove); shocpp-command and shocpp-status find it with connections().
    """

    run_dir: Path
    identity: str
    pid: int
    info: dict = field(default_factory=dict)
    alive: bool = True  # as found: a backend reads its FIFO; False: stale, its backend was killed
    path: Optional[Path] = None

    def __post_init__(self):
        self.run_dir = Path(self.run_dir)
        if self.path is None:
            self.path = self.run_dir / f"{self.identity}@{self.pid}"

    @property
    def fifo(self):
        return self.path / COMMANDS_FIFO

    @property
    def started_ns(self):
        return self.info.get("started_ns", 0)

    def create(self, info):
        ensure_dir(self.run_dir)
        self.path.mkdir()
        os.chmod(self.path, DIR_MODE)
        make_fifo(self.fifo)
        self.update_info(started_ns=time.time_ns(), **info)

    def update_info(self, **fields):
        self.info.update(fields)
        write_json(self.path / INFO, self.info)

    def save(self, name, data):
        write_json(self.path / name, data)

    def remove(self):
        import shutil  # here, not at the top: shocpp-command imports this module and never needs it
        shutil.rmtree(self.path, ignore_errors=True)


def connections(run_dir):
    """Every charger connection under the run directory, newest first; stale ones have alive False."""
    found = []
    for path in Path(run_dir).glob("*@*"):
        identity, _, pid = path.name.rpartition("@")
        try:
            info = read_json(path / INFO)
        except (OSError, ValueError):
            continue  # being created or removed
        if not isinstance(info, dict):
            continue
        found.append(Connection(run_dir, identity, int(pid) if pid.isdigit() else 0, info,
                                fifo_has_reader(path / COMMANDS_FIFO), path))
    return sorted(found, key=lambda c: c.started_ns, reverse=True)


def live_chargers(run_dir):
    """The live connection of each charger: the newest, when a reconnect left an older one."""
    newest = {}
    for conn in connections(run_dir):
        if conn.alive:
            newest.setdefault(conn.identity, conn)
    return newest


def commands_dir(run_dir):
    return Path(run_dir) / "commands"


def request_dir(run_dir, request_id):
    if not REQUEST_ID.fullmatch(request_id):
        raise ValueError(f"not a request id: {request_id!r}")
    return commands_dir(run_dir) / request_id


def deliver(run_dir, request_id, answer):
    """Hand an answer to a waiting command; False when the command is gone."""
    where = request_dir(run_dir, request_id)
    try:
        write_json(where / ANSWER, answer)
        fd = os.open(where / WAKE, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno not in (errno.ENXIO, errno.ENOENT):
            raise
        import shutil
        shutil.rmtree(where, ignore_errors=True)
        return False
    try:
        os.write(fd, b"\n")
    finally:
        os.close(fd)
    return True
