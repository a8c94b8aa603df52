"""Bankgirot Autogiro files (new layout): Bankgirot's own example files read, written back
record for record, our files parsed back, and broken files refused naming line and field."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from backend_stub.formats import autogiro as ag
from tests.conftest import FIXTURES

EXAMPLES = FIXTURES / "autogiro"
WRITERS = {
    ag.RequestFile: ag.write_request,
    ag.MandateAdviceFile: ag.write_mandate_advice,
    ag.PaymentSpecFile: ag.write_payment_spec,
    ag.RejectedFile: ag.write_rejected,
}


def _records(data: bytes) -> list[str]:
    return [line.rstrip() for line in ag.decode(data).splitlines() if line.strip()]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.txt")))
def test_bankgirots_examples_are_read_and_written_back_record_for_record(name: str):
    data = (EXAMPLES / name).read_bytes()
    parsed = ag.parse(data)
    written = WRITERS[type(parsed)](parsed)
    assert _records(written) == _records(data)
    assert all(len(line) == ag.RECORD_LENGTH for line in ag.decode(written).split("\r\n")[:-1])
    assert ag.parse(written) == parsed


def test_mandate_advice_example_outcomes():
    f = ag.parse((EXAMPLES / "medgivandeavisering.txt").read_bytes())
    assert isinstance(f, ag.MandateAdviceFile)
    assert (f.written, f.customer_number, f.bankgiro) == (date(2008, 6, 11), "471117", "0009912346")
    outcomes = [(a.payer_number.lstrip("0"), a.info_code, a.comment_code, a.outcome) for a in f.advices]
    assert outcomes[0] == ("103", "04", "32", "approved")  # new mandate at our request
    assert outcomes[3] == ("2222101", "46", "02", "withdrawn")  # cancelled by the payer's bank
    assert outcomes[4] == ("102", "43", "07", "rejected")  # the account enquiry went unanswered
    assert outcomes[5] == ("3331022", "04", "29", "rejected")  # wrong payee bankgiro
    assert outcomes[6] == ("101", "42", "32", "approved")
    assert outcomes[1][3] == "withdrawn" and outcomes[8][3] == "renumbered"
    assert f.advices[0].account == "5001000001000020" and f.advices[0].personal_number == "196803050000"
    assert f.advices[1].account == "" and "cancelled" in f.advices[1].text


def test_payment_specification_example_statuses():
    f = ag.parse((EXAMPLES / "betalningsspecifikation.txt").read_bytes())
    assert isinstance(f, ag.PaymentSpecFile)
    assert f.written == datetime(2009, 11, 10, 19, 30, 55, 123456)
    incoming = f.sections[0]
    assert (incoming.record_type, incoming.amount_ore, incoming.count) == ("15", 1_500_000, 5)
    statuses = [(r.payer_number.lstrip("0"), r.amount_ore, r.status_code, r.approved) for r in incoming.results]
    assert statuses[0] == ("101", 300_000, "0", True)
    assert statuses[5] == ("106", 300_000, "1", False)  # insufficient funds
    assert statuses[6] == ("107", 300_000, "2", False)  # no Autogiro connection
    assert statuses[7] == ("2222101", 300_000, "9", False)  # renewed funds: Bankgirot tries again
    assert incoming.results[1].period_code == "5" and incoming.results[1].repetitions == "006"
    assert incoming.results[1].reference == "0000000FAKTNR156"
    refunds = [r for s in f.sections if s.record_type == "17" for r in s.results]
    assert [(r.refund_date, r.status_code) for r in refunds] == [(date(2009, 11, 10), "02"), (date(2009, 11, 10), "01")]


def test_rejected_orders_example_keeps_the_wrong_date_it_was_rejected_for():
    f = ag.parse((EXAMPLES / "avvisade_betalningsuppdrag.txt").read_bytes())
    assert isinstance(f, ag.RejectedFile)
    incoming = [o for o in f.orders if o.record_type == "82"]
    assert [(o.payer_number.lstrip("0"), o.amount_ore, o.comment_code) for o in incoming] == [
        ("3333", 7500, "02"),
        ("4444", 25000, "06"),
        ("5555", 55051, "08"),
    ]
    wrong = next(o for o in f.orders if o.comment_code == "12")
    assert wrong.payment_date is None and wrong.payment_date_raw == "20080633"
    assert "wrong payment date" in wrong.text


def test_request_example_records():
    mandates = ag.parse((EXAMPLES / "medgivandeunderlag.txt").read_bytes())
    assert isinstance(mandates, ag.RequestFile)
    kinds = [m.action for m in mandates.mandates]
    assert kinds == ["create"] * 3 + ["accept"] * 3 + ["reject"] * 2 + ["cancel"] * 2 + ["renumber"] * 3
    first = mandates.mandates[0]
    assert (first.clearing, first.account, first.personal_number) == ("3300", "1212121212", "191212121212")
    payments = ag.parse((EXAMPLES / "betalningsunderlag.txt").read_bytes())
    assert payments.payments[0].reference == "ÅRSKORT-2008" and payments.payments[0].amount_ore == 75000
    assert payments.payments[4].payment_date is None  # GENAST
    assert [p.direction for p in payments.payments].count("out") == 4


def test_our_files_are_parsed_back():
    f = ag.RequestFile(
        date(2026, 11, 25),
        "123456",
        "9912346",
        mandates=[
            ag.MandateRequest(
                "create", "10000101", clearing="8327", account="9384750001", personal_number="197001011234"
            ),
            ag.MandateRequest("cancel", "10000201"),
        ],
        payments=[ag.PaymentOrder(date(2026, 12, 1), "10000101", 24900, "1234567897")],
    )
    data = ag.write_request(f)
    assert data.endswith(b"\r\n") and all(len(line) == 80 for line in data.decode("latin-1").split("\r\n")[:-1])
    back = ag.parse(data)
    assert back.mandates[0].account16 == "8327009384750001"
    assert back.mandates[0].personal_number == "197001011234" and back.mandates[1].action == "cancel"
    assert back.payments == [ag.PaymentOrder(date(2026, 12, 1), "0000000010000101", 24900, "1234567897", line_no=4)]
    advice = ag.MandateAdviceFile(
        date(2026, 11, 26),
        "123456",
        "9912346",
        [
            ag.MandateAdvice(
                "0009912346", "10000101", "8327009384750001", "197001011234", "04", "32", date(2026, 11, 26)
            )
        ],
    )
    assert ag.parse(ag.write_mandate_advice(advice)).advices[0].outcome == "approved"
    spec = ag.PaymentSpecFile(
        datetime(2026, 12, 1, 6, 0),
        "123456",
        "9912346",
        [
            ag.PaymentSection(
                "15",
                "83270093847500010",
                date(2026, 12, 1),
                "00001",
                0,
                0,
                [
                    ag.PaymentResult("82", date(2026, 12, 1), "0", "", "10000101", 24900, "9912346", "1234567897", "0"),
                    ag.PaymentResult("82", date(2026, 12, 1), "0", "", "10000201", 100, "9912346", "1234567898", "1"),
                ],
            )
        ],
    )
    read = ag.parse(ag.write_payment_spec(spec))
    assert read.sections[0].amount_ore == 24900 and read.sections[0].count == 1
    assert [r.approved for r in read.results] == [True, False]


def test_values_that_do_not_fit_are_refused_naming_the_field():
    bad = ag.RequestFile(
        date(2026, 11, 25), "1234567", "9912346", payments=[ag.PaymentOrder(date(2026, 12, 1), "1" * 17, 0, "x" * 17)]
    )
    with pytest.raises(ag.AutogiroError) as exc:
        ag.write_request(bad)
    text = " ".join(exc.value.errors)
    for name in ("customer_number", "payer_number", "amount_ore", "reference"):
        assert name in text


def _example_lines(name: str) -> list[str]:
    return ag.decode((EXAMPLES / name).read_bytes()).splitlines()


@pytest.mark.parametrize(
    "name,line_no,change,message",
    [
        ("medgivandeavisering.txt", 2, lambda s: s[:65] + "2008X611", "line 2: date (positions 66-73)"),
        ("medgivandeavisering.txt", 12, lambda s: s[:20] + "9", "line 12: number of TK73 records"),
        ("medgivandeavisering.txt", 3, lambda s: "74" + s[2:], "line 3: transaction code '74'"),
        ("betalningsspecifikation.txt", 3, lambda s: s[:79] + "7", "line 3: status code (position 80)"),
        ("betalningsspecifikation.txt", 3, lambda s: s[:31] + "000000300001" + s[43:], "line 2: amount"),
        ("betalningsspecifikation.txt", 3, lambda s: s + "X", "line 3: the record is 81 characters"),
        ("avvisade_betalningsuppdrag.txt", 2, lambda s: s[:30] + "00000000750A" + s[42:], "line 2: amount"),
        ("avvisade_betalningsuppdrag.txt", 10, lambda s: "", "line 10: the closing record (TK09) is missing"),
    ],
)
def test_broken_files_name_the_line_and_field(name, line_no, change, message):
    lines = _example_lines(name)
    lines[line_no - 1] = change(lines[line_no - 1])
    with pytest.raises(ag.AutogiroError) as exc:
        ag.parse("\n".join(lines).encode("latin-1"))
    assert any(e.startswith(message) for e in exc.value.errors), exc.value.errors


def test_unknown_layouts_and_empty_files_are_refused():
    with pytest.raises(ag.AutogiroError, match="layout name"):
        ag.parse(b"01AUTOGIRO              20080611            SOMETHING ELSE      4711170009912346\n")
    with pytest.raises(ag.AutogiroError, match="empty"):
        ag.parse(b"\n\n")
    with pytest.raises(ag.AutogiroError, match="transaction code must be 01"):
        ag.parse(Path(EXAMPLES / "medgivandeavisering.txt").read_bytes().split(b"\n", 1)[1])
