"""What a stop is worth: billed, a repeat, or to review; to which start and account, in which month.

The rule: a confirmed session is billed exactly once, to the account that started it, in the month it
really ended; whatever cannot be tied to that with confidence is kept (confirmed to the charger) and
put in front of the operator, never silently into a total.

Protocol-neutral, for OCPP 1.6's StopTransaction and 2.0.1's TransactionEvent Ended alike:

- classify(stop, records, site) -> Verdict. `stop` is a Stop (the facts a stop claims: charger,
  transaction id, stop reading in Wh, idTag or None, the charger's stop time as text, and when it was
  received, an aware datetime); `records` are the ledger records searched (start records as
  billing.start_record writes them, stop lines, decision records), oldest first; `site` is a Site
  (what shocpp knows: the accounts, the tags, whether the charger is listed, the limits).
- billing_month(stop_time, start, received, tz) -> (month label, clock_off): the month a stop is
  billed in, and whether the charger's clock was off (then the receipt time decides).
- search_months(stop_time, received, tz): the ledger months a stop's start is looked for in, and
  needs_charger_records(stop, records): whether the charger's own records are needed too (only when
  those of the transactionId hold no start of it on that charger), so that a stop's cost stays bounded.

A start older than MAX_SESSION_TIME without a stop is stale, not running. A transactionId shared by
two sessions (under 1 kWh each, same tag and start kWh) cannot tell a rebuilt stop of the first from
the second's own stop when the rebuilt one reads at or above the second's start: it closes the second.

The verdict's outcome:

- BILLED: counted. Tied to its open start (the start's account and reading), or billed from the
  transactionId alone when no start record exists and that is plausible (flag `no_start`), or tied to
  the charger's one open session when the transactionId names no account (flag `reconciled`).
- REPEAT: every start record of its transactionId on the charger is closed already: a repeat of the
  stop that closed it (`repeat_of`, that line's id), whatever its time, reading or idTag. Never counted.
- REVIEW: kept and shown with `reason` (REASONS says each in words) until the operator decides; with
  `candidate` the start record it would close if accepted (the start's account and reading then bill).
"""

from datetime import timedelta

from . import matching, months, timestamps, transaction_id
from .plain import plain

BILLED, REPEAT, REVIEW = "billed", "repeat", "review"
NO_START, RECONCILED, CLOCK_OFF = "no_start", "reconciled", "clock_off"
(UNKNOWN_ACCOUNT, UNKNOWN_CHARGER, TOO_MUCH_ENERGY, OTHER_TAG, ACCOUNT_MISMATCH, OTHER_CHARGER, NEGATIVE,
 IMPLAUSIBLE) = ("unknown_account", "unknown_charger", "too_much_energy", "tag_of_other_account",
                 "account_mismatch", "other_charger", "negative", "implausible")
REASONS = {
    UNKNOWN_ACCOUNT: "the transactionId names no account in tags.json (−1, 0, an index not listed) and the "
                     "charger has not exactly one running session to tie it to",
    UNKNOWN_CHARGER: "no start record, and the charger is neither in chargers.json nor has earlier sessions "
                     "in the ledger: billing from the transactionId alone is not trusted",
    TOO_MUCH_ENERGY: "more energy than one session can be (SHOCPP_MAX_SESSION_KWH)",
    OTHER_TAG: "the stop's idTag belongs to another account than the session's, or to none",
    ACCOUNT_MISMATCH: "another account's session is running on this charger: the stop's transactionId "
                      "does not match it",
    OTHER_CHARGER: "the session with this transactionId was started on another charger",
    NEGATIVE: "the stop reading is below the start reading (a meter replaced or reset)",
    IMPLAUSIBLE: "more energy than SHOCPP_MAX_POWER_KW can deliver between the start and the stop",
}
# A charger's clock a little ahead of the server's is no reason to distrust its time.
CLOCK_TOLERANCE = timedelta(minutes=5)
# A stop time further back than this before its receipt is a clock fallen back (a firmware date).
MAX_STOP_AGE = timedelta(days=366)
# A start without a stop for longer than this is no longer a running session: it is stale.
MAX_SESSION_TIME = timedelta(days=7)


class Stop(plain("Stop", ["charger", "transaction_id", "meter_stop_wh", "id_tag", "stop_time", "received",
                         "begin_wh"], defaults=(None,))):
    """begin_wh: a start reading the stop itself carries (1.6: a Transaction.Begin register), or None."""
    __slots__ = ()


