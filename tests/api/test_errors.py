"""One error family (``backend_stub.domain.errors``), answered once by the API: NotFound 404, Conflict 409."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend_stub.api import errors as api_errors
from backend_stub.api.app import create_app
from backend_stub.domain import errors
from backend_stub.services.billing import billrun, invoice_rows
from backend_stub.services.charges import addons, instalments, one_offs, pending
from tests.conftest import token_for
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
