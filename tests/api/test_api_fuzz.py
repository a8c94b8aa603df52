"""Schemathesis over the core's whole OpenAPI: no input gives a server error, every answer is as documented.

The core (``create_app``) runs in process (ASGI, no network) on a small seeded operator (four
customers, two months billed, phones on instalment, an offer with a banner image, a thread, a link,
a checkout). Every operation gets a few generated requests, valid ones and invalid ones, with a
subscriber's token and with the back office's service token; some of them aim at ids that exist
(the subscriber's own customer, invoices, subscriptions …) so the routes get past their 404s.

Checks: not a server error (an exception escaping the app counts as one), the response conforms to
the documented schema, and its status code is documented. On SQLite and on PostgreSQL (ids,
NUL characters and overflows fail differently there). The seed is fixed, examples per operation are
few and the deadline is off. Generating the requests costs more than answering them, so each
generated request goes with both tokens, one after the other (the fixed seed drew nearly the same requests
for either token anyway): the two tests take about a minute of one core.

``python -m tests.api.test_api_fuzz [sqlite|postgres]`` prints the failures per operation instead
(``SELFCARE_FUZZ_EXAMPLES`` for a longer run).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy import select

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.core import Core
from backend_stub.services.access.tokens import AuthSettings
from backend_stub.storage.db import make_engine
from backend_stub.storage.models import billing as m
from backend_stub.storage.models import charges as charges_models
from backend_stub.storage.models import lifecycle as lifecycle_models
from backend_stub.storage.models import offers as offers_models
from backend_stub.storage.models import support as support_models
from tests.conftest import SECRET, TEST_NOW, fresh_database, token_for

FUZZ_SEED = 20261205
EXAMPLES = int(os.environ.get("SELFCARE_FUZZ_EXAMPLES", "6"))
"""Twice this many requests per operation and token, valid and invalid data drawn alike."""

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
KINDS = {"not_a_server_error": "5xx", "response_schema_conformance": "schema", "status_code_conformance": "status"}

# PUT /catalogue takes the catalogue as TOML text: generated strings go as they are.
schemathesis.serializer.alias("application/toml", "text/plain")


def _seed_operator(core: Core, auth: AuthSettings) -> dict[str, list[Any]]:
    """A small operator with one of everything the routes take an id of; returns the ids by parameter name."""
    from fastapi.testclient import TestClient

    from backend_stub.demo import offers
    from backend_stub.demo.seed import seed as seed_demo
    from backend_stub.services.support import agents, threads

    seed_demo(core, 4, 2, today=date(2026, 12, 5), quiet=True)
    agents.create_agent(core.engine, "anna", "Anna Berg", "correct horse battery staple", "agent")
    offers.seed_demo_offers(core.engine, core.catalogue, now=core.now())
    with core.engine.connect() as conn:
        customers = [r.id for r in conn.execute(select(m.Customer.id).order_by(m.Customer.id))]
        invoice_rows = list(
            conn.execute(select(m.Invoice.id, m.Invoice.number, m.Invoice.customer_id).order_by(m.Invoice.number))
        )
        subscriptions = [r.id for r in conn.execute(select(m.Subscription.id).order_by(m.Subscription.id))]
    mine = customers[0]
    own_invoice = next(r for r in invoice_rows if r.customer_id == mine)
    author = threads.Author("customer", "Kund", f"customer:{mine}")
    threads.post_message(core.engine, own_invoice.id, author, "Varför är fakturan högre?")
    service = token_for(auth, "service")
    with TestClient(create_app(core, auth=auth)) as client:
        link = client.post(f"/invoices/{own_invoice.id}/link", headers=service).json()
        checkouts = [
            client.post(f"/invoices/{row.id}/pay", headers=service, json={"return_url": "/invoice"})
            for row in invoice_rows
        ]
        checkout = next(r.json() for r in checkouts if r.status_code == 200)
    with core.engine.connect() as conn:

        def ids(model: Any) -> list[int]:
            return [r[0] for r in conn.execute(select(model.id).order_by(model.id).limit(5))] or [1]

        known: dict[str, list[Any]] = {
            "customer_id": customers,
            "invoice_id": [r.id for r in invoice_rows] + [r.number for r in invoice_rows],
            "subscription_id": subscriptions,
            "token": [link["token"]],
            "session_id": [checkout["checkout_path"].rsplit("/", 1)[-1]],
            "position": [1, 2, 3],
            "event_id": ids(m.InvoiceEvent),
            "change_id": [1, 2],
            "payment_id": ids(m.Payment),
            "bank_payment_id": ids(lifecycle_models.BankPayment),
            "thread_id": ids(support_models.Thread),
            "instalment_id": ids(charges_models.Instalment),
            "charge_id": ids(charges_models.OneOffCharge),
            "offer_id": ids(offers_models.Offer),
            "image_id": ids(offers_models.OfferImage),
        }
    return known


@contextmanager
def _seeded_schema(kind: str, tmp: Path) -> Iterator[tuple[Any, dict[str, list[Any]], AuthSettings]]:
    """The seeded core's app as schemathesis reads it, the ids worth aiming at, and the auth settings."""
    auth = AuthSettings(secret=SECRET)
    with fresh_database(kind, tmp, prefix="fuzz") as url, clock.use(clock.FrozenClock(TEST_NOW)):
        core = Core(make_engine(url))
        try:
            known = _seed_operator(core, auth)
            yield schemathesis.openapi.from_asgi("/openapi.json", create_app(core, auth=auth)), known, auth
        finally:
            core.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, dict[str, list[Any]], AuthSettings]]:
    # Module-scoped, so set up before the per-test autouse fixture sets SELFCARE_ENV=test: set it here too
    # (the core's checkout answers 503 outside test/dev without a payment provider's key).
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SELFCARE_ENV", "test")
        with _seeded_schema(request.param, tmp_path_factory.mktemp("fuzz")) as target:
            yield target


