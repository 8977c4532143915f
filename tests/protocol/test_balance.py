"""shocpp-balance's pure core: sharing, the grid meter, the surplus and phase state machine (fake clock)."""

from dataclasses import replace

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from shocpp.protocol import balance, site as site_module
from shocpp.protocol.balance import PHASES, Connector, Demand, GridState, Surplus, Timing, share, surplus_step
from shocpp.protocol.site import Settings

L1, = ("L1",)
THREE = PHASES


def per_phase(result, demands):
    sums = {p: 0 for p in PHASES}
    for d in demands:
        for p in d.phases:
            sums[p] += result[d.key][0]
    return sums


SHARING = [
    # (available per phase, [(name, phases, min, cap, priority, started)], {name: amperes})
    ("three chargers on 32 A", 32,
     [("a", THREE, 6, 16, 0, "1"), ("b", THREE, 6, 16, 0, "2"), ("c", THREE, 6, 16, 0, "3")],
     {"a": 10, "b": 10, "c": 10}),
    ("one capped at 8 A leaves the rest to the others", 32,
     [("a", THREE, 6, 8, 0, "1"), ("b", THREE, 6, 32, 0, "2"), ("c", THREE, 6, 32, 0, "3")],
     {"a": 8, "b": 12, "c": 12}),
    ("two on 32 A, one capped at 16 A", 32,
     [("a", THREE, 6, 16, 0, "1"), ("b", THREE, 6, 32, 0, "2")],
     {"a": 16, "b": 16}),
    ("a fourth starting", 32,
     [("a", THREE, 6, 16, 0, "1"), ("b", THREE, 6, 16, 0, "2"), ("c", THREE, 6, 16, 0, "3"),
      ("d", THREE, 6, 16, 0, "4")],
     {"a": 8, "b": 8, "c": 8, "d": 8}),
    ("a sixth does not fit: the latest started pauses", 32,
     [(n, THREE, 6, 16, 0, str(i)) for i, n in enumerate("abcdef")],
     {"a": 6, "b": 6, "c": 6, "d": 6, "e": 6, "f": 0}),
    ("the lowest priority pauses first", 16,
     [("a", THREE, 6, 16, 1, "1"), ("b", THREE, 6, 16, 0, "2"), ("c", THREE, 6, 16, 2, "3")],
     {"a": 8, "b": 0, "c": 8}),
    ("not enough for one minimum", 5, [("a", THREE, 6, 16, 0, "1")], {"a": 0}),
    ("one-phase and three-phase together: L1 is shared, L2 and L3 not", 20,
     [("one", (L1,), 6, 32, 0, "1"), ("three", THREE, 6, 32, 0, "2")],
     {"one": 10, "three": 10}),
    ("one-phase chargers on different phases do not share", 16,
     [("x", ("L1",), 6, 16, 0, "1"), ("y", ("L2",), 6, 16, 0, "2"), ("z", THREE, 6, 16, 0, "3")],
     {"x": 8, "y": 8, "z": 8}),
    ("nothing wanted", 32, [("a", THREE, 6, 0, 0, "1")], {"a": 0}),
    ("shares are equal, what is left over stays unused", 32,
     [("a", THREE, 6, 32, 0, "1"), ("b", THREE, 6, 32, 0, "2"), ("c", THREE, 6, 32, 0, "3")],
     {"a": 10, "b": 10, "c": 10}),
]


@pytest.mark.parametrize("label, amps, rows, expected", SHARING, ids=[row[0] for row in SHARING])
def test_sharing(label, amps, rows, expected):
    demands = [Demand(n, ph, mn, cap, pr, started) for n, ph, mn, cap, pr, started in rows]
    result = share({p: amps for p in PHASES}, demands)
    assert {k: v[0] for k, v in result.items()} == expected
    assert all(total <= amps for total in per_phase(result, demands).values())


def test_a_phase_with_less_available_limits_only_those_on_it():
    demands = [Demand("one", ("L2",), 6, 32), Demand("three", THREE, 6, 32)]
    result = share({"L1": 32, "L2": 14, "L3": 32}, demands)
    assert result["one"][0] == 7 and result["three"][0] == 7


