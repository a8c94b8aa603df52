"""The alerts on the overview and usage pages (issue 17): the core's sentence in the session's language, the
one tap out (the shop opens on that subscription), and closing one, never another customer's."""

from __future__ import annotations

import io
import uuid
from datetime import datetime

from backend_stub import clock
from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.storage.repo import load_subscriptions
from selfcare.state.alerts import AlertNoticesState
from tests.app.conftest import drain, run, signed_in, substate
from tests.conftest import TEST_NOW

HEAD = "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country\n"
CUSTOMER = 2  # no other app test writes this customer's alerts or alert settings


def _signed_in(customer_id: int, lang: str = "sv") -> AlertNoticesState:
    return substate(signed_in(customer_id, lang), AlertNoticesState)


def _use_all_data(core_app) -> int:
    """The customer's first subscription with a data allowance uses all of it today; returns its id."""
    core = core_app.state.core
    catalogue = core.catalogue
    with core.engine.connect() as conn:
        subs = load_subscriptions(conn, customer_ids=[CUSTOMER])
    for sub in subs:
        plan = catalogue.plans.get(sub.segments[-1].plan_id)
        data = plan.allowances.get("data") if plan else None
        if sub.msisdn and data is not None and data.amount > 0:
            break
    else:
        raise AssertionError("the seeded customer has no subscription with a data allowance")
    with clock.use(clock.FrozenClock(TEST_NOW)):
        at = datetime.fromisoformat(TEST_NOW).isoformat()  # today, the tests' business day
        rows = HEAD + f"alert-{uuid.uuid4().hex},{sub.msisdn},data,{at},,{2 * data.amount},,\n"
        result = UsageImporter(core.engine, catalogue).import_rows(read_cdr_csv(io.StringIO(rows)), "alerts.csv")
        assert result.rated == 1 and result.alerts >= 1, result
    return sub.id


def test_notices_say_it_in_the_sessions_language_and_close_only_their_own(client, core_app):
    sub_id = _use_all_data(core_app)
    mine = _signed_in(CUSTOMER)
    run(drain(AlertNoticesState.load.fn(mine)))
    texts = [n["text"] for n in mine.notices]
    assert any(t.startswith("Nu har du använt all surf") for t in texts), texts
    buy = next(n for n in mine.notices if n["action"] == "buy")
    assert buy["href"] == f"/addons?sub={sub_id}" and buy["action_label"] == "Köp mer"
    english = _signed_in(CUSTOMER, "en")
    run(drain(AlertNoticesState.load.fn(english)))
    assert any(n["text"].startswith("You have used all of your data") for n in english.notices)

    other = _signed_in(1)
    run(drain(AlertNoticesState.load.fn(other)))
    run(drain(AlertNoticesState.dismiss.fn(other, buy["id"])))  # not among theirs: nothing happens
    run(drain(AlertNoticesState.load.fn(mine)))
    assert buy["id"] in [n["id"] for n in mine.notices]
    run(drain(AlertNoticesState.dismiss.fn(mine, buy["id"])))
    assert buy["id"] not in [n["id"] for n in mine.notices]
    run(drain(AlertNoticesState.load.fn(mine)))
    assert buy["id"] not in [n["id"] for n in mine.notices]  # the core keeps it closed
