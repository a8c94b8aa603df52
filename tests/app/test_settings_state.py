"""The alert settings page's state on the real core (issue 17): each handler checks who is asking, so a
subscription id from the browser that is not the session customer's own changes nothing."""

from __future__ import annotations

from selfcare.alerts_client import AlertsClient
from selfcare.pages.settings.state import SettingsState, choice_from_form, settings_view
from tests.app.conftest import drain, fresh_states, run, service_token, signed_in, substate


def _signed_in(customer_id: int) -> SettingsState:
    state = substate(signed_in(customer_id), SettingsState)
    run(drain(SettingsState.load.fn(state)))
    return state


def _form(sub_id: str, **extra: str) -> dict[str, str]:
    return {"subscription": sub_id, "data_100": "on", "channel_app": "on", "cost_limit": "", **extra}


def test_a_subscriber_saves_their_own_and_never_anothers(client):
    mine = _signed_in(4)
    other = _signed_in(3)
    assert mine.cards and other.cards
    own, foreign = mine.cards[0]["id"], other.cards[0]["id"]
    assert mine.cards[0]["ticked"]["data_80"] is True  # the defaults: everything on

    run(drain(SettingsState.save.fn(mine, _form(foreign))))  # another customer's subscription: nothing
    assert run(AlertsClient(client).settings(service_token(), int(foreign)))["thresholds"]["data"] == [80, 100]

    run(drain(SettingsState.save.fn(mine, _form(own, cost_limit="450,50"))))
    saved = run(AlertsClient(client).settings(service_token(), int(own)))
    assert saved["thresholds"] == {"data": [100], "voice": [], "sms": []}
    assert saved["channels"] == ["app"] and saved["cost_limit_ore"] == 45_050
    assert mine.notice == "Dina aviseringar är sparade."
    assert mine.cards[0]["ticked"]["data_80"] is False and mine.cards[0]["cost_limit"] == "450,50"

    run(drain(SettingsState.continue_roaming.fn(mine, foreign)))  # not theirs: no call, no notice
    assert mine.notice == "Dina aviseringar är sparade."


def test_a_bad_amount_is_named_beside_its_field():
    choice, errors = choice_from_form({"subscription": "1", "cost_limit": "fyrahundra"}, "sv")
    assert errors == {"cost_limit": "Skriv ett belopp i kronor, t.ex. 400."}
    choice, errors = choice_from_form({"data_80": "on", "kind_fair_use": "on", "cost_limit": "400"}, "en")
    assert errors == {} and choice["thresholds"]["data"] == [80] and choice["kinds"] == ["fair_use"]
    assert choice["cost_limit_ore"] == 40_000


def test_a_signed_out_tab_is_sent_to_sign_in(client):
    state = substate(fresh_states(), SettingsState)
    events = run(drain(SettingsState.load.fn(state)))
    assert "/login" in repr(events) and state.cards == []


def test_the_catalogues_choices_are_what_the_card_offers():
    doc = {
        "thresholds": {"data": [50], "voice": [], "sms": [100]},
        "threshold_choices": {"data": [50, 100], "voice": [80, 100], "sms": [100]},
        "limited_pools": ["data", "sms"],
        "kinds": ["spend_limit"],
        "channels": ["app"],
        "spend_limit_ore": 115_000,
        "spend_limit_levels": [57_500, 115_000, 230_000],
        "default_spend_limit_ore": 57_500,
    }
    card = settings_view({"id": "7", "msisdn": "+46701234567", "plan": "Mobil 5 GB"}, doc, "sv")
    assert [(t["name"], t["label"], t["checked"]) for t in card["ticks"]] == [
        ("data_50", "Surf 50 %", True),
        ("data_100", "Surf 100 %", False),
        ("sms_100", "Sms 100 %", True),
    ]  # minutes: unlimited on this plan, not shown
    assert card["limits"] == [
        {"value": "57500", "label": "575\u00a0kr (standard)"},
        {"value": "115000", "label": "1\u00a0150\u00a0kr"},
        {"value": "230000", "label": "2\u00a0300\u00a0kr"},
    ]
    assert card["spend_limit"] == "115000"
    english = settings_view({"id": "7"}, doc, "en")
    assert english["limits"][0]["label"] == "575\u00a0kr (default)" and english["ticks"][0]["label"] == "Data 50 %"
    choice, errors = choice_from_form(
        {"data_50": "on", "data_100x": "on", "sms_100": "on", "spend_limit": "230000"}, "sv"
    )
    assert errors == {} and choice["thresholds"] == {"data": [50], "voice": [], "sms": [100]}
    assert choice["spend_limit_ore"] == 230_000
    _choice, errors = choice_from_form({"spend_limit": "lots"}, "en")
    assert errors == {"spend_limit": "Choose one of the limits."}


def test_a_subscriber_chooses_a_spending_limit_of_the_catalogues_only(client):
    mine = _signed_in(4)
    own = mine.cards[0]["id"]
    assert [o["value"] for o in mine.cards[0]["limits"]] == ["57500", "115000", "230000"]
    run(drain(SettingsState.save.fn(mine, _form(own, spend_limit="99900"))))  # not a level: named, not sent
    assert mine.field_errors == {f"{own}:spend_limit": "Välj en av gränserna."}
    assert run(AlertsClient(client).settings(service_token(), int(own)))["spend_limit_ore"] == 57_500
    run(drain(SettingsState.save.fn(mine, _form(own, spend_limit="230000"))))
    assert mine.field_errors == {} and mine.notice == "Dina aviseringar är sparade."
    assert run(AlertsClient(client).settings(service_token(), int(own)))["spend_limit_ore"] == 230_000
    assert mine.cards[0]["spend_limit"] == "230000"
    other = _signed_in(3)
    run(drain(SettingsState.save.fn(other, _form(own, spend_limit="115000"))))  # not theirs: nothing
    assert run(AlertsClient(client).settings(service_token(), int(own)))["spend_limit_ore"] == 230_000


def test_a_level_the_catalogue_no_longer_offers_is_shown_and_kept():
    doc = {"spend_limit_ore": 100_000, "spend_limit_levels": [57_500, 115_000], "default_spend_limit_ore": 57_500}
    card = settings_view({"id": "7"}, doc, "sv")
    assert [o["value"] for o in card["limits"]] == ["57500", "100000", "115000"] and card["spend_limit"] == "100000"
