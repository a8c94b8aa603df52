"""The records behind an invoice line add up to that line, to the öre (rules §1).

A call's connection fee is billed on its own line, so the call line's records show the call
without the fee and the fee line's records show the fee per call. Display rounding of each
record can leave a few öre between the records and the line: the answer names it
(``rounding_ore``) so that the list adds up.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from backend_stub.api.app import create_app
from backend_stub.demo.seed import seed
from tests.conftest import token_for

TODAY = date(2026, 11, 21)
USAGE_KINDS = ("usage", "connection_fee", "late_usage")


@pytest.fixture
def api(core, auth):
    seed(core, 30, 2, today=TODAY, quiet=True)
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


def _all_records(api, headers, invoice_id, position) -> tuple[dict, list[dict]]:
    first = api.get(f"/invoices/{invoice_id}/lines/{position}/usage", headers=headers, params={"limit": 7})
    assert first.status_code == 200, first.text
    answer = first.json()
    items = list(answer["items"])
    while len(items) < answer["total"]:  # page through, as the app's "Show more" does
        page = api.get(
            f"/invoices/{invoice_id}/lines/{position}/usage", headers=headers, params={"limit": 7, "offset": len(items)}
        ).json()
        assert page["items"], "a page ended early"
        items += page["items"]
    return answer, items


def test_every_usage_line_is_the_sum_of_its_records(api, auth):
    seen: dict[str, int] = defaultdict(int)
    customers = api.get("/customers", headers=token_for(auth, "agent"), params={"limit": 100}).json()["items"]
    for c in customers:
        mine = token_for(auth, "subscriber", c["id"])
        for inv in api.get("/invoices", headers=mine).json()["items"]:
            doc = api.get(f"/invoices/{inv['id']}", headers=mine).json()
            by_record: dict[str, dict[str, int]] = defaultdict(dict)
            for pos, line in enumerate(doc["lines"], start=1):
                if line["kind"] not in USAGE_KINDS:
                    continue
                answer, items = _all_records(api, mine, inv["id"], pos)
                assert answer["line"] == line and answer["total"] == len(items) > 0, line
                shown = sum(i["cost_ore"] for i in items)
                assert answer["records_ore"] == shown
                assert shown + answer["rounding_ore"] == line["amount_ore"], line
                assert abs(answer["rounding_ore"]) <= len(items)  # at most half an öre per record
                for i in items:
                    by_record[i["record_id"]][answer["part"]] = i["cost_ore"]
                    by_record[i["record_id"]]["charge"] = i["charge_ore"]
                seen[answer["part"]] += 1
                seen["rounding"] += answer["rounding_ore"] != 0
                seen.update({f"{i['service']}:{i['category']}": 1 for i in items})
            for parts in by_record.values():  # a call's two lines together are the whole call
                if "fee" in parts:
                    assert parts["fee"] > 0 and abs(parts["usage"] + parts["fee"] - parts["charge"]) <= 1
    # The seeded invoices have what the rule is about: fees, data with display rounding, texts, roaming.
    assert seen["fee"] and seen["usage"] and seen["rounding"], dict(seen)
    assert any(k.startswith("data:") for k in seen) and any(k.startswith(("sms:", "mms:")) for k in seen)
    assert any(k.endswith(":roaming") or k.endswith(":eu_roaming") for k in seen), dict(seen)


def test_a_call_line_shows_the_call_without_its_fee(api, auth):
    customers = api.get("/customers", headers=token_for(auth, "agent"), params={"limit": 100}).json()["items"]
    for c in customers:
        mine = token_for(auth, "subscriber", c["id"])
        for inv in api.get("/invoices", headers=mine).json()["items"]:
            doc = api.get(f"/invoices/{inv['id']}", headers=mine).json()
            for pos, line in enumerate(doc["lines"], start=1):
                if line["kind"] != "connection_fee":
                    continue
                call_pos = pos - 1  # the fee line follows its call line
                call = api.get(f"/invoices/{inv['id']}/lines/{call_pos}/usage", headers=mine).json()
                fee = api.get(f"/invoices/{inv['id']}/lines/{pos}/usage", headers=mine).json()
                fees = {i["record_id"]: i["cost_ore"] for i in fee["items"]}
                unit_fee = int(
                    Decimal(line["unit_price"]) * 100
                )  # the fee in öre (the catalogue prices it in whole öre)
                assert set(fees.values()) == {unit_fee}
                for i in call["items"]:
                    if i["record_id"] in fees:
                        assert i["cost_ore"] == i["charge_ore"] - unit_fee
                        assert "Öppningsavgift" in fee["items"][0]["description"]
                return
    pytest.fail("no connection fee line in the seeded invoices")


def test_drill_down_is_the_owners_only(api, auth):
    customers = api.get("/customers", headers=token_for(auth, "agent"), params={"limit": 2}).json()["items"]
    mine, other = customers[0]["id"], customers[1]["id"]
    inv = api.get("/invoices", headers=token_for(auth, "subscriber", mine)).json()["items"][0]
    assert (
        api.get(f"/invoices/{inv['id']}/lines/1/usage", headers=token_for(auth, "subscriber", other)).status_code == 404
    )
    assert (
        api.get(f"/invoices/{inv['id']}/lines/999/usage", headers=token_for(auth, "subscriber", mine)).status_code
        == 404
    )
    # Positions are 1-based: 0 is malformed, a 422 naming it.
    zero = api.get(f"/invoices/{inv['id']}/lines/0/usage", headers=token_for(auth, "subscriber", mine))
    assert zero.status_code == 422 and zero.json()["detail"][0]["loc"] == ["path", "position"]
