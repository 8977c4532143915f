"""The balancer's control interface: the operator's settings per charger and the balancer's last round.

Any tool (shocpp-balance --mode/--max, the dashboard, the MQTT bridge) sets a charger's mode or its
maximum here instead of sending a charging profile around the balancer; the running balancer applies
them at its next round, and they are kept across restarts.

    MODES = ("off", "fast", "minpv", "pv")
    set_mode(run_dir, charger, mode)   None; ValueError for an unknown mode (or a bad charger name)
    set_max(run_dir, charger, max_a)   None; max_a in A (int, 0..MAX_A) or None: site.json's max_a again;
                                       ValueError when out of range
    controls(run_dir)                  {charger: {"mode": str|None, "max_a": int|None}} (None: site.json's)
    status(run_dir)                    the balancer's last round, a dict, or None before the first:
        {"updated_at": ISO 8601 text, "pid": int, "interval_s": int, "grid_limit_a": int,
         "grid_power_w": float|None, "surplus_w": float|None,
         "chargers": {id: {"mode": str, "max_a": int, "connectors": {"<n>": {"limit_a": int|None,
             "phases": int, "draw_a": float|None, "honouring": bool, "reason": text}}}}}
    running(run_dir, now)              True when a balancer wrote its status within ~3 intervals and its
                                       pid lives (now: a datetime or seconds since the epoch)
    sent_around(run_dir, charger, now) None: a tool sent the charger a charging profile around the balancer
                                       (shocpp-command does): its limit is sent again at the next round
    around(run_dir)                    {charger: when (seconds since the epoch)} of those

Modes: off pauses the charger (a 0 A limit, counted at 0 A); fast gives it as much as the site allows;
minpv its minimum plus the solar surplus; pv the surplus only.

Files: <run>/balance/ (the service user's, mode 0750: readable by the service's group) holds
controls.json (these settings), around.json (profiles sent around it), status.json (the last round;
"max_a" there is the maximum in force: site.json's, or the operator's when lower; "surplus_w" the export)
and state.json (the balancer's own hints between runs). Only the service's user and root change them
(root makes no run directory: it would be root's). Each file is replaced atomically; nothing there is opened through a symbolic
link, and a `balance` that is a link or another user's is moved aside, never used. A file counts only
when it belongs to the service's user (the run directory's owner) or root; what root writes is handed
to the service's user and group.
"""

import errno
import fcntl
import json
import os
import stat
from datetime import datetime, timezone

from . import atomic, runfiles

MODES = ("off", "fast", "minpv", "pv")
MAX_A = 1000            # as site.json's currents
DIR = "balance"
DIR_MODE = 0o750
FILE_MODE = 0o640
CONTROLS, STATUS, STATE, AROUND = "controls.json", "status.json", "state.json", "around.json"
STALE_INTERVALS = 3     # a status older than this many intervals: the balancer is not running
MAX_NAME = 255


def set_mode(run_dir, charger, mode):
    """Set a charger's mode (one of MODES); None goes back to site.json's."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
    _update(run_dir, charger, "mode", mode)


def set_max(run_dir, charger, max_a):
    """Set a charger's maximum in whole A; None goes back to site.json's max_a."""
    if max_a is not None and (type(max_a) is not int or not 0 <= max_a <= MAX_A):
        raise ValueError(f"maximum {max_a!r}: a whole number of A from 0 to {MAX_A}, or none (site.json's)")
    _update(run_dir, charger, "max_a", max_a)


def controls(run_dir):
    """{charger: {"mode": str|None, "max_a": int|None}}: what the operator set (bad entries skipped)."""
    data = read(run_dir, CONTROLS)
    found = {}
    for charger, entry in (data if isinstance(data, dict) else {}).items():
        if not isinstance(entry, dict) or not _good_name(charger):
            continue
        mode = entry.get("mode") if entry.get("mode") in MODES else None
        max_a = entry.get("max_a")
        max_a = max_a if type(max_a) is int and 0 <= max_a <= MAX_A else None
        if mode is not None or max_a is not None:
            found[charger] = {"mode": mode, "max_a": max_a}
    return found


def status(run_dir):
    """The balancer's last round as it wrote it, or None."""
    data = read(run_dir, STATUS)
    return data if isinstance(data, dict) and isinstance(data.get("chargers"), dict) else None


def running(run_dir, now, last=None):
    """True when a balancer wrote its status within STALE_INTERVALS intervals and its process lives."""
    last = status(run_dir) if last is None else last
    if not last:
        return False
    try:
        written = datetime.fromisoformat(str(last["updated_at"]).replace("Z", "+00:00"))
        interval = float(last.get("interval_s") or 30)
        pid = last["pid"]
    except (KeyError, TypeError, ValueError):
        return False
    if written.tzinfo is None:
        written = written.replace(tzinfo=timezone.utc)
    seconds = now.timestamp() if isinstance(now, datetime) else float(now)
    if type(pid) is not int or pid <= 0 or not -interval <= seconds - written.timestamp() <= STALE_INTERVALS * interval:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def sent_around(run_dir, charger, now):
    """Note that a charging profile went to `charger` around the balancer, at `now` (epoch seconds)."""
    _update(run_dir, charger, "at", float(now), AROUND)


