"""Sign-in throttling that stops attackers without handing them a lockout (issue 14).

Per client address and identifier (every spelling of a phone number is one), per client, and
generously per identifier; exponential back-off, never a hard lock; a successful sign-in takes
its tries back. Another client can neither cancel a subscriber's pending code nor, by guessing
wrong, stop that subscriber's own client from using it. Asking and guessing answer the same
and do the same work whether or not the account exists. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.demo.demo_data import generate_customers
from backend_stub.services.access import signin
from backend_stub.services.billing.customers import import_customers
from backend_stub.services.support import agents
from backend_stub.storage.models.access import LoginCode
from tests.conftest import SECRET, token_for

VICTIM = "198.51.100.10"  # the subscriber's own browser
ATTACKER = "203.0.113.66"


@pytest.fixture
def accounts(core) -> list[dict[str, str]]:
    """Four customers: K100001 … K100004, each with a mobile number."""
    rows = generate_customers(4, seed=3, today=date(2026, 12, 5), months=1)
    import_customers(core.engine, core.catalogue, [(i + 2, r) for i, r in enumerate(rows)])
    return rows


class Outbox:
    """A ``deliver`` that keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, customer, channel: str, text: str, key: str) -> None:
        self.sent.append((customer.customer_number, text))

    def code(self, customer_number: str) -> str:
        texts = [text for number, text in self.sent if number == customer_number]
        assert texts, f"nothing sent to {customer_number}"
        return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


def ask(core, identifier: str, outbox: Outbox, client: str | None = VICTIM) -> int:
    """0 if a code was asked for, else the seconds the back-off asks to wait."""
    try:
        signin.request_code(core.engine, SECRET, identifier, outbox, client=client)
    except signin.RateLimited as exc:
        return exc.retry_after
    return 0


def guess(core, identifier: str, code: str, client: str | None = VICTIM):
    """The SignedIn, None (wrong), or the seconds to wait (an int)."""
    try:
        return signin.verify_code(core.engine, SECRET, identifier, code, client=client)
    except signin.RateLimited as exc:
        return exc.retry_after


def wrong(code: str, n: int = 1) -> str:
    return f"{(int(code) + n) % 1_000_000:06d}"


def national(msisdn: str) -> str:
    digits = "0" + msisdn[3:]
    return f"{digits[:3]}-{digits[3:6]} {digits[6:8]} {digits[8:]}"


# --- identifiers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "070-123 45 67",
        "+46701234567",
        "0046701234567",
        "46701234567",
        "+46 (0)70 123 45 67",
        "+46 070 123 45 67",
        "070.123.45.67",
        "070/123 45 67",
        "\uff10\uff17\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
        "070\u00a0123\u00a045\u00a067",
    ],
)
def test_every_spelling_of_a_phone_number_is_one_e164_number(spelling):
    assert signin.normalise_identifier(spelling) == "+46701234567"


def test_customer_numbers_are_upper_cased_and_unspaced():
    assert signin.normalise_identifier(" k100001 ") == "K100001"
    assert signin.normalise_identifier("k 100 001") == "K100001"


def test_spellings_of_one_number_share_one_counter(core, accounts):
    outbox = Outbox()
    msisdn = accounts[0]["msisdn"]
    spellings = [national(msisdn), msisdn, "00" + msisdn[1:]]
    assert [ask(core, s, outbox) for s in spellings] == [0, 0, 0]
    assert ask(core, "0" + msisdn[3:], outbox) > 0  # a fourth spelling is the same number: it waits
    assert len(outbox.sent) == 3


# --- back-off, not a lock -------------------------------------------------------------------


def test_asking_backs_off_exponentially_and_waiting_always_helps(core, accounts, frozen_clock):
    outbox = Outbox()
    assert [ask(core, "K100001", outbox) for _ in range(3)] == [0, 0, 0]
    waits = []
    for _ in range(5):
        wait = ask(core, "K100001", outbox)
        assert wait > 0
        assert ask(core, "K100001", outbox) == wait  # a refused request is not counted
        waits.append(wait)
        frozen_clock.advance(timedelta(seconds=wait))
        assert ask(core, "K100001", outbox) == 0  # … and after the wait it goes through
    assert waits == [30, 60, 120, 240, 480]
    assert len(outbox.sent) == 8


