"""Message times in the invoice thread (subscriber and agent) are on the Stockholm clock, not UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from selfcare.i18n import format_datetime
from selfcare.pages.agent.rows import inbox_row
from selfcare.presenters import message_row


def _msg(created_at: str, author: str = "agent") -> dict:
    return {
        "id": 1,
        "author": author,
        "author_name": "Eva",
        "text": "Hej",
        "created_at": created_at,
        "line_position": None,
        "read": False,
    }


def test_winter_time_is_utc_plus_one():
    at = "2026-01-15T12:05:00+00:00"
    assert message_row(_msg(at), "customer", "sv", {})["at"] == "15 januari 2026 13:05"
    assert message_row(_msg(at), "customer", "en", {})["at"] == "15 January 2026 13:05"
    assert message_row(_msg(at, "customer"), "agent", "sv", {})["at"] == "15 januari 2026 13:05"


def test_summer_time_is_utc_plus_two():
    at = "2026-07-15T12:05:00+00:00"
    assert message_row(_msg(at), "customer", "sv", {})["at"] == "15 juli 2026 14:05"
    assert message_row(_msg(at, "customer"), "agent", "en", {})["at"] == "15 July 2026 14:05"


def test_the_date_follows_the_local_clock_over_midnight():
    # 22:30 UTC on 15 July is half past midnight on the 16th in Stockholm.
    assert message_row(_msg("2026-07-15T22:30:00+00:00"), "customer", "sv", {})["at"] == "16 juli 2026 00:30"
    # The last Sunday of March: 00:59 UTC is 01:59 CET, 01:00 UTC is already 03:00 CEST.
    assert format_datetime("2026-03-29T00:59:00+00:00", "sv") == "29 mars 2026 01:59"
    assert format_datetime("2026-03-29T01:00:00+00:00", "sv") == "29 mars 2026 03:00"
    assert format_datetime(datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "en") == "25 October 2026 02:00"


def test_a_time_with_its_own_offset_or_none_is_kept_on_the_stockholm_clock():
    # Usage records come with Stockholm's own offset; a time without one is Stockholm wall time already.
    assert format_datetime("2026-07-15T14:05:00+02:00", "sv") == "15 juli 2026 14:05"
    assert format_datetime("2026-07-15T14:05:00", "sv") == "15 juli 2026 14:05"


def test_agent_inbox_shows_the_last_message_in_stockholm_time():
    row = inbox_row(
        {
            "id": 7,
            "status": "waiting",
            "waiting_seconds": 60,
            "last_message": {"text": "Varför?", "created_at": "2026-12-01T07:45:00+00:00"},
        },
        "sv",
    )
    assert row["at"] == "1 december 2026 08:45"
