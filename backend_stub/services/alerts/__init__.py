"""Usage alerts (issue 17): told as the usage arrives, by SMS, e-mail and in the app, once per threshold.

``evaluate.alerts_for_batch`` reads what an import stored and applies ``domain.alerts``;
``delivery.record`` writes each alert once and ``delivery.deliver_due`` sends what is due;
``choices`` holds the subscriber's settings, the roaming "continue" and the app's list.
``after_import`` is the one call the usage import makes once its batch has committed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue
from backend_stub.services.alerts.delivery import deliver_due, record
from backend_stub.services.alerts.evaluate import alerts_for_batch


def after_import(engine: Engine, catalogue: Catalogue, batch_id: int, *, now: datetime | None = None) -> int:
    """Record the alerts a committed import batch calls for and send those due now; returns how many are new."""
    now = now or clock.now()
    new = record(engine, alerts_for_batch(engine, catalogue, batch_id, now=now), now=now)
    if new:
        deliver_due(engine, catalogue, now=now)
    return new
