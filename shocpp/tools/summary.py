"""shocpp-summary: the energy charged per account in a month or a range of months, and the review.

Reads the ledger once into sessions (ledger_sessions.read_sessions) and renders views of them: a
table, CSV or JSON, or an account's statement (statement.py). Lines waiting for the operator are
decided with --accept ID / --reject ID, which append a decision record to the ledger. Adding up and
rendering are pure functions; only main() and what it calls at the edge do I/O.
"""

import argparse
import csv
import io
import json
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Optional

from .. import config as config_module
from .. import ledger
from ..exits import FAILED, OK, USAGE, describe
from ..protocol import matching, months, review
from ..protocol.tags import UNKNOWN_ACCOUNT
from . import inert, printable, printable_json_text, printable_output
from .ledger_sessions import (LEDGER, LEGACY, BadRecord, Problem, Session, be, cell, count, duration,  # noqa: F401
                              kwh_text, layout, local_time, or_dash, order, parse_legacy, parse_line, period,
                              read_sessions, reason_text, session_of)

EXITS = (OK, USAGE, FAILED)
EXIT_DETAILS = {USAGE: "or a broken tags.json or tariffs.json for a statement or --format json, or an id "
                       "--accept or --reject cannot decide",
                FAILED: "the ledger cannot be read or written, or a statement cannot be written"}
BAR_WIDTH = 24
EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
# One column a meaning: the energy once (exact kWh), the readings once, the flags once.
CSV_FIELDS = ("id", "month", "start_time", "stop_time", "duration_s", "charger", "connector_id", "account", "id_tag",
              "transaction_id", "meter_start_kwh", "meter_stop_kwh", "kwh", "stop_reason", "source", "flags",
              "status", "review_reason", "counted")

EXAMPLES = """\
examples:
  shocpp-summary                          the previous month
  shocpp-summary 2026 10                  October 2026 (or: shocpp-summary 2026-10)
  shocpp-summary 2026 10 --format csv     the sessions as CSV, for a spreadsheet
  shocpp-summary 2026 10 --format json    totals and sessions as JSON, for scripts
  shocpp-summary --from 2026-01 --to 2026-06 --account company-x

review (lines the backend could not tie to a session with confidence, listed under To review):
  shocpp-summary --accept 3f9a2c1b7e      count the line (its id from the table or the JSON)
  shocpp-summary --reject 3f9a2c1b7e      leave it out for good (a later --accept still can count it)

statements (energy and cost per session, to hand to whoever pays):
  shocpp-summary 2026 10 --account company-x --statement                  text, in the terminal
  shocpp-summary 2026 10 --account company-x --statement --format html > company-x.html
  shocpp-summary --from 2026-01 --to 2026-12 --account home --statement --format csv
  shocpp-summary --statements /opt/shocpp/statements    every account's of the previous month,
                                                         as HTML and CSV (the monthly job)

Sessions under the account 'unknown' (charged with unknown tags) are totalled on a line of
their own, outside the accounts' total and inside the grand total. Lines to review are in no
total until accepted; repeats of a stop already billed never are. Times are shown in the local
time zone (TZ). Ledger lines that cannot be read are named on stderr and skipped.

A statement's prices come from SHOCPP_TARIFFSFILE (default conf/tariffs.json; without the file,
no price and cost): the price valid on the local day each session started. Its header names the
site (SHOCPP_SITE_NAME, default the host name) and the account's tags (SHOCPP_TAGSFILE). The
account 'unknown' gets a statement of its own, so that energy nobody claimed is seen.

"""

@dataclass
class Tally:
    sessions: int = 0
    wh: int = 0
    unknown_energy: int = 0

    def add(self, session):
        self.sessions += 1
        if session.energy_wh is None:
            self.unknown_energy += 1
        else:
            self.wh += session.energy_wh

    def __add__(self, other):
        return Tally(self.sessions + other.sessions, self.wh + other.wh, self.unknown_energy + other.unknown_energy)

    @property
    def kwh(self):
        return kwh_text(self.wh)


