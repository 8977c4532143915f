"""What the benchmarks ran on."""

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone

from .common import python


def describe():
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "CPU": _cpu_model(),
        "memory": f"{_memory_gib():.1f} GiB",
        "system": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": _run([python(), "-c", "import sys; print(sys.version.split()[0])"]) or sys.version.split()[0],
        "websocketd": _websocketd(),
    }


def _websocketd():
    built = _run(["websocketd", "--version"])
    if built is None:
        return "not installed"
    package = _run(["dpkg-query", "-W", "-f=${Version}\n", "websocketd"])
    return f"{built} (Debian package {package})" if package else built


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib():
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def _run(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None
