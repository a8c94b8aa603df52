"""Offer banners and the order sheet: presenters as plain functions, and the state's handlers called
directly (any handler, any argument, as the browser could) on the real core."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from reflex.istate.data import ReflexURL, URLData

from selfcare.api_client import NotFound
from selfcare.offers_client import OffersClient
from selfcare.state.offers import OffersState, banner_view, image_src, recommendation_text
from selfcare.state.order_sheet import accepted_text, order_view, short_kr
from selfcare.state.session import SessionState
from tests.app.conftest import drain, fresh_states, run, service_token, subscriber_token, substate

CUSTOMERS = (1, 2, 3, 4)


# -- presenters ------------------------------------------------------------------------------------


def test_recommendation_figures_read_as_a_sentence():
    rec = {
        "current_plan": "Mobil 5 GB",
        "current_cost_ore": 71700,
        "offer_cost_ore": 59700,
        "periods": ["2026-08", "2026-09", "2026-10"],
    }
    assert recommendation_text(rec, "sv") == "Dina senaste 3 månader hade kostat 597\u00a0kr i stället för 717\u00a0kr."
    assert recommendation_text(rec, "en") == "Your last 3 months would have cost 597\u00a0kr instead of 717\u00a0kr."
    assert recommendation_text(None, "sv") == "" and recommendation_text({"offer_cost_ore": 1.5}, "sv") == ""
    # Dearer than about the same (5 %): no "recommended" claim; within 5 % it is still shown.
    assert recommendation_text({**rec, "offer_cost_ore": 94409, "current_cost_ore": 40194}, "sv") == ""
    assert recommendation_text({**rec, "offer_cost_ore": 75285}, "sv") != ""
    assert recommendation_text({**rec, "offer_cost_ore": 75286}, "sv") == ""
    assert short_kr(59750, "sv") == "597,50\u00a0kr" and short_kr(1249900, "sv") == "12\u00a0499\u00a0kr"


def test_banner_and_order_as_the_page_shows_them(env):
    env.set("SELFCARE_CORE_PUBLIC_URL", "https://app.example/core")
    assert image_src("/core/offer-images/3") == "https://app.example/core/offer-images/3"
    assert image_src("javascript:alert(1)") == "" and image_src(None) == ""
    view = banner_view(
        {
            "offer_id": 12,
            "subscription_id": 5,
            "msisdn": "+46701234567",
            "title": "Slut på surf?",
            "body": "Med 20 GB …",
            "cta": "",
            "image_url": "/core/offer-images/3",
            "terms_text": "3 mån 0 kr",
            "recommendation": None,
        },
        "sv",
    )
    assert view == {
        "offer_id": "12",
        "title": "Slut på surf?",
        "body": "Med 20 GB …",
        "cta": "Visa erbjudandet",
        "image": "https://app.example/core/offer-images/3",
        "terms": "3 mån 0 kr",
        "msisdn": "+46701234567",
        "recommendation": "",
    }
    assert "subscription_id" not in view  # the subscription stays in the backend
    order = {
        "offer_id": 12,
        "subscription_id": 5,
        "title": "Mobil 20 GB",
        "what_you_get": ["20 GB surf"],
        "terms_text": "3 mån 0 kr, sedan 299 kr/mån",
        "current": {"kind": "plan", "id": "mobil-5gb", "name": "Mobil 5 GB", "monthly_fee_ore": 19900},
        "new": {"kind": "plan", "id": "mobil-20gb", "name": "Mobil 20 GB", "monthly_fee_ore": 29900},
        "effective_date": "2026-11-21",
        "this_period": {
            "period": "2026-11",
            "lines": [
                {"description": "Mobil 5 GB, 1 nov–20 nov", "amount_ore": 13267},
                {"description": "Mobil 20 GB, 21 nov–30 nov", "amount_ore": 9967},
                {"description": "3 mån 0 kr", "amount_ore": -9967},
            ],
            "total_ore": 13267,
        },
        "monthly_after_discount_ore": 29900,
    }
    sheet = order_view(order, "sv")
    assert [x["amount"] for x in sheet["lines"]] == ["132,67\u00a0kr", "99,67\u00a0kr", "−99,67\u00a0kr"]
    assert sheet["total"] == "132,67\u00a0kr" and sheet["get"] == ["20 GB surf"]
    assert sheet["change"] == "Mobil 5 GB → Mobil 20 GB från 21 nov"
    assert (
        accepted_text(order, {"effective_date": "2026-11-21", "plan_id": "mobil-20gb"}, "sv")
        == "Klart! Din nya plan gäller från 21 nov."
    )


# -- on the real core ------------------------------------------------------------------------------


def _signed_in(customer_id: int):
    root = fresh_states()
    session = substate(root, SessionState)
    session._start(
        {
            "access_token": subscriber_token(customer_id),
            "expires_at": time.time() + 600,
            "customer_id": customer_id,
            "name": "Test",
            "customer_number": f"K{100000 + customer_id}",
        }
    )
    return root, substate(root, OffersState)


def _offer_body(sells: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"test {sells} {time.monotonic_ns()}",
        "title": "Mer surf för pengarna",
        "body": "Byt till ett större abonnemang.",
        "cta": "Visa erbjudandet",
        "image_id": None,
        "sells": {"kind": "plan", "id": sells},
        "terms": {"percent": "50", "amount_ore": None, "periods": 2},
        "terms_text": {"sv": "2 mån halva priset", "en": "2 months half price"},
        "effective": "now",
        "starts_at": None,
        "ends_at": None,
        "priority": 900,
        "cap": {"impressions": 50, "days": 7},
        "placements": ["overview", "invoice"],
        "rules": {"exclude_overdue": False, "exclude_collection": False},
        **extra,
    }


@pytest.fixture
def live_offer(client) -> Iterator[dict[str, Any]]:
    """An active offer of a bigger plan, and a customer it is shown to; stopped afterwards."""
    oc = OffersClient(client)
    token = service_token()
    offer = run(oc.create(token, _offer_body("mobil-obegransad")))
    assert offer["status"] == "draft"
    offer = run(oc.schedule(token, offer["id"], None, None))
    assert offer["status"] == "active"
    try:
        for cid in CUSTOMERS:
            banners = run(oc.banners(subscriber_token(cid), cid, "invoice"))
            if any(b["offer_id"] == offer["id"] for b in banners):
                yield {"offer": offer, "customer_id": cid}
                break
        else:
            raise AssertionError("the test offer is shown to none of the seeded customers")
    finally:
        run(oc.stop(token, offer["id"]))


def _results(client, offer_id: int) -> dict[str, Any]:
    return run(OffersClient(client).results(service_token(), offer_id))


def test_banners_load_with_one_impression_per_view(client, live_offer):
    offer_id, cid = live_offer["offer"]["id"], live_offer["customer_id"]
    _root, state = _signed_in(cid)
    run(drain(OffersState.load.fn(state, "invoice")))
    mine = [b for b in state.banners if b["offer_id"] == str(offer_id)]
    assert len(state.banners) <= 2 and len(mine) == 1 and mine[0]["title"] == "Mer surf för pengarna"
    view_id = state._view_id
    assert len(view_id) == 32 and state._targets[str(offer_id)] > 0
    assert _results(client, offer_id)["impressions"] == 1
    # The same view sent again (a re-render) counts once; a new view is a new impression.
    run(OffersClient(client).event(subscriber_token(cid), cid, offer_id, "impression", "invoice", view_id))
    assert _results(client, offer_id)["impressions"] == 1
    run(drain(OffersState.load.fn(state, "invoice")))
    assert state._view_id != view_id and _results(client, offer_id)["impressions"] == 2
    # A placement the app does not have is refused before anything happens.
    run(drain(OffersState.load.fn(state, "<script>")))
    assert state._view_id != "" and _results(client, offer_id)["impressions"] == 2


def test_dismiss_hides_the_banner_for_good(client, live_offer):
    offer_id, cid = live_offer["offer"]["id"], live_offer["customer_id"]
    _root, state = _signed_in(cid)
    run(drain(OffersState.load.fn(state, "overview")))
    run(drain(OffersState.dismiss.fn(state, str(offer_id))))
    assert all(b["offer_id"] != str(offer_id) for b in state.banners)
    assert _results(client, offer_id)["dismissals"] == 1
    run(drain(OffersState.load.fn(state, "overview")))
    assert all(b["offer_id"] != str(offer_id) for b in state.banners)


def test_order_sheet_then_accept_changes_the_subscription(client, live_offer):
    offer_id, cid = live_offer["offer"]["id"], live_offer["customer_id"]
    root, state = _signed_in(cid)
    # the banner slot of the invoice page, at an invoice's address (the page reloaded after "Add")
    root.rx_router_url = URLData.from_url(
        ReflexURL("http://localhost:3000/invoices/50a2a058-09e0-40f8-8414-f0862326160f")
    )
    run(drain(OffersState.load.fn(state, "invoice")))
    subscription_id = state._targets[str(offer_id)]
    run(drain(OffersState.open_order.fn(state, str(offer_id))))
    assert state.sheet_open and not state.sheet_busy and state.sheet_error == ""
    assert state.sheet_lines and state.sheet_total.endswith("kr") and state.sheet_terms == "2 mån halva priset"
    assert "Mobil Obegränsad" in state.sheet_change
    order = run(OffersClient(client).order(subscriber_token(cid), cid, offer_id, subscription_id))
    assert [x["description"] for x in state.sheet_lines] == [x["description"] for x in order["this_period"]["lines"]]
    assert _results(client, offer_id)["clicks"] == 1
    updates = run(drain(OffersState.confirm.fn(state)))
    assert state.sheet_error == "" and state.sheet_done.startswith("Klart! Din nya plan gäller från")
    assert all(b["offer_id"] != str(offer_id) for b in state.banners)
    assert any(getattr(getattr(u, "fn", None), "__qualname__", "") == "InvoiceState.load" for u in updates)
    results = _results(client, offer_id)
    assert results["acceptances"] == 1 and results["extra_monthly_revenue_ore"] > 0
    # Once only: the core says so, and the state says it in words.
    state.sheet_done = ""
    run(drain(OffersState.confirm.fn(state)))
    assert state.sheet_error in ("Du har redan tagit det här erbjudandet.", "") and state.sheet_done == ""
    with pytest.raises(Exception) as exc:
        run(OffersClient(client).accept(subscriber_token(cid), cid, offer_id, subscription_id))
    assert getattr(exc.value, "status", 0) in (404, 409)
    run(drain(OffersState.close_order.fn(state)))
    assert not state.sheet_open and state._sheet_subscription == 0


def test_no_foreign_id_gets_through_the_handlers(client, live_offer):
    offer_id, cid = live_offer["offer"]["id"], live_offer["customer_id"]
    other = next(c for c in CUSTOMERS if c != cid)
    # An offer id the state did not load for this customer: nothing opens, nothing is sent.
    root, state = _signed_in(other)
    for forged in ("999999", 999999, "-1", "1 OR 1=1", None, ["1"]):
        run(drain(OffersState.open_order.fn(state, forged)))
        run(drain(OffersState.dismiss.fn(state, forged)))
        assert not state.sheet_open
    clicks = _results(client, offer_id)["clicks"]
    # Loaded for one subscriber, then another signs in on the same tab: the first one's banners are gone.
    root, state = _signed_in(cid)
    run(drain(OffersState.load.fn(state, "invoice")))
    run(drain(OffersState.open_order.fn(state, str(offer_id))))
    assert state._sheet_subscription > 0
    substate(root, SessionState)._start(
        {"access_token": subscriber_token(other), "expires_at": time.time() + 600, "customer_id": other}
    )
    run(drain(OffersState.confirm.fn(state)))
    assert state.sheet_done == "" and state._sheet_subscription == 0 and state.banners == []
    assert _results(client, offer_id)["acceptances"] == 0 and _results(client, offer_id)["clicks"] == clicks + 1
    # Without a session every handler does nothing.
    substate(root, SessionState)._drop()
    run(drain(OffersState.load.fn(state, "invoice")))
    run(drain(OffersState.open_order.fn(state, str(offer_id))))
    assert state.banners == [] and not state.sheet_open
    # The core refuses another subscriber's customer and subscription as well (404, not 403).
    subscription_id = run(OffersClient(client).banners(subscriber_token(cid), cid, "invoice"))[0]["subscription_id"]
    with pytest.raises(NotFound):
        run(OffersClient(client).accept(subscriber_token(other), cid, offer_id, subscription_id))
    with pytest.raises(NotFound):
        run(OffersClient(client).accept(subscriber_token(other), other, offer_id, subscription_id))
