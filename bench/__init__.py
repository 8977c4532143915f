"""The benchmark suite: `make bench` (python -m bench) runs it and writes bench/RESULTS.md."""
