"""Which periods a bill run may invoice: not before the operator's first subscription or charge (nor
2000-01), not after next month by the core's clock (frozen at 2026-12-05 in tests). At the API's edge
(422 naming ``period``), in the service and through the CLI.

Before: ``POST /bill-runs {"period": "1900-01"}`` made an invoice of 1900 with a phone's pay-off on it.
"""

from __future__ import annotations

import subprocess
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend_stub.api.app import create_app
from backend_stub.domain.periods import bill_run_period_problem
from backend_stub.services.billing import billrun
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.storage.models import billing as m
from backend_stub.storage.models import charges as cm
from tests.cli.runner import run_cli
from tests.conftest import FIXTURES, token_for


@pytest.fixture
def api(core, auth):
    with open(FIXTURES / "customers.csv", encoding="utf-8") as fh:  # the first subscription starts 2024-01-01
        assert import_customers(core.engine, core.catalogue, read_customers_csv(fh)).errors == []
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


def _ids(core) -> dict[str, int]:
    with core.engine.connect() as conn:
        out = {r[0]: r[1] for r in conn.execute(select(m.Customer.customer_number, m.Customer.id))}
        out |= {r[0]: r[1] for r in conn.execute(select(m.Subscription.subscription_number, m.Subscription.id))}
    return out


def _refused(r) -> str:
    assert r.status_code == 422, r.text
    [item] = r.json()["detail"]
    assert item["loc"] == ["body", "period"], item
    return item["msg"]


def _invoices(core) -> int:
    with core.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(m.Invoice)).scalar_one()


def test_a_period_of_1900_bills_nothing(api, auth, core):
    ids, agent, service = _ids(core), token_for(auth, "agent"), token_for(auth, "service")
    r = api.post(
        f"/customers/{ids['K2']}/instalments",
        headers=agent,
        json={"subscription_id": ids["S2"], "device_id": "nordphone-12", "months": 24, "start_period": "2026-03"},
    )
    assert r.status_code == 201, r.text
    assert api.post(f"/instalments/{r.json()['id']}/payoff", headers=agent).status_code == 200  # billed next run
    assert (
        api.post(
            f"/customers/{ids['K1']}/charges",
            headers=agent,
            json={"description": "Byte av SIM-kort", "amount_ore": 9_900, "reason": "nytt kort"},
        ).status_code
        == 201
    )
    for period in ("1900-01", "1999-12"):
        assert _refused(api.post("/bill-runs", headers=service, json={"period": period})) == (
            f"{period} is before 2000-01, the first period with anything to bill"
        )
    # Past the edge's fixed bound, the service knows the operator's first subscription (2024-01-01).
    assert _refused(api.post("/bill-runs", headers=service, json={"period": "2023-12"})) == (
        "2023-12 is before 2024-01, the first period with anything to bill"
    )
    assert _invoices(core) == 0
    with core.engine.connect() as conn:
        assert conn.execute(select(cm.Instalment.payoff_invoice_id)).scalar_one() is None
        assert conn.execute(select(cm.OneOffCharge.invoice_id)).scalar_one() is None
    # The first period with something to bill is a period like any other.
    r = api.post("/bill-runs", headers=service, json={"period": "2024-01"})
    assert r.status_code == 200 and r.json()["invoices"] >= 1, r.text


def test_a_period_after_next_month_is_refused(api, auth, core):
    service = token_for(auth, "service")
    for body in (
        {"period": "2027-02"},
        {"period": "2027-02", "allow_open_period": True},
        {"period": "2999-12", "allow_open_period": True},
    ):
        assert _refused(api.post("/bill-runs", headers=service, json=body)) == (
            f"{body['period']} is after 2027-01: a bill run reaches at most next month (today is 2026-12-05)"
        )
    assert _invoices(core) == 0
    # Next month is in reach: still open (409) unless an open period is allowed explicitly.
    assert api.post("/bill-runs", headers=service, json={"period": "2027-01"}).status_code == 409
    assert api.post("/bill-runs", headers=service, json={"period": "2026-11"}).status_code == 200


def test_the_service_refuses_the_same_whoever_calls_it(core):
    # Without any data: the fixed bound.
    with pytest.raises(billrun.PeriodOutOfRange, match=r"^period: 1999-12 is before 2000-01"):
        billrun.run_bill_run(core.engine, core.catalogue, "1999-12")
    assert billrun.run_bill_run(core.engine, core.catalogue, "2000-01").invoices == 0
    with open(FIXTURES / "customers.csv", encoding="utf-8") as fh:
        assert import_customers(core.engine, core.catalogue, read_customers_csv(fh)).errors == []
    with pytest.raises(billrun.PeriodOutOfRange, match=r"^period: 1900-01 is before 2024-01"):
        billrun.run_bill_run(core.engine, core.catalogue, "1900-01")
    with pytest.raises(billrun.PeriodOutOfRange, match=r"^period: 2023-12 is before 2024-01"):
        billrun.run_bill_run(core.engine, core.catalogue, "2023-12")
    with pytest.raises(billrun.PeriodOutOfRange, match=r"^period: 2027-02 is after 2027-01"):
        billrun.run_bill_run(core.engine, core.catalogue, "2027-02", allow_open_period=True)
    assert _invoices(core) == 0


def test_next_month_follows_the_clock_over_the_new_year():
    assert bill_run_period_problem("2027-01", date(2026, 12, 31)) is None
    assert bill_run_period_problem("2027-02", date(2026, 12, 31)).startswith("2027-02 is after 2027-01")
    assert bill_run_period_problem("2027-02", date(2027, 1, 1)) is None
    assert bill_run_period_problem("2000-01", date(2026, 12, 5)) is None
    assert bill_run_period_problem("2024-01", date(2026, 12, 5), "2024-01") is None
    assert bill_run_period_problem("2023-12", date(2026, 12, 5), "2024-01").startswith("2023-12 is before 2024-01")


def test_the_cli_refuses_it_naming_the_period(tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}, cwd=tmp_path)

    r = cli("bill-run", "--period", "1900-01")
    assert r.returncode == 2 and "period: 1900-01 is before 2000-01" in r.stderr, r.stderr
    assert cli("import-customers", str(FIXTURES / "customers.csv")).returncode == 0
    r = cli("bill-run", "--period", "1900-01")
    assert r.returncode == 2 and "period: 1900-01 is before 2024-01" in r.stderr, r.stderr
    r = cli("bill-run", "--period", "2999-12", "--allow-open-period")
    assert r.returncode == 2 and "period: 2999-12 is after 2027-01" in r.stderr, r.stderr
    r = cli("invoices", "--period", "1900-01", "--json")
    assert r.returncode == 0 and r.stdout.strip() == "[]"
