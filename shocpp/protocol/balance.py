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
class Connector:
    """What the run directory knows of one connector."""
    charger: str
    connector_id: int
    status: Optional[str] = None
    power_w: Optional[float] = None
    started: str = ""                 # the session's start time, for who pauses first
    transaction_id: Optional[int] = None
    failed: bool = False              # the charger refused a profile: counted at its max, left alone


@dataclass(frozen=True)
class Decision:
    charger: str
    connector_id: int
    limit_a: Optional[int]            # None: nothing is sent (mode off, a charger that refused)
    phases: int
    reason: str
    transaction_id: Optional[int] = None

    def as_json(self):
        return {"charger": self.charger, "connector_id": self.connector_id, "limit_a": self.limit_a,
                "phases": self.phases, "reason": self.reason}


def charging(connector):
    """A connector that charges or may: charging, suspended (also by our 0 A), or a running session
    with no status yet."""
    return connector.connector_id > 0 and (connector.status in CHARGING
                                           or (connector.status is None and bool(connector.started)))


def decide(site, connectors, grid_w, surplus_states, now, meter_failed=False, meter_note=None,
           profiled=frozenset()):
    """([Decision], {(charger, connector_id): Surplus}) for the connectors that charge, and for those
    in `profiled` (they have a profile from us) that no longer do.

    grid_w: the grid power in W (negative when exporting), None without a grid meter or when it
    failed (meter_failed: then every charging connector gets its minimum, never the whole limit).
    A connector whose session ended keeps no stale limit: its share has gone to the others, so the
    next car there gets its min_a only when that is free on its phases after everyone else (in
    priority order), else 0 A until the next round gives it a share; pv always 0 A (the surplus
    starts it)."""
    timing = Timing(site.enable_delay_s, site.disable_delay_s, site.phase_switch_pause_s, site.meter_settle_s)
    active = [c for c in connectors if charging(c)]
    available = {p: site.grid_limit_a for p in PHASES}
    note = meter_note
    if grid_w is not None:
        chargers_w = sum((c.power_w or 0) for c in active)
        other_a = math.ceil(max(0, grid_w - chargers_w) / (3 * VOLTS))
        available = {p: site.grid_limit_a - other_a for p in PHASES}
        note = note or f"grid {grid_w:g} W, the rest of the building {max(0, grid_w - chargers_w):g} W"
    fixed, demands, why, phases_of, new_states = {}, [], {}, {}, {}
    solar = [c for c in active if site.settings(c.charger).mode in ("pv", "minpv") and not c.failed]
    pv_power = sum((c.power_w or 0) for c in solar)
    per_connector_w = None if grid_w is None else (pv_power - grid_w) / max(1, len(solar))
    for c in active:
        s = site.settings(c.charger)
        key = (c.charger, c.connector_id)
        phases = s.phases
        if c.failed or s.mode == "off":
            fixed[key] = (s.max_a, phase_names(s.phases, s.phase),
                          "refused a profile: counted at its max until it reconnects" if c.failed
                          else "mode off: no profile, counted at its max")
            continue
        cap = s.max_a
        if meter_failed:
            cap, reason = s.min_a, f"{note or 'grid meter failed'}: its minimum"
            phases = surplus_states.get(key, Surplus(phases=s.phases)).phases if s.mode != "fast" else s.phases
            new_states[key] = surplus_states.get(key, Surplus(phases=s.phases))
        elif s.mode in ("pv", "minpv"):
            if grid_w is None:
                state, cap, phases, reason = surplus_step(surplus_states.get(key, Surplus(phases=s.phases)), now,
                                                          0, s, timing)
                reason += " (no grid meter)"
            else:
                state, cap, phases, reason = surplus_step(surplus_states.get(key, Surplus(phases=s.phases)), now,
                                                          per_connector_w, s, timing)
            new_states[key] = state
        else:
            reason = "fast"
        why[key] = reason
        phases_of[key] = phases
        min_a = min(s.min_a, cap)
        demands.append(Demand(key, phase_names(phases, s.phase), min_a, cap, s.priority, c.started))
    for key, (amps, names, _) in fixed.items():
        for p in names:
            available[p] -= amps
    shares = share(available, demands)
    left = dict(available)
    for d in demands:
        for p in d.phases:
            left[p] -= shares[d.key][0]
    idle = sorted((c for c in connectors if c.connector_id > 0 and not charging(c) and not c.failed
                   and (c.charger, c.connector_id) in profiled and site.settings(c.charger).mode != "off"),
                  key=lambda c: (-site.settings(c.charger).priority, c.charger, c.connector_id))
    idle_decisions = []
    for c in idle:
        s = site.settings(c.charger)
        names = phase_names(s.phases, s.phase)
        if s.mode == "pv":
            amps, reason = 0, "not charging (pv): 0 A, the surplus starts the next session"
        elif all(left[p] >= s.min_a for p in names):
            amps, reason = s.min_a, f"not charging: its minimum {s.min_a} A is free for the next car"
            for p in names:
                left[p] -= s.min_a
        else:
            amps, reason = 0, f"not charging: 0 A, its minimum {s.min_a} A is not free on {'/'.join(names)}"
        idle_decisions.append(Decision(c.charger, c.connector_id, amps, s.phases, reason))
    decisions = []
    for c in active:
        key = (c.charger, c.connector_id)
        s = site.settings(c.charger)
        if key in fixed:
            decisions.append(Decision(c.charger, c.connector_id, None, s.phases, fixed[key][2]))
            continue
        amps, shared = shares[key]
        reason = f"{why[key]}; {shared}" + (f"; {note}" if note else "")
        decisions.append(Decision(c.charger, c.connector_id, amps, phases_of[key], reason, c.transaction_id))
    return decisions + idle_decisions, new_states


# -- profiles --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sent:
    limit_a: int
    phases: int
    at: float


def should_send(last, decision, now):
    """Why a profile goes out now, or None: a change of 1 A or more, of the phases, or a refresh
    after REFRESH_S (chargers write profiles to flash)."""
    if decision.limit_a is None:
        return None
    if last is None:
        return "first profile"
    if decision.phases != last.phases:
        return f"phases {last.phases} -> {decision.phases}"
    if abs(decision.limit_a - last.limit_a) >= 1:
        return f"{last.limit_a} A -> {decision.limit_a} A"
    if now - last.at >= REFRESH_S:
        return "refresh"
    return None


PROFILE_ID_BASE = 1400


def charging_profile(decision, settings, stack_level, start_schedule):
    """The SetChargingProfile payload for a decision."""
    purpose = settings.purpose if (settings.purpose != "TxProfile" or decision.transaction_id is not None) \
        else "TxDefaultProfile"
    if settings.unit == "W":
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


def stack_level(configuration):
    """ChargeProfileMaxStackLevel from a GetConfiguration confirmation (0 when not there)."""
    for entry in (configuration or {}).get("configurationKey") or ():
        if isinstance(entry, dict) and entry.get("key") == "ChargeProfileMaxStackLevel":
            value = str(entry.get("value", "")).strip()
            if value.isdigit():
                return min(int(value), 100)
    return 0
