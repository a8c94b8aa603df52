"""The usage page (issue 16 item 3): the summary in words, the cheaper-plan line, the figures' units,
and the page's state on the real core (this period by default, the sentences from the core's figures)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest

from selfcare import charts
from selfcare.offers_client import offers_client
from selfcare.pages.usage import summary as words
from selfcare.pages.usage.state import UsageState, find_cheaper_plan
from tests.app.conftest import drain, run, subscriber_token, substate
from tests.app.test_states import _signed_in

GB = 1_000_000_000


def _plain(text: str) -> str:
    return text.replace("\u00a0", " ")


def _summary(
    *,
    days_left: int,
    allowances: list[dict],
    data_days: dict[str, int] | None = None,
    voice_days: dict[str, int] | None = None,
    sms_days: dict[str, int] | None = None,
) -> dict:
    return {
        "period": "2026-12",
        "start": "2026-12-01",
        "end": "2026-12-31",
        "days_left": days_left,
        "per_day": {"data": data_days or {}, "voice": voice_days or {}, "sms": sms_days or {}, "mms": {}},
        "per_category": {"domestic": {"count": 10, "cost_ore": 0}, "eu_roaming": {"count": 2, "cost_ore": 1250}},
        "allowances": allowances,
    }


def _pool(pool: str, included: int, used: int, unlimited: bool = False) -> dict:
    return {
        "pool": pool,
        "included": 0 if unlimited else included,
        "unlimited": unlimited,
        "used": used,
        "remaining": None if unlimited else max(0, included - used),
        "unit": "GB",
    }


UNLIMITED_CALLS = [_pool("voice", 0, 7260, unlimited=True), _pool("sms", 0, 12, unlimited=True)]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("sv", ["Du har använt 9,4 GB av 20 GB.", "I den här takten tar surfen slut omkring 24 december."]),
        ("en", ["You have used 9.4 GB of 20 GB.", "At this rate your data will run out around 24 December."]),
    ],
)
def test_data_runs_out_at_this_rate(lang, expected):
    # 11 days gone (today 11 Dec, 21 left): 9,4 GB in 11 days reaches 20 GB on day 24 (ceil(20·11/9,4) = 24)
    s = _summary(
        days_left=21,
        allowances=[_pool("data", 20 * GB, 9_400_000_000), *UNLIMITED_CALLS],
        sms_days={"2026-12-02": 12},
        voice_days={"2026-12-03": 7260},
    )
    lines = [_plain(x) for x in words.summary_sentences(s, lang)]
    assert lines[:2] == expected
    # calls and texts follow in their own units; unlimited: the use only
    assert lines[2:] == (
        ["Du har ringt 121 min.", "Du har skickat 12 sms."]
        if lang == "sv"
        else ["You have called for 121 min.", "You have sent 12 texts."]
    )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("sv", "I den här takten räcker surfen perioden ut."),
        ("en", "At this rate your data will last the period."),
    ],
)
def test_data_lasts_the_period(lang, expected):
    s = _summary(days_left=21, allowances=[_pool("data", 20 * GB, 3 * GB), *UNLIMITED_CALLS])
    lines = words.summary_sentences(s, lang)
    assert _plain(lines[0]) == ("Du har använt 3 GB av 20 GB." if lang == "sv" else "You have used 3 GB of 20 GB.")
    assert lines[1] == expected


def test_run_out_day_is_the_forecasts_rule_and_never_before_today():
    start, end = date(2026, 12, 1), date(2026, 12, 31)
    assert words.runs_out_on(20 * GB, 9_400_000_000, start, end, date(2026, 12, 11), 11) == date(2026, 12, 24)
    assert words.runs_out_on(20 * GB, 3 * GB, start, end, date(2026, 12, 11), 11) is None
    assert words.runs_out_on(20 * GB, 19 * GB, start, end, date(2026, 12, 2), 2) == date(2026, 12, 3)
    assert words.runs_out_on(20 * GB, 0, start, end, date(2026, 12, 2), 2) is None
    assert words.runs_out_on(20 * GB, 30 * GB, start, end, None, 31) is None  # ended: no run-out


def test_used_up_and_ended_periods():
    used_up = _summary(days_left=10, allowances=[_pool("data", 5 * GB, 6 * GB), *UNLIMITED_CALLS])
    assert words.summary_sentences(used_up, "sv")[1] == "Surfen för den här perioden är slut."
    ended = _summary(days_left=0, allowances=[_pool("data", 5 * GB, 2 * GB), *UNLIMITED_CALLS])
    lines = words.summary_sentences(ended, "en")
    assert _plain(lines[0]) == "You have used 2 GB of 5 GB." and not any("rate" in x for x in lines)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_unlimited_data_gives_use_only(lang):
    s = _summary(
        days_left=5,
        allowances=[_pool("data", 0, 0, unlimited=True), *UNLIMITED_CALLS],
        data_days={"2026-12-01": 30 * GB, "2026-12-02": 12_340_000_000},
    )
    lines = [_plain(x) for x in words.summary_sentences(s, lang)]
    assert lines[0] == ("Du har använt 42,3 GB surf." if lang == "sv" else "You have used 42.3 GB of data.")
    assert not any("slut" in x or "run out" in x or "last" in x for x in lines)
    assert words.data_bar(s) is None


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_broadband_is_data_only(lang):
    s = _summary(days_left=5, allowances=[], data_days={"2026-12-01": 120 * GB}, voice_days={"2026-12-01": 600})
    lines = [_plain(x) for x in words.summary_sentences(s, lang)]
    assert lines == (["Du har använt 120 GB surf."] if lang == "sv" else ["You have used 120 GB of data."])


def test_limited_minutes_and_texts_in_their_units():
    s = _summary(
        days_left=21,
        allowances=[_pool("data", GB, 100_000_000), _pool("voice", 300 * 60, 250 * 60), _pool("sms", 100, 20)],
    )
    lines = [_plain(x) for x in words.summary_sentences(s, "sv")]
    assert "Du har ringt 250 min av 300 min." in lines
    assert "I den här takten tar samtalsminuterna slut omkring 14 december." in lines  # ceil(300·11/250) = 14
    assert "Du har skickat 20 av 100 sms." in lines


def test_days_left():
    assert words.days_left_text(_summary(days_left=21, allowances=[]), "sv") == "21 dagar kvar av perioden"
    assert words.days_left_text(_summary(days_left=21, allowances=[]), "en") == "21 days left in this period"
    assert words.days_left_text(_summary(days_left=1, allowances=[]), "sv") == "Sista dagen av perioden"
    assert words.days_left_text(_summary(days_left=0, allowances=[]), "en") == "1 December – 31 December"


def _rec(current_total: int, best_total: int, best: str | None = "mobil-5gb") -> dict:
    return {
        "subscription_id": 1,
        "periods": ["2026-09", "2026-10", "2026-11"],
        "current_plan_id": "mobil-20gb",
        "plans": [
            {
                "plan_id": "mobil-20gb",
                "name": "Mobil 20 GB",
                "monthly_fee_ore": 29900,
                "per_period_ore": [],
                "total_ore": current_total,
                "current": True,
            },
            {
                "plan_id": "mobil-5gb",
                "name": "Mobil 5 GB",
                "monthly_fee_ore": 19900,
                "per_period_ore": [],
                "total_ore": best_total,
                "current": False,
            },
        ],
        "best_plan_id": best,
    }


def test_the_plan_line():
    plan = words.cheaper_plan(_rec(89700, 59700))
    assert plan == {"plan_id": "mobil-5gb", "name": "Mobil 5 GB", "monthly_saving_ore": 10000, "months": 3}
    assert words.recommendation_basis(plan, "sv") == "Räknat på dina senaste 3 fakturor."
    assert words.recommendation_basis(plan, "en") == "Based on your last 3 invoices."
    one = {**plan, "months": 1}  # a new subscriber: one invoice, not "1 fakturor"
    assert words.recommendation_basis(one, "sv") == "Räknat på din senaste faktura."
    assert words.recommendation_basis(one, "en") == "Based on your last invoice."
    assert _plain(words.recommendation_text(plan, "sv")) == "Mobil 5 GB hade räckt: 100 kr/mån billigare"
    assert _plain(words.recommendation_text(plan, "en")) == "Mobil 5 GB would have been enough: 100 kr/month less"
    # half a krona rounds up; the saving is per month (3 periods)
    assert words.cheaper_plan(_rec(89700, 89700 - 450))["monthly_saving_ore"] == 200
    # not cheaper (the core may recommend "about the same with more data"), none, or under a krona a month
    assert words.cheaper_plan(_rec(59700, 61000)) is None
    assert words.cheaper_plan(_rec(89700, 59700, best=None)) is None
    assert words.cheaper_plan(_rec(89700, 89700 - 100)) is None
    assert words.cheaper_plan(_rec(89700, 59700, best="mobil-20gb")) is None
    assert words.recommendation_text(None, "sv") == ""
    nameless = {**plan, "name": ""}  # English, where the core gave no English name
    assert (
        _plain(words.recommendation_text(nameless, "en")) == "A cheaper plan would have been enough: 100 kr/month less"
    )


def test_figures_have_one_unit_each_and_data_is_cumulative():
    s = _summary(
        days_left=21,
        allowances=[_pool("data", 20 * GB, 4 * GB), *UNLIMITED_CALLS],
        data_days={"2026-12-01": GB, "2026-12-05": 2 * GB, "2026-12-11": GB},
        voice_days={"2026-12-02": 61},
        sms_days={"2026-12-02": 3},
    )
    data = charts.data_figure(s, "sv")
    used = data.data[0]
    assert list(used.y) == sorted(used.y) and used.y[-1] == 4.0 and used.x[-1] == "2026-12-11"  # up to today
    assert data.layout.yaxis.title.text == "GB" and data.layout.shapes[0].y0 == 20.0  # the allowance
    assert len(data.layout.xaxis.tickvals) <= 5  # readable at 360 px
    calls, sms = charts.calls_figure(s, "sv"), charts.sms_figure(s, "en")
    assert calls.layout.yaxis.title.text == "min" and max(calls.data[0].y) == 2  # 61 s: 2 started minutes
    assert sms.layout.yaxis.title.text == "texts" and max(sms.data[0].y) == 3
    cat = charts.category_figure(s, "sv")
    assert cat.layout.xaxis.title.text == "kr" and list(cat.data[0].x) == [0.0, 12.5]


def test_the_page_opens_on_this_period_with_the_cores_figures(client):
    root, session = _signed_in(1)
    usage = substate(root, UsageState)
    plan, _subscription, _offer = run(find_cheaper_plan(subscriber_token(1), 1, "sv"))
    assert plan, "the seeded customer 1 is on a plan re-rating finds too dear"
    for lang in ("sv", "en"):  # the second load is the language switch: the same state, re-worded
        session.lang = lang
        run(drain(UsageState.load.fn(usage)))
        listing = run(client.invoices(subscriber_token(1), 1, limit=1))
        assert usage.period == listing["today"][:7]  # this period, as the overview
        summary = run(client.usage_summary(subscriber_token(1), 1, usage.period))
        assert usage.summary_ready and usage.summary_lines == words.summary_sentences(summary, lang)
        assert usage.days_left == words.days_left_text(summary, lang) and summary["days_left"] > 0
        shown, _sub, _offer = run(find_cheaper_plan(subscriber_token(1), 1, lang))
        assert shown["plan_id"] == plan["plan_id"] and (lang == "sv") == (shown["name"] == plan["name"] != "")
        assert usage.plan_text == words.recommendation_text(shown, lang) != ""  # with the summary, not after it


def test_the_plan_line_follows_the_cores_recommendation(client):
    checked = 0
    for customer_id in (1, 2, 3, 4):
        token = subscriber_token(customer_id)
        plan, subscription, offer = run(find_cheaper_plan(token, customer_id, "sv"))
        customer = run(client.customer(token, customer_id))
        expected = None
        for sub in customer["subscriptions"]:
            if sub.get("plan_id"):
                expected = words.cheaper_plan(run(offers_client().recommendation(token, customer_id, sub["id"])))
                if expected:
                    assert subscription == sub["id"]
                    break
        assert plan == expected
        if offer:
            order = run(offers_client().order(token, customer_id, offer, subscription, "sv"))
            assert order["new"]["id"] == plan["plan_id"]
        checked += 1
    assert checked == 4


@contextmanager
def _offer_of_the_cheaper_plan(client, cid: int) -> Iterator[tuple[dict, int, dict]]:
    """An offer that sells customer ``cid`` the cheaper plan re-rating found: ``(plan, subscription, offer)``;
    stopped afterwards, and any plan change it made cancelled."""
    from selfcare.offers_client import OffersClient
    from tests.app.conftest import service_token
    from tests.app.test_offers_state import _offer_body

    plan, subscription, _offer = run(find_cheaper_plan(subscriber_token(cid), cid, "sv"))
    assert plan, "the seeded customer 3 is on a plan re-rating finds too dear"
    oc = OffersClient(client)
    body = _offer_body(
        plan["plan_id"], effective="next_period", priority=990, terms=None, terms_text={"sv": "", "en": ""}
    )
    offer = run(oc.schedule(service_token(), run(oc.create(service_token(), body))["id"], None, None))
    try:
        yield plan, subscription, offer
    finally:
        run(oc.stop(service_token(), offer["id"]))
        for change in _pending_changes(client, cid):
            run(client._json("POST", f"/customers/{cid}/pending-changes/{change['id']}/cancel", subscriber_token(cid)))


def _pending_changes(client, cid: int) -> list[dict]:
    return run(client._json("GET", f"/customers/{cid}/pending-changes", subscriber_token(cid)))["items"]


def test_the_plan_line_opens_the_offers_order_sheet_and_orders(client):
    """An offer that sells the cheaper plan: the line's button opens its order sheet, "Byt" orders it."""
    cid = 3
    with _offer_of_the_cheaper_plan(client, cid) as (plan, subscription, offer):
        root, session = _signed_in(cid)
        usage = substate(root, UsageState)
        run(drain(UsageState.load.fn(usage)))
        assert usage.plan_orderable and usage._plan_offer == offer["id"] and usage._plan_subscription == subscription
        run(drain(UsageState.open_plan_order.fn(usage)))
        assert usage.sheet_open and not usage.sheet_busy and usage.sheet_error == ""
        assert plan["name"] in usage.sheet_change  # "Mobil 20 GB → Mobil 5 GB från 1 jan"
        run(drain(UsageState.confirm_plan.fn(usage)))
        assert usage.sheet_done.startswith("Klart!") and usage.plan_text == "" and not usage.plan_orderable
        run(drain(UsageState.confirm_plan.fn(usage)))  # a second tap orders nothing more
        assert [c["plan_name"] for c in _pending_changes(client, cid)] == [plan["name"]]
        run(drain(UsageState.close_order.fn(usage)))
        assert not usage.sheet_open and usage.sheet_done == "" and usage._sheet_order == {}


