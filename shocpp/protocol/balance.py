"""Site sharing and solar charging for shocpp-balance: pure functions of plain data, the clock passed in.

share():         the current each charging connector may draw, per phase never more than is available:
                 equal shares, capped at each one's cap, what a capped one leaves going to the others,
                 never below min_a for one that charges (the lowest priority, then the latest started,
                 are paused with 0 A when the minimums don't all fit).
surplus_step():  the pv/minpv state machine of one connector: enable and disable delays, 3<->1 phase
                 switching with its pause, the grid meter ignored while it settles.
grid_step():     the grid meter's reading with its failures: the last good one holds for one interval.
decide():        one round: all of the above for every connector, with a reason for each decision.
Currents are whole amperes (int): every share and sum is exact.
"""

import math
from collections import Counter
from dataclasses import dataclass, replace
from typing import Optional, Tuple

VOLTS = 230
PHASES = ("L1", "L2", "L3")
CHARGING = ("Charging", "SuspendedEV", "SuspendedEVSE")  # SuspendedEVSE: also what 0 A from us looks like
REFRESH_S = 900            # a profile that did not change is sent again at most this often
ABSURD_FACTOR = 10         # a grid reading beyond this many times the connection's power is absurd
PLAUSIBLE_FACTOR = 1.1     # a connector's reading above its max_a times this (plus the margin) is impossible
PLAUSIBLE_MARGIN_A = 1


# -- sharing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Demand:
    """A connector that wants current: at least min_a, at most cap_a, on `phases` (names)."""
    key: tuple
    phases: Tuple[str, ...]
    min_a: int
    cap_a: int
    priority: int = 0
    started: str = ""          # later started ones are paused first among equal priority


def share(available, demands):
    """{key: (amperes, why)} for every demand; `available`: {phase: amperes} (negative counts as 0).

    The sum on each phase is at most its available current, exactly."""
    remaining = {p: max(0, int(available.get(p, 0))) for p in PHASES}
    result = {d.key: (0, "no current wanted") for d in demands if d.cap_a <= 0}
    wanting = sorted((d for d in demands if d.cap_a > 0), key=lambda d: (-d.priority, d.started, d.key))
    admitted = list(wanting)
    while admitted and not _minimums_fit(admitted, remaining):
        paused = admitted.pop()
        result[paused.key] = (0, f"paused: not enough current for every minimum (priority {paused.priority})")
    level = {d.key: d.min_a for d in admitted}
    for d in admitted:
        for p in d.phases:
            remaining[p] -= d.min_a
    by_key = {d.key: d for d in admitted}
    growing = {d.key for d in admitted if d.min_a < d.cap_a}
    blocked = set()
    while growing:
        low = min(level[k] for k in growing)
        group = [k for k in growing if level[k] == low]
        need = Counter(p for k in group for p in by_key[k].phases)
        full = {p for p, n in need.items() if n > remaining[p]}
        if full:
            stuck = {k for k in group if full & set(by_key[k].phases)}
            growing -= stuck
            blocked |= stuck
            continue
        for k in group:
            level[k] += 1
            for p in by_key[k].phases:
                remaining[p] -= 1
            if level[k] >= by_key[k].cap_a:
                growing.discard(k)
    for d in admitted:
        if level[d.key] >= d.cap_a:
            why = f"capped at {d.cap_a} A"
        elif d.key in blocked and level[d.key] > d.min_a:
            why = f"equal share of what {'/'.join(d.phases)} allow"
        else:
            why = f"minimum {d.min_a} A: no more available on {'/'.join(d.phases)}"
        result[d.key] = (level[d.key], why)
    return result


def _minimums_fit(demands, remaining):
    used = Counter()
    for d in demands:
        for p in d.phases:
            used[p] += d.min_a
    return all(used[p] <= remaining[p] for p in used)


def phase_names(phases, phase="L1"):
    return PHASES if phases == 3 else (phase,)


# -- the grid meter --------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridState:
    last_w: Optional[float] = None   # the last good reading
    at: Optional[float] = None       # when it was read


def grid_step(state, now, value, interval_s, grid_limit_a):
    """(state, watts or None, note): a good reading, or the last good one while it is at most one
    interval old (None after that: the connectors fall back to their minimum)."""
    limit = ABSURD_FACTOR * grid_limit_a * 3 * VOLTS
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
            and abs(value) <= limit:
        return GridState(value, now), value, None
    problem = "no reading" if value is None else f"absurd reading {value!r}"
    if state.at is not None and now - state.at <= interval_s * 1.5:
        return state, state.last_w, f"grid meter: {problem}; holding the last good reading {state.last_w:g} W"
    if state.at is None:
        return state, None, f"grid meter: {problem}; no good reading yet"
    return state, None, f"grid meter: {problem}; no good reading for more than one interval"


