"""A connection's files under the run directory: `<run>/<identity>@<pid>/`.

Each backend owns one directory and removes only that one, so a reconnecting
charger's new backend and its half-dead predecessor never touch each other's files.
"""

import json
import os
import shutil
from pathlib import Path

INFO = "info.json"


def connection_dir(run_dir, identity, pid):
    return Path(run_dir) / f"{identity}@{pid}"


def write_json(path, data):
    """Replace a small JSON file atomically: readers see the old or the new one, whole."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    os.chmod(temporary, 0o640)
    os.replace(temporary, path)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Connection:
    def __init__(self, run_dir, identity, pid):
        self.path = connection_dir(run_dir, identity, pid)
        self.info = {}

    def create(self, info):
        self.path.parent.mkdir(mode=0o770, parents=True, exist_ok=True)
        self.path.mkdir(mode=0o750)
        self.update_info(**info)

    def update_info(self, **fields):
        self.info.update(fields)
        write_json(self.path / INFO, self.info)

    def save(self, name, data):
        write_json(self.path / name, data)

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)
