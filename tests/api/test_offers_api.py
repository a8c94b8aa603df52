"""The offers API (issue 6) on SQLite and PostgreSQL: marketing's offers and images, banners, tracking,
the order sheet, accepting (the next invoice shows what the sheet said), results, and who may do what.

Data: the small operator of ``test_offers_targeting`` (K1 a heavy data user on Mobil 5 GB, K2 a light
one, K3 overdue, K4 broadband, K5 in collection), looked at on 21 November 2026 10:00 UTC.
"""

from __future__ import annotations

import io
import socket
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.clock import FrozenClock
from backend_stub.services.billing import billrun
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.services.offers.results import mask_msisdn
from backend_stub.storage.models import billing as m
from tests.conftest import token_for
from tests.services.offers.test_offers_targeting import GB, MSISDN, build_operator

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
HEAVY = {
    "name": "Heavy data → 20 GB",
    "title": "Slut på surf igen?",
    "body": "Dina tre senaste månader kostade {current_cost}. Med {offer_plan}: {offer_cost}.",
    "cta": "Visa erbjudandet",
    "sells": {"kind": "plan", "id": "mobil-20gb"},
    "terms": {"percent": "100", "periods": 3},
    "effective": "now",
    "priority": 10,
    "cap": {"impressions": 2, "days": 7},
    "placements": ["overview", "invoice"],
    "rules": {"plans": ["mobil-5gb", "mobil-bas"], "data_usage": {"min_percent": 90, "periods": 2, "of_last": 3}},
}


@pytest.fixture
def api(core, auth):
    ids = build_operator(core)
    app = create_app(core, auth=auth)
    with clock.use(FrozenClock(NOW)) as frozen, TestClient(app) as client:
        client.clock = frozen  # type: ignore[attr-defined]
        client.ids = ids  # type: ignore[attr-defined]
        client.jwt = auth  # type: ignore[attr-defined]
        yield client


def mk(api) -> dict[str, str]:
    return token_for(api.jwt, "marketing")


def sub_of(api, number: str) -> dict[str, str]:
    return token_for(api.jwt, "subscriber", api.ids[number])


def create(api, body=HEAVY, *, schedule: bool = True) -> dict:
    r = api.post("/marketing/offers", headers=mk(api), json=body)
    assert r.status_code == 201, r.text
    offer = r.json()
    if schedule:
        r = api.post(f"/marketing/offers/{offer['id']}/schedule", headers=mk(api), json={})
        assert r.status_code == 200, r.text
        offer = r.json()
    return offer


def banners(api, number: str, placement: str = "invoice", lang: str = "sv") -> list[dict]:
    r = api.get(
        f"/customers/{api.ids[number]}/offers",
        headers=sub_of(api, number),
        params={"placement": placement, "lang": lang},
    )
    assert r.status_code == 200, r.text
    return r.json()["banners"]


def subscription_id(api, number: str) -> int:
    r = api.get(f"/customers/{api.ids[number]}", headers=sub_of(api, number))
    return r.json()["subscriptions"][0]["id"]


def event(api, number: str, offer_id: int, kind: str, view_id: str, *, customer: str | None = None):
    cid = api.ids[customer or number]
    return api.post(
        f"/customers/{cid}/offers/{offer_id}/events",
        headers=sub_of(api, number),
        json={"kind": kind, "placement": "invoice", "view_id": view_id},
    )


def png(width: int = 600, height: int = 200, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 90)).save(buf, fmt)
    return buf.getvalue()


# --------------------------------------------------------------------------- marketing