# -- surplus and phases ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Surplus:
    """The pv/minpv state of one connector."""
    enabled: bool = False
    phases: int = 3
    surplus_since: Optional[float] = None   # enough for the minimum at the phases in use, since
    deficit_since: Optional[float] = None
    three_since: Optional[float] = None     # enough for the three-phase minimum, since
    short3_since: Optional[float] = None    # not enough for it, since
    pause_until: Optional[float] = None     # a phase switch: 0 A until then
    settle_until: Optional[float] = None    # the grid meter is ignored until then


@dataclass(frozen=True)
class Timing:
    enable_delay_s: float = 60
    disable_delay_s: float = 180
    phase_switch_pause_s: float = 120
    meter_settle_s: float = 60


def _since(mark, condition, now):
    return (now if mark is None else mark) if condition else None


def _lasted(mark, now, seconds):
    return mark is not None and now - mark >= seconds


def surplus_step(state, now, surplus_w, settings, timing):
    """(state, cap_a, phases, why) for one pv or minpv connector; surplus_w: the watts it may use
    (None: unknown, the meter is ignored while it settles after a phase switch)."""
    s = settings
    can_switch = s.phases == 3 and s.phase_switching
    if not can_switch:
        state = replace(state, phases=s.phases)
    if state.pause_until is not None and now < state.pause_until:
        return state, 0, state.phases, f"{s.mode}: phase switch to {state.phases}: paused until t+{state.pause_until - now:g} s"
    if state.settle_until is not None and now < state.settle_until:
        cap = s.min_a if (state.enabled or s.mode == "minpv") else 0
        return state, cap, state.phases, f"{s.mode}: {state.phases} phase(s), grid meter settling after the switch"
    if surplus_w is None:
        cap = s.min_a if (state.enabled or s.mode == "minpv") else 0
        return state, cap, state.phases, f"{s.mode}: surplus unknown"
    state = replace(state, pause_until=None, settle_until=None)
    minimum = lambda phases: s.min_a * phases * VOLTS  # noqa: E731
    enough3 = surplus_w >= minimum(3)
    state = replace(state, three_since=_since(state.three_since, enough3, now),
                    short3_since=_since(state.short3_since, not enough3, now))
    if s.mode == "pv" and not state.enabled:
        lowest = 1 if can_switch else s.phases
        enough = surplus_w >= minimum(lowest)
        state = replace(state, surplus_since=_since(state.surplus_since, enough, now), deficit_since=None)
        if not _lasted(state.surplus_since, now, timing.enable_delay_s):
            waiting = f"surplus {surplus_w:g} W for {now - state.surplus_since:g} of {timing.enable_delay_s:g} s" \
                if enough else f"surplus {surplus_w:g} W is less than {minimum(lowest)} W"
            return state, 0, state.phases, f"pv: off, {waiting}"
        phases = (3 if _lasted(state.three_since, now, timing.enable_delay_s) else 1) if can_switch else s.phases
        state = replace(state, enabled=True, phases=phases, surplus_since=None)
    phases = state.phases
    if can_switch and phases == 3 and _lasted(state.short3_since, now, timing.disable_delay_s):
        return _switch(state, now, 1, timing, s, f"less than {minimum(3)} W for {timing.disable_delay_s:g} s")
    if can_switch and phases == 1 and _lasted(state.three_since, now, timing.enable_delay_s):
        return _switch(state, now, 3, timing, s, f"{minimum(3)} W or more for {timing.enable_delay_s:g} s")
    enough = surplus_w >= minimum(phases)
    state = replace(state, deficit_since=_since(state.deficit_since, not enough, now))
    if s.mode == "pv" and _lasted(state.deficit_since, now, timing.disable_delay_s):
        state = replace(state, enabled=False, deficit_since=None, surplus_since=None)
        return state, 0, phases, f"pv: stopped, surplus {surplus_w:g} W under {minimum(phases)} W " \
                                 f"for {timing.disable_delay_s:g} s"
    cap = max(s.min_a, min(s.max_a, int(max(0, surplus_w) // (VOLTS * phases))))
    why = f"{s.mode}: surplus {surplus_w:g} W on {phases} phase(s)"
    if not enough:
        why += f", under {minimum(phases)} W for {now - state.deficit_since:g} s"
    return state, cap, phases, why


def _switch(state, now, phases, timing, settings, why):
    pause_end = now + timing.phase_switch_pause_s
    state = Surplus(enabled=state.enabled, phases=phases, pause_until=pause_end,
                    settle_until=pause_end + timing.meter_settle_s)
    return state, 0, phases, f"{settings.mode}: switching to {phases} phase(s) ({why}): " \
                             f"0 A for {timing.phase_switch_pause_s:g} s"


# -- one round -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sent:
    """A limit a charger accepted: when, and in which run of the balancer on which connection (a
    limit from another run or connection is a hint, never proof of what the charger has)."""
    limit_a: int
    phases: int
    at: float
    run: str = ""
    connection: str = ""
    purpose: str = "TxDefaultProfile"
    transaction_id: Optional[int] = None


@dataclass(frozen=True)
class Connector:
    """What the run directory and the ledger know of one connector."""
    charger: str
    connector_id: int
    status: Optional[str] = None
    power_w: Optional[float] = None
    started: str = ""                 # the session's start time, for who pauses first
    transaction_id: Optional[int] = None
    failed: bool = False              # the charger refused a profile: counted at its max, left alone
    current_a: tuple = ()             # ((phase, amperes), ...): Current.Import per phase
    connected: bool = True            # False: gone, with a session still running in the ledger
    accepted: Optional[Sent] = None   # the limit it last accepted
    reading_at: Optional[float] = None  # when its meter values arrived (the server's clock; None: unknown)


@dataclass(frozen=True)
class Decision:
    charger: str
    connector_id: int
    limit_a: Optional[int]            # None: nothing is sent (unmanaged, refused, gone)
    phases: int
    reason: str
    transaction_id: Optional[int] = None
    draw_a: Optional[float] = None    # the most it draws on a phase, as measured (None: no good reading)
    honouring: bool = True            # False: it draws above its limit although it was sent again
    resend: Optional[str] = None      # why the same limit goes out again (it draws above it)
    mode: str = "fast"

    def as_json(self):
        return {"charger": self.charger, "connector_id": self.connector_id, "limit_a": self.limit_a,
                "phases": self.phases, "mode": self.mode, "draw_a": self.draw_a, "honouring": self.honouring,
                "reason": self.reason}


@dataclass(frozen=True)
class Loop:
    """A connector seen drawing above its limit: when its limit was sent again."""
    resent_at: float


@dataclass(frozen=True)
class Outcome:
    decisions: list
    surplus: dict                     # {(charger, connector_id): Surplus}
    loops: dict                       # {(charger, connector_id): Loop}
    notes: tuple = ()                 # readings ignored, strangers: for the log


def charging(connector):
    """A connector that charges or may: charging, suspended (also by our 0 A), or a running session
    with no status yet."""
    return connector.connector_id > 0 and (connector.status in CHARGING
                                           or (connector.status is None and bool(connector.started)))


def effective(site, controls, charger):
    """A charger's settings with the operator's mode and maximum (balance_control) on top: a maximum
    below its minimum pauses it (less than 6 A cannot charge)."""
    s = site.settings(charger)
    wanted = (controls or {}).get(charger) or {}
    mode = wanted.get("mode") or s.mode
    max_a = s.max_a if wanted.get("max_a") is None else min(s.max_a, wanted["max_a"])
    if max_a < s.min_a:
        return replace(s, mode=mode, max_a=0, min_a=0)
    return replace(s, mode=mode, max_a=max_a)


def measured(c, physical):
    """({phase: amperes} it draws, or None; a note when the reading is ignored). Current.Import per
    phase, else its power over 230 V and its phases; a reading outside what it can physically draw
    (negative, or above its site.json max_a with a margin) is ignored."""
    names = phase_names(physical.phases, physical.phase)
    most = physical.max_a * PLAUSIBLE_FACTOR + PLAUSIBLE_MARGIN_A
    currents = {p: a for p, a in c.current_a if p in PHASES}
    if currents:
        if all(_number(a) and 0 <= a <= most for a in currents.values()):
            return currents, None
        shown = ", ".join(f"{p} {a!r} A" for p, a in sorted(currents.items()))
        return None, f"reading ignored: Current.Import {shown} is outside 0..{most:g} A"
    if c.power_w is None:
        return None, None
    if _number(c.power_w) and 0 <= c.power_w <= most * VOLTS * len(names):
        return {p: c.power_w / (VOLTS * len(names)) for p in names}, None
    return None, f"reading ignored: Power.Active.Import {c.power_w!r} W is outside 0..{most * VOLTS * len(names):g} W"


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ours(c, run, connection_of):
    """The limit this run of the balancer sent on the charger's current connection, or None."""
    a = c.accepted
    return a if a is not None and a.run == run and a.connection == connection_of.get(c.charger) else None


def loop_check(c, draw, accepted, loop, now, site):
    """(counted: {phase: A} or None, loop, honouring, resend, note) for a connector with a limit of
    ours: above it by more than tolerance_a after ramp_s, its limit is sent again (once); still above
    it ramp_s after that, it does not honour its limit and is counted at what it draws."""
    if draw is None or accepted is None or now - accepted.at < site.ramp_s:
        return None, loop if draw is None else None, True, None, None
    if c.reading_at is not None and c.reading_at < accepted.at + site.ramp_s:
        return None, loop, True, None, None  # a reading from before the charger had time to follow: wait
    most = max(draw.values())
    if most <= accepted.limit_a + site.tolerance_a:
        return None, None, True, None, None
    said = f"draws {most:g} A with a limit of {accepted.limit_a} A"
    if loop is None:
        return None, Loop(now), True, f"{said}: its limit sent again", None
    if now - loop.resent_at < site.ramp_s:
        return None, loop, True, None, None
    counted = {p: math.ceil(a) for p, a in draw.items()}
    return counted, loop, False, None, f"not honouring its limit: {said}; counted at its draw"


def decide(site, connectors, grid_w, surplus_states, now, meter_failed=False, meter_note=None,
           profiled=frozenset(), controls=None, loops=None, run="", connection_of=None):
    """One round: an Outcome with a Decision for each connector of the site's chargers that charges
    (or whose charger is gone with its session running), and for those in `profiled` (they have a
    profile from us) that no longer do.

    Only chargers named in site.json count; any other identity gets nothing and changes nothing.
    grid_w: the grid power in W (negative when exporting), None without a grid meter or when it
    failed (meter_failed: then every charging connector gets its minimum, never the whole limit).
    controls: the operator's {charger: {"mode", "max_a"}}. loops: the closed loop's state.
    run, connection_of: this run of the balancer and each charger's connection, to tell the limits
    it sent itself (the closed loop checks those) from hints.
    A connector whose session ended keeps no stale limit: its share has gone to the others, so the
    next car there gets its min_a only when that is free on its phases after everyone else (in
    priority order), else 0 A until the next round gives it a share; pv always 0 A (the surplus
    starts it)."""
    loops, connection_of = loops or {}, connection_of or {}
    strangers = sorted({c.charger for c in connectors if c.charger not in site.chargers})
    notes = [f"not in site.json, ignored: {', '.join(strangers)}"] if strangers else []
    balanced = [c for c in connectors if c.charger in site.chargers]
    active = [c for c in balanced if c.connected and charging(c)]
    gone = [c for c in balanced if not c.connected and c.connector_id > 0]
    draws = {}
    for c in active:
        draw, note = measured(c, site.settings(c.charger))
        draws[(c.charger, c.connector_id)] = draw
        if note:
            notes.append(f"{c.charger} connector {c.connector_id}: {note}")
    available, note = _available(site, grid_w, draws, meter_note)
    fixed = {(c.charger, c.connector_id): _gone(c, effective(site, controls, c.charger)) for c in gone}
    demands, wanted, new_states, new_loops, checked = [], {}, {}, {}, {}
    solar = [c for c in active if effective(site, controls, c.charger).mode in ("pv", "minpv") and not c.failed]
    pv_power = sum(sum((draws.get((c.charger, c.connector_id)) or {}).values()) * VOLTS for c in solar)
    surplus_w = None if grid_w is None else (pv_power - grid_w) / max(1, len(solar))
    for c in active:
        s = effective(site, controls, c.charger)
        key = (c.charger, c.connector_id)
        if c.failed or s.mode == "unmanaged":
            fixed[key] = ({p: s.max_a for p in phase_names(s.phases, s.phase)}, None, s.phases,
                          "refused a profile: counted at its max until it reconnects" if c.failed
                          else "unmanaged: no profile, counted at its max")
            continue
        ours = _ours(c, run, connection_of)
        counted, loop, honouring, resend, loop_note = loop_check(c, draws[key], ours, loops.get(key), now, site)
        if loop is not None:
            new_loops[key] = loop
        checked[key] = (honouring, resend)
        if counted is not None:  # its limit stays (lower, if the operator lowered its mode or maximum)
            fixed[key] = (counted, 0 if s.mode == "off" else min(ours.limit_a, s.max_a), ours.phases, loop_note)
            continue
        cap, phases, reason, state = _wanted(site, c.charger, s, surplus_states.get(key, Surplus(phases=s.phases)),
                                             now, grid_w, surplus_w, meter_failed, note)
        if state is not None:
            new_states[key] = state
        wanted[key] = (phases, reason)
        names = phase_names(phases, s.phase)
        draw = draws[key] or {}
        used = tuple(p for p in PHASES if p in names or draw.get(p, 0) > site.tolerance_a)  # what it really uses
        demands.append(Demand(key, used, min(s.min_a, cap), cap, s.priority, c.started))
    for per_phase, *_ in fixed.values():
        for p, amps in per_phase.items():
            available[p] -= amps
    shares = share(available, demands)
    left = dict(available)
    for d in demands:
        for p in d.phases:
            left[p] -= shares[d.key][0]
    decisions = []
    for c in active + gone:
        key = (c.charger, c.connector_id)
        draw = draws.get(key)
        if key in fixed:
            _, limit, phases, reason = fixed[key]
        else:
            (limit, shared), (phases, reason) = shares[key], wanted[key]
            reason = f"{reason}; {shared}" + (f"; {note}" if note else "")
        decisions.append(Decision(c.charger, c.connector_id, limit, phases, reason, c.transaction_id,
                                  round(max(draw.values()), 1) if draw else None, *checked.get(key, (True, None)),
                                  effective(site, controls, c.charger).mode))
    idle = [c for c in balanced if c.connected and c.connector_id > 0 and not charging(c) and not c.failed
            and (c.charger, c.connector_id) in profiled]
    return Outcome(decisions + _idle(site, controls, idle, left), new_states, new_loops, tuple(notes))


def _available(site, grid_w, draws, note):
    """({phase: A} the chargers may share, the note on the grid meter): the grid limit less the rest of
    the building (the grid reading less what the balanced chargers draw, spread over three phases)."""
    if grid_w is None:
        return {p: site.grid_limit_a for p in PHASES}, note
    chargers_w = sum(sum(d.values()) * VOLTS for d in draws.values() if d)
    other_a = math.ceil(max(0, grid_w - chargers_w) / (3 * VOLTS))
    return ({p: site.grid_limit_a - other_a for p in PHASES},
            note or f"grid {grid_w:g} W, the rest of the building {max(0, grid_w - chargers_w):g} W")


def _gone(c, s):
    """A gone charger's connector, counted apart: ({phase: A}, no limit, phases, why)."""
    a = c.accepted
    amps, phases = (a.limit_a, a.phases) if a else (s.max_a, s.phases)
    why = f"gone: counted at the limit it last accepted, {amps} A" if a else \
        f"gone: counted at its max {amps} A (no limit accepted)"
    return {p: amps for p in phase_names(phases, s.phase)}, None, phases, why + ", until it comes back or its session ends"


def _wanted(site, charger, s, surplus, now, grid_w, surplus_w, meter_failed, note):
    """(cap A, phases, why, the new surplus state or None) of a charging connector by its mode."""
    timing = Timing(site.enable_delay_s, site.disable_delay_s, site.phase_switch_pause_s, site.meter_settle_s)
    state, phases = None, s.phases
    if s.mode == "off":
        cap, reason = 0, "off: paused"
    elif meter_failed:
        cap, reason = s.min_a, f"{note or 'grid meter failed'}: its minimum"
        phases = surplus.phases if s.mode != "fast" else s.phases
        state = surplus
    elif s.mode in ("pv", "minpv"):
        state, cap, phases, reason = surplus_step(surplus, now, 0 if grid_w is None else surplus_w, s, timing)
        if grid_w is None:
            reason += " (no grid meter)"
    else:
        cap, reason = s.max_a, "fast"
    if s.max_a == 0 and s.mode != "off":
        reason += f"; the operator's maximum is below its minimum {site.settings(charger).min_a} A"
    return cap, phases, reason, state


def _idle(site, controls, connectors, left):
    """The decisions for connectors with a profile of ours that no longer charge, in priority order:
    min_a where it is free on their phases (taken from `left`), else 0 A; pv and off 0 A."""
    decisions = []
    for c in sorted(connectors, key=lambda c: (-site.settings(c.charger).priority, c.charger, c.connector_id)):
        s = effective(site, controls, c.charger)
        if s.mode == "unmanaged":
            continue
        names = phase_names(s.phases, s.phase)
        if s.mode in ("pv", "off") or s.max_a == 0:
            amps, reason = 0, f"not charging ({s.mode}): 0 A" + (
                ", the surplus starts the next session" if s.mode == "pv" else "")
        elif all(left[p] >= s.min_a for p in names):
            amps, reason = s.min_a, f"not charging: its minimum {s.min_a} A is free for the next car"
            for p in names:
                left[p] -= s.min_a
        else:
            amps, reason = 0, f"not charging: 0 A, its minimum {s.min_a} A is not free on {'/'.join(names)}"
        decisions.append(Decision(c.charger, c.connector_id, amps, s.phases, reason, mode=s.mode))
    return decisions


# -- profiles --------------------------------------------------------------------------------------

AROUND = "a profile was sent to it around the balancer"


def should_send(last, decision, now, run="", connection="", around_at=None):
    """Why a profile goes out now, or None: none sent by this run on this connection yet (what a
    charger holds after our restart or its reconnect is never taken on trust), a profile sent to it
    around the balancer since (around_at), a change of 1 A or more, of the phases or of the
    transaction (a TxProfile), a connector drawing above it, or a refresh after REFRESH_S (chargers
    write profiles to flash: nothing is sent without a reason)."""
    if decision.limit_a is None:
        return None
    if last is None:
        return "first profile"
    if last.run != run:
        return "first round of this run: making sure it holds its limit"
    if last.connection != connection:
        return "reconnected"
    if around_at is not None and around_at >= last.at:
        return AROUND
    if decision.resend:
        return decision.resend
    if decision.phases != last.phases:
        return f"phases {last.phases} -> {decision.phases}"
    if abs(decision.limit_a - last.limit_a) >= 1:
        return f"{last.limit_a} A -> {decision.limit_a} A"
    if last.purpose == "TxProfile" and decision.transaction_id != last.transaction_id:
        return "a new transaction"
    if now - last.at >= REFRESH_S:
        return "refresh"
    return None


PROFILE_ID_BASE = 1400


def charging_profile(decision, settings, stack_level, start_schedule, purpose=None, unit=None):
    """The SetChargingProfile payload for a decision; purpose and unit: what the charger was found
    to take (default: site.json's). A TxProfile needs the transaction, else it is a TxDefaultProfile."""
    purpose = purpose or settings.purpose
    if purpose == "TxProfile" and decision.transaction_id is None:
        purpose = "TxDefaultProfile"
    if (unit or settings.unit) == "W":
        unit, limit = "W", decision.limit_a * VOLTS * decision.phases
    else:
        unit, limit = "A", decision.limit_a
    profile = {"chargingProfileId": PROFILE_ID_BASE + decision.connector_id, "stackLevel": stack_level,
               "chargingProfilePurpose": purpose, "chargingProfileKind": "Absolute",
               "chargingSchedule": {"startSchedule": start_schedule, "chargingRateUnit": unit,
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit,
                                                                "numberPhases": decision.phases}]}}
    if purpose == "TxProfile":
        profile["transactionId"] = decision.transaction_id
    return {"connectorId": decision.connector_id, "csChargingProfiles": profile}


CONFIGURATION_KEYS = ["ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit"]


def _configured(configuration, key):
    for entry in (configuration or {}).get("configurationKey") or ():
        if isinstance(entry, dict) and entry.get("key") == key:
            return str(entry.get("value", "")).strip()
    return None


def stack_level(configuration):
    """ChargeProfileMaxStackLevel from a GetConfiguration confirmation (0 when not there)."""
    value = _configured(configuration, "ChargeProfileMaxStackLevel")
    return min(int(value), 100) if value and value.isdigit() else 0


def rate_unit(configuration):
    """The unit a charger takes, from ChargingScheduleAllowedChargingRateUnit ("Current", "Power" or
    both): "A" or "W" when it takes only that one, None when both or not said."""
    value = _configured(configuration, "ChargingScheduleAllowedChargingRateUnit") or ""
    units = {{"current": "A", "power": "W"}.get(v.strip().lower()) for v in value.split(",")} - {None}
    return units.pop() if len(units) == 1 else None
