"""What the usage import does with the alerts its rating pass found, once it has committed (issue 17)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from backend_stub import clock
from backend_stub.domain.alerts import Alert
from backend_stub.domain.catalogue import Catalogue
from backend_stub.services.alerts.delivery import deliver_due, record
from backend_stub.services.alerts.evaluate import cost_alerts


def after_import(
    engine: Engine,
    catalogue: Catalogue,
    found: list[Alert],
    touched: dict[tuple[int, date], tuple[int, bool]],
    *,
    now: datetime | None = None,
) -> int:
    """Record the alerts an import found in its rating pass (once each), with the cost warnings of the touched
    subscriptions that chose one (``touched``: per rated group its latest event and whether its period is
    invoiced), and send those due now; returns how many are new."""
    now = now or clock.now()
    found = found + cost_alerts(engine, catalogue, touched, now=now)
    new = record(engine, found, now=now, catalogue=catalogue)
    if new:
        deliver_due(engine, catalogue, now=now)
    return new
