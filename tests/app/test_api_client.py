"""selfcare.api_client against the real core ASGI app: the contract of docs/api-app.md."""

from __future__ import annotations

import json

import pytest

from selfcare.api_client import ApiError, NotFound, Unauthorized, valid_invoice_id
from tests.app.conftest import latest_code, run, subscriber_token


async def _own_and_foreign(client):
    mine = await client.invoices(subscriber_token(1), 1, limit=5)
    theirs = await client.invoices(subscriber_token(2), 2, limit=5)
    return mine["items"], theirs["items"]


def test_sign_in_with_one_time_code(client):
    async def go():
        assert (await client.otp_request("K100001"))["status"] == "sent"
        code = await latest_code(client, "K100001")
        with pytest.raises(Unauthorized):
            await client.otp_verify("K100001", "000000" if code != "000000" else "111111")
        answer = await client.otp_verify("K100001", code)
        assert answer["customer_id"] == 1 and answer["access_token"]
        listing = await client.invoices(answer["access_token"], 1)
        assert listing["total"] >= 1
        await client.logout(answer["access_token"])
        with pytest.raises(Unauthorized):  # revoked
            await client.invoices(answer["access_token"], 1)

    run(go())


def test_unknown_account_gets_the_same_answer(client):
    assert run(client.otp_request("K999999")) == {"status": "sent"}


def test_a_refusal_reads_as_field_and_message(client):
    """The core's 422 (a list of {loc, msg, type}) reaches the app as one line naming the field."""
    with pytest.raises(ApiError) as refused:
        run(client.otp_request(""))
    assert refused.value.status == 422
    assert refused.value.detail.startswith("identifier: ") and "{" not in refused.value.detail


def test_foreign_invoice_is_not_found(client):
    async def go():
        mine, theirs = await _own_and_foreign(client)
        token = subscriber_token(1)
        doc = await client.invoice(token, mine[0]["id"])
        assert doc["customer_id"] == 1
        for call in (
            client.invoice(token, theirs[0]["id"]),
            client.invoice_pdf(token, theirs[0]["id"]),
            client.invoice_qr(token, theirs[0]["id"]),
            client.explain(token, theirs[0]["id"]),
            client.line_usage(token, theirs[0]["id"], 1),
            client.invoice_usage(token, theirs[0]["id"]),
        ):
            with pytest.raises(NotFound):
                await call
        with pytest.raises(NotFound):
            await client.invoices(token, 2)

    run(go())


def test_bad_ids_never_reach_a_url(client):
    assert not valid_invoice_id("../customers/2")
    assert not valid_invoice_id("1 OR 1=1")
    with pytest.raises(NotFound):
        run(client.invoice(subscriber_token(1), "../customers/2"))


def test_pdf_and_qr_of_own_invoice(client):
    async def go():
        mine, _ = await _own_and_foreign(client)
        token = subscriber_token(1)
        inv = mine[0]
        pdf = await client.invoice_pdf(token, inv["id"])
        assert pdf.startswith(b"%PDF")
        qr = await client.invoice_qr(token, inv["id"])
        payload = json.loads(qr["text"])
        # UsingQR: seller name, Bankgiro account, OCR reference, amount due and due date.
        assert payload["uqr"] == 1 and payload["pt"] == "BG"
        assert payload["iref"] == inv["ocr"]
        assert payload["ddt"] == inv["due_date"].replace("-", "")
        assert round(float(payload["due"]) * 100) == inv["balance_ore"]
        assert qr["svg"].lstrip().startswith("<svg")

    run(go())


def test_invoice_link_reaches_that_invoice_only(client):
    async def go():
        mine, _ = await _own_and_foreign(client)
        assert len(mine) >= 2
        link = await client.create_link(subscriber_token(1), mine[0]["id"])
        assert link["path"] == f"/i/{link['token']}"
        opened = await client.open_link(link["token"])
        assert opened["invoice_id"] == mine[0]["id"]
        scoped = opened["access_token"]
        assert (await client.invoice(scoped, mine[0]["id"]))["id"] == mine[0]["id"]
        with pytest.raises(NotFound):
            await client.invoice(scoped, mine[1]["id"])
        with pytest.raises(NotFound):
            await client.open_link(link["token"][:-2] + ("aa" if not link["token"].endswith("aa") else "bb"))

    run(go())


def test_usage_summary_and_forecast(client):
    async def go():
        mine, _ = await _own_and_foreign(client)
        token = subscriber_token(1)
        summary = await client.usage_summary(token, 1, mine[0]["period"])
        assert {"per_day", "per_category", "allowances"} <= summary.keys()
        forecast = await client.forecast(token, 1)
        assert "allowances" in forecast
        with pytest.raises(NotFound):
            await client.forecast(token, 2)

    run(go())