@dataclass
class Summary:
    first: tuple
    last: tuple
    account: Optional[str]
    accounts: list  # [(name, Tally)], most Wh first
    unknown: Tally
    sessions: list  # all of them, by start (by stop when the start is unknown)
    skipped: list = field(default_factory=list)
    left_out: Tally = field(default_factory=Tally)
    costs: Optional[dict] = None  # {account: (cost, currency)} as its statement reckons them; None: no tariffs

    @property
    def accounts_total(self):
        return sum((tally for _, tally in self.accounts), Tally())

    @property
    def grand_total(self):
        return self.accounts_total + self.unknown

    @property
    def counted(self):
        return [s for s in self.sessions if s.counted]

    @property
    def review(self):
        """The lines waiting for a decision."""
        return [s for s in self.sessions if s.waiting]

    def having(self, status):
        return [s for s in self.sessions if s.status == status]


# --- months ---------------------------------------------------------------------------------

def parse_month(text, option):
    try:
        month = months.parse(text)
    except ValueError as e:
        raise ValueError(f"{option} {text}: {e}") from None
    if month is None:
        raise ValueError(f"{option} {text!r} is not a month like 2026-10")
    return month


def _checked(year, month, what):
    try:
        return months.checked(year, month)
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None


def month_range(year, month, first, last, today):
    """(first, last) months from the arguments; ValueError saying what is wrong."""
    if year is not None:
        if first or last:
            raise ValueError("give either YEAR MONTH or --from/--to, not both")
        if month is None:
            one = months.parse(year) if re.fullmatch(r"[0-9]{4}-[0-9]{2}", year, re.ASCII) else None
            if one is None:
                raise ValueError(f"YEAR needs a MONTH too, e.g. {year} 10 (or {year}-10)")
            return one, one
        if not re.fullmatch(r"[0-9]{4}", year, re.ASCII) or not re.fullmatch(r"[0-9]{1,2}", month, re.ASCII):
            raise ValueError(f"{year} {month} is not a year and month like 2026 10")
        one = _checked(int(year), int(month), f"{year} {month}")
        return one, one
    if last and not first:
        raise ValueError("--to needs --from")
    if not first:
        previous = months.previous(months.of(today))
        return previous, previous
    start = parse_month(first, "--from")
    end = parse_month(last, "--to") if last else months.of(today)
    if start > end:
        raise ValueError(f"--from {months.label(start)} is after "
                         + (f"--to {months.label(end)}" if last else f"this month ({months.label(end)})"))
    return start, end


# --- adding up ------------------------------------------------------------------------------

def aggregate(sessions, first, last, account=None, skipped=()):
    """Totals of the sessions counted, per account, sorted most Wh first; the sessions sorted by start. The
    lines left out are those waiting for a decision or rejected (repeats are neither: they are copies)."""
    if account is not None:
        sessions = [s for s in sessions if s.account == account]
    sessions = sorted(sessions, key=order)
    tallies, unknown, left_out = {}, Tally(), Tally()
    for session in sessions:
        if session.status == review.REPEAT:
            continue
        if not session.counted:
            left_out.add(session)
        elif session.account == UNKNOWN_ACCOUNT:
            unknown.add(session)
        else:
            tally = tallies.get(session.account)
            if tally is None:
                tally = tallies[session.account] = Tally()
            tally.add(session)
    accounts = sorted(tallies.items(), key=lambda item: (-item[1].wh, item[0]))
    return Summary(first, last, account, accounts, unknown, sessions, list(skipped), left_out)


def add_costs(summary, tariffs):
    """The Summary with each account's cost: the total of its statement (the price valid on the local day a
    session started, each session's cost to the cent, the left-out sessions not in it) and its currency."""
    if tariffs is None:
        summary.costs = None
        return summary
    from . import statement
    mine = {}
    for session in summary.sessions:
        mine.setdefault(session.account, []).append(session)
    summary.costs = {}
    for name, _ in summary.accounts:
        made = statement.build(mine[name], name, summary.first, summary.last, "", tariffs=tariffs)
        summary.costs[name] = (made.total_cost, made.currency)
    return summary


def total_cost(costs):
    """(the accounts' costs added up, their one currency); (None, None) when they are in several."""
    currencies = {currency for _, currency in costs.values() if currency is not None}
    if len(currencies) > 1:
        return None, None
    return (sum((cost for cost, _ in costs.values() if cost is not None), Decimal("0.00")),
            next(iter(currencies), None))


# --- rendering ------------------------------------------------------------------------------

