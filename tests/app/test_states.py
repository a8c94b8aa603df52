"""The app's states, handlers called directly as the browser would (any handler, any argument)."""

from __future__ import annotations

import time

from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.invoices.state import InvoicesState
from selfcare.pages.login.state import LoginState
from selfcare.pages.overview.state import OverviewState
from selfcare.pages.usage.state import UsageState
from selfcare.state.session import LOGIN_ROUTE, SessionState
from tests.app.conftest import drain, fresh_states, handed_off, latest_code, run, subscriber_token, substate


def _signed_in(customer_id: int = 1):
    root = fresh_states()
    session = substate(root, SessionState)
    session._start(
        {
            "access_token": subscriber_token(customer_id),
            "expires_at": time.time() + 600,
            "customer_id": customer_id,
            "name": "Test",
            "customer_number": f"K{100000 + customer_id}",
        }
    )
    return root, session


def _redirects(updates) -> bool:
    return any("_redirect" in repr(u) for u in updates)


def _ids(client, customer_id: int) -> list[str]:
    return [i["id"] for i in run(client.invoices(subscriber_token(customer_id), customer_id))["items"]]


def test_language_is_validated():
    session = substate(fresh_states(), SessionState)
    SessionState.set_lang.fn(session, "en")
    assert session.lang == "en" and session.t["Pay"] == "Pay"
    SessionState.set_lang.fn(session, "<script>")
    assert session.lang == "sv" and session.t["Pay"] == "Betala"


def test_sign_in_with_code_then_sign_out(client):
    root = fresh_states()
    login, session = substate(root, LoginState), substate(root, SessionState)
    run(drain(LoginState.request_code.fn(login, {"identifier": " K100001 "})))
    assert login.step == "code" and login.error == ""
    run(drain(LoginState.verify_code.fn(login, {"code": "12"})))
    assert "6" in login.error and not session.signed_in
    code = run(latest_code(client, "K100001"))
    updates = run(drain(LoginState.verify_code.fn(login, {"code": code})))
    assert session.signed_in and session._token_for_customer()[1] == 1
    assert handed_off(updates, session) == "/"  # by way of the cookie route (session_cookie), then the overview
    assert "_token" not in session.get_delta().get(session.get_full_name(), {})
    updates = run(drain(SessionState.sign_out.fn(session)))
    assert session._token_for_customer() == ("", 0) and not session.signed_in
    assert handed_off(updates, session, "end") == LOGIN_ROUTE  # the cookie is cleared on the way out


def test_wrong_code_is_refused(client):
    root = fresh_states()
    login, session = substate(root, LoginState), substate(root, SessionState)
    run(drain(LoginState.request_code.fn(login, {"identifier": "K100002"})))
    code = run(latest_code(client, "K100002"))
    run(drain(LoginState.verify_code.fn(login, {"code": "999999" if code != "999999" else "111111"})))
    assert login.error and not session.signed_in


def test_foreign_invoice_id_yields_nothing(client):
    foreign = _ids(client, 2)[0]
    root, _session = _signed_in(1)
    inv = substate(root, InvoiceState)
    run(drain(InvoiceState.open_invoice.fn(inv, foreign)))
    assert inv.not_found and inv.view == {} and inv.lines == [] and inv.timeline == [] and inv.qr_svg == ""
    # Not even through handlers that act on the current invoice.
    inv.current_id = foreign
    assert run(drain(InvoiceState.download_pdf.fn(inv))) and inv.view == {}
    run(drain(InvoiceState.open_line.fn(inv, 1)))
    assert not inv.drill_open and inv.drill_rows == []


def test_own_invoice_shows_everything(client):
    own = _ids(client, 1)[0]
    root, _session = _signed_in(1)
    inv = substate(root, InvoiceState)
    run(drain(InvoiceState.open_invoice.fn(inv, own)))
    assert not inv.not_found and inv.view["id"] == own
    assert inv.view["amount"].endswith("kr") and inv.view["ocr"] and inv.view["bankgiro"]
    assert inv.lines and inv.timeline and inv.qr_svg.startswith("<svg")
    usage_lines = [int(line["position"]) for line in inv.lines if line["drill"]]
    if usage_lines:
        run(drain(InvoiceState.open_line.fn(inv, usage_lines[0])))
        assert inv.drill_open and inv.drill_rows
    run(drain(InvoiceState.open_line.fn(inv, 999)))
    assert not inv.drill_open
    [download] = run(drain(InvoiceState.download_pdf.fn(inv)))
    assert "_download" in repr(download)


def test_link_session_sees_its_invoice_only(client):
    own = _ids(client, 1)
    link = run(client.create_link(subscriber_token(1), own[0]))
    opened = run(client.open_link(link["token"]))
    root = fresh_states()
    session = substate(root, SessionState)
    session._start(opened, scope_invoice=opened["invoice_id"])
    inv = substate(root, InvoiceState)
    run(drain(InvoiceState.open_invoice.fn(inv, own[0])))
    assert inv.view["id"] == own[0]
    run(drain(InvoiceState.open_invoice.fn(inv, own[1])))
    assert inv.not_found and inv.view == {}
    # A link session is not a sign-in: the customer pages send it to the sign-in page.
    assert session._token_for_customer() == ("", 0)
    assert _redirects(run(drain(InvoicesState.load.fn(substate(root, InvoicesState)))))


