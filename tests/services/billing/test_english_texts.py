"""English texts: catalogue items carry English beside Swedish, invoices store both, readers get theirs."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from backend_stub.domain import invoicing
from backend_stub.domain.catalogue import DEFAULT_CATALOGUE, in_language, load_catalogue, parse_catalogue_text
from backend_stub.domain.periods import Period, PlanSegment, Subscription
from backend_stub.services.billing import documents
from selfcare.presenters import explain_rows, spec_lines

CAT = load_catalogue(DEFAULT_CATALOGUE)
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def test_the_shipped_catalogue_has_english_for_every_item():
    assert CAT.warnings == ()
    assert CAT.plans["mobil-5gb"].name_en == "Mobile 5 GB"
    assert CAT.tariffs["mobil"].rates[("voice", "se-mobile")].name_en == "Calls to Sweden mobile"
    assert CAT.zones[1].rates["data"].name_en == "Data abroad, Roaming zone 1"


def test_an_item_without_english_falls_back_to_swedish_with_a_warning(caplog):
    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8").replace('name_en = "Mobile Basic 1 GB"\n', "")
    with caplog.at_level(logging.WARNING, logger="backend_stub.domain.catalogue"):
        cat = parse_catalogue_text(text)  # a warning, not an error
    assert len(cat.warnings) == 1
    assert cat.warnings[0].startswith("plans[3]: no name_en (English shows the Swedish text)")
    assert "id 'mobil-bas'" in cat.warnings[0] and "line " in cat.warnings[0]
    assert "mobil-bas" in caplog.text
    assert in_language(cat.plans["mobil-bas"], "en") == "Mobil Bas 1 GB"
    assert in_language(cat.plans["mobil-bas"], "en", "description") == "1 GB data, 300 minutes and 100 texts."
    assert in_language(cat.plans["mobil-5gb"], "sv") == "Mobil 5 GB"


def _sub(plan: str, start: date) -> Subscription:
    return Subscription(id=1, number="S-1", customer_id=1, msisdn="+46701234567", segments=(PlanSegment(plan, start),))


def test_invoice_lines_carry_english_with_babel_months():
    draft = invoicing.build_invoice(
        CAT,
        1,
        [_sub("mobil-5gb", date(2026, 11, 10))],
        NOVEMBER,
        [],
        addons=[
            invoicing.AddonCharge(
                "extra-1gb",
                "Extra 1 GB denna månad",
                1900,
                Decimal("0.25"),
                date(2026, 11, 12),
                1,
                "Extra 1 GB this month",
            )
        ],
    )
    fee, addon = draft.lines
    assert fee.description == "Mobil 5 GB, 10 nov–30 nov"
    assert fee.description_en == "Mobile 5 GB, 10 Nov–30 Nov"
    assert addon.description == "Extra 1 GB denna månad, köpt 12 nov"
    assert addon.description_en == "Extra 1 GB this month, bought 12 Nov"
    assert fee.as_dict()["description_en"] == "Mobile 5 GB, 10 Nov–30 Nov"


def test_connection_fee_usage_and_instalment_lines_in_english():
    agg = invoicing.UsageAggregate(1, NOVEMBER.start, "mobil/voice/se-premium", True, 600, 4950, 7, 693, 0, 0)
    usage, fee = invoicing.usage_lines(CAT, [agg], NOVEMBER, {1: "+46701234567"})
    assert usage.description_en == "Calls to Sweden premium numbers off-peak"
    assert fee.description == "Öppningsavgift Sverige betalnummer"
    assert fee.description_en == "Connection fee, calls to Sweden premium numbers"
    plan = invoicing.InstalmentPlan(
        3, "Nordphone 12 128 GB", 24, 799000, 33292, Decimal("0.25"), "2026-11", device_name_en="Nordphone 12 (128 GB)"
    )
    (line,) = invoicing.instalment_lines(plan, invoicing.instalment_charges(plan, "2026-11"), None)
    assert line.description_en == (
        "Instalment Nordphone 12 (128 GB), month 1 of 24 (paid 332.92\u00a0kr, left 7,657.08\u00a0kr)"
    )


def _document(lines: list[dict]) -> dict:
    seller = documents.seller_of(CAT)
    return {
        "kind": "invoice",
        "lines": lines,
        "seller": seller,
        "plans": [
            {
                "plan_name": "Mobil 5 GB",
                "plan_name_en": "Mobile 5 GB",
                "allowances": "5 GB surf",
                "allowances_en": "5 GB data",
                "description": "x",
                "description_en": "y",
            }
        ],
    }


def test_the_document_is_served_in_the_readers_language_and_back():
    line = {
        "description": "Mobil 5 GB, 1 nov–30 nov",
        "description_en": "Mobile 5 GB, 1 Nov–30 Nov",
        "quantity": "1",
        "unit": "mån",
        "unit_price": "199.00",
        "vat_rate": "0.25",
        "amount_ore": 19900,
    }
    old = {
        "description": "Öppningsavgift Sverige betalnummer",
        "quantity": "7",
        "unit": "st",
        "unit_price": "0.99",
        "vat_rate": "0.25",
        "amount_ore": 693,
    }  # issued before English was stored
    en = documents.localized(_document([line, old]), "en")
    assert [ln["description"] for ln in en["lines"]] == [
        "Mobile 5 GB, 1 Nov–30 Nov",
        "Öppningsavgift Sverige betalnummer",
    ]
    assert [ln["unit"] for ln in en["lines"]] == ["mo", ""]
    assert en["seller"]["late_interest_note"].startswith("If payment is late")
    assert en["plans"][0]["plan_name"] == "Mobile 5 GB" and en["plans"][0]["allowances"] == "5 GB data"
    rows = spec_lines(en, "en")
    assert [r["quantity"] for r in rows] == ["1 mo", "7"]
    back = documents.localized(en, "sv")  # turned again: the Swedish texts were kept
    assert back["lines"][0]["description"] == "Mobil 5 GB, 1 nov–30 nov" and back["lines"][0]["unit"] == "mån"
    assert back["seller"]["late_interest_note"] == CAT.operator.late_interest_note
    assert documents.localized(en, "en") == en


def test_why_different_shows_the_amount_once():
    core_item = {"delta_ore": 297, "text": "+2.97\u00a0kr: Data, 3 GB", "label": "Data, 3 GB"}
    (row,) = explain_rows({"items": [core_item]}, "en")
    assert row["text"] == "Data, 3 GB" and "SEK" not in row["text"] and "2.97" in row["delta"]
    older = {"delta_ore": 297, "text": "+SEK2.97: Data"}  # an older core: the amount stripped off
    assert explain_rows({"items": [older]}, "en")[0]["text"] == "Data"