@hsettings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(PHASES), st.integers(-10, 80), min_size=3, max_size=3),
       st.lists(st.tuples(st.sampled_from([THREE, ("L1",), ("L2",), ("L3",)]), st.integers(0, 16),
                          st.integers(0, 40), st.integers(-2, 2)), max_size=8))
def test_sharing_never_exceeds_a_phase_and_respects_minimum_and_cap(available, rows):
    demands = [Demand(i, ph, min(mn, cap), cap, pr, str(i)) for i, (ph, mn, cap, pr) in enumerate(rows)]
    result = share(available, demands)
    for p, total in per_phase(result, demands).items():
        assert total <= max(0, available[p])
    for d in demands:
        amps = result[d.key][0]
        assert amps == 0 or d.min_a <= amps <= d.cap_a


# -- the grid meter ---------------------------------------------------------------------------------

def test_a_failing_meter_holds_the_last_good_reading_for_one_interval_then_fails():
    state, watts, note = balance.grid_step(GridState(), 0, 5000, 30, 32)
    assert (watts, note) == (5000, None)
    state, watts, note = balance.grid_step(state, 30, None, 30, 32)
    assert watts == 5000 and "holding" in note
    state, watts, note = balance.grid_step(state, 60, float("nan"), 30, 32)
    assert watts is None and "absurd" in note
    _, watts, _ = balance.grid_step(state, 90, 1e9, 30, 32)
    assert watts is None
    _, watts, _ = balance.grid_step(state, 90, -3000, 30, 32)
    assert watts == -3000


# -- surplus and phases -----------------------------------------------------------------------------

TIMING = Timing(enable_delay_s=60, disable_delay_s=180, phase_switch_pause_s=120, meter_settle_s=60)
PV3 = Settings(min_a=6, max_a=16, phases=3, mode="pv")


def run(settings, script, state=None):
    """[(t, surplus W)] -> [(t, cap, phases)] stepping the machine at each time."""
    state = state or Surplus(phases=settings.phases)
    out = []
    for t, watts in script:
        state, cap, phases, why = surplus_step(state, t, watts, settings, TIMING)
        assert why
        out.append((t, cap, phases))
    return out, state


def test_pv_starts_after_the_surplus_lasted_enable_delay_and_stops_after_disable_delay():
    # 6 A x 3 x 230 V = 4140 W; 3 phases throughout (enough for three phases)
    script = [(0, 5000), (30, 5000), (60, 5000), (90, 9000), (120, 1000), (200, 1000), (299, 1000), (300, 1000)]
    out, state = run(Settings(min_a=6, max_a=16, phases=3, mode="pv", phase_switching=False), script)
    assert out == [(0, 0, 3), (30, 0, 3), (60, 7, 3), (90, 13, 3), (120, 6, 3), (200, 6, 3), (299, 6, 3),
                   (300, 0, 3)]
    assert not state.enabled


def test_a_surplus_that_does_not_last_does_not_start_pv():
    out, _ = run(PV3, [(0, 5000), (30, 100), (60, 5000), (110, 5000), (120, 5000)])
    assert [cap for _, cap, _ in out] == [0, 0, 0, 0, 7]  # 5000 W / 690 V


def test_minpv_charges_its_minimum_without_surplus_and_more_with_it():
    settings = Settings(min_a=6, max_a=16, phases=1, mode="minpv")
    out, _ = run(settings, [(0, 0), (30, 2300), (60, -500), (90, 10_000)])
    assert out == [(0, 6, 1), (30, 10, 1), (60, 6, 1), (90, 16, 1)]


def test_phase_switch_3_to_1_with_its_pause_and_settling_then_back_to_3():
    # enough for one phase (1380 W) but not three (4140 W)
    state = Surplus(enabled=True, phases=3)
    script = [(0, 2000), (100, 2000), (180, 2000),                # 180 s short of three phases: switch
              (200, 9000), (299, 9000),                          # the pause: 0 A whatever the meter says
              (300, 9000), (359, -9999),                         # settling: the meter is ignored, minimum
              (360, 9000), (419, 9000), (420, 9000),             # three phases for 60 s: switch back
              (540, 9000), (599, 9000), (600, 9000)]
    out, state = run(PV3, script, state)
    assert out == [(0, 6, 3), (100, 6, 3), (180, 0, 1),
                   (200, 0, 1), (299, 0, 1),
                   (300, 6, 1), (359, 6, 1),
                   (360, 16, 1), (419, 16, 1), (420, 0, 3),
                   (540, 6, 3), (599, 6, 3), (600, 13, 3)]


