"""One error family (``backend_stub.domain.errors``), answered once by the API: Invalid 422, NotFound 404, Conflict 409."""

from __future__ import annotations

import pickle

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel

from backend_stub.api import errors as api_errors
from backend_stub.api.app import create_app
from backend_stub.domain import banking, errors
from backend_stub.services.billing import billrun, invoice_rows, usage_query
from backend_stub.services.charges import addons, instalments, one_offs, pending
from backend_stub.services.lifecycle import dunning, paygw, payments
from tests.conftest import problems, token_for
from tests.lifecycle_support import bill_october


def test_the_services_raise_one_family() -> None:
    assert {
        addons.NotFound,
        one_offs.NotFound,
        instalments.NotFound,
        errors.NotFound,
        pending.NotFound,
        invoice_rows.NotFound,
    } == {errors.NotFound}
    assert {one_offs.Conflict, instalments.Conflict, errors.Conflict} == {errors.Conflict}
    assert issubclass(errors.NotFound, LookupError)
    # A conflict is not bad input: a route's "except ValueError" (422) never swallows it.
    assert not issubclass(errors.Conflict, ValueError)
    assert issubclass(pending.AlreadyInEffect, errors.Conflict)
    assert issubclass(billrun.OpenPeriod, errors.Conflict) and issubclass(billrun.OpenPeriod, ValueError)


def test_the_api_answers_the_family_once() -> None:
    app = FastAPI()

    @app.get("/missing")
    async def missing() -> None:
        raise errors.NotFound("charge_id: no charge 7")

    @app.get("/missing-quietly")
    async def missing_quietly() -> None:
        raise errors.NotFound()

    @app.get("/taken")
    async def taken() -> None:
        raise errors.Conflict("the offer is already accepted")

    api_errors.install(app, [])
    client = TestClient(app)
    assert (client.get("/missing").status_code, client.get("/missing").json()) == (
        404,
        {"detail": "charge_id: no charge 7"},
    )
    assert client.get("/missing-quietly").json() == {"detail": "not found"}
    assert (client.get("/taken").status_code, client.get("/taken").json()) == (
        409,
        {"detail": "the offer is already accepted"},
    )


def test_routes_that_left_it_to_the_handler_answer_as_before(core, auth) -> None:
    bill_october(core)
    with TestClient(create_app(core, auth=auth)) as api:
        service, agent = token_for(auth, "service"), token_for(auth, "agent")
        r = api.post("/bill-runs", headers=service, json={"period": "2026-12"})  # today is 2026-12-05
        assert r.status_code == 409 and r.json()["detail"].startswith("period 2026-12 has not ended"), r.text
        r = api.post("/payments/999999/allocate", headers=agent, json={"invoice_id": "1"})
        assert (r.status_code, r.json()) == (404, {"detail": "payment 999999 not found"})
        r = api.post("/bank-payments/999999/allocate", headers=agent, json={"invoice_id": "1", "amount_ore": 100})
        assert (r.status_code, r.json()) == (404, {"detail": "bank payment 999999 not found"})
        r = api.delete("/charges/999999", headers=agent)
        assert (r.status_code, r.json()) == (404, {"detail": "charge_id: no charge 999999"})


def test_invalid_is_bad_input_about_one_field() -> None:
    exc = errors.Invalid("amount_ore", "must be positive")
    assert (str(exc), exc.field, exc.message) == ("amount_ore: must be positive", "amount_ore", "must be positive")
    # Still a ValueError: the CLI's ``except ValueError`` and the tests' ``pytest.raises(ValueError)`` catch it.
    assert isinstance(exc, ValueError) and not isinstance(exc, errors.Conflict)
    with pytest.raises(ValueError, match="^amount_ore: must be positive$"):
        raise exc
    again = pickle.loads(pickle.dumps(exc))  # crosses processes whole (a worker's failure)
    assert (type(again), again.field, str(again)) == (errors.Invalid, "amount_ore", str(exc))
    for refusal in (
        addons.NotAllowed,
        banking.AutopayError,
        billrun.PeriodOutOfRange,
        dunning.RespiteRefused,
        payments.AllocationError,
        paygw.PaymentError,
    ):
        assert issubclass(refusal, errors.Invalid), refusal  # answered by the one handler, naming the field
    out_of_range = pickle.loads(pickle.dumps(billrun.PeriodOutOfRange("1999-01", "before the first subscription")))
    assert (out_of_range.label, out_of_range.field, str(out_of_range)) == (
        "1999-01",
        "period",
        "period: before the first subscription",
    )


class _Body(BaseModel):
    amount_ore: int


def test_the_api_answers_invalid_as_a_422_naming_the_field_where_the_route_takes_it() -> None:
    app = FastAPI()

    @app.post("/credit")
    async def credit(body: _Body) -> None:
        raise errors.Invalid("amount_ore", "must be positive")

    @app.get("/usage")
    async def usage(period: str = Query()) -> None:
        raise errors.Invalid("period", "2027-01 has not started yet")

    @app.get("/invoices/{invoice_id}/fee")
    async def fee(invoice_id: str) -> None:
        raise errors.Invalid("invoice", "there is no reminder fee to waive")

    @app.post("/long")
    async def long(body: _Body) -> None:
        raise errors.Invalid("text", "x" * 1000)

    api_errors.install(app, [])
    client = TestClient(app)
    r = client.post("/credit", json={"amount_ore": 5})
    assert (r.status_code, r.json()) == (
        422,
        {"detail": [{"loc": ["body", "amount_ore"], "msg": "must be positive", "type": "value_error"}]},
    )
    r = client.get("/usage", params={"period": "2027-01"})
    assert r.json()["detail"][0]["loc"] == ["query", "period"] and problems(r) == [
        "period: 2027-01 has not started yet"
    ]
    r = client.get("/invoices/7/fee")
    assert r.json()["detail"][0]["loc"] == ["path", "invoice_id"]  # the invoice the path names
    r = client.post("/long", json={"amount_ore": 5})
    assert r.status_code == 422 and len(r.json()["detail"][0]["msg"]) == api_errors.MAX_MESSAGE


def test_routes_without_their_own_except_answer_invalid_as_before(core, auth) -> None:
    first = next(iter(bill_october(core).values()))
    with TestClient(create_app(core, auth=auth)) as api:
        agent = token_for(auth, "agent")
        r = api.get("/usage", headers=agent, params={"customer_id": first.customer_id, "category": "nonsense"})
        assert r.json()["detail"][0]["loc"] == ["query", "category"], r.text
        assert problems(r) == ["category: 'nonsense' is not one of " + ", ".join(usage_query.CATEGORIES)]
        r = api.post(f"/invoices/{first.id}/thread/messages", headers=agent, json={"text": "   "})
        assert r.json()["detail"] == [{"loc": ["body", "text"], "msg": "the message is empty", "type": "value_error"}]
