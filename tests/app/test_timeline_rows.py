"""The app shows timeline times in Stockholm time, a date-only event (a dunning day) by its date."""

from __future__ import annotations

from selfcare import presenters


def test_times_are_stockholm_and_date_only_events_show_their_day() -> None:
    doc = {
        "timeline": [
            {
                "id": 7,
                "kind": "overdue",
                "at": "2026-12-01T23:00:00+00:00",
                "date_only": True,
                "texts": {"sv": "Förfallodagen (1 december 2026) passerade utan full betalning."},
                "document": None,
            },
            {
                "id": 3,
                "kind": "reminder_sent",
                "at": "2026-12-11T09:30:00+00:00",
                "date_only": False,
                "texts": {"sv": "Påminnelse 1 skickad"},
                "document": {"kind": "reminder", "event_id": 3},
            },
        ]
    }
    rows = presenters.timeline_rows(doc, "sv")
    # midnight in Stockholm on 2 December is 23:00 UTC the day before: the row says 2 December
    assert rows[0]["at"] == "2 december 2026" and rows[0]["document"] == ""
    assert rows[1]["at"] == "11 december 2026 10:30" and rows[1]["document"] == "reminder"
    assert rows[1]["event_id"] == "3"
