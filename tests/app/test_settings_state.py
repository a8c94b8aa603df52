"""The alert settings page's state on the real core (issue 17): each handler checks who is asking, so a
subscription id from the browser that is not the session customer's own changes nothing."""

from __future__ import annotations

from selfcare.alerts_client import AlertsClient
from selfcare.pages.settings.state import SettingsState, choice_from_form
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