def test_pv_starts_on_one_phase_when_three_are_not_there():
    out, state = run(PV3, [(0, 2000), (60, 2000)])
    assert out == [(0, 0, 3), (60, 8, 1)]
    assert state.enabled and state.phases == 1


def test_a_one_phase_pv_charger_starts_and_stays_on_its_one_phase():
    """The README's carport: 2000 W export starts it after a minute at 8 A, on one phase (it was
    told numberPhases 3, counted on three phases, and its minimum taken as 4140 W)."""
    settings = Settings(min_a=6, max_a=16, phases=1, mode="pv")
    out, state = run(settings, [(0, 2000), (60, 2000), (90, 1000), (269, 1000), (270, 1000)])
    assert out == [(0, 0, 1), (60, 8, 1), (90, 6, 1), (269, 6, 1), (270, 0, 1)]
    assert not state.enabled and state.phases == 1
    out, state = run(Settings(min_a=6, max_a=16, phases=3, mode="pv", phase_switching=False),
                     [(0, 5000), (60, 5000)])
    assert out == [(0, 0, 3), (60, 7, 3)]


def test_unknown_surplus_holds_the_state():
    state = Surplus(enabled=True, phases=3)
    new, cap, phases, _ = surplus_step(state, 10, None, PV3, TIMING)
    assert (new, cap, phases) == (state, 6, 3)


# -- one round --------------------------------------------------------------------------------------

SITE = site_module.parse('{"grid_limit_a": 32, "default": {"min_a": 6, "max_a": 16}, '
                         '"chargers": {"a": {}, "b": {}, "idle": {}, "r": {}, "c": {"max_a": 32}, '
                         '"unmanaged": {"mode": "unmanaged"}, "off": {"mode": "off"}, "sun": {"mode": "pv"}}}')


def charging(name, started="", power=0):
    return Connector(name, 1, "Charging", power, started)


def decided(*args, **options):
    return balance.decide(*args, **options).decisions


def limits(decisions):
    return {d.charger: d.limit_a for d in decisions}


def test_a_round_without_a_meter_shares_the_grid_limit():
    decisions = decided(SITE, [charging("a", "1"), charging("b", "2"), charging("c", "3"),
                                         Connector("idle", 1, "Available")], None, {}, 0)
    assert limits(decisions) == {"a": 10, "b": 10, "c": 10}


def test_a_connector_whose_session_ended_gets_its_minimum_when_that_is_free_else_0_a():
    """Its share went to the others; a stale limit would let the next car overload the grid (or a
    stale 0 A leave it waiting): min_a when free after the others, 0 A when not, pv always 0 A."""
    site = site_module.parse('{"grid_limit_a": 32, "default": {"min_a": 6, "max_a": 16}, '
                             '"chargers": {"small": {"max_a": 10}, "unmanaged": {"mode": "unmanaged"}, '
                             '"sun": {"mode": "pv"}, "first": {"priority": 1}, "a": {}, "b": {}, "idle": {}}}')
    ended = lambda name, status="Available": Connector(name, 1, status)  # noqa: E731
    everyone = {(n, 1) for n in ("a", "b", "small", "sun", "off", "idle", "first")}
    decisions = decided(site, [charging("a", "1"), charging("b", "2"), ended("idle", "Finishing")],
                                  None, {}, 0, profiled=everyone)
    assert [(d.charger, d.limit_a, d.reason) for d in decisions] == [
        ("a", 16, "fast; capped at 16 A"), ("b", 16, "fast; capped at 16 A"),
        ("idle", 0, "not charging: 0 A, its minimum 6 A is not free on L1/L2/L3")]
    # 10 + 6 A used: 16 A free, two minimums fit, the higher priority first, then by name; pv 0 A,
    # off and a connector without a profile from us get nothing
    decisions = decided(site, [charging("small", "1"), Connector("b", 1, "Preparing"),
                                         ended("idle"), ended("first"), ended("sun"), ended("off"),
                                         ended("never")], 6 * 230 * 3, {}, 0, profiled=everyone)
    assert [(d.charger, d.limit_a) for d in decisions] == [("small", 10), ("first", 6), ("b", 6), ("idle", 0),
                                                           ("sun", 0)]
    assert decisions[-1].reason == "not charging (pv): 0 A, the surplus starts the next session"
    decisions = decided(site, [ended("idle")], None, {}, 0)
    assert decisions == []


