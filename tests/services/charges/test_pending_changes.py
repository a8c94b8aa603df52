"""Pending plan changes (services/charges/pending.py and the customers API) on SQLite and PostgreSQL.

A change ordered for a later day is listed as pending and cancellable until that day; on it, it is
the current plan and can no longer be undone. The operator is the small one of
``test_offers_targeting`` (K1 on Mobil 5 GB, K4 on broadband, invoiced up to October 2026).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.clock import FrozenClock
from backend_stub.services.billing import customers, subscriptions
from backend_stub.services.charges import pending
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.offers import OfferAcceptance
from backend_stub.storage.models.support import AuditEntry
from tests.api.test_offers_api import HEAVY
from tests.conftest import token_for
from tests.services.offers.test_offers_targeting import build_operator

DEC_5 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
NEW_YEAR = date(2027, 1, 1)


def _sub_id(core, customer_id: int) -> int:
    with core.engine.connect() as conn:
        return conn.execute(select(m.Subscription.id).where(m.Subscription.customer_id == customer_id)).scalar_one()


def _segments(core, sid: int) -> list[tuple]:
    with core.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(m.PlanSegment.plan_id, m.PlanSegment.start_date, m.PlanSegment.end_date)
                .where(m.PlanSegment.subscription_id == sid)
                .order_by(m.PlanSegment.start_date)
            )
        ]


def _order_new_year_change(core, sid: int) -> None:
    catalogue = core.catalogue  # (read before the transaction: SQLite has one writer)
    with core.engine.begin() as conn:
        subscriptions.change_plan(conn, catalogue, sid, "mobil-20gb", NEW_YEAR)


def test_a_change_for_1_january_is_pending_on_5_december_and_current_on_1_january(core):
    ids = build_operator(core)
    k1, sid = ids["K1"], _sub_id(core, ids["K1"])
    with clock.use(FrozenClock(DEC_5)) as frozen:
        _order_new_year_change(core, sid)
        [change] = pending.pending_changes(core.engine, core.catalogue, k1)
        assert {
            k: change[k]
            for k in ("subscription_id", "msisdn", "from_plan_name", "plan_name", "effective_date", "cancellable")
        } == {
            "subscription_id": sid,
            "msisdn": "+46701000001",
            "from_plan_name": "Mobil 5 GB",
            "plan_name": "Mobil 20 GB",
            "effective_date": "2027-01-01",
            "cancellable": True,
        }
        [sub] = customers.get_customer(core.engine, core.catalogue, k1, frozen.today())["subscriptions"]
        assert (sub["plan_id"], sub["plan_name"]) == ("mobil-5gb", "Mobil 5 GB")  # the plan in force today
        assert [(s["plan_id"], s["status"]) for s in sub["segments"]] == [
            ("mobil-5gb", "current"),
            ("mobil-20gb", "pending"),
        ]
        # On 1 January the change is the current plan: nothing pending, nothing to undo.
        frozen.set(datetime(2027, 1, 1, 8, 0, tzinfo=UTC))
        assert pending.pending_changes(core.engine, core.catalogue, k1) == []
        [sub] = customers.get_customer(core.engine, core.catalogue, k1, frozen.today())["subscriptions"]
        assert sub["plan_id"] == "mobil-20gb"
        assert [s["status"] for s in sub["segments"]] == ["ended", "current"]
        before = _segments(core, sid)
        with pytest.raises(pending.AlreadyInEffect, match="took effect on 2027-01-01"):
            pending.cancel_change(core.engine, core.catalogue, k1, change["id"], actor="customer:1")
        assert _segments(core, sid) == before


def test_cancelling_keeps_the_plan_audits_and_notes_it_on_the_timeline(core):
    ids = build_operator(core)
    k1, sid = ids["K1"], _sub_id(core, ids["K1"])
    with clock.use(FrozenClock(DEC_5)):
        _order_new_year_change(core, sid)
        [change] = pending.pending_changes(core.engine, core.catalogue, k1)
        # Another customer's id for the change: not found, nothing changes.
        with pytest.raises(pending.NotFound):
            pending.cancel_change(core.engine, core.catalogue, ids["K2"], change["id"], actor="customer:2")
        assert len(_segments(core, sid)) == 2
        done = pending.cancel_change(core.engine, core.catalogue, k1, change["id"], actor=f"customer:{k1}")
        assert done["status"] == "cancelled" and done["plan_name"] == "Mobil 20 GB"
        assert _segments(core, sid) == [("mobil-5gb", date(2024, 1, 1), None)]
        assert pending.pending_changes(core.engine, core.catalogue, k1) == []
        with pytest.raises(pending.NotFound):  # undone once; the id is gone
            pending.cancel_change(core.engine, core.catalogue, k1, change["id"], actor=f"customer:{k1}")
    with core.engine.connect() as conn:
        entry = conn.execute(select(AuditEntry).where(AuditEntry.action == "cancel_plan_change")).one()
        event = conn.execute(select(m.InvoiceEvent).where(m.InvoiceEvent.kind == "plan_change_cancelled")).one()
    assert entry.actor == f"customer:{k1}" and entry.detail["effective_date"] == "2027-01-01"
    from backend_stub.domain.texts import render

    assert event.text == (
        "Planbyte ångrat: +46701000001 behåller Mobil 5 GB (skulle byta till Mobil 20 GB den 1 januari 2027)."
    )
    assert render(event.kind, event.data, "en", event.text) == (
        "Plan change cancelled: +46701000001 keeps Mobil 5 GB (was to change to Mobil 20 GB on 1 January 2027)."
    )


@pytest.fixture
def api(core, auth):
    ids = build_operator(core)
    app = create_app(core, auth=auth)
    with clock.use(FrozenClock(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))) as frozen, TestClient(app) as client:
        client.clock = frozen  # type: ignore[attr-defined]
        client.ids = ids  # type: ignore[attr-defined]
        client.jwt = auth  # type: ignore[attr-defined]
        yield client


def _as(api, number: str) -> dict[str, str]:
    return token_for(api.jwt, "subscriber", api.ids[number])


def test_api_lists_and_cancels_a_next_period_offer_and_checks_who_asks(api):
    core = api.app.state.core
    k1, k2 = api.ids["K1"], api.ids["K2"]
    sid = _sub_id(core, k1)
    mk = token_for(api.jwt, "marketing")
    offer = api.post("/marketing/offers", headers=mk, json={**HEAVY, "effective": "next_period"}).json()
    assert api.post(f"/marketing/offers/{offer['id']}/schedule", headers=mk, json={}).status_code == 200
    r = api.post(f"/customers/{k1}/offers/{offer['id']}/accept", headers=_as(api, "K1"), json={"subscription_id": sid})
    assert r.status_code == 201 and r.json()["effective_date"] == "2026-12-01"

    listed = api.get(f"/customers/{k1}/pending-changes", headers=_as(api, "K1")).json()
    assert listed["today"] == "2026-11-21"
    [change] = listed["items"]
    assert (change["plan_name"], change["effective_date"], change["cancellable"]) == ("Mobil 20 GB", "2026-12-01", True)
    customer = api.get(f"/customers/{k1}", headers=_as(api, "K1")).json()
    assert customer["subscriptions"][0]["plan_name"] == "Mobil 5 GB"

    # K2 sees none of it and cannot cancel it, by either path; nothing changes.
    assert api.get(f"/customers/{k1}/pending-changes", headers=_as(api, "K2")).status_code == 404
    assert api.get(f"/customers/{k2}/pending-changes", headers=_as(api, "K2")).json()["items"] == []
    assert api.post(f"/customers/{k1}/pending-changes/{change['id']}/cancel", headers=_as(api, "K2")).status_code == 404
    assert api.post(f"/customers/{k2}/pending-changes/{change['id']}/cancel", headers=_as(api, "K2")).status_code == 404
    assert (
        api.post(
            f"/customers/{k1}/pending-changes/{change['id']}/cancel", headers=token_for(api.jwt, "marketing")
        ).status_code
        == 403
    )
    assert len(api.get(f"/customers/{k1}/pending-changes", headers=_as(api, "K1")).json()["items"]) == 1

    with core.engine.connect() as conn:
        grant_id = conn.execute(
            select(OfferAcceptance.grant_id).where(OfferAcceptance.offer_id == offer["id"])
        ).scalar_one()
    assert grant_id is not None
    r = api.post(f"/customers/{k1}/pending-changes/{change['id']}/cancel", headers=_as(api, "K1"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert api.get(f"/customers/{k1}/pending-changes", headers=_as(api, "K1")).json()["items"] == []
    segments = api.get(f"/customers/{k1}", headers=_as(api, "K1")).json()["subscriptions"][0]["segments"]
    assert [(s["plan_id"], s["end"], s["status"]) for s in segments] == [("mobil-5gb", None, "current")]
    with core.engine.connect() as conn:  # the offer's discount and acceptance went with the change
        assert conn.execute(select(m.DiscountGrant).where(m.DiscountGrant.id == grant_id)).first() is None
        assert conn.execute(select(OfferAcceptance).where(OfferAcceptance.offer_id == offer["id"])).first() is None
    assert api.post(f"/customers/{k1}/pending-changes/{change['id']}/cancel", headers=_as(api, "K1")).status_code == 404


def test_api_refuses_to_cancel_a_change_that_has_taken_effect(api):
    core = api.app.state.core
    k1, sid = api.ids["K1"], _sub_id(core, api.ids["K1"])
    _order_new_year_change(core, sid)
    [change] = api.get(f"/customers/{k1}/pending-changes", headers=_as(api, "K1")).json()["items"]
    api.clock.set(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    r = api.post(f"/customers/{k1}/pending-changes/{change['id']}/cancel", headers=_as(api, "K1"))
    assert r.status_code == 409 and "took effect on 2027-01-01" in r.json()["detail"]
    assert api.get(f"/customers/{k1}/pending-changes", headers=_as(api, "K1")).json()["items"] == []
    assert api.get(f"/customers/{k1}", headers=_as(api, "K1")).json()["subscriptions"][0]["plan_id"] == "mobil-20gb"
    assert _segments(core, sid)[-1] == ("mobil-20gb", NEW_YEAR, None)