def test_expired_session_goes_back_to_sign_in(client):
    root, session = _signed_in(1)
    session._expires_at = time.time() - 1
    overview = substate(root, OverviewState)
    assert _redirects(run(drain(OverviewState.load.fn(overview))))
    assert session._token == "" and not session.signed_in


def test_overview_and_invoice_list(client):
    root, _session = _signed_in(1)
    overview = substate(root, OverviewState)
    run(drain(OverviewState.load.fn(overview)))
    assert overview.left_to_pay.endswith("kr") and overview.latest["id"]
    invoices = substate(root, InvoicesState)
    invoices.page_size = 2
    run(drain(InvoicesState.load.fn(invoices)))
    first_page = [r["id"] for r in invoices.rows]
    assert len(first_page) == 2 and invoices.total >= 3
    run(drain(InvoicesState.next_page.fn(invoices)))
    assert invoices.page == 1 and not set(first_page) & {r["id"] for r in invoices.rows}


def test_usage_page_refuses_unknown_periods(client):
    root, _session = _signed_in(1)
    usage = substate(root, UsageState)
    run(drain(UsageState.load.fn(usage)))
    assert usage.period == usage._periods[0] and usage.summary_lines  # this period first (issue 16)
    run(drain(UsageState.choose_period.fn(usage, usage._periods[1])))  # the seeded usage ends last month
    chosen = usage.period
    assert usage.rows and usage.data_fig.data
    run(drain(UsageState.choose_period.fn(usage, "1999-01")))
    assert usage.period == chosen
    run(drain(UsageState.choose_service.fn(usage, "data")))
    assert usage.service == "data" and all(r["service"] == "Surf" for r in usage.rows)
    run(drain(UsageState.choose_service.fn(usage, "'; drop")))
    assert usage.service == ""
    [csv_event] = run(drain(UsageState.download_csv.fn(usage)))
    assert "_download" in repr(csv_event)


def test_itemised_usage_pages_on_request(client, monkeypatch):
    import selfcare.pages.invoice.state as invoice_state

    monkeypatch.setattr(invoice_state, "USAGE_PAGE", 2)
    root, _session = _signed_in(1)
    inv = substate(root, InvoiceState)
    for own in _ids(client, 1):
        run(drain(InvoiceState.open_invoice.fn(inv, own)))
        if inv.usage_total > 2:
            break
    assert inv.usage_total > 2 and len(inv.usage_rows) == 2, "the test data needs an invoice with 3+ records"
    while len(inv.usage_rows) < inv.usage_total:
        shown = len(inv.usage_rows)
        run(drain(InvoiceState.more_usage.fn(inv)))
        assert len(inv.usage_rows) > shown and inv.error == ""
    keys = [(r["at"], r["number"], r["amount"]) for r in inv.usage_rows]
    assert len(inv.usage_rows) == inv.usage_total
    run(drain(InvoiceState.more_usage.fn(inv)))  # nothing more: nothing changes
    assert [(r["at"], r["number"], r["amount"]) for r in inv.usage_rows] == keys
    assert len(set(keys)) > 1  # pages, not the first page again


def test_the_records_behind_a_line_page_on_request(client, monkeypatch):
    import selfcare.pages.invoice.state as invoice_state

    monkeypatch.setattr(invoice_state, "DRILL_PAGE", 1)

    def line_with_records(inv) -> bool:
        for line in (line for line in inv.lines if line["drill"]):
            run(drain(InvoiceState.open_line.fn(inv, int(line["position"]))))
            if inv.drill_total > 1:
                return True
        return False

    def find():
        for customer_id in (1, 2, 3, 4):
            root, _session = _signed_in(customer_id)
            inv = substate(root, InvoiceState)
            for own in _ids(client, customer_id):
                run(drain(InvoiceState.open_invoice.fn(inv, own)))
                if line_with_records(inv):
                    return inv
        raise AssertionError("the test data needs a specification line with 2+ records")

    inv = find()
    assert len(inv.drill_rows) == 1
    while len(inv.drill_rows) < inv.drill_total:
        shown = list(inv.drill_rows)
        run(drain(InvoiceState.more_drill.fn(inv)))
        assert inv.drill_rows[: len(shown)] == shown and len(inv.drill_rows) == len(shown) + 1
    run(drain(InvoiceState.more_drill.fn(inv)))
    assert len(inv.drill_rows) == inv.drill_total


def test_more_records_of_a_foreign_invoice_yield_nothing(client):
    foreign = _ids(client, 2)[0]
    root, _session = _signed_in(1)
    inv = substate(root, InvoiceState)
    inv.current_id, inv.usage_total, inv.drill_total, inv.drill_open = foreign, 50, 50, True
    inv._drill_position = 1
    run(drain(InvoiceState.more_usage.fn(inv)))
    run(drain(InvoiceState.more_drill.fn(inv)))
    assert inv.usage_rows == [] and inv.drill_rows == []
