"""A payment confirmed for an invoice already settled (rules §6): recorded, never lost, never a silent
negative balance: the customer's credit balance with a timeline entry and an entry in the agents' queue,
or paid back at once when the operator chose ``dunning.overpayment = "refund"``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend_stub.domain.lifecycle_terms import ConfigError
from backend_stub.services.lifecycle import ledger, payments
from backend_stub.services.lifecycle.lifecycle_config import from_toml
from backend_stub.storage.models import billing as m
from tests.conftest import token_for
from tests.services.lifecycle.test_pay_many import _account, _deliver, _pay_all, _state, api, cfg  # noqa: F401 (fixtures)


def _pay_twice(api, core, auth):  # noqa: F811
    """The September invoice paid through two checkouts: the first confirmed after the second paid it."""
    cid, sep, _oct = _account(core, "K1")
    me = token_for(auth, "subscriber", cid)
    first = api.post(f"/invoices/{sep.id}/pay", headers=me, json={"return_url": "/back"}).json()
    signature, body = api.app.state.paygw.complete(first["checkout_path"].rsplit("/", 1)[1], "card")
    second = _pay_all(api, me, cid)
    assert api.post(second["checkout_path"], data={"method": "card"}).status_code == 303
    assert _deliver(api, signature, body) == "recorded"
    return cid, sep, first


def test_the_surplus_is_credit_with_a_timeline_entry_and_in_the_agents_queue(api, core, auth):  # noqa: F811
    cid, sep, first = _pay_twice(api, core, auth)
    assert _state(core, sep.id).balance_ore == -first["amount_ore"]
    with core.engine.connect() as conn:
        kinds = [
            e.kind
            for e in conn.execute(
                select(m.InvoiceEvent).where(m.InvoiceEvent.invoice_id == sep.id).order_by(m.InvoiceEvent.id)
            )
        ]
    assert kinds[-1] == "overpaid"
    doc = api.get(f"/invoices/{sep.id}", headers=token_for(auth, "subscriber", cid), params={"lang": "en"}).json()
    entry = next(e for e in doc["timeline"] if e["kind"] == "overpaid")
    assert "credit balance" in entry["text"] and doc["state"]["owed_to_customer_ore"] == first["amount_ore"]
    assert doc["state"]["to_pay_ore"] == 0 and doc["state"]["payable"] is False
    queue = payments.list_unmatched(core.engine)["items"]
    item = next(i for i in queue if i["kind"] == "overpaid")
    assert item["invoice_id"] == sep.id and item["amount_ore"] == first["amount_ore"]
    # Once an agent pays it back, it leaves the queue.
    payments.refund_credit(core.engine, cid, first["amount_ore"], actor="agent:anna", reference="r1")
    assert not [i for i in payments.list_unmatched(core.engine)["items"] if i["kind"] == "overpaid"]
    assert _state(core, sep.id).balance_ore == 0


@pytest.fixture
def refund_setting(tmp_path, env):
    """The operator's lifecycle file says ``refund``, before the app (which reads its settings once) is made."""
    config = tmp_path / "lifecycle.toml"
    config.write_text('[dunning]\noverpayment = "refund"\n', encoding="utf-8")
    env.set("SELFCARE_LIFECYCLE_CONFIG", str(config))


def test_refund_as_the_operators_setting(refund_setting, api, core, auth):  # noqa: F811
    cid, sep, first = _pay_twice(api, core, auth)
    assert api.app.state.paygw.overpayment == "refund"
    assert _state(core, sep.id).balance_ore == 0  # paid back at once
    with core.engine.connect() as conn:
        assert ledger.customer_credit_balance(conn, cid) == 0
        refunds = [p.amount_ore for p in conn.execute(select(m.Payment).where(m.Payment.method == "refund"))]
    assert refunds == [-first["amount_ore"]]
    assert not [i for i in payments.list_unmatched(core.engine)["items"] if i["kind"] == "overpaid"]


def test_the_setting_is_checked():
    assert from_toml({"dunning": {"overpayment": "refund"}}).dunning.overpayment == "refund"
    try:
        from_toml({"dunning": {"overpayment": "keep"}})
    except ConfigError as exc:
        assert "dunning.overpayment" in str(exc)
    else:
        raise AssertionError("an unknown overpayment mode was accepted")


def test_a_control_character_in_the_lifecycle_file_is_refused_naming_the_field():
    try:
        from_toml({"sending": {"public_url": "https://example.se/\x00"}})
    except ConfigError as exc:
        assert str(exc) == "sending.public_url: a control character (U+0000) is not allowed in text"
    else:
        raise AssertionError("a NUL in the lifecycle file was accepted")
