"""The usage-alert rules (backend_stub.domain.alerts), each as the rule reads (issue 17)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from backend_stub.domain.alerts import (
    ALLOWANCE,
    COST,
    SPEND_LIMIT,
    STOCKHOLM,
    WELCOME,
    Alert,
    AlertSettings,
    cost_crossed,
    crossed,
    crossings,
    is_late,
    send_at,
    trip_starts,
    wanted,
)

GB = 1_000_000_000


def at(text: str) -> int:
    """Epoch seconds of a Stockholm time ``YYYY-MM-DD HH:MM``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM).timestamp())


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (0, 3 * GB, []),  # 3 of 5 GB: 60 %
        (3 * GB, 4 * GB, [80]),  # exactly 80 % counts
        (3 * GB, 5 * GB, [80, 100]),  # one big session crosses both
        (4 * GB, 4 * GB + 1, []),  # already past 80 %: not again
        (4_999_999_999, 6 * GB, [100]),
        (6 * GB, 7 * GB, []),  # past 100 %: nothing more
    ],
)
def test_an_allowance_threshold_is_crossed_once(before, after, expected):
    assert crossed(5 * GB, before, after) == expected


def test_nothing_included_is_never_used_up():
    assert crossed(0, 0, GB) == []


def test_a_trip_welcomes_each_country_once():
    events = [
        (at("2026-07-01 10:00"), ""),  # at home
        (at("2026-07-01 18:00"), "ES"),  # the trip starts: welcome to Spain
        (at("2026-07-02 09:00"), "ES"),
        (at("2026-07-02 20:00"), "FR"),  # the same trip, a new country: welcome to France
        (at("2026-07-03 12:00"), "ES"),  # back in Spain on the same trip: nothing
        (at("2026-07-04 12:00"), ""),  # home again
        (at("2026-07-10 12:00"), "ES"),  # a new trip: welcome to Spain again
    ]
    assert trip_starts(events) == [1, 3, 6]


def test_a_day_without_events_starts_a_new_trip():
    events = [(at("2026-07-01 10:00"), "ES"), (at("2026-07-02 10:00"), "ES"), (at("2026-07-02 11:00"), "ES")]
    assert trip_starts(events) == [0, 1]  # 24 h after the last event: a new trip


def test_a_trip_that_began_in_an_earlier_file_goes_on():
    earlier = (at("2026-07-01 18:00"), "ES")
    assert trip_starts([(at("2026-07-02 09:00"), "ES"), (at("2026-07-02 10:00"), "PT")], last_before=earlier) == [1]


def test_late_records_raise_nothing():
    now = datetime(2026, 10, 5, 12, 0, tzinfo=STOCKHOLM)
    assert not is_late(at("2026-10-04 13:00"), now, period_invoiced=False)
    assert is_late(at("2026-10-04 11:00"), now, period_invoiced=False)  # more than a day old
    assert is_late(at("2026-10-05 11:00"), now, period_invoiced=True)


@pytest.mark.parametrize(
    ("now", "channel", "kind", "level", "expected"),
    [
        ("2026-10-05 12:00", "sms", ALLOWANCE, "80", "2026-10-05 12:00"),  # daytime: at once
        ("2026-10-05 21:00", "sms", ALLOWANCE, "80", "2026-10-06 08:00"),  # evening: next morning
        ("2026-10-06 03:00", "sms", ALLOWANCE, "80", "2026-10-06 08:00"),  # night: this morning
        ("2026-10-06 03:00", "email", ALLOWANCE, "80", "2026-10-06 03:00"),  # e-mail waits for nobody
        ("2026-10-06 03:00", "sms", SPEND_LIMIT, "100", "2026-10-06 03:00"),  # the roaming stop goes at once
        ("2026-10-06 03:00", "sms", SPEND_LIMIT, "80", "2026-10-06 08:00"),
        ("2026-03-29 03:30", "sms", WELCOME, "ES", "2026-03-29 08:00"),  # the spring DST night
    ],
)
def test_sms_alerts_wait_for_the_day(now, channel, kind, level, expected):
    when = datetime.fromisoformat(now).replace(tzinfo=STOCKHOLM)
    got = send_at(when, channel=channel, kind=kind, level=level)
    assert got.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") == expected


def _alert(kind: str, level: str, **data) -> Alert:
    return Alert(1, date(2026, 10, 1), kind, level, at("2026-10-05 12:00"), data)


def test_settings_choose_what_is_sent_but_not_the_roaming_stop():
    off = AlertSettings(thresholds={"data": (100,), "voice": (), "sms": ()}, kinds=frozenset())
    assert not wanted(_alert(ALLOWANCE, "data-80", pool="data", percent=80), off)
    assert wanted(_alert(ALLOWANCE, "data-100", pool="data", percent=100), off)
    assert not wanted(_alert(ALLOWANCE, "voice-100", pool="voice", percent=100), off)
    assert not wanted(_alert(WELCOME, "ES"), off)
    assert not wanted(_alert(SPEND_LIMIT, "80"), off)
    assert wanted(_alert(SPEND_LIMIT, "100"), off)  # cannot be turned off
    assert not wanted(_alert(COST, ""), AlertSettings())  # no amount chosen: no cost warning
    assert wanted(_alert(COST, ""), AlertSettings(cost_limit_ore=40_000))


def test_an_alert_is_keyed_once_per_subscription_period_and_level():
    a, b = _alert(ALLOWANCE, "data-80", pool="data"), _alert(ALLOWANCE, "data-80", pool="data", used=1)
    assert a.key == b.key == "allowance:1:2026-10-01:data-80"


def test_the_cost_warning_fires_when_the_forecast_goes_over():
    assert cost_crossed(40_000, 39_000, 41_000)
    assert not cost_crossed(40_000, 41_000, 42_000)  # already over
    assert not cost_crossed(None, 0, 99_999)


def test_the_event_that_reached_each_threshold_is_found_in_one_pass():
    uses = [
        (at("2026-10-02 10:00"), "data", 3 * GB),  # 60 %
        (at("2026-10-03 10:00"), "", 99),  # a call outside any allowance
        (at("2026-10-04 10:00"), "data", GB),  # 80 %: this one
        (at("2026-10-05 10:00"), "sms", 1),  # no limit on SMS: not counted
        (at("2026-10-06 10:00"), "data", 2 * GB),  # 120 %: the 100 % one
        (at("2026-10-07 10:00"), "data", GB),
    ]
    assert crossings(uses, {"data": 5 * GB}) == [
        ("data", 80, at("2026-10-04 10:00")),
        ("data", 100, at("2026-10-06 10:00")),
    ]
    assert crossings(uses, {"data": 0}) == []
