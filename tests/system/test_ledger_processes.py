"""The ledger under concurrent writer processes and writers killed at any moment."""

import json
import signal
import subprocess
import sys
import textwrap


from shocpp import ledger

from ledgers import ledger_stop as record, lines


WRITER = textwrap.dedent("""
    import sys
    from shocpp import ledger
    n = int(sys.argv[2])
    for i in range(n):
        ledger.append(sys.argv[1], "2026-11", {"charger": "W" + sys.argv[3], "transaction_id": i,
                      "meter_stop_wh": i, "stop_time": None, "pad": "x" * 3000})
        print(i, flush=True)
""")


def test_concurrent_writers_never_interleave_lines(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "60", str(w)],
                              stdout=subprocess.DEVNULL) for w in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    records = lines(tmp_path / "2026-11.jsonl")
    assert sorted((r["charger"], r["transaction_id"]) for r in records) == \
        sorted((f"W{w}", i) for w in range(4) for i in range(60))


def test_a_writer_killed_at_any_moment_leaves_only_whole_lines(tmp_path):
    for attempt in range(5):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "100000", str(attempt)],
                                stdout=subprocess.PIPE)
        for _ in range(5 + attempt * 7):
            proc.stdout.readline()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    ledger.append(tmp_path, "2026-11", record())
    data = (tmp_path / "2026-11.jsonl").read_bytes()
    assert data.endswith(b"\n")
    assert all(json.loads(l) for l in data.splitlines())