def test_guessing_backs_off_without_burning_the_code(core, accounts, frozen_clock):
    outbox = Outbox()
    assert ask(core, "K100001", outbox) == 0
    code = outbox.code("K100001")
    assert [guess(core, "K100001", wrong(code, n)) for n in (1, 2, 3)] == [None, None, None]
    wait = guess(core, "K100001", code)
    assert wait == 2  # the fourth try waits (right or wrong), the code is not lost
    frozen_clock.advance(timedelta(seconds=2))
    assert guess(core, "K100001", wrong(code)) is None
    assert guess(core, "K100001", code) == 4  # twice as long after one more wrong guess
    frozen_clock.advance(timedelta(seconds=4))
    signed_in = guess(core, "K100001", code)
    assert isinstance(signed_in, signin.SignedIn) and signed_in.customer_number == "K100001"


def test_a_successful_sign_in_resets_the_counts(core, accounts, frozen_clock):
    outbox = Outbox()
    for _ in range(3):
        assert ask(core, "K100002", outbox) == 0
    assert guess(core, "K100002", wrong(outbox.code("K100002"))) is None
    assert isinstance(guess(core, "K100002", outbox.code("K100002")), signin.SignedIn)
    # Asked three times and signed in: as fresh as before.
    assert [ask(core, "K100002", outbox) for _ in range(3)] == [0, 0, 0]
    code = outbox.code("K100002")
    assert [guess(core, "K100002", wrong(code, n)) for n in (1, 2, 3)] == [None, None, None]


# --- no lockout as a weapon -----------------------------------------------------------------


def test_another_clients_requests_do_not_cancel_a_pending_code(core, accounts, frozen_clock):
    outbox = Outbox()
    assert ask(core, "K100001", outbox, VICTIM) == 0
    victims_code = outbox.code("K100001")
    for _ in range(3):
        assert ask(core, "K100001", outbox, ATTACKER) == 0
    assert ask(core, "K100001", outbox, ATTACKER) > 0  # the attacker backs off …
    assert len(outbox.sent) == 4
    signed_in = guess(core, "K100001", victims_code, VICTIM)  # … and the victim's code still works
    assert isinstance(signed_in, signin.SignedIn)


def test_the_same_client_asking_again_replaces_its_own_code(core, accounts):
    outbox = Outbox()
    assert ask(core, "K100001", outbox) == 0
    first = outbox.code("K100001")
    assert ask(core, "K100001", outbox) == 0
    second = outbox.code("K100001")
    if first != second:
        assert guess(core, "K100001", first) is None
    assert isinstance(guess(core, "K100001", second), signin.SignedIn)


def test_an_attackers_wrong_guesses_never_stop_the_victims_right_code(core, accounts, frozen_clock):
    """The attacker guesses as fast as the back-off lets them for the code's whole life, under
    both of the victim's identifiers; the victim's own client then signs in at once."""
    outbox = Outbox()
    assert ask(core, "K100003", outbox, VICTIM) == 0
    code = outbox.code("K100003")
    start, guesses, n = frozen_clock.now(), 0, 0
    refused = 0
    while frozen_clock.now() - start < signin.CODE_TTL - timedelta(seconds=5):
        for identifier in ("K100003", accounts[2]["msisdn"]):
            n += 1
            answer = guess(core, identifier, wrong(code, n), ATTACKER)
            if answer is None:
                guesses += 1
            else:
                assert isinstance(answer, int)
                refused += 1
        frozen_clock.advance(timedelta(seconds=1))
    assert guesses > signin.MAX_GUESSES_PER_CODE and refused > 0  # more than a code may take from others
    signed_in = guess(core, "K100003", code, VICTIM)
    assert isinstance(signed_in, signin.SignedIn) and signed_in.customer_number == "K100003"


