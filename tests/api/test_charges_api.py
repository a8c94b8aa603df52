"""The charges API: who may see and do what (SQLite and PostgreSQL).

A subscriber reaches only their own instalments, charges and subscriptions (404 for anything
else, as for an id that does not exist), cannot add or delete one-off charges (403), and buys
add-ons for their own subscriptions only. Staff add charges (audited) and instalments.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend_stub.api.app import create_app
from backend_stub.services.access.tokens import Role, issue_token
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.services.support import audit
from backend_stub.storage.models import billing as m
from tests.conftest import FIXTURES, problems, token_for


@pytest.fixture
def api(core, auth):
    with open(FIXTURES / "customers.csv", encoding="utf-8") as fh:
        assert import_customers(core.engine, core.catalogue, read_customers_csv(fh)).errors == []
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


@pytest.fixture
def ids(core) -> dict[str, int]:
    with core.engine.connect() as conn:
        out = {r[0]: r[1] for r in conn.execute(select(m.Customer.customer_number, m.Customer.id))}
        out |= {r[0]: r[1] for r in conn.execute(select(m.Subscription.subscription_number, m.Subscription.id))}
    return out


def test_subscriber_sees_only_their_own_instalments_and_charges(api, auth, ids):
    agent = token_for(auth, "agent")
    k1, k2 = token_for(auth, "subscriber", ids["K1"]), token_for(auth, "subscriber", ids["K2"])
    r = api.post(
        f"/customers/{ids['K2']}/instalments",
        headers=agent,
        json={"subscription_id": ids["S2"], "device_id": "nordphone-12", "months": 24, "start_period": "2026-03"},
    )
    assert r.status_code == 201, r.text
    inst = r.json()
    assert {k: inst[k] for k in ("monthly_ore", "total_ore", "months_left", "remaining_ore", "status", "msisdn")} == {
        "monthly_ore": 33_292,
        "total_ore": 799_000,
        "months_left": 24,
        "remaining_ore": 799_000,
        "status": "active",
        "msisdn": "+46709876543",
    }
    r = api.post(
        f"/customers/{ids['K2']}/charges",
        headers=agent,
        json={"description": "Byte av SIM-kort", "amount_ore": 9_900, "reason": "nytt kort"},
    )
    assert r.status_code == 201 and r.json()["status"] == "pending" and r.json()["vat_rate"] == "0.25"
    charge = r.json()
    # The owner sees them.
    assert [i["id"] for i in api.get(f"/customers/{ids['K2']}/instalments", headers=k2).json()["instalments"]] == [
        inst["id"]
    ]
    assert [c["id"] for c in api.get(f"/customers/{ids['K2']}/charges", headers=k2).json()["charges"]] == [charge["id"]]
    # Another subscriber: 404 everywhere, exactly as for ids that do not exist.
    for path in (
        f"/customers/{ids['K2']}/instalments",
        f"/customers/{ids['K2']}/charges",
        f"/subscriptions/{ids['S2']}/addons",
        "/subscriptions/999999/addons",
    ):
        r = api.get(path, headers=k1)
        assert r.status_code == 404, path
    assert api.post(f"/instalments/{inst['id']}/payoff", headers=k1).status_code == 404
    assert api.post("/instalments/999999/payoff", headers=k1).status_code == 404
    # Subscribers never add or delete charges, nor create instalments: 403 (even on their own account).
    assert (
        api.post(
            f"/customers/{ids['K1']}/charges",
            headers=k1,
            json={"description": "Gratis", "amount_ore": -10_000, "reason": "jag vill"},
        ).status_code
        == 403
    )
    assert api.delete(f"/charges/{charge['id']}", headers=k2).status_code == 403
    assert (
        api.post(
            f"/customers/{ids['K2']}/instalments",
            headers=k2,
            json={"subscription_id": ids["S2"], "device_id": "fjall-a5", "months": 12, "start_period": "2026-03"},
        ).status_code
        == 403
    )
    # Marketing works on segments, not on one customer's data.
    assert api.get(f"/customers/{ids['K2']}/charges", headers=token_for(auth, "marketing")).status_code == 403
    # A token from an invoice link reaches that invoice only.
    link = issue_token(
        auth, subject="link", role=Role.SUBSCRIBER, customer_id=ids["K2"], invoice_id="inv-1", ttl=timedelta(minutes=5)
    )
    assert (
        api.get(f"/customers/{ids['K2']}/instalments", headers={"Authorization": f"Bearer {link}"}).status_code == 404
    )
    # The owner pays off early; twice is a conflict.
    r = api.post(f"/instalments/{inst['id']}/payoff", headers=k2)
    assert r.status_code == 200 and (r.json()["status"], r.json()["payoff_pending"]) == ("paid_off", True)
    assert api.post(f"/instalments/{inst['id']}/payoff", headers=agent).status_code == 409


def test_add_ons_are_bought_for_own_subscriptions_only(api, auth, ids, core):
    k1, k2 = token_for(auth, "subscriber", ids["K1"]), token_for(auth, "subscriber", ids["K2"])
    shop = api.get(f"/subscriptions/{ids['S1']}/addons?lang=en", headers=k1)
    assert shop.status_code == 200
    assert {a["id"] for a in shop.json()["available"]} == {"extra-5gb", "extra-1gb"}
    before = shop.json()["allowances"]["data"]
    assert (before["included"], before["bought"]) == (5 * 10**9, 0)
    # Buying for someone else's subscription: 404, and nothing is bought.
    assert api.post(f"/subscriptions/{ids['S2']}/addons", headers=k1, json={"addon_id": "extra-5gb"}).status_code == 404
    assert api.post("/subscriptions/999999/addons", headers=k1, json={"addon_id": "extra-5gb"}).status_code == 404
    # Agents do not shop for subscribers.
    assert (
        api.post(
            f"/subscriptions/{ids['S1']}/addons", headers=token_for(auth, "agent"), json={"addon_id": "extra-5gb"}
        ).status_code
        == 403
    )
    r = api.post(f"/subscriptions/{ids['S1']}/addons", headers=k1, json={"addon_id": "extra-5gb"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["addon_id"], body["price_ore"]) == ("extra-5gb", 4_900)
    assert (body["allowances"]["data"]["bought"], body["allowances"]["data"]["left"]) == (5 * 10**9, 10 * 10**9)
    # The allowance shows at once.
    after = api.get(f"/subscriptions/{ids['S1']}/addons", headers=k1).json()
    assert after["allowances"]["data"]["bought"] == 5 * 10**9 and len(after["bought"]) == 1
    # Not on a broadband plan; an unknown add-on: 422 naming the field.
    r = api.post(f"/subscriptions/{ids['S3']}/addons", headers=k2, json={"addon_id": "extra-5gb"})
    assert problems(r)[0].startswith("addon_id:")
    r = api.post(f"/subscriptions/{ids['S1']}/addons", headers=k1, json={"addon_id": "nope"})
    assert problems(r)[0].startswith("addon_id:")
    # The back office may buy on a subscriber's behalf.
    r = api.post(
        f"/subscriptions/{ids['S2']}/addons", headers=token_for(auth, "service"), json={"addon_id": "extra-1gb"}
    )
    assert r.status_code == 201
    with core.engine.connect() as conn:
        from backend_stub.storage.models.charges import AddonPurchase

        sources = sorted(conn.execute(select(AddonPurchase.source)).scalars())
    assert sources == ["service:test-service", "shop"]


def test_staff_charges_are_audited_and_validated(api, auth, ids, core):
    agent = token_for(auth, "agent")
    r = api.post(
        f"/customers/{ids['K1']}/charges",
        headers=agent,
        json={
            "subscription_id": ids["S1"],
            "description": "Kompensation",
            "amount_ore": -5_000,
            "vat_rate": "0.25",
            "reason": "avbrott i nätet",
        },
    )
    assert r.status_code == 201
    credit = r.json()
    assert (credit["created_by"], credit["amount_ore"], credit["subscription_id"]) == (
        "agent:test-agent",
        -5_000,
        ids["S1"],
    )
    trail = audit.entries(core.engine, target=f"charge:{credit['id']}")["items"]
    assert [(e["actor"], e["action"], e["detail"]["reason"]) for e in trail] == [
        ("agent:test-agent", "charge_added", "avbrott i nätet")
    ]
    bad = api.post(
        f"/customers/{ids['K1']}/charges",
        headers=agent,
        json={"description": "x", "amount_ore": 100, "vat_rate": "1.25", "reason": "r"},
    )
    assert problems(bad)[0].startswith("vat_rate:")
    foreign = api.post(
        f"/customers/{ids['K1']}/charges",
        headers=agent,
        json={"subscription_id": ids["S2"], "description": "x", "amount_ore": 100, "reason": "r"},
    )
    assert problems(foreign)[0].startswith("subscription_id:")
    assert (
        api.post(
            "/customers/999999/charges", headers=agent, json={"description": "x", "amount_ore": 100, "reason": "r"}
        ).status_code
        == 404
    )
    missing = api.post(f"/customers/{ids['K1']}/charges", headers=agent, json={"amount_ore": 100, "reason": "r"})
    assert missing.status_code == 422 and "description" in str(missing.json()["detail"])
    assert api.delete(f"/charges/{credit['id']}", headers=agent).status_code == 204
    assert api.delete(f"/charges/{credit['id']}", headers=agent).status_code == 404
    assert audit.entries(core.engine, action="charge_deleted")["total"] == 1
    r = api.post(
        f"/customers/{ids['K1']}/instalments",
        headers=agent,
        json={"subscription_id": ids["S1"], "device_id": "nordphone-12", "months": 12, "start_period": "2026-03"},
    )
    assert problems(r)[0].startswith("months:")


def test_catalogue_lists_the_devices(api, auth):
    cat = api.get("/catalogue", headers=token_for(auth, "subscriber", 1)).json()
    phone = next(d for d in cat["devices"] if d["id"] == "nordphone-12")
    assert phone == {
        "id": "nordphone-12",
        "name": "Nordphone 12 128 GB",
        "cash_price_ore": 799_000,
        "months": [24, 36],
        "vat_rate": "0.25",
        "description": "6,1 tum, 128 GB, 5G.",
    }
