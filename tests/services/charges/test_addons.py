"""Add-ons bought from the shop, with real usage imports (SQLite and PostgreSQL).

Mobil Bas 1 GB (99 kr) on the demo catalogue; data 29,00 kr/GB; "Extra 1 GB denna månad" 19 kr.
The add-on counts for usage that starts at or after the purchase, including events that
were imported before it (re-rated at purchase) and events that arrive after it; usage that
started before keeps its charges.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.billing import billrun, invoices, usage_query
from backend_stub.services.billing.customers import import_customers
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.services.charges import addons
from backend_stub.services.lifecycle import messaging
from backend_stub.storage.models import billing as m
from tests.services.lifecycle.test_messaging import smtp_server  # noqa: F401 (a fixture: a real SMTP server on loopback)

HEADER = "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country\n"
MSISDN = "+46701112233"
PURCHASE = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)  # 12 Oct 12:00 in Stockholm
MB = 1_000_000


def setup_customers(core) -> tuple[int, int]:
    rows = [
        (
            2,
            {
                "customer_number": "K1",
                "subscription_id": "S1",
                "name": "Anna Svensson",
                "email": "anna@example.se",
                "msisdn": MSISDN,
                "plan": "mobil-bas",
                "start_date": "2026-01-01",
            },
        ),
        (
            3,
            {
                "customer_number": "K1",
                "subscription_id": "S2",
                "name": "Anna Svensson",
                "email": "anna@example.se",
                "msisdn": "",
                "plan": "bredband-100",
                "start_date": "2026-01-01",
            },
        ),
    ]
    assert import_customers(core.engine, core.catalogue, rows).errors == []
    with core.engine.connect() as conn:
        subs = {r[0]: r[1] for r in conn.execute(select(m.Subscription.subscription_number, m.Subscription.id))}
    return subs["S1"], subs["S2"]


def data_rows(*events: tuple[str, str, int]) -> str:
    return HEADER + "".join(f"{rid},{MSISDN},data,{at},,{mb * MB},,\n" for rid, at, mb in events)


def import_rows(core, text: str):
    result = UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(io.StringIO(text)), "t.csv")
    assert result.rejected == 0, result.errors
    return result


def rated(core) -> dict[str, tuple[int, int]]:
    """record_id → (MB from an allowance, MB charged)."""
    with core.engine.connect() as conn:
        rows = conn.execute(select(m.UsageEvent.record_id, m.UsageEvent.included_units, m.UsageEvent.charged_units))
        return {r.record_id: (r.included_units // MB, r.charged_units // MB) for r in rows}


def test_add_on_counts_from_the_purchase_on_for_events_imported_before_and_after(core, smtp_server):  # noqa: F811
    inbox, port = smtp_server
    sid, _ = setup_customers(core)
    import_rows(
        core,
        data_rows(
            ("e1", "2026-10-02T09:00:00+02:00", 800),  # from the plan's 1 000 MB
            ("e2", "2026-10-10T09:00:00+02:00", 400),  # 200 from the plan, 200 overage
            ("e3", "2026-10-13T09:00:00+02:00", 700),
        ),
    )  # after the purchase, imported before it
    assert rated(core)["e3"] == (0, 700)
    mail = messaging.MailSettings(host="127.0.0.1", port=port, sender="Nordvik <kund@nordvik.example>")
    bought = addons.buy_addon(core.engine, core.catalogue, sid, "extra-1gb", now=PURCHASE, mail=mail)
    assert bought | {"purchase_id": 0} == {
        "purchase_id": 0,
        "addon_id": "extra-1gb",
        "period": "2026-10",
        "price_ore": 1_900,
        "allowances": bought["allowances"],
    }
    # At once: e3 (started after the purchase) now draws from it; e1 and e2 keep what they had.
    assert rated(core) == {"e1": (800, 0), "e2": (200, 200), "e3": (700, 0)}
    assert bought["allowances"]["data"] == {
        "included": 1_000 * MB,
        "bought": 1_000 * MB,
        "used": 1_900 * MB,
        "left": 300 * MB,
        "unlimited": False,
    }
    # Late arrivals: e4 started after the purchase (300 MB left, then overage), e0 before it (overage).
    import_rows(core, data_rows(("e4", "2026-10-20T09:00:00+02:00", 500), ("e0", "2026-10-11T09:00:00+02:00", 100)))
    assert rated(core) == {"e0": (0, 100), "e1": (800, 0), "e2": (200, 200), "e3": (700, 0), "e4": (300, 200)}
    shop = addons.subscription_addons(core.engine, core.catalogue, sid, now=datetime(2026, 10, 25, tzinfo=UTC))
    assert shop["allowances"]["data"] == {
        "included": 1_000 * MB,
        "bought": 1_000 * MB,
        "used": 2_500 * MB,
        "left": 0,
        "unlimited": False,
    }
    assert [b["addon_id"] for b in shop["bought"]] == ["extra-1gb"]
    assert {a["id"] for a in shop["available"]} == {"extra-1gb", "extra-5gb"}
    # The app's usage summary shows the bigger allowance.
    summary = usage_query.summary(core.engine, core.catalogue, 1, "2026-10")
    data = next(a for a in summary["allowances"] if a["pool"] == "data")
    assert (data["included"], data["bought"]) == (2_000 * MB, 1_000 * MB)
    # The confirmation went out by e-mail over SMTP, once.
    assert [msg["Subject"] for msg in inbox.messages] == ["Tack för ditt köp: Extra 1 GB denna månad"]
    body = inbox.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "19,00" in body and "31 oktober 2026" in body and MSISDN in body

    billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    [doc] = invoices.invoices_for_period(core.engine, "2026-10")
    # Overage 200 + 100 + 200 = 500 MB × 29 kr/GB = 14,50 kr. 99 + 14,50 + 19 + 349 (broadband) = 481,50 → 482.
    assert [(ln["kind"], ln["description"], ln["amount_ore"]) for ln in doc["lines"]] == [
        ("fee", "Mobil Bas 1 GB, 1 okt–31 okt", 9_900),
        ("usage", "Surf", 1_450),
        ("addon", "Extra 1 GB denna månad, köpt 12 okt", 1_900),
        ("fee", "Bredband 100 Mbit/s, 1 okt–31 okt", 34_900),
    ]
    assert (doc["gross_ore"], doc["rounding_ore"], doc["amount_due_ore"]) == (48_150, 50, 48_200)
    timeline = invoices.get_invoice(core.engine, doc["id"], lang="en")["timeline"]
    assert timeline[0]["kind"] == "addon_purchased"  # at the time of the purchase, before the invoice was made
    assert timeline[0]["text"] == "Add-on bought 12 October 2026: Extra 1 GB this month, 19.00\u00a0kr."


def test_sms_confirmation_for_a_subscriber_who_chose_sms(core):
    rows = [
        (
            2,
            {
                "customer_number": "K7",
                "subscription_id": "S7",
                "name": "Björn Åberg",
                "phone": "+46709876543",
                "channel": "sms",
                "msisdn": "+46709876543",
                "plan": "mobil-5gb",
                "start_date": "2026-01-01",
                "email": "bjorn@example.se",
            },
        )
    ]
    assert import_customers(core.engine, core.catalogue, rows).errors == []
    with core.engine.connect() as conn:
        sid = conn.execute(select(m.Subscription.id)).scalar_one()
    out = addons.buy_addon(core.engine, core.catalogue, sid, "extra-5gb", now=PURCHASE)
    assert out["allowances"]["data"]["included"] + out["allowances"]["data"]["bought"] == 10_000 * MB
    [msg] = messaging.list_outbox(core.engine)
    assert (msg["channel"], msg["to"], msg["key"]) == ("sms", "+46709876543", f"addon-purchase:{out['purchase_id']}")
    assert msg["text"].startswith("Tack för ditt köp: Extra 5 GB denna månad.")


def test_what_cannot_be_bought_names_the_field(core):
    sid, broadband = setup_customers(core)
    with pytest.raises(addons.NotAllowed, match="^addon_id: .* cannot be bought on the plan Bredband 100"):
        addons.buy_addon(core.engine, core.catalogue, broadband, "extra-1gb", now=PURCHASE)
    with pytest.raises(ValueError, match="^addon_id: unknown add-on 'extra-99gb'"):
        addons.buy_addon(core.engine, core.catalogue, sid, "extra-99gb", now=PURCHASE)
    with pytest.raises(addons.NotFound, match="^subscription_id:"):
        addons.buy_addon(core.engine, core.catalogue, 4242, "extra-1gb", now=PURCHASE)
    with pytest.raises(ValueError, match="^subscription_id: .* not active on 2025-06-01"):
        addons.buy_addon(core.engine, core.catalogue, sid, "extra-1gb", now=datetime(2025, 6, 1, 12, tzinfo=UTC))
    with pytest.raises(ValueError, match="^now: must be timezone-aware"):
        addons.buy_addon(core.engine, core.catalogue, sid, "extra-1gb", now=datetime(2026, 10, 1))
    assert addons.subscription_addons(core.engine, core.catalogue, broadband, now=PURCHASE)["available"] == []
    with core.engine.connect() as conn:
        assert conn.execute(select(m.UsageEvent.id)).first() is None


def test_an_unlimited_plan_takes_no_data_add_on(core):
    rows = [
        (
            2,
            {
                "customer_number": "K8",
                "subscription_id": "S8",
                "name": "Cecilia",
                "msisdn": "+46705550001",
                "plan": "mobil-obegransad",
                "start_date": "2026-01-01",
            },
        )
    ]
    assert import_customers(core.engine, core.catalogue, rows).errors == []
    with core.engine.connect() as conn:
        sid = conn.execute(select(m.Subscription.id)).scalar_one()
    shop = addons.subscription_addons(core.engine, core.catalogue, sid, now=PURCHASE, lang="en")
    assert shop["available"] == [] and shop["allowances"]["data"]["unlimited"] is True
    with pytest.raises(addons.NotAllowed):
        addons.buy_addon(core.engine, core.catalogue, sid, "extra-5gb", now=PURCHASE)
