"""The alerts on the overview and usage pages (issue 17): the core's sentence in the session's language, the
one tap out (the shop opens on that subscription), and closing one, never another customer's."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from reflex.istate.data import ReflexURL, URLData
from sqlalchemy import select

from backend_stub import clock
from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.storage.repo import load_subscriptions
from selfcare.offers_client import OffersClient
from selfcare.state.alerts import AlertNoticesState, notice_view
from selfcare.state.session import SessionState
from tests.app.conftest import drain, run, service_token, signed_in, subscriber_token, substate
from tests.conftest import TEST_NOW

HEAD = "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country\n"
CUSTOMER = 2  # no other app test writes this customer's alerts or alert settings


def _signed_in(customer_id: int, lang: str = "sv") -> AlertNoticesState:
    return substate(signed_in(customer_id, lang), AlertNoticesState)


def _use_all_data(core_app) -> int:
    """The customer's first subscription with a data allowance uses all of it today; returns its id."""
    core = core_app.state.core
    catalogue = core.catalogue
    with core.engine.connect() as conn:
        subs = load_subscriptions(conn, customer_ids=[CUSTOMER])
    for sub in subs:
        plan = catalogue.plans.get(sub.segments[-1].plan_id)
        data = plan.allowances.get("data") if plan else None
        if sub.msisdn and data is not None and data.amount > 0:
            break
    else:
        raise AssertionError("the seeded customer has no subscription with a data allowance")
    with clock.use(clock.FrozenClock(TEST_NOW)):
        at = datetime.fromisoformat(TEST_NOW).isoformat()  # today, the tests' business day
        rows = HEAD + f"alert-{uuid.uuid4().hex},{sub.msisdn},data,{at},,{2 * data.amount},,\n"
        result = UsageImporter(core.engine, catalogue).import_rows(read_cdr_csv(io.StringIO(rows)), "alerts.csv")
        assert result.rated == 1 and result.alerts >= 1, result
    return sub.id


def test_notices_say_it_in_the_sessions_language_and_close_only_their_own(client, core_app):
    sub_id = _use_all_data(core_app)
    mine = _signed_in(CUSTOMER)
    run(drain(AlertNoticesState.load.fn(mine)))
    texts = [n["text"] for n in mine.notices]
    assert any(t.startswith("Nu har du använt all surf") for t in texts), texts
    buy = next(n for n in mine.notices if n["action"] == "buy")
    assert buy["href"] == f"/addons?sub={sub_id}&pool=data" and buy["action_label"] == "Köp mer"
    english = _signed_in(CUSTOMER, "en")
    run(drain(AlertNoticesState.load.fn(english)))
    assert any(n["text"].startswith("You have used all of your data") for n in english.notices)

    other = _signed_in(1)
    run(drain(AlertNoticesState.load.fn(other)))
    run(drain(AlertNoticesState.dismiss.fn(other, buy["id"])))  # not among theirs: nothing happens
    run(drain(AlertNoticesState.load.fn(mine)))
    assert buy["id"] in [n["id"] for n in mine.notices]
    run(drain(AlertNoticesState.dismiss.fn(mine, buy["id"])))
    assert buy["id"] not in [n["id"] for n in mine.notices]
    run(drain(AlertNoticesState.load.fn(mine)))
    assert buy["id"] not in [n["id"] for n in mine.notices]  # the core keeps it closed


def _a_data_alert_on_show(core_app) -> int:
    """A data alert of CUSTOMER this period, not dismissed (another test may have closed it); its subscription."""
    from sqlalchemy import update

    from backend_stub.storage.models.alerts import UsageAlert

    core = core_app.state.core
    with core.engine.connect() as conn:
        told = conn.execute(
            select(UsageAlert.subscription_id).where(
                UsageAlert.customer_id == CUSTOMER, UsageAlert.kind == "allowance", UsageAlert.level.like("data-%")
            )
        ).first()
    sub_id = told[0] if told else _use_all_data(core_app)
    with core.engine.begin() as conn:
        conn.execute(
            update(UsageAlert)
            .where(UsageAlert.customer_id == CUSTOMER, UsageAlert.kind == "allowance", UsageAlert.level.like("data-%"))
            .values(dismissed_at=None)
        )
    return sub_id


@pytest.fixture
def data_alert_offer(client, core_app) -> Iterator[dict[str, Any]]:
    """An active offer of 5 GB more for whoever reached 80 % of their data this period; stopped afterwards."""
    sub_id = _a_data_alert_on_show(core_app)
    oc, token = OffersClient(client), service_token()
    body = {
        "name": f"alert offer {time.monotonic_ns()}",
        "title": "Snart slut på surf?",
        "body": "Lägg till 5 GB.",
        "cta": "Lägg till 5 GB",
        "image_id": None,
        "sells": {"kind": "addon", "id": "extra-5gb"},
        "terms": None,
        "effective": "now",
        "priority": 950,
        "cap": {"impressions": 50, "days": 7},
        "placements": ["invoice"],
        "rules": {"data_alert": True, "exclude_overdue": False, "exclude_collection": False},
    }
    offer = run(oc.schedule(token, run(oc.create(token, body))["id"], None, None))
    assert offer["status"] == "active"
    try:
        yield {"offer": offer, "subscription_id": sub_id}
    finally:
        run(oc.stop(token, offer["id"]))


