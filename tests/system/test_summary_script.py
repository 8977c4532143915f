"""bin/shocpp-summary as a process."""

import json
import subprocess

from conftest import BIN
from ledgers import OCTOBER, OCTOBER_LEGACY, totals, write_ledger, write_legacy


# --- the bin script -------------------------------------------------------------------------

def test_help_of_the_bin_script(site):
    done = subprocess.run([str(BIN / "shocpp-summary"), "--help"], capture_output=True, text=True,
                          env=site.env, timeout=30)
    assert (done.returncode, done.stderr) == (0, "")
    assert "shocpp-summary --from 2026-01 --to 2026-06 --account company-x" in done.stdout
    assert "--format {table,text,csv,json,html}" in done.stdout
    assert "--statements DIR" in done.stdout


def test_the_bin_script_reads_the_site_ledger(site):
    write_ledger(site.accounting, "2026-10", OCTOBER)
    write_legacy(site.accounting, "2026", "10", "1790836200-1a2b.json", OCTOBER_LEGACY)
    done = subprocess.run([str(BIN / "shocpp-summary"), "2026", "10", "--format", "json"], capture_output=True,
                          text=True, env=site.env, timeout=30)
    assert (done.returncode, done.stderr) == (0, "")
    assert totals(json.loads(done.stdout)) == ([("company-x", 2, 54000), ("home", 3, 18321)], (5, 72321),
                                               (2, 7000), (7, 79321))
    table = subprocess.run([str(BIN / "shocpp-summary"), "2026", "10"], capture_output=True, env=site.env,
                           timeout=30)
    assert "company-x                              2  54.000  ████████████████████████" in table.stdout.decode()