def test_the_rest_of_the_building_is_taken_off():
    # 9660 W on the grid, 6900 W of it the chargers: 2760 W = 4 A per phase for the building
    decisions = decided(SITE, [charging("a", "1", 3450), charging("b", "2", 3450)], 9660, {}, 0)
    assert limits(decisions) == {"a": 14, "b": 14}


def test_unmanaged_and_refusing_chargers_are_counted_at_their_max_and_get_nothing_sent():
    refusing = Connector("r", 1, "Charging", None, "0", failed=True)
    decisions = decided(SITE, [charging("unmanaged", "1"), refusing, charging("a", "2")], None, {}, 0)
    assert limits(decisions) == {"unmanaged": None, "r": None, "a": 0}
    assert decisions[0].reason == "unmanaged: no profile, counted at its max"


def test_off_pauses_a_charger_with_0_a_and_counts_it_at_0_a():
    decisions = decided(SITE, [charging("off", "1"), charging("a", "2"), charging("b", "3")], None, {}, 0)
    assert [(d.charger, d.limit_a, d.reason) for d in decisions] == [
        ("off", 0, "off: paused; no current wanted"), ("a", 16, "fast; capped at 16 A"),
        ("b", 16, "fast; capped at 16 A")]


def test_a_failed_meter_gives_every_charging_connector_its_minimum_not_the_whole_limit():
    decisions = decided(SITE, [charging("a", "1"), charging("sun", "2")], None, {}, 0, meter_failed=True)
    assert limits(decisions) == {"a": 6, "sun": 6}
    assert all("minimum" in d.reason for d in decisions)


def test_pv_uses_the_export():
    states = {}
    for t in (0, 30, 60):
        outcome = balance.decide(SITE, [charging("sun", "1", 0)], -5000, states, t)
        decisions, states = outcome.decisions, outcome.surplus
    assert limits(decisions) == {"sun": 7}
    assert decisions[0].phases == 3


def test_a_profile_is_sent_on_a_change_of_1_a_and_refreshed_after_15_minutes():
    d = balance.Decision("a", 1, 10, 3, "x")
    assert balance.should_send(None, d, 0)
    assert balance.should_send(balance.Sent(10, 3, 0), d, 899) is None
    assert balance.should_send(balance.Sent(10, 3, 0), d, 900) == "refresh"
    assert balance.should_send(balance.Sent(11, 3, 0), d, 1)
    assert balance.should_send(balance.Sent(10, 1, 0), d, 1)
    assert balance.should_send(None, balance.Decision("a", 1, None, 3, "off"), 0) is None