def around(run_dir):
    """{charger: when a profile was last sent to it around the balancer}."""
    data = read(run_dir, AROUND)
    return {c: e["at"] for c, e in (data if isinstance(data, dict) else {}).items()
            if _good_name(c) and isinstance(e, dict) and isinstance(e.get("at"), (int, float))}


# -- the files -------------------------------------------------------------------------------------

def read(run_dir, name):
    """A JSON file of <run>/balance/ (None when missing, unreadable, a link or a stranger's)."""
    try:
        fd = open_dir(run_dir, create=False)
    except (OSError, ValueError):
        return None
    try:
        return _read_fd(fd, name, _trusted(run_dir))
    finally:
        os.close(fd)


def write(run_dir, name, data):
    """Replace a file of <run>/balance/ atomically (made as the service's, whoever writes)."""
    fd = open_dir(run_dir)
    try:
        _write_fd(run_dir, fd, name, data)
    finally:
        os.close(fd)


def open_dir(run_dir, create=True):
    """<run>/balance, open: the service user's directory, no link. One that is a link or another
    user's is moved aside (and a new one made when `create`); FileNotFoundError when there is none."""
    if create and not os.path.isdir(run_dir):
        if os.geteuid() == 0:  # root would make it root's, and the service could not use it
            raise FileNotFoundError(errno.ENOENT, f"{run_dir}: no run directory yet (the service makes it)")
        runfiles.ensure_dir(run_dir)
    run_fd = runfiles.open_dir(os.fspath(run_dir))
    try:
        owner = os.fstat(run_fd).st_uid
        if create and os.geteuid() not in (0, owner):
            raise PermissionError(errno.EPERM, f"{run_dir}/{DIR}: only the service's user or root may change it")
        for _ in range(3):
            try:
                found = os.stat(DIR, dir_fd=run_fd, follow_symlinks=False)
            except FileNotFoundError:
                found = None
            if found is not None and not (stat.S_ISDIR(found.st_mode) and found.st_uid == owner):
                os.rename(DIR, f"{DIR}.foreign-{os.urandom(4).hex()}", src_dir_fd=run_fd, dst_dir_fd=run_fd)
                found = None
            if found is None:
                if not create:
                    raise FileNotFoundError(errno.ENOENT, f"{run_dir}/{DIR}: none yet")
                try:
                    os.mkdir(DIR, 0o700, dir_fd=run_fd)
                except FileExistsError:
                    continue
                fd = runfiles.open_dir(DIR, run_fd)
                if os.geteuid() != owner:
                    os.fchown(fd, owner, os.fstat(run_fd).st_gid)
                os.fchmod(fd, DIR_MODE)
                return fd
            fd = runfiles.open_dir(DIR, run_fd)
            if os.fstat(fd).st_uid == owner:
                return fd
            os.close(fd)
        raise runfiles.Untrusted(errno.EPERM, f"{run_dir}/{DIR} keeps changing: refused")
    finally:
        os.close(run_fd)


def _trusted(run_dir):
    return {runfiles.service_uid(run_dir), 0}


def _read_fd(dir_fd, name, owners):
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid not in owners or st.st_size > 10_000_000:
            return None
        try:
            return json.load(f)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None


def _write_fd(run_dir, dir_fd, name, data):
    atomic.write_json(name, data, mode=FILE_MODE, dir_fd=dir_fd)
    st = os.fstat(dir_fd)
    if os.geteuid() != st.st_uid:  # root writing for the service
        try:
            os.chown(name, st.st_uid, st.st_gid, dir_fd=dir_fd, follow_symlinks=False)
        except PermissionError:
            pass


def _good_name(charger):
    return isinstance(charger, str) and 0 < len(charger) <= MAX_NAME and charger.isprintable() \
        and "/" not in charger


def _update(run_dir, charger, field, value, name=CONTROLS):
    if not _good_name(charger):
        raise ValueError(f"not a charger's identity: {charger!r}")
    fd = open_dir(run_dir)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two settings at once: neither is lost
        data = _read_fd(fd, name, _trusted(run_dir))
        data = data if isinstance(data, dict) else {}
        entry = data.get(charger) if isinstance(data.get(charger), dict) else {}
        entry = {**entry, field: value}
        if all(v is None for v in entry.values()):
            data.pop(charger, None)
        else:
            data[charger] = entry
        _write_fd(run_dir, fd, name, data)
    finally:
        os.close(fd)  # and the lock with it
