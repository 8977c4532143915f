"""python -m bench: run the benchmarks and write bench/RESULTS.md."""

import argparse
import importlib
import sys
import time
from pathlib import Path

from . import machine, report

BENCHMARKS = ("throughput", "coldstart", "memory", "fleet", "command_rt", "summary_cost", "sessions", "dashboard",
              "dashboard_live", "ledger_lock", "v201")
HERE = Path(__file__).resolve().parent
FINDINGS = HERE / "FINDINGS.md"  # written by hand from the profiles; appended to the results


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run shocpp's benchmarks and write the results as Markdown.",
        epilog="Benchmarks measure; they assert nothing. 'make bench' runs them all with the defaults.")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, metavar="NAME",
                        help=f"run only these: {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and few repeats: checks that every benchmark runs, measures nothing")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="default bench/RESULTS.md")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sections = []
    for name in args.only or BENCHMARKS:
        started = time.monotonic()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        sections.append(module.run(quick=args.quick))
        print(f"bench: {name} done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    command = "make bench" if not (args.quick or args.only) else "python -m bench" + \
        (" --quick" if args.quick else "") + (f" --only {' '.join(args.only)}" if args.only else "")
    findings = FINDINGS.read_text() if FINDINGS.exists() and not args.quick else ""
    args.output.write_text(report.render(machine.describe(), sections, command, findings))
    print(f"bench: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
