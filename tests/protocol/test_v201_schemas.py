"""The 2.0.1 schema files: what misc/v201_schemas.py writes, compilable, and agreeing with the `ocpp`
package's own 2.0.1 schemas (an independent judge) on samples and their mutations."""

import importlib.util
from pathlib import Path

import pytest

from shocpp.protocol.v201 import schemas

from conftest import ROOT
from judge201 import judge_accepts


def generator():
    spec = importlib.util.spec_from_file_location("v201_schemas", ROOT / "misc" / "v201_schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_files_are_what_the_generator_writes():
    written = generator().files()
    present = {p.name: p.read_text() for p in Path(schemas.HERE).glob("*.json")}
    assert present == written
    assert set(written) == {f"{a}.{k}.json" for a in schemas.ALL_ACTIONS for k in ("req", "conf")}


@pytest.mark.parametrize("action", schemas.ALL_ACTIONS)
def test_every_schema_compiles_and_judges_like_the_reference(action):
    for kind in ("req", "conf"):
        assert callable(schemas.SET.predicate(action, kind))
        for payload in ({}, {"customData": {"vendorId": "x"}}, {"unknown": 1}, {"customData": {}}):
            assert (schemas.check(action, kind, payload) == []) == judge_accepts(action, kind, payload), \
                (action, kind, payload)


SETPROFILE = {"evseId": 1, "chargingProfile": {
    "id": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
    "chargingSchedule": [{"id": 1, "chargingRateUnit": "W", "startSchedule": "2026-11-01T10:00:00Z",
                          "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0, "numberPhases": 3}]}]}}


@pytest.mark.parametrize("path, value", [
    ((), None), (("evseId",), "1"), (("chargingProfile", "chargingProfileKind"), "Sometimes"),
    (("chargingProfile", "chargingSchedule"), []), (("chargingProfile", "chargingSchedule", 0, "chargingRateUnit"), "kW"),
    (("chargingProfile", "transactionId"), "x" * 37), (("chargingProfile", "chargingSchedule", 0, "extra"), 1),
])
def test_a_set_charging_profile_and_its_mutations_are_judged_like_the_reference(path, value):
    import copy
    payload = copy.deepcopy(SETPROFILE)
    if path:
        *parents, last = path
        target = payload
        for key in parents:
            target = target[key]
        target[last] = value
    assert (schemas.check("SetChargingProfile", "req", payload) == []) == \
        judge_accepts("SetChargingProfile", "req", payload)
    assert (not path) == (schemas.outgoing_problem("SetChargingProfile", payload) is None)
