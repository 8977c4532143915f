"""Running sessions and last-seen records from ledger records (pure)."""

from datetime import datetime, timedelta, timezone

from shocpp.protocol import sessions

NOW = datetime(2026, 11, 21, 11, 0, 0, tzinfo=timezone.utc)


def start(charger="CP1", connector=1, tid=10004200, wh=4_200_000, time="2026-11-21T10:00:00Z", **more):
    return {"event": "start", "charger": charger, "connector_id": connector, "transaction_id": tid,
            "id_tag": "1111", "account": "home", "account_index": 1, "meter_start_wh": wh, "start_time": time,
            "recorded_at": time, **more}


def stop(of):
    return {"event": "stop", "charger": of["charger"], "transaction_id": of["transaction_id"],
            "connector_id": of["connector_id"], "meter_start_wh": of["meter_start_wh"],
            "start_time": of["start_time"], "recorded_at": "2026-11-21T10:30:00Z"}


def test_the_open_starts_by_charger_and_connector_newest_wins():
    a1 = start()
    a2 = start(connector=2, tid=20004300, wh=4_300_000)
    closed = start(connector=3, tid=10000001, wh=1000)
    old = start(connector=4, tid=10000002, wh=2000, time="2026-11-20T10:00:00Z")
    new = start(connector=4, tid=10000003, wh=3000)
    b1 = start(charger="CP2")
    records = [a1, a2, closed, stop(closed), old, new, b1]
    assert sessions.running(records) == {"CP1": {1: a1, 2: a2, 4: new}, "CP2": {1: b1}}
    assert sessions.running_on(records, "CP1") == [a1, a2, new]
    assert sessions.running_on(records, "CP1", 2) == [a2]
    assert sessions.running_on(records, "CP1", 3) == [] and sessions.running_on(records, "CP9") == []
    assert sessions.running([start(connector="1"), start(charger=None)]) == {}


def test_a_session_with_its_energy_so_far_duration_and_power():
    shown = sessions.session(start(), NOW, energy_wh=4_212_345, power_w=7360, meter_time="2026-11-21T10:59:00Z")
    assert shown == {"transaction_id": 10004200, "account": "home", "id_tag": "1111",
                     "start_time": "2026-11-21T10:00:00Z", "duration_s": 3600, "energy_wh": 12345, "power_w": 7360,
                     "stale": False}


def test_a_start_without_a_stop_for_longer_than_a_session_can_last_is_stale():
    week = datetime(2026, 11, 28, 10, 0, 1, tzinfo=timezone.utc)
    assert sessions.session(start(), week)["stale"] is True
    assert sessions.session(start(), datetime(2026, 11, 28, 9, 59, tzinfo=timezone.utc))["stale"] is False


def test_a_reading_older_than_the_start_is_not_the_sessions():
    shown = sessions.session(start(), NOW, energy_wh=4_100_000, power_w=7360, meter_time="2026-11-21T09:59:59Z")
    assert (shown["energy_wh"], shown["power_w"], shown["duration_s"]) == (None, None, 3600)


def test_unknown_readings_and_times_and_fractions():
    assert sessions.session(start(), NOW)["energy_wh"] is None
    shown = sessions.session(start(time="soon"), NOW, energy_wh=4_200_500.5, power_w=11, meter_time=None)
    assert (shown["energy_wh"], shown["power_w"], shown["duration_s"]) == (500.5, 11, None)
    assert sessions.session(start(time="2026-11-21T12:00:00Z"), NOW)["duration_s"] == 0  # clock ahead
    assert sessions.session(start(wh=None), NOW, energy_wh=5)["energy_wh"] is None
    # across the register's wrap, as the ledger bills it
    assert sessions.session(start(wh=9_999_999_000), NOW, energy_wh=500)["energy_wh"] == 1500


def test_the_last_record_of_each_charger_since_a_moment():
    a = start(recorded_at="2026-10-01T00:00:00Z")
    b = start(recorded_at="2026-11-20T00:00:00Z")
    c = start(charger="CP2", recorded_at="2026-10-15T00:00:00Z")
    d = start(charger="CP3", recorded_at="broken")
    assert sessions.last_records([a, b, c, d]) == {"CP1": b, "CP2": c, "CP3": d}
    assert sessions.last_records([a, b, c, d], since=NOW - timedelta(days=30)) == {"CP1": b}