def test_a_data_alert_opens_the_order_sheet_of_the_offer_that_targets_it(client, data_alert_offer):
    offer_id, sub_id = data_alert_offer["offer"]["id"], data_alert_offer["subscription_id"]
    mine = _signed_in(CUSTOMER)
    run(drain(AlertNoticesState.load.fn(mine)))
    [tap] = [n for n in mine.notices if n["action"] == "offer"]
    assert tap["action_label"] == "Lägg till 5 GB" and "offer" not in tap["href"]
    assert "offer_id" not in tap and mine._offers[tap["id"]] == (offer_id, sub_id)  # the ids stay in the backend
    # another customer's alert id, forged ids, or one without an offer: nothing opens
    other = _signed_in(1)
    run(drain(AlertNoticesState.load.fn(other)))
    for forged in (tap["id"], "999999", "-1", "1 OR 1=1", None, ["1"]):
        run(drain(AlertNoticesState.open_offer.fn(other, forged)))
        assert not other.sheet_open and other._sheet_offer == 0
    run(drain(AlertNoticesState.confirm.fn(other)))  # nothing on show: nothing ordered
    # their own: the offer's order sheet, for the alert's subscription
    run(drain(AlertNoticesState.open_offer.fn(mine, tap["id"])))
    assert mine.sheet_open and mine.sheet_error == "" and not mine.sheet_busy
    assert (mine._sheet_offer, mine._sheet_subscription) == (offer_id, sub_id)
    assert mine.sheet_title and mine.sheet_lines and mine.sheet_total.endswith("kr")
    # another subscriber signs in on the same tab: the sheet is gone and "Add" orders nothing
    root = signed_in(CUSTOMER)
    tab = substate(root, AlertNoticesState)
    run(drain(AlertNoticesState.load.fn(tab)))
    run(drain(AlertNoticesState.open_offer.fn(tab, tap["id"])))
    assert tab._sheet_offer == offer_id
    substate(root, SessionState)._start(
        {"access_token": subscriber_token(1), "expires_at": time.time() + 600, "customer_id": 1}
    )
    run(drain(AlertNoticesState.confirm.fn(tab)))
    assert tab.sheet_done == "" and tab._sheet_offer == 0 and tab.notices == []
    results = run(OffersClient(client).results(service_token(), offer_id))
    assert results["acceptances"] == 0
    run(drain(AlertNoticesState.close_order.fn(mine)))
    assert not mine.sheet_open and mine._sheet_offer == 0
    # "Add": taken for the alert's subscription; the alert's tap is the shop again
    run(drain(AlertNoticesState.open_offer.fn(mine, tap["id"])))
    updates = run(drain(AlertNoticesState.confirm.fn(mine)))
    assert mine.sheet_error == "" and mine.sheet_done.startswith("Klart!")
    assert run(OffersClient(client).results(service_token(), offer_id))["acceptances"] == 1
    assert mine._offers == {}
    loads = {getattr(getattr(u, "fn", None), "__qualname__", "") for u in updates}
    assert {"AlertNoticesState.load", "OverviewState.load"} <= loads  # and the page behind shows the new plan
    # the page behind a sheet is the page it was open on (OrderSheetMixin._reload_page, shared with the banners)
    for path, load in (
        ("/usage/", "UsageState.load"),
        ("/invoices/50a2a058-09e0-40f8-8414-f0862326160f", "InvoiceState.load"),
        ("/", "OverviewState.load"),
    ):
        mine.rx_router_url = URLData.from_url(ReflexURL(f"http://localhost:3000{path}"))
        assert mine._reload_page().fn.__qualname__ == load, path
    run(drain(AlertNoticesState.load.fn(mine)))
    assert not [n for n in mine.notices if n["action"] == "offer"]


def test_without_an_offer_for_it_the_data_alert_opens_the_shop(client, core_app):
    sub_id = _a_data_alert_on_show(core_app)
    mine = _signed_in(CUSTOMER)
    run(drain(AlertNoticesState.load.fn(mine)))
    buy = [n for n in mine.notices if n["action"] == "buy"]
    # the shop on that subscription, with the order sheet of a data add-on (the pool that ran low)
    assert buy and buy[0]["href"] == f"/addons?sub={sub_id}&pool=data" and mine._offers == {}
    odd = notice_view({"id": 6, "text": "x", "action": "buy", "subscription_id": 3, "data": {"pool": 'x"&a=1'}})
    assert odd["href"] == "/addons?sub=3"  # only a known pool goes into the address
    assert (
        notice_view({"id": 5, "text": "x", "action": "offer", "subscription_id": 3})["action"] == "buy"
    )  # no offer id
