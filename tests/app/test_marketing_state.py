"""The marketing console: its form rules as plain functions, and its handlers called directly
(any handler, any argument) on the real core."""

from __future__ import annotations

import io
import time
import uuid

import pytest
import reflex as rx

from backend_stub.services.support import agents
from selfcare.offers_client import OffersClient
from selfcare.pages.agent.state import AgentSessionState
from selfcare.pages.marketing.image import MAX_IMAGE_BYTES, image_type
from selfcare.pages.marketing.offer_form import FORM_DEFAULTS, form_from_offer, local_input, offer_body
from selfcare.pages.marketing.results import percent_text, results_figures
from selfcare.pages.marketing.state import MarketingSessionState, MarketingState
from selfcare.state.session import SessionState
from tests.app.conftest import drain, fresh_states, run, service_token, subscriber_token, substate

PASSWORD = "marketing test password 1"
PLANS = {"mobil-5gb", "mobil-20gb", "mobil-bas"}
ADDONS = {"extra-5gb"}


def _png(width: int = 600, height: int = 240) -> bytes:
    """A real PNG (Pillow), like a banner picture."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (11, 79, 108)).save(buf, format="PNG")
    return buf.getvalue()


PNG_BANNER = _png()


def _form(**changes: str) -> dict[str, str]:
    form = {
        **FORM_DEFAULTS,
        "name": "Heavy data → 20 GB",
        "title": "Slut på surf igen?",
        "body": "Med 20 GB …",
        "cta": "Visa erbjudandet",
        "sells": "plan:mobil-20gb",
        "terms_percent": "100",
        "terms_periods": "3",
        "terms_text_sv": "3 mån 0 kr, sedan 299 kr/mån",
        "terms_text_en": "3 months 0 kr, then 299 kr/month",
        "data_min_percent": "90",
        "data_periods": "2",
        "data_of_last": "3",
        "rule_plan_mobil-5gb": "on",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


# -- the form as plain functions -------------------------------------------------------------------


def test_a_complete_form_becomes_the_contracts_offer_body():
    body, problems = offer_body(_form(), PLANS, ADDONS, "en", image_id=3)
    assert problems == []
    assert body["sells"] == {"kind": "plan", "id": "mobil-20gb"}
    assert body["terms"] == {"percent": "100", "amount_ore": None, "periods": 3}
    assert body["terms_text"] == {"sv": "3 mån 0 kr, sedan 299 kr/mån", "en": "3 months 0 kr, then 299 kr/month"}
    assert body["rules"] == {
        "plans": ["mobil-5gb"],
        "data_usage": {"min_percent": 90, "periods": 2, "of_last": 3},
        "exclude_overdue": True,
        "exclude_collection": True,
    }
    assert body["placements"] == ["overview", "invoice"] and body["cap"] == {"impressions": 3, "days": 7}
    assert body["effective"] == "now" and body["priority"] == 10 and body["image_id"] == 3
    # The other rules, an amount discount and an add-on.
    body, problems = offer_body(
        _form(
            sells="addon:extra-5gb",
            terms_percent="",
            terms_amount_kr="49,50",
            overage_min_kr="1",
            overage_periods="1",
            overage_of_last="3",
            roaming_periods="1",
            roaming_of_last="3",
            tenure_min="6",
            exclude_collection="",
            placement_invoice="",
            **{"rule_plan_mobil-5gb": ""},
        ),
        PLANS,
        ADDONS,
        "en",
    )
    assert problems == []
    assert body["terms"] == {"percent": None, "amount_ore": 4950, "periods": 3}
    assert body["rules"]["overage"] == {"min_ore": 100, "periods": 1, "of_last": 3}
    assert body["rules"]["roaming"] == {"periods": 1, "of_last": 3}
    assert body["rules"]["tenure_months"] == {"min": 6, "max": None}
    assert body["rules"]["exclude_collection"] is False and "plans" not in body["rules"]
    assert body["placements"] == ["overview"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " "}, "Rubrik"),
        ({"sells": "plan:no-such-plan"}, "Säljer"),
        ({"terms_percent": "150"}, "Rabatt (%)"),
        ({"terms_amount_kr": "10"}, "Rabatt (%)"),  # a percentage and an amount
        ({"terms_periods": "0"}, "Rabattmånader"),
        ({"data_periods": "4"}, "Dataanvändning"),  # 4 of the last 3
        ({"data_of_last": ""}, "Dataanvändning"),  # half a rule
        ({"rule_plan_bogus": "on"}, "Nuvarande abonnemang"),
        ({"placement_overview": "", "placement_invoice": ""}, "Placeringar"),
        ({"tenure_min": "12", "tenure_max": "6"}, "Kundtid"),
        ({"priority": "ten"}, "Prioritet"),
        ({"recommended": "on", "sells": "addon:extra-5gb"}, "Rekommenderat abonnemang"),
    ],
)
def test_bad_input_names_the_field_and_sends_nothing(changes, field):
    body, problems = offer_body(_form(**changes), PLANS, ADDONS, "sv")
    assert body is None
    assert any(p.startswith(f"{field}:") for p in problems), problems


def test_an_offer_from_the_core_fills_the_form_and_comes_back_the_same():
    body, _ = offer_body(
        _form(
            terms_percent="",
            terms_amount_kr="100",
            overage_min_kr="25",
            overage_periods="2",
            overage_of_last="3",
            tenure_max="24",
            recommended="on",
        ),
        PLANS,
        ADDONS,
        "en",
    )
    offer = {"id": 7, "status": "draft", **body}
    form, plans = form_from_offer(offer)
    assert plans == ["mobil-5gb"] and form["overage_min_kr"] == "25" and form["terms_amount_kr"] == "100"
    again, problems = offer_body({**form, **{f"rule_plan_{p}": "on" for p in plans}}, PLANS, ADDONS, "en")
    assert problems == [] and again == body
    # The core stores a rule without the values that equal its defaults; the form shows them again.
    core_style = {**offer, "rules": {"data_usage": {"periods": 2}, "overage": {}, "exclude_collection": False}}
    form, plans = form_from_offer(core_style)
    assert (form["data_min_percent"], form["data_periods"], form["data_of_last"]) == ("90", "2", "3")
    assert (form["overage_min_kr"], form["overage_periods"], form["overage_of_last"]) == ("0.01", "1", "3")
    assert form["roaming_periods"] == "" and form["exclude_overdue"] == "on" and form["exclude_collection"] == ""
    again, problems = offer_body(form, PLANS, ADDONS, "en")
    assert problems == [] and again["rules"]["data_usage"] == {"min_percent": 90, "periods": 2, "of_last": 3}


def test_image_type_is_read_from_the_bytes_and_times_are_shown_in_stockholm():
    assert image_type(PNG_BANNER) == "image/png"
    assert image_type(b"\xff\xd8\xff\xe0" + b"\0" * 20) == "image/jpeg"
    assert image_type(b"RIFF\x10\0\0\0WEBPVP8 ") == "image/webp"
    assert image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert image_type(b"GIF89a") is None
    assert local_input("2026-11-01T07:00:00+00:00") == "2026-11-01T08:00"
    assert local_input("garbage") == "" and local_input(None) == ""


def test_results_as_figures():
    assert percent_text("0.0500", "sv") == "5,0\u00a0%" and percent_text("1", "en") == "100.0\u00a0%"
    daily, funnel = results_figures(
        {
            "daily": [
                {"date": "2026-11-20", "impressions": 4, "clicks": 2, "acceptances": 1},
                {"date": "2026-11-21", "impressions": 6, "clicks": 1, "acceptances": 0},
            ],
            "funnel": [
                {"stage": "impressions", "count": 10},
                {"stage": "clicks", "count": 3},
                {"stage": "acceptances", "count": 1},
            ],
        },
        "sv",
    )
    assert [t.name for t in daily.data] == ["Visningar", "Klick", "Accepterade"]
    assert list(daily.data[0].y) == [4, 6] and list(daily.data[2].y) == [1, 0]
    assert funnel.data[0].orientation == "h" and list(funnel.data[0].x) == [1, 3, 10]
    assert list(funnel.data[0].y) == ["Accepterade", "Klick", "Visningar"]


# -- sign-in and the session -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def staff(core_app) -> dict[str, str]:
    engine = core_app.state.core.engine
    suffix = uuid.uuid4().hex[:6]
    names = {"marketing": f"mia{suffix}", "agent": f"adam{suffix}"}
    agents.create_agent(engine, names["marketing"], "Mia Marknad", PASSWORD, "marketing")
    agents.create_agent(engine, names["agent"], "Adam Agent", PASSWORD, "agent")
    return names


def _console(username: str | None):
    root = fresh_states()
    session = substate(root, MarketingSessionState)
    if username:
        run(drain(MarketingSessionState.sign_in.fn(session, {"username": username, "password": PASSWORD})))
    return root, session, substate(root, MarketingState)


def test_only_marketing_accounts_sign_in_here_and_only_staff_at_agent(client, staff):
    _root, session, console = _console(staff["agent"])
    assert not session.signed_in and session._token == ""
    assert "/agent" in session.login_error
    _root, session, console = _console(staff["marketing"])
    assert session.signed_in and session.marketer_name == "Mia Marknad" and session._token
    assert "_token" not in session.get_delta().get(session.get_full_name(), {})
    # The support console refuses the marketing account with a clear message.
    agent = substate(fresh_states(), AgentSessionState)
    run(drain(AgentSessionState.sign_in.fn(agent, {"username": staff["marketing"], "password": PASSWORD})))
    assert not agent.signed_in and agent._token == "" and "/marketing" in agent.login_error
    # Wrong password, empty name.
    _root, wrong, _c = _console(None)
    run(drain(MarketingSessionState.sign_in.fn(wrong, {"username": staff["marketing"], "password": "nope nope"})))
    assert not wrong.signed_in and wrong.login_error
    run(drain(MarketingSessionState.sign_in.fn(wrong, {"username": "", "password": "x"})))
    assert "Användarnamn" in wrong.login_error


def test_without_a_marketing_session_every_handler_does_nothing(client, staff):
    root, _session, console = _console(None)
    # A subscriber's session is not a marketer's.
    substate(root, SessionState)._start(
        {"access_token": subscriber_token(1), "expires_at": time.time() + 600, "customer_id": 1}
    )
    console.selected_id = 1
    console._offers = {"1": {"id": 1, "rules": {}, "sells": None}}
    run(drain(MarketingState.load.fn(console)))
    run(drain(MarketingState.save.fn(console, _form())))
    run(drain(MarketingState.schedule.fn(console, {"starts_at": "", "ends_at": ""})))
    run(drain(MarketingState.stop_offer.fn(console)))
    run(drain(MarketingState.preview_segment.fn(console)))
    run(drain(MarketingState.preview_for.fn(console, {"customer_number": "K100001"})))
    upload = rx.UploadFile(file=io.BytesIO(PNG_BANNER))
    run(drain(MarketingState.upload_image.fn(console, [upload])))
    assert console.rows == [] and console.image_id == 0 and console.segment_text == ""
    assert console.preview_banner == {} and console.error == "" and console.notice == ""


def test_the_image_is_checked_before_it_is_sent(client, staff):
    _root, session, console = _console(staff["marketing"])
    assert session.signed_in
    run(drain(MarketingState.upload_image.fn(console, [rx.UploadFile(file=io.BytesIO(b"GIF89a" + b"\0" * 64))])))
    assert console.image_error.startswith("Bild:") and console.image_id == 0
    big = PNG_BANNER + b"\0" * MAX_IMAGE_BYTES
    run(drain(MarketingState.upload_image.fn(console, [rx.UploadFile(file=io.BytesIO(big))])))
    assert "1 MB" in console.image_error and console.image_id == 0


def test_a_subscriber_token_cannot_use_the_marketing_routes(client):
    from selfcare.offers_client import Forbidden

    with pytest.raises(Forbidden):
        run(OffersClient(client).offers(subscriber_token(1)))


def test_create_preview_schedule_results_and_stop(client, staff):
    root, session, console = _console(staff["marketing"])
    run(drain(MarketingState.load.fn(console)))
    assert {"id": "mobil-20gb", "name": "Mobil 20 GB"} in console.plan_options
    assert any(o["value"] == "addon:extra-5gb" for o in console.sells_options)
    run(drain(MarketingState.new_offer.fn(console)))
    # A problem in the form: nothing is created, the field is named.
    before = len(console.rows)
    run(drain(MarketingState.save.fn(console, _form(terms_percent="120"))))
    assert console.problems and console.problems[0].startswith("Rabatt (%)") and len(console.rows) == before
    # Upload the image, then save: a draft with it.
    run(drain(MarketingState.upload_image.fn(console, [rx.UploadFile(file=io.BytesIO(PNG_BANNER))])))
    assert console.image_error == "" and console.image_id > 0 and console.image_src.endswith(f"/{console.image_id}")
    run(
        drain(
            MarketingState.save.fn(
                console,
                _form(**{"rule_plan_mobil-5gb": "", "data_min_percent": "", "data_periods": "", "data_of_last": ""}),
            )
        )
    )
    assert console.problems == [] and console.error == "", console.error
    offer_id = console.selected_id
    assert offer_id > 0 and console.selected_status == "draft" and len(console.rows) == before + 1
    assert console.form["title"] == "Slut på surf igen?"
    stored = run(OffersClient(client).offer(service_token(), offer_id))
    assert stored["image_id"] == console.image_id and stored["terms"]["periods"] == 3
    try:
        # Preview: the audience and one subscriber's banner.
        run(drain(MarketingState.preview_segment.fn(console)))
        assert console.segment_text.endswith("kunder matchar nu.")
        run(drain(MarketingState.preview_for.fn(console, {"customer_number": "k100001"})))
        assert console.preview_customer == "K100001" and console.preview_matches in ("Matchar", "Matchar inte")
        if console.preview_matches == "Matchar":
            assert console.preview_banner["title"] == "Slut på surf igen?"
        run(drain(MarketingState.preview_for.fn(console, {"customer_number": "drop table"})))
        assert console.problems and console.problems[0].startswith("Kundnummer")
        # Schedule: the end before the start is refused; then from now on.
        run(
            drain(MarketingState.schedule.fn(console, {"starts_at": "2026-12-01T08:00", "ends_at": "2026-11-01T08:00"}))
        )
        assert console.problems and console.problems[0].startswith("Slut")
        run(drain(MarketingState.schedule.fn(console, {"starts_at": "", "ends_at": ""})))
        assert console.problems == [] and console.selected_status == "active", console.error
        row = next(r for r in console.rows if r["id"] == str(offer_id))
        assert row["status_key"] == "active" and row["impressions"] == "0"
        # Results (none yet) as figures and charts.
        run(drain(MarketingState.set_tab.fn(console, "results")))
        run(drain(MarketingState.show_results.fn(console)))
        assert console.results["impressions"] == "0" and console.results["conversion"] == "0,0\u00a0%"
        assert (
            len(console.daily_fig.data) == 3
            and console.daily_fig.data[0].type == "bar"
            and len(console.funnel_fig.data) == 1
        )
    finally:
        run(drain(MarketingState.stop_offer.fn(console)))
    assert console.selected_status == "stopped"
    # Opening it again fills the form from the core.
    run(drain(MarketingState.new_offer.fn(console)))
    run(drain(MarketingState.select.fn(console, str(offer_id))))
    assert console.selected_id == offer_id and console.form["terms_percent"] == "100"
    run(drain(MarketingState.select.fn(console, "../../etc")))
    assert console.selected_id == offer_id
