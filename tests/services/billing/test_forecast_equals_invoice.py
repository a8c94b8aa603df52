"""The forecast is the next invoice: between a period's end and its bill run, to the öre (SQLite and PostgreSQL).

Anna has Mobil Bas 1 GB at half price and Bredband 100 with a 50 kr loyalty discount, a
Nordphone 12 Pro 256 GB over 36 months (360,83 kr a month), an extra gigabyte bought in
November, a SIM swap and a credit for an outage, usage in November (data beyond the
allowance, premium and Nordic calls), an October event that arrived after October's invoice,
and 7,00 kr left unpaid on October's invoice. The forecast read on 5 December, before
November's bill run, must be the invoice that bill run issues, group by group.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.demo import demo_data
from backend_stub.demo.seed import seed
from backend_stub.domain.money import round_half_up_div
from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.billing import billrun, invoices
from backend_stub.services.billing.customers import import_customers
from backend_stub.services.billing.forecast import forecast
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.services.charges import addons, instalments, one_offs
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from backend_stub.storage.models import charges as cm
from backend_stub.storage.repo import load_subscriptions
from tests.conftest import problems, token_for

HEADER = "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country\n"
MOBILE = "+46701112233"
MB = 1_000_000
# The forecast's groups, written here from the invoice's line kinds (not read from the code under test).
GROUP_OF_KIND = {
    "fee": "fees",
    "usage": "usage",
    "connection_fee": "usage",
    "late_usage": "usage",
    "addon": "addons",
    "one_off": "charges",
    "discount": "discounts",
    "instalment": "instalments",
    "carried": "carried",
}


def import_cdrs(core, *rows: str) -> None:
    result = UsageImporter(core.engine, core.catalogue).import_rows(
        read_cdr_csv(io.StringIO(HEADER + "".join(f"{r}\n" for r in rows))), "t.csv"
    )
    assert result.rejected == 0, result.errors


def invoice_groups(lines: list[dict]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for ln in lines:
        out[GROUP_OF_KIND[ln["kind"]]] += ln["amount_ore"]
    return dict(out)


def forecast_groups(f: dict) -> dict[str, int]:
    return {g["group"]: g["amount_ore"] for g in f["lines"]}


def unbilled(core) -> tuple[int, int, int, int]:
    """What a bill run claims: events and charges without an invoice, instalment months billed; invoices."""
    with core.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).where(m.UsageEvent.invoice_id.is_(None))).scalar_one(),
            conn.execute(select(func.count()).where(cm.OneOffCharge.invoice_id.is_(None))).scalar_one(),
            conn.execute(select(func.sum(cm.Instalment.months_billed))).scalar_one(),
            conn.execute(select(func.count()).select_from(m.Invoice)).scalar_one(),
        )


def anna(core, frozen: clock.FrozenClock) -> int:
    """Anna as described above, lived from 1 October to 5 December (October billed and mostly paid)."""
    rows = [
        (
            2,
            {
                "customer_number": "K1",
                "subscription_id": "S1",
                "name": "Anna Svensson",
                "email": "anna@example.se",
                "msisdn": MOBILE,
                "plan": "mobil-bas",
                "start_date": "2026-01-01",
                "discount": "halva-priset-6",
                "discount_start": "2026-10",
            },
        ),
        (
            3,
            {
                "customer_number": "K1",
                "subscription_id": "S2",
                "name": "Anna Svensson",
                "email": "anna@example.se",
                "msisdn": "",
                "plan": "bredband-100",
                "start_date": "2026-01-01",
                "discount": "lojalitet-50",
                "discount_start": "2026-10",
            },
        ),
    ]
    assert import_customers(core.engine, core.catalogue, rows).errors == []
    with core.engine.connect() as conn:
        cid = conn.execute(select(m.Customer.id)).scalar_one()
        s1 = conn.execute(select(m.Subscription.id).where(m.Subscription.subscription_number == "S1")).scalar_one()
    instalments.create_instalment(
        core.engine,
        core.catalogue,
        cid,
        subscription_id=s1,
        device_id="nordphone-12-pro",
        months=36,
        start_period="2026-10",
        actor="agent:anna",
    )
    frozen.set(date(2026, 11, 1))
    billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    [october] = invoices.invoices_for_period(core.engine, "2026-10")
    with core.engine.begin() as conn:  # paid on time, all but 7,00 kr
        ledger.record_payment(
            conn,
            invoice_id=october["id"],
            reference="bank-oct",
            method="bankgiro",
            amount_ore=october["amount_due_ore"] - 700,
            received_at=datetime(2026, 11, 20, 12, tzinfo=UTC),
        )
    import_cdrs(
        core,
        f"n-1,{MOBILE},data,2026-11-03T08:00:00+01:00,,{1_300 * MB},,",  # 0,3 GB beyond the 1 GB
        f"n-2,{MOBILE},voice,2026-11-05T12:00:00+01:00,125,,+46900123456,",  # premium: 3 min and a fee
        f"n-3,{MOBILE},voice,2026-11-07T11:00:00+01:00,61,,+4712345678,",  # Saturday: Nordic off-peak
        f"n-4,{MOBILE},sms,2026-11-08T09:00:00+01:00,,,+46739876543,",
        f"n-5,{MOBILE},data,2026-11-20T19:00:00+01:00,,{400 * MB},,",  # from the extra GB
        f"o-1,{MOBILE},sms,2026-10-30T21:00:00+01:00,,,+46900123456,",  # October's, arrived late
    )
    addons.buy_addon(core.engine, core.catalogue, s1, "extra-1gb", now=datetime(2026, 11, 12, 9, tzinfo=UTC))
    one_offs.add_charge(
        core.engine,
        cid,
        description="Byte av SIM-kort",
        amount_ore=9_900,
        reason="tappat kortet",
        actor="agent:anna",
        subscription_id=s1,
        now=datetime(2026, 11, 14, 9, tzinfo=UTC),
    )
    one_offs.add_charge(
        core.engine,
        cid,
        description="Kompensation för avbrott",
        amount_ore=-2_550,
        reason="avbrott en dag",
        actor="agent:anna",
        now=datetime(2026, 11, 16, 9, tzinfo=UTC),
    )
    frozen.set(datetime.fromisoformat("2026-12-05T10:00:00+01:00"))
    return cid


def test_forecast_before_the_bill_run_is_the_invoice(core, auth):
    with clock.use(clock.FrozenClock("2026-10-01T09:00:00+02:00")) as frozen:
        cid = anna(core, frozen)
        before = unbilled(core)
        f = forecast(core.engine, core.catalogue, cid)
        assert unbilled(core) == before  # read-only: nothing claimed, nothing issued

        # November has ended and is not invoiced: it is the next invoice, nothing projected.
        assert f["period"] == {"label": "2026-11", "start": "2026-11-01", "end": "2026-11-30", "ended": True}
        assert (f["days_left"], f["projected_ore"]) == (0, 0)
        assert f["forecast_ore"] == f["so_far_ore"] and f["forecast_ore"] % 100 == 0
        with TestClient(create_app(core, auth=auth), follow_redirects=False) as api:
            r = api.get(
                f"/customers/{cid}/forecast",
                headers=token_for(auth, "subscriber", cid),
                params={"period": "2026-11", "lang": "en"},
            )
            assert r.status_code == 200
            assert r.json()["forecast_ore"] == f["forecast_ore"]
            assert {g["group"]: g["description"] for g in r.json()["lines"]}["instalments"] == "Device instalments"
            assert api.get(f"/customers/{cid}/forecast", headers=token_for(auth, "subscriber", cid)).json() == f
            for bad, why in (("2026-13", "period: expected a month YYYY-MM"), ("2027-01", "period: 2027-01 has not")):
                r = api.get(
                    f"/customers/{cid}/forecast", headers=token_for(auth, "subscriber", cid), params={"period": bad}
                )
                assert problems(r)[0].startswith(why)
            assert (
                api.get(f"/customers/{cid}/forecast", headers=token_for(auth, "subscriber", cid + 1)).status_code == 404
            )

            run = billrun.run_bill_run(core.engine, core.catalogue, "2026-11")
            assert (run.invoices, run.carried) == (1, 1)
            [november] = invoices.invoices_for_period(core.engine, "2026-11")
            assert f["forecast_ore"] == november["amount_due_ore"]
            assert f["rounding_ore"] == november["rounding_ore"]
            groups = invoice_groups(november["lines"])
            assert forecast_groups(f) == groups
            assert set(groups) == set(GROUP_OF_KIND.values())  # every kind of line is on it
            assert groups["instalments"] == 36_083 and groups["carried"] == 700
            assert f["fees_ore"] == groups["fees"] and f["usage_so_far_ore"] == groups["usage"]

            r = api.get(
                f"/customers/{cid}/forecast", headers=token_for(auth, "subscriber", cid), params={"period": "2026-11"}
            )
            assert problems(r)[0] == (f"period: 2026-11 is already invoiced (invoice {november['number']})")
        # Invoiced: the next invoice is December's, with its fees and the next instalment month, no carry.
        after = forecast(core.engine, core.catalogue, cid)
        assert after["period"]["label"] == "2026-12" and after["days_left"] == 27
        assert forecast_groups(after)["instalments"] == 36_083 and "carried" not in forecast_groups(after)


def test_mid_period_projection_of_even_use_is_the_invoice(core):
    """A plain customer on 15 December: a premium call every day so far; the same pace for the rest of
    the month makes the projection exactly what December's invoice then bills."""
    assert (
        import_customers(
            core.engine,
            core.catalogue,
            [
                (
                    2,
                    {
                        "customer_number": "K2",
                        "subscription_id": "S9",
                        "name": "Bo Ek",
                        "email": "bo@example.se",
                        "msisdn": MOBILE,
                        "plan": "mobil-5gb",
                        "start_date": "2026-01-01",
                    },
                )
            ],
        ).errors
        == []
    )
    with core.engine.connect() as conn:
        cid = conn.execute(select(m.Customer.id)).scalar_one()
    billrun.run_bill_run(core.engine, core.catalogue, "2026-11")  # November is invoiced: December is next

    def call(day: int) -> str:
        return f"d-{day},{MOBILE},voice,2026-12-{day:02d}T08:30:00+01:00,90,,+46900123456,"

    with clock.use(clock.FrozenClock("2026-12-15T10:00:00+01:00")) as frozen:
        import_cdrs(core, *(call(d) for d in range(1, 16)))
        f = forecast(core.engine, core.catalogue, cid)
        assert f["period"]["label"] == "2026-12" and not f["period"]["ended"]
        assert (f["days_elapsed"], f["days_left"]) == (15, 17)
        usage = f["usage_so_far_ore"]
        assert usage > 0 and f["so_far_ore"] == round_half_up_div(f["fees_ore"] + usage, 100) * 100
        assert f["projected_ore"] == round_half_up_div(usage * 31, 15) - usage > 0
        assert f["projected_ore"] == usage * 16 // 15  # sane: the same per day for the 16 days left
        assert f["forecast_ore"] == round_half_up_div(f["fees_ore"] + usage + f["projected_ore"], 100) * 100
        assert [g["group"] for g in f["lines"]] == ["fees", "usage"]

        import_cdrs(core, *(call(d) for d in range(16, 32)))
        frozen.set(date(2027, 1, 2))
        billrun.run_bill_run(core.engine, core.catalogue, "2026-12")
        [december] = invoices.invoices_for_period(core.engine, "2026-12")
        assert december["amount_due_ore"] == f["forecast_ore"]