class Site(plain("Site", ["accounts", "tag_index", "charger_listed", "max_session_wh", "max_power_kw", "tz"],
                 defaults=(False, 200_000, 50, None))):
    """accounts: {index: name} of tags.json; tag_index(id_tag): the index of a tag's account (0 for a tag
    nobody has); charger_listed: the charger is in chargers.json; the limits; tz: the site's zone."""
    __slots__ = ()


class Verdict(plain("Verdict", ["outcome", "start", "reason", "flags", "month", "candidate", "repeat_of",
                                "energy_wh", "account", "account_index"],
                    defaults=(None, (), None, None, None, None, None, None))):
    """start: the start record the stop closes (None: none); energy_wh: what it bills (None: unknown)."""
    __slots__ = ()


def classify(stop, records, site):
    """The Verdict for a stop, among the ledger's records (oldest first)."""
    mine = [r for r in records if matching.is_start(r) and r.get("charger") == stop.charger]
    same = [r for r in mine if matching.agrees(r, stop.transaction_id)]
    closed = matching.closed_keys(records)
    if same:
        return _of_its_start(stop, same, records, closed, site)
    running = matching.running(records, stop.received, MAX_SESSION_TIME, stop.charger)
    if matching.may_reconcile(stop.transaction_id, site.accounts):
        if len(running) == 1:
            return _tied(stop, running[0], (RECONCILED,), site)
        return _verdict(stop, REVIEW, None, site, UNKNOWN_ACCOUNT, (NO_START,), energy=_stateless_wh(stop))
    # a session started with a tag of tags.json vouches for the charger; one of a tag nobody has does not
    vouched = any(r.get("account_index") in site.accounts for r in mine)
    return _without_its_start(stop, records, closed, running, site, vouched)


def _of_its_start(stop, same, records, closed, site):
    """Tied to the newest open start of its transactionId (one its reading fits, if any), or a repeat of
    the stop that closed the newest closed one."""
    open_same = [r for r in same if matching.start_key(r) not in closed]
    fitting = [r for r in open_same if _reading_fits(r, stop)]
    if fitting or len(open_same) == len(same):
        return _tied(stop, (fitting or open_same)[-1], (), site)
    repeated = [r for r in same if matching.start_key(r) in closed][-1]
    closer = matching.closer(records, repeated)
    repeat_of = closer.get("line") if matching.is_decision(closer) else matching.line_id(closer)
    return _verdict(stop, REPEAT, repeated, site, repeat_of=repeat_of, energy=_energy_from(repeated, stop),
                    account_of=repeated)


def _without_its_start(stop, records, closed, running, site, has_starts):
    """A listed account's transactionId with no start of it on this charger."""
    elsewhere = [r for r in records if matching.is_start(r) and r.get("charger") != stop.charger
                 and matching.agrees(r, stop.transaction_id)]
    if elsewhere:
        candidate = elsewhere[-1] if matching.start_key(elsewhere[-1]) not in closed else None
        return _verdict(stop, REVIEW, None, site, OTHER_CHARGER, candidate=candidate, energy=_stateless_wh(stop))
    index = transaction_id.decode(stop.transaction_id).index
    others = [r for r in running if r.get("account_index") != index]
    if others and len(others) == len(running):
        return _verdict(stop, REVIEW, None, site, ACCOUNT_MISMATCH,
                        candidate=others[-1] if len(others) == 1 else None, energy=_stateless_wh(stop))
    known = site.charger_listed or has_starts or any(
        r.get("charger") == stop.charger and _billed(r) for r in records)
    return _stateless(stop, index, site, known)


def _billed(record):
    """A stop line that billed a session: not one that waits for review or repeats, so that a forged
    stop kept for review never vouches for the next."""
    return matching.is_stop(record) and record.get("verdict", BILLED) == BILLED and not any(
        f in (record.get("flags") or ()) for f in (NEGATIVE, IMPLAUSIBLE))


def _reading_fits(start, stop):
    """A stop reading at or above the start's: a repeat of an older session's stop does not close a
    newer session that reuses its transactionId (sessions under 1 kWh)."""
    return transaction_id.consumed_wh(start["meter_start_wh"], stop.meter_stop_wh) >= 0


def _tied(stop, start, flags, site):
    energy = _energy_from(start, stop)
    month, clock_off = billing_month(stop.stop_time, start, stop.received, site.tz)
    reason = energy_problem(energy, _duration_s(start, stop, clock_off), site) or tag_problem(
        stop, start.get("account_index"), site)
    return Verdict(REVIEW if reason else BILLED, start, reason, flags + ((CLOCK_OFF,) if clock_off else ()),
                   month, None, None, energy, start.get("account"), start.get("account_index"))


