"""Re-rating one subscription's period after its allowance changed (an add-on bought, a plan change).

Apart from the import (``usage``) so that the charges and subscriptions services that re-rate do not import
the import itself, nor what it calls once it has committed (the usage alerts).
"""

from __future__ import annotations

from array import array

from sqlalchemy import Connection

from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.periods import Period, Subscription
from backend_stub.services.billing import usage_store
from backend_stub.services.billing.usage_rating import GroupRating, LineNumbers


def rerate_period(conn: Connection, catalogue: Catalogue, subscription: Subscription, period: Period) -> int:
    """Re-rate the not yet invoiced events of one subscription and period, in event order.

    Used when an add-on is bought: events that started after the purchase now draw from it.
    Invoiced events are replayed, never changed. Returns how many events changed.
    """
    key = (subscription.id, period.start)
    existing = usage_store.existing_events(conn, [key], {subscription.id: subscription})
    if not any(o[2] is None for o in existing.get(key, ())):
        return 0
    roaming = usage_store.load_roaming_choices(conn, [key])
    work = GroupRating(
        catalogue,
        {key: []},
        {subscription.id: subscription},
        {key: period},
        existing,
        set(),
        LineNumbers([], array("q")),
        None,
        pstart_as_text=conn.dialect.name == "sqlite",
        bought=usage_store.load_bought_allowances(conn, [key]),
        continues=roaming.continues,
        spend_limits=roaming.spend_limits,
    )
    for _ in work.chunks():  # no new events: nothing to insert, only updates
        pass
    usage_store.store_rerated(conn, work.updates)
    return work.rerated
