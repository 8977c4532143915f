"""A statement's HTML as a browser prints it: headless Chromium makes the PDF and a PNG, poppler reads them.

`make test` installs chromium and poppler-utils (Makefile target `chromium`). With
SHOCPP_WRITE_DOCS=1 the test also writes docs/statement.png, the README's picture of a printed page.
"""

import json
import os
import shutil
import signal
import struct
import subprocess

import pytest

import statement_ledger as L
from conftest import BIN, ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NEEDED = pytest.mark.skipif(not (CHROMIUM and shutil.which("pdftotext") and shutil.which("pdftoppm")),
                            reason="chromium or poppler-utils missing: 'make test' installs them")
A4 = (595, 842)  # points, rounded


def browser(tmp_path, page, *what):
    """Run headless Chromium on a file with a fresh profile; every process it starts is gone afterwards."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", *what, page.as_uri()]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the browser's own children (zygote, renderers, utilities)
        except ProcessLookupError:
            pass
        proc.wait()
    return proc.returncode, out.decode(errors="replace")


def statement_html(env, tmp_path, account, name):
    done = subprocess.run([str(BIN / "shocpp-summary"), "2026", "10", "--account", account, "--statement",
                           "--format", "html"], capture_output=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    page = tmp_path / name
    page.write_bytes(done.stdout)
    return page


def print_to_pdf(tmp_path, page):
    pdf = tmp_path / (page.stem + ".pdf")
    status, out = browser(tmp_path, page, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert status == 0 and pdf.stat().st_size > 0, out
    return pdf


def pdf_text(pdf, page=None):
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def pdf_pages(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True, timeout=60).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    width, _, height = fields["Page size"].split()[:3]
    return int(fields["Pages"]), (round(float(width)), round(float(height)))


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def site_env(site, tmp_path):
    return {**site.env, **L.write_site(tmp_path)}


def long_month(env, count=150):
    """company-x charges `count` more times in October: a statement of several printed pages."""
    lines, meter = [], 3000000
    for n in range(count):
        day, hour = 1 + n * 29 // count, 6 + n % 4 * 3
        wh = 4000 + n * 97
        lines.append(L.stop("carport-right" if n % 2 else "garage-right", 20003000 + n, "company-x", 2, "3333",
                            meter, meter + wh, f"2026-10-{day:02d}T{hour:02d}:00:00Z",
                            f"2026-10-{day:02d}T{hour + 2:02d}:00:00Z"))
        meter += wh
    with open(os.path.join(env["SHOCPP_ACCOUNTINGDIR"], "2026-10.jsonl"), "a") as f:
        f.write("".join(json.dumps(line) + "\n" for line in lines))


@NEEDED
def test_a_long_month_prints_on_a4_with_headings_on_every_page_and_the_totals_at_the_end(site_env, tmp_path):
    long_month(site_env)
    doc = json.loads(subprocess.run([str(BIN / "shocpp-summary"), "2026", "10", "--account", "company-x",
                                     "--statement", "--format", "json"], capture_output=True, env=site_env,
                                    check=True, timeout=60).stdout)
    assert doc["total_sessions"] == 152
    pdf = print_to_pdf(tmp_path, statement_html(site_env, tmp_path, "company-x", "company-x.html"))
    pages, size = pdf_pages(pdf)
    assert size == A4 and pages >= 3
    rows = 0
    for number in range(1, pages + 1):
        text = pdf_text(pdf, number)
        assert f"page {number} of {pages}" in text
        if "2026-10-" in text:  # a page with rows of sessions has the column headings on top
            rows += 1
            head = text.index("meter start")
            assert "price/kWh" in text[head:head + 400] and head < text.index("2026-10-"), number
    assert rows >= 3
    last = " ".join(pdf_text(pdf, pages).split())
    energy = summary_kwh(doc["total_energy_wh"])
    assert f"Totals Sessions 152 Energy {energy} kWh Cost EUR {doc['total_cost']}" in last
    assert "Totals" not in pdf_text(pdf, 1)
    everything = pdf_text(pdf)
    assert everything.count("0.2950") == 152 + 1  # the rows' prices: none lost or printed twice
    assert "=HYPERLINK(" in everything  # the markup escaped, the text shown as sent


def summary_kwh(wh):
    from shocpp.tools.summary import kwh_text
    return kwh_text(wh)


@NEEDED
def test_a_month_on_one_page_and_its_picture(site_env, tmp_path):
    page = statement_html(site_env, tmp_path, "home", "home.html")
    pdf = print_to_pdf(tmp_path, page)
    assert pdf_pages(pdf) == (1, A4)
    text = " ".join(pdf_text(pdf).split())
    assert "Charging statement: home, October 2026" in text
    assert "Totals Sessions 6 Energy 17.071 kWh Cost EUR 5.96" in text
    assert "To review: waiting for the operator's decision, not in the totals" in text
    # Chromium's screenshot of the page as a screen shows it
    png = tmp_path / "home.png"
    status, out = browser(tmp_path, page, "--hide-scrollbars", "--window-size=900,1200", f"--screenshot={png}")
    assert status == 0, out
    assert png_size(png) == (900, 1200)
    # the printed page as a picture: the PDF's first page, small enough for the README
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-singlefile", str(pdf), str(tmp_path / "printed")],
                   check=True, timeout=60)
    printed = tmp_path / "printed.png"
    assert png_size(printed) == A4
    if os.environ.get("SHOCPP_WRITE_DOCS") == "1":
        subprocess.run(["pdftoppm", "-png", "-r", "96", "-singlefile", str(pdf), str(ROOT / "docs" / "statement")],
                       check=True, timeout=60)
