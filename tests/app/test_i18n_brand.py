"""Catalogues, locale formatting and the brand file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from selfcare.brand import BrandError, brand, parse_brand
from selfcare.i18n import format_date, format_money, format_period, gettext
from selfcare.locales.extract import keywords
from selfcare.presenters import explain_rows, invoice_row


def test_money_and_dates_follow_the_locale():
    assert format_money(124900, "sv") == "1\u00a0249,00\u00a0kr"
    assert format_money(124900, "en") == "1,249.00\u00a0kr"
    assert format_date(date(2026, 3, 10), "sv") == "10 mars 2026"
    assert format_date("2026-03-10", "en") == "10 March 2026"
    assert format_period("2026-03", "sv") == "mars 2026"
    with pytest.raises(TypeError):
        format_money(12.5, "sv")  # type: ignore[arg-type]


def test_helpers_that_translate_a_parameter_are_extraction_keywords():
    found = keywords()
    # Labels handed to these helpers are translated inside them (the agents' console, the layout).
    assert found["_filter_button"] is None and found["_box"] is None and found["nav_item"] is None
    assert found["gettext"] == (2,)


def test_every_text_in_the_code_has_a_swedish_translation():
    root = Path(__file__).resolve().parents[2] / "selfcare"
    used = {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(str(root), keywords=keywords(root), method_map=[("**.py", "python")])
    }
    assert len(used) > 100
    po = root / "locales" / "sv" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        translated = {m.id for m in read_po(fh) if m.id and m.string}  # identical text ("SMS") counts
    assert sorted(used - translated) == []
    assert gettext("sv", "{days} days left", days=3) == "3 dagar kvar"
    assert gettext("en", "{days} days left", days=3) == "3 days left"


def test_presenters_translate_status_and_split_the_explanation():
    row = invoice_row(
        {
            "id": "x",
            "number": "1",
            "period": "2026-10",
            "amount_due_ore": 20200,
            "due_date": "2026-12-01",
            "status": "overdue",
            "balance_ore": 20200,
        },
        "sv",
    )
    assert row["status"] == "Förfallen" and row["tone"] == "red" and row["open"] == "1"
    assert row["amount"] == "202,00\u00a0kr" and row["due"] == "1 december 2026"
    [item] = explain_rows({"items": [{"delta_ore": 8700, "text": "+87,00 kr: 3,2 GB surf utöver"}]}, "sv")
    assert item == {"delta": "+87,00\u00a0kr", "text": "3,2 GB surf utöver", "tone": "red"}


def test_brand_comes_from_configuration():
    assert brand().name == "Nordvik Telecom"
    text = (Path(__file__).resolve().parents[2] / "selfcare" / "brand.toml").read_text(encoding="utf-8")
    with pytest.raises(BrandError, match="colors.primary"):
        parse_brand(text.replace('primary = "#0b4f6c"', 'primary = "blue"'))
    with pytest.raises(BrandError, match="support.phone"):
        parse_brand(text.replace('phone = "0771-12 34 56"', ""))


def test_brand_text_with_a_control_character_is_refused_naming_the_field():
    text = (Path(__file__).resolve().parents[2] / "selfcare" / "brand.toml").read_text(encoding="utf-8")
    assert 'phone = "0771-12 34 56"' in text and 'name = "Nordvik Telecom"' in text
    with pytest.raises(BrandError) as info:
        parse_brand(text.replace('phone = "0771-12 34 56"', 'phone = "0771-12\\u0000 34 56"'))
    assert str(info.value) == "brand file: support.phone: a control character (U+0000) is not allowed in text"
    with pytest.raises(BrandError, match=r"^brand file: name: a control character \(U\+001B\)"):
        parse_brand(text.replace('name = "Nordvik Telecom"', 'name = "Nordvik\\u001b]0;x\\u0007 Telecom"'))