def test_demo_customers_forecast_is_their_invoice(core):
    """A small demo operator billed through October; November's usage imported; for every customer the
    forecast on 5 December is November's invoice (or, with nothing to bill for November, December's)."""
    seed(core, 12, 2, today=date(2026, 11, 5), quiet=True)  # September and October billed, mostly paid
    rows = demo_data.generate_customers(12, seed=1, today=date(2026, 11, 5), months=2)
    buf = io.StringIO()
    demo_data.write_cdr_csv(buf, demo_data.generate_cdrs(rows, months=1, today=date(2026, 12, 5), seed=1))
    buf.seek(0)
    assert UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(buf), "nov.csv").rated > 0
    with core.engine.connect() as conn:
        ids = list(conn.execute(select(m.Customer.id).order_by(m.Customer.id)).scalars())
        active = {s.customer_id for s in load_subscriptions(conn) if s.segment_on(date(2026, 11, 30))}
        unpaid = [
            r
            for r in conn.execute(select(m.Invoice).where(m.Invoice.period_start == date(2026, 10, 1)))
            if r.customer_id in active and ledger.invoice_states(conn, [r])[r.id].balance_ore > 0
        ]
    assert unpaid, "the seed leaves some October invoices open"
    with core.engine.begin() as conn:  # one pays all but 3,00 kr: carried to November's invoice
        ledger.record_payment(
            conn,
            invoice_id=unpaid[0].id,
            reference="short",
            method="bankgiro",
            amount_ore=unpaid[0].amount_due_ore - 300,
            received_at=datetime(2026, 11, 25, tzinfo=UTC),
        )

    forecasts = {cid: forecast(core.engine, core.catalogue, cid) for cid in ids}
    run = billrun.run_bill_run(core.engine, core.catalogue, "2026-11")
    with core.engine.connect() as conn:
        customer_of = dict(conn.execute(select(m.Customer.customer_number, m.Customer.id)).all())
    issued = {customer_of[d["customer_number"]]: d for d in invoices.invoices_for_period(core.engine, "2026-11")}
    assert run.invoices == len(issued) >= 8 and run.carried >= 1
    kinds = set()
    for cid, f in forecasts.items():
        if cid in issued:
            assert f["period"]["label"] == "2026-11" and f["projected_ore"] == 0
            assert f["forecast_ore"] == issued[cid]["amount_due_ore"], cid
            assert forecast_groups(f) == invoice_groups(issued[cid]["lines"]), cid
            kinds |= {ln["kind"] for ln in issued[cid]["lines"]}
        else:
            assert f["period"]["label"] == "2026-12"
    assert {"fee", "usage", "instalment", "addon", "carried"} <= kinds
