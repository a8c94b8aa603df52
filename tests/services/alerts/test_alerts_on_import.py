"""Usage alerts as usage arrives (issue 17): imported files that cross thresholds, read back from the outbox.

K1 (tests/fixtures/customers.csv) is on Mobil 5 GB with e-mail as channel and number +46701234567.
December 2026 has 31 days, so the allowance is the whole 5 GB: 80 % is 4 GB, 100 % is 5 GB.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlalchemy import select

from backend_stub import clock
from backend_stub.core import Core
from backend_stub.domain.alerts import STOCKHOLM
from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.alerts import choices
from backend_stub.services.alerts import delivery as alerts
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.services.lifecycle.messaging import list_outbox
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.alerts import UsageAlert
from tests.conftest import FIXTURES

HEAD = "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country\n"
K1 = "+46701234567"


def _customers(core: Core) -> None:
    with open(FIXTURES / "customers.csv", encoding="utf-8") as fh:
        assert not import_customers(core.engine, core.catalogue, read_customers_csv(fh)).errors


def _import(core: Core, rows: str, when: str, name: str = "usage.csv") -> int:
    """Import the rows at Stockholm time ``when`` and run the alerts as the import does; returns the new alerts."""
    now = datetime.fromisoformat(when).replace(tzinfo=STOCKHOLM)
    with clock.use(clock.FrozenClock(now)):
        result = UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(io.StringIO(HEAD + rows)), name)
        assert not result.rejected, result
        return result.alerts  # the import recorded them and sent those due


def _mails(core: Core) -> list[str]:
    return [x["text"] for x in reversed(list_outbox(core.engine, to="anna@example.se"))]


def _sms(core: Core) -> list[str]:
    return [x["text"] for x in reversed(list_outbox(core.engine, to=K1, channel="sms"))]


def test_data_at_80_and_100_percent_is_told_once_each_by_the_customers_channel(core: Core) -> None:
    _customers(core)
    first = f"d1,{K1},data,2026-12-09T10:00:00+01:00,,4000000000,,\n"
    assert _import(core, first, "2026-12-09 12:00") == 1
    assert _mails(core) == [
        "Du har använt 80 % av din surf (4 GB av 5 GB) den här perioden. Köp mer: http://127.0.0.1:3000/addons"
    ]  # the figures as the invoice writes them
    assert _import(core, first, "2026-12-09 12:05", "again.csv") == 0  # the same file again: duplicates, no alert
    more = f"d2,{K1},data,2026-12-09T13:00:00+01:00,,500000000,,\n"  # 90 %: nothing new
    assert _import(core, more, "2026-12-09 14:00") == 0
    over = f"d3,{K1},data,2026-12-09T15:00:00+01:00,,600000000,,\n"  # 110 %: the 100 % alert
    assert _import(core, over, "2026-12-09 16:00") == 1
    assert len(_mails(core)) == 2
    assert _mails(core)[1].startswith("Nu har du använt all surf (5 GB) den här perioden.")
    assert _sms(core) == []  # K1 is written to by e-mail


def test_a_late_record_crosses_silently_and_the_threshold_is_spent(core: Core) -> None:
    _customers(core)
    old = f"l1,{K1},data,2026-12-02T10:00:00+01:00,,4200000000,,\n"  # a week old when it arrives
    assert _import(core, old, "2026-12-09 12:00") == 1  # recorded, as spent
    assert _mails(core) == []
    fresh = f"l2,{K1},data,2026-12-09T11:00:00+01:00,,100000000,,\n"  # still over 80 %: not told now either
    assert _import(core, fresh, "2026-12-09 12:30") == 0
    assert _mails(core) == []


def test_roaming_outside_the_eu_welcomes_by_sms_to_the_roaming_number_and_waits_for_the_day(core: Core) -> None:
    _customers(core)
    night = f"r1,{K1},data,2026-12-09T23:10:00+01:00,,1000000,,US\n"
    assert _import(core, night, "2026-12-09 23:20") == 1
    assert _sms(core) == []  # held until 08:00
    with core.engine.connect() as conn:
        [held] = conn.execute(select(UsageAlert)).all()
    held_until = held.send_after.replace(tzinfo=held.send_after.tzinfo or UTC)  # SQLite keeps UTC without a zone
    assert held.kind == "roaming_welcome" and held_until.astimezone(STOCKHOLM).hour == 8
    with clock.use(clock.FrozenClock(datetime(2026, 12, 10, 8, 0, tzinfo=STOCKHOLM))):
        assert alerts.deliver_due(core.engine, core.catalogue) == 1
    [welcome] = _sms(core)
    assert welcome.replace("\xa0", " ") == (
        "Välkommen till USA (Roaming zon 1): samtal 9,90 kr/min, sms 3,90 kr/st, surf 0,049 kr/MB. "
        "Surfen stoppas vid 575,00 kr per månad om du inte väljer att fortsätta. "
        "Se din förbrukning: http://127.0.0.1:3000/usage"
    )
    # the same trip, the same country: no second welcome; a day without events: a new trip, welcomed again
    assert _import(core, f"r2,{K1},data,2026-12-10T09:00:00+01:00,,1000000,,US\n", "2026-12-10 09:30") == 0
    assert _import(core, f"r3,{K1},data,2026-12-11T12:00:00+01:00,,1000000,,US\n", "2026-12-11 12:30") == 1
    assert len(_sms(core)) == 2


def test_settings_turn_alerts_off_but_never_the_roaming_stop(core: Core) -> None:
    _customers(core)
    with core.engine.connect() as conn:
        sub_id = conn.execute(select(m.Subscription.id).where(m.Subscription.msisdn == K1)).scalar_one()
    choices.put_settings(
        core.engine, sub_id, thresholds={"data": [100]}, kinds=[], channels=["email", "app"], cost_limit_ore=None
    )
    assert _import(core, f"s1,{K1},data,2026-12-09T10:00:00+01:00,,4100000000,,\n", "2026-12-09 12:00") == 1
    assert _mails(core) == []  # 80 % is off: recorded as spent, not sent, not shown
    assert choices.shown(core.engine, 1, core.catalogue) == []
    assert choices.get_settings(core.engine, sub_id)["kinds"] == ["spend_limit"]  # always on


def test_past_the_limit_data_abroad_is_free_until_the_subscriber_chooses_to_go_on(core: Core) -> None:
    _customers(core)
    with core.engine.connect() as conn:
        sub_id = conn.execute(select(m.Subscription.id).where(m.Subscription.msisdn == K1)).scalar_one()
    # 12 GB in the USA at 0,049 kr/MB is 588 kr: charged up to the 575 kr limit, then stopped (rules §3)
    assert _import(core, f"c1,{K1},data,2026-12-09T10:00:00+01:00,,12000000000,,US\n", "2026-12-09 11:00") >= 2
    assert _sms(core)[0].startswith("Välkommen till USA")
    assert _sms(core)[-1].replace("\xa0", " ").startswith("Du har nått din gräns på 575,00 kr för surf utanför EU/EES.")
    _import(core, f"c2,{K1},data,2026-12-09T12:00:00+01:00,,100000000,,US\n", "2026-12-09 12:30")
    with clock.use(clock.FrozenClock(datetime(2026, 12, 9, 13, 0, tzinfo=STOCKHOLM))):
        choices.continue_roaming(core.engine, sub_id, actor="customer:1")
    assert _sms(core)[-1].startswith("Du har valt att fortsätta surfa utanför EU/EES till och med 31 december 2026.")
    # a session that started before the choice but arrives after it stays free; one that starts after is charged
    _import(core, f"c3,{K1},data,2026-12-09T12:59:00+01:00,,100000000,,US\n", "2026-12-09 13:30")
    _import(core, f"c4,{K1},data,2026-12-09T13:10:00+01:00,,100000000,,US\n", "2026-12-09 13:30")
    with core.engine.connect() as conn:
        charged = {rid: exact for rid, exact in conn.execute(select(m.UsageEvent.record_id, m.UsageEvent.charge_exact))}
    assert charged["c2"] == 0 and charged["c3"] == 0
    assert charged["c4"] > 0  # 100 MB × 0,049 kr/MB = 4,90 kr


def test_an_offer_can_target_the_subscriptions_told_they_used_80_percent_of_their_data(core: Core) -> None:
    from backend_stub.services.offers import targeting
    from backend_stub.services.offers.segment_facts import load_facts

    _customers(core)
    with core.engine.connect() as conn:
        sub_id = conn.execute(select(m.Subscription.id).where(m.Subscription.msisdn == K1)).scalar_one()
    rules = targeting.parse_rules({"data_alert": True}, core.catalogue)

    def holds(day: str) -> tuple[bool, list[str]]:
        today = datetime.fromisoformat(day).date()
        with core.engine.connect() as conn:
            facts = load_facts(conn, core.catalogue, [1], today)[1]
        sub = next(s for s in facts.subscriptions if s.id == sub_id)
        return targeting.subscription_rules(core.catalogue, rules, None, facts, sub, today, None, "sv")

    assert holds("2026-12-09") == (False, ["uppfylls inte: har använt 80 % av surfen den här perioden"])
    _import(core, f"m1,{K1},data,2026-12-09T10:00:00+01:00,,4100000000,,\n", "2026-12-09 12:00")
    assert holds("2026-12-09") == (True, ["har använt 80 % av surfen den här perioden"])
    assert holds("2027-01-02")[0] is False  # a new period: not until told again


def test_the_next_invoice_says_when_the_subscriber_chose_to_go_on_abroad(core: Core) -> None:
    from backend_stub.services.billing.billrun import run_bill_run
    from backend_stub.services.billing.invoices import get_invoice

    _customers(core)
    with core.engine.connect() as conn:
        sub_id = conn.execute(select(m.Subscription.id).where(m.Subscription.msisdn == K1)).scalar_one()
    _import(core, f"t1,{K1},data,2026-12-09T10:00:00+01:00,,12000000000,,US\n", "2026-12-09 11:00")
    with clock.use(clock.FrozenClock(datetime(2026, 12, 9, 13, 0, tzinfo=STOCKHOLM))):
        choices.continue_roaming(core.engine, sub_id, actor="customer:1")
    with clock.use(clock.FrozenClock(datetime(2027, 1, 1, 6, 0, tzinfo=STOCKHOLM))):
        run_bill_run(core.engine, core.catalogue, "2026-12")
    with core.engine.connect() as conn:
        inv_id = conn.execute(select(m.Invoice.id).where(m.Invoice.customer_id == 1)).scalar_one()
    timeline = get_invoice(core.engine, inv_id, lang="en")["timeline"]
    [entry] = [e for e in timeline if e["kind"] == "roaming_continued"]
    assert entry["text"] == (
        "On 9 December 2026 you chose to go on using data outside the EU/EEA on +46701234567 past the spending limit."
    )


def test_the_eu_fair_use_volume_used_up_is_told_once_with_the_surcharge(core: Core) -> None:
    _customers(core)
    # Mobil 5 GB, 199 kr: fair use 2 × 159,20 kr ÷ (1,10 EUR × 11,50 kr) ≈ 25,2 GB in Spain; 26 GB goes beyond it
    assert _import(core, f"f1,{K1},data,2026-12-09T10:00:00+01:00,,26000000000,,ES\n", "2026-12-09 11:00") >= 2
    told = [t.replace("\xa0", " ") for t in _sms(core)]
    assert told[0].startswith("Välkommen till Spanien! I EU/EES ringer, sms:ar och surfar du som hemma.")
    fair = [t for t in told if "skäliga surfvolymen" in t]
    assert fair == [
        "Du har använt den skäliga surfvolymen för roaming i EU/EES den här perioden. Surf utöver kostar "
        "12,00 kr/GB. Se din förbrukning: http://127.0.0.1:3000/usage"
    ]
    _import(core, f"f2,{K1},data,2026-12-09T12:00:00+01:00,,1000000000,,ES\n", "2026-12-09 12:30")
    assert len([t for t in _sms(core) if "skäliga surfvolymen" in t]) == 1  # once a period


def test_the_cost_warning_when_the_forecast_passes_the_chosen_amount(core: Core) -> None:
    _customers(core)
    with core.engine.connect() as conn:
        sub_id = conn.execute(select(m.Subscription.id).where(m.Subscription.msisdn == K1)).scalar_one()
    choices.put_settings(core.engine, sub_id, thresholds={}, kinds=[], channels=["email", "app"], cost_limit_ore=15_000)
    # The plan alone is 199 kr this period: over the 150 kr chosen, told by e-mail at the first usage
    assert _import(core, f"k1,{K1},data,2026-12-09T10:00:00+01:00,,1000000,,\n", "2026-12-09 11:00") == 1
    assert [t.replace("\xa0", " ") for t in _mails(core)] == [
        "Din faktura för perioden ser ut att bli 199,00 kr, över din kostnadsvarning på 150,00 kr. "
        "Se din förbrukning: http://127.0.0.1:3000/usage"
    ]
    assert _import(core, f"k2,{K1},data,2026-12-09T12:00:00+01:00,,1000000,,\n", "2026-12-09 12:30") == 0


def test_two_imports_at_once_tell_a_threshold_once(core: Core) -> None:
    """Two files arriving together, each enough on its own to cross 80 %: one alert, one message."""
    import threading

    _customers(core)
    now = datetime(2026, 12, 9, 12, 0, tzinfo=STOCKHOLM)
    results: list[int] = []
    errors: list[BaseException] = []

    def run(record_id: str) -> None:
        rows = HEAD + f"{record_id},{K1},data,2026-12-09T10:00:00+01:00,,4200000000,,\n"
        try:
            with clock.use(clock.FrozenClock(now)):
                importer = UsageImporter(core.engine, core.catalogue)
                results.append(importer.import_rows(read_cdr_csv(io.StringIO(rows)), record_id).alerts)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(rid,)) for rid in ("p1", "p2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with core.engine.connect() as conn:
        keys = [k for (k,) in conn.execute(select(UsageAlert.key).where(UsageAlert.kind == "allowance"))]
    assert len(keys) == len(set(keys)) and sum(results) == len(keys)
    assert len([t for t in _mails(core) if "av din surf" in t or "all surf" in t]) == len(keys)