def _stateless(stop, index, site, known):
    """No start record: billed from the transactionId when plausible, else to review."""
    energy = _stateless_wh(stop)
    reason = (None if known else UNKNOWN_CHARGER) or energy_problem(energy, None, site) or tag_problem(
        stop, index, site)
    return _verdict(stop, REVIEW if reason else BILLED, None, site, reason, flags=(NO_START,), energy=energy)


def _verdict(stop, outcome, start, site, reason=None, flags=(), candidate=None, repeat_of=None, energy=None,
             account_of=None):
    month, clock_off = billing_month(stop.stop_time, start, stop.received, site.tz)
    if account_of is not None:
        account, index = account_of.get("account"), account_of.get("account_index")
    else:
        decoded = transaction_id.decode(stop.transaction_id)
        index = None if decoded is None else decoded.index
        account = site.accounts.get(index)
    return Verdict(outcome, start, reason, flags + ((CLOCK_OFF,) if clock_off else ()), month, candidate,
                   repeat_of, energy, account, index)


def _energy_from(start, stop):
    return transaction_id.consumed_wh(start["meter_start_wh"], stop.meter_stop_wh)


def _stateless_wh(stop):
    """The energy the transactionId alone gives: to the Wh with a consistent begin reading, else whole kWh."""
    decoded = transaction_id.decode(stop.transaction_id)
    if decoded is None:
        return None
    if stop.begin_wh is not None and stop.begin_wh // 1000 % transaction_id.SPAN == decoded.start_kwh:
        return stop.meter_stop_wh - stop.begin_wh
    return transaction_id.consumed_kwh(decoded.start_kwh, stop.meter_stop_wh) * 1000


def needs_charger_records(stop, records):
    """True unless `records` (those of the transactionId) hold a start of it on the stop's charger: only
    then does classify() need the charger's own records too (its running sessions, its history)."""
    return not any(matching.is_start(r) and r.get("charger") == stop.charger
                   and matching.agrees(r, stop.transaction_id) for r in records)


def energy_problem(energy, duration_s, site):
    """The review reason of a session's energy (Wh, None: unknown) over its duration, or None; for
    both protocols' stops."""
    if energy is None:
        return None
    if energy < 0:
        return NEGATIVE
    if energy > site.max_session_wh:
        return TOO_MUCH_ENERGY
    if duration_s is not None and (duration_s < 0 or energy * 3600 > site.max_power_kw * 1000 * duration_s):
        return IMPLAUSIBLE
    return None


def tag_problem(stop, index, site):
    """The stop's idTag, when it carries one, must belong to the session's account."""
    if stop.id_tag is None:
        return None
    return None if site.tag_index(stop.id_tag) == index else OTHER_TAG


def _duration_s(start, stop, clock_off):
    """Whole seconds from the start's time to the stop's (to its receipt, when the clock was off)."""
    began = timestamps.parse(start.get("start_time"))
    ended = stop.received if clock_off else timestamps.parse(stop.stop_time)
    if began is None or ended is None:
        return None
    return int((ended - began).total_seconds() // 1)


def duration_s(start, stop_time, received, clock_off):
    """duration_s as the stop line records it (None when a time cannot be read)."""
    return _duration_s(start, Stop(None, None, None, None, stop_time, received), clock_off)


def _consistent(moment, start, received):
    if moment is None:
        return True  # no time claimed: nothing to distrust, the receipt decides
    if moment > received + CLOCK_TOLERANCE or moment < received - MAX_STOP_AGE:
        return False
    began = None if start is None else timestamps.parse(start.get("start_time"))
    return began is None or moment >= began


def billing_month(stop_time, start, received, tz):
    """('YYYY-MM' in the site's zone, clock_off): the month of the stop time when it is consistent (not
    before its start, not after it was received, not years before), else of the receipt time."""
    moment = timestamps.parse(stop_time)
    consistent = _consistent(moment, start, received)
    if moment is None or not consistent:
        moment = received
    return months.label(months.of(min(moment, received).astimezone(tz))), not consistent


def search_months(stop_time, received, tz):
    """The month labels a stop's start is looked for in, oldest first: the month of its stop time (when
    it can be trusted at all) and of its receipt, each with the month before."""
    found = set()
    for moment in (timestamps.parse(stop_time), received):
        if moment is not None and _consistent(moment, None, received):
            month = months.of(min(moment, received).astimezone(tz))
            found.update((month, months.previous(month)))
    return [months.label(m) for m in sorted(found)]