REVIEW_TEXT = [
    "Lines the backend could not tie to a session with confidence: in no total until you decide.",
    "Count one with `shocpp-summary --accept ID`, leave it out with `--reject ID` (the README,",
    "'The billing ledger', explains each reason).",
]
REVIEW_HEADER = ("id", "stop", "charger", "account", "tag", "transactionId", "kWh", "reason")
REVIEW_ALIGNS = "<<<<<>><"
SESSION_HEADER = ("start", "stop", "duration", "charger", "connector", "account", "tag", "meter start",
                  "meter stop", "kWh", "note")
SESSION_ALIGNS = "<<><><<>>><"


def bar(wh, largest, width=BAR_WIDTH):
    """Blocks in eighths of a character, `width` for the largest; a sliver for any positive amount."""
    if largest <= 0 or wh <= 0:
        return ""
    eighths = max(1, (wh * width * 16 + largest) // (largest * 2))
    return "█" * (eighths // 8) + EIGHTHS[eighths % 8]


def render_table(summary, hint=None):
    """The table; `hint`: a line to add when there are no sessions (where else to look)."""
    title = f"Energy charged in {period(summary.first, summary.last)}"
    if summary.account is not None:
        title += f", account {cell(summary.account)}"
    lines = [title, ""]
    if not summary.sessions:
        return "\n".join(lines + ["No sessions."] + ([hint] if hint else []) + _notes(summary)) + "\n"
    lines += _totals_table(summary) + [""] + _notes(summary)
    counted, waiting = summary.counted, summary.review
    if counted:
        lines += ["Sessions", ""] + _sessions_table(counted, _note)
    if waiting:
        lines += ([""] if counted else []) + ["To review", ""] + REVIEW_TEXT + [""]
        lines += _review_table(waiting)
    for status, title in ((review.ACCEPTED, "Accepted on review (counted above)"),
                          (review.REJECTED, "Rejected on review (in no total)"),
                          (review.REPEAT, "Repeats of a stop already billed (in no total)")):
        shown = summary.having(status)
        if shown:
            lines += ["", title, ""] + _sessions_table(shown, _decided_note)
    return "\n".join(lines) + "\n"


def _review_table(sessions):
    rows = [REVIEW_HEADER, None]
    rows += [(s.id, local_time(s.stop_time), cell(s.charger or "-"), cell(s.account), cell(s.id_tag or "-"),
              or_dash(s.transaction_id), "?" if s.energy_wh is None else kwh_text(s.energy_wh), cell(reason_text(s)))
             for s in sessions]
    return layout(rows, REVIEW_ALIGNS)


def _totals_table(summary):
    show_unknown = summary.account in (None, UNKNOWN_ACCOUNT)
    largest = max([t.wh for _, t in summary.accounts] + [summary.unknown.wh])
    rows = [("account", "sessions", "kWh", "")]
    rows += [(cell(name), str(t.sessions), t.kwh, bar(t.wh, largest)) for name, t in summary.accounts]
    if summary.account != UNKNOWN_ACCOUNT:
        total = summary.accounts_total
        rows += [None, ("accounts total", str(total.sessions), total.kwh, "")]
    if show_unknown:
        unknown = summary.unknown
        rows.append(("unknown tags", str(unknown.sessions), unknown.kwh, bar(unknown.wh, largest)))
    if summary.account is None:
        total = summary.grand_total
        rows.append(("grand total, with unknown tags", str(total.sessions), total.kwh, ""))
    return layout(rows, "<>><")


def _notes(summary):
    unknown_energy = summary.grand_total.unknown_energy + summary.left_out.unknown_energy
    waiting, rejected = len(summary.review), len(summary.having(review.REJECTED))
    repeats = len(summary.having(review.REPEAT))
    notes = []
    if unknown_energy:
        notes.append(f"{count(unknown_energy, 'session')} had unknown energy: shown as '?', counted as 0 kWh.")
    if waiting:
        notes.append(f"{count(waiting, 'line')} ({kwh_text(sum(s.energy_wh or 0 for s in summary.review))} kWh) "
                     f"{be(waiting)} waiting for your decision, in no total: see To review below.")
    if rejected:
        notes.append(f"{count(rejected, 'line')} rejected on review {be(rejected)} in no total.")
    if repeats:
        notes.append(f"{count(repeats, 'stop')} repeating a stop already billed {be(repeats)} in no total.")
    if summary.skipped:
        notes.append(f"{count(len(summary.skipped), 'ledger line')} could not be read and "
                     f"{'was' if len(summary.skipped) == 1 else 'were'} skipped (named on stderr).")
    return notes + [""] if notes else []


def _sessions_table(sessions, note):
    rows = [SESSION_HEADER, None]
    rows += [_session_row(s, note(s)) for s in sessions]
    return layout(rows, SESSION_ALIGNS)


def _session_row(s, note):
    return (local_time(s.start_time), local_time(s.stop_time, s.source == LEGACY), duration(s.duration_s),
            cell(s.charger or "-"), or_dash(s.connector_id), cell(s.account), cell(s.id_tag or "-"),
            s.meter_start or "-", s.meter_stop or "-", "?" if s.energy_wh is None else kwh_text(s.energy_wh), note)


def _note(session):
    """What is odd about a session: legacy, energy unknown, its flags (the charger's clock was off...)."""
    parts = [LEGACY] if session.source == LEGACY else []
    if session.energy_wh is None:
        parts.append("energy unknown")
    return cell(", ".join(parts + [FLAG_WORDS.get(f, f) for f in session.flags]))


FLAG_WORDS = {"clock_off": "clock_off: the charger's clock was off, billed by receipt time"}


def _decided_note(session):
    if session.status == review.REPEAT:
        return cell(f"repeats {session.repeat_of or 'an earlier stop'}")
    reason = f" ({session.review_reason})" if session.review_reason else ""
    return cell(f"{session.id}: {session.status}{reason}")



_inert = inert


def render_csv(summary):
    """One row a session (RFC 4180: header, CRLF), counted or not; sum `kwh` where `counted` is yes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    writer.writerows([["" if v is None else v for v in _csv_values(s)] for s in summary.sessions])
    return out.getvalue()


def _csv_values(s):
    return (s.id, s.month, _inert(s.start_time), _inert(s.stop_time), s.duration_s, _inert(s.charger), s.connector_id,
            _inert(s.account), _inert(s.id_tag), s.transaction_id, s.meter_start, s.meter_stop, kwh_text(s.energy_wh),
            _inert(s.reason), s.source, _inert(" ".join(s.flags)), s.status, s.review_reason,
            "yes" if s.counted else "no")


_inert = inert


def render_json(summary):
    head = {
        "from": months.label(summary.first),
        "to": months.label(summary.last),
        "account_filter": summary.account,
        "accounts": [{"account": name, **_tally_dict(t), **_cost_dict(summary.costs, name)}
                     for name, t in summary.accounts],
        "accounts_total": {**_tally_dict(summary.accounts_total), **_cost_dict(summary.costs)},
        "unknown_tags": _tally_dict(summary.unknown),
        "grand_total": _tally_dict(summary.grand_total),
        "left_out": _tally_dict(summary.left_out),
        "to_review": len(summary.review),
        "review": [{"id": s.id, "month": s.month, "reason": s.review_reason, "reason_text": reason_text(s),
                    "charger": s.charger, "transaction_id": s.transaction_id, "account": s.account,
                    "stop_time": s.stop_time, "energy_wh": s.energy_wh} for s in summary.review],
        "skipped_lines": len(summary.skipped),
        "skipped": [{"file": p.path, "line": p.line, "problem": p.message} for p in summary.skipped],
    }
    text = json.dumps(head, indent=2, ensure_ascii=False)
    # One session a line: the indenting encoder is pure Python, too slow for 100,000 sessions.
    encode = json.JSONEncoder(ensure_ascii=False).encode
    sessions = ",\n    ".join([encode(_session_dict(s)) for s in summary.sessions])
    listed = f"[\n    {sessions}\n  ]" if sessions else "[]"
    # What a charger sent (a tag, a name) as \u escapes when it would draw on a terminal.
    return printable_json_text(f'{text[:-2]},\n  "sessions": {listed}\n}}\n')


def _tally_dict(tally):
    return {"sessions": tally.sessions, "wh": tally.wh, "kwh": tally.kwh,
            "sessions_unknown_energy": tally.unknown_energy}


def _cost_dict(costs, account=None):
    """cost (decimal text) and currency of an account, or of all (account None); null without tariffs."""
    if costs is None:
        return {"cost": None, "currency": None}
    cost, currency = costs[account] if account is not None else total_cost(costs)
    return {"cost": None if cost is None else str(cost), "currency": currency}


def _session_dict(s):
    return {
        "month": s.month, "stop_time": s.stop_time, "charger": s.charger, "account": s.account, "id_tag": s.id_tag,
        "meter_start_kwh": _number(s.meter_start), "meter_stop_kwh": _number(s.meter_stop),
        "consumed_kwh": s.consumed_kwh, "consumed_wh": s.consumed_wh, "reason": s.reason,
        "transaction_id": s.transaction_id, "source": s.source, "start_time": s.start_time,
        "duration_s": s.duration_s, "connector_id": s.connector_id, "meter_start_wh": s.start_wh,
        "meter_stop_wh": s.stop_wh, "energy_wh": s.energy_wh, "kwh": kwh_text(s.energy_wh), "flags": list(s.flags),
        "id": s.id, "status": s.status, "review_reason": s.review_reason, "repeat_of": s.repeat_of,
        "counted": s.counted}


def _number(text):
    # A reading for reading, '12350.999' as 12350.999; the exact figures are the *_wh integers beside it.
    return None if text is None else float(text) if "." in text else int(text)


RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json}


# --- command line ---------------------------------------------------------------------------

FORMATS = ("table", "text", "csv", "json", "html")


def parse_args(argv, today):
    parser = argparse.ArgumentParser(
        prog="shocpp-summary", epilog=EXAMPLES + describe(EXITS, EXIT_DETAILS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The energy charged per account in a month (default: the previous month), with\n"
                    "every session, from the ledger in SHOCPP_ACCOUNTINGDIR; or an account's statement.")
    parser.add_argument("year", nargs="?", help="the year, e.g. 2026 (or the month as YYYY-MM)")
    parser.add_argument("month", nargs="?", help="the month, 1 to 12")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM", help="the first month of a range")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM",
                        help="the last month of the range (default: this month)")
    parser.add_argument("--account", metavar="NAME", help="only this account ('unknown': unknown tags)")
    parser.add_argument("--format", choices=FORMATS,
                        help="table (default; text is the same), csv (one row a session) or json; a statement: "
                             "text (default), csv, json or html (a page that prints on A4)")
    parser.add_argument("--statement", action="store_true",
                        help="the statement of the --account: every session with its price and cost, totals")
    parser.add_argument("--statements", metavar="DIR",
                        help="write the statement of every account with sessions into DIR, as HTML and CSV "
                             "(<month>-<account>.html and .csv)")
    decide = parser.add_mutually_exclusive_group()
    decide.add_argument("--accept", metavar="ID", help="count the ledger line ID that waits for review "
                                                       "(appends a decision record to the ledger)")
    decide.add_argument("--reject", metavar="ID", help="leave the ledger line ID out of every total "
                                                       "(appends a decision record to the ledger)")
    args = parser.parse_args(argv)
    if args.accept or args.reject:
        others = [name for name, given in (("YEAR MONTH", args.year), ("--from", args.first), ("--to", args.last),
                                           ("--account", args.account), ("--format", args.format),
                                           ("--statement", args.statement), ("--statements", args.statements))
                  if given]
        if others:
            parser.error(f"--accept and --reject take only the line's id (not {', '.join(others)})")
        if not re.fullmatch(f"[0-9a-f]{{{review.ID_LENGTH}}}", args.accept or args.reject, re.ASCII):
            parser.error(f"{args.accept or args.reject!r} is not a line id ({review.ID_LENGTH} hex digits, as "
                         "To review and the JSON show it)")
        return args
    args.defaulted = args.year is None and args.first is None
    try:
        args.first, args.last = month_range(args.year, args.month, args.first, args.last, today)
    except ValueError as e:
        parser.error(str(e))
    if args.statement and args.statements:
        parser.error("give either --statement (one account's, on stdout) or --statements DIR (every account's)")
    if args.statement and args.account is None:
        parser.error("--statement needs --account NAME (--statements DIR writes every account's)")
    if args.statements is not None:
        if args.account is not None or args.format is not None:
            parser.error("--statements DIR writes every account's statement as HTML and CSV: "
                         "no --account or --format (use --statement for one)")
        if not args.statements:
            parser.error("--statements needs a directory")
    elif args.statement:
        args.format = "text" if args.format in (None, "table") else args.format
    else:
        if args.format == "html":
            parser.error("--format html is for a statement: add --account NAME --statement")
        args.format = "table" if args.format in (None, "text") else args.format
    return args


def main(argv=None, env=None, today=None):
    printable_output()
    args = parse_args(argv, today or date.today())
    return _run(args, env)


def _run(args, env):
    try:
        settings = config_module.from_env(env)
        directory = settings.accounting_dir
        if not directory.is_dir():
            raise FileNotFoundError(f"the ledger directory {directory} does not exist (SHOCPP_ACCOUNTINGDIR)")
        if args.accept or args.reject:
            return _decide(directory, args.accept or args.reject, review.ACCEPT if args.accept else review.REJECT)
        sessions, problems = read_sessions(directory, months.between(args.first, args.last))
    except (OSError, ledger.Unavailable, config_module.ConfigError) as e:
        print(f"shocpp-summary: {e}", file=sys.stderr)
        return USAGE if isinstance(e, config_module.ConfigError) else FAILED
    for problem in problems:
        print(f"shocpp-summary: {printable(problem)}; skipped", file=sys.stderr)
    if problems:
        print(f"shocpp-summary: {count(len(problems), 'line')} skipped; the summary covers the rest",
              file=sys.stderr)
    if args.statement or args.statements:
        return _statements(args, settings, sessions, problems)
    summary = aggregate(sessions, args.first, args.last, args.account, problems)
    if args.format == "json":
        from ..protocol.tags import TagsError
        from ..protocol.tariffs import TariffsError
        try:
            add_costs(summary, _load_tariffs(settings))
        except (TagsError, TariffsError) as e:
            print(f"shocpp-summary: {e}", file=sys.stderr)
            return USAGE
    if args.account is not None and not summary.sessions:
        _no_sessions(args.account, sessions)
    if args.format == "table":
        return _write(render_table(summary, _hint(args, summary)))
    return _write(RENDERERS[args.format](summary))


def _hint(args, summary):
    """For a newcomer who ran it without arguments: the default is last month, not this one."""
    if not args.defaulted or summary.sessions:
        return None
    this = months.shift(summary.last, 1)
    return (f"(Without arguments it shows last month; this month so far: "
            f"shocpp-summary {months.label(this)}.)")


def _decide(directory, line_id, decision):
    """Append the operator's decision on a stop line to its month's file; the exit status."""
    found = _find_line(directory, line_id)
    if found is None:
        print(f"shocpp-summary: no stop line with id {line_id} in {directory} (the ids are in the To review "
              "list and in --format json)", file=sys.stderr)
        return USAGE
    label, line, decided = found
    refusal = review.decidable(line)
    if refusal:
        print(f"shocpp-summary: {line_id} cannot be decided: {refusal}", file=sys.stderr)
        return USAGE
    if decision == review.ACCEPT:
        twice = _billed_since(directory, label, line)
        if twice:
            print(f"shocpp-summary: {line_id} cannot be accepted: {twice}; --reject it", file=sys.stderr)
            return USAGE
    session = _session(line, label, decided)
    if (session.status, decision) in ((review.ACCEPTED, review.ACCEPT), (review.REJECTED, review.REJECT),
                                      (review.BILLED, review.ACCEPT)):
        print(f"{line_id} is {'counted' if session.counted else 'rejected'} already: nothing written")
        return OK
    record = review.decision_record(line, decision, datetime.now(timezone.utc), _operator())
    ledger.append(directory, label, record)
    after = _session(line, label, {**decided, line_id: record})
    what = (f"{after.account}'s {'?' if after.energy_wh is None else kwh_text(after.energy_wh)} kWh "
            f"(charger {cell(after.charger or '-')}, transactionId {after.transaction_id}, stopped "
            f"{local_time(after.stop_time)})")
    print(f"{decision}ed {line_id}: {what} " + (f"counted in {label}" if after.counted else "in no total"))
    return OK


def _find_line(directory, line_id):
    """(month label, the stop line, its month's decisions) of the line with that id, newest month first."""
    for path in sorted(Path(directory).glob("[0-9][0-9][0-9][0-9]-[0-9][0-9].jsonl"), reverse=True):
        records = ledger.records(directory, path.stem, None)
        for record in records:
            if record.get("event", "stop") == "stop" and review.line_id(record) == line_id:
                return path.stem, record, review.decisions(records)
    return None


def _billed_since(directory, label, line):
    """Why accepting the line would bill a session twice (closed since by another line), or None: the
    session is its candidate's, or its own start's when it was tied to one (and rejected since)."""
    session = line.get("candidate") if isinstance(line.get("candidate"), dict) else line
    if "meter_start_wh" not in session:
        return None
    tid = session.get("start_transaction_id", session.get("transaction_id"))
    mine = review.line_id(line)
    records = [r for month in (months.label(months.previous(months.parse(label))), label)
               for r in ledger.records(directory, month, tid)
               if r.get("line") != mine and not (r.get("event", "stop") == "stop" and review.line_id(r) == mine)]
    closer = matching.closer(records, session)
    if closer is None:
        return None
    by = closer.get("line") if matching.is_decision(closer) else review.line_id(closer)
    return (f"the session it names (transactionId {tid}, started {local_time(session.get('start_time'))}) "
            f"was closed since by line {by}: accepting would bill it twice")


def _session(line, label, decided):
    return session_of(line, label, decided)


def _operator():
    import pwd
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _load_tariffs(settings):
    """The Tariffs of SHOCPP_TARIFFSFILE, checked against the accounts of tags.json; None without the file."""
    from .. import tags_file, tariffs_file
    if not settings.tariffs_file.exists():
        return None  # tags.json is not read: a summary without prices needs none of it
    return tariffs_file.load(settings.tariffs_file, tags_file.load(settings.tags_file).accounts)


def _no_sessions(account, sessions):
    names = ", ".join(sorted({cell(s.account) for s in sessions})) or "none"
    print(f"shocpp-summary: no sessions of {account!r} (accounts with sessions: {names})", file=sys.stderr)


def _statements(args, settings, sessions, problems):
    """One account's statement on stdout, or every account's into a directory (HTML and CSV)."""
    from .. import tags_file, tariffs_file  # only statements read them
    from ..protocol.tags import TagsError
    from ..protocol.tariffs import TariffsError
    from . import statement

    try:
        tags = tags_file.load(settings.tags_file)
        tariffs = tariffs_file.load(settings.tariffs_file, tags.accounts)
    except (TagsError, TariffsError) as e:
        print(f"shocpp-summary: {e}", file=sys.stderr)
        return USAGE
    if tariffs is None:
        print(f"shocpp-summary: no tariffs file {settings.tariffs_file} (SHOCPP_TARIFFSFILE): "
              "the statements have no prices and costs", file=sys.stderr)

    def make(account):
        return statement.build(sessions, account, args.first, args.last, settings.site_name, tags.ids(account),
                               tariffs, len(problems))

    if args.statement:
        made = make(args.account)
        if not made.lines and not made.review:
            _no_sessions(args.account, sessions)
        return _write(statement.RENDERERS[args.format](made))
    target = Path(args.statements)
    taken = set()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for account in statement.accounts_of(sessions):
            made = make(account)
            stem = statement.file_stem(account, args.first, args.last, taken)
            taken.add(stem)
            for suffix, render in ((".html", statement.render_html), (".csv", statement.render_csv)):
                _write_file(target / (stem + suffix), render(made))
                print(f"wrote {target / (stem + suffix)}")
    except OSError as e:
        print(f"shocpp-summary: cannot write the statements: {e}", file=sys.stderr)
        return FAILED
    if not taken:
        print(f"shocpp-summary: no sessions in {period(args.first, args.last)}: no statements written",
              file=sys.stderr)
    return OK


def _write_file(path, text):
    """Replace `path` with `text` (UTF-8) whole: a reader, a mailer, never sees half a statement."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _write(text):
    # UTF-8 whatever the locale (JSON must be, spreadsheets expect it), and CSV's CRLF untranslated.
    out = getattr(sys.stdout, "buffer", None)
    try:
        if out is None:
            sys.stdout.write(text)
        else:
            out.write(text.encode("utf-8"))
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader that stopped early (| head) is no failure; keep Python quiet at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return OK


if __name__ == "__main__":
    sys.exit(main())