def _aim_at_known(case: Any, known: dict[str, list[Any]], pick: int) -> None:
    """Put ids that exist into the case's path (and id query parameters), so routes get past their 404s."""
    for container in (case.path_parameters, case.query):
        if not isinstance(container, dict):
            continue
        for name in list(container):
            if name in known:
                values = known[name]
                container[name] = values[pick % len(values)]


Tokens = dict[str, Callable[[], dict[str, str]]]
"""The Authorization headers each case is sent with, by role (a function: a fresh token per request)."""


def _fuzz_operation(operation: Any, tokens: Tokens, known: dict[str, list[Any]]) -> list[tuple[str, str, str]]:
    """Run the operation's generated cases, each with every token; return the failures found as
    (role, kind, one-line description)."""
    found: list[tuple[str, str, str]] = []
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @seed(FUZZ_SEED)
    @settings(
        max_examples=EXAMPLES * 2,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, pick=st.one_of(st.none(), st.integers(min_value=0, max_value=1000)))
    def run(case: Any, pick: int | None) -> None:
        if pick is not None:
            _aim_at_known(case, known, pick)
        sent = f"{case.method} {case.formatted_path} query={case.query!r}"
        for role, headers in tokens.items():
            try:
                response = case.call(headers=headers())
            except Exception as exc:  # the exception escaped the app: a real server answers 500
                found.append((role, "5xx", f"{type(exc).__name__}: {str(exc)[:160]} <- {sent[:200]}"))
                continue
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                for failure in group.exceptions:
                    found.append((role, _kind(failure), f"{response.status_code} {failure.title} <- {sent[:200]}"))

    run()
    return found


def _kind(failure: Failure) -> str:
    for check in failure.checks:
        if check in KINDS:
            return KINDS[check]
    name = type(failure).__name__
    return {"ServerError": "5xx", "JsonSchemaError": "schema", "UndefinedStatusCode": "status"}.get(name, name)


def fuzz_report(schema: Any, tokens: Tokens, known: dict[str, list[Any]]) -> dict[str, Counter]:
    """Failures per operation and token ("GET /path (service token)" -> Counter of kinds), with examples kept in
    ``.examples``."""
    report: dict[str, Counter] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found = _fuzz_operation(operation, tokens, known)
        for role in tokens:
            mine = [(kind, text) for who, kind, text in found if who == role]
            if mine:
                counts = Counter(kind for kind, _ in mine)
                counts.examples = sorted({f"[{kind}] {text}" for kind, text in mine})[:3]  # type: ignore[attr-defined]
                report[f"{operation.label} ({role} token)"] = counts
    return report


def _describe(report: dict[str, Counter]) -> str:
    lines = []
    for label, counts in sorted(report.items()):
        lines.append(f"{label}: " + ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())))
        lines += [f"    {example}" for example in counts.examples]  # type: ignore[attr-defined]
    totals = Counter()
    for counts in report.values():
        totals.update({kind: 1 for kind in counts})
    lines.append("operations with failures: " + ", ".join(f"{kind} {n}" for kind, n in sorted(totals.items())))
    return "\n".join(lines)


def _tokens(auth: AuthSettings, known: dict[str, list[Any]]) -> Tokens:
    """A subscriber's token (the first customer's) and the back office's service token. A fresh token per
    request: a generated POST /auth/logout revokes only its own."""
    customer_id = known["customer_id"][0]
    return {
        "subscriber": lambda: token_for(auth, "subscriber", customer_id),
        "service": lambda: token_for(auth, "service"),
    }


def test_no_input_gives_a_server_error_or_an_undocumented_answer(fuzz_target) -> None:
    schema, known, auth = fuzz_target
    report = fuzz_report(schema, _tokens(auth, known), known)
    assert not report, f"schemathesis:\n{_describe(report)}"


def main() -> None:  # pragma: no cover - the figures of issue 14: python -m tests.test_api_fuzz [sqlite|postgres]
    """Print the per-operation failure counts for both tokens (the before/after figures)."""
    import sys
    import tempfile

    kind = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    with tempfile.TemporaryDirectory() as tmp, _seeded_schema(kind, Path(tmp)) as (schema, known, auth):
        report = fuzz_report(schema, _tokens(auth, known), known)
        print(f"== {kind}, subscriber and service tokens: {EXAMPLES} examples per operation and mode ==")
        print(_describe(report), flush=True)


if __name__ == "__main__":  # pragma: no cover
    main()