def test_offers_are_created_as_drafts_scheduled_and_stopped(api):
    r = api.post("/marketing/offers", headers=mk(api), json=HEAVY)
    assert r.status_code == 201, r.text
    offer = r.json()
    assert offer["status"] == "draft" and offer["image_url"] is None
    assert offer["terms"] == {"percent": "100", "amount_ore": None, "periods": 3}
    assert offer["terms_text"] == {
        "sv": "3 mån 0\u00a0kr, sedan 299\u00a0kr/mån",
        "en": "3 months 0\u00a0kr, then 299\u00a0kr/month",
    }
    assert offer["rules"]["data_usage"] == {"min_percent": 90, "periods": 2, "of_last": 3}
    assert offer["rules"]["exclude_overdue"] is True
    assert banners(api, "K1") == []  # a draft is not shown
    # the read-only fields of an offer read back may be sent again as they are
    changed = {**offer, "priority": 30, "title": "Mer surf"}
    r = api.put(f"/marketing/offers/{offer['id']}", headers=mk(api), json=changed)
    assert r.status_code == 200, r.text
    assert (r.json()["priority"], r.json()["title"], r.json()["status"]) == (30, "Mer surf", "draft")
    later = (NOW + timedelta(days=3)).isoformat()
    r = api.post(f"/marketing/offers/{offer['id']}/schedule", headers=mk(api), json={"starts_at": later})
    assert r.json()["status"] == "scheduled"
    assert banners(api, "K1") == []
    r = api.post(
        f"/marketing/offers/{offer['id']}/schedule",
        headers=mk(api),
        json={"starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": later},
    )
    assert r.json()["status"] == "active"
    assert [b["offer_id"] for b in banners(api, "K1")] == [offer["id"]]
    r = api.post(f"/marketing/offers/{offer['id']}/stop", headers=mk(api))
    assert r.json()["status"] == "stopped"
    assert banners(api, "K1") == []
    listed = api.get("/marketing/offers", headers=mk(api)).json()["offers"]
    assert [o["status"] for o in listed] == ["stopped"]
    second = create(api, {**HEAVY, "name": "Second"}, schedule=False)
    assert [o["id"] for o in api.get("/marketing/offers", headers=mk(api)).json()["offers"]] == [
        second["id"],
        offer["id"],
    ]  # newest first
    assert api.get("/marketing/offers/99999", headers=mk(api)).status_code == 404


@pytest.mark.parametrize(
    "change, loc, text",
    [
        ({"sells": {"kind": "plan", "id": "mobil-99gb"}}, ["body", "sells", "id"], "unknown plan"),
        ({"sells": {"kind": "addon", "id": "extra-99gb"}, "terms": None}, ["body", "sells", "id"], "unknown add-on"),
        ({"terms": {"percent": "150", "periods": 3}}, ["body", "terms", "percent"], "0 to 100"),
        ({"terms": {"percent": "ten", "periods": 3}}, ["body", "terms", "percent"], "not a number"),
        ({"terms": {"percent": "10", "periods": 0}}, ["body", "terms", "periods"], ""),
        ({"terms": {"periods": 3}}, ["body", "terms"], "exactly one of percent or amount_ore"),
        ({"title": "   "}, ["body", "title"], ""),
        (
            {"starts_at": "2026-12-10T00:00:00+00:00", "ends_at": "2026-12-01T00:00:00+00:00"},
            ["body", "ends_at"],
            "after starts_at",
        ),
        ({"rules": {"plans": ["mobil-x"]}}, ["body", "rules", "plans", 0], "unknown plan"),
        (
            {"rules": {"data_usage": {"min_percent": 90, "periods": 0, "of_last": 3}}},
            ["body", "rules", "data_usage", "periods"],
            "",
        ),
        ({"placements": ["sidebar"]}, ["body", "placements", 0], ""),
        ({"image_id": 424242}, ["body", "image_id"], "no image"),
        ({"colour": "red"}, ["body", "colour"], ""),
    ],
)
def test_bad_offers_are_refused_naming_the_field(api, change, loc, text):
    r = api.post("/marketing/offers", headers=mk(api), json={**HEAVY, **change})
    assert r.status_code == 422, r.text
    problems = r.json()["detail"]
    assert any(p["loc"] == loc and text in p["msg"] for p in problems), problems
    assert api.get("/marketing/offers", headers=mk(api)).json()["offers"] == []  # nothing stored


