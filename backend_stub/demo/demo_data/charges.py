"""The demo's charges through the services: phones on instalment, add-ons and one-off charges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from backend_stub.demo.demo_data.months import usage_months
from backend_stub.services.charges import addons, instalments, one_offs
from backend_stub.services.lifecycle import messaging
from backend_stub.storage.repo import load_subscriptions


def seed_charges(core: Any, *, today: date, months: int, every: int = 12) -> dict[str, int]:
    """Phones on instalment, add-ons and a SIM swap charge for a few demo customers (before the bill runs).

    Every ``every``-th customer with a mobile subscription active from the first usage month
    to ``today`` (the first such customer always, so ``K100001`` usually shows them) gets a
    phone on instalment from the first usage month; some also bought an add-on in the last
    usage month (billed) and one this month (not yet billed), some a SIM swap charge.
    Deterministic; a handful of service calls, so the seed stays fast.
    """
    window = usage_months(today, max(months, 1))
    start, last_month = window[0][0], window[-1][0]
    catalogue = core.catalogue
    devices = list(catalogue.devices.values())
    with core.engine.connect() as conn:
        subs = sorted(load_subscriptions(conn), key=lambda s: (s.customer_id, s.id))
    eligible, seen = [], set()
    for sub in subs:
        seg = sub.segment_on(start)
        plan = catalogue.plans.get(seg.plan_id) if seg else None
        if (
            sub.customer_id in seen
            or not sub.msisdn
            or plan is None
            or plan.kind != "mobile"
            or sub.segment_on(today) is None
        ):
            continue
        seen.add(sub.customer_id)
        eligible.append((sub, plan))
    mail = messaging.MailSettings()  # the demo's outbox records the confirmations
    done = {"instalments": 0, "addons": 0, "charges": 0}
    for i, (sub, plan) in enumerate(eligible[::every]):
        if devices:
            device = devices[i % len(devices)]
            instalments.create_instalment(
                core.engine,
                catalogue,
                sub.customer_id,
                subscription_id=sub.id,
                device_id=device.id,
                months=device.months[i % len(device.months)],
                start_period=f"{start.year:04d}-{start.month:02d}",
                actor="seed",
                now=datetime(start.year, start.month, start.day, 9, tzinfo=UTC),
            )
            done["instalments"] += 1
        takes = [a for a in catalogue.addons.values() if addons.addon_allowed(a, plan)]
        if takes and i % 2 == 0:
            bought = datetime(last_month.year, last_month.month, 15, 10, tzinfo=UTC)
            addons.buy_addon(core.engine, catalogue, sub.id, takes[0].id, source="seed", now=bought, mail=mail)
            done["addons"] += 1
        if takes and i % 3 == 0 and today.day > 1:
            bought = datetime(today.year, today.month, today.day, 7, tzinfo=UTC) - timedelta(days=1)
            addons.buy_addon(core.engine, catalogue, sub.id, takes[-1].id, source="seed", now=bought, mail=mail)
            done["addons"] += 1
        if i % 4 == 1:
            one_offs.add_charge(
                core.engine,
                sub.customer_id,
                subscription_id=sub.id,
                description="Byte av SIM-kort",
                amount_ore=9_900,
                reason="Nytt SIM-kort (demo)",
                actor="seed",
                vat_rate=str(catalogue.operator.vat_rate),
                now=datetime(start.year, start.month, 10, 11, tzinfo=UTC),
            )  # billed on the first invoice
            done["charges"] += 1
    return done