def test_the_plan_sheet_orders_only_for_the_session_that_opened_it(client):
    """The sheet's order is the session's own: another subscriber signed in on the tab, or none, orders nothing."""
    cid, other = 3, 1
    with _offer_of_the_cheaper_plan(client, cid) as (_plan, _subscription, offer):
        root, session = _signed_in(cid)
        usage = substate(root, UsageState)
        run(drain(UsageState.load.fn(usage)))
        run(drain(UsageState.open_plan_order.fn(usage)))
        assert usage.sheet_open and usage._sheet_offer == offer["id"]
        session._start({"access_token": subscriber_token(other), "expires_at": time.time() + 600, "customer_id": other})
        run(drain(UsageState.confirm_plan.fn(usage)))
        run(drain(UsageState.open_plan_order.fn(usage)))
        session._drop()
        run(drain(UsageState.confirm_plan.fn(usage)))
        assert usage.sheet_done == "" and _pending_changes(client, cid) == [] and _pending_changes(client, other) == []


def test_a_quiet_period_has_whole_steps():
    s = _summary(days_left=21, allowances=[*UNLIMITED_CALLS], sms_days={"2026-12-02": 1})
    fig = charts.sms_figure(s, "sv")
    assert fig.layout.yaxis.dtick == 1 and list(fig.layout.yaxis.range) == [0, 5] and fig.layout.yaxis.tickformat == "d"
