"""Input is checked at the edge of the core's API (SQLite and PostgreSQL): ids, offsets, periods, amounts, text.

Each probe of issue 14 that gave a 500 (an id above 64 bits, ``offset=2⁶³`` or ``-1``, the periods
``2026-13`` and ``0000-00``) is a 422 naming the field, in FastAPI's shape, and no 422 sends the
submitted text back. A route's own refusal (``"service: 'fax' is not one of …"``) has the same
shape, and the OpenAPI schema documents what each route may answer.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend_stub.api import params
from backend_stub.api.app import create_app
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from tests.conftest import FIXTURES, token_for

HUGE = "99999999999999999999"  # above 64 bits
BEYOND_INT = str(params.MAX_ID + 1)  # above PostgreSQL's INTEGER


@pytest.fixture
def api(core, auth):
    with open(FIXTURES / "customers.csv", encoding="utf-8") as fh:
        assert import_customers(core.engine, core.catalogue, read_customers_csv(fh)).errors == []
    with TestClient(create_app(core, auth=auth), raise_server_exceptions=False) as client:
        yield client


def refused(r, *loc: str | int) -> str:
    """Assert a 422 in FastAPI's shape whose first item names ``loc``; return its message."""
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail, detail
    for item in detail:
        assert set(item) == {"loc", "msg", "type"}, item  # no "input", "ctx" or "url": nothing echoed
    assert detail[0]["loc"] == list(loc), detail
    return detail[0]["msg"]


def test_the_probes_that_gave_500_are_422_naming_the_field(api, auth):
    service, subscriber = token_for(auth, "service"), token_for(auth, "subscriber", 1)
    refused(api.get(f"/subscriptions/{HUGE}/addons", headers=subscriber), "path", "subscription_id")
    refused(api.get(f"/offer-images/{HUGE}"), "path", "image_id")  # public: no token at all
    refused(api.post(f"/instalments/{HUGE}/payoff", headers=subscriber), "path", "instalment_id")
    refused(api.get("/invoices", headers=service, params={"offset": 2**63}), "query", "offset")
    refused(api.get("/invoices", headers=service, params={"offset": -1}), "query", "offset")
    for period in ("2026-13", "0000-00", "2026-1", "26-10", "2026-10-01"):
        msg = refused(
            api.get("/usage/summary", headers=service, params={"customer_id": 1, "period": period}), "query", "period"
        )
        assert "YYYY-MM" in msg
        refused(api.post("/bill-runs", headers=service, json={"period": period}), "body", "period")
        refused(api.get("/customers/1/forecast", headers=service, params={"period": period}), "query", "period")
    # What is right still works.
    assert api.get("/usage/summary", headers=service, params={"customer_id": 1, "period": "2026-10"}).status_code == 200
    assert api.get("/invoices", headers=service, params={"offset": 0}).status_code == 200


def test_ids_beyond_what_the_database_holds_are_refused(api, auth):
    """Ids are PostgreSQL INTEGER: one above 2³¹−1 is refused before the database sees it (it gave a 500 there)."""
    agent, service = token_for(auth, "agent"), token_for(auth, "service")
    refused(api.get(f"/customers/{BEYOND_INT}", headers=agent), "path", "customer_id")
    refused(api.get(f"/customers/{BEYOND_INT}/recommendation", headers=agent), "path", "customer_id")
    refused(api.get("/usage", headers=agent, params={"customer_id": BEYOND_INT}), "query", "customer_id")
    refused(
        api.get("/customers/1/offers/1/order", headers=agent, params={"subscription_id": BEYOND_INT}),
        "query",
        "subscription_id",
    )
    refused(
        api.post("/customers/1/offers/1/accept", headers=service, json={"subscription_id": int(BEYOND_INT)}),
        "body",
        "subscription_id",
    )
    refused(api.get("/customers/0", headers=agent), "path", "customer_id")
    # The largest id there can be is simply not found.
    assert api.get(f"/customers/{params.MAX_ID}", headers=agent).status_code == 404


def test_amounts_are_bounded(api, auth):
    agent = token_for(auth, "agent")
    for amount in (10**20, 2**63, 0, -5):
        refused(
            api.post("/customers/1/refunds", headers=agent, json={"amount_ore": amount, "reference": "r-1"}),
            "body",
            "amount_ore",
        )
    refused(
        api.post(
            "/customers/1/charges", headers=agent, json={"description": "x", "amount_ore": -(10**20), "reason": "y"}
        ),
        "body",
        "amount_ore",
    )


def test_a_422_never_echoes_long_input(api, auth):
    agent = token_for(auth, "agent")
    long_text = "Å" * 50_000
    r = api.get("/customers", headers=agent, params={"q": long_text[:5_000]})  # as long as a URL may be
    refused(r, "query", "q")
    assert len(r.content) < 1_000 and "ÅÅÅ" not in r.text
    r = api.post(
        "/customers/1/charges", headers=agent, json={"description": long_text, "amount_ore": 100, "reason": long_text}
    )
    assert refused(r, "body", "description") and len(r.content) < 1_000 and "ÅÅÅ" not in r.text


