"""The catalogue's usage-alert settings (issue 17): the default per cents of each allowance and the spending limits a
subscriber may choose; a bad value names its field like every catalogue error."""

from __future__ import annotations

import pytest

from backend_stub.domain.catalogue import DEFAULT_CATALOGUE, load_catalogue, parse_catalogue_text
from tests.domain.test_catalogue import broken, errors_of

LIMIT = 'roaming_data_spend_limit = "100.00"'


def test_the_shipped_catalogue_offers_three_levels_and_80_and_100_percent():
    cat = load_catalogue(DEFAULT_CATALOGUE)
    assert cat.alert_percent == {"data": (80, 100), "voice": (80, 100), "sms": (80, 100)}
    assert cat.roaming.spend_limit_levels() == (57_500, 115_000, 230_000)
    assert cat.roaming.data_spend_limit_ore == 57_500


def test_without_the_settings_80_and_100_percent_and_the_one_limit():
    cat = parse_catalogue_text(broken(LIMIT, LIMIT))  # the golden catalogue says neither
    assert cat.alert_percent == {"data": (80, 100), "voice": (80, 100), "sms": (80, 100)}
    assert cat.roaming.spend_limit_levels() == (10_000,)


def test_per_cents_per_pool_a_pool_left_out_has_none():
    cat = parse_catalogue_text(broken(LIMIT, LIMIT + "\nusage_alert_percent = { data = [50, 80, 100], sms = [100] }"))
    assert cat.alert_percent == {"data": (50, 80, 100), "voice": (), "sms": (100,)}


@pytest.mark.parametrize(
    ("written", "error"),
    [
        ("[80, 80]", "settings.usage_alert_percent: rising, each once, e.g. [80, 100]"),
        ("[100, 80]", "settings.usage_alert_percent: rising, each once, e.g. [80, 100]"),
        ("[0, 100]", "settings.usage_alert_percent: whole per cents from 1 to 100, e.g. [80, 100]"),
        ("[80, 101]", "settings.usage_alert_percent: whole per cents from 1 to 100, e.g. [80, 100]"),
        ('["80"]', "settings.usage_alert_percent: whole per cents from 1 to 100, e.g. [80, 100]"),
        ("[80.5]", "settings.usage_alert_percent: whole per cents from 1 to 100, e.g. [80, 100]"),
        ("{ data = [true] }", "settings.usage_alert_percent.data: whole per cents from 1 to 100, e.g. [80, 100]"),
        ("{ mms = [80] }", "settings.usage_alert_percent: 'mms' is not a pool with alerts (use data, voice, sms)"),
    ],
)
def test_bad_per_cents_name_the_field(written: str, error: str):
    assert errors_of(broken(LIMIT, LIMIT + f"\nusage_alert_percent = {written}")) == [error]


def test_the_levels_are_rising_amounts_with_the_default_among_them():
    cat = parse_catalogue_text(broken(LIMIT, LIMIT + '\nroaming_data_spend_limit_levels = ["100.00", "250.00"]'))
    assert cat.roaming.spend_limit_levels() == (10_000, 25_000)
    field = "settings.roaming_data_spend_limit_levels"
    assert errors_of(broken(LIMIT, LIMIT + '\nroaming_data_spend_limit_levels = ["50.00", "250.00"]')) == [
        f"{field}: roaming_data_spend_limit (the default) must be one of the levels"
    ]
    assert errors_of(broken(LIMIT, LIMIT + '\nroaming_data_spend_limit_levels = ["250.00", "100.00"]')) == [
        f"{field}: amounts above 0 kr, rising, each once"
    ]
    assert errors_of(broken(LIMIT, LIMIT + '\nroaming_data_spend_limit_levels = ["0.00", "100.00"]')) == [
        f"{field}: amounts above 0 kr, rising, each once"
    ]
    [bad] = errors_of(broken(LIMIT, LIMIT + '\nroaming_data_spend_limit_levels = ["100.00", "lots"]'))
    assert bad.startswith(field)
