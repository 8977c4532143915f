"""The statement of one account: its sessions with their energy and cost, ready to hand to whoever pays.

build() makes the model from the sessions ledger_sessions.read_sessions() read; render_text, render_csv,
render_json and render_html turn it into text. All of it is free of I/O: shocpp-summary's main()
reads the ledger, tags.json and tariffs.json and writes what these return. Money is Decimal,
energy integer Wh; a session's cost is rounded to the cent and a total is the sum of those costs.
"""

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Optional

from ..protocol import months
from ..protocol.tags import UNKNOWN_ACCOUNT
from ..protocol.tariffs import cost as cost_of
from . import inert as _inert
from .ledger_sessions import LEGACY, duration, kwh_text, local_time, moment, order, period
from .ledger_sessions import cell as _cell
from .ledger_sessions import count as _count
from .ledger_sessions import layout as _layout

FORMATS = ("text", "csv", "json", "html")
# One column a meaning (issue 19): the duration as hours:minutes, the energy as exact kWh.
CSV_FIELDS = ("section", "start", "stop", "duration", "charger", "connector", "tag", "meter_start_kwh",
              "meter_stop_kwh", "kwh", "price_per_kwh", "currency", "cost", "note")
SECTION_SESSION, SECTION_REVIEW, SECTION_TOTAL = "session", "to review", "total"
HEADER = ("start", "stop", "duration", "charger", "connector", "tag", "meter start", "meter stop", "kWh",
          "price/kWh", "cost", "note")
ALIGNS = "<<><><>>>>><"
REVIEW_TITLE = "To review: waiting for the operator's decision, not in the totals"


@dataclass(frozen=True)
class Line:
    """A session on the statement, with the price valid on its day and its cost (None: unknown)."""
    session: object
    start: Optional[str]      # ISO 8601 in the site's zone, None when unknown
    stop: Optional[str]
    day: Optional[date]       # the local day that chose the price
    price: object = None      # tariffs.Price or None
    cost: Optional[Decimal] = None

    @property
    def price_text(self):
        return None if self.price is None else self.price.text


@dataclass
class Statement:
    site: str
    account: str
    first: tuple
    last: tuple
    tags: tuple
    priced: bool              # a tariffs file was given
    currency: Optional[str]
    lines: list               # the sessions billed, by start
    review: list              # waiting for the operator's decision: listed, not in the totals
    skipped: int = 0          # ledger lines that could not be read

    @property
    def period(self):
        return period(self.first, self.last)

    @property
    def total_energy_wh(self):
        return sum(line.session.energy_wh or 0 for line in self.lines)

    @property
    def total_cost(self):
        """The sum of the sessions' costs, each already to the cent; None without tariffs."""
        if not self.priced:
            return None
        return sum((line.cost for line in self.lines if line.cost is not None), Decimal("0.00"))

    @property
    def unknown_energy(self):
        return sum(1 for line in self.lines if line.session.energy_wh is None)

    @property
    def without_price(self):
        """Sessions with known energy but no price valid on their day (not in the total cost)."""
        if not self.priced:
            return 0
        return sum(1 for line in self.lines if line.session.energy_wh is not None and line.price is None)


# --- the model ------------------------------------------------------------------------------

def build(sessions, account, first, last, site, tags=(), tariffs=None, skipped=0):
    """The Statement of `account` from the sessions read for the months first..last."""
    mine = sorted((s for s in sessions if s.account == account), key=order)
    lines = [_line(s, tariffs) for s in mine]
    return Statement(site, account, first, last, tuple(tags), tariffs is not None,
                     tariffs.currency(account) if tariffs is not None else None,
                     [line for line in lines if line.session.counted],
                     [line for line in lines if line.session.waiting], skipped)


def _line(session, tariffs):
    legacy = session.source == LEGACY
    day = price_day(session)
    price = tariffs.price(session.account, day) if tariffs is not None and day is not None else None
    cost = None if price is None or session.energy_wh is None else cost_of(session.energy_wh, price.per_kwh)
    return Line(session, iso_local(session.start_time), iso_local(session.stop_time, legacy), day, price, cost)


