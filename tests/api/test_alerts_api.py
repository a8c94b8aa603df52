"""The alerts routes (issue 17): the app's notices, the choices per subscription, the roaming "continue";
nobody reaches another customer's alerts or subscriptions, whatever ids they send."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.domain.alerts import STOCKHOLM
from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.storage.models import billing as m
from tests.conftest import FIXTURES, token_for

HEAD = "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country\n"


@pytest.fixture
def api(core, auth):
    with open(FIXTURES / "customers.csv", encoding="utf-8") as fh:
        assert not import_customers(core.engine, core.catalogue, read_customers_csv(fh)).errors
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


def _ids(core) -> dict[str, int]:
    with core.engine.connect() as conn:
        return {
            number: sub_id
            for number, sub_id in conn.execute(select(m.Subscription.subscription_number, m.Subscription.id))
        }


def test_a_subscriber_sees_dismisses_and_chooses_their_own_alerts(api, auth, core):
    now = datetime(2026, 12, 9, 12, 0, tzinfo=STOCKHOLM)
    with clock.use(clock.FrozenClock(now)):
        rows = HEAD + "a1,+46701234567,data,2026-12-09T10:00:00+01:00,,4500000000,,\n"
        result = UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(io.StringIO(rows)), "a.csv")
        assert result.alerts == 1
        me, other = token_for(auth, "subscriber", 1), token_for(auth, "subscriber", 2)
        [shown] = api.get("/customers/1/alerts", headers=me).json()["items"]
        assert (shown["kind"], shown["data"]["pool"], shown["data"]["percent"]) == ("allowance", "data", 80)
        assert shown["text"] == "Du har använt 90 % av din surf (4,5 GB av 5 GB) den här perioden."
        assert (shown["action"], shown["action_label"], shown["action_path"]) == ("buy", "Köp mer", "/addons")
        [english] = api.get("/customers/1/alerts", headers=me, params={"lang": "en"}).json()["items"]
        assert english["text"] == "You have used 90 % of your data (4.5 GB of 5 GB) this period."
        # another subscriber: not their customer, not their alert
        assert api.get("/customers/1/alerts", headers=other).status_code == 404
        assert api.post(f"/customers/2/alerts/{shown['id']}/dismiss", headers=other).status_code == 404
        assert api.post(f"/customers/1/alerts/{shown['id']}/dismiss", headers=me).status_code == 204
        assert api.get("/customers/1/alerts", headers=me).json()["items"] == []

        subs = _ids(core)
        mine, theirs = subs["S1"], subs["S2"]
        assert api.get(f"/subscriptions/{theirs}/alert-settings", headers=me).status_code == 404
        assert api.get(f"/subscriptions/{mine}/alert-settings", headers=me).json()["thresholds"]["data"] == [80, 100]
        choice = {"thresholds": {"data": [100]}, "kinds": [], "channels": ["app"], "cost_limit_ore": 50_000}
        r = api.put(f"/subscriptions/{mine}/alert-settings", headers=me, json=choice)
        assert r.status_code == 200, r.text
        assert r.json()["thresholds"] == {"data": [100], "voice": [], "sms": []}
        assert r.json()["kinds"] == ["spend_limit"]  # the roaming stop stays on
        assert api.put(f"/subscriptions/{theirs}/alert-settings", headers=me, json=choice).status_code == 404
        bad = api.put(
            f"/subscriptions/{mine}/alert-settings", headers=me, json={**choice, "thresholds": {"data": [50]}}
        )
        assert bad.status_code == 422 and "thresholds.data" in bad.text
        bad = api.put(f"/subscriptions/{mine}/alert-settings", headers=me, json={**choice, "channels": ["fax"]})
        assert bad.status_code == 422 and "channels" in bad.text

        assert api.post(f"/subscriptions/{theirs}/roaming/continue", headers=me).status_code == 404
        not_yet = api.post(f"/subscriptions/{mine}/roaming/continue", headers=me)
        assert not_yet.status_code == 409 and "not been stopped" in not_yet.text
        # 12 GB in the USA at 0,049 kr/MB: past the 575 kr limit, data abroad stops
        rows = HEAD + "a2,+46701234567,data,2026-12-09T11:00:00+01:00,,12000000000,,US\n"
        result = UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(io.StringIO(rows)), "b.csv")
        assert result.alerts >= 2  # the welcome, and the spending limit at 80 % and 100 %
        assert api.get(f"/subscriptions/{mine}/alert-settings", headers=me).json()["roaming_stopped"] is True
        go_on = api.post(f"/subscriptions/{mine}/roaming/continue", headers=me)
        assert go_on.status_code == 201 and go_on.json()["period_start"] == "2026-12-01"
        assert api.post(f"/subscriptions/{mine}/roaming/continue", headers=me).status_code == 409
        settings = api.get(f"/subscriptions/{mine}/alert-settings", headers=me).json()
        assert settings["roaming_continued"] is True and settings["limited_pools"] == ["data"]
        texts = [m["text"] for m in api.get("/dev/outbox", headers=token_for(auth, "service")).json()]
        assert any(
            t.startswith("Du har valt att fortsätta surfa utanför EU/EES till och med 31 december 2026") for t in texts
        )


def test_alerts_need_a_token_and_marketing_may_not_choose(api, auth, core):
    mine = _ids(core)["S1"]
    assert api.get("/customers/1/alerts").status_code == 401
    assert api.get(f"/subscriptions/{mine}/alert-settings", headers=token_for(auth, "marketing")).status_code == 403


def test_the_spending_limit_is_one_of_the_catalogues_levels_and_the_defaults_are_shown(api, auth, core):
    subs = _ids(core)
    mine, theirs = subs["S1"], subs["S2"]
    me = token_for(auth, "subscriber", 1)
    shown = api.get(f"/subscriptions/{mine}/alert-settings", headers=me).json()
    assert shown["threshold_choices"] == {"data": [80, 100], "voice": [80, 100], "sms": [80, 100]}
    assert (shown["spend_limit_ore"], shown["default_spend_limit_ore"]) == (57_500, 57_500)
    assert shown["spend_limit_levels"] == [57_500, 115_000, 230_000]
    choice = {"thresholds": {"data": [80, 100]}, "kinds": [], "channels": ["app"], "spend_limit_ore": 230_000}
    r = api.put(f"/subscriptions/{mine}/alert-settings", headers=me, json=choice)
    assert r.status_code == 200, r.text
    assert r.json()["spend_limit_ore"] == 230_000
    assert api.get(f"/subscriptions/{mine}/alert-settings", headers=me).json()["spend_limit_ore"] == 230_000
    bad = api.put(f"/subscriptions/{mine}/alert-settings", headers=me, json={**choice, "spend_limit_ore": 60_000})
    assert bad.status_code == 422 and "spend_limit_ore" in bad.text
    assert api.put(f"/subscriptions/{theirs}/alert-settings", headers=me, json=choice).status_code == 404
    # leaving it out keeps the level chosen
    r = api.put(f"/subscriptions/{mine}/alert-settings", headers=me, json={**choice, "spend_limit_ore": None})
    assert r.json()["spend_limit_ore"] == 230_000


DATA_OFFER = {
    "name": "Extra 5 GB at the alert",
    "title": "Snart slut på surf?",
    "body": "Lägg till 5 GB.",
    "cta": "Lägg till 5 GB",
    "sells": {"kind": "addon", "id": "extra-5gb"},
    "terms": None,
    "effective": "now",
    "priority": 5,
    "cap": {"impressions": 3, "days": 7},
    "placements": ["overview"],
    "rules": {"data_alert": True},
}


def test_a_data_alert_opens_the_offer_that_targets_it(api, auth, core):
    """An active offer with the rule data_alert: the data alert's tap is that offer (id and call to action); the
    other customer's alerts and a dismissed or taken offer keep the add-on shop."""
    marketing = token_for(auth, "marketing")
    now = datetime(2026, 12, 9, 12, 0, tzinfo=STOCKHOLM)
    with clock.use(clock.FrozenClock(now)):
        offer = api.post("/marketing/offers", headers=marketing, json=DATA_OFFER).json()
        r = api.post(f"/marketing/offers/{offer['id']}/schedule", headers=marketing, json={})
        assert r.status_code == 200, r.text
        me = token_for(auth, "subscriber", 1)
        assert api.get("/customers/1/alerts", headers=me).json()["items"] == []
        rows = HEAD + "o1,+46701234567,data,2026-12-09T10:00:00+01:00,,4500000000,,\n"
        UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(io.StringIO(rows)), "o.csv")
        [shown] = api.get("/customers/1/alerts", headers=me).json()["items"]
        assert (shown["action"], shown["offer_id"], shown["action_label"]) == ("offer", offer["id"], "Lägg till 5 GB")
        assert shown["subscription_id"] == _ids(core)["S1"]
        # the offer's own order sheet answers for that subscription (what the app opens)
        sheet = api.get(
            f"/customers/1/offers/{offer['id']}/order", headers=me, params={"subscription_id": shown["subscription_id"]}
        )
        assert sheet.status_code == 200, sheet.text
        # dismissed as a banner: the alert goes back to the add-on shop
        r = api.post(
            f"/customers/1/offers/{offer['id']}/events",
            headers=me,
            json={"kind": "dismiss", "placement": "overview", "view_id": "alert-view-1"},
        )
        assert r.status_code == 204, r.text
        [shown] = api.get("/customers/1/alerts", headers=me).json()["items"]
        assert (shown["action"], shown["action_path"]) == ("buy", "/addons") and "offer_id" not in shown


def test_without_an_offer_for_it_the_data_alert_buys_more(api, auth, core):
    marketing = token_for(auth, "marketing")
    now = datetime(2026, 12, 9, 12, 0, tzinfo=STOCKHOLM)
    with clock.use(clock.FrozenClock(now)):
        other = {**DATA_OFFER, "rules": {"data_alert": False, "plans": ["mobil-20gb"]}}
        offer = api.post("/marketing/offers", headers=marketing, json=other).json()
        api.post(f"/marketing/offers/{offer['id']}/schedule", headers=marketing, json={})
        rows = HEAD + "o2,+46701234567,data,2026-12-09T10:00:00+01:00,,4500000000,,\n"
        UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(io.StringIO(rows)), "o.csv")
        [shown] = api.get("/customers/1/alerts", headers=token_for(auth, "subscriber", 1)).json()["items"]
        assert shown["action"] == "buy" and "offer_id" not in shown