def test_profiles():
    d = balance.Decision("a", 2, 10, 1, "x", transaction_id=77)
    payload = balance.charging_profile(d, Settings(unit="W", purpose="TxProfile"), 3, "2024-01-01T00:00:00Z")
    profile = payload["csChargingProfiles"]
    assert payload["connectorId"] == 2 and profile["transactionId"] == 77 and profile["stackLevel"] == 3
    assert profile["chargingSchedule"]["chargingRateUnit"] == "W"
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 2300,
                                                                      "numberPhases": 1}]
    from shocpp.protocol import schemas
    assert schemas.outgoing_problem("SetChargingProfile", payload) is None
    plain = balance.charging_profile(balance.Decision("a", 1, 6, 3, "x"), Settings(purpose="TxProfile"), 0, "x")
    assert plain["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"  # no transaction known


def test_stack_level_from_get_configuration():
    assert balance.stack_level({"configurationKey": [{"key": "ChargeProfileMaxStackLevel", "readonly": True,
                                                      "value": "8"}]}) == 8
    assert balance.stack_level({"unknownKey": ["ChargeProfileMaxStackLevel"]}) == 0


def test_the_readme_worked_example():
    site = site_module.parse('{"grid_limit_a": 32, "chargers": {"small": {"max_a": 8}, "a": {}, "b": {}, "d": {}}}')
    three = [Connector("a", 1, "Charging", 3450, "1"), Connector("b", 1, "Charging", 3450, "2"),
             Connector("small", 1, "Charging", 0, "3")]
    assert limits(decided(site, three, 9660, {}, 0)) == {"a": 10, "b": 10, "small": 8}
    four = three + [Connector("d", 1, "Charging", 0, "4")]
    assert limits(decided(site, four, 9660, {}, 0)) == {"a": 7, "b": 7, "small": 7, "d": 7}
    heat_pump = 9660 + 12 * 690
    assert limits(decided(site, four, heat_pump, {}, 0)) == {"a": 8, "b": 8, "small": 0, "d": 0}


# -- the closed loop and what is trusted --------------------------------------------------------------

LOOP_SITE = site_module.parse('{"grid_limit_a": 32, "ramp_s": 10, "tolerance_a": 1, '
                              '"default": {"min_a": 6, "max_a": 16}, '
                              '"chargers": {"a": {}, "b": {}, "one": {"phases": 1, "phase": "L2"}, '
                              '"big": {"max_a": 32}}}')
RUN = "run-1"
CONNECTIONS = {"a": "a@1", "b": "b@2", "one": "one@3", "big": "big@4"}


def at(name, limit, phases=3, sent=0, run=RUN):
    """A limit `name` accepted at `sent` in `run`."""
    return balance.Sent(limit, phases, sent, run, CONNECTIONS.get(name, ""))


def drawing(name, amps, accepted=None, phases=THREE, started="1", **more):
    """A charging connector drawing `amps` on `phases` (Current.Import)."""
    return Connector(name, 1, "Charging", None, started, current_a=tuple((p, amps) for p in phases),
                     accepted=accepted, **more)


def loop_round(connectors, now, loops=None, grid_w=None, controls=None, site=LOOP_SITE):
    return balance.decide(site, connectors, grid_w, {}, now, loops=loops, run=RUN, connection_of=CONNECTIONS,
                          controls=controls)


def shown(outcome):
    return [(d.charger, d.limit_a, d.honouring, d.resend is not None) for d in outcome.decisions]


LOOP_CASES = [
    # (what, connectors, now, loops, [(charger, limit, honouring, resend)])
    ("at its limit: nothing to say", [drawing("a", 16, at("a", 16)), drawing("b", 16, at("b", 16))], 100, {},
     [("a", 16, True, False), ("b", 16, True, False)]),
    ("within the tolerance", [drawing("a", 11, at("a", 10)), drawing("b", 10, at("b", 10))], 100, {},
     [("a", 16, True, False), ("b", 16, True, False)]),
    ("above it within the ramp allowance after a send: no judgement yet",
     [drawing("a", 16, at("a", 10, sent=95)), drawing("b", 10, at("b", 10))], 100, {},
     [("a", 16, True, False), ("b", 16, True, False)]),
    ("above it after the ramp allowance: sent again, still counted at its limit",
     [drawing("big", 16, at("big", 10)), drawing("b", 10, at("b", 10)), drawing("a", 10, at("a", 10))], 100, {},
     [("big", 10, True, True), ("b", 10, True, False), ("a", 10, True, False)]),
    ("above it within the ramp allowance after it was sent again: still counted at its limit",
     [drawing("big", 16, at("big", 10)), drawing("b", 10, at("b", 10)), drawing("a", 10, at("a", 10))], 100,
     {("big", 1): balance.Loop(95)}, [("big", 10, True, False), ("b", 10, True, False), ("a", 10, True, False)]),
    ("still above it a ramp allowance after it was sent again: not honouring",
     [drawing("big", 20, at("big", 10)), drawing("b", 10, at("b", 10))], 100, {("big", 1): balance.Loop(90)},
     [("big", 10, False, False), ("b", 12, True, False)]),
    ("a limit of another run is a hint: no judgement, it is sent again anyway",
     [drawing("a", 16, at("a", 10, run="old")), drawing("b", 10, at("b", 10))], 100, {},
     [("a", 16, True, False), ("b", 16, True, False)]),
]


@pytest.mark.parametrize("what, connectors, now, loops, expected", LOOP_CASES, ids=[c[0] for c in LOOP_CASES])
def test_the_closed_loop(what, connectors, now, loops, expected):
    outcome = loop_round(connectors, now, loops)
    assert shown(outcome) == expected


def test_a_charger_drawing_above_its_limit_is_counted_at_its_draw_and_every_phase_stays_within_the_limit():
    outcome = loop_round([drawing("big", 20, at("big", 10)), drawing("b", 10, at("b", 10))], 100,
                         {("big", 1): balance.Loop(90)})
    a, b = outcome.decisions
    assert a.reason == "not honouring its limit: draws 20 A with a limit of 10 A; counted at its draw"
    assert (a.draw_a, b.limit_a) == (20, 12) and 20 + b.limit_a <= 32
    assert outcome.loops == {("big", 1): balance.Loop(90)}
    # the operator pauses it, or lowers its maximum: that limit goes out, it is still counted at its draw
    for controls, limit in (({"big": {"mode": "off"}}, 0), ({"big": {"max_a": 8}}, 8)):
        paused = loop_round([drawing("big", 20, at("big", 10)), drawing("b", 10, at("b", 10))], 100,
                            {("big", 1): balance.Loop(90)}, controls=controls)
        assert [(d.charger, d.limit_a, d.honouring) for d in paused.decisions] == [("big", limit, False),
                                                                                 ("b", 12, True)]
    # back within its limit: honouring again, the loop forgotten
    outcome = loop_round([drawing("big", 10, at("big", 10)), drawing("b", 10, at("b", 10))], 130, outcome.loops)
    assert shown(outcome) == [("big", 16, True, False), ("b", 16, True, False)] and outcome.loops == {}


def test_a_charger_on_other_phases_than_asked_is_counted_on_the_phases_it_uses():
    """'one' is a one-phase charger on L2, asked for 1 phase, but draws 8 A on all three."""
    outcome = loop_round([drawing("one", 8, at("one", 8, phases=1)), drawing("a", 16, at("a", 16)),
                          drawing("b", 16, at("b", 16))], 100)
    # counted on all three phases (not on L2 alone): the three share every phase, 10 A each
    assert [(d.charger, d.limit_a, d.phases) for d in outcome.decisions] == [("one", 10, 1), ("a", 10, 3),
                                                                              ("b", 10, 3)]
    # two one-phase chargers on a 20 A site, 'one' on L2, 'two' on L1: each could have 16 A; 'one'
    # drawing on L1 and L2 shares L1 with 'two': 10 A each
    site = site_module.parse('{"grid_limit_a": 20, "ramp_s": 10, "chargers": {"one": {"phases": 1, "phase": "L2"}, '
                             '"two": {"phases": 1, "phase": "L1"}}}')
    connections = {"one": "one@3", "two": "two@5"}
    two = drawing("two", 10, balance.Sent(10, 1, 0, RUN, "two@5"), phases=("L1",))
    for phases, expected in [(("L2",), [("one", 16), ("two", 16)]), (("L1", "L2"), [("one", 10), ("two", 10)])]:
        one = drawing("one", 10, at("one", 10, phases=1), phases=phases)
        outcome = balance.decide(site, [one, two], None, {}, 100, run=RUN, connection_of=connections)
        assert [(d.charger, d.limit_a) for d in outcome.decisions] == expected


@pytest.mark.parametrize("reading, note", [
    ({"current_a": (("L1", -5), ("L2", 0), ("L3", 0))},
     "a connector 1: reading ignored: Current.Import L1 -5 A, L2 0 A, L3 0 A is outside 0..18.6 A"),
    ({"current_a": (("L1", 100), ("L2", 100), ("L3", 100))},
     "a connector 1: reading ignored: Current.Import L1 100 A, L2 100 A, L3 100 A is outside 0..18.6 A"),
    ({"power_w": 1e9}, "a connector 1: reading ignored: Power.Active.Import 1000000000.0 W is outside 0..12834 W"),
    ({"power_w": -1e9}, "a connector 1: reading ignored: Power.Active.Import -1000000000.0 W is outside 0..12834 W"),
    ({"power_w": float("nan")}, "a connector 1: reading ignored: Power.Active.Import nan W is outside 0..12834 W"),
])
def test_a_reading_outside_what_the_connector_can_draw_is_ignored_and_it_is_counted_at_its_limit(reading, note):
    """With a grid meter of 9660 W: an absurd reading would make 'the rest of the building' 0 W (or
    huge); ignored, the rest is the whole 9660 W (4 A per phase... here 14 A): a and b share 32 - 14 A."""
    absurd = Connector("a", 1, "Charging", reading.get("power_w"), "1", current_a=reading.get("current_a", ()),
                       accepted=at("a", 9))
    outcome = loop_round([absurd, drawing("b", 0, at("b", 9))], 100, grid_w=9660)
    assert outcome.notes == (note,)
    assert [(d.charger, d.limit_a, d.draw_a, d.honouring) for d in outcome.decisions] == [
        ("a", 9, None, True), ("b", 9, 0, True)]


def test_a_stranger_gets_nothing_and_changes_nothing():
    """An identity that is not in site.json reports two connectors charging at 1e9 W, -1e9 W or 0 W
    (the grid meter reads the truth, 6900 W: a and b): the round is the one without it."""
    ours = [drawing("a", 10, at("a", 10)), drawing("b", 10, at("b", 10))]
    without = loop_round(ours, 100, grid_w=6900)
    assert [(d.charger, d.limit_a) for d in without.decisions] == [("a", 16), ("b", 16)]
    for watts in (1e9, -1e9, 0):
        stranger = [Connector("stranger", k, "Charging", watts, "0") for k in (1, 2)]
        outcome = loop_round(stranger + ours, 100, grid_w=6900)
        assert outcome.decisions == without.decisions
        assert outcome.notes == ("not in site.json, ignored: stranger",)


def test_a_gone_charger_is_counted_at_the_limit_it_last_accepted_and_gets_nothing_sent():
    gone = Connector("a", 1, None, None, "1", connected=False, accepted=at("a", 10, sent=50, run="old"))
    outcome = loop_round([gone, drawing("b", 0, at("b", 16))], 100)
    assert [(d.charger, d.limit_a, d.reason) for d in outcome.decisions] == [
        ("b", 16, "fast; capped at 16 A"),
        ("a", None, "gone: counted at the limit it last accepted, 10 A, until it comes back or its session ends")]
    site = site_module.parse('{"grid_limit_a": 20, "chargers": {"a": {}, "b": {}}}')
    outcome = loop_round([gone, drawing("b", 0, at("b", 16))], 100, site=site)
    assert outcome.decisions[0].limit_a == 10  # 20 - 10
    never = Connector("a", 1, None, None, "1", connected=False)
    outcome = loop_round([never, drawing("b", 0, at("b", 16))], 100, site=site)
    assert [(d.limit_a, d.reason) for d in outcome.decisions] == [
        (0, "fast; paused: not enough current for every minimum (priority 0)"),
        (None, "gone: counted at its max 16 A (no limit accepted), until it comes back or its session ends")]


MODE_CASES = [
    # (controls, {charger: limit}) for a and b charging on a 32 A site without a meter
    ({}, {"a": 16, "b": 16}),
    ({"a": {"mode": "off"}}, {"a": 0, "b": 16}),
    ({"a": {"mode": "pv"}}, {"a": 0, "b": 16}),
    ({"a": {"mode": "minpv"}}, {"a": 6, "b": 16}),
    ({"a": {"max_a": 10}}, {"a": 10, "b": 16}),
    ({"a": {"max_a": 20}}, {"a": 16, "b": 16}),     # never above site.json's max_a
    ({"a": {"max_a": 5}}, {"a": 0, "b": 16}),       # below its minimum: paused
    ({"a": {"mode": "fast", "max_a": 8}, "b": {"mode": "off"}}, {"a": 8, "b": 0}),
]


@pytest.mark.parametrize("controls, expected", MODE_CASES)
def test_the_operators_mode_and_maximum_are_applied(controls, expected):
    outcome = loop_round([drawing("a", 0, at("a", 16)), drawing("b", 0, at("b", 16))], 100, controls=controls)
    assert {d.charger: d.limit_a for d in outcome.decisions} == expected
    assert {d.charger: d.mode for d in outcome.decisions} == {
        n: (controls.get(n) or {}).get("mode") or "fast" for n in ("a", "b")}


SEND_CASES = [
    # (last accepted, decision, now, why)
    (None, balance.Decision("a", 1, 10, 3, "x"), 0, "first profile"),
    (at("a", 10, run="old"), balance.Decision("a", 1, 10, 3, "x"), 1,
     "first round of this run: making sure it holds its limit"),
    (balance.Sent(10, 3, 0, RUN, "a@0"), balance.Decision("a", 1, 10, 3, "x"), 1, "reconnected"),
    (at("a", 10), balance.Decision("a", 1, 10, 3, "x", resend="draws 16 A"), 1, "draws 16 A"),
    (at("a", 10), balance.Decision("a", 1, 10, 3, "x"), 899, None),
    (at("a", 10), balance.Decision("a", 1, 10, 3, "x"), 900, "refresh"),
    (at("a", 11), balance.Decision("a", 1, 10, 3, "x"), 1, "11 A -> 10 A"),
    (at("a", 10, phases=1), balance.Decision("a", 1, 10, 3, "x"), 1, "phases 1 -> 3"),
    (balance.Sent(10, 3, 0, RUN, "a@1", "TxProfile", 7), balance.Decision("a", 1, 10, 3, "x", 8), 1,
     "a new transaction"),
    (None, balance.Decision("a", 1, None, 3, "unmanaged"), 0, None),
]
AROUND_CASES = [
    # (when a profile was sent around the balancer, why)
    (None, None), (9.5, None), (10, balance.AROUND), (15, balance.AROUND),
]


@pytest.mark.parametrize("around_at, why", AROUND_CASES)
def test_a_profile_sent_around_the_balancer_since_its_own_is_answered_with_its_own_again(around_at, why):
    last = balance.Sent(10, 3, 10, RUN, "a@1")
    assert balance.should_send(last, balance.Decision("a", 1, 10, 3, "x"), 20, RUN, "a@1", around_at) == why


@pytest.mark.parametrize("last, decision, now, why", SEND_CASES)
def test_when_a_profile_is_sent(last, decision, now, why):
    assert balance.should_send(last, decision, now, RUN, "a@1") == why


@pytest.mark.parametrize("value, unit", [("Current", "A"), ("Power", "W"), ("Current,Power", None),
                                          (" power ", "W"), ("", None)])
def test_the_unit_a_charger_takes_from_its_configuration(value, unit):
    answer = {"configurationKey": [{"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True,
                                    "value": value}]}
    assert balance.rate_unit(answer) == unit
    assert balance.rate_unit({"unknownKey": ["ChargingScheduleAllowedChargingRateUnit"]}) is None


def test_the_learned_purpose_and_unit_shape_the_profile():
    d = balance.Decision("a", 1, 10, 3, "x", transaction_id=77)
    profile = balance.charging_profile(d, Settings(), 0, "x", "TxProfile", "W")["csChargingProfiles"]
    assert (profile["chargingProfilePurpose"], profile["transactionId"]) == ("TxProfile", 77)
    assert profile["chargingSchedule"]["chargingRateUnit"] == "W"
    assert profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 6900


def test_the_first_round_without_a_good_reading_says_so():
    _, watts, note = balance.grid_step(GridState(), 0, None, 30, 32)
    assert (watts, note) == (None, "grid meter: no reading; no good reading yet")


def test_a_reading_from_before_the_charger_had_time_to_follow_is_not_held_against_it():
    """A charger that sends MeterValues every few minutes: its last reading (at 50) predates the end of the
    ramp after its limit was lowered (at 60, ramp_s 10): no judgement until a newer one arrives."""
    big = drawing("big", 16, at("big", 10, sent=60), reading_at=50)
    others = [drawing("b", 10, at("b", 10)), drawing("a", 10, at("a", 10))]
    assert shown(loop_round([big] + others, 100))[0] == ("big", 10, True, False)
    fresh = replace(big, reading_at=71)
    assert shown(loop_round([fresh] + others, 100))[0] == ("big", 10, True, True)
