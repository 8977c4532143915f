"""The README's examples run as written and never touch the real accounting/ or run/ (#24 item 7):
"By hand" (the backend over stdin) and the `ocpp` charger against a listener, each after the
README's `export` of a scratch directory."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, free_port, readme_block, servers

EXPORT = readme_block("### Trying it without a charger", "sh")


def real_files():
    """What is in the real accounting/ and run/ of this tree, with each file's size and time."""
    return {(str(p), p.stat().st_size, p.stat().st_mtime_ns) for top in ("accounting", "run")
            for p in (ROOT / top).rglob("*") if p.is_file()}


def scratch_env(tmp_path):
    """The environment after the README's export, with TMPDIR in the test's directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOCPP_", "WS_"))}
    env.update(TMPDIR=str(tmp_path), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    done = subprocess.run(["bash", "-ec", EXPORT + "\nenv -0"], env=env, capture_output=True, check=True, cwd=ROOT)
    return dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)


def stop_line(accounting):
    (stop,) = [json.loads(line) for line in (accounting / "2026-11.jsonl").read_text().splitlines()
               if json.loads(line).get("event") == "stop"]
    return stop


def test_by_hand_writes_into_the_scratch_directory(tmp_path):
    before = real_files()
    done = subprocess.run(["bash", "-ec", EXPORT + "\n" + readme_block("#### By hand", "sh")],
                          env=scratch_env(tmp_path), capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    stop = stop_line(tmp_path / "shocpp-try" / "accounting")
    assert (stop["charger"], stop["account"], stop["energy_wh"]) == ("default", "home", 5321)
    assert json.loads(done.stdout.splitlines()[-1]) == stop  # what the README's `cat` shows
    assert (tmp_path / "shocpp-try" / "run" / "seen" / "default.json").exists()
    assert real_files() == before


def test_the_ocpp_charger_example_writes_into_the_scratch_directory(tmp_path):
    before = real_files()
    env = scratch_env(tmp_path)
    port = free_port()
    example = readme_block("#### By hand", "python").replace("ws://localhost:8080", f"ws://127.0.0.1:{port}")
    with servers(type("Site", (), {"root": tmp_path})) as serve:
        serve("shocpp-listener", {**env, "WS_ADDRESS": "127.0.0.1", "WS_PORT": str(port)}, port)
        done = subprocess.run([sys.executable, "-c", example], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    stop = stop_line(tmp_path / "shocpp-try" / "accounting")
    assert (stop["charger"], stop["account"], stop["energy_wh"]) == ("garage-left", "home", 5321)
    assert real_files() == before
