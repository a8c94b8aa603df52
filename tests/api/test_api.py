"""The HTTP API on SQLite and PostgreSQL: auth, roles, a subscriber sees only its own data."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend_stub.api.app import create_app
from tests.conftest import FIXTURES, problems, token_for


@pytest.fixture
def api(core, auth):
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


@pytest.fixture
def billed(api, auth):
    """Two customers imported, October's usage ingested and billed; returns the customers' ids."""
    service = token_for(auth, "service")
    with open(FIXTURES / "customers.csv", "rb") as fh:
        r = api.post("/customers/import", headers=service, files={"file": ("customers.csv", fh, "text/csv")})
    assert r.status_code == 200, r.text
    with open(FIXTURES / "cdrs.csv", "rb") as fh:
        r = api.post("/usage/csv", headers=service, files={"file": ("cdrs.csv", fh, "text/csv")})
    assert r.json()["rated"] == 9
    r = api.post("/bill-runs", headers=service, json={"period": "2026-10"})
    assert r.json()["invoices"] == 2
    found = api.get("/customers", headers=token_for(auth, "agent")).json()["items"]
    return {c["customer_number"]: c["id"] for c in found}


def test_openapi_is_published_and_routes_need_a_token(api):
    schema = api.get("/openapi.json").json()
    assert "/invoices/{invoice_id}" in schema["paths"]
    assert api.get("/health").status_code == 200
    r = api.get("/invoices")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert api.get("/invoices", headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401


def test_subscriber_reaches_only_its_own_account(api, auth, billed):
    k1, k2 = billed["K1"], billed["K2"]
    mine = token_for(auth, "subscriber", k1)
    listing = api.get("/invoices", headers=mine).json()
    assert listing["total"] == 1 and listing["items"][0]["customer_number"] == "K1"
    other = api.get("/invoices", headers=token_for(auth, "subscriber", k2)).json()["items"][0]
    # Another subscriber's invoice, customer, usage and PDF: all 404, as if they did not exist.
    assert api.get(f"/invoices/{other['id']}", headers=mine).status_code == 404
    assert api.get(f"/invoices/{other['number']}/pdf", headers=mine).status_code == 404
    assert api.get(f"/customers/{k2}", headers=mine).status_code == 404
    assert api.get("/usage", headers=mine, params={"customer_id": k2}).status_code == 404
    assert api.get("/usage/summary", headers=mine, params={"customer_id": k2, "period": "2026-10"}).status_code == 404
    assert api.get("/invoices", headers=mine, params={"customer_id": k2}).status_code == 404
    # Staff-only and service-only routes.
    assert api.post("/bill-runs", headers=mine, json={"period": "2026-11"}).status_code == 403
    assert (
        api.post(
            f"/invoices/{other['id']}/credit-notes", headers=mine, json={"reason": "x", "amount_ore": 100}
        ).status_code
        == 403
    )
    assert api.get("/customers", headers=mine).status_code == 403
    assert api.post("/usage", headers=mine, json={"records": []}).status_code == 403


def test_invoice_json_pdf_usage_and_summary(api, auth, billed):
    mine = token_for(auth, "subscriber", billed["K1"])
    inv = api.get("/invoices", headers=mine).json()["items"][0]
    doc = api.get(f"/invoices/{inv['id']}", headers=mine).json()
    assert doc["ocr"] and doc["seller"]["bankgiro"] == "5050-1055" and doc["timeline"][0]["kind"] == "created"
    assert sum(ln["amount_ore"] for ln in doc["lines"]) == doc["gross_ore"]
    pdf = api.get(f"/invoices/{inv['id']}/pdf", headers=mine)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    usage = api.get(
        "/usage", headers=mine, params={"customer_id": billed["K1"], "period": "2026-10", "limit": 2}
    ).json()
    assert usage["total"] == 5 and len(usage["items"]) == 2
    assert usage["items"][0]["started_at"] >= usage["items"][1]["started_at"]  # newest first
    voice = api.get("/usage", headers=mine, params={"customer_id": billed["K1"], "service": "voice"}).json()
    assert {i["service"] for i in voice["items"]} == {"voice"} and voice["total"] == 2
    bad = api.get("/usage", headers=mine, params={"customer_id": billed["K1"], "service": "fax"})
    assert bad.status_code == 422 and "service" in bad.text
    summary = api.get("/usage/summary", headers=mine, params={"customer_id": billed["K1"], "period": "2026-10"}).json()
    data = next(a for a in summary["allowances"] if a["pool"] == "data")
    assert data["included"] == 5_000_000_000 and data["used"] == 52_429_000 + 104_858_000
    assert summary["per_category"]["eu_roaming"]["count"] == 1
    assert summary["per_category"]["roaming"]["count"] == 1


def test_agent_credits_an_invoice(api, auth, billed):
    agent = token_for(auth, "agent")
    inv = api.get("/invoices", headers=agent, params={"customer_id": billed["K1"]}).json()["items"][0]
    r = api.post(f"/invoices/{inv['id']}/credit-notes", headers=agent, json={"reason": "Goodwill", "amount_ore": 5000})
    assert r.status_code == 201, r.text
    after = api.get(f"/invoices/{inv['id']}", headers=token_for(auth, "subscriber", billed["K1"])).json()
    assert after["balance_ore"] == inv["amount_due_ore"] - 5000
    too_much = api.post(
        f"/invoices/{inv['id']}/credit-notes", headers=agent, json={"reason": "x", "amount_ore": inv["amount_due_ore"]}
    )
    assert too_much.status_code == 422 and "amount_ore" in too_much.text


def test_usage_batch_api_reports_every_record(api, auth, billed):
    service = token_for(auth, "service")
    records = [
        {
            "record_id": "j-1",
            "msisdn": "+46701234567",
            "service": "sms",
            "started_at": "2026-11-02T10:00:00+01:00",
            "called_number": "+46739876543",
        },
        {
            "record_id": "j-2",
            "msisdn": "+46701234567",
            "service": "voice",
            "started_at": "2026-11-02T10:00:00",
            "duration_s": 10,
            "called_number": "+46739876543",
        },
        {
            "record_id": "j-1",
            "msisdn": "+46701234567",
            "service": "sms",
            "started_at": "2026-11-02T10:00:00+01:00",
            "called_number": "+46739876543",
        },
    ]
    r = api.post("/usage", headers=service, json={"records": records}).json()
    assert (r["read"], r["rated"], r["duplicate"], r["rejected"]) == (3, 1, 1, 1)
    assert r["errors"][0]["field"] == "started_at" and r["errors"][0]["line"] == 2
    pending = api.get("/suspense", headers=token_for(auth, "agent")).json()
    assert pending["total"] == 1 and pending["items"][0]["record_id"] == "j-2"


def test_invalid_catalogue_upload_names_the_field(api, auth):
    service = token_for(auth, "service")
    broken = (FIXTURES.parent.parent / "backend_stub" / "catalogues" / "nordvik.toml").read_text()
    broken = broken.replace(
        'tariff = "mobil"\nallowances = { data = "5 GB"', 'tariff = "mobi"\nallowances = { data = "5 GB"'
    )
    r = api.put("/catalogue", headers={**service, "Content-Type": "application/toml"}, content=broken)
    assert any(e.startswith("plans[0].tariff: ") for e in problems(r)), r.text
    assert api.get("/catalogue", headers=service).json()["plans"][0]["id"] == "mobil-5gb"  # unchanged


def test_a_catalogue_with_a_control_character_is_refused_and_nothing_of_it_kept(api, auth):
    service = token_for(auth, "service")
    text = (FIXTURES.parent.parent / "backend_stub" / "catalogues" / "nordvik.toml").read_text()
    assert 'name = "Mobil 5 GB"' in text
    bad = text.replace('name = "Mobil 5 GB"', 'name = "Mobil\\u0000 5 GB"', 1)
    r = api.put("/catalogue", headers={**service, "Content-Type": "application/toml"}, content=bad)
    assert r.json()["detail"] == [
        {
            "loc": ["body", "plans[0].name"],
            "type": "value_error",
            "msg": "a control character (U+0000) is not allowed in text",
        }
    ], r.text
    assert api.get("/catalogue", headers=service).json()["plans"][0]["name"] == "Mobil 5 GB"  # unchanged
