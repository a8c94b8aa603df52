"""catalogue: the shipped and the golden catalogue load; every broken variant names the bad field."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from backend_stub.domain.catalogue import (
    DEFAULT_CATALOGUE,
    UNLIMITED,
    CatalogueError,
    load_catalogue,
    parse_allowance,
    parse_catalogue_text,
)
from backend_stub.domain.money import EXACT_PER_KR
from tests.conftest import FIXTURES

GOLDEN = FIXTURES / "golden.toml"
GOLDEN_TEXT = GOLDEN.read_text(encoding="utf-8")


def broken(old: str, new: str) -> str:
    """The golden catalogue with one change (the snippet must be there, so a fixture edit cannot hide a test)."""
    assert old in GOLDEN_TEXT, f"fixture no longer contains {old!r}"
    return GOLDEN_TEXT.replace(old, new, 1)


def errors_of(text: str) -> list[str]:
    with pytest.raises(CatalogueError) as info:
        parse_catalogue_text(text)
    assert str(info.value).startswith("invalid catalogue:")
    return info.value.errors


# --------------------------------------------------------------------------- the shipped catalogue


def test_the_shipped_catalogue_loads_with_its_plans():
    cat = load_catalogue(DEFAULT_CATALOGUE)
    for plan_id in ("mobil-5gb", "mobil-20gb", "mobil-obegransad", "bredband-100", "bredband-250"):
        assert plan_id in cat.plans
    assert cat.operator.name == "Nordvik Telecom AB"
    assert cat.operator.vat_rate == Decimal("0.25")
    assert cat.operator.ore_rounding is True


def test_the_shipped_catalogue_compiles_plans_to_ore_and_base_units():
    cat = load_catalogue(DEFAULT_CATALOGUE)
    plan = cat.plan("mobil-5gb")
    assert plan.monthly_fee_ore == 19_900
    assert plan.allowances["data"].amount == 5_000_000_000  # 5 GB, decimal units
    assert plan.allowances["voice"].amount == UNLIMITED
    assert plan.tariff is not None and plan.tariff.id == "mobil"
    bas = cat.plan("mobil-bas")
    assert bas.allowances["voice"].amount == 300 * 60  # 300 min in seconds
    assert bas.allowances["sms"].amount == 100
    assert cat.plan("bredband-100").tariff is None  # broadband has no usage tariff
    assert cat.plan("bredband-250").monthly_fee_ore == 44_900


def test_the_shipped_catalogue_matches_the_longest_prefix():
    cat = load_catalogue(DEFAULT_CATALOGUE)
    assert cat.destination_of("+46701234567").id == "se-mobile"
    assert cat.destination_of("+46812345678").id == "se-fixed"
    assert cat.destination_of("+46900123456").id == "se-premium"  # +46900 beats +469
    assert cat.destination_of("+4720123456").id == "nordic"
    assert cat.destination_of("+12125550100").id == "world-1"


def test_remembered_destinations_give_the_same_answers_when_the_memory_fills(monkeypatch):
    import backend_stub.domain.catalogue.values as catalogue_module  # where the compiled catalogue lives

    monkeypatch.setattr(catalogue_module, "DESTINATION_CACHE_SIZE", 2)
    cat = load_catalogue(DEFAULT_CATALOGUE)
    numbers = ["+46701234567", "+46812345678", "+46900123456", "+4720123456", "+12125550100", "+999"]
    first = [getattr(cat.destination_of(n), "id", None) for n in numbers]
    again = [getattr(cat.destination_of(n), "id", None) for n in reversed(numbers)][::-1]
    assert first == again == ["se-mobile", "se-fixed", "se-premium", "nordic", "world-1", "world-2"]
    assert len(cat._destination_cache) <= 2


def test_the_shipped_catalogue_has_a_default_roaming_zone():
    cat = load_catalogue(DEFAULT_CATALOGUE)
    assert cat.zone_of("ES").eu
    assert cat.zone_of("US").id == "zone-1"
    assert cat.zone_of("JP").id == "zone-2"  # countries = ["*"]


def test_the_shipped_catalogue_prices_voice_per_second_exactly():
    cat = load_catalogue(DEFAULT_CATALOGUE)
    rate = cat.tariffs["mobil"].rates[("voice", "se-mobile")]
    assert (rate.first_block, rate.next_block) == (60, 1)
    assert Decimal(rate.exact_per_unit) / EXACT_PER_KR == Decimal("0.0115")  # 0.69 kr/min


# --------------------------------------------------------------------------- the golden catalogue


def test_the_golden_catalogue_loads():
    cat = load_catalogue(GOLDEN)
    assert sorted(cat.plans) == ["bredband", "liten", "obegransad", "rorlig", "stor"]
    assert cat.destination_of("+46771234567").id == "service"
    assert cat.destination_of("+46812345678").id == "se-fast"
    assert cat.destination_of("+46900123456").id == "betal"
    assert cat.destination_of("+442012345678") is None  # no prefix matches: never free
    assert cat.zone_of("JP") is None  # no "*" zone in the golden catalogue
    assert cat.roaming.wholesale_cap(2026) == Decimal("1.00")
    assert cat.roaming.wholesale_cap(2030) == Decimal("1.00")  # latest known year
    assert cat.roaming.data_spend_limit_ore == 10_000
    rate = cat.tariffs["test"].rates[("voice", "norden")]
    assert rate.connection_fee_exact == 50 * EXACT_PER_KR // 100  # 0.50 kr
    assert Decimal(rate.offpeak_exact_per_unit) / EXACT_PER_KR == Decimal("0.01")  # 0.60 kr/min


def test_catalogue_plan_names_an_unknown_plan():
    cat = load_catalogue(GOLDEN)
    with pytest.raises(KeyError, match="unknown plan 'mobi'"):
        cat.plan("mobi")


# --------------------------------------------------------------------------- broken catalogues


def test_unknown_tariff_in_a_plan():
    text = broken('tariff = "test"\nallowances = { data = "3 GB"', 'tariff = "tset"\nallowances = { data = "3 GB"')
    assert errors_of(text) == ["plans[1].tariff: unknown tariff 'tset'"]


def test_a_mobile_plan_without_a_tariff():
    text = broken('tariff = "test"\nallowances = { data = "3 GB"', 'allowances = { data = "3 GB"')
    assert errors_of(text) == ["plans[1].tariff: unknown tariff None"]


@pytest.mark.parametrize("written", ["49.00", "49"])
def test_a_plan_fee_written_as_a_toml_number(written):
    text = broken('monthly_fee = "49.00"', f"monthly_fee = {written}")
    [error] = errors_of(text)
    assert error.startswith("plans[0].monthly_fee: ")
    assert "string" in error


def test_a_rate_price_written_as_a_toml_float():
    text = broken('price = "0.0115"', "price = 0.0115")
    [error] = errors_of(text)
    assert error.startswith("tariffs[0].rates[1].price: ")
    assert "string" in error


def test_bad_voice_increment():
    text = broken(
        'increment = "60/1", allowance = "voice" },\n  { service = "voice", destination = "se-fast"',
        'increment = "60-60", allowance = "voice" },\n  { service = "voice", destination = "se-fast"',
    )
    assert errors_of(text) == ["tariffs[0].rates[0].increment: write voice increments as 'a/b', e.g. '60/60'"]


@pytest.mark.parametrize("increment", ['"0/60"', '"60/0"', "60", '"60/"'])
def test_other_bad_voice_increments(increment):
    text = broken(
        'increment = "60/60" },\n  { service = "voice", destination = "betal"',
        f'increment = {increment} }},\n  {{ service = "voice", destination = "betal"',
    )
    assert errors_of(text) == ["tariffs[0].rates[2].increment: write voice increments as 'a/b', e.g. '60/60'"]


@pytest.mark.parametrize("increment", ['"1 MB"', "0", '"²"', '"60/60"'])
def test_bad_data_increment(increment):
    text = broken("increment = 1000000, allowance", f"increment = {increment}, allowance")
    assert errors_of(text) == ["tariffs[0].rates[10].increment: data increment is a whole number of bytes ≥ 1"]


def test_an_sms_rate_has_no_increment():
    text = broken(
        '{ service = "sms", destination = "norden", price = "1.00", per = "message" }',
        '{ service = "sms", destination = "norden", price = "1.00", per = "message", increment = "1/1" }',
    )
    assert errors_of(text) == ["tariffs[0].rates[8].increment: sms is charged per message, no increment"]


def test_unknown_destination_in_a_rate():
    text = broken('destination = "usa", price', 'destination = "mars", price')
    assert errors_of(text) == ["tariffs[0].rates[5].destination: unknown destination 'mars'"]


def test_a_voice_rate_without_destination():
    text = broken('{ service = "voice", destination = "usa", price', '{ service = "voice", price')
    assert errors_of(text) == ["tariffs[0].rates[5].destination: unknown destination None"]


def test_a_data_rate_with_a_destination():
    text = broken('{ service = "data", price', '{ service = "data", destination = "usa", price')
    assert errors_of(text) == ["tariffs[0].rates[10].destination: data rates have no destination"]


def test_unknown_field():
    text = broken('name = "Rörlig"', 'name = "Rörlig"\ncolour = "red"')
    assert errors_of(text) == ["plans[0].colour: unknown field"]


def test_unknown_field_in_a_rate():
    text = broken('price = "3.00", per = "minute"', 'price = "3.00", prise = "3.00", per = "minute"')
    assert errors_of(text) == ["tariffs[0].rates[5].prise: unknown field"]


def test_duplicate_prefix():
    text = broken('prefixes = ["+468"]', 'prefixes = ["+468", "+467"]')
    assert errors_of(text) == ["destinations[1].prefixes: +467 is already used by destination 'se-mobil'"]


def test_a_prefix_that_is_not_e164():
    text = broken('prefixes = ["+468"]', 'prefixes = ["08"]')
    [error] = errors_of(text)
    assert error.startswith("destinations[1].prefixes: ")
    assert "'08' must be '+' and digits" in error


@pytest.mark.parametrize("code", ["usa", "us", "U1"])
def test_bad_country_code(code):
    text = broken('countries = ["US", "CH"]', f'countries = ["US", "{code}"]')
    assert errors_of(text) == [f"roaming_zones[1].countries: {code!r} is not an ISO 3166-1 alpha-2 code"]


def test_a_country_in_two_zones():
    text = broken('countries = ["US", "CH"]', 'countries = ["US", "ES"]')
    assert errors_of(text) == ["roaming_zones[1].countries: ES is already in zone 'eu'"]


def test_sweden_is_not_a_roaming_country():
    text = broken('countries = ["US", "CH"]', 'countries = ["US", "SE"]')
    assert errors_of(text) == ["roaming_zones: SE is the home network, not a roaming country"]


def test_a_per_gb_price_with_too_many_decimals():
    text = broken('price = "10.00", per = "GB"', 'price = "10.001", per = "GB"')
    assert errors_of(text) == [
        "tariffs[0].rates[10].price: 10.001 kr per GB cannot be charged exactly; use fewer decimals"
    ]


def test_a_price_with_more_than_four_decimals():
    text = broken('price = "0.0115"', 'price = "0.01150"')
    assert errors_of(text) == ["tariffs[0].rates[1].price: '0.01150' has more than 4 decimals"]


def test_a_plan_fee_with_a_fraction_of_an_ore():
    text = broken('monthly_fee = "49.00"', 'monthly_fee = "49.005"')
    [error] = errors_of(text)
    assert error.startswith("plans[0].monthly_fee: ")


def test_a_negative_price():
    text = broken('price = "3.00", per = "minute"', 'price = "-3.00", per = "minute"')
    assert errors_of(text) == ["tariffs[0].rates[5].price: must not be negative"]


def test_a_price_unit_that_does_not_fit_the_service():
    text = broken(
        '{ service = "sms", destination = "norden", price = "1.00", per = "message" }',
        '{ service = "sms", destination = "norden", price = "1.00", per = "minute" }',
    )
    assert errors_of(text) == ["tariffs[0].rates[8].per: sms is priced per message"]


def test_a_connection_fee_on_sms():
    text = broken(
        '{ service = "sms", destination = "betal", price = "5.00", per = "message" }',
        '{ service = "sms", destination = "betal", price = "5.00", per = "message", connection_fee = "1" }',
    )
    assert errors_of(text) == ["tariffs[0].rates[7].connection_fee: only voice rates have a connection fee"]


def test_missing_required_field():
    text = broken('name = "Golden Telecom AB"\n', "")
    assert errors_of(text) == ["operator.name: required field is missing"]


def test_missing_plan_fee():
    text = broken('monthly_fee = "300.00"\n', "")
    assert errors_of(text) == ["plans[4].monthly_fee: required field is missing"]


def test_bad_allowance():
    text = broken('data = "3 GB"', 'data = "3 TB"')
    assert errors_of(text) == [
        "plans[1].allowances.data: '3 TB' is not an allowance; write 'N GB', 'N MB', 'N kB' or 'unlimited'"
    ]


def test_unknown_allowance_pool():
    text = broken('data = "3 GB"', 'data = "3 GB", fax = "10"')
    [error] = errors_of(text)
    assert error.startswith("plans[1].allowances.fax: unknown allowance pool 'fax'")


def test_bad_bankgiro():
    text = broken('bankgiro = "5050-1055"', 'bankgiro = "50501055"')
    [error] = errors_of(text)
    assert error.startswith("operator.bankgiro: ")
    assert "5050-1055" in error


def test_duplicate_plan_id():
    text = broken('id = "stor"', 'id = "liten"')
    assert errors_of(text) == ["plans[2].id: duplicate plan 'liten'"]


def test_a_non_eu_zone_needs_all_four_services():
    text = broken('  { service = "mms", price = "3.00", per = "message" },\n', "")
    assert errors_of(text) == ["roaming_zones[1].rates: no mms rate (a zone outside the EU/EEA needs all four)"]


@pytest.mark.parametrize("calls_as", ["norden", "finns-inte"])
def test_eu_roaming_calls_are_priced_as_a_domestic_class(calls_as):
    text = broken('eu_roaming_calls_as = "se-mobil"', f'eu_roaming_calls_as = "{calls_as}"')
    assert errors_of(text) == [f"settings.eu_roaming_calls_as: {calls_as!r} is not a domestic destination class"]


def test_only_an_international_class_holds_eea_numbers():
    text = broken('prefixes = ["+468"]', 'prefixes = ["+468"]\neea = true')
    assert errors_of(text) == ["destinations[1].eea: only an international class is marked as EU/EEA numbers"]


def test_the_shipped_catalogue_roams_like_at_home_to_eea_numbers():
    cat = load_catalogue(DEFAULT_CATALOGUE)
    assert cat.roaming.calls_as == "se-mobile"
    assert cat.destination_of("+4930123456").eea and cat.destination_of("+4791234567").eea
    assert not cat.destination_of("+441234567890").eea and not cat.destination_of("+41441234567").eea


def test_the_fair_use_surcharge_may_not_exceed_the_wholesale_cap():
    # Cap 1.00 EUR/GB × 10.00 kr/EUR = 10 kr ex VAT = 12.50 kr incl. 25 % VAT; 13.00 is above it.
    text = broken('price = "12.00", per = "GB"', 'price = "13.00", per = "GB"')
    assert errors_of(text) == ["settings.eu_fair_use_surcharge: above the regulated wholesale cap"]


def test_the_fair_use_surcharge_is_checked_against_the_lowest_listed_cap():
    # 2025: 1.30 EUR → 16.25 kr incl. VAT; 2026: 1.00 EUR → 12.50 kr. 13.00 kr would break the 2026 cap.
    text = broken('{ 2026 = "1.00" }', '{ 2025 = "1.30", 2026 = "1.00" }')
    assert parse_catalogue_text(text).roaming.wholesale_cap(2025) == Decimal("1.30")
    text = text.replace('price = "12.00", per = "GB"', 'price = "13.00", per = "GB"')
    assert errors_of(text) == ["settings.eu_fair_use_surcharge: above the regulated wholesale cap"]


def test_a_plan_at_zero_percent_vat_keeps_its_rate():
    cat = parse_catalogue_text(broken('monthly_fee = "300.00"', 'monthly_fee = "300.00"\nvat_rate = "0"'))
    assert cat.plan("bredband").vat_rate == Decimal("0")
    assert cat.plan("rorlig").vat_rate == Decimal("0.25")  # the operator's rate


def test_a_plan_with_its_own_vat_rate():
    cat = parse_catalogue_text(broken('monthly_fee = "300.00"', 'monthly_fee = "300.00"\nvat_rate = "0.06"'))
    assert cat.plan("bredband").vat_rate == Decimal("0.06")


def test_an_operator_at_zero_percent_vat_keeps_its_rate():
    # Without VAT the surcharge may be at most the cap itself: 1.00 EUR × 10.00 = 10.00 kr.
    text = broken('vat_rate = "0.25"', 'vat_rate = "0"')
    text = text.replace('price = "12.00", per = "GB"', 'price = "10.00", per = "GB"')
    cat = parse_catalogue_text(text)
    assert cat.operator.vat_rate == Decimal("0")
    assert cat.plan("rorlig").vat_rate == Decimal("0")


def test_a_discount_with_both_percent_and_amount():
    text = broken('percent = "50"', 'percent = "50"\namount = "10.00"')
    assert errors_of(text) == ["discounts[1]: give exactly one of percent or amount"]


def test_a_discount_above_100_percent():
    text = broken('percent = "50"', 'percent = "150"')
    assert errors_of(text) == ["discounts[1].percent: must be above 0 and at most 100"]


def test_an_off_peak_band_with_a_bad_time():
    text = broken('from = "18:00"', 'from = "25:00"')
    assert errors_of(text) == ["tariffs[0].offpeak.weekdays.from: '25:00' is not a time like '18:00'"]


def test_an_addon_for_an_unknown_plan():
    text = GOLDEN_TEXT + '\n[[addons]]\nid = "extra"\nname = "Extra 1 GB"\nprice = "19.00"\nplans = ["mobi"]\n'
    assert errors_of(text) == ["addons[0].plans: unknown plan 'mobi'"]


def test_every_error_is_reported_at_once():
    text = broken('tariff = "test"\nallowances = { data = "3 GB"', 'tariff = "tset"\nallowances = { data = "3 GB"')
    text = text.replace('destination = "usa", price', 'destination = "mars", price', 1)
    assert sorted(errors_of(text)) == [
        "plans[1].tariff: unknown tariff 'tset'",
        "tariffs[0].rates[5].destination: unknown destination 'mars'",
    ]


def test_text_that_is_not_toml_names_the_line():
    [error] = errors_of(broken("[settings]", "[settings"))
    assert error.startswith("not valid TOML: ")
    line_of_settings = GOLDEN_TEXT.splitlines().index("[settings]") + 1
    assert re.search(rf"line {line_of_settings}\b", error)


def test_a_file_that_is_not_toml_names_the_file(tmp_path):
    path = tmp_path / "trasig.toml"
    path.write_text("[operator\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"trasig\.toml: not valid TOML: .*line 1"):
        load_catalogue(path)


# --------------------------------------------------------------------------- allowances


@pytest.mark.parametrize(
    ("pool", "text", "amount", "label"),
    [
        ("data", "5 GB", 5_000_000_000, "5 GB"),
        ("data", "500MB", 500_000_000, "500 MB"),
        ("voice", "300 min", 18_000, "300 min"),
        ("sms", "100", 100, "100 st"),
        ("sms", "unlimited", UNLIMITED, "obegränsat"),
        ("data", "obegränsat", UNLIMITED, "obegränsat"),
    ],
)
def test_parse_allowance(pool, text, amount, label):
    allowance = parse_allowance(pool, text, field="f")
    assert allowance.amount == amount
    assert allowance.label == label


def test_parse_allowance_refuses_minutes_of_data():
    with pytest.raises(CatalogueError, match=r"plans\[0\]\.allowances\.data: '5 min' is not an allowance"):
        parse_allowance("data", "5 min", field="plans[0].allowances.data")


def test_several_independent_errors_in_different_sections_are_all_reported_with_their_lines(tmp_path):
    text = broken('bankgiro = "5050-1055"', 'bankgiro = "5050"')  # [operator]: fails the schema
    text = text.replace('monthly_fee = "100.00"', 'monthly_fee = "100,00 kr"', 1)  # [[plans]] 1: not a price
    text = text.replace('destination = "usa", price', 'destination = "mars", price', 1)  # [[tariffs]]: unknown
    text = text.replace('monthly_fee = "250.00"', 'monthly_fee = "250.00"\ncolour = "red"', 1)  # plans[2]: schema
    errors = errors_of(text)
    assert len(errors) == 4, errors
    assert "operator.bankgiro: Value error, a Bankgiro number looks like 5050-1055" in errors
    assert "plans[2].colour: unknown field" in errors
    assert any(e.startswith("plans[1].monthly_fee: '100,00 kr'") for e in errors)
    assert "tariffs[0].rates[5].destination: unknown destination 'mars'" in errors
    path = tmp_path / "several.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    lines = text.splitlines()
    fee_line = lines.index('monthly_fee = "100,00 kr"') + 1
    [fee] = [e for e in info.value.located if e.startswith("plans[1].monthly_fee")]
    assert fee.endswith(f"(line {fee_line}, id 'liten')")
    [mars] = [e for e in info.value.located if "mars" in e]
    assert f"line {next(n for n, ln in enumerate(lines, 1) if 'mars' in ln)}" in mars


def test_a_plan_on_a_tariff_that_fails_the_schema_is_not_reported_as_unknown():
    text = broken('[[tariffs]]\nid = "test"', '[[tariffs]]\nid = "test"\ncolour = "red"')
    assert errors_of(text) == ["tariffs[0].colour: unknown field"]


def test_a_prorated_allowance_is_labelled_in_a_readable_unit():
    from backend_stub.domain.catalogue import UNLIMITED, allowance_label

    assert allowance_label("data", 2_500_000_000) == "2,5 GB"
    assert allowance_label("data", 1_129_032_258) == "1,12 GB"  # two decimals at most, rounded down
    assert allowance_label("data", 333_333_333) == "333,33 MB"
    assert allowance_label("voice", 290) == "4,83 min"
    assert allowance_label("sms", 33) == "33 st"
    assert allowance_label("data", UNLIMITED) == "obegränsat"


# --------------------------------------------------------------------------- control characters


def test_a_nul_escape_in_a_text_is_refused_naming_the_field():
    text = broken('name = "Rörlig"', 'name = "Rör\\u0000lig"')  # valid TOML: the escape makes a NUL
    [error] = errors_of(text)
    assert error == "plans[0].name: a control character (U+0000) is not allowed in text"
    with pytest.raises(CatalogueError) as info:
        parse_catalogue_text(text)
    line = GOLDEN_TEXT.splitlines().index('name = "Rörlig"') + 1
    assert info.value.located == [f"{error} (line {line}, id 'rorlig')"]


@pytest.mark.parametrize("escape", ["\\u001b[31m", "\\t", "\\n", "\\u007f", "\\u0085"])
def test_other_control_characters_are_refused_too(escape):
    assert errors_of(broken('name = "Sverige fast"', f'name = "Sverige{escape}fast"')) == [
        f"destinations[1].name: a control character (U+{ord(escape.encode().decode('unicode_escape')[0]):04X})"
        " is not allowed in text"
    ]


def test_a_control_character_in_a_key_or_a_table_is_refused():
    errors = errors_of(broken('name = "Rörlig"', 'name = "Rörlig"\n"col\\u0000our" = "red"'))
    assert "plans[0].col\\x00our: a control character (U+0000) is not allowed in a key" in errors
    # The table's own problems are reported with it (the file is refused once, with everything in it).
    assert "plans[0].col\\x00our: unknown field" in errors
    assert errors_of(broken('name = "Golden Telecom AB"', 'name = "Golden\\u0007 Telecom AB"')) == [
        "operator.name: a control character (U+0007) is not allowed in text"
    ]


def test_a_refused_catalogue_leaves_nothing_behind(tmp_path):
    from sqlalchemy import func, select

    from backend_stub.core import Core
    from backend_stub.storage.db import make_engine
    from backend_stub.storage.models import billing as m

    core = Core(make_engine(f"sqlite:///{tmp_path / 'c.db'}"))
    core.load_catalogue(GOLDEN_TEXT, "golden.toml")
    with pytest.raises(CatalogueError, match=r"plans\[0\]\.name"):
        core.load_catalogue(broken('name = "Rörlig"', 'name = "Rör\\u0000lig"'), "bad.toml")
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.CatalogueVersion)).scalar_one() == 1
    assert core.catalogue.plans["rorlig"].name == "Rörlig"
    path = tmp_path / "bad.toml"
    path.write_text(broken('name = "Rörlig"', 'name = "Rör\\u0000lig"'), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"plans\[0\]\.name: a control character"):
        load_catalogue(path)