def test_images_are_checked_by_content_and_served_publicly(api):
    r = api.post("/marketing/images", headers=mk(api), files={"file": ("b.png", png(), "image/png")})
    assert r.status_code == 201, r.text
    image = r.json()
    assert (image["width"], image["height"], image["content_type"]) == (600, 200, "image/png")
    assert image["url"] == f"/core/offer-images/{image['id']}"
    served = api.get(f"/offer-images/{image['id']}")  # no token: banner images are public
    assert served.status_code == 200 and served.content == png()
    assert served.headers["content-type"] == "image/png"
    assert "max-age=31536000" in served.headers["cache-control"]
    assert api.get(f"/offer-images/{image['id']}", headers={"If-None-Match": served.headers["etag"]}).status_code == 304
    webp = api.post("/marketing/images", headers=mk(api), files={"file": ("x.bin", png(fmt="WEBP"), "text/plain")})
    assert webp.status_code == 201 and webp.json()["content_type"] == "image/webp"  # by content, not by name
    offer = create(api, {**HEAVY, "image_id": image["id"]})
    assert offer["image_url"] == image["url"]
    assert banners(api, "K1")[0]["image_url"] == image["url"]
    bad = [
        (png(fmt="GIF"), "GIF images are not accepted"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a PNG, JPEG or WebP"),
        (png()[:60], "not a PNG, JPEG or WebP"),  # truncated
        (png(4001, 10), "at most 4000×4000"),
        (b"\x89PNG" + b"\0" * 1_000_000, "at most 1,000,000"),
        (b"", "empty"),
    ]
    for data, reason in bad:
        r = api.post("/marketing/images", headers=mk(api), files={"file": ("x.png", data, "image/png")})
        assert r.status_code == 422, (reason, r.text)
        assert r.json()["detail"][0]["loc"] == ["body", "file"] and reason in r.json()["detail"][0]["msg"], r.text
    assert api.get("/offer-images/999").status_code == 404


# --------------------------------------------------------------------------- who may do what


def test_roles_and_foreign_ids(api):
    offer = create(api)
    k1, k2 = api.ids["K1"], api.ids["K2"]
    for path in ("/marketing/offers", "/marketing/summary", f"/marketing/offers/{offer['id']}/results"):
        assert api.get(path, headers=sub_of(api, "K1")).status_code == 403
        assert api.get(path, headers=token_for(api.jwt, "agent")).status_code == 403
        assert api.get(path).status_code == 401
    assert api.post("/marketing/offers", headers=sub_of(api, "K1"), json=HEAVY).status_code == 403
    assert (
        api.post(
            "/marketing/images", headers=sub_of(api, "K1"), files={"file": ("b.png", png(), "image/png")}
        ).status_code
        == 403
    )
    # marketing works on segments, never on one customer's data
    assert api.get("/invoices", headers=mk(api), params={"customer_id": k1}).status_code == 403
    assert api.get(f"/customers/{k1}", headers=mk(api)).status_code == 403
    assert api.get(f"/customers/{k1}/offers", headers=mk(api)).status_code == 403
    assert api.get(f"/customers/{k1}/recommendation", headers=mk(api)).status_code == 403
    # a subscriber reaches only their own customer: 404 for another's
    assert api.get(f"/customers/{k1}/offers", headers=sub_of(api, "K2")).status_code == 404
    assert api.get(f"/customers/{k1}/recommendation", headers=sub_of(api, "K2")).status_code == 404
    assert api.get(f"/customers/{k1}/offers/{offer['id']}/order", headers=sub_of(api, "K2")).status_code == 404
    assert event(api, "K2", offer["id"], "impression", "view-0001", customer="K1").status_code == 404
    # staff may read a customer's banners, not accept for them
    assert api.get(f"/customers/{k1}/offers", headers=token_for(api.jwt, "agent")).json()["banners"]
    sid = subscription_id(api, "K1")
    for role in ("agent", "supervisor", "marketing"):
        r = api.post(
            f"/customers/{k1}/offers/{offer['id']}/accept",
            headers=token_for(api.jwt, role),
            json={"subscription_id": sid},
        )
        assert r.status_code == 403, role
    # the offer is not targeted at K2 (light user): no order sheet, no accepting, no events
    sid2 = subscription_id(api, "K2")
    assert api.get(f"/customers/{k2}/offers/{offer['id']}/order", headers=sub_of(api, "K2")).status_code == 404
    assert (
        api.post(
            f"/customers/{k2}/offers/{offer['id']}/accept", headers=sub_of(api, "K2"), json={"subscription_id": sid2}
        ).status_code
        == 404
    )
    assert event(api, "K2", offer["id"], "impression", "view-0002").status_code == 404
    # K1 cannot accept for K2's subscription, nor K2 for K1's on K1's path
    assert (
        api.post(
            f"/customers/{k1}/offers/{offer['id']}/accept", headers=sub_of(api, "K1"), json={"subscription_id": sid2}
        ).status_code
        == 404
    )
    assert (
        api.post(
            f"/customers/{k1}/offers/{offer['id']}/accept", headers=sub_of(api, "K2"), json={"subscription_id": sid}
        ).status_code
        == 404
    )
    assert (
        api.get(
            f"/customers/{k1}/recommendation", headers=sub_of(api, "K1"), params={"subscription_id": sid2}
        ).status_code
        == 404
    )
    with api.app.state.core.engine.connect() as conn:  # nothing changed
        plans = conn.execute(select(m.PlanSegment.plan_id).where(m.PlanSegment.subscription_id.in_([sid, sid2])))
        assert sorted(plans.scalars()) == ["mobil-5gb", "mobil-5gb"]


# --------------------------------------------------------------------------- banners and tracking


def test_banners_follow_rules_priority_cap_and_dismissal(api):
    heavy = create(api)
    assert banners(api, "K2") == [] and banners(api, "K3") == []  # light user; overdue user
    [shown] = banners(api, "K1")
    assert shown["offer_id"] == heavy["id"] and shown["msisdn"] == MSISDN["K1"]
    assert shown["terms_text"] == "3 mån 0\u00a0kr, sedan 299\u00a0kr/mån"
    # K1's three months cost 199 + 228 + 199 = 626,00 kr; on Mobil 20 GB 3 × 299 = 897,00 kr.
    assert shown["recommendation"] == {
        "current_plan": "Mobil 5 GB",
        "current_cost_ore": 62_600,
        "offer_cost_ore": 89_700,
        "periods": ["2026-08", "2026-09", "2026-10"],
    }
    assert shown["body"] == "Dina tre senaste månader kostade 626\u00a0kr. Med Mobil 20 GB: 897\u00a0kr."
    assert banners(api, "K1", lang="en")[0]["terms_text"] == "3 months 0\u00a0kr, then 299\u00a0kr/month"
    overview_only = create(api, {**HEAVY, "name": "overview", "priority": 50, "placements": ["overview"]})
    low = create(api, {**HEAVY, "name": "low", "priority": 1})
    assert [b["offer_id"] for b in banners(api, "K1", "invoice")] == [heavy["id"], low["id"]]
    assert [b["offer_id"] for b in banners(api, "K1", "overview")] == [overview_only["id"], heavy["id"]]  # at most 2
    # frequency cap: 2 impressions in 7 days; a re-render with the same view id counts once
    assert event(api, "K1", heavy["id"], "impression", "view-aaaa").status_code == 204
    assert event(api, "K1", heavy["id"], "impression", "view-aaaa").status_code == 204
    assert heavy["id"] in [b["offer_id"] for b in banners(api, "K1")]
    assert event(api, "K1", heavy["id"], "impression", "view-bbbb").status_code == 204
    assert heavy["id"] not in [b["offer_id"] for b in banners(api, "K1")]
    results = api.get(f"/marketing/offers/{heavy['id']}/results", headers=mk(api)).json()
    assert results["impressions"] == 2
    # a week later the cap has room again
    api.clock.set(NOW + timedelta(days=7, minutes=1))
    assert heavy["id"] in [b["offer_id"] for b in banners(api, "K1")]
    # dismissed: gone for good
    assert event(api, "K1", low["id"], "dismiss", "view-cccc").status_code == 204
    assert low["id"] not in [b["offer_id"] for b in banners(api, "K1")]
    bad = api.post(
        f"/customers/{api.ids['K1']}/offers/{heavy['id']}/events",
        headers=sub_of(api, "K1"),
        json={"kind": "like", "placement": "invoice", "view_id": "view-dddd"},
    )
    assert bad.status_code == 422


# --------------------------------------------------------------------------- order sheet and accepting


def test_order_sheet_is_what_the_next_invoice_shows(api):
    core = api.app.state.core
    # K1 used 4 GB on 10 November, before the change: with Mobil 5 GB all month that is within 5 GB; after
    # the change from 21 November Mobil 5 GB holds 1–20 November only: 5 GB × 20/30 = 3 333 333 333 bytes
    # (prorated in bytes, rules §4), so 666 666 667 bytes are beyond the allowance: × 29 kr/GB = 19,33 kr.
    rows = [
        (
            1,
            {
                "record_id": "K1-nov",
                "msisdn": MSISDN["K1"],
                "service": "data",
                "started_at": "2026-11-10T12:00:00+01:00",
                "volume_bytes": str(4 * GB),
            },
        )
    ]
    assert UsageImporter(core.engine, core.catalogue).import_rows(rows, "nov").rated == 1
    offer = create(api)
    cid, sid = api.ids["K1"], subscription_id(api, "K1")
    r = api.get(
        f"/customers/{cid}/offers/{offer['id']}/order",
        headers=sub_of(api, "K1"),
        params={"subscription_id": sid, "lang": "sv"},
    )
    assert r.status_code == 200, r.text
    sheet = r.json()
    assert sheet["current"] == {"kind": "plan", "id": "mobil-5gb", "name": "Mobil 5 GB", "monthly_fee_ore": 19_900}
    assert sheet["new"] == {"kind": "plan", "id": "mobil-20gb", "name": "Mobil 20 GB", "monthly_fee_ore": 29_900}
    assert sheet["what_you_get"][:2] == ["20 GB surf", "Fria samtal och sms"]
    assert sheet["effective_date"] == "2026-11-21"
    # 199 × 20/30 = 132,666… → 132,67; 299 × 10/30 = 99,666… → 99,67; 100 % off the new plan's line.
    assert sheet["this_period"] == {
        "period": "2026-11",
        "lines": [
            {"description": "Mobil 5 GB, 1 nov–20 nov", "amount_ore": 13_267},
            {"description": "Mobil 20 GB, 21 nov–30 nov", "amount_ore": 9_967},
            {"description": "3 mån 0 kr", "amount_ore": -9_967},
        ],
        "total_ore": 13_267,
    }
    assert sheet["monthly_after_discount_ore"] == 29_900
    r = api.post(
        f"/customers/{cid}/offers/{offer['id']}/accept", headers=sub_of(api, "K1"), json={"subscription_id": sid}
    )
    assert r.status_code == 201, r.text
    assert r.json()["effective_date"] == "2026-11-21" and r.json()["plan_id"] == "mobil-20gb"
    again = api.post(
        f"/customers/{cid}/offers/{offer['id']}/accept", headers=sub_of(api, "K1"), json={"subscription_id": sid}
    )
    assert again.status_code == 409
    assert banners(api, "K1") == []  # accepted: not shown again
    segments = api.get(f"/customers/{cid}", headers=sub_of(api, "K1")).json()["subscriptions"][0]["segments"]
    assert [(s["plan_id"], s["start"], s["end"]) for s in segments] == [
        ("mobil-5gb", "2024-01-01", "2026-11-20"),
        ("mobil-20gb", "2026-11-21", None),
    ]
    # The bill run for November: the subscription's fee and discount lines are the order sheet's.
    billrun.run_bill_run(core.engine, core.catalogue, "2026-11", today=date(2026, 12, 1))
    invoices = api.get("/invoices", headers=sub_of(api, "K1")).json()["items"]
    november = next(i for i in invoices if i["period"] == "2026-11")
    doc = api.get(f"/invoices/{november['id']}", headers=sub_of(api, "K1")).json()
    lines = [
        {"description": ln["description"], "amount_ore": ln["amount_ore"]}
        for ln in doc["lines"]
        if ln["subscription_id"] == sid and ln["kind"] in ("fee", "discount")
    ]
    assert lines == sheet["this_period"]["lines"]
    usage = [ln for ln in doc["lines"] if ln["subscription_id"] == sid and ln["kind"] == "usage"]
    assert [(ln["description"], ln["amount_ore"]) for ln in usage] == [("Surf", 1_933)]  # re-rated on the change
    # the timeline of the latest invoice before the change (October's) says what changed, in both languages
    october = next(i for i in invoices if i["period"] == "2026-10")
    timeline = api.get(f"/invoices/{october['id']}", headers=sub_of(api, "K1"), params={"lang": "en"}).json()[
        "timeline"
    ]
    entry = next(t for t in timeline if t["kind"] == "offer_accepted")
    assert entry["texts"]["sv"] == (
        "Erbjudande antaget: +46701000001 byter från Mobil 5 GB till Mobil 20 GB den "
        "21 november 2026. 3 mån 0\u00a0kr, sedan 299\u00a0kr/mån."
    )
    assert entry["text"].startswith(
        "Offer accepted: +46701000001 changes from Mobile 5 GB to Mobile 20 GB on 21 November 2026."
    )
    outbox = api.get("/dev/outbox", headers=token_for(api.jwt, "service")).json()
    mail = next(o for o in outbox if o["subject"] == "Din beställning: Mobil 20 GB")
    assert mail["to"] == "k1@example.se" and "21 november 2026" in mail["text"]


def test_next_period_offer_changes_the_plan_from_the_next_period(api):
    broadband = {
        **HEAVY,
        "name": "BB",
        "sells": {"kind": "plan", "id": "bredband-250"},
        "effective": "next_period",
        "terms": {"amount_ore": 10_000, "periods": 3},
        "rules": {"plans": ["bredband-100"]},
    }
    offer = create(api, broadband)
    assert offer["terms_text"]["sv"] == "3 mån 349\u00a0kr/mån, sedan 449\u00a0kr/mån"
    cid, sid = api.ids["K4"], subscription_id(api, "K4")
    [shown] = banners(api, "K4")
    assert shown["subscription_id"] == sid and shown["msisdn"] is None
    sheet = api.get(f"/customers/{cid}/offers/{offer['id']}/order", headers=sub_of(api, "K4")).json()
    assert sheet["effective_date"] == "2026-12-01"
    assert sheet["this_period"] == {
        "period": "2026-12",
        "lines": [
            {"description": "Bredband 250 Mbit/s, 1 dec–31 dec", "amount_ore": 44_900},
            {"description": "Rabatt 100\u00a0kr/mån i 3 mån", "amount_ore": -10_000},
        ],
        "total_ore": 34_900,
    }
    r = api.post(
        f"/customers/{cid}/offers/{offer['id']}/accept",
        headers=token_for(api.jwt, "service"),
        json={"subscription_id": sid},
    )
    assert r.status_code == 201, r.text
    segments = api.get(f"/customers/{cid}", headers=sub_of(api, "K4")).json()["subscriptions"][0]["segments"]
    assert [(s["plan_id"], s["start"], s["end"]) for s in segments] == [
        ("bredband-100", "2025-01-01", "2026-11-30"),
        ("bredband-250", "2026-12-01", None),
    ]
    core = api.app.state.core
    billrun.run_bill_run(core.engine, core.catalogue, "2026-11", today=date(2027, 1, 1))
    billrun.run_bill_run(core.engine, core.catalogue, "2026-12", today=date(2027, 1, 1))
    with core.engine.connect() as conn:
        got = {
            (r.period_start, r.description): r.amount_ore
            for r in conn.execute(
                select(m.Invoice.period_start, m.InvoiceLine.description, m.InvoiceLine.amount_ore)
                .join(m.InvoiceLine, m.InvoiceLine.invoice_id == m.Invoice.id)
                .where(m.Invoice.customer_id == cid, m.Invoice.period_start >= date(2026, 11, 1))
            )
        }
    assert got == {
        (date(2026, 11, 1), "Bredband 100 Mbit/s, 1 nov–30 nov"): 34_900,
        (date(2026, 12, 1), "Bredband 250 Mbit/s, 1 dec–31 dec"): 44_900,
        (date(2026, 12, 1), "Rabatt 100\u00a0kr/mån i 3 mån"): -10_000,
    }


def test_add_on_offers_are_bought_through_the_add_on_shop(api):
    from backend_stub.storage.models.charges import AddonPurchase

    offer = create(api, {**HEAVY, "name": "Extra", "sells": {"kind": "addon", "id": "extra-5gb"}, "terms": None})
    assert offer["terms_text"] == {"sv": "49\u00a0kr, en gång", "en": "49\u00a0kr, once"}
    cid, sid = api.ids["K1"], subscription_id(api, "K1")
    r = api.post(
        f"/customers/{cid}/offers/{offer['id']}/accept", headers=sub_of(api, "K1"), json={"subscription_id": sid}
    )
    assert r.status_code == 201, r.text
    assert r.json()["addon_id"] == "extra-5gb"
    with api.app.state.core.engine.connect() as conn:
        bought = conn.execute(select(AddonPurchase.addon_id, AddonPurchase.source)).all()
    assert [tuple(b) for b in bought] == [("extra-5gb", f"offer:{offer['id']}")]
    results = api.get(f"/marketing/offers/{offer['id']}/results", headers=mk(api)).json()
    assert results["extra_monthly_revenue_ore"] == 4_900
    bad = api.post("/marketing/offers", headers=mk(api), json={**HEAVY, "sells": {"kind": "addon", "id": "extra-5gb"}})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "terms"]


