"""One money format: the core's texts (timeline, PDF, messages) and the app's screens read the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfcare.i18n import format_money, format_signed_money
from selfcare_common.money_format import format_kr


@pytest.mark.parametrize(
    ("ore", "sv", "en"),
    [
        (124_900, "1\u00a0249,00\u00a0kr", "1,249.00\u00a0kr"),
        (6_000, "60,00\u00a0kr", "60.00\u00a0kr"),
        (5, "0,05\u00a0kr", "0.05\u00a0kr"),
        (0, "0,00\u00a0kr", "0.00\u00a0kr"),
        (-5_000, "-50,00\u00a0kr", "-50.00\u00a0kr"),
    ],
)
def test_worked_amounts(ore: int, sv: str, en: str) -> None:
    assert (format_kr(ore, "sv"), format_kr(ore, "en")) == (sv, en)


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["sv", "en"]))
def test_app_and_core_write_every_amount_alike(ore: int, lang: str) -> None:
    assert format_money(ore, lang) == format_kr(ore, lang)
    assert format_signed_money(ore, lang) == format_kr(ore, lang, signed=True)


@pytest.mark.parametrize(
    ("ore", "options", "sv", "en"),
    [
        (29_900, {"short": True}, "299\u00a0kr", "299\u00a0kr"),  # offers: whole kronor without decimals
        (22_450, {"short": True}, "224,50\u00a0kr", "224.50\u00a0kr"),
        (124_900, {"short": True}, "1\u00a0249\u00a0kr", "1,249\u00a0kr"),
        (-5_000, {"short": True}, "-50\u00a0kr", "-50\u00a0kr"),
        (8_700, {"signed": True}, "+87,00\u00a0kr", "+87.00\u00a0kr"),
        (-5_000, {"signed": True}, "\u221250,00\u00a0kr", "\u221250.00\u00a0kr"),
        (0, {"signed": True}, "0,00\u00a0kr", "0.00\u00a0kr"),
        (124_900, {"plain_spaces": True}, "1 249,00 kr", "1,249.00 kr"),  # the CLI
    ],
)
def test_variants(ore: int, options: dict[str, bool], sv: str, en: str) -> None:
    assert (format_kr(ore, "sv", **options), format_kr(ore, "en", **options)) == (sv, en)


def test_money_is_never_a_float() -> None:
    with pytest.raises(TypeError):
        format_kr(12.5)  # type: ignore[arg-type]
