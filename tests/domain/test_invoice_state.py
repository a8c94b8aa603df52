"""One state of an invoice (``backend_stub.domain.invoice_state``): what every screen and document says about its money."""

from __future__ import annotations

from datetime import date

from backend_stub.domain.invoice_state import CreditNote, Facts, NextStep, Payment, describe, overdue_summary, status_of
from selfcare import presenters
from selfcare.invoice_view import invoice_view

TODAY = date(2026, 12, 5)
DUE = date(2026, 8, 31)


def _facts(**kw) -> Facts:
    base = dict(kind="invoice", number="100234", amount_due_ore=54800, due_date=DUE, status="unpaid", balance_ore=54800)
    base.update(kw)
    return Facts(**base)


def test_paid_says_when_and_how_and_asks_for_nothing():
    st = describe(
        _facts(status="paid", balance_ore=0, paid_ore=54800, payments=(Payment(date(2026, 12, 5), "card", 54800),)),
        TODAY,
    )
    assert st["paid"] == {"on": "2026-12-05", "method": "card", "amount_ore": 54800}
    assert st["to_pay_ore"] == 0 and st["payable"] is False and st["open"] is False
    assert st["next_step"] is None and st["days_overdue"] == 0
    assert presenters.state_line(st, "sv") == "Betald 5 december 2026 med kort"
    assert presenters.state_line(st, "en") == "Paid 5 December 2026 by card"


def test_the_last_payment_names_the_method():
    st = describe(
        _facts(
            status="paid",
            balance_ore=0,
            paid_ore=54800,
            payments=(Payment(date(2026, 9, 1), "bankgiro", 20000), Payment(date(2026, 9, 20), "swish", 34800)),
        ),
        TODAY,
    )
    assert st["paid"]["on"] == "2026-09-20" and st["paid"]["method"] == "swish"


def test_credited_headline_is_the_amount_after_its_credit_notes():
    st = describe(
        _facts(
            status="unpaid",
            due_date=date(2026, 12, 31),
            balance_ore=49800,
            credited_ore=5000,
            credit_notes=(CreditNote("cn1", "900001", date(2026, 12, 2), 5000),),
        ),
        TODAY,
    )
    assert st["amount_ore"] == 49800 and st["original_amount_ore"] == 54800
    assert st["to_pay_ore"] == 49800 and st["payable"]
    assert st["credit_notes"] == [{"id": "cn1", "number": "900001", "on": "2026-12-02", "amount_ore": 5000}]
    view = invoice_view({"kind": "invoice", "amount_due_ore": 54800, "balance_ore": 49800, "state": st}, "sv")
    assert view["amount"] == "498,00\u00a0kr" and view["original_amount"] == "548,00\u00a0kr"
    assert view["show_balance"] is False  # the headline already is what is left to pay
    assert view["credit_notes"][0]["amount"] == "-50,00\u00a0kr"


def test_overdue_counts_days_and_tells_the_next_step():
    st = describe(
        _facts(
            status="reminded", balance_ore=60800, fees_ore=6000, next_step=NextStep(date(2026, 12, 14), "collection")
        ),
        TODAY,
    )
    assert st["overdue"] and st["days_overdue"] == 96 and st["to_pay_ore"] == 60800
    assert presenters.state_line(st, "sv") == "Förföll 31 augusti 2026 · 96 dagar sedan"
    assert presenters.state_line(st, "en") == "Was due 31 August 2026 · 96 days ago"
    assert "14 december 2026" in presenters.next_step_line(st, "sv")
    view = invoice_view({"kind": "invoice", "amount_due_ore": 54800, "balance_ore": 60800, "state": st}, "sv")
    assert view["show_balance"] and view["balance"] == "608,00\u00a0kr" and view["fees"] == "60,00\u00a0kr"


def test_a_coming_automatic_draw_hides_the_pay_button():
    st = describe(
        _facts(
            due_date=date(2026, 12, 31),
            autopay={"method": "autogiro", "status": "scheduled", "draw_date": "2026-12-31"},
        ),
        TODAY,
    )
    assert st["open"] and st["to_pay_ore"] == 54800 and st["payable"] is False


def test_carried_and_written_off_ask_for_nothing():
    carried = describe(_facts(status="carried", balance_ore=0, carried_to="100240"), TODAY)
    assert carried["carried_to"] == "100240" and not carried["payable"] and carried["to_pay_ore"] == 0
    assert "100240" in presenters.state_line(carried, "sv")
    off = describe(_facts(status="written_off", balance_ore=0), TODAY)
    assert off["written_off"] and off["to_pay_ore"] == 0


def test_money_owed_to_the_customer_is_shown_not_asked_for():
    st = describe(
        _facts(
            status="paid", balance_ore=-5000, paid_ore=59800, payments=(Payment(date(2026, 9, 1), "bankgiro", 59800),)
        ),
        TODAY,
    )
    assert st["owed_to_customer_ore"] == 5000 and st["to_pay_ore"] == 0


def test_status_rules():
    args = dict(kind="invoice", amount_due_ore=54800, due_date=DUE, paid_ore=0, credited_ore=0, flags=set())
    assert status_of(**args, balance_ore=54800, today=DUE) == "unpaid"
    assert status_of(**args, balance_ore=54800, today=TODAY) == "overdue"
    assert status_of(**{**args, "flags": {"reminder_sent"}}, balance_ore=54800, today=TODAY) == "reminded"
    assert status_of(**{**args, "paid_ore": 100}, balance_ore=54700, today=DUE) == "partly_paid"
    assert status_of(**{**args, "credited_ore": 5000}, balance_ore=49800, today=DUE) == "unpaid"
    assert status_of(**{**args, "credited_ore": 54800}, balance_ore=0, today=TODAY) == "credited"


def test_overdue_summary():
    a = describe(_facts(status="overdue", balance_ore=54800), TODAY)
    b = describe(_facts(status="reminded", due_date=date(2026, 10, 31), balance_ore=66000, fees_ore=6000), TODAY)
    c = describe(_facts(status="unpaid", due_date=date(2026, 12, 31)), TODAY)
    s = overdue_summary([a, b, c])
    assert s == {"count": 2, "total_ore": 120800, "oldest_days": 96, "fees_ore": 6000}