def price_day(session):
    """The local day whose price applies: of the start, else of the stop, else the last of the ledger month."""
    seconds = moment(session.start_time)
    if seconds is None:
        seconds = moment(session.stop_time, session.source == LEGACY)
    if seconds is not None:
        try:
            return date.fromtimestamp(seconds)
        except (OverflowError, OSError, ValueError):
            pass
    month = months.parse(session.month) if session.month else None
    if month is None:
        return None
    year, number = months.shift(month, 1)
    return date(year, number, 1) - timedelta(days=1) if year <= 9999 else date(9999, 12, 31)


def iso_local(text, local=False):
    """A recorded time as ISO 8601 in the site's zone with its offset, '2026-10-01T14:00:00+02:00'; None."""
    seconds = moment(text, local)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None


# --- text -----------------------------------------------------------------------------------

def money(amount, currency):
    if amount is None:
        return "-"
    return f"{currency} {amount}" if currency else str(amount)


def _energy(wh):
    return "?" if wh is None else kwh_text(wh)


def _note(line):
    s = line.session
    parts = [LEGACY] if s.source == LEGACY else []
    if s.energy_wh is None:
        parts.append("energy unknown")
    if line.start is None and line.stop is None:
        parts.append("time unknown")
    parts += list(s.flags)
    if s.review_reason is not None and s.review_reason not in s.flags:
        parts.append(s.review_reason)
    return ", ".join(parts)


def _rows(lines):
    """The cells of each line for text and HTML, unescaped; charger data as recorded."""
    for line in lines:
        s = line.session
        yield (local_time(s.start_time), local_time(s.stop_time, s.source == LEGACY), duration(s.duration_s),
               s.charger or "-", "-" if s.connector_id is None else str(s.connector_id), s.id_tag or "-",
               s.meter_start or "-", s.meter_stop or "-", _energy(s.energy_wh), line.price_text or "-",
               "-" if line.cost is None else str(line.cost), _note(line))


def header_fields(st):
    tags = ", ".join(st.tags) if st.tags else (
        "none: energy charged with tags that belong to no account" if st.account == UNKNOWN_ACCOUNT
        else "none in tags.json")
    if not st.priced:
        prices = "none (no tariffs file: no price and cost)"
    elif st.currency is None:
        prices = "none valid for this account in tariffs.json"
    else:
        prices = f"{st.currency} per kWh (tariffs.json), the price valid on the local day a session started"
    return [("Site", st.site), ("Account", st.account), ("Period", st.period), ("Tags", tags), ("Prices", prices)]


def totals_fields(st):
    return [("Sessions", str(len(st.lines))), ("Energy", f"{kwh_text(st.total_energy_wh)} kWh"),
            ("Cost", money(st.total_cost, st.currency) if st.priced else "- (no prices)")]


def notes(st):
    found = []
    if st.unknown_energy:
        found.append(f"{_count(st.unknown_energy, 'session')} had unknown energy: shown as '?', counted as "
                     "0 kWh, no cost.")
    if st.without_price:
        found.append(f"{_count(st.without_price, 'session')} had no price valid on its day in tariffs.json: "
                     "no cost, not in the total cost.")
    if st.review:
        found.append(f"{_count(len(st.review), 'session')} waiting for review "
                     f"({kwh_text(sum(l.session.energy_wh or 0 for l in st.review))} kWh) "
                     f"{'is' if len(st.review) == 1 else 'are'} listed under To review and not in the totals.")
    if st.skipped:
        found.append(f"{_count(st.skipped, 'ledger line')} of the period could not be read and "
                     f"{'was' if st.skipped == 1 else 'were'} skipped: this statement may be incomplete.")
    return found


def render_text(st):
    out = [f"Charging statement: {_cell(st.account)}, {st.period}", ""]
    out += _pairs((name, _cell(value)) for name, value in header_fields(st))
    out += ["", "Sessions", ""]
    out += _table(st.lines) if st.lines else ["No sessions."]
    if st.review:
        out += ["", REVIEW_TITLE, ""] + _table(st.review)
    out += ["", "Totals", ""] + _pairs(totals_fields(st))
    found = notes(st)
    return "\n".join(out + ([""] + found if found else [])) + "\n"