def test_a_routes_own_refusal_has_the_same_shape(api, auth):
    subscriber = token_for(auth, "subscriber", 1)
    msg = refused(
        api.get("/usage", headers=subscriber, params={"customer_id": 1, "service": "fax"}), "query", "service"
    )
    assert msg.startswith("'fax' is not one of")
    msg = refused(
        api.post("/subscriptions/1/addons", headers=subscriber, json={"addon_id": "no-such"}), "body", "addon_id"
    )
    assert "unknown add-on" in msg
    # A message longer than any field could need is cut short.
    r = api.get("/usage", headers=subscriber, params={"customer_id": 1, "category": "c" * 64})
    assert len(refused(r, "query", "category")) <= 300


def test_text_a_database_cannot_hold_is_refused(api, auth):
    """NUL characters (PostgreSQL refuses them: a 500 before) and lone surrogates, wherever they come."""
    agent, service = token_for(auth, "agent"), token_for(auth, "service")
    refused(api.get("/customers", headers=agent, params={"q": "a\x00b"}), "query", "q")
    refused(api.get("/invoices/ab%00cd", headers=agent), "path", "invoice_id")
    refused(api.post("/auth/otp/request", headers=service, json={"identifier": "K1\x00"}), "body", "identifier")
    r = api.post(
        "/customers/1/charges",
        headers={**agent, "content-type": "application/json"},
        content=b'{"description": "SIM \\ud800", "amount_ore": 100, "reason": "r"}',
    )
    assert "surrogate" in refused(r, "body", "description")
    row = "K9,S9,An\x00na,a@x.se,+46701234560,G 1,111 22,Sthlm,email,+46701234560,mobil-5gb,2024-01-01,,true,,,1\n"
    head = (FIXTURES / "customers.csv").read_text(encoding="utf-8").splitlines()[0] + "\n"
    r = api.post("/customers/import", headers=service, files={"file": ("c.csv", (head + row).encode(), "text/csv")})
    assert refused(r, "body", "file") == "line 2: a NUL character"
    r = api.post("/customers/import", headers=service, files={"file": ("c.csv", b"\xff\xfe", "text/csv")})
    assert "UTF-8" in refused(r, "body", "file")


def test_the_schema_documents_bounds_and_refusals(api):
    schema = api.get("/openapi.json").json()
    invoice = schema["paths"]["/invoices/{invoice_id}"]["get"]
    assert {"200", "401", "403", "404", "422"} <= set(invoice["responses"])
    assert invoice["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HTTPValidationError"
    }
    addons = schema["paths"]["/subscriptions/{subscription_id}/addons"]["get"]
    [sub_id] = [p for p in addons["parameters"] if p["name"] == "subscription_id"]
    assert (sub_id["schema"]["minimum"], sub_id["schema"]["maximum"]) == (1, params.MAX_ID)
    listing = schema["paths"]["/invoices"]["get"]
    by_name = {p["name"]: p for p in listing["parameters"]}
    assert by_name["offset"]["schema"]["minimum"] == 0 and by_name["offset"]["schema"]["maximum"] == params.MAX_OFFSET
    assert by_name["period"]["schema"]["pattern"] == params.PERIOD_PATTERN
    assert "409" in schema["paths"]["/bill-runs"]["post"]["responses"]
    assert "410" in schema["paths"]["/links/open"]["post"]["responses"]
    assert set(schema["paths"]["/health"]["get"]["responses"]) == {"200"}  # no token, no refusal


def test_days_are_bounded(api, auth):
    """A day the services can count from: 9999-12-31 plus one banking day gave a 500."""
    service, agent = token_for(auth, "service"), token_for(auth, "agent")
    assert "1900-01-01" in refused(
        api.get("/autogiro/files/outgoing", headers=service, params={"date": "9999-12-31"}), "query", "date"
    )
    refused(api.post("/autopay/run", headers=service, json={"date": "0001-01-01"}), "body", "date")
    refused(
        api.post("/bill-runs", headers=service, json={"period": "2026-10", "invoice_date": "9999-12-31"}),
        "body",
        "invoice_date",
    )
    refused(api.get("/invoices/100001/next-steps", headers=agent, params={"today": "9999-12-31"}), "query", "today")
    assert api.get("/autogiro/files/outgoing", headers=service, params={"date": "2026-12-07"}).status_code == 200


def test_a_customers_file_the_csv_reader_cannot_read_is_refused(api, auth):
    """The CSV reader's own errors (here: a field beyond its size limit) are the file's fault, not the server's."""
    head = (FIXTURES / "customers.csv").read_text(encoding="utf-8").splitlines()[0] + "\n"
    row = "K9,S9," + "x" * 200_000 + ",a@x.se,+46701234560,G 1,111 22,Sthlm,email,,mobil-5gb,2024-01-01,,true,,,1\n"
    r = api.post(
        "/customers/import",
        headers=token_for(auth, "service"),
        files={"file": ("c.csv", (head + row).encode(), "text/csv")},
    )
    assert refused(r, "body", "file").startswith("line 2: not readable as CSV")
    assert len(r.content) < 1_000
