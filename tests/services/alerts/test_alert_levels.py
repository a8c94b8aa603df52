"""The catalogue's alert defaults and the spending limit each subscription chooses (issue 17), on SQLite and
PostgreSQL: thresholds from ``usage_alert_percent``, levels from ``roaming_data_spend_limit_levels``, the rater
capping each event at the level in force when it started, in the import and in re-rating.

K1 (tests/fixtures/customers.csv) is on Mobil 5 GB with e-mail as channel and number +46701234567; data in the USA
costs 0,049 kr/MB, so 12 GB is 588 kr.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime

import pytest
from sqlalchemy import select

from backend_stub import clock
from backend_stub.core import Core
from backend_stub.domain.alerts import STOCKHOLM
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import Invalid
from backend_stub.domain.money import EXACT_PER_ORE
from backend_stub.domain.periods import period_containing
from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.alerts import choices
from backend_stub.services.billing import usage_store
from backend_stub.services.billing.subscriptions import load_subscription
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.services.billing.usage_rerate import rerate_period
from backend_stub.services.lifecycle.messaging import list_outbox
from backend_stub.storage.models import billing as m
from tests.services.alerts.test_alerts_on_import import HEAD, K1, _customers, _mails, _sms

MB = 1_000_000


def _import(core: Core, rows: str, when: str, catalogue: Catalogue | None = None) -> int:
    now = datetime.fromisoformat(when).replace(tzinfo=STOCKHOLM)
    with clock.use(clock.FrozenClock(now)):
        importer = UsageImporter(core.engine, catalogue or core.catalogue)
        result = importer.import_rows(read_cdr_csv(io.StringIO(HEAD + rows)), f"{when}.csv")
        assert not result.rejected, result
        return result.alerts


def _sub_id(core: Core) -> int:
    with core.engine.connect() as conn:
        return conn.execute(select(m.Subscription.id).where(m.Subscription.msisdn == K1)).scalar_one()


def _choose(core: Core, sub_id: int, when: str, limit_ore: int | None, catalogue: Catalogue | None = None) -> dict:
    now = datetime.fromisoformat(when).replace(tzinfo=STOCKHOLM)
    with clock.use(clock.FrozenClock(now)):
        return choices.put_settings(
            core.engine,
            sub_id,
            thresholds={"data": [80, 100]},
            kinds=["roaming_welcome", "fair_use", "spend_limit"],
            channels=["sms", "email", "app"],
            cost_limit_ore=None,
            catalogue=catalogue or core.catalogue,
            spend_limit_ore=limit_ore,
        )


def _charges(core: Core) -> dict[str, int]:
    with core.engine.connect() as conn:
        return {rid: exact for rid, exact in conn.execute(select(m.UsageEvent.record_id, m.UsageEvent.charge_exact))}


def test_the_catalogues_per_cents_are_the_defaults_told_and_the_only_ones_to_choose(core: Core) -> None:
    _customers(core)
    catalogue = dataclasses.replace(core.catalogue, alert_percent={"data": (50, 100), "voice": (), "sms": (100,)})
    sub_id = _sub_id(core)
    shown = choices.get_settings(core.engine, sub_id, catalogue)
    assert shown["thresholds"] == {"data": [50, 100], "voice": [], "sms": [100]}  # no choice made: the defaults
    assert shown["threshold_choices"] == {"data": [50, 100], "voice": [], "sms": [100]}
    # 2,6 GB of 5 GB is 52 %: told at 50 % (the catalogue's), not at 80 % (not one of them)
    assert _import(core, f"p1,{K1},data,2026-12-09T10:00:00+01:00,,2600000000,,\n", "2026-12-09 12:00", catalogue) == 1
    assert _mails(core) == [
        "Du har använt 52 % av din surf (2,6 GB av 5 GB) den här perioden. Köp mer: http://127.0.0.1:3000/addons"
    ]
    assert _import(core, f"p2,{K1},data,2026-12-09T11:00:00+01:00,,1500000000,,\n", "2026-12-09 12:30", catalogue) == 0
    with pytest.raises(Invalid) as refused:
        choices.put_settings(
            core.engine,
            sub_id,
            thresholds={"data": [80]},
            kinds=[],
            channels=[],
            cost_limit_ore=None,
            catalogue=catalogue,
        )
    assert refused.value.field == "thresholds.data" and "50, 100" in str(refused.value)
    with pytest.raises(Invalid) as refused:
        choices.put_settings(
            core.engine,
            sub_id,
            thresholds={"voice": [80]},
            kinds=[],
            channels=[],
            cost_limit_ore=None,
            catalogue=catalogue,
        )
    assert refused.value.field == "thresholds.voice"
    # the subscriber turns 50 % off: a new period's 50 % is recorded as spent, not told
    choices.put_settings(
        core.engine,
        sub_id,
        thresholds={"data": [100]},
        kinds=[],
        channels=["email"],
        cost_limit_ore=None,
        catalogue=catalogue,
    )
    assert _import(core, f"p3,{K1},data,2027-01-05T10:00:00+01:00,,2600000000,,\n", "2027-01-05 12:00", catalogue) == 1
    assert len(_mails(core)) == 1


def test_a_chosen_spending_limit_caps_data_abroad_and_is_quoted_in_the_alerts(core: Core) -> None:
    _customers(core)
    sub_id = _sub_id(core)
    assert choices.get_settings(core.engine, sub_id, core.catalogue)["spend_limit_ore"] == 57_500  # the default
    doc = _choose(core, sub_id, "2026-12-01 09:00", 115_000)
    assert (doc["spend_limit_ore"], doc["spend_limit_levels"]) == (115_000, [57_500, 115_000, 230_000])
    assert doc["default_spend_limit_ore"] == 57_500
    # 12 GB in the USA is 588 kr: all charged under 1 150 kr, and the welcome quotes 1 150 kr
    _import(core, f"u1,{K1},data,2026-12-09T10:00:00+01:00,,12000000000,,US\n", "2026-12-09 11:00")
    assert _charges(core)["u1"] == 58_800 * EXACT_PER_ORE
    [welcome] = [t.replace("\xa0", " ") for t in _sms(core)]
    assert "Surfen stoppas vid 1 150,00 kr per månad" in welcome
    # 12 GB more: 1 176 kr in all, charged up to 1 150 kr, then the stop quoting 1 150 kr
    _import(core, f"u2,{K1},data,2026-12-09T12:00:00+01:00,,12000000000,,US\n", "2026-12-09 12:30")
    assert _charges(core)["u2"] == (115_000 - 58_800) * EXACT_PER_ORE
    told = [t.replace("\xa0", " ") for t in _sms(core)]
    assert told[-1].startswith("Du har nått din gräns på 1 150,00 kr för surf utanför EU/EES.")
    assert not any("575,00" in t for t in told)  # the catalogue's default is not this subscription's limit
    assert choices.get_settings(core.engine, sub_id, core.catalogue)["roaming_stopped"] is True


def test_a_level_outside_the_catalogues_is_refused_naming_the_field(core: Core) -> None:
    _customers(core)
    sub_id = _sub_id(core)
    with pytest.raises(Invalid) as refused:
        _choose(core, sub_id, "2026-12-01 09:00", 100_000)
    assert refused.value.field == "spend_limit_ore" and "57500, 115000, 230000" in str(refused.value)
    assert choices.get_settings(core.engine, sub_id, core.catalogue)["spend_limit_ore"] == 57_500


def test_a_level_raised_after_the_stop_charges_only_data_that_starts_after_the_choice(core: Core) -> None:
    """Each event is capped at the level in force when it started; the import re-rates the open period with the
    new events and re-rating gives the same charges (the history of levels, not the level of the day)."""
    _customers(core)
    sub_id = _sub_id(core)
    _import(core, f"s1,{K1},data,2026-12-09T10:00:00+01:00,,12000000000,,US\n", "2026-12-09 11:00")
    assert _charges(core)["s1"] == 57_500 * EXACT_PER_ORE  # stopped at the default 575 kr
    _choose(core, sub_id, "2026-12-09 12:00", 230_000)
    # one session began before the choice, one after: only the later one is charged (100 MB = 4,90 kr)
    _import(
        core,
        f"s2,{K1},data,2026-12-09T11:30:00+01:00,,{100 * MB},,US\ns3,{K1},data,2026-12-09T12:30:00+01:00,,{100 * MB},,US\n",
        "2026-12-09 13:00",
    )
    charged = _charges(core)
    assert (charged["s1"], charged["s2"], charged["s3"]) == (57_500 * EXACT_PER_ORE, 0, 490 * EXACT_PER_ORE)
    # lowered again: data from then on is over the (lower) limit already, so free
    _choose(core, sub_id, "2026-12-09 14:00", 57_500)
    _import(core, f"s4,{K1},data,2026-12-09T14:30:00+01:00,,{100 * MB},,US\n", "2026-12-09 15:00")
    assert _charges(core)["s4"] == 0
    # re-rating the period (an add-on bought, a plan change) rates every event against the level of its time
    catalogue = core.catalogue
    with core.engine.begin() as conn:
        sub = load_subscription(conn, sub_id)
        assert sub is not None
        cycle_day = conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == sub.customer_id)).scalar_one()
        assert rerate_period(conn, catalogue, sub, period_containing(datetime(2026, 12, 9).date(), cycle_day)) == 0
    assert _charges(core) == charged | {"s4": 0}
    with core.engine.connect() as conn:
        roaming = usage_store.load_roaming_choices(conn, [(sub_id, datetime(2026, 12, 1).date())])
    assert [ore for _at, ore in roaming.spend_limits[sub_id]] == [57_500, 230_000, 57_500]
    assert roaming.continues == {}


def test_the_import_reads_limits_and_continues_in_one_pass(core: Core) -> None:
    _customers(core)
    sub_id = _sub_id(core)
    _import(core, f"r1,{K1},data,2026-12-09T10:00:00+01:00,,12000000000,,US\n", "2026-12-09 11:00")
    with clock.use(clock.FrozenClock(datetime(2026, 12, 9, 12, 0, tzinfo=STOCKHOLM))):
        choices.continue_roaming(core.engine, sub_id, actor="customer:1")
    _choose(core, sub_id, "2026-12-09 12:30", 115_000)
    december, january = datetime(2026, 12, 1).date(), datetime(2027, 1, 1).date()
    with core.engine.connect() as conn:
        roaming = usage_store.load_roaming_choices(conn, [(sub_id, december), (sub_id, january), (999, december)])
    chosen_at = int(datetime(2026, 12, 9, 12, 0, tzinfo=STOCKHOLM).timestamp())
    assert roaming.continues == {(sub_id, december): chosen_at}  # January: not chosen there
    changed_at = int(datetime(2026, 12, 9, 12, 30, tzinfo=STOCKHOLM).timestamp())
    assert roaming.spend_limits == {sub_id: ((0, 57_500), (changed_at, 115_000))}
    assert [x for x in list_outbox(core.engine, to=K1, channel="sms") if "fortsätta" in x["text"]]