def test_codes_stay_unguessable_under_distributed_guessing(core, accounts, frozen_clock):
    outbox = Outbox()
    assert ask(core, "K100004", outbox, VICTIM) == 0
    code = outbox.code("K100004")
    # Ten wrong guesses from ten addresses: the code is dead for everyone but the client that asked.
    for i in range(signin.MAX_GUESSES_PER_CODE):
        assert guess(core, "K100004", wrong(code, i + 1), f"192.0.2.{i + 1}") is None
    assert guess(core, "K100004", code, "192.0.2.200") is None  # even the right code, from elsewhere
    # Many more addresses: over the per-identifier count a client without a code of its own waits.
    answers = [
        guess(core, "K100004", wrong(code, 100 + i), f"198.18.{i // 200}.{i % 200 + 1}")
        for i in range(signin.GUESS_PER_IDENTIFIER.free + 5)
    ]
    assert answers[: signin.GUESS_PER_IDENTIFIER.free - signin.MAX_GUESSES_PER_CODE].count(None) > 0
    assert isinstance(answers[-1], int) and answers[-1] > 0
    # The subscriber's own client still signs in with the code it asked for.
    assert isinstance(guess(core, "K100004", code, VICTIM), signin.SignedIn)


def test_the_asking_client_has_a_few_tries_per_code_then_asks_again(core, accounts, frozen_clock):
    outbox = Outbox()
    assert ask(core, "K100002", outbox) == 0
    code = outbox.code("K100002")
    for n in range(1, signin.MAX_OWN_GUESSES_PER_CODE + 1):
        answer = guess(core, "K100002", wrong(code, n))
        if isinstance(answer, int):  # the back-off: wait, then the same guess
            frozen_clock.advance(timedelta(seconds=answer))
            answer = guess(core, "K100002", wrong(code, n))
        assert answer is None
    frozen_clock.advance(timedelta(minutes=1))
    assert guess(core, "K100002", code) is None  # that code is spent for this client too …
    assert ask(core, "K100002", outbox) == 0  # … which asks for a new one
    wait = guess(core, "K100002", outbox.code("K100002"))
    assert isinstance(wait, int)  # its back-off still runs (it is per client and identifier, not per code)
    frozen_clock.advance(timedelta(seconds=wait))
    assert isinstance(guess(core, "K100002", outbox.code("K100002")), signin.SignedIn)


def test_a_code_expires(core, accounts, frozen_clock):
    outbox = Outbox()
    assert ask(core, "K100001", outbox) == 0
    frozen_clock.advance(signin.CODE_TTL)
    assert guess(core, "K100001", outbox.code("K100001")) is None


