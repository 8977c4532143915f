"""The benchmark suite runs (tiny sizes) and reports what it measured; nothing here is about speed."""

import re
import subprocess
import sys

from bench import frames, report
from bench.common import Figure, Section, figure, percentile
from shocpp.protocol import schemas, transaction_id

from conftest import ROOT


def test_the_load_is_valid_ocpp_and_bills_distinct_sessions():
    calls = frames.mix(1 + 12 * 32)  # BootNotification and 12 whole sessions
    assert calls[0][0] == "BootNotification"
    for action, payload in calls:
        assert schemas.check(action, "req", payload) == [], (action, payload)
    stops = [p for a, p in calls if a == "StopTransaction"]
    starts = [p for a, p in calls if a == "StartTransaction"]
    assert len(stops) == 12 and len(starts) == 12
    ids = [s["transactionId"] for s in stops]
    assert len(set(ids)) == len(ids)
    assert ids == [transaction_id.encode(1, s["meterStart"]) for s in starts]
    assert [s["transactionData"][0]["sampledValue"][0]["value"] for s in stops] == \
        [str(s["meterStart"]) for s in starts]
    assert [s["meterStop"] - st["meterStart"] for s, st in zip(stops, starts)] == [10_000] * 12


def test_only_gives_that_action():
    assert [a for a, _ in frames.only("StopTransaction", 5)] == ["StopTransaction"] * 5
    assert len({p["transactionId"] for _, p in frames.only("StopTransaction", 5)}) == 5


def test_figures_and_targets():
    fig = figure("x", [3, 1, 2], "ms", at_most=2)
    assert (fig.median, fig.target, fig.met) == (2, "≤ 2", True)
    assert figure("y", [1, 2, 4], "frames/s", at_least=5000).met is False
    assert percentile([5, 1, 4, 2, 3], 50) == 3 and percentile(list(range(1, 101)), 99) == 99


def test_report_lists_missed_targets_and_the_machine():
    section = Section("Throughput", "How.", [figure("mix", [1000, 1200, 900], "frames/s", at_least=5000),
                                             Figure("floor", [2.5], "")], ["a note"])
    text = report.render({"date": "today", "cores": 2}, [section], "make bench", "## Findings\n\nby hand\n")
    assert "- cores: 2" in text
    assert "| Throughput: mix | 1,000 frames/s | ≥ 5,000 frames/s | **missed** |" in text
    assert "| mix | 1,000 frames/s | 900 – 1,200 | 3 | ≥ 5,000 (**missed**) |" in text
    assert "| floor | 2.50  | 2.50 – 2.50 | 1 |  |" in text
    assert text.endswith("a note\n\n## Findings\n\nby hand\n")


def test_throughput_and_cold_start_run_and_write_their_results(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "throughput", "coldstart",
                           "--output", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    for name in ["realistic mix, one backend", "StopTransaction only", "first reply to a BootNotification",
                 "python -c pass (the floor)"]:
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        median = float(row.split("|")[2].split()[0].replace(",", ""))
        assert median > 0, row
    assert "- websocketd: " in text and "- cores: " in text
    assert "| function | calls | own ms | cumulative ms |" in text  # the profile of where the time goes
    assert re.search(r"^\| `\w+\.py:\d+ \w+` \| [\d,]+ \| \d+ \| \d+ \|$", text, re.M)
    assert re.search(r"^\s+[\d.]+ ms  shocpp\.protocol\.\w+$", text, re.M)  # the slowest imports