def _pairs(pairs):
    pairs = list(pairs)
    width = max([len("Sessions")] + [len(name) for name, _ in pairs])  # header and totals aligned alike
    return [f"{name:<{width}}  {value}" for name, value in pairs]


def _table(lines):
    rows = [HEADER, None] + [tuple(_cell(c) for c in row) for row in _rows(lines)]
    return _layout(rows, ALIGNS)


# --- CSV ------------------------------------------------------------------------------------

def render_csv(st):
    """RFC 4180 (CRLF, a header row): a row a session, the ones to review, and the total row last."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for section, lines in ((SECTION_SESSION, st.lines), (SECTION_REVIEW, st.review)):
        for line in lines:
            s = line.session
            writer.writerow(["" if v is None else v for v in (
                section, line.start or _inert(s.start_time), line.stop or _inert(s.stop_time), _hm(s.duration_s),
                _inert(s.charger), s.connector_id, _inert(s.id_tag), s.meter_start, s.meter_stop,
                kwh_text(s.energy_wh), line.price_text, line.price and line.price.currency,
                line.cost, _inert(_note(line)))])
    total = st.total_cost
    writer.writerow(["" if v is None else v for v in (
        SECTION_TOTAL, None, None, None, None, None, None, None, None, kwh_text(st.total_energy_wh),
        None, st.currency, total, _count(len(st.lines), "session"))])
    return out.getvalue()


def _hm(seconds):
    return None if seconds is None else duration(seconds)


# --- JSON -----------------------------------------------------------------------------------

def to_dict(st):
    total = st.total_cost
    return {
        "site": st.site, "account": st.account, "tags": list(st.tags),
        "from": months.label(st.first), "to": months.label(st.last), "currency": st.currency,
        "sessions": [_line_dict(line) for line in st.lines],
        "to_review": [_line_dict(line) for line in st.review],
        "total_sessions": len(st.lines),
        "total_energy_wh": st.total_energy_wh, "total_kwh": kwh_text(st.total_energy_wh),
        "total_cost": None if total is None else str(total),
        "sessions_unknown_energy": st.unknown_energy, "sessions_without_price": st.without_price,
        "skipped_lines": st.skipped,
    }


def _line_dict(line):
    s = line.session
    return {
        "start_time": line.start, "stop_time": line.stop, "duration_s": s.duration_s, "charger": s.charger,
        "connector_id": s.connector_id, "id_tag": s.id_tag, "meter_start_wh": s.start_wh,
        "meter_stop_wh": s.stop_wh, "energy_wh": s.energy_wh, "price_per_kwh": line.price_text,
        "cost": None if line.cost is None else str(line.cost),
        # beside the shape of the issue: readings known to the whole kWh only, and what the ledger says
        "meter_start_kwh": s.meter_start, "meter_stop_kwh": s.meter_stop, "kwh": kwh_text(s.energy_wh),
        "flags": list(s.flags), "source": s.source,
        "recorded_start_time": s.start_time, "recorded_stop_time": s.stop_time,
    }


def render_json(st):
    return json.dumps(to_dict(st), indent=2, ensure_ascii=False) + "\n"


# --- HTML -----------------------------------------------------------------------------------

STYLE = """
@page { size: A4; margin: 14mm 10mm 16mm 10mm;
  @bottom-left { content: FOOT; font: 7pt sans-serif; color: #555; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font: 7pt sans-serif; color: #555; } }
* { box-sizing: border-box; }
html { color: #000; background: #fff; }
body { font: 8.5pt/1.35 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 0; }
@media screen { body { max-width: 190mm; margin: 8mm auto; } }
h1 { font-size: 15pt; margin: 0 0 3mm; }
h2 { font-size: 11pt; margin: 6mm 0 2mm; break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; }
table.fields th { text-align: left; padding: 0.4mm 6mm 0.4mm 0; font-weight: bold; vertical-align: top; }
table.fields td { padding: 0.4mm 0; }
table.sessions { width: 100%; font-size: 7pt; }
table.sessions thead { display: table-header-group; }
table.sessions th { text-align: left; border-bottom: 0.4mm solid #000; padding: 0.8mm 1mm; vertical-align: bottom; }
table.sessions td { border-bottom: 0.2mm solid #bbb; padding: 0.8mm 1mm; vertical-align: top; }
table.sessions tr { break-inside: avoid; page-break-inside: avoid; }
table.sessions .n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.sessions .w { overflow-wrap: break-word; }
table.sessions .t { min-width: 17mm; }
.totals { margin-top: 5mm; break-inside: avoid; page-break-inside: avoid; font-size: 10pt; }
.totals th { text-align: left; padding: 0.6mm 8mm 0.6mm 0; }
.totals td { text-align: right; padding: 0.6mm 0; font-weight: bold; font-variant-numeric: tabular-nums; }
p.note { margin: 1.5mm 0; }
"""
# Per column of HEADER: n numbers (right), w words that may break anywhere, t times kept whole.
KINDS = ("t", "t", "n", "w", "n", "w", "n", "n", "n", "n", "n", "w")


def _h(text):
    """Charger data for HTML: escaped, and characters that are not printable shown as their escapes."""
    return html.escape(_cell(text), quote=True)


def render_html(st):
    """One self-contained page (no script, no external asset) that prints on A4, headings on every page."""
    title = f"Charging statement: {st.account}, {st.period}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(title)} ({_h(st.site)})</title>",
        f"<style>{STYLE.replace('FOOT', _css_string(f'{st.site}: {st.account}, {st.period}'))}</style></head>",
        "<body>",
        f"<h1>{_h(title)}</h1>",
        _fields_html(header_fields(st), "fields"),
        "<h2>Sessions</h2>",
        _table_html(st.lines) if st.lines else "<p>No sessions.</p>",
    ]
    if st.review:
        parts += [f"<h2>{_h(REVIEW_TITLE)}</h2>", _table_html(st.review)]
    parts += ['<section class="totals">', "<h2>Totals</h2>", _fields_html(totals_fields(st), "fields"),
              "".join(f'<p class="note">{_h(note)}</p>' for note in notes(st)), "</section>",
              "</body>", "</html>", ""]
    return "\n".join(parts)


def _css_string(text):
    """A CSS string of any text: every character but letters, digits and a few marks as an escape."""
    return '"' + "".join(c if c.isalnum() and c.isascii() or c in " -_.,:" else f"\\{ord(c):x} "
                         for c in text) + '"'


def _fields_html(pairs, kind):
    rows = "".join(f"<tr><th>{_h(name)}</th><td>{_h(value)}</td></tr>" for name, value in pairs)
    return f'<table class="{kind}">{rows}</table>'


def _table_html(lines):
    head = "".join(f'<th class="{k}">{_h(name)}</th>' for name, k in zip(HEADER, KINDS))
    body = "\n".join("<tr>" + "".join(f'<td class="{k}">{_h(cell)}</td>' for cell, k in zip(row, KINDS)) + "</tr>"
                     for row in _rows(lines))
    return f'<table class="sessions"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


RENDERERS = {"text": render_text, "csv": render_csv, "json": render_json, "html": render_html}


# --- the monthly job ------------------------------------------------------------------------

def accounts_of(sessions):
    """The accounts with sessions (to review included), by name; 'unknown' last."""
    names = sorted({s.account for s in sessions})
    return [n for n in names if n != UNKNOWN_ACCOUNT] + ([UNKNOWN_ACCOUNT] if UNKNOWN_ACCOUNT in names else [])


def file_stem(account, first, last, taken=()):
    """'2026-10-company-x', a file name for any account name (other characters become _), not in `taken`."""
    label = months.label(first) if first == last else f"{months.label(first)}_{months.label(last)}"
    stem = f"{label}-{re.sub(r'[^A-Za-z0-9._-]', '_', account)}"
    found, number = stem, 1
    while found in taken:
        number += 1
        found = f"{stem}-{number}"
    return found