def test_parallel_guesses_cannot_slip_past_the_back_off(core, accounts):
    outbox = Outbox()
    assert ask(core, "K100002", outbox, ATTACKER) == 0
    code = outbox.code("K100002")
    answers: list = []
    lock = threading.Lock()

    def try_one(n: int) -> None:
        answer = guess(core, "K100002", wrong(code, n), ATTACKER)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=try_one, args=(n,)) for n in range(1, 13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers.count(None) == signin.GUESS_PER_CLIENT_IDENTIFIER.free  # only the free ones were tried
    assert all(isinstance(a, int) and a > 0 for a in answers if a is not None)


# --- pumping --------------------------------------------------------------------------------


def test_one_client_asking_for_many_identifiers_is_limited(core, accounts):
    outbox = Outbox()
    identifiers = [f"K1000{i:02d}" for i in range(1, 25)]  # 4 real accounts, 20 that are nobody's
    waits = [ask(core, identifier, outbox, ATTACKER) for identifier in identifiers]
    assert waits[: signin.ASK_PER_CLIENT.free] == [0] * signin.ASK_PER_CLIENT.free
    assert all(w > 0 for w in waits[signin.ASK_PER_CLIENT.free :])
    assert sum(1 for w in waits if w) == 24 - signin.ASK_PER_CLIENT.free
    # Another address is not held up by it.
    assert ask(core, "K100001", outbox, VICTIM) == 0


def test_an_ipv6_line_counts_as_one_client(core, accounts):
    outbox = Outbox()
    waits = [ask(core, f"K2000{i:02d}", outbox, f"2001:db8:1:2::{i:x}") for i in range(1, 25)]
    assert sum(1 for w in waits if w) == 24 - signin.ASK_PER_CLIENT.free


# --- the same answer and the same work --------------------------------------------------------


def test_unknown_identifiers_get_the_same_answers_and_the_same_work(core, accounts):
    outbox = Outbox()
    assert [ask(core, "K999999", outbox) for _ in range(4)][3] > 0  # backs off the same way
    assert outbox.sent == []  # nothing is sent …
    with core.engine.connect() as conn:  # … but a code was made and stored, as for an account
        stored = conn.execute(
            select(func.count()).select_from(LoginCode).where(LoginCode.subject.startswith("i:"))
        ).scalar_one()
    assert stored == 3
    assert guess(core, "K999999", "123456", ATTACKER) is None


# --- through the API: the client address comes from the app ---------------------------------


@pytest.fixture
def api(core, auth, accounts):
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


def test_the_api_counts_by_the_address_the_app_states(api, auth):
    service = token_for(auth, "service")

    def ask_as(ip: str, identifier: str) -> int:
        return api.post(
            "/auth/otp/request", headers={**service, "X-Selfcare-Client-IP": ip}, json={"identifier": identifier}
        ).status_code

    assert [ask_as(ATTACKER, f"K3000{i:02d}") for i in range(1, 25)].count(429) == 24 - signin.ASK_PER_CLIENT.free
    assert ask_as(VICTIM, "K300001") == 202  # another browser is not held up
    bad = api.post(
        "/auth/otp/request", headers={**service, "X-Selfcare-Client-IP": "not-an-ip"}, json={"identifier": "K100001"}
    )
    assert bad.status_code == 422 and "X-Selfcare-Client-IP" in bad.text


def test_only_a_service_caller_may_state_the_client_address():
    from starlette.requests import Request

    from backend_stub.api.clients import client_address
    from backend_stub.services.access.tokens import Principal, Role

    def request(header: str | None) -> Request:
        headers = [(b"x-selfcare-client-ip", header.encode())] if header else []
        return Request({"type": "http", "headers": headers, "client": ("192.0.2.1", 5000)})

    expires = clock.now() + timedelta(hours=1)
    service = Principal("app", Role.SERVICE, None, "j1", expires)
    subscriber = Principal("K1", Role.SUBSCRIBER, 1, "j2", expires)
    assert client_address(request("203.0.113.5"), service) == "203.0.113.5"
    assert client_address(request(None), service) is None
    assert client_address(request(None), service, stated="203.0.113.6") == "203.0.113.6"
    # Anyone else's header is ignored: their own address counts.
    assert client_address(request("203.0.113.5"), subscriber) == "192.0.2.1"


# --- staff -----------------------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(core, monkeypatch):
    from argon2 import PasswordHasher

    quick = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)  # the throttling is under test, not Argon2
    monkeypatch.setattr(agents, "_hasher", quick)
    monkeypatch.setattr(agents, "_DUMMY", quick.hash("not-a-real-password-xxxxxxxx"))
    agents.create_agent(core.engine, "anna", "Anna Agent", PASSWORD)
    return "anna"


def sign_in_staff(core, password: str, client: str | None):
    try:
        return agents.authenticate(core.engine, "anna", password, client=client)
    except signin.RateLimited as exc:
        return exc.retry_after


def test_staff_successes_never_count_and_failures_back_off_per_client(core, staff, frozen_clock):
    for _ in range(10):
        assert isinstance(sign_in_staff(core, PASSWORD, VICTIM), agents.AgentInfo)
    for _ in range(agents.TRIES_PER_CLIENT_USER.free):
        assert sign_in_staff(core, "wrong password!!", ATTACKER) is None
    assert sign_in_staff(core, PASSWORD, ATTACKER) == 2  # the attacker's address waits, even when right …
    assert isinstance(sign_in_staff(core, PASSWORD, VICTIM), agents.AgentInfo)  # … the agent's does not
    frozen_clock.advance(timedelta(seconds=2))
    assert isinstance(sign_in_staff(core, PASSWORD, ATTACKER), agents.AgentInfo)  # a back-off, not a lock


def test_staff_cannot_be_locked_out_by_guessing_from_many_addresses(core, staff):
    assert isinstance(sign_in_staff(core, PASSWORD, VICTIM), agents.AgentInfo)  # the agent's usual client
    answers = [
        sign_in_staff(core, "wrong password!!", f"198.18.0.{i + 1}") for i in range(agents.TRIES_PER_USER.free + 3)
    ]
    assert answers[: agents.TRIES_PER_USER.free] == [None] * agents.TRIES_PER_USER.free
    assert all(isinstance(a, int) and a > 0 for a in answers[agents.TRIES_PER_USER.free :])
    assert isinstance(sign_in_staff(core, "wrong password!!", "198.18.1.1"), int)  # a new address waits
    assert isinstance(sign_in_staff(core, PASSWORD, VICTIM), agents.AgentInfo)  # the agent's own does not
