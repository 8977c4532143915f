"""The benchmarks of #24 run end to end (quick sizes): every figure is there with plausible values;
how fast anything is is never asserted."""

from bench import dashboard, ledger_lock


def by_name(section):
    return {f.name: f for f in section.figures}


def test_the_dashboard_benchmark():
    figures = by_name(dashboard.run(quick=True))
    assert len(figures) == 7
    assert figures["100 stalled POSTs behind the front: processes held"].runs == [0]
    assert len(figures["a wrong password: CPU of its request"].runs) == 3
    assert all(r > 0 for f in figures.values() if "processes" not in f.name for r in f.runs)


def test_the_ledger_lock_benchmark():
    figures = by_name(ledger_lock.run(quick=True))
    assert set(figures) == {"exclusive lock held per append, 2,000 lines: before",
                            "appends a second, 2 processes together: before",
                            "exclusive lock held per append, 2,000 lines: after",
                            "appends a second, 2 processes together: after"}
    assert all(len(f.runs) == 1 and f.runs[0] > 0 for f in figures.values())
