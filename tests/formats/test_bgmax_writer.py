"""The BgMax writer (the bank side, used by the demo's year): what it writes, ``parse_bgmax`` reads back."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from backend_stub.formats.bgmax import BgPayment, Deposit, parse_bgmax, write_bgmax


def _payment(reference: str, amount_ore: int, serial: int, name: str = "") -> BgPayment:
    return BgPayment(
        line_no=0,
        record_type="20",
        payer_bankgiro="",
        reference=reference,
        amount_ore=amount_ore,
        reference_code="2",
        channel_code="1",
        bgc_serial=f"{serial:012d}",
        has_image=False,
        name=name,
    )


def test_written_file_reads_back_with_its_totals() -> None:
    deposits = [
        Deposit(
            0,
            "0050501055",
            "",
            "SEK",
            [_payment("1000017", 24_900, 1, "Åsa Öberg"), _payment("1000025", 10_000, 2)],
            bank_account="5841000001009823",
            payment_date=date(2026, 3, 2),
            deposit_serial="00001",
        ),
        Deposit(
            0,
            "0050501055",
            "",
            "SEK",
            [_payment("9999999", 5_000, 3)],
            bank_account="5841000001009823",
            payment_date=date(2026, 3, 3),
            deposit_serial="00002",
        ),
    ]
    data = write_bgmax(deposits, created_at=datetime(2026, 3, 3, 18, 0, 1, 250))
    assert all(len(line) == 80 for line in data.decode("iso-8859-1").splitlines())
    f = parse_bgmax(data)
    assert (f.test, f.created_at, f.payment_records, f.warnings) == (False, datetime(2026, 3, 3, 18, 0, 1, 250), 3, [])
    assert [(d.payment_date, d.amount_ore, d.payment_count, d.deposit_serial) for d in f.deposits] == [
        (date(2026, 3, 2), 34_900, 2, "00001"),
        (date(2026, 3, 3), 5_000, 1, "00002"),
    ]
    first = f.deposits[0].payments[0]
    assert (first.references, first.amount_ore, first.name, first.bgc_serial) == (
        ["1000017"],
        24_900,
        "Åsa Öberg",
        "000000000001",
    )


def test_a_value_that_does_not_fit_is_an_error_naming_the_field() -> None:
    dep = Deposit(
        0, "0050501055", "", "SEK", [_payment("1" * 26, 100, 1)], payment_date=date(2026, 3, 2), deposit_serial="00001"
    )
    with pytest.raises(ValueError, match="^reference: at most 25 characters"):
        write_bgmax([dep], created_at=datetime(2026, 3, 2))