# --------------------------------------------------------------------------- previews and results


def test_previews_for_marketing(api):
    draft = create(api, schedule=False)
    r = api.post(
        "/marketing/segments/preview", headers=mk(api), json={"rules": HEAVY["rules"], "sells": HEAVY["sells"]}
    )
    assert r.json() == {"matching": 1, "total": 5, "sample": [{"customer_number": "K1", "name": "Anna Heavy"}]}
    r = api.post("/marketing/segments/preview", headers=mk(api), json={"rules": {"tenure_months": {"min": -1}}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "rules", "tenure_months", "min"]
    r = api.get(
        f"/marketing/offers/{draft['id']}/preview", headers=mk(api), params={"customer_number": "K1", "lang": "en"}
    )
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["matches"] is True  # even for a draft
    # The subscriber's number is masked for marketing: enough to tell lines apart, not to call.
    masked = mask_msisdn(MSISDN["K1"])
    assert masked != MSISDN["K1"] and masked[-2:] == MSISDN["K1"][-2:]
    assert f"{masked}: data ≥ 90 % in 2 of 3 periods" in preview["reasons"]
    assert preview["banner"]["msisdn"] == masked
    assert preview["banner"]["body"] == "Dina tre senaste månader kostade 626\u00a0kr. Med Mobil 20 GB: 897\u00a0kr."
    light = api.get(
        f"/marketing/offers/{draft['id']}/preview", headers=mk(api), params={"customer_number": "K2"}
    ).json()
    assert light["matches"] is False
    # Marketing reads the reasons in the console's language (Swedish unless asked otherwise).
    assert f"{mask_msisdn(MSISDN['K2'])}: uppfylls inte: data ≥ 90 % i 0 av 3 perioder (kräver 2)" in light["reasons"]
    light_en = api.get(
        f"/marketing/offers/{draft['id']}/preview", headers=mk(api), params={"customer_number": "K2", "lang": "en"}
    ).json()
    assert f"{mask_msisdn(MSISDN['K2'])}: not met: data ≥ 90 % in 0 of 3 periods (needs 2)" in light_en["reasons"]
    assert (
        api.get(
            f"/marketing/offers/{draft['id']}/preview", headers=mk(api), params={"customer_number": "K999"}
        ).status_code
        == 404
    )


def test_results_count_views_clicks_and_acceptances(api):
    offer = create(api)
    other = create(api, {**HEAVY, "name": "Other", "sells": {"kind": "plan", "id": "mobil-obegransad"}})
    cid, sid = api.ids["K1"], subscription_id(api, "K1")
    for view in ("view-0001", "view-0002"):
        assert event(api, "K1", offer["id"], "impression", view).status_code == 204
    assert event(api, "K1", offer["id"], "click", "view-0002").status_code == 204
    assert event(api, "K1", offer["id"], "click", "view-0002").status_code == 204  # once per view
    assert (
        api.post(
            f"/customers/{cid}/offers/{offer['id']}/accept", headers=sub_of(api, "K1"), json={"subscription_id": sid}
        ).status_code
        == 201
    )
    results = api.get(f"/marketing/offers/{offer['id']}/results", headers=mk(api)).json()
    assert {k: results[k] for k in ("impressions", "clicks", "dismissals", "acceptances")} == {
        "impressions": 2,
        "clicks": 1,
        "dismissals": 0,
        "acceptances": 1,
    }
    assert results["conversion"] == "0.5000"
    assert results["extra_monthly_revenue_ore"] == 29_900 - 19_900  # the discount is left out
    assert results["daily"] == [
        {"date": "2026-11-21", "impressions": 2, "clicks": 1, "dismissals": 0, "acceptances": 1}
    ]
    assert results["funnel"] == [
        {"stage": "impressions", "count": 2},
        {"stage": "clicks", "count": 1},
        {"stage": "acceptances", "count": 1},
    ]
    summary = api.get("/marketing/summary", headers=mk(api)).json()["offers"]
    assert summary == [
        {"id": other["id"], "name": "Other", "status": "active", "impressions": 0, "clicks": 0, "acceptances": 0},
        {"id": offer["id"], "name": HEAVY["name"], "status": "active", "impressions": 2, "clicks": 1, "acceptances": 1},
    ]
    # the click after accepting still counts (the view that led to the yes)
    assert event(api, "K1", offer["id"], "click", "view-0003").status_code == 204


def test_recommendation_route(api):
    cid, sid = api.ids["K1"], subscription_id(api, "K1")
    r = api.get(f"/customers/{cid}/recommendation", headers=sub_of(api, "K1"), params={"subscription_id": sid})
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["subscription_id"] == sid and rec["periods"] == ["2026-08", "2026-09", "2026-10"]
    assert [(p["plan_id"], p["per_period_ore"], p["total_ore"], p["current"]) for p in rec["plans"]] == [
        ("mobil-bas", [20_340, 24_400, 9_900], 54_640, False),
        ("mobil-5gb", [19_900, 22_800, 19_900], 62_600, True),
        ("mobil-20gb", [29_900] * 3, 89_700, False),
        ("mobil-obegransad", [44_900] * 3, 134_700, False),
    ]
    assert rec["best_plan_id"] == "mobil-bas"
    assert api.get(f"/customers/{cid}/recommendation", headers=token_for(api.jwt, "agent")).json() == rec


# --------------------------------------------------------------------------- the confirmation e-mail


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_confirmation_email_reaches_a_real_smtp_server(api, env):
    import email
    import email.policy

    from aiosmtpd.controller import Controller

    received: list = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
            received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 Message accepted for delivery"

    port = _free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env.set("SELFCARE_SMTP_HOST", "127.0.0.1")
        env.set("SELFCARE_SMTP_PORT", str(port))
        offer = create(api)
        r = api.post(
            f"/customers/{api.ids['K1']}/offers/{offer['id']}/accept",
            headers=sub_of(api, "K1"),
            json={"subscription_id": subscription_id(api, "K1")},
        )
        assert r.status_code == 201, r.text
    finally:
        controller.stop()
    [msg] = received
    assert msg["To"] == "k1@example.se" and msg["Subject"] == "Din beställning: Mobil 20 GB"
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "byter från Mobil 5 GB till Mobil 20 GB den 21 november 2026" in body
    assert "3 mån 0\u00a0kr, sedan 299\u00a0kr/mån" in body


def test_two_taps_at_once_accept_once(api):
    """Two accepts racing (two app workers): one 201, one 409 or 404; one plan change, one discount grant."""
    import threading

    offer = create(api)
    cid, sid = api.ids["K1"], subscription_id(api, "K1")
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def tap():
        barrier.wait()
        r = api.post(
            f"/customers/{cid}/offers/{offer['id']}/accept", headers=sub_of(api, "K1"), json={"subscription_id": sid}
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses)[0] == 201 and sorted(statuses)[1] in (404, 409), statuses
    with api.app.state.core.engine.connect() as conn:
        segments = conn.execute(select(m.PlanSegment.plan_id).where(m.PlanSegment.subscription_id == sid)).all()
        grants = conn.execute(select(m.DiscountGrant.source).where(m.DiscountGrant.subscription_id == sid)).all()
    assert sorted(s[0] for s in segments) == ["mobil-20gb", "mobil-5gb"]
    assert [g[0] for g in grants] == [f"offer:{offer['id']}"]
